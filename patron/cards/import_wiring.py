"""What the import part of cards registers with the apps below it (hooks, guards, profile facts
and panels, audit sentences, import columns), called once from CardsConfig.ready()."""

from __future__ import annotations


def register() -> None:
    from patron.cards.importing import EXTENSION
    from patron.members.importing.extensions import add_import_extension

    # Card numbers, tiers and opening balances in `patron import members` (docs/moving-in.md).
    add_import_extension(EXTENSION)
