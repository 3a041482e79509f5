"""The cashier screen (F-50); the project includes these pages at cashier/."""

from django.urls import path

from patron.sales import views

app_name = "sales"

urlpatterns = [
    path("", views.till, name="till"),
    path("quote/", views.quote, name="quote"),
    path("commit/", views.commit, name="commit"),
    path("sales/", views.sales_today, name="list"),
    path("sales/<int:pk>/", views.receipt, name="receipt"),
    path("sales/<int:pk>/refund/", views.refund, name="refund"),
]
