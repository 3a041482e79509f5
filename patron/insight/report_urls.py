"""The console's 报表 pages (/reports/, namespace `reports`)."""

from django.urls import path

from patron.insight import report_views

app_name = "reports"
urlpatterns = [
    path("", report_views.dashboard_page, name="dashboard"),
    path("diagnosis/", report_views.diagnosis_page, name="diagnosis"),
    path("export/<slug:table>.xlsx", report_views.export, name="export"),
]
