"""Console bulk import pages; the project includes them at members/import/."""

from django.urls import path

from patron.members import import_views

app_name = "imports"

urlpatterns = [
    path("", import_views.upload, name="upload"),
    path("template.xlsx", import_views.template, name="template"),
    path("<int:batch_id>/", import_views.batch, name="batch"),
    path("<int:batch_id>/confirm/", import_views.confirm, name="confirm"),
    path("<int:batch_id>/progress/", import_views.progress, name="progress"),
    path("<int:batch_id>/errors.csv", import_views.error_report, name="errors"),
]
