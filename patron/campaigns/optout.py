"""Consent and opt-out per channel (F-38).

- `suppression_reason(member, channel)`: "consent" when the member never granted the channel,
  "opted_out" when they granted it and later withdrew (a ConsentRecord withdrawal after a
  grant), None when they may be sent on it. The inbox needs no consent. WeChat also needs the
  member's openid (custom field `wechat_openid`, set by the account integration): without it
  the member is not reachable there and counts as "consent" (they never followed the account).
- `opt_out(member, channel, method)`: the withdrawal, through members' `update_member`, so it
  is a ConsentRecord and an audit entry like any consent change; it takes effect at once (the
  next `suppression_reason` answers "opted_out"; queued messages on that channel fail).
- Signed tokens: `unsubscribe_url(member, channel)` for emails, `hook_token(merchant)` for the
  providers' callback URLs (django.core.signing, salted per use, never expiring: an old
  email's link must still work).
"""

from __future__ import annotations

from django.core import signing
from django.db import transaction
from django.urls import reverse

from patron.campaigns.models import Channel, Message
from patron.members.models import ConsentRecord, Member
from patron.members.services import update_member
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

CONSENT_FIELDS = {
    Channel.SMS: "consent_sms",
    Channel.EMAIL: "consent_email",
    Channel.WECHAT: "consent_wechat",
}
UNSUBSCRIBE_SALT = "patron.campaigns.unsubscribe"
HOOK_SALT = "patron.campaigns.hook"
# What a member may text back to stop SMS (case and spaces ignored).
SMS_STOP_WORDS = frozenset({"T", "TD", "退订", "N", "STOP", "UNSUBSCRIBE"})


def wechat_openid(member: Member) -> str:
    return str((member.custom or {}).get("wechat_openid") or "")


def suppression_reason(member: Member, channel: str) -> str | None:
    """Why `member` may not be sent on `channel` ("consent", "opted_out"), or None."""
    field = CONSENT_FIELDS.get(channel)
    if field is None:
        return None  # the inbox
    if channel == Channel.EMAIL and not member.email:
        return "consent"
    if channel == Channel.SMS and not member.mobile:
        return "consent"
    if channel == Channel.WECHAT and not wechat_openid(member):
        return "consent"
    if getattr(member, field):
        return None
    return "opted_out" if withdrew(member, channel) else "consent"


def withdrew(member: Member, channel: str) -> bool:
    """Whether the member's last word on `channel` withdrew an earlier grant."""
    history = list(
        ConsentRecord.objects.filter(member=member, topic=channel)
        .order_by("-recorded_at", "-id")
        .values_list("granted", flat=True)
    )
    return bool(history) and not history[0] and any(history[1:])


def suppressed_ids(member_ids: list[int], channel: str) -> dict[int, str]:
    """`suppression_reason` for many members at once: {member_id: reason} of the suppressed."""
    members = Member.objects.filter(pk__in=member_ids).only(
        "id", "mobile", "email", "custom", *CONSENT_FIELDS.values()
    )
    return {m.pk: r for m in members if (r := suppression_reason(m, channel)) is not None}


@transaction.atomic
def opt_out(member: Member, channel: str, actor: Actor | None = None) -> Member:
    """Withdraw the member's consent for `channel` at once (idempotent) and fail the messages
    still queued or held for them there. Without an actor (an SMS reply, an email link) the
    system acts: members.Channel has no "sms" method, so the record says console, unsigned."""
    field = CONSENT_FIELDS[channel]
    member = Member.objects.select_for_update().get(pk=member.pk)
    if getattr(member, field):
        update_member(actor or Actor.system(member.merchant), member, {field: False})
    Message.objects.filter(
        member=member, channel=channel, status__in=(Message.Status.QUEUED, Message.Status.HELD)
    ).update(status=Message.Status.FAILED, error="opted_out")
    return member


def unsubscribe_token(member: Member, channel: str) -> str:
    return signing.dumps({"m": member.pk, "c": channel}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(member: Member, channel: str) -> str:
    from django.conf import settings

    path = reverse("campaign_hooks:unsubscribe", args=[unsubscribe_token(member, channel)])
    base = getattr(settings, "PATRON_PUBLIC_URL", "") or ""
    return f"{base.rstrip('/')}{path}"


def read_unsubscribe_token(token: str) -> tuple[Member, str] | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    member = Member.objects.filter(pk=data.get("m")).select_related("merchant").first()
    if member is None or data.get("c") not in CONSENT_FIELDS:
        return None
    return member, data["c"]


def hook_token(merchant: Merchant) -> str:
    """The secret part of the merchant's provider callback URLs."""
    return signing.dumps(merchant.pk, salt=HOOK_SALT)


def merchant_of_hook(token: str) -> Merchant | None:
    try:
        merchant_id = signing.loads(token, salt=HOOK_SALT)
    except signing.BadSignature:
        return None
    return Merchant.objects.filter(pk=merchant_id).first()


def is_stop_word(text: str) -> bool:
    return text.strip().upper().replace(" ", "") in SMS_STOP_WORDS


def opt_out_by_reply(merchant: Merchant, mobile: str, text: str) -> Member | None:
    """An SMS reply from `mobile`: a stop word withdraws SMS consent at once."""
    if not is_stop_word(text):
        return None
    mobile = mobile.strip().removeprefix("+86").removeprefix("0086")
    member = Member.objects.filter(merchant=merchant, mobile=mobile).first()
    if member is None:
        return None
    return opt_out(member, Channel.SMS)
