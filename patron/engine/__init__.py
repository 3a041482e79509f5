"""Pure domain rules: money arithmetic, expiry plans, bonus tables, pricing.

No Django import anywhere in this package: plain values in, plain values out, integer fen and
integer points, `now` passed in. That keeps the rules fast, deterministic and property-tested.

`money` and `pricing` run compiled by mypyc when `make install` has built exactly these
sources, else as the Python source (see native.py); `ENGINE` says which, `ENGINE_REASON` why.
"""

from patron.engine import native as _native

_selection = _native.activate(_native.select())
ENGINE: str = _selection.engine  # "compiled" or "pure"
ENGINE_REASON: str = _selection.reason
