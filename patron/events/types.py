"""The event types of API.md §9, with their names for the console."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MEMBER_JOINED = "member.joined"
SALE_COMPLETED = "sale.completed"
SALE_REFUNDED = "sale.refunded"
TOPUP_COMPLETED = "topup.completed"
TIER_CHANGED = "tier.changed"
CARD_LOST = "card.lost"
CARD_REPLACED = "card.replaced"
POINTS_EXPIRING = "points.expiring"
LIFECYCLE_CHANGED = "lifecycle.changed"
COUPON_ISSUED = "coupon.issued"
COUPON_REDEEMED = "coupon.redeemed"
MESSAGE_SENT = "message.sent"

LABELS = {
    MEMBER_JOINED: pgettext_lazy("event", "Member joined"),
    SALE_COMPLETED: pgettext_lazy("event", "Sale completed"),
    SALE_REFUNDED: pgettext_lazy("event", "Sale refunded"),
    TOPUP_COMPLETED: pgettext_lazy("event", "Top-up completed"),
    TIER_CHANGED: pgettext_lazy("event", "Tier changed"),
    CARD_LOST: pgettext_lazy("event", "Card reported lost"),
    CARD_REPLACED: pgettext_lazy("event", "Card replaced"),
    POINTS_EXPIRING: pgettext_lazy("event", "Points expiring"),
    LIFECYCLE_CHANGED: pgettext_lazy("event", "Lifecycle stage changed"),
    COUPON_ISSUED: pgettext_lazy("event", "Coupon issued"),
    COUPON_REDEEMED: pgettext_lazy("event", "Coupon redeemed"),
    MESSAGE_SENT: pgettext_lazy("event", "Message sent"),
}
EVENT_TYPES = tuple(LABELS)


def label(event_type: str) -> str:
    return str(LABELS.get(event_type, _("Unknown event")))
