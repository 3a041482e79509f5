"""Console pages of the event part. Owner: the event part."""

app_name = "event"

urlpatterns: list = []
