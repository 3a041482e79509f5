"""The columns a merchant moving in from another system adds to the members import (API.md §7):
card number, physical card id, tier, points with their expiry, stored value principal and
bonus. docs/moving-in.md tells the whole story.

Checking (`clean`) reads each row's cells with what `prepare` loaded once for the file: the
merchant's tiers, the card numbers and physical ids already in use, the expiry policy. After
the members are inserted (`after_insert`, in the import's transaction) the cards, the tier
changes and the opening balances are written in bulk: a 100,000-member file must stay well
under a minute, so nothing here runs once per member against the database.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from stdnum import luhn

from patron.cards.models import Card, CardEvent, CardStatus
from patron.core.bulk import insert_many
from patron.core.forms import parse_yuan
from patron.core.text import ascii_digits, nfkc, parse_int
from patron.ledger.models import Account, Entry, PointsLot, Transaction
from patron.ledger.openings import Opening, post_openings
from patron.members.importing.cells import as_text, date_text
from patron.members.importing.columns import Column
from patron.members.importing.extensions import Imported, ImportExtension, Problem
from patron.members.models import Member
from patron.promotions.models import Tier, TierChange
from patron.tenancy.actor import Actor

NAME = "cards"
CARD_NO_MAX = 20  # Member.card_no and Card.card_no
PHYSICAL_ID_MAX = 64
MAX_POINTS = 10**10
MAX_FEN = 10**11  # 1,000,000,000 yuan: more is a typo, not a balance
EXCEL_EXACT_DIGITS = 15  # Excel keeps 15 significant digits of a number
CHUNK = 5000

COLUMNS: tuple[Column, ...] = (
    Column(
        "card_no",
        "卡号",
        "card_no",
        "可选。原系统的会员卡号：只含数字，末位是 Luhn 校验位，最多 20 位；留空则自动分配。"
        "请把这一列设为“文本”格式。",
        "Optional. The card number from the old system: digits only, ending in a Luhn check "
        "digit, at most 20; empty allocates one. Format the column as text.",
        "6200000000000013",
        ("会员卡号",),
        label=gettext_lazy("Card number"),
    ),
    Column(
        "physical_id",
        "实体卡ID",
        "physical_id",
        "可选。实体卡的磁条、条码或 NFC 内容，最多 64 个字符，不能与其他卡重复。",
        "Optional. What a reader gets from the physical card (magstripe, barcode, NFC), at "
        "most 64 characters, unique.",
        "A1B2C3D4",
        ("实体卡号", "物理卡号"),
        label=gettext_lazy("Physical card"),
    ),
    Column(
        "tier",
        "等级",
        "tier",
        "可选。会员等级的代码或名称，须是本商户已有的等级；留空为入门等级。",
        "Optional. The code or name of one of the merchant's tiers; empty is the entry tier.",
        "gold",
        ("会员等级",),
        label=gettext_lazy("Tier"),
    ),
    Column(
        "points",
        "积分",
        "points",
        "可选。期初积分，不小于 0 的整数。",
        "Optional. Opening points, a whole number, 0 or more.",
        "1200",
        ("积分余额",),
        label=gettext_lazy("Points"),
    ),
    Column(
        "points_expires_at",
        "积分有效期",
        "points_expires_at",
        "可选。积分可以用到这一天（含），YYYY-MM-DD，不能早于今天；留空按积分规则从导入日算起。",
        "Optional. The points are usable through this day (YYYY-MM-DD), not before today; "
        "empty follows the points expiry rule from the day of the import.",
        "2027-12-31",
        ("积分到期日",),
        label=gettext_lazy("Points usable through"),
    ),
    Column(
        "stored_value_principal",
        "储值本金(分)",
        "stored_value_principal",
        "可选。储值余额中会员实付的本金，单位分（10000 = 100 元），不小于 0；"
        "用元填写请把列名改为“储值本金(元)”。",
        "Optional. Stored value the member paid for, in fen (10000 = 100 yuan), 0 or more; "
        "for yuan name the column stored_value_principal_yuan.",
        "10000",
        label=gettext_lazy("Stored value (principal)"),
    ),
    Column(
        "stored_value_bonus",
        "赠送金额(分)",
        "stored_value_bonus",
        "可选。储值余额中赠送的部分，单位分，不小于 0；用元填写请把列名改为“赠送金额(元)”。",
        "Optional. The bonus part of the stored value, in fen, 0 or more; for yuan name the "
        "column stored_value_bonus_yuan.",
        "1000",
        label=gettext_lazy("Stored value (bonus)"),
    ),
    Column(
        "stored_value_principal_yuan",
        "储值本金(元)",
        "stored_value_principal_yuan",
        "储值本金，单位元，最多两位小数。",
        "Stored value principal in yuan, at most two decimals.",
        "100.00",
        label=gettext_lazy("Stored value (principal)"),
        in_template=False,
    ),
    Column(
        "stored_value_bonus_yuan",
        "赠送金额(元)",
        "stored_value_bonus_yuan",
        "赠送金额，单位元，最多两位小数。",
        "Stored value bonus in yuan, at most two decimals.",
        "10.00",
        label=gettext_lazy("Stored value (bonus)"),
        in_template=False,
    ),
)
MONEY = {
    "stored_value_principal": "stored_value_principal_yuan",
    "stored_value_bonus": "stored_value_bonus_yuan",
}


@dataclass
class FileState:
    """What checking a file needs, loaded once; the numbers seen so far in the file."""

    merchant_id: int
    zone: zoneinfo.ZoneInfo
    today: dt.date
    tiers: dict[str, Tier]  # code, lower-case code and unambiguous name -> active tier
    card_numbers: set[str]  # in use by a member or a card of the merchant
    physical_ids: set[str]
    cards_seen: dict[str, int] = field(default_factory=dict)  # number -> first row
    physical_seen: dict[str, int] = field(default_factory=dict)
    # What the file's chunks wrote, for the summary once the whole file is in.
    totals: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("cards", "tiers", "posted", "points", "principal", "bonus"), 0
        )
    )


def tier_index(merchant_id: int) -> dict[str, Tier]:
    tiers = list(Tier.objects.filter(merchant_id=merchant_id, is_active=True))
    index: dict[str, Tier] = {}
    names: dict[str, list[Tier]] = {}
    for tier in tiers:
        names.setdefault(tier.name.strip(), []).append(tier)
    for name, found in names.items():
        if len(found) == 1:
            index[name] = found[0]
    for tier in tiers:
        index[tier.code.lower()] = tier
    for tier in tiers:
        index[tier.code] = tier  # an exact code wins over a name or another case
    return index


def prepare(actor: Actor) -> FileState:
    merchant = actor.merchant
    zone = zoneinfo.ZoneInfo(merchant.timezone)
    numbers = set(Member.objects.filter(merchant=merchant).values_list("card_no", flat=True))
    numbers |= set(Card.objects.filter(merchant=merchant).values_list("card_no", flat=True))
    physical = set(
        Card.objects.filter(merchant=merchant)
        .exclude(physical_id="")
        .values_list("physical_id", flat=True)
    )
    return FileState(
        merchant_id=merchant.pk,
        zone=zone,
        today=timezone.now().astimezone(zone).date(),
        tiers=tier_index(merchant.pk),
        card_numbers=numbers,
        physical_ids=physical,
    )


class Bad(ValueError):
    """One cell's problem, with the message for the report."""


def clean(
    state: FileState, row: int, raw: dict[str, Any], problem: Problem
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row's card, tier and balance cells -> (member fields, values for after_insert)."""
    member: dict[str, Any] = {}
    values: dict[str, Any] = {}
    cleaners = (
        ("card_no", clean_card_no),
        ("physical_id", clean_physical_id),
        ("tier", clean_tier),
        ("points", clean_points),
        ("points_expires_at", clean_expiry),
    )
    for name, cleaner in cleaners:
        if name in raw:
            try:
                values[name] = cleaner(state, row, raw[name])
            except Bad as bad:
                problem(name, str(bad))
    for name, yuan_name in MONEY.items():
        if name in raw and yuan_name in raw:
            problem(yuan_name, _("Give the amount in fen or in yuan, not both."))
            continue
        try:
            if name in raw:
                values[name] = clean_fen(raw[name])
            elif yuan_name in raw:
                values[name] = clean_yuan(raw[yuan_name])
        except Bad as bad:
            problem(name if name in raw else yuan_name, str(bad))
    if "card_no" in values:
        member["card_no"] = values["card_no"]
    tier = values.pop("tier", None)
    if tier is not None and tier.rank > 0:  # rank 0: where members start, no tier of their own
        member["tier_id"] = values["tier_id"] = tier.pk
    return member, values


def clean_card_no(state: FileState, row: int, raw: Any) -> str:
    text = nfkc(str(as_text(raw))).strip()
    digits = ascii_digits(text)
    if digits is None:
        hint = ""
        if isinstance(raw, float) or "E+" in text.upper():
            hint = " " + _("Excel stored it as a number: format the column as text.")
        raise Bad(_("A card number has digits only.") + hint)
    if len(digits) > CARD_NO_MAX or len(digits) < 2:
        raise Bad(_("A card number has 2 to %d digits.") % CARD_NO_MAX)
    if not luhn.is_valid(digits):
        hint = ""
        if isinstance(raw, int) and len(digits) > EXCEL_EXACT_DIGITS:
            hint = " " + _("Excel stored it as a number: format the column as text.")
        raise Bad(_("The check digit (last digit) of this card number is wrong.") + hint)
    if digits in state.card_numbers:
        raise Bad(_("This card number is already in use."))
    first = state.cards_seen.setdefault(digits, row)
    if first != row:
        raise Bad(_("The same card number is already on row %d.") % first)
    return digits


def clean_physical_id(state: FileState, row: int, raw: Any) -> str:
    text = str(as_text(raw)).strip()
    if len(text) > PHYSICAL_ID_MAX:
        raise Bad(_("At most %d characters.") % PHYSICAL_ID_MAX)
    if not text.isprintable():
        raise Bad(_("A physical card id holds printable characters only."))
    if text in state.physical_ids:
        raise Bad(_("This physical card is already bound to another card."))
    first = state.physical_seen.setdefault(text, row)
    if first != row:
        raise Bad(_("The same physical card is already on row %d.") % first)
    return text


def clean_tier(state: FileState, row: int, raw: Any) -> Tier:
    key = str(as_text(raw)).strip()
    tier = state.tiers.get(key) or state.tiers.get(key.lower())
    if tier is None:
        raise Bad(_("Unknown tier: %s") % key[:40])
    return tier


def clean_points(state: FileState, row: int, raw: Any) -> int:
    return whole_number(raw, MAX_POINTS, _("Points are a whole number."))


def clean_fen(raw: Any) -> int:
    return whole_number(raw, MAX_FEN, _("Amounts in this column are whole fen (10000 = 100 yuan)."))


def whole_number(raw: Any, maximum: int, message: str) -> int:
    if isinstance(raw, bool):
        raise Bad(message)
    if isinstance(raw, float):  # a whole float became an int in `cell`: this one has a fraction
        raise Bad(_("Cannot be negative.") if raw < 0 else message)
    number = raw if isinstance(raw, int) else parse_int(str(raw), low=-maximum, high=maximum)
    if number is None:
        raise Bad(message)
    if number < 0:
        raise Bad(_("Cannot be negative."))
    if number > maximum:
        raise Bad(_("At most %d.") % maximum)
    return number


def clean_yuan(raw: Any) -> int:
    text = str(raw).strip() if not isinstance(raw, float) else str(Decimal(str(raw)))
    if text.startswith(("-", "－")):
        raise Bad(_("Cannot be negative."))
    try:
        fen = parse_yuan(text)
    except forms.ValidationError as error:
        raise Bad(" ".join(error.messages)) from None
    if fen > MAX_FEN:
        raise Bad(_("At most %d.") % (MAX_FEN // 100))
    return fen


def clean_expiry(state: FileState, row: int, raw: Any) -> dt.datetime:
    """The day the points are usable through -> the instant they expire: the next local
    midnight, as the merchant's expiry rules count (patron.engine.points.lot_expires_at)."""
    if isinstance(raw, dt.datetime):
        day = raw.date()
    elif isinstance(raw, dt.date):
        day = raw
    else:
        text = date_text(str(as_text(raw)).strip())
        text = text.removesuffix(" 00:00:00").removesuffix(" 00:00")
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise Bad(_("Enter a date as YYYY-MM-DD.")) from None
    if day < state.today:
        raise Bad(_("This date is in the past: the points would be expired already."))
    if day.year > 2100:
        raise Bad(_("The date is too far in the future."))
    following = day + dt.timedelta(days=1)
    return dt.datetime(following.year, following.month, following.day, tzinfo=state.zone)


def preview(values: Mapping[str, Any]) -> dict[str, str]:
    shown: dict[str, str] = {}
    for name in ("card_no", "physical_id", "points"):
        if name in values:
            shown[name] = str(values[name])
    if "tier_id" in values:
        tier = Tier.objects.filter(pk=values["tier_id"]).values_list("name", flat=True).first()
        shown["tier"] = tier or ""
    if "points_expires_at" in values:
        expires = values["points_expires_at"] - dt.timedelta(days=1)
        shown["points_expires_at"] = expires.date().isoformat()
    for name in MONEY:
        if name in values:
            shown[name] = f"¥{values[name] / 100:,.2f}"
    return shown


def after_insert(actor: Actor, state: FileState, imported: list[Imported]) -> list[str]:
    """Cards, tier changes and opening balances of a chunk's new members (the caller's
    transaction); the totals go to `summary`."""
    now = timezone.now()
    cards = [i for i in imported if "card_no" in i.values or "physical_id" in i.values]
    tiers = [i for i in imported if "tier_id" in i.values]
    insert_cards(actor, cards, now)
    insert_tier_changes(actor, tiers, now)
    openings = [
        Opening(
            member_id=item.member_id,
            points=item.values.get("points", 0),
            principal=item.values.get("stored_value_principal", 0),
            bonus=item.values.get("stored_value_bonus", 0),
            points_expires_at=item.values.get("points_expires_at"),
        )
        for item in imported
    ]
    openings = [o for o in openings if o.points or o.principal or o.bonus]
    posted = post_openings(actor, openings, occurred_at=now)
    totals = state.totals
    totals["cards"] += len(cards)
    totals["tiers"] += len(tiers)
    totals["posted"] += posted
    totals["points"] += sum(o.points for o in openings)
    totals["principal"] += sum(o.principal for o in openings)
    totals["bonus"] += sum(o.bonus for o in openings)
    return []


def summary(state: FileState) -> list[str]:
    """The lines the import's summary shows, once the whole file is in."""
    totals = state.totals
    return [
        _("Cards brought in: %(cards)d; tiers set: %(tiers)d.")
        % {"cards": totals["cards"], "tiers": totals["tiers"]},
        _(
            "Opening balances: %(count)d migration transactions (points %(points)s, "
            "principal ¥%(principal)s, bonus ¥%(bonus)s)."
        )
        % {
            "count": totals["posted"],
            "points": f"{totals['points']:,}",
            "principal": f"{totals['principal'] / 100:,.2f}",
            "bonus": f"{totals['bonus'] / 100:,.2f}",
        },
    ]


def insert_cards(actor: Actor, imported: list[Imported], now: dt.datetime) -> None:
    """An active card without a product for each member that brought a card number or a
    physical card, with its `issued` event."""
    if not imported:
        return
    merchant_id = actor.merchant.pk
    user_id = actor.user.pk if actor.user else None
    allocated = member_card_numbers([i.member_id for i in imported if "card_no" not in i.values])
    rows = [
        (
            merchant_id,
            item.member_id,
            item.values.get("card_no") or allocated[item.member_id],
            item.values.get("physical_id", ""),
            CardStatus.ACTIVE,
            now,
            user_id,
            0,
            False,
            now,
            now,
        )
        for item in imported
    ]
    insert_many(
        Card,
        [
            "merchant_id",
            "member_id",
            "card_no",
            "physical_id",
            "status",
            "issued_at",
            "issued_by_id",
            "fee_paid",
            "fee_waived",
            "created_at",
            "updated_at",
        ],
        rows,
        CHUNK,
    )
    member_ids = sorted(item.member_id for item in imported)
    cards: list[tuple[int, int, str]] = []
    for start in range(0, len(member_ids), CHUNK):
        chunk = member_ids[start : start + CHUNK]
        cards += Card.objects.filter(
            merchant_id=merchant_id,
            member_id__gte=chunk[0],
            member_id__lte=chunk[-1],
            issued_at=now,
        ).values_list("pk", "member_id", "physical_id")
    insert_many(
        CardEvent,
        [
            "merchant_id",
            "card_id",
            "member_id",
            "kind",
            "detail",
            "user_id",
            "channel",
            "created_at",
        ],
        (
            (
                merchant_id,
                card_id,
                member_id,
                CardEvent.Kind.ISSUED,
                {"source": "import", **({"physical_id": physical} if physical else {})},
                user_id,
                actor.channel,
                now,
            )
            for card_id, member_id, physical in cards
        ),
        CHUNK,
    )


def member_card_numbers(member_ids: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    ordered = sorted(member_ids)
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        found.update(
            Member.objects.filter(pk__gte=chunk[0], pk__lte=chunk[-1]).values_list("pk", "card_no")
        )
    return found


def insert_tier_changes(actor: Actor, imported: list[Imported], now: dt.datetime) -> None:
    """The members were inserted on their tier (`tier_id`); this records why (`import`)."""
    if not imported:
        return
    base = (
        Tier.objects.filter(merchant=actor.merchant, is_active=True, rank=0)
        .values_list("pk", flat=True)
        .first()
    )
    user_id = actor.user.pk if actor.user else None
    insert_many(
        TierChange,
        [
            "merchant_id",
            "member_id",
            "from_tier_id",
            "to_tier_id",
            "reason",
            "detail",
            "note",
            "user_id",
            "created_at",
        ],
        (
            (
                actor.merchant.pk,
                item.member_id,
                base,
                item.values["tier_id"],
                TierChange.Reason.IMPORT,
                {"row": item.row},
                "",
                user_id,
                now,
            )
            for item in imported
        ),
        CHUNK,
    )


EXTENSION = ImportExtension(
    name=NAME,
    columns=COLUMNS,
    prepare=prepare,
    clean=clean,
    after_insert=after_insert,
    preview=preview,
    summary=summary,
    grows=(Card, CardEvent, TierChange, Transaction, Entry, Account, PointsLot),
)
