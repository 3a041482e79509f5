"""URLs of the alliance pages."""

from django.urls import path

from patron.network import alliance_views as views

app_name = "alliances"
urlpatterns = [
    path("", views.alliance_list, name="list"),
    path("<int:pk>/statement/", views.alliance_statement, name="statement"),
    path("<int:pk>/exchange/", views.alliance_exchange, name="exchange"),
    path("<int:pk>/<slug:action>/", views.alliance_act, name="act"),
]
