"""Every write to members, in a transaction, audited."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum import luhn

from patron.core.errors import Conflict, DomainError, FieldError, ValidationFailed
from patron.events import types as events
from patron.events.services import emit
from patron.members import hooks
from patron.members.models import (
    Channel,
    ConsentRecord,
    CustomField,
    Member,
    MemberStatus,
    Tag,
)
from patron.members.pinyin import name_pinyin
from patron.members.validation import clean_custom, clean_member_fields
from patron.tenancy.actor import Actor
from patron.tenancy.cardprefix import MAX_SEQUENCE
from patron.tenancy.models import AuditEntry, Merchant, Store
from patron.tenancy.services import audit, diff

REFERRAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud at tills
CARD_PREFIX = "8"
CONSENT_TOPICS = {"consent_sms": "sms", "consent_wechat": "wechat", "consent_email": "email"}
AUDITED_FIELDS = (
    "mobile",
    "name",
    "gender",
    "birthday",
    "lunar_birthday",
    "id_number",
    "email",
    "region",
    "address",
    "occupation",
    "income_band",
    "consent_sms",
    "consent_wechat",
    "consent_email",
    "source_channel",
    "store_id",
    "status",
    "custom",
)
PERSONAL_FIELDS = {"mobile", "id_number"}
REFERRAL_CODE_ATTEMPTS = 3  # a random referral code may meet an existing one: draw again


def allocate_card_numbers(merchant: Merchant, count: int) -> list[str]:
    """Reserve `count` card numbers: the merchant's prefix ('8' unless set), an 8-digit
    sequence and a Luhn check digit (F-06)."""
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(card_seq=F("card_seq") + count)
        last, prefix = Merchant.objects.values_list("card_seq", "card_prefix").get(pk=merchant.pk)
        if last > MAX_SEQUENCE:  # past 8 digits, numbers could meet another merchant's
            raise DomainError(
                _("This merchant has used up its card numbers."), "card_numbers_exhausted", 409
            )
    numbers = []
    for seq in range(last - count + 1, last + 1):
        body = f"{prefix or CARD_PREFIX}{seq:08d}"
        numbers.append(body + luhn.calc_check_digit(body))
    return numbers


def new_referral_code() -> str:
    # 32 symbols: each random byte maps onto one without bias (256 % 32 == 0).
    return "".join(REFERRAL_ALPHABET[byte % 32] for byte in os.urandom(8))


def custom_field_definitions(merchant: Merchant) -> list[CustomField]:
    return list(CustomField.objects.filter(merchant=merchant))


def resolve_store(actor: Actor, raw: Any) -> tuple[Store | None, list[FieldError]]:
    """A store code or Store -> Store of this merchant; store-bound staff get their own."""
    bound = actor.store_bound
    if raw in (None, ""):
        return bound, []
    if isinstance(raw, Store):
        store = raw if raw.merchant_id == actor.merchant.pk and raw.is_active else None
    elif isinstance(raw, str) and len(raw) <= 32 and "\x00" not in raw:  # PostgreSQL: no NUL
        store = Store.objects.filter(merchant=actor.merchant, code=raw, is_active=True).first()
    else:
        store = None
    if store is None:
        return None, [FieldError("store", _("Unknown store."))]
    if bound is not None and store.pk != bound.pk:
        return None, [FieldError("store", _("You can only register members at your own store."))]
    return store, []


def resolve_referrer(merchant: Merchant, code: Any) -> tuple[Member | None, list[FieldError]]:
    if code in (None, ""):
        return None, []
    if isinstance(code, str) and len(code.strip()) <= 12 and "\x00" not in code:
        referrer = Member.objects.filter(merchant=merchant, referral_code=code.strip().upper())
        if (found := referrer.first()) is not None:
            return found, []
    return None, [FieldError("referrer_code", _("Unknown referral code."))]


def _mask_personal(changes: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Audit rows say that a personal field changed, not its value."""
    return {
        key: (["***", "***"] if key in PERSONAL_FIELDS else value) for key, value in changes.items()
    }


def _member_snapshot(member: Member) -> dict[str, Any]:
    data = {name: getattr(member, name) for name in AUDITED_FIELDS}
    data["tags"] = sorted(member.tags.values_list("name", flat=True)) if member.pk else []
    return data


def _set_tags(member: Member, names: list[str]) -> None:
    existing = {t.name: t for t in Tag.objects.filter(merchant=member.merchant, name__in=names)}
    missing = [Tag(merchant=member.merchant, name=n) for n in names if n not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(merchant=member.merchant, name__in=names)}
    member.tags.set(existing.values())


def _record_consents(actor: Actor, member: Member, before: Mapping[str, Any], method: str) -> None:
    records = [
        ConsentRecord(
            member=member,
            topic=topic,
            granted=getattr(member, field),
            method=method,
            recorded_by=actor.user,
        )
        for field, topic in CONSENT_TOPICS.items()
        if before.get(field) != getattr(member, field)
    ]
    ConsentRecord.objects.bulk_create(records)


def _mobile_taken(merchant: Merchant, mobile: str) -> bool:
    return Member.objects.filter(merchant=merchant, mobile=mobile).exists()


def _duplicate_mobile(mobile: str) -> Conflict:
    return Conflict(
        _("A member with mobile %s already exists.") % mobile,
        "duplicate_mobile",
        [FieldError("mobile", _("A member with this mobile already exists."))],
    )


@transaction.atomic
def register_member(actor: Actor, data: Mapping[str, Any], *, channel: str | None = None) -> Member:
    """Create a member from raw input (API body, form data or CLI), or raise with every error."""
    fields, errors = clean_member_fields(data, partial=False)
    custom, custom_errors = clean_custom(
        custom_field_definitions(actor.merchant), data.get("custom"), partial=False
    )
    store, store_errors = resolve_store(actor, data.get("store"))
    referrer, referrer_errors = resolve_referrer(actor.merchant, data.get("referrer_code"))
    errors += custom_errors + store_errors + referrer_errors
    errors += hooks.registration_errors(actor, data, {**fields, "store": store})
    if errors:
        raise ValidationFailed(errors)
    tags = fields.pop("tags", [])
    fields.setdefault("source_channel", channel or default_channel(actor))
    if Member.objects.filter(merchant=actor.merchant, mobile=fields["mobile"]).exists():
        raise _duplicate_mobile(fields["mobile"])
    member = Member(
        merchant=actor.merchant,
        store=store,
        referred_by=referrer,
        custom=custom,
        recruited_by=actor.user,
        joined_at=timezone.now(),
        card_no=allocate_card_numbers(actor.merchant, 1)[0],
        referral_code=new_referral_code(),
        **fields,
    )
    for attempt in range(1, REFERRAL_CODE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                member.save()
            break
        except IntegrityError:
            # Either the mobile was registered meanwhile, or the random referral code met an
            # existing one: only the latter is worth another try (with another code).
            if attempt == REFERRAL_CODE_ATTEMPTS or _mobile_taken(actor.merchant, member.mobile):
                raise _duplicate_mobile(fields["mobile"]) from None
            member.pk, member.referral_code = None, new_referral_code()
    if tags:
        _set_tags(member, tags)
    _record_consents(actor, member, {}, member.source_channel)
    audit(
        actor,
        AuditEntry.Action.CREATE,
        member,
        _mask_personal(diff({}, _member_snapshot(member))),
        label=member.card_no,
    )
    # Before the after-registration steps, so that a tier given by the card product
    # (tier.changed) follows the member's joining in the member's order of events.
    emit(
        member.merchant_id,
        events.MEMBER_JOINED,
        {
            "member_id": member.pk,
            "card_no": member.card_no,
            "store": store.code if store else None,
            "channel": member.source_channel,
            "referred_by": referrer.pk if referrer else None,
            "at": member.joined_at,
        },
        member_id=member.pk,
    )
    hooks.after_registration(actor, member, data)
    return member


@transaction.atomic
def change_card_number(actor: Actor, member: Member, card_no: str) -> Member:
    """Give the member another card number (a replaced card's new one), audited.

    The number must be free at this merchant; the ledger knows members by id, so balances,
    points and history stay where they are.
    """
    if card_no == member.card_no:
        return member
    if (
        Member.objects.filter(merchant=actor.merchant, card_no=card_no)
        .exclude(pk=member.pk)
        .exists()
    ):
        raise Conflict(_("Card number %s is already in use.") % card_no, "card_no_taken")
    old = member.card_no
    Member.objects.filter(pk=member.pk).update(card_no=card_no, updated_at=timezone.now())
    member.card_no = card_no
    audit(actor, AuditEntry.Action.UPDATE, member, {"card_no": [old, card_no]}, label=card_no)
    return member


def default_channel(actor: Actor) -> str:
    if actor.channel == "api":
        return Channel.API
    if actor.channel == Channel.H5:  # the member on their own pages
        return Channel.H5
    if actor.staff is not None and actor.staff.is_store_bound:
        return Channel.TILL
    return Channel.CONSOLE


@transaction.atomic
def update_member(actor: Actor, member: Member, data: Mapping[str, Any]) -> Member:
    """Change the fields present in `data`; absent fields are left alone."""
    fields, errors = clean_member_fields(data, partial=True)
    fields.pop("source_channel", None)  # where a member came from does not change
    custom = member.custom
    if "custom" in data:
        custom, custom_errors = clean_custom(
            custom_field_definitions(actor.merchant),
            data["custom"],
            partial=True,
            current=member.custom,
        )
        errors += custom_errors
    store = member.store
    if "store" in data:
        store, store_errors = resolve_store(actor, data["store"])
        errors += store_errors
    if errors:
        raise ValidationFailed(errors)
    before = _member_snapshot(member)
    tags = fields.pop("tags", None)
    if (
        "mobile" in fields
        and fields["mobile"] != member.mobile
        and Member.objects.filter(merchant=actor.merchant, mobile=fields["mobile"])
        .exclude(pk=member.pk)
        .exists()
    ):
        raise _duplicate_mobile(fields["mobile"])
    for name, value in fields.items():
        setattr(member, name, value)
    member.custom, member.store = custom, store
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        raise _duplicate_mobile(member.mobile) from None
    if tags is not None:
        _set_tags(member, tags)
    changes = diff(before, _member_snapshot(member))
    if changes:
        _record_consents(actor, member, before, default_channel(actor))
        audit(
            actor, AuditEntry.Action.UPDATE, member, _mask_personal(changes), label=member.card_no
        )
        # The apps above learn of a changed profile (points for completing it, F-16).
        hooks.member_activity(actor, member, "profile", {"changes": changes})
    return member


# What erasure empties (F-45): every field that says who the member is or how to reach them.
ERASED_FIELDS = {
    "name": "",
    "gender": "U",
    "birthday": None,
    "lunar_birthday": "",
    "id_number": "",
    "email": "",
    "region": "",
    "address": "",
    "occupation": "",
    "income_band": "",
    "custom": {},
    "agreement_unit": None,
    "consent_sms": False,
    "consent_wechat": False,
    "consent_email": False,
}
SHOWN_ON_ERASURE = {"status", *CONSENT_TOPICS}  # not personal: the audit keeps their values
ERASED_MOBILE_PREFIX = "x"  # no mobile starts with a letter: the placeholder never logs in


def erased_mobile(member: Member) -> str:
    """A placeholder unique per member (the merchant's mobiles are unique) in 11 characters."""
    return f"{ERASED_MOBILE_PREFIX}{member.pk:010d}"[-11:]


@transaction.atomic
def anonymise_member(actor: Actor, member: Member) -> Member:
    """Erase what says who the member is and close them; the row stays, so the ledger, sales
    and cards that point at its id still add up. The audit says which fields were erased,
    never their values."""
    member = Member.objects.select_for_update().get(pk=member.pk, merchant=actor.merchant)
    before = _member_snapshot(member)
    for name, value in ERASED_FIELDS.items():
        setattr(member, name, value)
    member.mobile = erased_mobile(member)
    member.status = MemberStatus.CLOSED
    member.save()
    member.tags.clear()
    _record_consents(actor, member, before, default_channel(actor))
    changes = diff(before, _member_snapshot(member))
    audit(
        actor,
        AuditEntry.Action.UPDATE,
        member,
        {
            key: (value if key in SHOWN_ON_ERASURE else ["***", ""])
            for key, value in changes.items()
        },
        label=member.card_no,
    )
    return member


def record_personal_data_view(actor: Actor, member: Member) -> None:
    """Viewing unmasked personal data is audited (F-45)."""
    if actor.sees_personal_data and actor.staff is not None:
        audit(actor, AuditEntry.Action.VIEW, member, label=member.card_no)


@transaction.atomic
def define_custom_field(
    actor: Actor,
    key: str,
    label: str,
    kind: str,
    choices: list[str] | None = None,
    required: bool = False,
) -> CustomField:
    errors = []
    if kind not in CustomField.Kind.values:
        errors.append(FieldError("kind", _("Unknown kind.")))
    if kind == CustomField.Kind.CHOICE and not choices:
        errors.append(FieldError("choices", _("A choice field needs choices.")))
    if not key or not key.replace("_", "").isalnum() or len(key) > 40:
        errors.append(FieldError("key", _("Use letters, digits and _ (at most 40).")))
    if not label or len(label) > 60:
        errors.append(FieldError("label", _("A label of 1 to 60 characters is required.")))
    if errors:
        raise ValidationFailed(errors)
    field, created = CustomField.objects.update_or_create(
        merchant=actor.merchant,
        key=key,
        defaults={
            "label": label,
            "kind": kind,
            "choices": list(choices or []),
            "required": required,
        },
    )
    audit(
        actor,
        AuditEntry.Action.CREATE if created else AuditEntry.Action.UPDATE,
        field,
        {"label": [None, label], "kind": [None, kind]},
    )
    return field


MEMBER_DEFAULTS = {
    f.attname: f.get_default()
    for f in Member._meta.concrete_fields
    if f.attname not in ("id", "merchant_id", "card_no", "referral_code")
}


def unique_referral_codes(merchant: Merchant, count: int) -> list[str]:
    """`count` fresh referral codes that no member of the merchant has yet.

    Codes are drawn first and then looked up on the unique index, a bounded number per query:
    loading every code of a merchant with a million members for each 10,000-row chunk of an
    import made importing quadratic. A draw meets a taken code about once in 10^12 per member.
    """
    codes: list[str] = []
    chosen: set[str] = set()
    while len(codes) < count:
        drawn = []
        while len(drawn) < count - len(codes):
            code = new_referral_code()
            if code not in chosen:
                chosen.add(code)
                drawn.append(code)
        taken = referral_codes_taken(merchant, drawn)
        codes += [code for code in drawn if code not in taken]
    return codes


def referral_codes_taken(merchant: Merchant, codes: list[str]) -> set[str]:
    from patron.core.bulk import values_among

    return values_among(Member.objects.filter(merchant=merchant), "referral_code", codes)


def bulk_register(
    actor: Actor, rows: list[dict[str, Any]], *, channel: str, batch_size: int = 5000
) -> QuerySet[Member]:
    """Insert already-cleaned, already-deduplicated members in bulk (import, demo).

    Each row holds cleaned member fields plus optional `tags` (names), `store` (Store),
    `custom` (cleaned dict), `joined_at` and `card_no` (a number brought from another system,
    checked by the caller; otherwise one is allocated). Members, tags, consent records and one
    audit entry per member are written with multi-row inserts (no model objects), so 100,000
    rows stay well under a minute. The caller holds the transaction. Returns the new members
    in order of card number.
    """
    if not rows:
        return Member.objects.none()
    member_ids, cards = bulk_insert_members(actor, rows, channel=channel, batch_size=batch_size)
    # Bounds, not `pk__in`: PostgreSQL takes at most 65,535 parameters in one statement, and
    # the new members are the card numbers just reserved (a range no one else holds).
    return Member.objects.filter(
        merchant=actor.merchant,
        card_no__gte=min(cards),
        card_no__lte=max(cards),
        pk__gte=min(member_ids),
        pk__lte=max(member_ids),
    ).order_by("card_no")


def reserve_given_card_numbers(merchant: Merchant, numbers: list[str]) -> None:
    """Move the merchant's card sequence past given numbers written in its own format (prefix,
    8-digit sequence, check digit), so that no number allocated later meets one of them."""
    prefix = Merchant.objects.values_list("card_prefix", flat=True).get(pk=merchant.pk)
    prefix = prefix or CARD_PREFIX
    own = [n for n in numbers if len(n) == len(prefix) + 9 and n.startswith(prefix)]
    if own:
        highest = max(int(n[len(prefix) : -1]) for n in own)
        Merchant.objects.filter(pk=merchant.pk, card_seq__lt=highest).update(card_seq=highest)


def member_ids_by_card(merchant: Merchant, numbers: list[str], chunk: int = 5000) -> dict[str, int]:
    """card number -> member id for the given numbers, a bounded number of them per query."""
    found: dict[str, int] = {}
    for start in range(0, len(numbers), chunk):
        found.update(
            Member.objects.filter(
                merchant=merchant, card_no__in=numbers[start : start + chunk]
            ).values_list("card_no", "pk")
        )
    return found


# pypinyin takes about 80 µs a name; imports and the demo repeat common names many times.
remembered_name_pinyin = functools.lru_cache(maxsize=200_000)(name_pinyin)


def bulk_insert_members(
    actor: Actor, rows: list[dict[str, Any]], *, channel: str, batch_size: int = 5000
) -> tuple[list[int], list[str]]:
    """`bulk_register`'s inserts; returns the new members' ids and card numbers in row order."""
    from patron.core.bulk import insert_many
    from patron.tenancy.models import AuditEntry

    now = timezone.now()
    merchant = actor.merchant
    given = [row["card_no"] for row in rows if row.get("card_no")]
    if given:
        reserve_given_card_numbers(merchant, given)
    allocated = iter(allocate_card_numbers(merchant, len(rows) - len(given)))
    cards = [row.get("card_no") or next(allocated) for row in rows]
    codes = unique_referral_codes(merchant, len(rows))
    columns = ["merchant_id", "card_no", "referral_code", *MEMBER_DEFAULTS]
    base = {
        **MEMBER_DEFAULTS,
        "source_channel": channel,
        "joined_at": now,
        "created_at": now,
        "updated_at": now,
        "recruited_by_id": actor.user.pk if actor.user else None,
    }

    name_pinyin = remembered_name_pinyin  # a big file repeats names: each is spelled once

    def member_values(row: dict[str, Any], card_no: str, code: str) -> list[Any]:
        values = {**base, **row}
        values["name_pinyin"] = name_pinyin(values["name"])  # no save() runs here
        store = values.pop("store", None)
        values["store_id"] = store.pk if store is not None else None
        return [merchant.pk, card_no, code, *(values[c] for c in MEMBER_DEFAULTS)]

    insert_many(
        Member,
        columns,
        (
            member_values({k: v for k, v in row.items() if k != "tags"}, card, code)
            for row, card, code in zip(rows, cards, codes, strict=True)
        ),
        batch_size,
    )
    ids: dict[str, int] = {}
    if len(given) < len(rows):
        own = [card for card, row in zip(cards, rows, strict=True) if not row.get("card_no")]
        ids.update(
            Member.objects.filter(
                merchant=merchant, card_no__gte=own[0], card_no__lte=own[-1]
            ).values_list("card_no", "pk")
        )
    ids.update(member_ids_by_card(merchant, given))
    member_ids = [ids[card] for card in cards]
    _bulk_tags(merchant, member_ids, [row.get("tags") or [] for row in rows], batch_size)
    user_id = actor.user.pk if actor.user else None
    insert_many(
        ConsentRecord,
        ["member_id", "topic", "granted", "method", "recorded_at", "recorded_by_id"],
        (
            (member_id, topic, True, channel, now, user_id)
            for member_id, row in zip(member_ids, rows, strict=True)
            for field, topic in CONSENT_TOPICS.items()
            if row.get(field)
        ),
        batch_size,
    )
    changes = {"source_channel": [None, channel]}
    insert_many(
        AuditEntry,
        [
            "merchant_id",
            "at",
            "user_id",
            "api_key_id",
            "store_id",
            "ip",
            "channel",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
        ],
        (
            (
                merchant.pk,
                now,
                user_id,
                actor.api_key.pk if actor.api_key else None,
                actor.store.pk if actor.store else None,
                actor.ip,
                actor.channel,
                AuditEntry.Action.CREATE,
                "member",
                str(member_id),
                card,
                changes,
            )
            for member_id, card in zip(member_ids, cards, strict=True)
        ),
        batch_size,
    )
    return member_ids, cards


def _bulk_tags(
    merchant: Merchant, member_ids: list[int], tag_names: list[list[str]], batch_size: int
) -> None:
    from patron.core.bulk import insert_many

    wanted = sorted({name for names in tag_names for name in names})
    if not wanted:
        return
    Tag.objects.bulk_create([Tag(merchant=merchant, name=n) for n in wanted], ignore_conflicts=True)
    tags = dict(Tag.objects.filter(merchant=merchant, name__in=wanted).values_list("name", "pk"))
    insert_many(
        Member.tags.through,
        ["member_id", "tag_id"],
        (
            (member_id, tags[name])
            for member_id, names in zip(member_ids, tag_names, strict=True)
            for name in names
        ),
        batch_size,
    )
