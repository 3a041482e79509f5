"""Console pages of the lottery part. Owner: the lottery part."""

app_name = "lottery"

urlpatterns: list = []
