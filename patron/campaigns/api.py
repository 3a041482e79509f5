"""`/campaigns` (API.md §9): define, change, launch, pause, resume and cancel campaigns, their
runs' progress and their report. Bad definitions answer 422 `validation_error` with each
error's field path; a state that does not allow the step answers 409 `campaign_status`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Router, Schema, Status

from patron.campaigns import report as reports
from patron.campaigns import services
from patron.campaigns.models import Campaign
from patron.core.apitypes import PathId
from patron.core.problems import Problem

router = Router(tags=["campaigns"])
ERRORS = {401: Problem, 404: Problem, 409: Problem, 422: Problem}
BODY_DOC = (
    "API.md §9: {name, kind: once|recurring|trigger, audience: {segment} or {filter}, trigger?:"
    " {event, ...}, schedule?: {at} or {cron}, actions: [...], holdout_percent?, caps?,"
    " quiet_hours?, budget_fen?, window_days?, purpose?, owner?}. Checked whole by the server"
    " (422 with each error's path)."
)


class CampaignIn(Schema):
    name: Any = NinjaField(None, description="At most 100 characters")
    kind: Any = NinjaField(None, description="once, recurring or trigger")
    purpose: Any = NinjaField(None, description="care, promotion or information")
    audience: Any = NinjaField(None, description='{"segment": id} or {"filter": {...}}')
    trigger: Any = NinjaField(None, description='{"event": "birthday", ...options}')
    schedule: Any = NinjaField(None, description='{"at": ISO time} or {"cron": "0 10 * * 1"}')
    actions: Any = NinjaField(None, description="message, coupon, points, tier or task actions")
    holdout_percent: Any = NinjaField(None, description="0 to 50; default 10")
    caps: Any = NinjaField(None, description='{"per_member_per_7d": 2}')
    quiet_hours: Any = NinjaField(None, description='["21:00", "09:00"]')
    budget_fen: Any = NinjaField(None, description="Budget for coupons and points, in fen")
    window_days: Any = NinjaField(None, description="Sales within these days count; default 14")
    owner: Any = NinjaField(
        None, description="The store (code) that runs and pays for it; null or left out: HQ"
    )


class Created(Schema):
    id: int
    status: str


class StatusOut(Schema):
    id: int
    status: str


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    purpose: str
    status: str
    audience: Any
    trigger: Any
    schedule: Any
    actions: Any
    holdout_percent: int
    caps: Any
    quiet_hours: Any
    budget_fen: int | None
    spent_fen: int
    window_days: int
    created_at: dt.datetime
    launched_at: dt.datetime | None
    finished_at: dt.datetime | None
    next_run_at: dt.datetime | None
    owner: str | None = NinjaField(None, description="The store (code) that runs it; null: HQ")


class RunOut(Schema):
    id: int
    occurrence: str
    status: str
    total: int
    processed: int
    started_at: dt.datetime
    finished_at: dt.datetime | None


class Suppressed(Schema):
    consent: int
    cap: int
    quiet_hours: int
    opted_out: int
    budget: int


class Uplift(Schema):
    treated_rate: float | None
    holdout_rate: float | None
    diff: float | None
    ci95: list[float] | None


class ReportOut(Schema):
    targeted: int
    holdout: int
    reached: int
    suppressed: Suppressed
    failed: int
    redeemed: int
    revenue: int = NinjaField(..., description="fen")
    cost: int = NinjaField(..., description="fen")
    spent: int = NinjaField(..., description="Budget spent so far, fen")
    budget: int | None
    uplift: Uplift


def given(payload: CampaignIn) -> dict[str, Any]:
    """The keys the body gave (a key left out takes its default or the merchant's)."""
    return payload.model_dump(include=set(payload.model_fields_set))


def present(campaign: Campaign) -> dict[str, Any]:
    shown = {key: getattr(campaign, key) for key in CampaignOut.model_fields if key != "owner"}
    owner = campaign.owner_store.code if campaign.owner_store_id else None
    return shown | {"id": campaign.pk, "owner": owner}


@router.post("/campaigns", response={201: Created, **ERRORS}, summary="Define a campaign")
def create_campaign(request: HttpRequest, payload: CampaignIn):
    campaign = services.create_campaign(request.actor, given(payload))
    return Status(201, {"id": campaign.pk, "status": campaign.status})


@router.get("/campaigns", response={200: list[CampaignOut], **ERRORS}, summary="Campaigns")
def list_campaigns(request: HttpRequest):
    campaigns = Campaign.objects.filter(merchant=request.actor.merchant)
    return [present(c) for c in campaigns.select_related("owner_store")]


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **ERRORS}, summary="A campaign")
def get_campaign(request: HttpRequest, campaign_id: PathId):
    return present(services.campaign_for(request.actor, campaign_id))


@router.patch(
    "/campaigns/{campaign_id}",
    response={200: CampaignOut, **ERRORS},
    summary="Change a draft or paused campaign",
)
def update_campaign(request: HttpRequest, campaign_id: PathId, payload: CampaignIn):
    campaign = services.campaign_for(request.actor, campaign_id)
    return present(services.update_campaign(request.actor, campaign, given(payload)))


def _step(request: HttpRequest, campaign_id: Any, step) -> dict[str, Any]:
    campaign = step(request.actor, services.campaign_for(request.actor, campaign_id))
    return {"id": campaign.pk, "status": campaign.status}


@router.post(
    "/campaigns/{campaign_id}/launch",
    response={200: StatusOut, **ERRORS},
    summary="Launch: a one-off runs now or at schedule.at",
)
def launch(request: HttpRequest, campaign_id: PathId):
    return _step(request, campaign_id, services.launch)


@router.post("/campaigns/{campaign_id}/pause", response={200: StatusOut, **ERRORS}, summary="Pause")
def pause(request: HttpRequest, campaign_id: PathId):
    return _step(request, campaign_id, services.pause)


@router.post(
    "/campaigns/{campaign_id}/resume", response={200: StatusOut, **ERRORS}, summary="Resume"
)
def resume(request: HttpRequest, campaign_id: PathId):
    return _step(request, campaign_id, services.resume)


@router.post(
    "/campaigns/{campaign_id}/cancel", response={200: StatusOut, **ERRORS}, summary="Cancel"
)
def cancel(request: HttpRequest, campaign_id: PathId):
    return _step(request, campaign_id, services.cancel)


@router.get(
    "/campaigns/{campaign_id}/report",
    response={200: ReportOut, **ERRORS},
    summary="Targeted, suppressed by reason, redeemed, revenue, cost and uplift",
)
def campaign_report(request: HttpRequest, campaign_id: PathId):
    return reports.report(services.campaign_for(request.actor, campaign_id))


@router.get(
    "/campaigns/{campaign_id}/runs",
    response={200: list[RunOut], **ERRORS},
    summary="Runs and their progress",
)
def campaign_runs(request: HttpRequest, campaign_id: PathId):
    campaign = services.campaign_for(request.actor, campaign_id)
    return [
        {**{key: getattr(run, key) for key in RunOut.model_fields}, "id": run.pk}
        for run in campaign.runs.all()
    ]
