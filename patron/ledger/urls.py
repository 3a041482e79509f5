"""Console pages for stored value and points; the project includes them at ledger/."""

from django.urls import path

from patron.ledger import views

app_name = "ledger"

urlpatterns = [
    path("members/<int:pk>/", views.member_balances, name="member"),
    path("members/<int:pk>/adjust/", views.adjust_points, name="adjust"),
    path("topup/", views.top_up, name="topup"),
    path("topup/<int:pk>/", views.top_up_result, name="topup_result"),
    path("liabilities/", views.liabilities, name="liabilities"),
    path("liabilities/export.xlsx", views.liabilities_export, name="liabilities_export"),
]
