"""Settlement between stores (patron.engine.settlement): FIFO attribution and netting."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from patron.engine.settlement import HQ, Flow, Movement, Row, attribute, net_by_party, net_rows

PARTIES = ["S1", "S2", "S3", HQ]


def owed(flows):
    return net_by_party(net_rows(flows))


def test_a_top_up_at_one_store_spent_at_another_is_owed_by_the_first():
    walk = attribute([Movement(1, "S1", 30000), Movement(2, "S2", -12000)])
    assert walk.flows == [Flow(2, 2, 1, "S1", "S2", 12000)]
    assert net_rows(walk.flows) == [Row("S1", "S2", 12000)]
    assert owed(walk.flows) == {"S1": -12000, "S2": 12000}
    assert walk.queue == [(1, "S1", 18000)]


def test_spending_at_the_store_that_took_the_cash_owes_nothing():
    walk = attribute([Movement(1, "S1", 30000), Movement(2, "S1", -30000)])
    assert walk.flows == [] and walk.queue == []


def test_deposits_are_consumed_first_in_first_out_across_stores():
    walk = attribute(
        [Movement(1, "S1", 10000), Movement(2, "S2", 20000), Movement(3, "S3", -15000)]
    )
    assert [(f.payer, f.payee, f.amount) for f in walk.flows] == [
        ("S1", "S3", 10000),
        ("S2", "S3", 5000),
    ]
    assert walk.queue == [(2, "S2", 15000)]


def test_ledger_order_decides_not_the_order_given():
    given_late = [Movement(3, "S3", -15000), Movement(2, "S2", 20000), Movement(1, "S1", 10000)]
    assert attribute(given_late).flows == attribute(sorted(given_late, key=lambda m: m.ref)).flows


def test_a_refund_undoes_the_flows_in_proportion_and_puts_the_deposits_back():
    moves = [
        Movement(1, "S1", 10000),
        Movement(2, "S2", 10000),
        Movement(3, "S3", -15000),  # 10000 of S1's, 5000 of S2's
        Movement(4, "S3", 3000, reverses=3),  # a fifth back: 2000 to S1, 1000 to S2
    ]
    walk = attribute(moves)
    assert [(f.ref, f.debit, f.payer, f.amount) for f in walk.flows[2:]] == [
        (4, 3, "S1", -2000),
        (4, 3, "S2", -1000),
    ]
    assert walk.queue == [(1, "S1", 2000), (2, "S2", 6000)]
    assert owed(walk.flows) == {"S1": -8000, "S2": -4000, "S3": 12000}


def test_a_refund_at_a_third_store_is_charged_to_the_store_of_the_sale():
    moves = [Movement(1, "S1", 5000), Movement(2, "S2", -5000), Movement(3, "S3", 5000, 2)]
    walk = attribute(moves)
    assert owed(walk.flows) == {}
    assert walk.queue == [(1, "S1", 5000)]


def test_a_credit_reversing_an_unknown_debit_is_a_deposit():
    walk = attribute([Movement(5, "S2", 4000, reverses=99), Movement(6, "S1", -4000)])
    assert walk.flows == [Flow(6, 6, 5, "S2", "S1", 4000)]


def test_no_store_is_hq_and_nets_sum_to_zero():
    walk = attribute([Movement(1, HQ, 8000), Movement(2, "S1", -8000)])
    assert owed(walk.flows) == {HQ: -8000, "S1": 8000}


def test_pairs_net_both_ways_into_one_row_and_zero_pairs_are_omitted():
    flows = [
        Flow(1, 1, 0, "S1", "S2", 500),
        Flow(2, 2, 0, "S2", "S1", 200),
        Flow(3, 3, 0, "S3", "S1", 100),
        Flow(4, 4, 0, "S1", "S3", 100),
    ]
    assert net_rows(flows) == [Row("S1", "S2", 300)]


# --- properties ------------------------------------------------------------------------------


@st.composite
def histories(draw):
    """A member's movements that never take the balance below zero: top-ups, debits, and
    credits reversing some part of an earlier debit."""
    moves: list[Movement] = []
    balance = 0
    debits: dict[int, int] = {}  # ref -> what is left to reverse
    for ref in range(1, draw(st.integers(1, 25)) + 1):
        party = draw(st.sampled_from(PARTIES))
        choice = draw(st.sampled_from(["topup", "debit", "reverse"]))
        if choice == "debit" and balance:
            amount = draw(st.integers(1, balance))
            moves.append(Movement(ref, party, -amount))
            debits[ref] = amount
            balance -= amount
        elif choice == "reverse" and any(debits.values()):
            target = draw(st.sampled_from(sorted(r for r, left in debits.items() if left)))
            amount = draw(st.integers(1, debits[target]))
            moves.append(Movement(ref, party, amount, reverses=target))
            debits[target] -= amount
            balance += amount
        else:
            amount = draw(st.integers(1, 100000))
            moves.append(Movement(ref, party, amount))
            balance += amount
    return moves


@settings(max_examples=300, deadline=None)
@given(histories())
def test_nets_sum_to_zero_and_every_row_is_positive(moves):
    rows = net_rows(attribute(moves).flows)
    assert sum(net_by_party(rows).values()) == 0
    assert all(row.amount > 0 and row.payer != row.payee for row in rows)
    assert len({(r.payer, r.payee) for r in rows} | {(r.payee, r.payer) for r in rows}) == 2 * len(
        rows
    )


@settings(max_examples=300, deadline=None)
@given(histories())
def test_flows_never_exceed_the_deposits_and_the_queue_is_the_balance(moves):
    walk = attribute(moves)
    deposits = {m.ref: m.amount for m in moves if m.amount > 0}
    per_deposit: dict[int, int] = {}
    for flow in walk.flows:
        per_deposit[flow.deposit] = per_deposit.get(flow.deposit, 0) + flow.amount
    for deposit, amount in per_deposit.items():
        assert 0 <= amount <= deposits[deposit]
    assert sum(left for _ref, _party, left in walk.queue) == sum(m.amount for m in moves)
    assert all(left > 0 for _ref, _party, left in walk.queue)


@settings(max_examples=300, deadline=None)
@given(histories(), st.sampled_from(PARTIES), st.data())
def test_a_debit_reversed_in_full_restores_the_queue_and_the_nets(moves, party, data):
    before = attribute(moves)
    balance = sum(m.amount for m in moves)
    if not balance:
        return
    amount = data.draw(st.integers(1, balance))
    debit = Movement(len(moves) + 1, party, -amount)
    pieces = data.draw(st.lists(st.integers(1, amount), max_size=3))
    credits, left = [], amount
    for ref, piece in enumerate(pieces, start=len(moves) + 2):
        piece = min(piece, left)
        if piece:
            credits.append(Movement(ref, data.draw(st.sampled_from(PARTIES)), piece, debit.ref))
            left -= piece
    credits.append(Movement(len(moves) + 2 + len(pieces), party, left, debit.ref))
    after = attribute([*moves, debit, *credits])
    assert after.queue == before.queue
    assert owed(after.flows) == owed(before.flows)


@settings(max_examples=300, deadline=None)
@given(histories(), histories())
def test_appending_movements_never_changes_how_a_prefix_was_attributed(prefix, more):
    shift = len(prefix)
    tail = [
        Movement(
            m.ref + shift, m.party, m.amount, None if m.reverses is None else m.reverses + shift
        )
        for m in more
    ]
    first = attribute(prefix).flows
    assert attribute([*prefix, *tail]).flows[: len(first)] == first
