"""The webhooks console page: `/webhooks/` (HQ admins)."""

from django.urls import path

from patron.events import webhook_views

app_name = "webhooks"
urlpatterns = [
    path("", webhook_views.webhook_list, name="list"),
    path("<int:pk>/", webhook_views.webhook_detail, name="detail"),
    path("<int:pk>/test/", webhook_views.webhook_test, name="test"),
    path("<int:pk>/active/", webhook_views.webhook_active, name="active"),
]
