"""The segment filter language of API.md §8, in one place (F-29).

A filter is JSON: `{"all": [...]}` or `{"any": [...]}`, nestable, whose leaves are conditions
`{"field": F, "op": OP, "value": V}`. `compile_filter` checks the whole filter, collecting
every error with its path (`filter.all[0].op`), and turns it into one Django `Q` over the
members of one merchant; the API, the console builder, campaign audiences and exports all go
through it, so a filter means the same everywhere.

Why the conditions look the way they do (docs/segments.md has the rules and the figures):
- columns of MemberInsight and MemberStats are compared through the one-to-one join on their
  indexed columns (never a sub-query per member), so the count is one join on PostgreSQL;
- a member without an insight or stats row counts as 0 for the figures that start at 0
  (spend_12m, visits_12m, avg_ticket, points, stored_value): `spend_12m lte 100` includes
  members who never bought. Scores that do not exist until computed (lifecycle, rfm, r, f, m,
  p_alive, last_visit_days) and empty profile fields (birthday, store, custom fields) match no
  comparison, while `ne` / `not_in` match them ("not dormant" includes the unscored);
- tags, facets (what was bought) and balances are EXISTS tests, which PostgreSQL runs as a
  semi-join (or an anti-join for "has none").
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db.models import Exists, Model, OuterRef, Q, Sum
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from patron.core.dates import start_of_day
from patron.core.errors import FieldError, ValidationFailed
from patron.core.text import INT64_MAX
from patron.insight.models import Facet, Lifecycle, MemberFacet, MemberInsight
from patron.ledger.models import STORED_VALUE_ASSETS, Account, Asset, OwnerType
from patron.members.models import Channel, CustomField, Gender, Member
from patron.promotions.models import Tier
from patron.sales.models import MemberStats
from patron.tenancy.models import Merchant, Store

OPS = ("eq", "ne", "in", "not_in", "gte", "lte", "between", "contains")
GROUPS = ("all", "any")
# A filter is written by people (the builder shows one level of nesting): these bounds only
# keep a hostile or broken body from costing the database a monster query.
MAX_DEPTH = 5
MAX_CONDITIONS = 60
MAX_LIST = 500
MAX_TEXT = 100

ORDERED = ("eq", "ne", "in", "not_in", "gte", "lte", "between")
NUMERIC = ("eq", "ne", "gte", "lte", "between")
MEMBERSHIP = ("eq", "ne", "in", "not_in")
RANGE = ("gte", "lte", "between")
DAYS = ("eq", "gte", "lte", "between")
HAS = ("eq", "ne", "contains", "in", "not_in")


@dataclass(frozen=True)
class Kind:
    """The type of a field's value: how one scalar is checked."""

    name: str  # choice, text, int, fen, share, date, bool, rfm, code
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Spec:
    """One field of the language: its type, the operators it allows and how it reads."""

    name: str
    label: str | Promise
    kind: Kind
    ops: tuple[str, ...]
    group: str | Promise = ""


CHOICE = Kind("choice")
TEXT = Kind("text")
FEN = Kind("fen")
COUNT = Kind("int", minimum=0)
SCORE = Kind("int", minimum=1, maximum=5)
MONTH = Kind("int", minimum=1, maximum=12)
SHARE = Kind("share", minimum=0, maximum=1)
DATE = Kind("date")
BOOL = Kind("bool")

PROFILE = pgettext_lazy("segment field group", "Profile")
BEHAVIOUR = pgettext_lazy("segment field group", "Behaviour")
BALANCES = pgettext_lazy("segment field group", "Balances")
BOUGHT = pgettext_lazy("segment field group", "Bought")
CONSENT = pgettext_lazy("segment field group", "Consent")
CUSTOM = pgettext_lazy("segment field group", "Custom fields")

FIELDS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("gender", gettext_lazy("Gender"), CHOICE, MEMBERSHIP, PROFILE),
        Spec("age", gettext_lazy("Age"), Kind("int", 0, 150), ORDERED, PROFILE),
        Spec(
            "birthday_month", gettext_lazy("Birthday month"), Kind("int", 1, 12), ORDERED, PROFILE
        ),
        Spec("region", gettext_lazy("Region"), TEXT, (*MEMBERSHIP, "contains"), PROFILE),
        Spec("tier", gettext_lazy("Tier"), Kind("code"), MEMBERSHIP, PROFILE),
        Spec("tags", gettext_lazy("Tags"), TEXT, HAS, PROFILE),
        Spec("store", gettext_lazy("Home store"), Kind("code"), MEMBERSHIP, PROFILE),
        Spec("joined_at", gettext_lazy("Joined on"), DATE, DAYS, PROFILE),
        Spec("channel", gettext_lazy("Joined through"), CHOICE, MEMBERSHIP, PROFILE),
        Spec("lifecycle", gettext_lazy("Lifecycle"), CHOICE, MEMBERSHIP, BEHAVIOUR),
        Spec("rfm", gettext_lazy("RFM cell"), Kind("rfm"), MEMBERSHIP, BEHAVIOUR),
        Spec("r", gettext_lazy("Recency score (R)"), SCORE, ORDERED, BEHAVIOUR),
        Spec("f", gettext_lazy("Frequency score (F)"), SCORE, ORDERED, BEHAVIOUR),
        Spec("m", gettext_lazy("Monetary score (M)"), SCORE, ORDERED, BEHAVIOUR),
        Spec("p_alive", gettext_lazy("P(alive)"), SHARE, RANGE, BEHAVIOUR),
        Spec("spend_12m", gettext_lazy("Spend in 12 months"), FEN, NUMERIC, BEHAVIOUR),
        Spec("visits_12m", gettext_lazy("Visits in 12 months"), COUNT, ORDERED, BEHAVIOUR),
        Spec("last_visit_days", gettext_lazy("Days since last visit"), COUNT, DAYS, BEHAVIOUR),
        Spec("avg_ticket", gettext_lazy("Average ticket"), FEN, NUMERIC, BEHAVIOUR),
        Spec("points", gettext_lazy("Points"), Kind("int"), NUMERIC, BALANCES),
        Spec("stored_value", gettext_lazy("Stored value"), FEN, NUMERIC, BALANCES),
        Spec("categories_bought", gettext_lazy("Categories bought"), TEXT, HAS, BOUGHT),
        Spec("skus_bought", gettext_lazy("SKUs bought"), TEXT, HAS, BOUGHT),
        Spec("sizes_bought", gettext_lazy("Sizes bought"), TEXT, HAS, BOUGHT),
        Spec("colours_bought", gettext_lazy("Colours bought"), TEXT, HAS, BOUGHT),
        Spec("consent_sms", gettext_lazy("SMS marketing"), BOOL, ("eq", "ne"), CONSENT),
        Spec("consent_wechat", gettext_lazy("WeChat marketing"), BOOL, ("eq", "ne"), CONSENT),
        Spec("consent_email", gettext_lazy("Email marketing"), BOOL, ("eq", "ne"), CONSENT),
    )
}
CUSTOM_PREFIX = "custom."
CUSTOM_SPECS = {
    CustomField.Kind.TEXT: (TEXT, (*MEMBERSHIP, "contains")),
    CustomField.Kind.NUMBER: (Kind("number"), ORDERED),
    CustomField.Kind.CHOICE: (CHOICE, MEMBERSHIP),
    CustomField.Kind.DATE: (DATE, DAYS),
}
FACET_FIELDS = {
    "categories_bought": Facet.CATEGORY,
    "skus_bought": Facet.SKU,
    "sizes_bought": Facet.SIZE,
    "colours_bought": Facet.COLOUR,
}
# Figures a member without the row (never scored, never bought) has as 0.
ZERO_DEFAULT = {
    "spend_12m": "insight",
    "visits_12m": "insight",
    "avg_ticket": "stats",
}
COLUMNS = {
    "gender": "gender",
    "region": "region",
    "channel": "source_channel",
    "lifecycle": "insight__lifecycle",
    "rfm": "insight__rfm",
    "r": "insight__r",
    "f": "insight__f",
    "m": "insight__m",
    "p_alive": "insight__p_alive",
    "spend_12m": "insight__spend_12m",
    "visits_12m": "insight__visits_12m",
    "avg_ticket": "stats__average_ticket",
    "consent_sms": "consent_sms",
    "consent_wechat": "consent_wechat",
    "consent_email": "consent_email",
}
RFM_CELL = re.compile(r"^[1-5]{3}$")
CHOICES: dict[str, Any] = {"gender": Gender, "channel": Channel, "lifecycle": Lifecycle}


class Invalid(Exception):
    """One bad value; the compiler files it under the path it was found at."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass
class Compiler:
    """Checks and compiles filters for one merchant; what it reads (tiers, stores, custom
    fields, today) it reads once."""

    merchant: Merchant
    now: dt.datetime = field(default_factory=timezone.now)
    # Compile for the rows of one member table ("insight", "stats") instead of members
    # (see `row_count_filter`).
    on_table: str = ""
    errors: list[FieldError] = field(default_factory=list)
    conditions: int = 0
    # The member tables the conditions read ("member" for the member row and anything else),
    # and whether no member without a row in them can match.
    tables: set[str] = field(default_factory=set)
    row_only: bool = True

    @cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.merchant.timezone)

    @cached_property
    def today(self) -> dt.date:
        return self.now.astimezone(self.zone).date()

    @cached_property
    def tiers(self) -> dict[str, Tier]:
        return {t.code: t for t in Tier.objects.filter(merchant=self.merchant)}

    @cached_property
    def stores(self) -> dict[str, int]:
        return dict(Store.objects.filter(merchant=self.merchant).values_list("code", "pk"))

    @cached_property
    def custom_fields(self) -> dict[str, CustomField]:
        return {d.key: d for d in CustomField.objects.filter(merchant=self.merchant)}

    # --- structure ----------------------------------------------------------------------

    def compile(self, node: Any, path: str = "filter") -> Q:
        q = self.group(node, path, depth=1)
        if self.errors:
            raise ValidationFailed(self.errors)
        return q

    def error(self, path: str, message: str) -> Q:
        self.errors.append(FieldError(path, message))
        return Q()

    def group(self, node: Any, path: str, depth: int) -> Q:
        if not isinstance(node, dict) or len(node) != 1 or next(iter(node)) not in GROUPS:
            return self.error(path, _('Expected {"all": [...]} or {"any": [...]}.'))
        if depth > MAX_DEPTH:
            return self.error(path, _("Groups nest at most %(n)d deep.") % {"n": MAX_DEPTH})
        name, children = next(iter(node.items()))
        path = f"{path}.{name}"
        if not isinstance(children, list):
            return self.error(path, _("Expected a list of conditions."))
        parts = [self.node(child, f"{path}[{i}]", depth) for i, child in enumerate(children)]
        if name == "all":
            return combine(parts, Q.__and__, Q())
        # Any of nothing is nobody: an empty OR is false.
        return combine(parts, Q.__or__, Q(pk__in=[]))

    def node(self, node: Any, path: str, depth: int) -> Q:
        if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in GROUPS:
            return self.group(node, path, depth + 1)
        self.conditions += 1
        if self.conditions == MAX_CONDITIONS + 1:
            return self.error(path, _("At most %(n)d conditions.") % {"n": MAX_CONDITIONS})
        if self.conditions > MAX_CONDITIONS:
            return Q()
        return self.condition(node, path)

    def condition(self, node: Any, path: str) -> Q:
        if not isinstance(node, dict):
            return self.error(path, _('Expected a condition {"field", "op", "value"}.'))
        errors_before = len(self.errors)
        for key in sorted(set(node) - {"field", "op", "value"}):
            self.error(f"{path}.{key}", _("Unknown key."))
        for key in ("field", "op", "value"):
            if key not in node:
                self.error(f"{path}.{key}", _("This key is required."))
        name, op = node.get("field"), node.get("op")
        spec = self.spec(name, f"{path}.field") if "field" in node else None
        if "op" in node and op not in OPS:
            self.error(f"{path}.op", _("Unknown operator; one of: %s") % ", ".join(OPS))
        elif spec is not None and op not in spec.ops:
            self.error(
                f"{path}.op",
                _("%(field)s allows only: %(ops)s") % {"field": name, "ops": ", ".join(spec.ops)},
            )
        if len(self.errors) > errors_before or spec is None:
            return Q()
        try:
            value = self.value(spec, op, node["value"])
            return self.build(spec, op, value)
        except Invalid as invalid:
            return self.error(f"{path}.value{invalid.path}", invalid.message)

    def spec(self, name: Any, path: str) -> Spec | None:
        if isinstance(name, str) and name in FIELDS:
            return FIELDS[name]
        if isinstance(name, str) and name.startswith(CUSTOM_PREFIX):
            definition = self.custom_fields.get(name.removeprefix(CUSTOM_PREFIX))
            if definition is not None:
                kind, ops = CUSTOM_SPECS[definition.kind]
                return Spec(name, definition.label, kind, ops, CUSTOM)
        self.error(path, _("Unknown field."))
        return None

    # --- values -------------------------------------------------------------------------

    def value(self, spec: Spec, op: str, raw: Any) -> Any:
        """The value checked for the field's type and the operator's shape."""
        if op in ("in", "not_in"):
            if not isinstance(raw, list) or not raw:
                raise Invalid(_("Expected a non-empty list."))
            if len(raw) > MAX_LIST:
                raise Invalid(_("At most %(n)d values.") % {"n": MAX_LIST})
            return [self.scalar(spec, item, f"[{i}]") for i, item in enumerate(raw)]
        if op == "between":
            if not isinstance(raw, list) or len(raw) != 2:
                raise Invalid(_("Expected a pair [from, to]."))
            low, high = (self.scalar(spec, item, f"[{i}]") for i, item in enumerate(raw))
            if low > high:
                raise Invalid(
                    _("The range is backwards: %(low)s is after %(high)s.")
                    % {
                        "low": raw[0],
                        "high": raw[1],
                    }
                )
            return [low, high]
        return self.scalar(spec, raw, "")

    def scalar(self, spec: Spec, raw: Any, path: str) -> Any:
        kind = spec.kind
        if kind.name == "bool":
            if not isinstance(raw, bool):
                raise Invalid(_("Expected true or false."), path)
            return raw
        if kind.name in ("int", "fen"):
            if isinstance(raw, bool) or not isinstance(raw, int):
                message = _("Expected a whole number of fen.") if kind.name == "fen" else None
                raise Invalid(message or _("Expected a whole number."), path)
            return self.bounded(kind, raw, path)
        if kind.name in ("share", "number"):
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise Invalid(_("Expected a number."), path)
            return self.bounded(kind, raw, path)
        if kind.name == "date":
            # Exactly YYYY-MM-DD: fromisoformat alone would also take "20240101".
            if not isinstance(raw, str) or len(raw) != 10:
                raise Invalid(_("Expected a date YYYY-MM-DD."), path)
            try:
                return dt.date.fromisoformat(raw)
            except ValueError:
                raise Invalid(_("Expected a date YYYY-MM-DD."), path) from None
        if not isinstance(raw, str) or not raw.strip():
            raise Invalid(_("Expected a text value."), path)
        if len(raw) > MAX_TEXT:
            raise Invalid(_("At most %(n)d characters.") % {"n": MAX_TEXT}, path)
        return self.text(spec, raw.strip(), path)

    def bounded(self, kind: Kind, raw: float, path: str) -> float:
        if not math.isfinite(raw) or abs(raw) > INT64_MAX:  # beyond any column
            raise Invalid(_("The number is out of range."), path)
        if (kind.minimum is not None and raw < kind.minimum) or (
            kind.maximum is not None and raw > kind.maximum
        ):
            low = "" if kind.minimum is None else kind.minimum
            high = "" if kind.maximum is None else kind.maximum
            if kind.maximum is None:
                raise Invalid(_("Expected at least %(low)s.") % {"low": low}, path)
            raise Invalid(_("Expected %(low)s to %(high)s.") % {"low": low, "high": high}, path)
        return raw

    def text(self, spec: Spec, raw: str, path: str) -> str:
        """Codes and choices must name something that exists."""
        if spec.name == "tier" and raw not in self.tiers:
            raise Invalid(_("Unknown tier code '%s'.") % raw, path)
        if spec.name == "store" and raw not in self.stores:
            raise Invalid(_("Unknown store code '%s'.") % raw, path)
        if spec.name == "rfm" and not RFM_CELL.match(raw):
            raise Invalid(_('Expected a cell of three scores 1-5, such as "555".'), path)
        if spec.kind.name == "choice":
            allowed = self.choices(spec)
            if raw not in allowed:
                raise Invalid(_("Unknown value; one of: %s") % ", ".join(allowed), path)
        return raw

    def choices(self, spec: Spec) -> list[str]:
        if spec.name in CHOICES:
            return list(CHOICES[spec.name].values)
        return [str(c) for c in self.custom_fields[spec.name.removeprefix(CUSTOM_PREFIX)].choices]

    # --- conditions ---------------------------------------------------------------------

    def build(self, spec: Spec, op: str, value: Any) -> Q:
        name = spec.name
        if name in COLUMNS:
            column = COLUMNS[name]
            table = column.split("__")[0] if "__" in column else "member"
            # ne / not_in match members without a row (a value that is not there is "not" it).
            row_only = table != "member" and op not in ("ne", "not_in")
            q = compare(self.column(column), op, value)
            if name in ZERO_DEFAULT:  # no row yet is 0: never bought, never scored
                zero = satisfies(op, value, 0)
                row_only = row_only and not zero
                if not self.on_table:
                    missing = Q(**{f"{ZERO_DEFAULT[name]}__isnull": True})
                    q = (q | missing) if zero else (q & ~missing)
            self.read(table, row_only)
            return q
        if name != "last_visit_days":
            self.read("member", row_only=False)
        builder: Callable[[Spec, str, Any], Q] = getattr(self, f"build_{name}", None) or (
            self.build_facet if name in FACET_FIELDS else self.build_custom
        )
        return builder(spec, op, value)

    def read(self, table: str, row_only: bool) -> None:
        self.tables.add(table)
        self.row_only = self.row_only and row_only

    def column(self, path: str) -> str:
        """`path` from Member, or from the table compiled for (insight__r -> r)."""
        return path.removeprefix(f"{self.on_table}__") if self.on_table else path

    def build_age(self, spec: Spec, op: str, value: Any) -> Q:
        def aged(n: int) -> Q:  # born in the year of life that makes them n today
            return Q(birthday__gt=years_before(self.today, n + 1)) & Q(
                birthday__lte=years_before(self.today, n)
            )

        if op == "gte":
            return Q(birthday__lte=years_before(self.today, value))
        if op == "lte":
            return Q(birthday__gt=years_before(self.today, value + 1))
        if op == "between":
            return Q(birthday__gt=years_before(self.today, value[1] + 1)) & Q(
                birthday__lte=years_before(self.today, value[0])
            )
        return either(op, combine([aged(n) for n in listed(value)], Q.__or__, Q()))

    def build_birthday_month(self, spec: Spec, op: str, value: Any) -> Q:
        return compare("birthday__month", op, value)

    def build_tier(self, spec: Spec, op: str, value: Any) -> Q:
        """A member is on their own tier while it is active, else on the rank-0 tier (as
        promotions.selectors.member_tier reads it)."""
        base = next((t for t in self.tiers.values() if t.is_active and t.rank == 0), None)
        inactive = [t.pk for t in self.tiers.values() if not t.is_active]
        parts = []
        for code in listed(value):
            tier = self.tiers[code]
            if base is not None and tier.pk == base.pk:
                parts.append(Q(tier__isnull=True) | Q(tier_id__in=[base.pk, *inactive]))
            elif tier.is_active:
                parts.append(Q(tier_id=tier.pk))
        return either(op, combine(parts, Q.__or__, Q(pk__in=[])))

    def build_store(self, spec: Spec, op: str, value: Any) -> Q:
        ids = [self.stores[code] for code in listed(value)]
        return either(op, Q(store_id__in=ids))

    def build_joined_at(self, spec: Spec, op: str, value: Any) -> Q:
        return day_range("joined_at", op, value, self.zone)

    def build_last_visit_days(self, spec: Spec, op: str, value: Any) -> Q:
        """Whole days in the merchant's zone: a visit yesterday evening is 1 day ago."""
        low, high = {"eq": (value, value), "gte": (value, None), "lte": (None, value)}.get(
            op, tuple(value) if op == "between" else (None, None)
        )
        self.read("stats", row_only=True)  # never visited: no figure, no match
        column = self.column("stats__last_visit_at")
        q = Q(**{f"{column}__isnull": False})
        if low is not None:  # at least `low` days ago: before the start of day today-low+1
            q &= Q(**{f"{column}__lt": self.day_start(low - 1)})
        if high is not None:  # at most `high` days ago: on or after day today-high
            q &= Q(**{f"{column}__gte": self.day_start(high)})
        return q

    def day_start(self, days_ago: int) -> dt.datetime:
        return start_of_day(self.today - dt.timedelta(days=days_ago), self.zone)

    def build_tags(self, spec: Spec, op: str, value: Any) -> Q:
        through = Member.tags.through.objects.filter(
            member_id=OuterRef("pk"), tag__name__in=listed(value)
        )
        return either(op, Q(Exists(through)))

    def build_facet(self, spec: Spec, op: str, value: Any) -> Q:
        facets = MemberFacet.objects.filter(
            member_id=OuterRef("pk"), kind=FACET_FIELDS[spec.name], value__in=listed(value)
        )
        return either(op, Q(Exists(facets)))

    def build_points(self, spec: Spec, op: str, value: Any) -> Q:
        accounts = Account.objects.filter(
            member_id=OuterRef("pk"), asset=Asset.POINTS, owner_type=OwnerType.MEMBER
        )
        if satisfies(op, value, 0):  # no account is 0 points: exclude those that fail
            return ~Q(Exists(accounts.exclude(compare("balance", op, value))))
        return Q(Exists(accounts.filter(compare("balance", op, value))))

    def build_stored_value(self, spec: Spec, op: str, value: Any) -> Q:
        """Principal + bonus (what the ledger's balances call the total)."""
        totals = (
            Account.objects.filter(
                merchant=self.merchant,
                asset__in=STORED_VALUE_ASSETS,
                owner_type=OwnerType.MEMBER,
                member_id__isnull=False,
            )
            .values("member_id")
            .annotate(total=Sum("balance"))
        )
        if satisfies(op, value, 0):  # no account is 0: exclude those whose total fails
            failing = totals.exclude(compare("total", op, value)).values("member_id")
            return ~Q(pk__in=failing)
        return Q(pk__in=totals.filter(compare("total", op, value)).values("member_id"))

    def build_custom(self, spec: Spec, op: str, value: Any) -> Q:
        key = spec.name.removeprefix(CUSTOM_PREFIX)
        column = f"custom__{key}"
        if spec.kind.name == "date":
            value = [d.isoformat() for d in value] if op == "between" else value.isoformat()
        q = compare(column, op, value)
        if op in ("ne", "not_in"):  # members without the field are "not" it too
            q |= ~Q(custom__has_key=key) | Q(**{f"{column}__isnull": True})
        return q


def combine(parts: list[Q], join: Callable[[Q, Q], Q], empty: Q) -> Q:
    if not parts:
        return empty
    q = parts[0]
    for part in parts[1:]:
        q = join(q, part)
    return q


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def either(op: str, has: Q) -> Q:
    """`has` for eq / in / contains, its negation for ne / not_in."""
    return ~has if op in ("ne", "not_in") else has


def compare(column: str, op: str, value: Any) -> Q:
    if op == "eq":
        return Q(**{column: value})
    if op == "ne":
        return ~Q(**{column: value})
    if op == "in":
        return Q(**{f"{column}__in": value})
    if op == "not_in":
        return ~Q(**{f"{column}__in": value})
    if op == "contains":
        return Q(**{f"{column}__icontains": value})
    if op == "between":
        return Q(**{f"{column}__gte": value[0]}) & Q(**{f"{column}__lte": value[1]})
    return Q(**{f"{column}__{op}": value})


def satisfies(op: str, value: Any, x: float) -> bool:
    """Whether `x` itself meets the condition (0 for a member without the row)."""
    return {
        "eq": lambda: x == value,
        "ne": lambda: x != value,
        "in": lambda: x in value,
        "not_in": lambda: x not in value,
        "gte": lambda: x >= value,
        "lte": lambda: x <= value,
        "between": lambda: value[0] <= x <= value[1],
    }.get(op, lambda: False)()


def day_range(column: str, op: str, value: Any, zone: zoneinfo.ZoneInfo) -> Q:
    """A date condition on a moment, by local days in `zone`."""
    first, last = {"eq": (value, value), "gte": (value, None), "lte": (None, value)}.get(
        op, tuple(value) if op == "between" else (None, None)
    )
    q = Q()
    if first is not None:
        q &= Q(**{f"{column}__gte": start_of_day(first, zone)})
    if last is not None:
        q &= Q(**{f"{column}__lt": start_of_day(last + dt.timedelta(days=1), zone)})
    return q


def years_before(day: dt.date, years: int) -> dt.date:
    """The same day `years` earlier; 29 February becomes the 28th in common years."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def compile_filter(merchant: Merchant, node: Any, now: dt.datetime | None = None) -> Q:
    """The filter as a Q over `merchant`'s members; ValidationFailed with every error."""
    return Compiler(merchant, now or timezone.now()).compile(node)


def row_count_filter(
    merchant: Merchant, node: Any, now: dt.datetime | None = None
) -> tuple[type[Model], Q] | None:
    """The filter as (MemberInsight or MemberStats, a Q over its rows of `merchant`) when it
    reads that one table only and no member without a row can match it (no ne / not_in, no
    "0 when missing"); else None.

    Such a filter's members of the whole merchant are exactly those rows (one per member, of
    the member's merchant), so their count needs no join with the member table: PostgreSQL
    answers it from the table's (merchant, column) index alone (docs/segments.md)."""
    compiler = Compiler(merchant, now or timezone.now())
    compiler.compile(node)
    tables = {"insight": MemberInsight, "stats": MemberStats}
    if not (compiler.row_only and compiler.conditions and len(compiler.tables) == 1):
        return None
    table = next(iter(compiler.tables))
    if table not in tables:
        return None
    return tables[table], Compiler(merchant, compiler.now, on_table=table).compile(node)
