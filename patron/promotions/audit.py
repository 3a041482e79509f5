"""How the audit log names what promotions writes: tiers and coupon templates by name, coupons
by their grouped code, and a sentence for issuing and withdrawing a coupon."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from patron.promotions.codes import display_code
from patron.promotions.models import Coupon, CouponTemplate, Tier
from patron.tenancy import audit_display
from patron.tenancy.models import AuditEntry, Merchant


def tier_names(merchant: Merchant, codes: set[str]) -> dict[str, str]:
    return dict(Tier.objects.filter(merchant=merchant, code__in=codes).values_list("code", "name"))


def template_names(merchant: Merchant, codes: set[str]) -> dict[str, str]:
    templates = CouponTemplate.objects.filter(merchant=merchant, code__in=codes)
    return dict(templates.values_list("code", "name"))


def coupon_names(merchant: Merchant, ids: set[str]) -> dict[str, str]:
    coupons = Coupon.objects.filter(merchant=merchant, pk__in=[i for i in ids if i.isdigit()])
    return {
        str(pk): f"{name} {display_code(code)}"
        for pk, code, name in coupons.values_list("pk", "code", "template__name")
    }


def register() -> None:
    audit_display.add_value_names("tier", tier_names)
    audit_display.add_value_names("template", template_names)
    audit_display.add_object_names("coupon", coupon_names)
    audit_display.add_sentence(
        "coupon",
        AuditEntry.Action.CREATE,
        gettext_lazy("Issued the coupon %(template)s to %(member)s"),
    )
    audit_display.add_sentence(
        "coupon", AuditEntry.Action.UPDATE, gettext_lazy("Withdrew the coupon %(object)s")
    )
    audit_display.add_sentence(
        "member",
        AuditEntry.Action.UPDATE,
        gettext_lazy("Moved %(object)s to the tier %(tier)s"),
        when="tier",
    )
