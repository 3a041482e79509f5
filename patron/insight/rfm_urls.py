"""The console's RFM page, at /insight/rfm/ (namespace `rfm`)."""

from django.urls import path

from patron.insight import rfm_views

app_name = "rfm"
urlpatterns = [
    path("", rfm_views.rfm_page, name="page"),
    path("export.xlsx", rfm_views.rfm_export, name="export"),
]
