"""URLs of the settlement pages."""

from django.urls import path

from patron.network import settlement_views as views

app_name = "settlements"
urlpatterns = [
    path("", views.statement, name="statement"),
    path("<str:month>/close/", views.close, name="close"),
    path("<str:month>/<str:payer>/<str:payee>/", views.pair, name="pair"),
]
