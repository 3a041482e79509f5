"""Console pages of campaigns: list, editor, calendar, one campaign, its preview."""

from django.urls import path

from patron.campaigns import calendar_views, views

app_name = "campaigns"

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_new, name="new"),
    path("calendar/", calendar_views.campaign_calendar, name="calendar"),
    path("audience-count/", views.audience_count, name="audience_count"),
    path("cron-preview/", views.cron_preview, name="cron_preview"),
    path("<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("<int:campaign_id>/size/", views.campaign_audience_size, name="size"),
    path("<int:campaign_id>/progress/", views.campaign_progress, name="progress"),
    path("<int:campaign_id>/preview/", views.campaign_preview, name="preview"),
    path(
        "<int:campaign_id>/<str:action>/",
        views.campaign_action,
        name="action",
    ),
]
