"""Console pages of the checkin part. Owner: the checkin part."""

app_name = "checkin"

urlpatterns: list = []
