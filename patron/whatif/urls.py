"""The what-if pages; the project includes them at whatif/."""

from django.urls import path

from patron.whatif import views

app_name = "whatif"

urlpatterns = [
    path("", views.page, name="page"),
    path("draft/<slug:section>/", views.from_editor, name="from_editor"),
    path("apply/", views.apply, name="apply"),
    path("<int:simulation_id>/", views.simulation, name="simulation"),
    path("<int:simulation_id>/progress/", views.progress, name="progress"),
]
