"""Console pages of the ledger's own; the project includes them at ledger/."""

from django.urls import path

from patron.ledger import views

app_name = "ledger"

urlpatterns = [
    path("liabilities/", views.liabilities, name="liabilities"),
    path("liabilities/export.xlsx", views.liabilities_export, name="liabilities_export"),
]
