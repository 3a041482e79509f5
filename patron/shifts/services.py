"""Writes for the shift close (交班): open a shift by hand, close it with the cash counted.

Closing freezes the figures `selectors.figures` sums for the shift's window into the Shift row,
in one transaction with its audit entry. A window is closed once: a second close of the same
window (a double submit, a second tab) is refused with `shift_already_closed` and writes
nothing; so is closing when nothing was recorded since the last close (`no_open_shift`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from patron.core.errors import DomainError, FieldError, PermissionDenied, ValidationFailed
from patron.sales.services import MAX_PRICE
from patron.shifts import selectors
from patron.shifts.models import Shift
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.tenancy.services import audit

NOTE_LENGTH = 200


def _at(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _ensure_may_work_at(actor: Actor, store: Store) -> None:
    if actor.user is None:
        raise PermissionDenied(_("A shift belongs to a member of staff."))
    if store.merchant_id != actor.merchant.pk:
        raise PermissionDenied(_("Unknown store."))
    bound = actor.store_bound
    if bound is not None and bound.pk != store.pk:
        raise PermissionDenied(_("You can only work in your own store."))


def open_shift(actor: Actor, store: Store) -> Shift:
    """Open the acting user's shift at `store` now (before its first sale), or return the one
    already open."""
    _ensure_may_work_at(actor, store)
    with transaction.atomic():
        window = selectors.open_window(actor, actor.user, store)
        if window.explicit is not None:
            return window.explicit
        now = timezone.now()
        shift = Shift.objects.create(
            merchant=actor.merchant,
            store=store,
            user=actor.user,
            status=Shift.Status.OPEN,
            started_at=window.started_at,
            opened_at=now,
        )
    return shift


def _already_closed(window: selectors.Window, since) -> DomainError | None:
    last = window.last_closed
    if last is None or since is None or last.closed_at <= since:
        return None
    return DomainError(
        _("This shift was already closed at %(at)s; nothing was written.")
        % {"at": _at(last.closed_at)},
        "shift_already_closed",
        409,
    )


def close_shift(
    actor: Actor, store: Store, cash_counted: int, *, since=None, note: str = ""
) -> Shift:
    """Close the acting user's open shift at `store` with the cash they counted.

    `since`: where the shift the cashier was looking at started (the close page posts it): if
    a close happened after it, this is a second close of the same shift and is refused.
    """
    _ensure_may_work_at(actor, store)
    if not isinstance(cash_counted, int) or not 0 <= cash_counted <= MAX_PRICE:
        raise ValidationFailed(
            [FieldError("cash_counted", _("Must be a whole number, 0 or more."))]
        )
    now = timezone.now()
    window = selectors.open_window(actor, actor.user, store, now)
    refused = _already_closed(window, since)
    if refused is not None:
        raise refused
    taken = selectors.figures(actor.merchant, store, actor.user, window.started_at, now)
    if window.explicit is None and not selectors.has_activity(taken):
        raise DomainError(
            _("No shift is open: nothing was sold, refunded or topped up since %(at)s.")
            % {"at": _at(window.started_at)},
            "no_open_shift",
            409,
        )
    shift = window.explicit or Shift(
        merchant=actor.merchant, store=store, user=actor.user, started_at=window.started_at
    )
    _freeze(shift, taken, cash_counted, now, note)
    try:
        with transaction.atomic():
            if shift.pk is not None:
                # Closed once: a concurrent close of the same open row updates nothing.
                done = Shift.objects.filter(pk=shift.pk, status=Shift.Status.OPEN).update(
                    **{name: getattr(shift, name) for name in FROZEN}
                )
                if not done:
                    raise IntegrityError("shift closed concurrently")
            else:
                shift.save(force_insert=True)
            audit(
                actor,
                "create",
                shift,
                {"cash_counted": [None, shift.cash_counted]},
                label=_("Shift close"),
            )
    except IntegrityError:
        raise DomainError(
            _("This shift was already closed; nothing was written."), "shift_already_closed", 409
        ) from None
    return shift


FROZEN = (
    "status",
    "opened_at",
    "closed_at",
    "sales_count",
    "refunds_count",
    "tenders",
    "topups",
    "topups_count",
    "card_payments",
    "cash_expected",
    "cash_counted",
    "cash_difference",
    "points_redeemed",
    "points_value",
    "points_returned",
    "stored_value_paid",
    "stored_value_returned",
    "note",
)


def _freeze(shift: Shift, taken: selectors.Figures, counted: int, now, note: str) -> None:
    shift.status = Shift.Status.CLOSED
    if shift.opened_at is None:
        shift.opened_at = taken.first_at or shift.started_at
    shift.closed_at = now
    shift.sales_count = taken.sales_count
    shift.refunds_count = taken.refunds_count
    shift.tenders = {
        row.method: {"sales": row.sales, "refunds": row.refunds, "net": row.net}
        for row in taken.tender_rows()
    }
    shift.topups = dict(taken.topups)
    shift.topups_count = taken.topups_count
    shift.card_payments = {"groups": taken.card_payments, "count": taken.card_payments_count}
    shift.cash_expected = taken.cash_expected
    shift.cash_counted = counted
    shift.cash_difference = counted - taken.cash_expected
    shift.points_redeemed = taken.points_redeemed
    shift.points_value = taken.points_value
    shift.points_returned = taken.points_returned
    shift.stored_value_paid = taken.stored_value_paid
    shift.stored_value_returned = taken.stored_value_returned
    shift.note = (note or "")[:NOTE_LENGTH]
