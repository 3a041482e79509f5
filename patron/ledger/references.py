"""What a ledger movement was for, in words, and where the thing that caused it is shown.

A transaction records its cause as a code and an id (`source` "sale", `source_ref` "42"); the
ledger knows nothing of sales or top-up slips, so the apps above it say where those are shown:
each registers a *resolver* for its sources from its AppConfig.ready() (sales: "sale" and
"refund", the wallet: "topup"). A resolver receives every transaction of a page at once and
returns links for the ones the actor may open, so a page of movements costs one query per
source, not one per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.ledger.models import Transaction

if TYPE_CHECKING:
    from django.utils.functional import Promise

    from patron.tenancy.actor import Actor

Kind = Transaction.Kind


class Caused(Protocol):
    """A transaction, or a pending points hold: anything with a kind of cause."""

    source: str
    source_ref: str


@dataclass(frozen=True)
class Reference:
    label: str
    url: str


Resolver = Callable[["Actor", list[Transaction]], dict[int, Reference]]
_resolvers: dict[str, Resolver] = {}

# The reason of a movement as people name it: by what caused it where that is known, else by
# the kind of movement.
SOURCE_REASONS: dict[str, str | Promise] = {
    "sale": pgettext_lazy("ledger reason", "Sale"),
    "refund": pgettext_lazy("ledger reason", "Refund"),
    "topup": pgettext_lazy("ledger reason", "Top-up"),
    "card_refund": pgettext_lazy("ledger reason", "Card refund"),
    "adjust": pgettext_lazy("ledger reason", "Adjustment"),
    "expiry": pgettext_lazy("ledger reason", "Expiry"),
    "import": pgettext_lazy("ledger reason", "Opening balance"),
}
KIND_REASONS: dict[str, str | Promise] = {
    Kind.TOPUP: pgettext_lazy("ledger reason", "Top-up"),
    Kind.PAY: pgettext_lazy("ledger reason", "Sale"),
    Kind.CARD_REFUND: pgettext_lazy("ledger reason", "Card refund"),
    Kind.EARN: pgettext_lazy("ledger reason", "Sale"),
    Kind.SPEND: pgettext_lazy("ledger reason", "Points used as cash"),
    Kind.EXPIRE: pgettext_lazy("ledger reason", "Expiry"),
    Kind.ADJUST: pgettext_lazy("ledger reason", "Adjustment"),
    Kind.REVERSAL: pgettext_lazy("ledger reason", "Reversal"),
}
# Reasons the services store as fixed English codes (not typed by anyone): never shown as notes.
CODED_REASONS = frozenset(
    {"sale", "refund", "expired", "points offset", "stored value payment", "reversal"}
)
OTHER = _("Other")
# Sources whose apps named their movements (积分兑换 …): their words win over the kind's,
# spending included; a reversal of one still says it reverses.
_OWN_WORDS: set[str] = set()


def add_resolver(source: str, resolver: Resolver) -> None:
    _resolvers[source] = resolver


def add_source_reason(source: str, words: str | Promise) -> None:
    """Let an app above name the movements it causes (from its AppConfig.ready())."""
    SOURCE_REASONS[source] = words
    _OWN_WORDS.add(source)


def has_own_words(source: str) -> bool:
    return source in _OWN_WORDS


def reason_words(kind: str, source: str = "") -> str:
    """销售, 退款, 充值, 积分抵现, 到期, 调整 …: what the movement was for."""
    if source in _OWN_WORDS and kind != Kind.REVERSAL:
        return str(SOURCE_REASONS[source])
    if kind == Kind.SPEND:
        return str(KIND_REASONS[Kind.SPEND])  # a sale's points offset: say how they were used
    if source in SOURCE_REASONS:
        return str(SOURCE_REASONS[source])
    return str(KIND_REASONS.get(kind, OTHER))


def typed_note(reason: str) -> str:
    """The reason a person typed (an adjustment's), not one of the services' fixed codes."""
    return "" if reason.strip().lower() in CODED_REASONS else reason


def references(actor: Actor, transactions: Iterable[Transaction]) -> dict[int, Reference]:
    """Links to what caused each transaction, by transaction id, for those the actor may open."""
    by_source: dict[str, list[Transaction]] = defaultdict(list)
    for txn in transactions:
        if txn.source in _resolvers:
            by_source[txn.source].append(txn)
    found: dict[int, Reference] = {}
    for source, group in by_source.items():
        found.update(_resolvers[source](actor, group))
    return found


def refs_as_ids(transactions: Iterable[Caused]) -> dict[int, list[Caused]]:
    """The transactions by their `source_ref` read as an id (other refs are left out), for
    resolvers that look rows up by primary key."""
    ids: dict[int, list[Caused]] = defaultdict(list)
    for txn in transactions:
        if txn.source_ref.isascii() and txn.source_ref.isdigit():
            ids[int(txn.source_ref)].append(txn)
    return ids
