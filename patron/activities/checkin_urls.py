"""Console pages of the check-in part, at /activities/checkin/."""

from django.urls import path

from patron.activities import checkin_views

app_name = "checkin"

urlpatterns = [path("", checkin_views.overview, name="overview")]
