from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "patron.members"
    label = "members"

    def ready(self) -> None:
        from patron.members import audit

        audit.register()
