"""Message texts with variables (F-37): checked when saved, rendered per member.

A text names variables in braces, `{name}`; `{{` and `}}` stand for literal braces. The known
variables (VARIABLES, also listed in docs/channels.md):

- `name`: the member's name (their card number when they gave none);
- `merchant`, `store`: the merchant's name, the member's home store (or the context's store);
- `tier`: the member's tier name;
- `points`: points (the context's figure, else the member's available points);
- `balance`: stored value as ¥12.34 (the context's fen, else the member's balance);
- `expires_at`: a date in the merchant's zone (the context's datetime/date/ISO text);
- `coupon`: the coupon's name or code the campaign issued (from the context);
- `amount`: a money figure of the context (fen) as ¥12.34, e.g. the sale being thanked for;
- `card_no`: the member's card number.

`render` answers in the member's language: Member has no language field, so a member whose
custom fields hold `language: "en"` gets English, everybody else Chinese (zh-hans, the
default). SMS bodies end with the opt-out line (回T退订 / Reply T to opt out); email bodies end
with an unsubscribe link (a signed token, see `optout.unsubscribe_url`).
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from patron.campaigns.builtin_templates import BUILTIN_TEMPLATES
from patron.campaigns.models import Channel, MessageTemplate
from patron.core.errors import FieldError, ValidationFailed
from patron.core.money import yuan
from patron.tenancy.models import Merchant
from patron.tenancy.permissions import merchant_zone

VARIABLES: tuple[str, ...] = (
    "name",
    "merchant",
    "store",
    "tier",
    "points",
    "balance",
    "expires_at",
    "coupon",
    "amount",
    "card_no",
)
MONEY_VARIABLES = frozenset({"balance", "amount"})
SMS_OPT_OUT = {"zh-hans": "回T退订", "en": "Reply T to opt out"}
EMAIL_OPT_OUT = {"zh-hans": "退订：", "en": "Unsubscribe: "}
LANGUAGES = ("zh-hans", "en")
_FORMATTER = string.Formatter()


def variables_in(text: str) -> list[str]:
    """The variable names `text` uses (raises ValueError on bad braces)."""
    return [field for _lit, field, _spec, _conv in _FORMATTER.parse(text) if field is not None]


def check(text: str) -> list[str]:
    """Translated errors of `text`: bad braces, unknown or malformed variables; [] when fine."""
    try:
        names = variables_in(text)
    except ValueError:
        return [_("Unbalanced braces: write a variable as {name}, a brace itself as {{ or }}.")]
    errors = []
    for name in dict.fromkeys(names):
        if name not in VARIABLES:
            errors.append(
                _("Unknown variable {%(name)s}. Known variables: %(known)s.")
                % {"name": name, "known": ", ".join(f"{{{v}}}" for v in VARIABLES)}
            )
    return errors


def check_template(fields: Mapping[str, str]) -> list[FieldError]:
    """Errors of a template's texts by field name (subject_zh, body_zh, ...)."""
    return [
        FieldError(field, message)
        for field in ("subject_zh", "subject_en", "body_zh", "body_en")
        for message in check(fields.get(field) or "")
    ]


def builtin(merchant: Merchant, code: str) -> MessageTemplate | None:
    """The built-in template `code` as an unsaved MessageTemplate of the merchant."""
    data = BUILTIN_TEMPLATES.get(code)
    if data is None:
        return None
    return MessageTemplate(merchant=merchant, code=code, **data)


def resolve(merchant: Merchant, ref: Any) -> MessageTemplate:
    """A template code (the merchant's active one, else a built-in), an inline text or a
    {zh, en} object (unsaved template); ValidationFailed when unknown or its text is wrong."""
    if isinstance(ref, dict):
        template = MessageTemplate(
            merchant=merchant,
            code="",
            name="",
            subject_zh=str(ref.get("subject_zh") or ref.get("subject") or ""),
            subject_en=str(ref.get("subject_en") or ""),
            body_zh=str(ref.get("zh") or ""),
            body_en=str(ref.get("en") or ""),
        )
        if not template.body_zh:
            raise ValidationFailed([FieldError("template.zh", _("The Chinese text is missing."))])
    elif isinstance(ref, str) and ref.strip():
        found = MessageTemplate.objects.filter(merchant=merchant, code=ref, is_active=True).first()
        found = found or builtin(merchant, ref)
        if found is not None:
            return found
        if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", ref):
            raise ValidationFailed(
                [FieldError("template", _("No message template with code %s.") % ref)]
            )
        template = MessageTemplate(merchant=merchant, code="", name="", body_zh=ref)
    else:
        raise ValidationFailed([FieldError("template", _("Name a template or give a text."))])
    errors = check_template(template.__dict__)
    if errors:
        raise ValidationFailed([FieldError(f"template.{e.field}", e.message) for e in errors])
    return template


def member_language(member: Any) -> str:
    """The member's language: `custom.language` when it is English, else Chinese."""
    custom = getattr(member, "custom", None) or {}
    wanted = str(custom.get("language") or "").lower()
    return "en" if wanted.startswith("en") else "zh-hans"


def _local_date(value: Any, zone: dt.tzinfo, language: str) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return value
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, zone)
        value = value.astimezone(zone).date()
    if isinstance(value, dt.date):
        if language == "en":
            return value.strftime("%d %b %Y").lstrip("0")
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value)


class _Values(dict):
    """Variable values computed on first use, so a text without {points} reads no ledger."""

    def __init__(self, member: Any, context: Mapping[str, Any], language: str) -> None:
        super().__init__()
        self.member, self.context, self.language = member, context, language
        self.zone = merchant_zone(member.merchant.timezone)

    def __missing__(self, key: str) -> str:
        value = self._value(key)
        self[key] = "" if value is None else str(value)
        return self[key]

    def _value(self, key: str) -> Any:
        member, context = self.member, self.context
        if key in context and context[key] is not None:
            raw = context[key]
            if key in MONEY_VARIABLES and isinstance(raw, int):
                return yuan(raw)
            if key == "expires_at":
                return _local_date(raw, self.zone, self.language)
            return raw
        if key == "name":
            return member.name or member.card_no
        if key == "merchant":
            return member.merchant.name
        if key == "store":
            return member.store.name if member.store_id else ""
        if key == "tier":
            return member.tier.name if member.tier_id else ""
        if key == "card_no":
            return member.card_no
        if key in ("points", "balance") and member.pk:
            from patron.ledger.selectors import member_balances

            balances = member_balances(member)
            if key == "points":
                return balances["points"]["available"]
            return yuan(balances["stored_value"]["total"])
        return ""


def fill(text: str, values: Mapping[str, str]) -> str:
    """`text` with its variables replaced (unknown ones left empty: check() refused them)."""
    out = []
    for literal, field, _spec, _conv in _FORMATTER.parse(text):
        out.append(literal)
        if field is not None:
            out.append(values[field] if field in VARIABLES else "")
    return "".join(out)


def render(
    template: MessageTemplate,
    member: Any,
    context: Mapping[str, Any] | None = None,
    *,
    channel: str,
) -> tuple[str, str, str]:
    """(language, subject, body) of `template` for `member` on `channel`."""
    language = member_language(member)
    body_text = template.body_zh
    subject_text = template.subject_zh
    if language == "en" and template.body_en:
        body_text, subject_text = template.body_en, template.subject_en or template.subject_zh
    elif language == "en":
        language = "zh-hans"  # no English text: the Chinese one, labelled as such
    values = _Values(member, context or {}, language)
    subject, body = fill(subject_text, values), fill(body_text, values)
    if channel == Channel.SMS:
        body = with_sms_opt_out(body, language)
    elif channel == Channel.EMAIL and member.pk:
        from patron.campaigns.optout import unsubscribe_url

        body = f"{body}\n\n{EMAIL_OPT_OUT[language]}{unsubscribe_url(member, Channel.EMAIL)}"
    return language, subject, body


def with_sms_opt_out(body: str, language: str) -> str:
    """The SMS body ending with the opt-out line, added once."""
    line = SMS_OPT_OUT.get(language, SMS_OPT_OUT["zh-hans"])
    if any(marker in body for marker in SMS_OPT_OUT.values()):
        return body
    return f"{body} {line}" if language == "en" else f"{body}{line}"


def message_fields(
    template: MessageTemplate,
    member: Any,
    context: Mapping[str, Any] | None = None,
    *,
    channel: str,
) -> dict[str, Any]:
    """The rendered fields of a Message (`Message(**fields, ...)`): language, subject, body,
    and for SMS and WeChat the provider's template code with the variables' values, which
    Aliyun, Tencent and WeChat need instead of free text when the template has one."""
    language, subject, body = render(template, member, context, channel=channel)
    fields: dict[str, Any] = {"language": language, "subject": subject, "body": body}
    if channel in (Channel.SMS, Channel.WECHAT) and template.provider_code:
        values = _Values(member, context or {}, language)
        text = template.body_en if language == "en" and template.body_en else template.body_zh
        fields["provider_template"] = template.provider_code
        fields["params"] = {name: values[name] for name in dict.fromkeys(variables_in(text))}
    return fields
