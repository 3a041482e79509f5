"""URLs of the alliance pages."""

app_name = "alliances"
urlpatterns: list = []
