"""The webhooks console page (filled in by the webhooks part)."""

app_name = "webhooks"
urlpatterns: list = []
