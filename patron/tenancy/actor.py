"""Who is acting: passed explicitly to every service so audit and scoping never guess."""

from __future__ import annotations

from dataclasses import dataclass

from patron.tenancy.models import ApiKey, Merchant, Role, Staff, Store


@dataclass(frozen=True)
class Actor:
    merchant: Merchant
    staff: Staff | None = None
    api_key: ApiKey | None = None
    ip: str | None = None
    channel: str = "console"  # console / api / cli

    @property
    def user(self):
        return self.staff.user if self.staff else None

    @property
    def role(self) -> str | None:
        return self.staff.role if self.staff else None

    @property
    def store(self) -> Store | None:
        return self.staff.store if self.staff else None

    @property
    def store_bound(self) -> Store | None:
        """The one store this actor is limited to, or None for chain-wide actors."""
        if self.staff and self.staff.is_store_bound:
            return self.staff.store
        return None

    @property
    def sees_personal_data(self) -> bool:
        # API.md §3: API answers carry masked mobiles (an integration looks members up by the
        # number it already has). The CLI runs on the server itself and sees everything.
        if self.api_key is not None:
            return False
        return self.staff is None or self.staff.sees_personal_data

    @property
    def is_hq_admin(self) -> bool:
        return self.staff is None or self.staff.role == Role.HQ_ADMIN

    @classmethod
    def system(cls, merchant: Merchant) -> Actor:
        return cls(merchant=merchant, channel="cli")
