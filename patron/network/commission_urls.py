"""URLs of the commission pages."""

app_name = "commissions"
urlpatterns: list = []
