"""Coupon codes: unguessable, unambiguous when read aloud or typed from paper."""

from __future__ import annotations

import secrets

# Crockford's base32: no I, L, O or U, so a code read aloud or typed from paper is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 random bits
# What people type for the letters the alphabet leaves out.
LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_coupon_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a person typed -> the stored form: case, spaces and dashes ignored, and the
    letters the alphabet leaves out read as the digits they look like."""
    cleaned = "".join(ch for ch in text.upper() if ch not in " -\t")
    return cleaned.translate(LOOK_ALIKES)


def display_code(code: str) -> str:
    """'7KQ2M9XRT4HD' -> '7KQ2-M9XR-T4HD' (grouped for reading only)."""
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))
