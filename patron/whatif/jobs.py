"""Replays as jobs (API.md §13): a long range is queued as a `Simulation`, run by the worker
(`tasks.run_simulation`) and fetched when done. The draft and the range are checked when asked,
so a bad request is refused at once and a queued one only fails for reasons of its own."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from patron.core.errors import DomainError
from patron.tenancy.actor import Actor
from patron.whatif import rules as program_rules
from patron.whatif import services
from patron.whatif.models import Simulation


def answer(result: services.Result) -> dict[str, Any]:
    """What the API and the console show: the contract's four keys, then the check that the
    current program reproduces what was recorded, per month and store, and the tier moves."""
    body = result.as_dict()
    body["faithful"] = {
        "sales_compared": result.compared,
        "sales_differing": result.differing_sales,
        "imported_sales": result.imported,
        "message": result.faithful_line(),
        "differences": [
            {"sale": d.sale_id, "field": d.field, "recorded": d.recorded, "replayed": d.replayed}
            for d in result.differences[:100]
        ],
    }
    body["months"] = _periods(result.current.months, result.draft.months)
    body["stores"] = _periods(result.current.stores, result.draft.stores)
    moves = result.tier_moves()
    body["tier_moves"] = {
        "members": len(moves),
        "sample": [
            {"member": member_id, "current": current, "draft": draft}
            for member_id, current, draft in moves[:200]
        ],
    }
    body["changes"] = result.changes
    return body


def _periods(current: dict, draft: dict) -> list[dict[str, Any]]:
    rows = []
    for key in sorted(set(current) | set(draft)):
        rows.append(
            {
                "key": key,
                "current": _totals(current.get(key)),
                "draft": _totals(draft.get(key)),
            }
        )
    return rows


def _totals(totals: Any) -> dict[str, int]:
    names = ("sales", "revenue", "discount", "member_discount", "points_earned", "points_redeemed")
    return {name: getattr(totals, name, 0) for name in names}


def submit(actor: Actor, document: dict[str, Any], asked: services.Question) -> Simulation:
    """Check the draft now (ValidationFailed as `program apply` gives it), queue the replay."""
    program_rules.draft_rules(actor, document)
    simulation = Simulation.objects.create(
        merchant=actor.merchant,
        user=actor.user,
        api_key=actor.api_key,
        channel=actor.channel,
        first_day=asked.first,
        last_day=asked.last,
        store=asked.store,
        document=document,
    )
    from patron.whatif.tasks import run_simulation

    transaction.on_commit(lambda: run_simulation(simulation.pk))
    return simulation


def run(simulation_id: int) -> Simulation | None:
    """The job's work; a job delivered twice runs once (the queued row is claimed)."""
    claimed = Simulation.objects.filter(pk=simulation_id, status=Simulation.Status.QUEUED).update(
        status=Simulation.Status.RUNNING
    )
    if not claimed:
        return None
    simulation = Simulation.objects.select_related("merchant", "store").get(pk=simulation_id)
    actor = Actor.system(simulation.merchant)
    try:
        asked = services.question(
            actor,
            simulation.first_day,
            simulation.last_day,
            simulation.store.code if simulation.store else None,
        )
        result = services.simulate(actor, simulation.document, asked)
    except DomainError as error:  # the program changed since it was asked: said on the row
        _failed(simulation_id, str(error))
        return None
    except BaseException as error:
        _failed(simulation_id, str(error) or type(error).__name__)
        raise
    Simulation.objects.filter(pk=simulation_id).update(
        status=Simulation.Status.DONE, result=answer(result), finished_at=timezone.now()
    )
    simulation.refresh_from_db()
    return simulation


def _failed(simulation_id: int, why: str) -> None:
    Simulation.objects.filter(pk=simulation_id).update(
        status=Simulation.Status.FAILED, failure=why[:2000], finished_at=timezone.now()
    )
