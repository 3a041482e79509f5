from django.urls import path

from patron.insight import value_views

app_name = "value"
urlpatterns = [
    path("", value_views.value_page, name="page"),
    path("export/<slug:table>.xlsx", value_views.value_export, name="export"),
]
