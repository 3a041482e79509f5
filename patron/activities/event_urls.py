"""Console pages of member-only events, at /activities/events/."""

from django.urls import path

from patron.activities import event_views

app_name = "event"

urlpatterns = [
    path("", event_views.event_list, name="list"),
    path("add/", event_views.event_add, name="add"),
    path("<str:code>/", event_views.event_detail, name="detail"),
    path("<str:code>/edit/", event_views.event_edit, name="edit"),
    path("<str:code>/door/", event_views.door, name="door"),
    path("<str:code>/signups/<int:signup_id>/cancel/", event_views.cancel, name="cancel"),
]
