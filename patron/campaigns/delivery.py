"""Reaching members: the one pipeline every campaign kind goes through (F-38, F-39).

`contact(campaign, member_ids, occurrence=...)` writes one Target per member and occurrence:

1. holdout: sha256 of "<campaign>:<member>" read as a number below holdout % -> recorded in
   the holdout group and never contacted (reproducible: the same member is always on the same
   side of the same campaign, whatever the order or chunking);
2. consent / opt-out on each message action's channel (`optout.suppressed_ids`, the bulk form
   of `channels.suppression_reason`);
3. the frequency cap across all campaigns: the member's campaign messages of the last 7 days
   (not failed), counted while the member's row is locked, so a burst of triggers for one
   member is serialised and never sends more than the cap;
4. the budget (coupon face values and points at their cash value, one conditional UPDATE of
   `spent_fen`) and the coupon stock (promotions' own conditional UPDATE): when either is used
   up the member is suppressed with reason `budget`;
5. the actions: message (a Message QUEUED, or HELD until the end of quiet hours in the
   merchant's zone), coupon, points, tier, a follow-up task.

It only writes rows (safe inside the outbox dispatcher's transaction); messages go out after
commit through the sending job (send_tasks). `start_run` splits a scheduled campaign's
audience into chunks, one background job each, progress counted on the CampaignRun.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from patron.campaigns import channels, optout, templating
from patron.campaigns.models import Campaign, CampaignRun, Channel, Message, MessageTemplate, Target
from patron.core.errors import DomainError
from patron.members.models import Member, MemberStatus
from patron.tenancy.actor import Actor
from patron.tenancy.permissions import merchant_zone

log = logging.getLogger(__name__)

CHUNK = 2000
CAP_DAYS = 7
SENDING = (Campaign.Status.RUNNING, Campaign.Status.SCHEDULED)


# --- holdout ---------------------------------------------------------------------------------


def holdout_score(campaign_id: int, member_id: int) -> float:
    """A number in [0, 100) fixed by campaign and member alone."""
    digest = hashlib.sha256(f"{campaign_id}:{member_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100


def in_holdout(campaign: Campaign, member_id: int) -> bool:
    return holdout_score(campaign.pk, member_id) < campaign.holdout_percent


# --- consent ---------------------------------------------------------------------------------


def suppressed(member_ids: Sequence[int], on_channels: Sequence[str]) -> dict[int, str]:
    """{member_id: reason} of the members that may not be sent on one of the channels (the
    channels part's `optout.suppressed_ids`: one query per channel, not one per member)."""
    blocked: dict[int, str] = {}
    for channel in dict.fromkeys(on_channels):
        for member_id, reason in optout.suppressed_ids(list(member_ids), channel).items():
            blocked.setdefault(member_id, reason)
    return blocked


def message_channels(campaign: Campaign) -> list[str]:
    return [a["channel"] for a in campaign.actions if a.get("type") == "message"]


# --- quiet hours -----------------------------------------------------------------------------


def _clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def quiet_until(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """The end of the quiet hours `now` falls in (merchant's zone; a window may cross
    midnight), or None when messages may go now."""
    if not campaign.quiet_hours:
        return None
    start, end = (_clock(t) for t in campaign.quiet_hours)
    zone = merchant_zone(campaign.merchant.timezone)
    local = timezone.localtime(now, zone)
    clock = local.time()
    if start < end:
        quiet = start <= clock < end
        end_day = local.date()
    else:  # crosses midnight: 21:00-09:00 is quiet from 21:00 to 24:00 and 00:00 to 09:00
        quiet = clock >= start or clock < end
        end_day = local.date() + dt.timedelta(days=1 if clock >= start else 0)
    if not quiet:
        return None
    return dt.datetime.combine(end_day, end, tzinfo=zone)


# --- caps and budget -------------------------------------------------------------------------


def recent_messages(member_ids: Iterable[int], now: dt.datetime) -> dict[int, int]:
    """Campaign messages per member in the last 7 days, any campaign, failed ones not counted."""
    rows = (
        Message.objects.filter(
            member_id__in=list(member_ids),
            campaign__isnull=False,
            created_at__gte=now - dt.timedelta(days=CAP_DAYS),
        )
        .exclude(status=Message.Status.FAILED)
        .values("member_id")
        .annotate(n=Count("id"))
    )
    return {row["member_id"]: row["n"] for row in rows}


def coupon_face_value(merchant_id: int, code: str) -> int:
    """What a coupon costs the budget when issued: a fixed amount off; percentage coupons cost
    what they take off a sale, which the report counts when they are used."""
    from patron.promotions.models import CouponTemplate

    template = CouponTemplate.objects.filter(merchant_id=merchant_id, code=code).first()
    benefit = template.benefit if template is not None else {}
    if benefit.get("type") == "fixed" and isinstance(benefit.get("value"), int):
        return benefit["value"]
    return 0


def points_value(merchant, points: int) -> int:
    """Points at their cash value when redeemed (the program's `redeem_cash`), in fen."""
    from patron.ledger.services import policy_for

    redeem = policy_for(merchant).points_policy().get("redeem_cash") or {}
    if not redeem.get("points"):
        return 0
    return points * int(redeem.get("value", 0)) // int(redeem["points"])


def cost_per_member(campaign: Campaign) -> int:
    cost = 0
    for action in campaign.actions:
        if action.get("type") == "coupon":
            cost += coupon_face_value(campaign.merchant_id, action["template"])
        elif action.get("type") == "points":
            cost += points_value(campaign.merchant, action["points"])
    return cost


def spend(campaign: Campaign, cost: int) -> bool:
    """Count `cost` into the campaign's spend unless that goes over its budget (one
    conditional UPDATE: concurrent chunks never overspend)."""
    if cost <= 0:
        return True
    budget_ok = Q(budget_fen__isnull=True) | Q(budget_fen__gte=F("spent_fen") + cost)
    return bool(
        Campaign.objects.filter(pk=campaign.pk)
        .filter(budget_ok)
        .update(spent_fen=F("spent_fen") + cost)
    )


def give_back(campaign: Campaign, cost: int) -> None:
    """Return what `spend` counted for a member whose actions failed (stock used up)."""
    if cost > 0:
        Campaign.objects.filter(pk=campaign.pk).update(spent_fen=F("spent_fen") - cost)


# --- message texts ---------------------------------------------------------------------------


def templates_of(campaign: Campaign) -> dict[int, MessageTemplate]:
    """The message actions' templates by action index (`templating.resolve`, once per run of
    `contact`, not per member)."""
    return {
        index: templating.resolve(campaign.merchant, action["template"])
        for index, action in enumerate(campaign.actions)
        if action.get("type") == "message"
    }


# --- the other actions -----------------------------------------------------------------------


def _issue_coupon(actor: Actor, member: Member, code: str, key: str) -> str:
    from patron.promotions.services import issue_coupon

    return issue_coupon(actor, member, code, key=key).code


def _give_points(actor: Actor, member: Member, points: int, key: str, campaign: Campaign) -> None:
    from patron.ledger.services import Context, earn_points

    earn_points(
        actor,
        member,
        points,
        key=key,
        pending_days=0,
        context=Context(reason=campaign.name[:100], source="campaign", source_ref=str(campaign.pk)),
    )


def _set_tier(actor: Actor, member: Member, tier: str, campaign: Campaign) -> None:
    from patron.promotions.services import set_member_tier

    set_member_tier(actor, member, tier, reason=campaign.name)


def _open_task(
    actor: Actor, member: Member, role: str, campaign: Campaign, key: str, now: dt.datetime
) -> None:
    """A follow-up task (insight feedback) for a staff member of the role: the member's store's
    one when the role is store-bound, else the first one of the chain."""
    from patron.insight.feedback import local_today
    from patron.insight.models import FollowUpTask, MemberEvent
    from patron.tenancy.models import AuditEntry, Staff
    from patron.tenancy.services import audit

    staff = Staff.objects.filter(
        merchant=campaign.merchant, role=role, is_active=True, user__is_active=True
    ).order_by("pk")
    chosen = staff.filter(store_id=member.store_id).first() or staff.first()
    event = MemberEvent.objects.create(
        member=member,
        merchant=campaign.merchant,
        kind=MemberEvent.Kind.SUGGESTION,
        store_id=member.store_id,
        body=campaign.name,
        occurred_at=now,
        # Unique per merchant and at most 40 characters: the target's key, hashed.
        source="campaign:" + hashlib.sha256(key.encode()).hexdigest()[:24],
    )
    task = FollowUpTask.objects.create(
        event=event,
        merchant=campaign.merchant,
        store_id=member.store_id,
        assignee=chosen.user if chosen else None,
        due_on=local_today(actor, now) + dt.timedelta(days=3),
    )
    audit(
        actor,
        AuditEntry.Action.CREATE,
        task,
        {"assignee": [None, chosen.user.get_username() if chosen else None]},
        label=member.card_no,
    )


def run_side_actions(
    actor: Actor, campaign: Campaign, member: Member, key: str, now: dt.datetime
) -> dict[str, Any]:
    """Coupon, points, tier and task actions for one member; the variables they give the
    message (`coupon`, `points`)."""
    given: dict[str, Any] = {}
    for index, action in enumerate(campaign.actions):
        kind, action_key = action.get("type"), f"{key}:{index}"
        if kind == "coupon":
            given["coupon"] = _issue_coupon(actor, member, action["template"], action_key)
        elif kind == "points":
            _give_points(actor, member, action["points"], action_key, campaign)
            given["points"] = action["points"]
        elif kind == "tier":
            _set_tier(actor, member, action["tier"], campaign)
        elif kind == "task":
            _open_task(actor, member, action["assignee_role"], campaign, action_key, now)
    return given


# --- the pipeline ----------------------------------------------------------------------------


def _decide(
    campaign: Campaign,
    member_id: int,
    sent_lately: int,
    on_channels: Sequence[str],
    blocked: dict[int, str],
) -> tuple[str, str, str]:
    """(group, outcome, reason) before actions and budget."""
    if in_holdout(campaign, member_id):
        return Target.Group.HOLDOUT, Target.Outcome.PENDING, ""
    if member_id in blocked:
        return Target.Group.TREATED, Target.Outcome.SUPPRESSED, blocked[member_id]
    cap = (campaign.caps or {}).get("per_member_per_7d")
    if cap and on_channels and sent_lately + len(on_channels) > cap:
        return Target.Group.TREATED, Target.Outcome.SUPPRESSED, Target.Reason.CAP
    return Target.Group.TREATED, Target.Outcome.REACHED, ""


def contact(
    campaign: Campaign,
    member_ids: Sequence[int],
    *,
    occurrence: str,
    context: dict[int, dict[str, Any]] | None = None,
    run: CampaignRun | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Write the targets of `member_ids` for this occurrence and run the actions; the number
    of members newly reached (messages queued or held). Members already targeted in this
    occurrence, inactive or of another merchant are skipped; a paused or finished campaign
    contacts nobody. The sending job is woken after commit."""
    now = now or timezone.now()
    context = context or {}
    with transaction.atomic():
        campaign = Campaign.objects.select_related("merchant").get(pk=campaign.pk)
        if campaign.status not in SENDING or not member_ids:
            return 0
        # Locking the members (in id order, so two jobs never deadlock) serialises everything
        # that contacts the same member: the cap and the one-target-per-occurrence check.
        # Store and tier come along for the {store} and {tier} variables (only the member row
        # is locked); the merchant is the campaign's, set on each so rendering reads no row.
        members = list(
            Member.objects.select_for_update(of=("self",))
            .select_related("store", "tier")
            .filter(merchant=campaign.merchant, status=MemberStatus.ACTIVE, pk__in=list(member_ids))
            .order_by("pk")
        )
        for member in members:
            member.merchant = campaign.merchant
        done = set(
            Target.objects.filter(
                campaign=campaign, occurrence=occurrence, member_id__in=[m.pk for m in members]
            ).values_list("member_id", flat=True)
        )
        members = [m for m in members if m.pk not in done]
        if not members:
            return 0
        reached, queued = _contact(campaign, members, occurrence, context, run, now)
        # The inbox is a row of ours: delivered in this transaction, so the member sees the
        # message as soon as the contact commits. Providers are called by the sending job.
        channels.send([m for m in queued if m.channel == Channel.INBOX])
        message_ids = [m.pk for m in queued if m.channel != Channel.INBOX]
    if message_ids:
        from patron.campaigns import send_tasks

        transaction.on_commit(lambda: send_tasks.wake_sender(message_ids))
    return reached


def _contact(
    campaign: Campaign,
    members: list[Member],
    occurrence: str,
    context: dict[int, dict[str, Any]],
    run: CampaignRun | None,
    now: dt.datetime,
) -> tuple[int, list[Message]]:
    on_channels = message_channels(campaign)
    ids = [m.pk for m in members]
    lately = recent_messages(ids, now) if campaign.caps else {}
    treated = [pk for pk in ids if not in_holdout(campaign, pk)]
    blocked = suppressed(treated, on_channels) if on_channels else {}
    held_until = quiet_until(campaign, now) if on_channels else None
    side_actions = any(a.get("type") != "message" for a in campaign.actions)
    cost = cost_per_member(campaign)
    templates = templates_of(campaign)
    actor = Actor.system(campaign.merchant)
    decided = {
        m.pk: _decide(campaign, m.pk, lately.get(m.pk, 0), on_channels, blocked) for m in members
    }
    # The budget for every member reached in one conditional UPDATE; only when it does not
    # cover them all is it counted member by member (the first ones get what is left).
    reaching = sum(1 for _g, outcome, _r in decided.values() if outcome == Target.Outcome.REACHED)
    paid_up_front = cost > 0 and spend(campaign, cost * reaching)
    targets: list[Target] = []
    variables: dict[int, dict[str, Any]] = {}
    for member in members:
        group, outcome, reason = decided[member.pk]
        key = f"campaign:{campaign.pk}:{member.pk}:{occurrence}"
        if outcome == Target.Outcome.REACHED:
            if not paid_up_front and not spend(campaign, cost):
                outcome, reason = Target.Outcome.SUPPRESSED, Target.Reason.BUDGET
            elif side_actions:
                try:
                    with transaction.atomic():
                        variables[member.pk] = run_side_actions(actor, campaign, member, key, now)
                except DomainError as error:  # stock used up, member limit, tier gone
                    log.info("campaign %s member %s: %s", campaign.pk, member.pk, error)
                    give_back(campaign, cost)
                    outcome, reason = Target.Outcome.SUPPRESSED, Target.Reason.BUDGET
        if outcome == Target.Outcome.REACHED and held_until is not None:
            outcome, reason = Target.Outcome.HELD, Target.Reason.QUIET_HOURS
        targets.append(
            Target(
                campaign=campaign,
                run=run,
                member=member,
                occurrence=occurrence,
                group=group,
                outcome=outcome,
                reason=reason,
                created_at=now,
                contacted_at=now if outcome in (Target.Outcome.REACHED, "held") else None,
            )
        )
    Target.objects.bulk_create(targets)
    by_member = {m.pk: m for m in members}
    messages = []
    for target in targets:
        if target.outcome not in (Target.Outcome.REACHED, Target.Outcome.HELD):
            continue
        member = by_member[target.member_id]
        values = {**context.get(member.pk, {}), **variables.get(member.pk, {})}
        for index, template in templates.items():
            channel = campaign.actions[index]["channel"]
            # Text, and for SMS/WeChat templates with a provider code the code and the
            # variables' values, which Aliyun, Tencent and WeChat send instead of free text.
            fields = templating.message_fields(template, member, values, channel=channel)
            fields["subject"] = fields["subject"][:200]
            messages.append(
                Message(
                    merchant=campaign.merchant,
                    member=member,
                    campaign=campaign,
                    target=target,
                    channel=channel,
                    status=Message.Status.HELD if held_until else Message.Status.QUEUED,
                    hold_until=held_until,
                    created_at=now,
                    **fields,
                )
            )
    created = Message.objects.bulk_create(messages)
    queued = [m for m in created if m.status == Message.Status.QUEUED]
    reached = sum(1 for t in targets if t.outcome in (Target.Outcome.REACHED, "held"))
    return reached, queued


# --- runs ------------------------------------------------------------------------------------


def start_run(campaign: Campaign, occurrence: str, now: dt.datetime | None = None) -> CampaignRun:
    """Queue a run of `occurrence` over the campaign's whole audience: one background job per
    chunk of CHUNK member ids (after commit). Starting an occurrence again (resume, a retried
    scheduler) goes over the audience again and reaches only those not yet targeted."""
    from patron.campaigns import audience, send_tasks

    now = now or timezone.now()
    ids = list(audience.campaign_members(campaign, now).order_by("pk").values_list("pk", flat=True))
    run, _created = CampaignRun.objects.get_or_create(
        campaign=campaign, occurrence=occurrence, defaults={"started_at": now}
    )
    # A new generation: chunks queued before (a pause, a crash) are dropped when they run.
    run.total, run.processed, run.started_at = len(ids), 0, now
    run.status = CampaignRun.Status.RUNNING if ids else CampaignRun.Status.DONE
    run.finished_at = None if ids else now
    run.save(update_fields=["total", "processed", "status", "finished_at", "started_at"])
    if not ids:
        finish_run(run.pk, now)
        return run
    chunks = [ids[i : i + CHUNK] for i in range(0, len(ids), CHUNK)]
    generation = now.isoformat()
    transaction.on_commit(
        lambda: [send_tasks.contact_chunk(run.pk, generation, chunk) for chunk in chunks]
    )
    return run


def record_progress(run_id: int, processed: int, now: dt.datetime | None = None) -> None:
    """Count a chunk as processed; the last one finishes the run (and a one-off campaign)."""
    CampaignRun.objects.filter(pk=run_id).update(processed=F("processed") + processed)
    run = CampaignRun.objects.get(pk=run_id)
    if run.processed >= run.total and run.status != CampaignRun.Status.DONE:
        finish_run(run_id, now or timezone.now())


def finish_run(run_id: int, now: dt.datetime) -> None:
    finished = CampaignRun.objects.filter(pk=run_id).exclude(status=CampaignRun.Status.DONE)
    if not finished.update(status=CampaignRun.Status.DONE, finished_at=now):
        return
    run = CampaignRun.objects.select_related("campaign").get(pk=run_id)
    Campaign.objects.filter(
        pk=run.campaign_id, kind=Campaign.Kind.ONCE, status=Campaign.Status.RUNNING
    ).update(status=Campaign.Status.DONE, finished_at=now)


# --- held messages ---------------------------------------------------------------------------


def release_held(now: dt.datetime | None = None) -> list[int]:
    """Quiet hours over: held messages queued (their targets reached); their ids, to send.
    Messages of a campaign paused meanwhile stay held until it resumes."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Message.Status.HELD, hold_until__lte=now)
            .filter(Q(campaign__isnull=True) | Q(campaign__status__in=SENDING + ("done",)))
            .values_list("pk", "target_id")
        )
        ids = [pk for pk, _target in due]
        Message.objects.filter(pk__in=ids).update(status=Message.Status.QUEUED)
        Target.objects.filter(
            pk__in={t for _pk, t in due if t}, outcome=Target.Outcome.HELD
        ).update(outcome=Target.Outcome.REACHED, reason="", contacted_at=now)
    return ids
