"""What if over the API (API.md §13): `POST /program/simulate {program, from, to, store?}` and
`GET /program/simulate/{id}` for the replays that ran as a job."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from patron.core.apitypes import PathId
from patron.core.errors import NotFound
from patron.core.problems import Problem
from patron.program.api import ProgramFile
from patron.whatif import jobs, services
from patron.whatif.models import Simulation

router = Router(tags=["program"])
ERRORS = {401: Problem, 404: Problem, 422: Problem}


class SimulateIn(Schema):
    program: ProgramFile
    first: dt.date = Field(alias="from", description="First day, in the merchant's zone")
    last: dt.date = Field(alias="to", description="Last day (included), in the merchant's zone")
    store: str | None = Field(None, max_length=32, description="Replay only this store's sales")


class SimulationJobOut(Schema):
    id: int
    status: str
    url: str
    result: dict[str, Any] | None = None
    failure: str = ""


def _job(request: HttpRequest, simulation: Simulation) -> dict[str, Any]:
    return {
        "id": simulation.pk,
        "status": simulation.status,
        "url": request.build_absolute_uri(f"/api/v1/program/simulate/{simulation.pk}"),
        "result": simulation.result,
        "failure": simulation.failure,
    }


@router.post(
    "/simulate",
    response={200: dict[str, Any], 202: SimulationJobOut, **ERRORS},
    summary="Replay recorded sales under the current program and a draft",
)
def simulate(request: HttpRequest, payload: SimulateIn):
    """Every sale of the range re-priced under both programs; nothing is written. Up to 31
    days: the figures (200). Longer: a job (202) to fetch from its `url`."""
    actor = request.actor
    asked = services.question(actor, payload.first, payload.last, payload.store)
    document = payload.program.root
    if asked.days <= services.SHORT_RANGE_DAYS:
        return Status(200, jobs.answer(services.simulate(actor, document, asked)))
    simulation = jobs.submit(actor, document, asked)
    return Status(202, _job(request, simulation))


@router.get(
    "/simulate/{simulation_id}",
    response={200: SimulationJobOut, **ERRORS},
    summary="A replay that ran as a job: its status and, when done, its figures",
)
def simulation(request: HttpRequest, simulation_id: PathId):
    found = Simulation.objects.filter(merchant=request.actor.merchant, pk=simulation_id).first()
    if found is None:
        raise NotFound("No such simulation.")
    return _job(request, found)
