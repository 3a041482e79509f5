from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "patron.program"
    label = "program"
