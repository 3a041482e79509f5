from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "patron.tenancy"
    label = "tenancy"
