from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "patron.tenancy"
    label = "tenancy"

    def ready(self) -> None:
        from axes.signals import user_locked_out

        from patron.tenancy.services import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="patron.tenancy.record_lockout")
