"""Paid membership pages; the project includes them at memberships/."""

from django.urls import path

from patron.cards import membership_views as views

app_name = "memberships"
urlpatterns = [
    path("", views.membership_list, name="list"),
    path("member/<int:member_id>/buy/", views.buy, name="buy"),
    path("member/<int:member_id>/<int:membership_id>/refund/", views.refund, name="refund"),
    path("member/<int:member_id>/pin-reset/", views.pin_reset, name="pin_reset"),
]
