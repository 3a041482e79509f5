"""Money and points as people read them: integer fen become ¥1,234.50, never via floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

FEN_PER_YUAN = 100


def as_int(value: Any) -> int | None:
    """An integer amount, or None for anything that is not one (shown as a dash)."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def format_fen(fen: int, sign: str = "") -> str:
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{cents:02d}"


def yuan(value: Any) -> str:
    """12345 (fen) -> '¥123.45'; negative amounts keep their sign: '-¥3.00'."""
    fen = as_int(value)
    if fen is None:
        return "—"
    return format_fen(fen, "-" if fen < 0 else "")


def signed_yuan(value: Any) -> str:
    """A movement: '+¥100.00' in, '-¥3.00' out."""
    fen = as_int(value)
    if fen is None:
        return "—"
    return format_fen(fen, "-" if fen < 0 else "+")


def yuan_plain(value: Any) -> str:
    """12345 -> '123.45' (for inputs: what a form accepts back)."""
    fen = as_int(value)
    if fen is None:
        return ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def yuan_number(fen: int) -> Decimal:
    """12345 -> Decimal('123.45'): exact, for spreadsheets that format the number themselves."""
    return Decimal(fen) / FEN_PER_YUAN


def points(value: Any) -> str:
    number = as_int(value)
    return "—" if number is None else f"{number:,}"


def signed_points(value: Any) -> str:
    number = as_int(value)
    return "—" if number is None else f"{number:+,}"
