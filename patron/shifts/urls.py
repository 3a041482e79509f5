"""Shift close pages (交班); the project includes them at shifts/."""

from django.urls import path

from patron.shifts import views

app_name = "shifts"

urlpatterns = [
    path("", views.shift_list, name="list"),
    path("close/", views.close, name="close"),
    path("open/", views.open_now, name="open"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/slip/", views.slip, name="slip"),
]
