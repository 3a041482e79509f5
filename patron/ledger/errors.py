"""Ledger errors with the stable codes of API.md §3."""

from __future__ import annotations

from django.utils.translation import gettext as _

from patron.core.errors import DomainError
from patron.ledger.models import Asset


class InsufficientFunds(DomainError):
    def __init__(self, asset: str, wanted: int, available: int) -> None:
        if asset == Asset.POINTS:
            detail = _("Not enough points: %(wanted)d wanted, %(available)d available.")
            code = "insufficient_points"
        else:
            detail = _("Not enough stored value: %(wanted)d fen wanted, %(available)d available.")
            code = "insufficient_balance"
        super().__init__(
            detail=detail % {"wanted": wanted, "available": available}, code=code, status=422
        )


class MemberFrozen(DomainError):
    def __init__(self) -> None:
        super().__init__(
            detail=_("This member is frozen or closed: no value can move."),
            code="member_frozen",
            status=409,
        )


class AmountInvalid(DomainError):
    def __init__(self, detail: str, field: str = "amount") -> None:
        from patron.core.errors import FieldError

        super().__init__(
            detail=detail, code="validation_error", status=422, errors=[FieldError(field, detail)]
        )
