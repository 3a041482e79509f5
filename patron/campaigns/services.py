"""Writing campaigns (API.md §9): check a definition, create, change, launch, pause, resume and
cancel. Every write is audited; bad input raises ValidationFailed with each error's field path
(`actions[0].template`) and writes nothing.

A definition is kept as the API body (`validate_spec` gives it back cleaned). Merchant-wide
defaults for caps, quiet hours and the holdout (program section `campaigns`) are copied into a
campaign created without its own, so a later change of the defaults never alters a campaign
already defined.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from patron.campaigns import audience as audiences
from patron.campaigns import journeys, schedules, templating
from patron.campaigns.models import Campaign, CampaignDefaults, Channel, Purpose
from patron.core.errors import Conflict, FieldError, NotFound, ValidationFailed
from patron.promotions import store_activities
from patron.promotions.models import CouponTemplate, Tier
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Store
from patron.tenancy.services import audit

# What a journey may start on (the journeys part's list): API.md §9 event types but
# `message.sent` (a journey sending on its own messages would feed itself), `birthday` and
# `complaint` (insight's complaint member events).
TRIGGER_EVENTS = journeys.TRIGGERS
ACTION_TYPES = ("message", "coupon", "points", "tier", "task")
SPEC_KEYS = (
    "name",
    "kind",
    "purpose",
    "audience",
    "trigger",
    "schedule",
    "actions",
    "holdout_percent",
    "caps",
    "quiet_hours",
    "budget_fen",
    "window_days",
)
NAME_MAX = 100
HOLDOUT_MAX = 50
CAP_MAX = 100
POINTS_MAX = 1_000_000
WINDOW_MAX = 365
CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,40}$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.PAUSED)


# --- checking a definition -------------------------------------------------------------------


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def text_errors(text: str) -> list[str]:
    """What is wrong with a message text (the channels part's check)."""
    return [str(message) for message in templating.check(text)]


def _template_errors(merchant: Merchant, ref: Any, path: str) -> list[FieldError]:
    """A template code, an inline text or a {zh, en} object resolved and checked by the
    channels part (`templating.resolve` raises ValidationFailed with the text's errors)."""
    if isinstance(ref, dict) and not (ref and set(ref) <= {"zh", "en"}):
        return [FieldError(path, _("Give a template code or the message text."))]
    if isinstance(ref, dict) and not all(isinstance(v, str) and v.strip() for v in ref.values()):
        return [FieldError(path, _("Give the text in Chinese (zh), and English (en) if any."))]
    if not isinstance(ref, dict | str):
        return [FieldError(path, _("Give a template code or the message text."))]
    try:
        templating.resolve(merchant, ref)
    except ValidationFailed as failure:
        return [FieldError(path, error.message) for error in failure.errors]
    return []


def _coupon_errors(merchant: Merchant, code: Any, path: str) -> list[FieldError]:
    if not isinstance(code, str) or not code:
        return [FieldError(path, _("Give a coupon template code."))]
    template = CouponTemplate.objects.filter(
        merchant=merchant, code=code, is_active=True, paused=False
    ).first()
    if template is None:
        return [FieldError(path, _("No active coupon template '%s'.") % code)]
    if template.stock is not None and template.issued_count >= template.stock:
        return [FieldError(path, _("Coupon template '%s' has no stock left.") % code)]
    return []


def _action_errors(merchant: Merchant, action: Any, path: str) -> list[FieldError]:
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        return [FieldError(f"{path}.type", _("Choose one of: %s.") % ", ".join(ACTION_TYPES))]
    kind = action["type"]
    allowed = {
        "message": {"type", "channel", "template"},
        "coupon": {"type", "template"},
        "points": {"type", "points"},
        "tier": {"type", "tier"},
        "task": {"type", "assignee_role"},
    }[kind]
    errors = [
        FieldError(f"{path}.{key}", _("Unknown key.")) for key in action if key not in allowed
    ]
    if kind == "message":
        if action.get("channel") not in Channel.values:
            errors.append(
                FieldError(f"{path}.channel", _("Choose one of: %s.") % ", ".join(Channel.values))
            )
        errors += _template_errors(merchant, action.get("template"), f"{path}.template")
    elif kind == "coupon":
        errors += _coupon_errors(merchant, action.get("template"), f"{path}.template")
    elif kind == "points":
        points = action.get("points")
        if not _whole(points) or not 0 < points <= POINTS_MAX:
            errors.append(FieldError(f"{path}.points", _("Give from 1 to %d points.") % POINTS_MAX))
    elif kind == "tier":
        code = action.get("tier")
        if not Tier.objects.filter(merchant=merchant, code=code, is_active=True).exists():
            errors.append(FieldError(f"{path}.tier", _("No active tier '%s'.") % code))
    elif action.get("assignee_role") not in Role.values:
        errors.append(
            FieldError(f"{path}.assignee_role", _("Choose one of: %s.") % ", ".join(Role.values))
        )
    return errors


def _schedule_errors(kind: str, schedule: Any) -> list[FieldError]:
    if schedule in (None, {}):
        if kind == Campaign.Kind.RECURRING:
            return [FieldError("schedule.cron", _("A recurring campaign needs a cron schedule."))]
        return []
    if kind == Campaign.Kind.TRIGGER:
        return [FieldError("schedule", _("A triggered journey runs on its trigger, not a date."))]
    if not isinstance(schedule, dict) or len(schedule) != 1:
        return [FieldError("schedule", _("Give either a time (at) or a cron schedule."))]
    if kind == Campaign.Kind.ONCE:
        at = schedule.get("at")
        moment = parse_datetime(at) if isinstance(at, str) else None
        if moment is None or moment.tzinfo is None:
            return [FieldError("schedule.at", _("Give a time with its offset (ISO 8601)."))]
        return []
    expr = schedule.get("cron")
    if not isinstance(expr, str) or not expr.strip():
        return [FieldError("schedule.cron", _("A recurring campaign needs a cron schedule."))]
    problem = schedules.check_cron(expr)
    return [FieldError("schedule.cron", problem)] if problem else []


def _trigger_errors(kind: str, trigger: Any) -> list[FieldError]:
    if kind != Campaign.Kind.TRIGGER:
        if trigger not in (None, {}):
            return [FieldError("trigger", _("Only a triggered journey has a trigger."))]
        return []
    if not isinstance(trigger, dict) or trigger.get("event") not in TRIGGER_EVENTS:
        return [FieldError("trigger.event", _("Choose one of: %s.") % ", ".join(TRIGGER_EVENTS))]
    return [FieldError(f"trigger.{f}", m) for f, m in schedules.check_trigger(trigger)]


def caps_errors(caps: Any, path: str = "caps") -> list[FieldError]:
    if caps in (None, {}):
        return []
    value = caps.get("per_member_per_7d") if isinstance(caps, dict) else None
    if set(caps if isinstance(caps, dict) else ()) != {"per_member_per_7d"} or not (
        _whole(value) and 0 < value <= CAP_MAX
    ):
        return [
            FieldError(
                f"{path}.per_member_per_7d",
                _("Give how many messages a member may get in 7 days (1 to %d).") % CAP_MAX,
            )
        ]
    return []


def quiet_hours_errors(quiet: Any, path: str = "quiet_hours") -> list[FieldError]:
    if quiet in (None, []):
        return []
    if (
        not isinstance(quiet, list)
        or len(quiet) != 2
        or not all(isinstance(t, str) and CLOCK.match(t) for t in quiet)
        or quiet[0] == quiet[1]
    ):
        return [
            FieldError(path, _('Give the start and end as ["21:00", "09:00"] (24-hour clock).'))
        ]
    return []


def holdout_errors(holdout: Any, path: str = "holdout_percent") -> list[FieldError]:
    if not _whole(holdout) or not 0 <= holdout <= HOLDOUT_MAX:
        return [FieldError(path, _("Give a whole percentage from 0 to %d.") % HOLDOUT_MAX)]
    return []


def _scalar_errors(data: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > NAME_MAX:
        errors.append(FieldError("name", _("Give a name of at most %d characters.") % NAME_MAX))
    if data.get("purpose", Purpose.CARE) not in Purpose.values:
        errors.append(FieldError("purpose", _("Choose one of: %s.") % ", ".join(Purpose.values)))
    budget = data.get("budget_fen")
    if budget is not None and (not _whole(budget) or budget < 0):
        errors.append(FieldError("budget_fen", _("Give the budget in fen, 0 or more.")))
    window = data.get("window_days", 14)
    if not _whole(window) or not 0 < window <= WINDOW_MAX:
        errors.append(FieldError("window_days", _("Give from 1 to %d days.") % WINDOW_MAX))
    errors += holdout_errors(data.get("holdout_percent", 10))
    errors += caps_errors(data.get("caps"))
    errors += quiet_hours_errors(data.get("quiet_hours"))
    return errors


def _nul_paths(value: Any, path: str) -> list[str]:
    """Where text holds NUL (PostgreSQL can neither store nor compare it)."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _nul_paths(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, f"{path}[{i}]")]
    return []


def validate_spec(merchant: Merchant, data: Any) -> dict[str, Any]:
    """The API.md §9 body checked whole; the cleaned definition, or ValidationFailed with
    every error at once."""
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("body", _("Give the campaign as a JSON object."))])
    nul = _nul_paths(data, "")
    if nul:
        raise ValidationFailed([FieldError(path, _("Text may not hold NUL.")) for path in nul])
    errors = [FieldError(key, _("Unknown key.")) for key in data if key not in SPEC_KEYS]
    kind = data.get("kind")
    if kind not in Campaign.Kind.values:
        errors.append(FieldError("kind", _("Choose one of: %s.") % ", ".join(Campaign.Kind.values)))
    errors += _scalar_errors(data)
    audience = data.get("audience") or {}
    if audience:
        errors += audiences.errors(merchant, audience)
    elif kind in (Campaign.Kind.ONCE, Campaign.Kind.RECURRING):
        errors.append(FieldError("audience", _("Choose a segment or a filter to send to.")))
    if kind in Campaign.Kind.values:
        errors += _trigger_errors(kind, data.get("trigger"))
        errors += _schedule_errors(kind, data.get("schedule"))
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        errors.append(FieldError("actions", _("Give at least one action.")))
    else:
        for index, action in enumerate(actions):
            errors += _action_errors(merchant, action, f"actions[{index}]")
    if errors:
        raise ValidationFailed(errors)
    return {
        "name": data["name"].strip(),
        "kind": kind,
        "purpose": data.get("purpose", Purpose.CARE),
        "audience": audience,
        "trigger": data.get("trigger") or {},
        "schedule": data.get("schedule") or {},
        "actions": actions,
        "holdout_percent": data.get("holdout_percent", 10),
        "caps": data.get("caps") or {},
        "quiet_hours": data.get("quiet_hours") or [],
        "budget_fen": data.get("budget_fen"),
        "window_days": data.get("window_days", 14),
    }


# --- merchant-wide defaults ------------------------------------------------------------------


def defaults_for(merchant: Merchant | int) -> CampaignDefaults:
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    found = CampaignDefaults.objects.filter(merchant_id=merchant_id).first()
    return found or CampaignDefaults(merchant_id=merchant_id)


def with_defaults(merchant: Merchant, data: dict[str, Any]) -> dict[str, Any]:
    """The body with the merchant's defaults where it gave none (a key given, even empty,
    is the campaign's own choice)."""
    defaults = defaults_for(merchant)
    filled = dict(data)
    if "caps" not in data and defaults.caps:
        filled["caps"] = defaults.caps
    if "quiet_hours" not in data and defaults.quiet_hours:
        filled["quiet_hours"] = defaults.quiet_hours
    if "holdout_percent" not in data and defaults.holdout_percent is not None:
        filled["holdout_percent"] = defaults.holdout_percent
    return filled


# --- who owns it (F-41) ----------------------------------------------------------------------


def _owner_store(actor: Actor, data: dict[str, Any], current: Store | None) -> Store | None:
    """The store `owner` names (null: HQ's; left out: as it is, or for a store manager their
    store). A store manager's campaign must be their store's, within HQ's limits: campaigns
    allowed, coupons of their store's own, no points or tiers given."""
    scope = store_activities.store_scope(actor)
    store = current
    if "owner" in data:
        code = data["owner"]
        store = None
        if code is not None:
            store = Store.objects.filter(merchant=actor.merchant, code=code).first()
            if not isinstance(code, str) or store is None:
                raise ValidationFailed([FieldError("owner", _("Unknown store %s.") % code)])
    elif scope is not None and current is None:
        store = scope
    if scope is None:
        return store
    store_activities.check_owner(scope, store.code if store else None)
    store_activities.check_allowed(actor.merchant, "campaigns")
    errors = []
    own = set(
        CouponTemplate.objects.filter(merchant=actor.merchant, owner_store=scope).values_list(
            "code", flat=True
        )
    )
    for index, action in enumerate(data.get("actions") or []):
        kind = action.get("type") if isinstance(action, dict) else None
        if kind in ("points", "tier"):
            errors.append(
                FieldError(
                    f"actions[{index}].type",
                    _("A store's own campaign sends messages and its own coupons only."),
                )
            )
        elif kind == "coupon" and action.get("template") not in own:
            errors.append(
                FieldError(
                    f"actions[{index}].template",
                    _("A store's own campaign gives only its store's own coupons."),
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return store


def check_scope(actor: Actor, campaign: Campaign) -> None:
    """A store manager changes, launches, pauses or cancels only their store's campaigns."""
    scope = store_activities.store_scope(actor)
    if scope is not None:
        store_activities.check_owner(
            scope, campaign.owner_store.code if campaign.owner_store_id else None
        )


def live_campaigns(merchant: Merchant, store: Store) -> int:
    """A store's own campaigns not done or cancelled (towards `max_live`)."""
    ended = (Campaign.Status.DONE, Campaign.Status.CANCELLED)
    return (
        Campaign.objects.filter(merchant=merchant, owner_store=store)
        .exclude(status__in=ended)
        .count()
    )


# --- writes ----------------------------------------------------------------------------------


def _spec_of(campaign: Campaign) -> dict[str, Any]:
    return {key: getattr(campaign, key) for key in SPEC_KEYS}


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {key: [before.get(key), after[key]] for key in after if before.get(key) != after[key]}


def create_campaign(actor: Actor, data: Any) -> Campaign:
    """A new draft campaign from the API body."""
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("body", _("Give the campaign as a JSON object."))])
    body = {key: value for key, value in data.items() if key != "owner"}
    spec = validate_spec(actor.merchant, with_defaults(actor.merchant, body))
    with transaction.atomic():
        owner = _owner_store(actor, data, None)
        if owner is not None and store_activities.store_scope(actor) is not None:
            limits = store_activities.limits_for(actor.merchant)
            store_activities.check_live(limits, actor.merchant, owner)
        campaign = Campaign.objects.create(
            merchant=actor.merchant,
            created_by=actor.user,
            status=Campaign.Status.DRAFT,
            owner_store=owner,
            **spec,
        )
        changes = _changes({}, spec)
        if owner is not None:
            changes["owner_store"] = [None, owner.code]  # shown as the store's name
        audit(actor, AuditEntry.Action.CREATE, campaign, changes, label=campaign.name)
    return campaign


def campaign_for(actor: Actor, campaign_id: Any) -> Campaign:
    """The actor's merchant's campaign (another merchant's id: 404)."""
    try:
        campaign_id = int(campaign_id)
    except (TypeError, ValueError):
        raise NotFound(_("Campaign not found")) from None
    found = Campaign.objects.filter(merchant=actor.merchant, pk=campaign_id).first()
    if found is None:
        raise NotFound(_("Campaign not found"))
    return found


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().get(pk=campaign.pk)


def not_now(campaign: Campaign, doing: str) -> Conflict:
    return Conflict(
        _("A campaign that is %(status)s cannot be %(doing)s.")
        % {"status": campaign.get_status_display(), "doing": doing},
        "campaign_status",
    )


def update_campaign(actor: Actor, campaign: Campaign, data: Any) -> Campaign:
    """Change a draft or paused campaign; the keys given replace the current ones and the
    result is checked whole."""
    if not isinstance(data, dict):
        raise ValidationFailed([FieldError("body", _("Give the changes as a JSON object."))])
    with transaction.atomic():
        campaign = _locked(campaign)
        check_scope(actor, campaign)
        if campaign.status not in EDITABLE:
            raise not_now(campaign, pgettext("campaign step", "changed"))
        before = _spec_of(campaign)
        if "kind" in data and data["kind"] != campaign.kind and campaign.status != "draft":
            raise ValidationFailed(
                [FieldError("kind", _("The kind of a launched campaign stays as it is."))]
            )
        body = {key: value for key, value in data.items() if key != "owner"}
        spec = validate_spec(actor.merchant, {**before, **body})
        owner = _owner_store(actor, {**spec, **data}, campaign.owner_store)
        changes = _changes(before, spec)
        if owner != campaign.owner_store:
            changes["owner_store"] = [_code(campaign.owner_store), _code(owner)]
        for key, value in spec.items():
            setattr(campaign, key, value)
        campaign.owner_store = owner
        campaign.save()
        audit(actor, AuditEntry.Action.UPDATE, campaign, changes, label=campaign.name)
    return campaign


def _code(store: Store | None) -> str | None:
    return store.code if store else None


def _set_status(actor: Actor, campaign: Campaign, status: str, **fields: Any) -> Campaign:
    before = campaign.status
    campaign.status = status
    for key, value in fields.items():
        setattr(campaign, key, value)
    campaign.save()
    audit(
        actor, AuditEntry.Action.UPDATE, campaign, {"status": [before, status]}, label=campaign.name
    )
    return campaign


def first_run_at(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """When the scheduler first starts a run (the journeys part's `schedules.next_run_at`):
    a one-off's future `schedule.at`, a recurring campaign's next cron time in the merchant's
    zone, or None (runs now / on its trigger)."""
    if campaign.kind == Campaign.Kind.TRIGGER:
        return None
    when = schedules.next_run_at(campaign, now)
    if campaign.kind == Campaign.Kind.ONCE and (when is None or when <= now):
        return None  # no date, or one already past: it runs now
    return when


def launch(actor: Actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """Launch a draft: a one-off without a date runs now (a background run), with a date and a
    recurring one wait for the scheduler, a triggered journey listens from now on. The
    definition is checked again (a segment deleted, stock used up since it was saved)."""
    from patron.campaigns import delivery

    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign)
        check_scope(actor, campaign)
        if campaign.status != Campaign.Status.DRAFT:
            raise not_now(campaign, pgettext("campaign step", "launched"))
        validate_spec(actor.merchant, _spec_of(campaign))
        next_run = first_run_at(campaign, now)
        scheduled = campaign.kind != Campaign.Kind.TRIGGER and next_run is not None
        _set_status(
            actor,
            campaign,
            Campaign.Status.SCHEDULED if scheduled else Campaign.Status.RUNNING,
            launched_at=now,
            next_run_at=next_run,
        )
        if campaign.kind == Campaign.Kind.ONCE and not scheduled:
            delivery.start_run(campaign, "once", now)
    return campaign


def pause(actor: Actor, campaign: Campaign) -> Campaign:
    """Stop sending: chunks not yet sent wait, triggers are ignored until resumed."""
    with transaction.atomic():
        campaign = _locked(campaign)
        check_scope(actor, campaign)
        if campaign.status not in (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED):
            raise not_now(campaign, pgettext("campaign step", "paused"))
        return _set_status(actor, campaign, Campaign.Status.PAUSED)


def resume(actor: Actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """Go on where the campaign stopped: an unfinished run goes over its audience again and
    reaches only those it had not reached (targets are unique per occurrence)."""
    from patron.campaigns import delivery

    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign)
        check_scope(actor, campaign)
        if campaign.status != Campaign.Status.PAUSED:
            raise not_now(campaign, pgettext("campaign step", "resumed"))
        waiting = campaign.next_run_at is not None and campaign.next_run_at > now
        _set_status(
            actor,
            campaign,
            Campaign.Status.SCHEDULED if waiting else Campaign.Status.RUNNING,
        )
        for run in campaign.runs.exclude(status="done"):
            delivery.start_run(campaign, run.occurrence, now)
    return campaign


def cancel(actor: Actor, campaign: Campaign) -> Campaign:
    """Stop for good; messages held for quiet hours are not sent."""
    from patron.campaigns.models import Message

    with transaction.atomic():
        campaign = _locked(campaign)
        check_scope(actor, campaign)
        if campaign.status in (Campaign.Status.DONE, Campaign.Status.CANCELLED):
            raise not_now(campaign, pgettext("campaign step", "cancelled"))
        Message.objects.filter(campaign=campaign, status=Message.Status.HELD).update(
            status=Message.Status.FAILED, error="cancelled"
        )
        return _set_status(
            actor,
            campaign,
            Campaign.Status.CANCELLED,
            next_run_at=None,
            finished_at=timezone.now(),
        )
