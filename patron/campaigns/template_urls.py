"""Console pages of message templates (/message-templates/)."""

from django.urls import path

from patron.campaigns import template_views as views

app_name = "message_templates"

urlpatterns = [
    path("", views.template_list, name="list"),
    path("new/", views.template_new, name="new"),
    path("preview/", views.template_preview, name="preview"),
    path("<int:template_id>/edit/", views.template_edit, name="edit"),
]
