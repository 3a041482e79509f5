from django.apps import AppConfig


class ProgramConfig(AppConfig):
    name = "patron.program"
    label = "program"

    def ready(self) -> None:
        from patron.program import audit

        audit.register()
