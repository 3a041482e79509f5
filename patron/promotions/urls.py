"""Console pages for tiers, promotions and coupons; the project includes them at promotions/."""

from django.urls import path

from patron.promotions import editor_views, views

app_name = "promotions"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("members/<int:pk>/coupons/", views.issue_coupon, name="issue_coupon"),
    path("members/<int:pk>/tier/", views.set_tier, name="set_tier"),
    path("coupons/<int:pk>/end/", views.end_coupon, name="end_coupon"),
    # The editor: <section> is `promotions` or `coupon_templates` (the program file's names).
    path("<str:section>/new/", editor_views.edit, name="new"),
    path("<str:section>/<str:code>/edit/", editor_views.edit, name="edit"),
    path("<str:section>/<str:code>/pause/", editor_views.pause, name="pause"),
    path("<str:section>/<str:code>/resume/", editor_views.resume, name="resume"),
    path("<str:section>/<str:code>/end/", editor_views.end, name="end"),
    path("<str:section>/preview/", editor_views.preview_draft, name="preview"),
]
