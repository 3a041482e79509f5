"""Reads about the demo merchant: whether it exists and how to log in."""

from __future__ import annotations

from typing import TextIO

from patron.demo.data import DEMO_PASSWORD, DEMO_SLUG, STAFF
from patron.tenancy.models import Merchant


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(user name, password, role, store code) for each demo login."""
    return [
        (username, DEMO_PASSWORD, str(role.label), store or "HQ")
        for username, role, store, _name in STAFF
    ]


def demo_exists() -> bool:
    return Merchant.objects.filter(slug=DEMO_SLUG).exists()


def print_logins(out: TextIO, url: str) -> None:
    out.write(f"Console: {url}")
    out.write("Logins (user / password — role, store):")
    for username, password, role, store in demo_logins():
        out.write(f"  {username:<12} / {password} — {role}, {store}")
