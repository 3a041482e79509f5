"""Console pages for a member's stored value and points; the project includes them at ledger/
(the paths the counter has always used)."""

from django.urls import path

from patron.wallet import views

app_name = "wallet"

urlpatterns = [
    path("members/<int:pk>/", views.member_balances, name="member"),
    path("members/<int:pk>/adjust/", views.adjust_points, name="adjust"),
    path("topup/", views.top_up, name="topup"),
    path("topup/<int:pk>/", views.top_up_result, name="topup_result"),
]
