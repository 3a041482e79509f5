"""The pricing engines to test: the one `patron.engine` picked, and the pure-Python one too
when the picked one is compiled (loaded beside it from the source, see native.load_pure).

Both share `pricing_data`, so they take the same inputs and return the same classes: their
quotes compare with == directly, and against tests/engine/reference_pricing.py alike.
"""

from __future__ import annotations

import sys
from types import ModuleType

import patron.engine
from patron.engine import money, native, pricing


def _engines() -> tuple[dict[str, ModuleType], dict[str, ModuleType]]:
    if patron.engine.ENGINE != "compiled":
        return {"pure": pricing}, {"pure": money}
    pure = native.load_pure()
    return (
        {"compiled": pricing, "pure": pure},
        {"compiled": money, "pure": sys.modules[pure.__name__.rsplit(".", 1)[0] + ".money"]},
    )


PRICING, MONEY = _engines()
