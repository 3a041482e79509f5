"""Console pages (filled in by the part that owns them)."""

app_name = "message_templates"

urlpatterns: list = []
