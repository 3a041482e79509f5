"""Reads about the demo merchant: whether it exists and how to log in."""

from __future__ import annotations

from typing import TextIO

from patron.demo.data import CAFE_SLUG, CAFE_STAFF, DEMO_PASSWORD, DEMO_PIN, DEMO_SLUG, STAFF
from patron.ledger.services import quick_balances
from patron.members.validation import mask_mobile
from patron.sales.models import MemberPin
from patron.tenancy.models import Merchant


def demo_logins(staff: list = STAFF) -> list[tuple[str, str, str, str]]:
    """(user name, password, role, store code) for each demo login (`CAFE_STAFF`: the
    partner café's)."""
    return [
        (username, DEMO_PASSWORD, str(role.label), store or "HQ")
        for username, role, store, _name in staff
    ]


def pin_members() -> list[tuple[str, str, int]]:
    """(masked mobile, card number, stored value in fen) of the demo members whose PIN is the
    demo PIN (set by the demo's seeding only; docs/demo.md)."""
    pins = MemberPin.objects.filter(merchant__slug=DEMO_SLUG).select_related("member")
    rows = []
    for pin in pins.order_by("member_id"):
        balances = quick_balances(pin.member)
        held = balances["stored_value.principal"] + balances["stored_value.bonus"]
        rows.append((mask_mobile(pin.member.mobile), pin.member.card_no, held))
    return rows


def demo_exists() -> bool:
    return Merchant.objects.filter(slug=DEMO_SLUG).exists()


def print_logins(out: TextIO, url: str) -> None:
    out.write(f"Console: {url}")
    out.write("Logins (user / password — role, store):")
    for username, password, role, store in demo_logins():
        out.write(f"  {username:<12} / {password} — {role}, {store}")
    out.write(f"The partner café {CAFE_SLUG} (alliance with the demo):")
    for username, password, role, store in demo_logins(CAFE_STAFF):
        out.write(f"  {username:<12} / {password} — {role}, {store}")
    members = pin_members()
    if members:
        out.write(f"Members with stored value and payment PIN {DEMO_PIN} (mobile / card no):")
        for mobile, card_no, held in members:
            out.write(f"  {mobile} / {card_no} — ¥{held / 100:,.2f}")
    # Mobiles stay masked here as everywhere: HQ sees them in full in the console.
    out.write(f"Member pages (phone): {url.rstrip('/')}/m/login — a member's mobile (hq sees it")
    out.write("  in full in the console); under PATRON_SMS_BACKEND=log (make run) the code is")
    out.write("  printed in this log.")
