"""The member's own data (F-45, PIPL): what we keep, its export, correction, consent, erasure.

Erasure settles the balances first, through the services that own them (a card refund gives
back the principal and forfeits the bonus; points are taken off by an adjustment; unused
coupons are withdrawn), so the ledger still reconciles; then the member's personal fields are
erased by members' `anonymise_member` and the personal text other apps keep about them is
blanked here. The member row, its id and card number stay: ledger entries and sales point at
them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns import optout
from patron.campaigns.models import Message
from patron.cards import selectors as card_selectors
from patron.cards import services as cards
from patron.cards.models import Card, CardEvent, CardStatus
from patron.core.errors import Conflict, FieldError, ValidationFailed
from patron.insight.models import ExternalMember, FollowUpTask, MemberEvent, MemberInsight
from patron.ledger import selectors as ledger_selectors
from patron.ledger import services as ledger
from patron.ledger.models import PointsHold
from patron.ledger.references import reason_words
from patron.members import services as members
from patron.members.models import ConsentRecord, Member
from patron.members.selectors import members_for
from patron.portal.models import ErasureRequest, OneTimeCode
from patron.promotions import selectors as tiers
from patron.promotions.models import Coupon, CouponStatus
from patron.promotions.services import end_coupon
from patron.sales.models import MemberPin, Sale
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.services import audit

# The profile fields a member may correct on their own pages (the mobile is changed at a store:
# it is how they log in).
CORRECTABLE = (
    "name",
    "gender",
    "birthday",
    "lunar_birthday",
    "email",
    "region",
    "address",
    "occupation",
)
CONSENTS = ("consent_sms", "consent_wechat", "consent_email")
CONSENT_CHANNELS = {field: channel for channel, field in optout.CONSENT_FIELDS.items()}
PROFILE_FIELDS = ("card_no", "mobile", *CORRECTABLE, "id_number", "income_band", *CONSENTS)
ERASED_REASON = "account deleted"  # the ledger's and coupons' reason: a code, not words


# --- what we keep ----------------------------------------------------------------------------


def _profile(member: Member) -> dict[str, Any]:
    data = {name: getattr(member, name) for name in PROFILE_FIELDS}
    data.update(
        gender=member.get_gender_display(),
        income_band=member.get_income_band_display() if member.income_band else "",
        store=member.store.name if member.store else "",
        joined_at=member.joined_at,
        source_channel=member.get_source_channel_display(),
        status=member.get_status_display(),
        tags=sorted(member.tags.values_list("name", flat=True)),
        custom=member.custom,
        agreement_unit=member.agreement_unit.name if member.agreement_unit else "",
        referral_code=member.referral_code,
    )
    return data


def _consents(member: Member) -> list[dict[str, Any]]:
    return [
        {
            "topic": record.get_topic_display(),
            "granted": record.granted,
            "method": record.get_method_display(),
            "recorded_at": record.recorded_at,
        }
        for record in ConsentRecord.objects.filter(member=member).order_by("recorded_at", "id")
    ]


def _card_events(card: Card) -> list[dict[str, Any]]:
    if card.pk is None:  # the member's implicit card: nothing happened to it yet
        return []
    events = CardEvent.objects.filter(card=card).order_by("created_at", "id")
    return [{"what": event.get_kind_display(), "at": event.created_at} for event in events]


def _cards(member: Member) -> list[dict[str, Any]]:
    return [
        {
            "card_no": card.card_no,
            "product": card.product.name if card.product else "",
            "status": card.get_status_display(),
            "physical_id": card.physical_id,
            "issued_at": card.issued_at,
            "closed_at": card.closed_at,
            "events": _card_events(card),
        }
        for card in card_selectors.member_cards(member)
    ]


def _ledger(member: Member) -> list[dict[str, Any]]:
    entries = ledger_selectors.member_entries(member).order_by("occurred_at", "id")
    return [
        {
            "at": entry.occurred_at,
            "what": reason_words(entry.transaction.kind, entry.transaction.source),
            "asset": entry.get_asset_display(),
            "amount": entry.amount,
            "store": entry.transaction.store.name if entry.transaction.store else "",
        }
        for entry in entries
    ]


def _lots(member: Member) -> list[dict[str, Any]]:
    return [
        {"earned_at": lot.earned_at, "expires_at": lot.expires_at, "points": lot.amount,
         "remaining": lot.remaining}
        for lot in ledger_selectors.member_lots(member)
    ]  # fmt: skip


def _sales(member: Member) -> list[dict[str, Any]]:
    sales = Sale.objects.filter(member=member).select_related("store").order_by("occurred_at")
    return [
        {
            "at": sale.occurred_at,
            "store": sale.store.name if sale.store else "",
            "status": sale.get_status_display(),
            "total": sale.total,
            "stored_value_paid": sale.stored_value_paid,
            "cash_due": sale.cash_due,
            "points_earned": sale.points_earned,
            "points_redeemed": sale.points_redeemed,
            "lines": [
                {"name": line.name, "sku": line.sku, "quantity": line.quantity, "total": line.total}
                for line in sale.lines.order_by("position")
            ],  # fmt: skip
        }
        for sale in sales.prefetch_related("lines")
    ]


def _coupons(member: Member) -> list[dict[str, Any]]:
    coupons = Coupon.objects.filter(member=member).select_related("template")
    return [
        {
            "name": coupon.template.name,
            "code": coupon.code,
            "status": coupon.get_status_display(),
            "valid_from": coupon.valid_from,
            "valid_until": coupon.valid_until,
            "used_at": coupon.used_at,
        }
        for coupon in coupons.order_by("issued_at", "id")
    ]


def _messages(member: Member) -> list[dict[str, Any]]:
    rows = Message.objects.filter(member=member, merchant_id=member.merchant_id)
    return [
        {
            "channel": message.get_channel_display(),
            "subject": message.subject,
            "body": message.body,
            "status": message.get_status_display(),
            "at": message.sent_at or message.created_at,
            "read_at": message.read_at,
        }
        for message in rows.order_by("created_at", "id")
    ]


def _insight(member: Member) -> dict[str, Any]:
    insight = MemberInsight.objects.filter(member=member).first()
    facts: dict[str, Any] = {}
    if insight is not None:
        facts = {
            "spend_12m": insight.spend_12m,
            "visits_12m": insight.visits_12m,
            "last_purchase_at": insight.last_purchase_at,
            "lifecycle": insight.get_lifecycle_display() if insight.lifecycle else "",
            "rfm": insight.rfm,
        }
    events = MemberEvent.objects.filter(member=member).order_by("occurred_at", "id")
    facts["events"] = [
        {"what": event.get_kind_display(), "at": event.occurred_at, "details": event.body}
        for event in events
    ]
    return facts


def _tier_name(member: Member) -> str:
    tier = tiers.member_tier(member)
    return tier.name if tier is not None else ""


def member_data(member: Member) -> dict[str, Any]:
    """Everything kept about `member` and nobody else, as the export carries it."""
    balances = ledger_selectors.member_balances(member)
    return {
        "merchant": member.merchant.name,
        "exported_at": timezone.now(),
        "profile": _profile(member),
        "consents": _consents(member),
        "tier": _tier_name(member),
        "balances": {
            "points": balances["points"]["available"],
            "points_pending": balances["points"]["pending"],
            "stored_value_principal": balances["stored_value"]["principal"],
            "stored_value_bonus": balances["stored_value"]["bonus"],
        },
        "cards": _cards(member),
        "points_lots": _lots(member),
        "ledger": _ledger(member),
        "sales": _sales(member),
        "coupons": _coupons(member),
        "messages": _messages(member),
        "insight": _insight(member),
    }


@dataclass(frozen=True)
class Overview:
    """What /m/privacy shows: the data in sections, with counts for the long lists."""

    data: dict[str, Any]
    sales: int
    messages: int
    coupons: int
    ledger: int


def overview(member: Member) -> Overview:
    data = member_data(member)
    return Overview(
        data=data,
        sales=len(data["sales"]),
        messages=len(data["messages"]),
        coupons=len(data["coupons"]),
        ledger=len(data["ledger"]),
    )


# --- export ----------------------------------------------------------------------------------


def _audit_export(actor: Actor, member: Member, fmt: str) -> None:
    audit(
        actor,
        AuditEntry.Action.EXPORT,
        member,
        {"event": [None, "member.exported_own_data"], "format": [None, fmt]},
        label=member.card_no,
    )


def export_json(actor: Actor, member: Member) -> bytes:
    """The member's data as JSON (audited: who exported, when, in which format)."""
    body = json.dumps(member_data(member), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    _audit_export(actor, member, "json")
    return body.encode()


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return value


def _sheet_rows(value: Any) -> list[list[Any]]:
    """A section as rows: a list of records under a header, a record as name/value pairs."""
    if isinstance(value, list):
        if not value:
            return [[_("None")]]
        header = list(value[0])
        return [header, *[[_cell(row.get(key)) for key in header] for row in value]]
    if isinstance(value, dict):
        return [[key, _cell(item)] for key, item in value.items()]
    return [[_cell(value)]]


def export_xlsx(actor: Actor, member: Member) -> bytes:
    """The member's data as an Excel workbook, one sheet per section (audited)."""
    from openpyxl import Workbook

    data = member_data(member)
    book = Workbook()
    book.remove(book.active)
    summary = book.create_sheet("summary")
    for key in ("merchant", "exported_at", "tier"):
        summary.append([key, _cell(data.pop(key))])
    for section, value in data.items():
        sheet = book.create_sheet(section[:31])
        for row in _sheet_rows(value):
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    _audit_export(actor, member, "xlsx")
    return out.getvalue()


# --- correction and consent ------------------------------------------------------------------


def correct(actor: Actor, member: Member, data: dict[str, Any]) -> Member:
    """Change the member's own profile fields (members validates and audits)."""
    return members.update_member(
        actor, member, {name: data[name] for name in CORRECTABLE if name in data}
    )


@transaction.atomic
def set_consents(actor: Actor, member: Member, wanted: dict[str, bool]) -> Member:
    """Grant or withdraw marketing consent per channel; each change is a ConsentRecord.

    Withdrawals go through the campaigns' opt-out, which also stops messages still queued on
    that channel; grants through update_member."""
    for name in CONSENTS:
        if name in wanted and not wanted[name] and getattr(member, name):
            member = optout.opt_out(member, CONSENT_CHANNELS[name], actor)
    grants = {name: True for name in CONSENTS if wanted.get(name) and not getattr(member, name)}
    if grants:
        member = members.update_member(actor, member, grants)
    return member


# --- erasure ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settlement:
    """What deleting the account does to the member's balances, shown before they confirm."""

    principal: int = 0  # stored value paid in
    refundable: int = 0  # the part a store pays back (the card's refund rule)
    bonus: int = 0
    bonus_returned: bool = False  # the card's rule pays the bonus back too
    points: int = 0
    points_pending: int = 0
    coupons: list[str] = field(default_factory=list)  # names of unused coupons

    @property
    def kept_by_merchant(self) -> int:
        """Principal the card's rule does not pay back."""
        return self.principal - self.refundable

    @property
    def unsettled(self) -> bool:
        return bool(
            self.principal or self.bonus or self.points or self.points_pending or self.coupons
        )

    @property
    def waits_for_store(self) -> bool:
        """Money must change hands at a store before the data can go."""
        return self.refundable > 0 or (self.bonus_returned and self.bonus > 0)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _live_card(actor: Actor, member: Member) -> Card | None:
    card = card_selectors.card_for_number(actor, member.card_no)
    if card is None or card.status in (CardStatus.CLOSED, CardStatus.REPLACED):
        return None
    return card


def _live_coupons(member: Member) -> QuerySet[Coupon]:
    return Coupon.objects.filter(
        member=member, status=CouponStatus.AVAILABLE, valid_until__gt=timezone.now()
    ).select_related("template")


def settlement(actor: Actor, member: Member) -> Settlement:
    balances = ledger_selectors.member_balances(member)
    stored = balances["stored_value"]
    card = _live_card(actor, member)
    rule = cards.refund_rule(card) if card is not None else {"allowed": False}
    allowed = bool(rule.get("allowed", True))
    return Settlement(
        principal=stored["principal"],
        refundable=stored["principal"] if allowed else 0,
        bonus=stored["bonus"],
        bonus_returned=allowed and rule.get("bonus") == "keep",
        points=max(balances["points"]["available"], 0),
        points_pending=balances["points"]["pending"],
        coupons=[coupon.template.name for coupon in _live_coupons(member)],
    )


def pending_request(member: Member) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(
        member=member, status=ErasureRequest.Status.PENDING
    ).first()


@transaction.atomic
def request_erasure(actor: Actor, member: Member, *, understood: bool) -> ErasureRequest:
    """The member asks to delete their account. With balances or coupons left they must have
    confirmed that they understand what is refunded and what is forfeited. Nothing to pay back:
    the erasure completes at once; else it waits for a store to refund the principal."""
    member = Member.objects.select_for_update().get(pk=member.pk, merchant=actor.merchant)
    if (existing := pending_request(member)) is not None:
        return existing
    shown = settlement(actor, member)
    if not understood:
        raise ValidationFailed(
            [
                FieldError(
                    "understood",
                    _("Tick the box to confirm that you understand what is refunded and forfeited.")
                    if shown.unsettled
                    else _("Tick the box to confirm that you want to delete your account."),
                )
            ]
        )
    request = ErasureRequest.objects.create(
        merchant=actor.merchant,
        member=member,
        settlement=shown.as_json(),
        requested_at=timezone.now(),
    )
    audit(
        actor,
        AuditEntry.Action.CREATE,
        request,
        {"status": [None, request.status], "refundable": [None, shown.refundable]},
        label=member.card_no,
    )
    if not shown.waits_for_store:
        return complete_erasure(actor, request)
    return request


@transaction.atomic
def withdraw_erasure(actor: Actor, request: ErasureRequest) -> ErasureRequest:
    """The member changed their mind before a store completed the request."""
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ErasureRequest.Status.PENDING:
        raise Conflict(
            _("This request is no longer waiting: it cannot be withdrawn."), "not_pending"
        )
    request.status = ErasureRequest.Status.WITHDRAWN
    request.save(update_fields=["status"])
    audit(
        actor,
        AuditEntry.Action.UPDATE,
        request,
        {"status": [ErasureRequest.Status.PENDING, request.status]},
        label=request.member.card_no,
    )
    return request


def _settle_stored_value(
    actor: Actor, member: Member, key: str, method: str | None, pin: str | None
) -> int:
    """Pay back the principal (and forfeit the bonus) through the card refund; returns the
    principal paid back. With nothing to pay back, only the bonus is forfeited, through the
    ledger's card refund (no PIN is needed to give nothing back)."""
    shown = settlement(actor, member)
    card = _live_card(actor, member)
    if shown.waits_for_store and card is not None:
        result = cards.refund_card(
            actor, card.card_no, identity_checked=True, pin=pin, payment_method=method, key=key
        )
        return result.principal_returned
    if shown.bonus and not shown.principal:
        ledger.refund_card(
            actor,
            member,
            key=key,
            context=ledger.Context(store=actor.store_bound, reason=ERASED_REASON),
        )
    return 0


def _forfeit_points(actor: Actor, member: Member, key: str) -> int:
    for hold in PointsHold.objects.filter(member=member, status=PointsHold.Status.PENDING):
        ledger.void_hold(actor, hold)
    points = max(ledger_selectors.member_balances(member)["points"]["available"], 0)
    limit = ledger.policy_for(actor.merchant).max_adjust_points
    left, step = points, 0
    while left > 0:  # an adjustment is capped by the merchant's policy
        chunk = min(left, limit)
        ledger.adjust_points(
            actor,
            member,
            -chunk,
            reason=ERASED_REASON,
            key=f"{key}:{step}",
            context=ledger.Context(store=actor.store_bound),
        )
        left, step = left - chunk, step + 1
    return points


def _blank_personal_text(member: Member) -> None:
    """What other apps keep about the member in words, or as ways to find them."""
    Card.objects.filter(member=member).exclude(physical_id="").update(physical_id="")
    Message.objects.filter(member=member).update(subject="", body="", params={}, error="")
    MemberEvent.objects.filter(member=member).update(body="")
    FollowUpTask.objects.filter(event__member=member).update(outcome="")
    ExternalMember.objects.filter(member=member).delete()
    MemberPin.objects.filter(member=member).delete()


@transaction.atomic
def complete_erasure(
    actor: Actor, request: ErasureRequest, *, method: str | None = None, pin: str | None = None
) -> ErasureRequest:
    """Settle the balances, erase the member's personal data, close the request (audited)."""
    request = ErasureRequest.objects.select_for_update().select_related("member").get(pk=request.pk)
    if request.status != ErasureRequest.Status.PENDING:
        raise Conflict(_("This request is no longer waiting."), "not_pending")
    member = request.member
    key = f"erasure-{request.pk}"
    old_mobile = member.mobile
    refunded = _settle_stored_value(actor, member, f"{key}:card", method, pin)
    points = _forfeit_points(actor, member, f"{key}:points")
    coupons = list(_live_coupons(member))
    for coupon in coupons:
        end_coupon(actor, coupon, reason=ERASED_REASON)
    _blank_personal_text(member)
    members.anonymise_member(actor, member)
    OneTimeCode.objects.filter(merchant=actor.merchant, mobile=old_mobile).delete()
    done = {"refunded": refunded, "points_forfeited": points, "coupons_ended": len(coupons)}
    if refunded:
        done["method"] = method or "cash"
    request.settlement = {**request.settlement, "done": done}
    request.status = ErasureRequest.Status.COMPLETED
    request.completed_at = timezone.now()
    request.completed_by = actor.staff
    request.save(update_fields=["settlement", "status", "completed_at", "completed_by"])
    audit(
        actor,
        AuditEntry.Action.UPDATE,
        request,
        {"status": [ErasureRequest.Status.PENDING, request.status], **_pairs(done)},
        label=member.card_no,
    )
    return request


def _pairs(values: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [None, value] for key, value in values.items()}


# --- the staff's view of the requests --------------------------------------------------------


def requests_for(actor: Actor) -> QuerySet[ErasureRequest]:
    """The requests of members the actor may see (a store manager: their store's members)."""
    return ErasureRequest.objects.filter(
        merchant=actor.merchant, member__in=members_for(actor).values("pk")
    ).select_related("member", "member__store", "completed_by__user")
