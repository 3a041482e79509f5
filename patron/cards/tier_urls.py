"""The console tier editor, at /tiers/ (namespace `tiers`)."""

from django.urls import path

from patron.cards import tier_views

app_name = "tiers"
urlpatterns = [
    path("", tier_views.tier_list, name="list"),
    path("<str:code>/edit/", tier_views.tier_edit, name="edit"),
    path("<str:code>/preview/", tier_views.tier_preview, name="preview"),
]
