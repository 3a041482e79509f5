"""The program's console pages; the project includes them at program/."""

from django.urls import path

from patron.program import views

app_name = "program"

urlpatterns = [
    path("revisions/", views.revisions, name="revisions"),
]
