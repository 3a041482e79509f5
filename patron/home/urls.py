from django.urls import path

from patron.home import views

urlpatterns = [
    path("", views.home, name="home"),
]
