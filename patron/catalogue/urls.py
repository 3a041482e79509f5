from django.urls import path

from patron.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.product_list, name="list"),
    path("new/", views.product_create, name="create"),
    path("<int:pk>/edit/", views.product_edit, name="edit"),
    path("<int:pk>/active/", views.product_active, name="active"),
]
