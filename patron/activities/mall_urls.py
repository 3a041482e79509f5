"""Console pages of the mall part. Owner: the mall part."""

app_name = "mall"

urlpatterns: list = []
