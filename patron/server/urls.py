"""The routes answered outside the full middleware chain (patron/wsgi.py, HealthHandler)."""

from django.urls import path

from patron.server.health import healthz

urlpatterns = [path("healthz", healthz, name="healthz")]
