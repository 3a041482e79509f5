"""The points mall's writes (API.md §11): redeem a reward, fulfil or ship goods, cancel.

Points move only through the ledger (`spend_points`, taken back by `reverse`), a coupon only
through promotions (`issue_coupon`, `end_coupon`). Stock is a guarded update of the reward's
`redeemed_count` (never read then written), so the last units go to exactly as many members as
there are units whatever the concurrency; a member's own redemptions are counted under their
row's lock. The cash part is paid by tenders (`MallPayment`, counted by the shift close) at the
redemption, or at fulfilment when it was left due.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.activities.models import MallPayment, Redemption, Reward
from patron.core.errors import Conflict, DomainError, FieldError, NotFound
from patron.ledger import payments
from patron.ledger.services import Context, reverse, spend_points
from patron.members.models import Member
from patron.promotions.models import CouponStatus
from patron.promotions.services import end_coupon, issue_coupon
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Store
from patron.tenancy.services import audit

SOURCE = "mall"  # the ledger source of a redemption's movements (ledger.references)


@dataclass(frozen=True)
class Tender:
    method: str
    amount: int


def reward_for(actor: Actor, code: str) -> Reward:
    reward = Reward.objects.filter(merchant=actor.merchant, code=code, is_active=True).first()
    if reward is None:
        raise DomainError(_("Unknown reward %s.") % code, "reward_not_found", 404)
    return reward


def redemption_for(actor: Actor, pk: object) -> Redemption:
    try:
        pk = int(pk)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotFound(_("Redemption not found")) from None
    found = Redemption.objects.filter(merchant=actor.merchant, pk=pk).select_related(
        "reward", "member", "coupon"
    )
    redemption = found.first()
    if redemption is None:
        raise NotFound(_("Redemption not found"))
    return redemption


def checked_tenders(tenders: Sequence[Tender] | None, due: int) -> list[Tender]:
    """The tenders as given, each with a known method and a positive amount, adding up to
    `due` (422 `tenders_mismatch` otherwise); none given pays nothing now."""
    if tenders is None:
        return []
    merged: dict[str, int] = defaultdict(int)
    for index, tender in enumerate(tenders):
        if not payments.is_known(tender.method):
            message = _("Unknown payment method %s.") % tender.method
            raise DomainError(
                message, "validation_error", 422, [FieldError(f"tenders[{index}].method", message)]
            )
        if isinstance(tender.amount, bool) or not isinstance(tender.amount, int):
            tender_amount_error(index)
        if tender.amount <= 0:
            tender_amount_error(index)
        merged[payments.canonical(tender.method)] += tender.amount
    if sum(merged.values()) != due:
        raise DomainError(
            _("The tenders add up to %(given)d fen; %(due)d fen is due.")
            % {"given": sum(merged.values()), "due": due},
            "tenders_mismatch",
            422,
        )
    return [Tender(method, amount) for method, amount in merged.items()]


def tender_amount_error(index: int) -> None:
    message = _("A tender's amount is a whole number of fen greater than zero.")
    raise DomainError(
        message, "validation_error", 422, [FieldError(f"tenders[{index}].amount", message)]
    )


def _take_payments(
    actor: Actor, redemption: Redemption, tenders: list[Tender], store: Store | None
) -> None:
    MallPayment.objects.bulk_create(
        [
            MallPayment(
                merchant=actor.merchant,
                redemption=redemption,
                store=store,
                user=actor.user,
                method=tender.method,
                amount=tender.amount,
            )
            for tender in tenders
        ]
    )
    paid = sum(tender.amount for tender in tenders)
    if paid:
        Redemption.objects.filter(pk=redemption.pk).update(cash_paid=F("cash_paid") + paid)
        redemption.cash_paid += paid


def _take_unit(reward: Reward) -> None:
    """One unit off the stock, or 409 `out_of_stock`: the row's own condition decides."""
    taken = (
        Reward.objects.filter(pk=reward.pk)
        .filter(Q(stock__isnull=True) | Q(redeemed_count__lt=F("stock")))
        .update(redeemed_count=F("redeemed_count") + 1)
    )
    if not taken:
        raise Conflict(_("%s is out of stock.") % reward.name, "out_of_stock")


def _check_member_limit(reward: Reward, member: Member) -> None:
    if reward.per_member is None:
        return
    held = (
        Redemption.objects.filter(reward=reward, member=member)
        .exclude(status=Redemption.Status.CANCELLED)
        .count()
    )
    if held >= reward.per_member:
        raise Conflict(
            _("A member may redeem %(name)s at most %(count)d time(s).")
            % {"name": reward.name, "count": reward.per_member},
            "limit_reached",
        )


def redeem(
    actor: Actor,
    member: Member,
    reward: Reward,
    *,
    key: str,
    store: Store | None = None,
    tenders: Sequence[Tender] | None = None,
) -> Redemption:
    """Spend the member's points on one unit of `reward`; the same `key` gives the same
    redemption back (`replayed`). Refusals write nothing: 422 `insufficient_points`,
    409 `out_of_stock`, 409 `limit_reached`, 409 `reward_closed`."""
    if member.merchant_id != actor.merchant.pk or reward.merchant_id != actor.merchant.pk:
        raise NotFound(_("Member not found"))
    existing = Redemption.objects.filter(merchant=actor.merchant, key=key).first()
    if existing is not None:
        existing.replayed = True
        return existing
    if not reward.is_open():
        raise Conflict(_("%s cannot be redeemed now.") % reward.name, "reward_closed")
    store = store or actor.store
    paid = checked_tenders(tenders, reward.cash)
    with transaction.atomic():
        # Serialises this member's redemptions, so the per-member count cannot be overtaken.
        Member.objects.select_for_update().filter(pk=member.pk).first()
        _check_member_limit(reward, member)
        _take_unit(reward)
        redemption = Redemption.objects.create(
            merchant=actor.merchant,
            reward=reward,
            member=member,
            store=store,
            points=reward.points,
            cash_due=reward.cash,
            key=key,
            channel=actor.channel,
            user=actor.user,
        )
        redemption.spend = spend_points(
            actor,
            member,
            reward.points,
            key=f"mall:{redemption.pk}",
            context=Context(
                store=store, reason=reward.name, source=SOURCE, source_ref=str(redemption.pk)
            ),
        )
        if reward.kind == Reward.Kind.COUPON:
            redemption.coupon = issue_coupon(actor, member, reward.coupon, key=f"mall:{key}")
        redemption.save(update_fields=["spend", "coupon"])
        _take_payments(actor, redemption, paid, store)
        audit(
            actor,
            AuditEntry.Action.CREATE,
            redemption,
            {
                "member": [None, member.card_no],
                "reward": [None, reward.code],
                "points": [None, reward.points],
                "cash_due": [None, reward.cash],
            },
            label=f"redemption {reward.code} {member.card_no}",
        )
    redemption.replayed = False
    return redemption


def fulfil(
    actor: Actor,
    redemption: Redemption,
    *,
    tracking_no: str = "",
    tenders: Sequence[Tender] | None = None,
    store: Store | None = None,
) -> Redemption:
    """Goods handed over in store, or shipped with `tracking_no`. What is still due of the cash
    part is taken now: by the tenders given, else all in cash. Fulfilling twice changes
    nothing."""
    tracking_no = (tracking_no or "").strip()
    if len(tracking_no) > 64:
        message = _("At most 64 characters.")
        raise DomainError(message, "validation_error", 422, [FieldError("tracking_no", message)])
    with transaction.atomic():
        locked = Redemption.objects.select_for_update().get(pk=redemption.pk)
        if locked.status == Redemption.Status.FULFILLED:
            return locked
        if locked.status == Redemption.Status.CANCELLED:
            raise Conflict(_("This redemption was cancelled."), "redemption_cancelled")
        if redemption.reward.kind != Reward.Kind.GOODS:
            raise Conflict(_("A coupon reward is fulfilled when its coupon is used."), "not_goods")
        due = locked.cash_outstanding
        if tenders is None and due:
            tenders = [Tender(payments.CASH, due)]
        _take_payments(actor, locked, checked_tenders(tenders, due), store or actor.store)
        locked.status = Redemption.Status.FULFILLED
        locked.tracking_no = tracking_no
        locked.fulfilled_at = timezone.now()
        locked.save(update_fields=["status", "tracking_no", "fulfilled_at"])
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            locked,
            {
                "status": [Redemption.Status.PENDING, locked.status],
                "tracking_no": [None, tracking_no],
            },
            label=f"redemption #{locked.pk}",
        )
    return locked


def cancel(actor: Actor, redemption: Redemption, *, store: Store | None = None) -> Redemption:
    """Give the points, the unit and any cash paid back; a coupon reward only while its coupon
    is unused (the coupon is withdrawn). Cancelling twice changes nothing."""
    with transaction.atomic():
        locked = (
            Redemption.objects.select_for_update(of=("self",))
            .select_related("reward", "spend", "coupon")
            .get(pk=redemption.pk)
        )
        if locked.status == Redemption.Status.CANCELLED:
            return locked
        if locked.status == Redemption.Status.FULFILLED:
            raise Conflict(_("A fulfilled redemption cannot be cancelled."), "already_fulfilled")
        if locked.coupon is not None:
            if locked.coupon.status == CouponStatus.USED:
                raise Conflict(_("Its coupon was already used."), "coupon_used")
            if locked.coupon.status == CouponStatus.AVAILABLE:
                end_coupon(actor, locked.coupon, reason=_("Points mall redemption cancelled"))
        if locked.spend is not None:
            reverse(
                actor,
                locked.spend,
                key=f"mall-cancel:{locked.pk}",
                context=Context(
                    store=store or actor.store,
                    reason=locked.reward.name,
                    source=SOURCE,
                    source_ref=str(locked.pk),
                ),
            )
        Reward.objects.filter(pk=locked.reward_id, redeemed_count__gt=0).update(
            redeemed_count=F("redeemed_count") - 1
        )
        _give_cash_back(actor, locked, store or actor.store)
        locked.status = Redemption.Status.CANCELLED
        locked.cancelled_at = timezone.now()
        locked.save(update_fields=["status", "cancelled_at"])
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            locked,
            {"status": [Redemption.Status.PENDING, Redemption.Status.CANCELLED]},
            label=f"redemption #{locked.pk}",
        )
    return locked


def _give_cash_back(actor: Actor, redemption: Redemption, store: Store | None) -> None:
    """What was paid of the cash part, back by the methods it came in (negative rows)."""
    by_method: dict[str, int] = defaultdict(int)
    for method, amount in redemption.payments.values_list("method", "amount"):
        by_method[method] += amount
    MallPayment.objects.bulk_create(
        [
            MallPayment(
                merchant=actor.merchant,
                redemption=redemption,
                store=store,
                user=actor.user,
                method=method,
                amount=-amount,
            )
            for method, amount in by_method.items()
            if amount > 0
        ]
    )
    Redemption.objects.filter(pk=redemption.pk).update(cash_paid=0)
    redemption.cash_paid = 0
