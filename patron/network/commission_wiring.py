"""Registrations the commission part makes with the floors below: the `commissions` program
section."""


def register() -> None:
    from patron.network import commission_program

    commission_program.register()
