"""Every write of the lottery part (API.md §11): the program's lotteries saved, and draws.

A draw, in one transaction: take one from the member's daily limit (a guarded UPDATE on the
day's counter), spend the cost through the ledger (422 `insufficient_points` undoes all), pick
the prize from a fresh `secrets` seed with the pure rule of `patron.engine.lottery`, then take
the prize's value from the budget and one from its stock, each with a guarded UPDATE; when a
take fails the member gets no prize ("once spent, draws give none"). Points prizes are credited
through the ledger, coupons issued by promotions. The seed and the odds version are kept so a
draw can be replayed (`verify`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.activities.models import (
    Draw,
    DrawDay,
    Lottery,
    LotteryOdds,
    LotteryPrize,
    Outcome,
    PrizeKind,
)
from patron.core.errors import Conflict, DomainError, NotFound
from patron.engine import lottery as rules
from patron.ledger import services as ledger
from patron.members.models import Member, MemberStatus
from patron.promotions import services as promotions
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant
from patron.tenancy.permissions import merchant_zone

SOURCE = "lottery"  # the ledger transactions' source; source_ref is the draw's id
# The ledger's reasons, followed by the lottery's name: "抽奖 幸运转盘", "抽奖奖励 幸运转盘".
DRAW_WORDS = gettext_lazy("Lottery draw")
PRIZE_WORDS = gettext_lazy("Lottery prize")


class LotteryNotFound(DomainError):
    def __init__(self, code: str) -> None:
        super().__init__(detail=_("No lottery '%s'.") % code, code="lottery_not_found", status=404)


class LotteryClosed(DomainError):
    def __init__(self) -> None:
        super().__init__(
            detail=_("This lottery is not open now."), code="lottery_closed", status=409
        )


class LimitReached(Conflict):
    def __init__(self, limit: int) -> None:
        super().__init__(
            _("No draws left today: %d a day per member.") % limit, code="limit_reached"
        )


# --- the program ------------------------------------------------------------------------------


def shares(prizes: list[dict[str, Any]]) -> list[list[Any]]:
    """[[code, millionths], ...] of prizes as the program file lists them."""
    return [[p["code"], rules.odds_millionths(p["odds"])] for p in prizes]


def save_lottery(merchant: Merchant, row: dict[str, Any]) -> Lottery:
    """Add or change a lottery from its program row; a new odds version when the odds (or
    the prizes they name) change, so earlier draws keep replaying against theirs."""
    fields = {k: row[k] for k in ("name", "cost_points", "daily_limit", "budget")}
    fields |= {"starts_at": row["starts_at"], "ends_at": row["ends_at"], "is_active": True}
    with transaction.atomic():
        found = Lottery.objects.select_for_update().filter(merchant=merchant, code=row["code"])
        lottery = found.first()
        if lottery is None:
            lottery = Lottery.objects.create(merchant=merchant, code=row["code"], **fields)
        else:
            for key, value in fields.items():
                setattr(lottery, key, value)
            lottery.save()
        _save_prizes(lottery, row["prizes"])
        wanted = shares(row["prizes"])
        current = current_odds(lottery)
        if current is None or current.shares != wanted:
            lottery.odds_version += 1
            lottery.save(update_fields=["odds_version", "updated_at"])
            LotteryOdds.objects.create(lottery=lottery, version=lottery.odds_version, shares=wanted)
    return lottery


def _save_prizes(lottery: Lottery, prizes: list[dict[str, Any]]) -> None:
    current = {p.code: p for p in LotteryPrize.objects.filter(lottery=lottery)}
    for position, prize in enumerate(prizes):
        fields = {
            "name": prize.get("name") or "",
            "kind": prize["kind"],
            "points": prize.get("points"),
            "coupon": prize.get("coupon") or "",
            "value": prize.get("value") or 0,
            "odds": Decimal(str(prize["odds"])),
            "stock": prize.get("stock"),
            "position": position,
            "is_active": True,
        }
        row = current.pop(prize["code"], None)
        if row is None:
            LotteryPrize.objects.create(lottery=lottery, code=prize["code"], **fields)
            continue
        if fields["stock"] is not None and fields["stock"] < row.given:
            fields["stock"] = row.given  # a stock below what was given means none left
        LotteryPrize.objects.filter(pk=row.pk).update(**fields)
    LotteryPrize.objects.filter(pk__in=[p.pk for p in current.values()]).update(is_active=False)


def end_lottery(lottery: Lottery) -> None:
    """A lottery left out of the program: no more draws; its draws stay for audit."""
    Lottery.objects.filter(pk=lottery.pk).update(is_active=False, updated_at=timezone.now())


def current_odds(lottery: Lottery) -> LotteryOdds | None:
    return LotteryOdds.objects.filter(lottery=lottery, version=lottery.odds_version).first()


# --- reading ----------------------------------------------------------------------------------


def find_lottery(merchant: Merchant, code: str) -> Lottery:
    lottery = Lottery.objects.filter(merchant=merchant, code=code, is_active=True).first()
    if lottery is None:
        raise LotteryNotFound(code)
    return lottery


def is_open(lottery: Lottery, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    if lottery.starts_at and now < lottery.starts_at:
        return False
    return not (lottery.ends_at and now >= lottery.ends_at)


def business_day(merchant: Merchant, now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), merchant_zone(merchant.timezone)).date()


def draws_left_today(lottery: Lottery, member: Member) -> int | None:
    """None when the lottery has no daily limit."""
    if lottery.daily_limit is None:
        return None
    day = business_day(lottery.merchant)
    made = DrawDay.objects.filter(lottery=lottery, member=member, day=day).first()
    return max(lottery.daily_limit - (made.count if made else 0), 0)


def prize_name(prize: LotteryPrize) -> str:
    """The name members see: the one the program gives, else what the prize is in words."""
    if prize.name:
        return prize.name
    if prize.kind == PrizeKind.POINTS:
        return _("%d points") % (prize.points or 0)
    if prize.kind == PrizeKind.COUPON:
        from patron.promotions.models import CouponTemplate

        template = CouponTemplate.objects.filter(
            merchant_id=prize.lottery.merchant_id, code=prize.coupon
        ).first()
        return template.name if template else prize.coupon
    return _("Better luck next time")


# --- drawing ----------------------------------------------------------------------------------


def draw(actor: Actor, member: Member, code: str, *, key: str) -> Draw:
    """One draw by `member`; with the same `key` the same draw comes back (`replayed`)."""
    if member.merchant_id != actor.merchant.pk:
        raise NotFound("Member not found")
    lottery = find_lottery(actor.merchant, code)
    with transaction.atomic():
        existing = Draw.objects.filter(merchant=actor.merchant, idempotency_key=key).first()
        if existing is not None:
            if existing.lottery_id != lottery.pk or existing.member_id != member.pk:
                raise Conflict(
                    _("This idempotency key was already used for another draw."),
                    "idempotency_conflict",
                )
            existing.replayed = True
            return existing
        if member.status != MemberStatus.ACTIVE:
            raise Conflict(_("This member is frozen or closed."), "member_frozen")
        if not is_open(lottery):
            raise LotteryClosed()
        _take_from_daily_limit(lottery, member)
        odds = current_odds(lottery)
        seed = secrets.token_hex(16)
        drawn = rules.draw([(c, n) for c, n in odds.shares], seed)
        record = _insert_draw(actor, lottery, member, odds, seed, drawn, key)
        _pay_cost(actor, lottery, member, record)
        _give_prize(actor, lottery, member, record)
    record.replayed = False
    return record


def _take_from_daily_limit(lottery: Lottery, member: Member) -> None:
    if lottery.daily_limit is None:
        return
    day = business_day(lottery.merchant)
    DrawDay.objects.get_or_create(lottery=lottery, member=member, day=day)
    taken = DrawDay.objects.filter(
        lottery=lottery, member=member, day=day, count__lt=lottery.daily_limit
    ).update(count=F("count") + 1)
    if not taken:
        raise LimitReached(lottery.daily_limit)


def _insert_draw(actor, lottery, member, odds, seed, drawn, key) -> Draw:
    try:
        with transaction.atomic():
            return Draw.objects.create(
                merchant=actor.merchant,
                lottery=lottery,
                member=member,
                odds=odds,
                seed=seed,
                drawn=drawn,
                prize_code=drawn,
                prize_kind=PrizeKind.NONE,
                outcome=Outcome.NO_PRIZE,
                cost_points=lottery.cost_points,
                idempotency_key=key,
                channel=actor.channel or "",
            )
    except IntegrityError:  # the same key raced in: answer as that draw did
        raise Conflict(
            _("This draw is already under way; retry to see its result."), "idempotency_conflict"
        ) from None


def _words(words: Any, lottery: Lottery) -> str:
    """The ledger's reason in the merchant's language (as its other reasons are stored)."""
    with translation.override(settings.LANGUAGE_CODE):
        return f"{words} {lottery.name}"


def _pay_cost(actor: Actor, lottery: Lottery, member: Member, record: Draw) -> None:
    if not lottery.cost_points:
        return
    ledger.spend_points(
        actor,
        member,
        lottery.cost_points,
        key=f"{record.idempotency_key}:cost",
        context=ledger.Context(
            reason=_words(DRAW_WORDS, lottery), source=SOURCE, source_ref=str(record.pk)
        ),
    )


def _give_prize(actor: Actor, lottery: Lottery, member: Member, record: Draw) -> None:
    prize = LotteryPrize.objects.filter(lottery=lottery, code=record.drawn).first()
    outcome = Outcome.NO_PRIZE
    if prize is not None and prize.kind != PrizeKind.NONE:
        outcome = _take(lottery, prize)
        if outcome == Outcome.GIVEN:
            outcome = _award(actor, lottery, member, prize, record)
            if outcome != Outcome.GIVEN:
                _give_back(lottery, prize)
    if outcome == Outcome.GIVEN:
        record.prize_code, record.prize_kind, record.value = prize.code, prize.kind, prize.value
    else:
        record.prize_code, record.prize_kind, record.value = _nothing(lottery), PrizeKind.NONE, 0
    record.outcome = outcome
    record.save(update_fields=["prize_code", "prize_kind", "value", "points", "coupon", "outcome"])


def _nothing(lottery: Lottery) -> str:
    """The code of the lottery's `none` prize (the contract's "none" when it has none)."""
    found = LotteryPrize.objects.filter(lottery=lottery, kind=PrizeKind.NONE, is_active=True)
    return found.values_list("code", flat=True).first() or "none"


def _take(lottery: Lottery, prize: LotteryPrize) -> str:
    """Take the prize's value from the budget and one from its stock, or neither."""
    if prize.value:
        taken = Lottery.objects.filter(pk=lottery.pk, spent__lte=F("budget") - prize.value).update(
            spent=F("spent") + prize.value
        )
        if not taken:
            return Outcome.BUDGET_SPENT
    if prize.stock is not None:
        taken = LotteryPrize.objects.filter(pk=prize.pk, given__lt=F("stock")).update(
            given=F("given") + 1
        )
    else:
        taken = LotteryPrize.objects.filter(pk=prize.pk).update(given=F("given") + 1)
    if not taken:
        if prize.value:
            Lottery.objects.filter(pk=lottery.pk).update(spent=F("spent") - prize.value)
        return Outcome.OUT_OF_STOCK
    return Outcome.GIVEN


def _give_back(lottery: Lottery, prize: LotteryPrize) -> None:
    if prize.value:
        Lottery.objects.filter(pk=lottery.pk).update(spent=F("spent") - prize.value)
    LotteryPrize.objects.filter(pk=prize.pk).update(given=F("given") - 1)


def _award(actor: Actor, lottery: Lottery, member: Member, prize: LotteryPrize, record) -> str:
    if prize.kind == PrizeKind.POINTS:
        ledger.earn_points(
            actor,
            member,
            prize.points,
            key=f"{record.idempotency_key}:prize",
            context=ledger.Context(
                reason=_words(PRIZE_WORDS, lottery), source=SOURCE, source_ref=str(record.pk)
            ),
            pending_days=0,  # a prize won is usable at once: there is nothing to return
        )
        record.points = prize.points
        return Outcome.GIVEN
    try:
        record.coupon = promotions.issue_coupon(
            actor, member, prize.coupon, key=f"{record.idempotency_key}:prize"
        )
    except DomainError:  # template ended, paused, out of stock, member's limit: no prize
        return Outcome.COUPON_REFUSED
    return Outcome.GIVEN


# --- audit ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    ticket: int
    recomputed: str
    matches: bool


def verify(record: Draw) -> Verification:
    """Replay a draw from its seed and the odds it used."""
    number = rules.ticket(record.seed)
    recomputed = rules.pick([(c, n) for c, n in record.odds.shares], number)
    return Verification(ticket=number, recomputed=recomputed, matches=recomputed == record.drawn)


def draws_today(lottery: Lottery) -> int:
    zone = merchant_zone(lottery.merchant.timezone)
    start = dt.datetime.combine(business_day(lottery.merchant), dt.time.min, tzinfo=zone)
    return Draw.objects.filter(lottery=lottery, created_at__gte=start).count()


def prize_counts(lottery: Lottery) -> dict[str, int]:
    """Draws that ended with each prize (the `none` prize included), by prize code."""
    rows = Draw.objects.filter(lottery=lottery).values("prize_code").annotate(n=Count("pk"))
    return {row["prize_code"]: row["n"] for row in rows}
