"""Settlement between the stores of a chain: who holds the cash of stored value spent elsewhere.

Pure arithmetic, no Django. One member's stored-value principal movements are walked in
ledger order (transaction id order, never the time they say they occurred: a movement
written later can then never change how an earlier one was attributed, which keeps a closed
month closed) with a FIFO queue of deposits, each tagged with the party (a store code, or
`HQ`) that took the cash:

- a credit (top-up, opening balance moved in, any credit that reverses no known debit) is a
  deposit at its party, queued at the back;
- a debit at party B (a payment with stored value, cash paid out on a card refund, the
  reversal of a top-up, any other debit) consumes the queue from the front; the part that
  was deposited at a party A != B is a flow "A owes B" (A holds the cash, B gave the goods or
  paid it out);
- a credit that reverses a debit (a refund of a sale paid with stored value) gives back that
  debit's consumed parts in proportion to what each still holds (largest remainder, so the
  last reversal gives back exactly what is left): each given-back part goes back under its
  deposit, in its place in the queue (the queue stays in deposit order, oldest first),
  and the flows it came from are undone by negative flows (B owes A back).

Activities a store runs and another store redeems are flows too (`Flow.kind == ACTIVITY`),
made by the caller; `net_rows` and `net_by_party` net any flows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from patron.engine.money import allocate

HQ = "HQ"  # the party of a movement with no store
PRINCIPAL = "principal"
ACTIVITY = "activity"


@dataclass(frozen=True)
class Movement:
    """One ledger transaction's change of a member's principal (+ credit, - debit)."""

    ref: int  # the ledger transaction id (also its order)
    party: str  # store code, HQ for none
    amount: int
    reverses: int | None = None  # the transaction this one reverses, if any


@dataclass(frozen=True)
class Flow:
    """`payer` owes `payee` `amount` fen (negative: an earlier flow undone)."""

    ref: int  # the movement that made the flow (the debit, or the credit reversing it)
    debit: int  # the debit the flow belongs to
    deposit: int  # the deposit whose cash it is
    payer: str
    payee: str
    amount: int
    kind: str = PRINCIPAL


@dataclass(frozen=True)
class Row:
    """A store pair's net: `payer` owes `payee` `amount` (> 0) fen."""

    payer: str
    payee: str
    amount: int


@dataclass
class _Part:
    deposit: int
    party: str
    amount: int


@dataclass
class _Debit:
    ref: int
    party: str
    parts: list[_Part] = field(default_factory=list)  # what it consumed
    given_back: list[int] = field(default_factory=list)  # per part, by reversals so far


@dataclass
class Walk:
    """What walking one member's movements leaves: the flows and the deposits still queued."""

    flows: list[Flow]
    queue: list[tuple[int, str, int]]  # (deposit ref, party, amount left), front first


def attribute(movements: Iterable[Movement]) -> Walk:
    """The flows of one member's principal movements, walked in ledger (ref) order."""
    queue: list[_Part] = []
    debits: dict[int, _Debit] = {}
    flows: list[Flow] = []
    for move in sorted(movements, key=lambda m: m.ref):
        if move.amount < 0:
            debits[move.ref] = _consume(queue, move, flows)
        elif move.amount > 0:
            debit = debits.get(move.reverses) if move.reverses is not None else None
            rest = move.amount if debit is None else _give_back(queue, debit, move, flows)
            if rest:
                queue.append(_Part(move.ref, move.party, rest))
    return Walk(flows, [(p.deposit, p.party, p.amount) for p in queue])


def _consume(queue: list[_Part], move: Movement, flows: list[Flow]) -> _Debit:
    debit = _Debit(move.ref, move.party)
    need = -move.amount
    while need and queue:
        head = queue[0]
        take = min(head.amount, need)
        debit.parts.append(_Part(head.deposit, head.party, take))
        debit.given_back.append(0)
        if head.party != move.party:
            flows.append(Flow(move.ref, move.ref, head.deposit, head.party, move.party, take))
        head.amount -= take
        need -= take
        if head.amount == 0:
            queue.pop(0)
    # More out than the queue holds (history missing): the rest stays with the debit's party.
    return debit


def _give_back(queue: list[_Part], debit: _Debit, move: Movement, flows: list[Flow]) -> int:
    """Return the consumed parts of `debit` for the credit `move`; answer what is left over."""
    left = [p.amount - g for p, g in zip(debit.parts, debit.given_back, strict=True)]
    back = min(move.amount, sum(left))
    if back <= 0:
        return move.amount
    shares = allocate(back, left)
    returned: list[_Part] = []
    for index, (part, share) in enumerate(zip(debit.parts, shares, strict=True)):
        if not share:
            continue
        debit.given_back[index] += share
        returned.append(_Part(part.deposit, part.party, share))
        if part.party != debit.party:
            flows.append(Flow(move.ref, debit.ref, part.deposit, part.party, debit.party, -share))
    for part in returned:
        _put_back(queue, part)
    return move.amount - back


def _put_back(queue: list[_Part], part: _Part) -> None:
    """Queue `part` under its deposit again: the queue stays in deposit (ledger) order, oldest
    first, one entry per deposit."""
    at = 0
    while at < len(queue) and queue[at].deposit < part.deposit:
        at += 1
    if at < len(queue) and queue[at].deposit == part.deposit:
        queue[at].amount += part.amount
    else:
        queue.insert(at, part)


def net_rows(flows: Iterable[Flow]) -> list[Row]:
    """One row per store pair with what the one who owes owes the other; zero pairs omitted."""
    owed: dict[tuple[str, str], int] = defaultdict(int)
    for flow in flows:
        if flow.payer == flow.payee:
            continue
        if flow.payer < flow.payee:
            owed[(flow.payer, flow.payee)] += flow.amount
        else:
            owed[(flow.payee, flow.payer)] -= flow.amount
    rows = [
        Row(a, b, amount) if amount > 0 else Row(b, a, -amount)
        for (a, b), amount in owed.items()
        if amount
    ]
    return sorted(rows, key=lambda r: (r.payer, r.payee))


def net_by_party(rows: Sequence[Row]) -> dict[str, int]:
    """Per party what it is owed (+) or owes (-) over `rows`; the nets sum to zero."""
    net: dict[str, int] = defaultdict(int)
    for row in rows:
        net[row.payee] += row.amount
        net[row.payer] -= row.amount
    return dict(sorted(net.items()))
