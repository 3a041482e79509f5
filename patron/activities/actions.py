"""Points for actions (F-16): the profile completed (once per member, ever) and a review
(each one, at most `reviews_per_day` a day in the merchant's zone). Both are paid under a
ledger key of their own, so a replayed hook pays nothing twice."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from patron.activities.checkin import local_today, rules
from patron.activities.checkin_program import REVIEWS_PER_DAY_DEFAULT, sale_policy
from patron.activities.models import ActionReward
from patron.campaigns.birthdays import birthdays_in
from patron.cards.tiers import BIRTHDAY_SOURCE
from patron.ledger import services as ledger
from patron.ledger.models import Asset, Transaction
from patron.members.models import Member, MemberStatus
from patron.sales.models import Sale
from patron.tenancy.actor import Actor

SOURCE = "action"
Action = ActionReward.Action


def profile_complete(member: Member) -> bool:
    """Complete: a name, a gender, a birthday (solar or lunar), an email and a region."""
    return bool(
        member.name.strip()
        and member.gender in ("M", "F")
        and (member.birthday or member.lunar_birthday)
        and member.email
        and member.region.strip()
    )


def _points_for(member: Member, action: str) -> tuple[int, dict[str, Any]]:
    actions = rules(member.merchant_id).get("actions") or {}
    return int(actions.get(action, 0)), actions


def _pay(actor: Actor, member: Member, action: str, ref: str, points: int, reason: str) -> bool:
    """Pay `points` for (action, ref) once: False when it was paid before."""
    if ActionReward.objects.filter(member=member, action=action, ref=ref).exists():
        return False
    txn = ledger.earn_points(
        actor,
        member,
        points,
        key=f"action:{action}:{member.pk}:{ref}",
        pending_days=0,
        context=ledger.Context(reason=reason, source=SOURCE, source_ref=ref or str(member.pk)),
    )
    try:
        with transaction.atomic():
            ActionReward.objects.create(
                merchant_id=member.merchant_id,
                member=member,
                action=action,
                ref=ref,
                day=local_today(actor.merchant),
                points=points,
                transaction=txn,
            )
    except IntegrityError:  # a concurrent hook recorded it; the ledger key paid once
        return False
    return True


def on_profile(actor: Actor, member: Member) -> bool:
    """After a registration or a profile update: pay once when the profile is complete."""
    points, _actions = _points_for(member, Action.PROFILE)
    if points <= 0 or member.status != MemberStatus.ACTIVE or not profile_complete(member):
        return False
    return _pay(actor, member, Action.PROFILE, "", points, _("Profile completed"))


def on_review(actor: Actor, member: Member, review_id: int) -> bool:
    """After a review is recorded: pay it unless the day's cap is reached."""
    points, actions = _points_for(member, Action.REVIEW)
    if points <= 0 or member.status != MemberStatus.ACTIVE:
        return False
    cap = int(actions.get("reviews_per_day", REVIEWS_PER_DAY_DEFAULT))
    with transaction.atomic():
        # The member's row serialises two reviews of one member: the cap stays exact.
        Member.objects.select_for_update().filter(pk=member.pk).first()
        today = local_today(actor.merchant)
        paid = ActionReward.objects.filter(member=member, action=Action.REVIEW, day=today)
        if paid.count() >= cap:
            return False
        return _pay(actor, member, Action.REVIEW, str(review_id), points, _("Review"))


# --- birthday points multiplier (F-28) -------------------------------------------------------


def is_birthday(member: Member, today: dt.date, when: str, calendar: str) -> bool:
    """The member's birthday (under `calendar`) is today, or in this month for `month`."""
    days = birthdays_in(member, today.year, calendar)
    if when == "month":
        return any(day.month == today.month for day in days)
    return today in days


def on_birthday_sale(actor: Actor, member: Member, sale: Sale) -> int:
    """Extra points for a sale on the birthday: the points the sale earned times the
    multiplier, less what they already were. Returns the extra points given."""
    if sale.points_earned <= 0:
        return 0
    rule = sale_policy(member.merchant_id).checkin.get("birthday")
    if not rule:
        return 0
    extra = sale.points_earned * (rule["points_multiplier"] - 100) // 100
    today = local_today(actor.merchant, sale.occurred_at)
    if extra <= 0 or not is_birthday(member, today, rule["when"], rule["calendar"]):
        return 0
    ledger.earn_points(
        actor,
        member,
        extra,
        key=f"birthday-multiplier:{sale.pk}",
        pending_days=0,
        context=ledger.Context(
            reason=_("Birthday points multiplier"),
            source=BIRTHDAY_SOURCE,
            source_ref=str(sale.pk),
            store=sale.store,
        ),
    )
    return extra


def on_birthday_refund(actor: Actor, sale: Sale, refund: Any) -> None:
    """A refund takes back the birthday extra in the share of the sale's points it takes back
    (all of what is left when the sale is refunded in full)."""
    key = f"birthday-multiplier:{sale.pk}"
    extra = Transaction.objects.filter(merchant=actor.merchant, idempotency_key=key).first()
    if extra is None:
        return
    amounts = None
    if sale.status != Sale.Status.REFUNDED and sale.points_earned:
        taken = refund.points_reversed + refund.points_shortfall
        given = sum(e.amount for e in extra.entries.all() if e.account.owner_type == "member")
        amounts = {Asset.POINTS: given * taken // sale.points_earned}
        if not amounts[Asset.POINTS]:
            return
    ledger.reverse(
        actor,
        extra,
        key=f"birthday-multiplier-refund:{refund.pk}",
        amounts=amounts,
        reason=_("Birthday points multiplier taken back by a refund"),
    )
