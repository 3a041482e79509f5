"""Console pages for tiers, promotions and coupons; the project includes them at promotions/."""

from django.urls import path

from patron.promotions import views

app_name = "promotions"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("members/<int:pk>/coupons/", views.issue_coupon, name="issue_coupon"),
    path("members/<int:pk>/tier/", views.set_tier, name="set_tier"),
    path("coupons/<int:pk>/end/", views.end_coupon, name="end_coupon"),
]
