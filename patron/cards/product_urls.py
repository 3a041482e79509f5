from django.urls import path  # noqa: F401

app_name = "card_products"
urlpatterns: list = []
