"""The card product editor; the project includes it at card-products/."""

from django.urls import path, re_path

from patron.cards import product_views as views

app_name = "card_products"
urlpatterns = [
    path("", views.product_list, name="list"),
    path("new/", views.edit, name="new"),
    path("<slug:code>/edit/", views.edit, name="edit"),
    path("<slug:code>/end/", views.end, name="end"),
    re_path(r"^face/(?P<name>[0-9a-f]{32}\.(?:png|jpg))$", views.face, name="face"),
]
