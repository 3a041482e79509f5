"""The cashier screen (F-50); the project includes these pages at cashier/."""

from django.urls import path

from patron.sales import catalogue_views, views

app_name = "sales"

urlpatterns = [
    path("", views.till, name="till"),
    path("quote/", views.quote, name="quote"),
    path("commit/", views.commit, name="commit"),
    path("products/", catalogue_views.products, name="products"),
    path("products/favourites/", catalogue_views.favourites, name="favourites"),
    path("sales/", views.sales_today, name="list"),
    path("sales/<int:pk>/", views.receipt, name="receipt"),
    path("sales/<int:pk>/refund/", views.refund, name="refund"),
]
