"""Who may join (recruitment rules, F-02) and joining in one step at the till.

The rules are the program's `recruitment` section (`RecruitmentPolicy`). `check_registration`
runs before `members.services.register_member` writes anything; `attach_after_registration`
runs in its transaction once the member exists. docs/enrolment.md says what each rule means.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.cards.models import RecruitmentPolicy
from patron.cards.program import recruitment_policy
from patron.core.errors import Conflict, DomainError, FieldError, ValidationFailed
from patron.core.money import yuan
from patron.members import hooks
from patron.members.models import AgreementUnit, Member
from patron.members.services import register_member
from patron.sales import sql as sales_sql
from patron.sales.models import MemberStats, Refund, Sale
from patron.sales.services import note_past_sales_changed
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant
from patron.tenancy.services import audit

MAX_QUALIFYING_SALES = 50  # as the API body allows
RECRUITMENT_NOT_MET = "recruitment_not_met"


# --- the rules -------------------------------------------------------------------------------


def policy_for(merchant: Merchant) -> RecruitmentPolicy:
    return recruitment_policy(merchant)


def asks_purchase(policy: RecruitmentPolicy) -> bool:
    return policy.min_purchase is not None or policy.min_spend_total is not None


def local_today(merchant: Merchant) -> dt.date:
    return timezone.now().astimezone(zoneinfo.ZoneInfo(merchant.timezone)).date()


def age_on(birthday: dt.date, day: dt.date) -> int:
    """Whole years from `birthday` to `day` (a 29 February birthday comes on 1 March)."""
    return day.year - birthday.year - ((day.month, day.day) < (birthday.month, birthday.day))


def purchase_met(policy: RecruitmentPolicy, nets: list[int]) -> bool:
    """Either rule given is enough: one sale of at least `min_purchase`, or sales adding up to
    at least `min_spend_total`."""
    if not asks_purchase(policy):
        return True
    if policy.min_purchase is not None and any(net >= policy.min_purchase for net in nets):
        return True
    return policy.min_spend_total is not None and sum(nets) >= policy.min_spend_total


def rule_in_words(policy: RecruitmentPolicy) -> str:
    parts = []
    if policy.min_purchase is not None:
        parts.append(
            _("one purchase of at least %(amount)s") % {"amount": yuan(policy.min_purchase)}
        )
    if policy.min_spend_total is not None:
        parts.append(
            _("purchases adding up to at least %(amount)s")
            % {"amount": yuan(policy.min_spend_total)}
        )
    return _(" or ").join(parts)


# --- qualifying sales ------------------------------------------------------------------------


@dataclass(frozen=True)
class Qualifying:
    sale: Sale
    net: int  # the sale's total less what was refunded of it


def _sale_ids(raw: Any) -> tuple[list[int], list[FieldError]]:
    if raw in (None, "", []):
        return [], []
    if isinstance(raw, str):  # typed in the console: "1024, 1031"
        raw = [part for part in re.split(r"[\s,，;；#]+", raw) if part]
    elif isinstance(raw, int):
        raw = [raw]
    ids: list[int] = []
    for item in raw if isinstance(raw, (list, tuple)) else [raw]:
        text = str(item).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 18:
            return [], [FieldError("qualifying_sales", _("Give sale numbers (digits only)."))]
        ids.append(int(text))
    ids = list(dict.fromkeys(ids))
    if len(ids) > MAX_QUALIFYING_SALES:
        message = _("At most %(count)d sales.") % {"count": MAX_QUALIFYING_SALES}
        return [], [FieldError("qualifying_sales", message)]
    return ids, []


def refunded_amounts(sale_ids: Iterable[int]) -> dict[int, int]:
    rows = Refund.objects.filter(sale_id__in=list(sale_ids)).values("sale_id")
    return {row["sale_id"]: row["total"] for row in rows.annotate(total=Sum("amount"))}


def qualifying_sales(
    merchant: Merchant, ids: list[int], *, lock: bool = False
) -> tuple[list[Qualifying], list[FieldError]]:
    """The sales named, each checked: this merchant's, anonymous, not wholly refunded."""
    found = Sale.objects.filter(merchant=merchant, pk__in=ids)
    if lock:
        found = found.select_for_update()
    by_id = {sale.pk: sale for sale in found}
    refunded = refunded_amounts(by_id)
    chosen, errors = [], []
    for sale_id in ids:
        sale = by_id.get(sale_id)
        if sale is None:
            message = _("Sale %(number)s was not found.") % {"number": sale_id}
        elif sale.member_id is not None:
            message = _("Sale %(number)s already belongs to a member.") % {"number": sale_id}
        elif sale.status == Sale.Status.REFUNDED or sale.total - refunded.get(sale_id, 0) <= 0:
            message = _("Sale %(number)s was refunded.") % {"number": sale_id}
        else:
            chosen.append(Qualifying(sale, sale.total - refunded.get(sale_id, 0)))
            continue
        errors.append(FieldError("qualifying_sales", message))
    return chosen, errors


# --- the registration check and the step after it ---------------------------------------------


def _unit_errors(merchant: Merchant, raw: Any) -> tuple[AgreementUnit | None, list[FieldError]]:
    if raw in (None, ""):
        return None, []
    unit = None
    if isinstance(raw, str) and 0 < len(raw.strip()) <= 32 and "\x00" not in raw:
        unit = AgreementUnit.objects.filter(merchant=merchant, code=raw.strip()).first()
    if unit is None:
        return None, [FieldError("agreement_unit", _("Unknown agreement unit."))]
    if not unit.is_active or (
        unit.valid_until is not None and unit.valid_until < local_today(merchant)
    ):
        return None, [FieldError("agreement_unit", _("This agreement unit is no longer active."))]
    return unit, []


def _age_errors(
    merchant: Merchant, policy: RecruitmentPolicy, data: Mapping[str, Any], fields: Mapping
) -> list[FieldError]:
    if policy.min_age is None:
        return []
    birthday = fields.get("birthday")
    if birthday is None:
        if data.get("birthday") not in (None, ""):
            return []  # given but not a date: the members' own check already said so
        message = _("required: members must be at least %(age)d") % {"age": policy.min_age}
        return [FieldError("birthday", message)]
    if age_on(birthday, local_today(merchant)) < policy.min_age:
        message = _("Members must be at least %(age)d years old.") % {"age": policy.min_age}
        return [FieldError("birthday", message)]
    return []


def check_registration(
    actor: Actor, data: Mapping[str, Any], fields: Mapping[str, Any]
) -> list[FieldError]:
    """Field errors of the agreement unit, the qualifying sales and the age rule; a purchase
    rule not met is refused on its own code (`recruitment_not_met`, 422).

    A registration under an agreement unit joins by the agreement and so is not held to the
    rules (group enrolment brings mobiles and names only)."""
    merchant = actor.merchant
    unit, errors = _unit_errors(merchant, data.get("agreement_unit"))
    ids, id_errors = _sale_ids(data.get("qualifying_sales"))
    errors += id_errors
    chosen, sale_errors = qualifying_sales(merchant, ids) if ids else ([], [])
    errors += sale_errors
    if unit is not None or data.get("agreement_unit") not in (None, ""):
        return errors
    policy = policy_for(merchant)
    errors += _age_errors(merchant, policy, data, fields)
    if errors or purchase_met(policy, [q.net for q in chosen]):
        return errors
    detail = _("This customer does not meet the rule to join yet: %(rule)s.") % {
        "rule": rule_in_words(policy)
    }
    raise DomainError(detail, RECRUITMENT_NOT_MET, 422, [FieldError("qualifying_sales", detail)])


def attach_after_registration(actor: Actor, member: Member, data: Mapping[str, Any]) -> None:
    """Put the new member under the unit asked for and make the qualifying sales theirs."""
    unit, errors = _unit_errors(actor.merchant, data.get("agreement_unit"))
    if errors:
        raise ValidationFailed(errors)
    if unit is not None:
        Member.objects.filter(pk=member.pk).update(agreement_unit=unit)
        member.agreement_unit = unit
    ids, _errors = _sale_ids(data.get("qualifying_sales"))
    if ids:
        attach_sales(actor, member, ids)


@transaction.atomic
def attach_sales(actor: Actor, member: Member, ids: list[int]) -> list[Qualifying]:
    """The anonymous sales become the member's, and count in their figures as if they had
    been made as a member: spend (net of refunds), visits, first and last visit, savings.
    No points are earned afterwards: the sale was priced and paid as a walk-in's."""
    chosen, errors = qualifying_sales(actor.merchant, ids, lock=True)
    if errors:  # taken by another registration since the check
        raise Conflict(str(errors[0].message), "sale_already_attached", errors)
    for item in sorted(chosen, key=lambda q: (q.sale.occurred_at, q.sale.pk)):
        sale = item.sale
        claimed = Sale.objects.filter(pk=sale.pk, member__isnull=True).update(member=member)
        if claimed != 1:
            raise Conflict(_("Sale %s already belongs to a member.") % sale.pk, "sale_attached")
        sale.member = member
        visit = sales_sql.Visit(
            member.pk, member.merchant_id, sale.total, sale.occurred_at, 0, sale.saved
        )
        sales_sql.finish_sale(sale.pk, {}, visit)
        _count_earlier_refunds(sale, item.net)
        audit(
            actor,
            AuditEntry.Action.UPDATE,
            sale,
            {"member": [None, member.card_no]},
            label=_("Sale %(number)s") % {"number": sale.pk},
        )
    if chosen:  # their days' sums on the console home now hold members' sales
        note_past_sales_changed(actor.merchant)
    for item in chosen:
        # Tiers move on the spend as after any sale (F-10).
        hooks.member_activity(actor, member, "sale", {"sale": item.sale})
    return chosen


def _count_earlier_refunds(sale: Sale, net: int) -> None:
    refunded = sale.total - net
    if not refunded:
        return
    count = Refund.objects.filter(sale=sale).count()
    stats = MemberStats.objects.select_for_update().get(member_id=sale.member_id)
    stats.total_spend -= refunded
    stats.refunds += count
    stats.average_ticket = stats.total_spend // max(stats.visits, 1)
    stats.save(update_fields=["total_spend", "refunds", "average_ticket", "updated_at"])


# --- at the till -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """What the receipt offers for an anonymous sale: join, and whether it meets the rule."""

    sale: Sale
    net: int
    qualifies: bool  # the rule is met (False: the merchant has no purchase rule)
    rule: str
    min_age: int | None


def offer_for(sale: Sale) -> Offer | None:
    """None when the sale has a member, was refunded, or does not meet the purchase rule."""
    if sale.member_id is not None or sale.status == Sale.Status.REFUNDED:
        return None
    net = sale.total - refunded_amounts([sale.pk]).get(sale.pk, 0)
    if net <= 0:
        return None
    policy = policy_for(sale.merchant)
    if asks_purchase(policy) and not purchase_met(policy, [net]):
        return None
    return Offer(sale, net, asks_purchase(policy), rule_in_words(policy), policy.min_age)


def enrol_from_sale(actor: Actor, sale: Sale, data: Mapping[str, Any]) -> Member:
    """Register the customer of an anonymous sale, the sale qualifying and becoming theirs."""
    given = {key: data[key] for key in ("mobile", "name", "birthday") if data.get(key)}
    given["qualifying_sales"] = [sale.pk]
    if sale.store_id:
        given.setdefault("store", sale.store.code)
    return register_member(actor, given)
