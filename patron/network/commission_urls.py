"""URLs of the commission pages."""

from django.urls import path

from patron.network import commission_views as views

app_name = "commissions"
urlpatterns = [
    path("", views.statement, name="statement"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("till/", views.till, name="till"),
    path("staff/<str:username>/", views.staff_detail, name="staff"),
]
