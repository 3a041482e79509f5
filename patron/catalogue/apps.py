from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "patron.catalogue"
    label = "catalogue"

    def ready(self) -> None:
        from patron.catalogue import audit, importing
        from patron.core.commands import register_import

        # `patron import products` beside `patron import members`: the command belongs to
        # members, a sibling this app may not import, so the kind is registered here.
        register_import("products", importing.add_arguments, importing.run_command)
        audit.register()
