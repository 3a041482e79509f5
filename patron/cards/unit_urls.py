"""Agreement units (协议单位) in the console, at /units/; and enrolling from a receipt."""

from django.urls import path

from patron.cards import unit_views

app_name = "units"
urlpatterns = [
    path("", unit_views.unit_list, name="list"),
    path("add/", unit_views.unit_add, name="add"),
    path("enrol-sale/<int:pk>/", unit_views.enrol_sale, name="enrol_sale"),
    path("<str:code>/", unit_views.unit_detail, name="detail"),
    path("<str:code>/edit/", unit_views.unit_edit, name="edit"),
    path("<str:code>/enrol/", unit_views.unit_enrol, name="enrol"),
]
