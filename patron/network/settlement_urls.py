"""URLs of the settlement pages."""

app_name = "settlements"
urlpatterns: list = []
