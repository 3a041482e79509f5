"""Console pages (filled in by the part that owns them)."""

app_name = "campaigns"

urlpatterns: list = []
