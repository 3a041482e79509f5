from django.urls import path

from patron.insight import due_views

app_name = "due"
urlpatterns = [path("", due_views.due_list, name="list")]
