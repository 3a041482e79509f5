"""Stand-ins for the engine part's `delivery.contact` / `start_run` and `audience.members`
that record what the journeys asked for (and write the rows the engine would: a Target per
member and occurrence, a CampaignRun per occurrence), so the journeys are tested alone."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from patron.campaigns import audience, delivery
from patron.campaigns.models import Campaign, CampaignRun, Target
from patron.members.models import Member


@dataclass
class Recorder:
    contacts: list[dict[str, Any]] = field(default_factory=list)
    runs: list[tuple[int, str]] = field(default_factory=list)

    def contact(self, campaign, member_ids, *, occurrence, context=None, run=None, now=None):
        """Records the members newly reached: as the engine's, a member already targeted in
        this occurrence is skipped."""
        done = set(
            Target.objects.filter(campaign=campaign, occurrence=occurrence).values_list(
                "member_id", flat=True
            )
        )
        member_ids = [pk for pk in member_ids if pk not in done]
        if not member_ids:
            return 0
        self.contacts.append(
            {
                "campaign": campaign.pk,
                "members": list(member_ids),
                "occurrence": occurrence,
                "context": dict(context or {}),
            }
        )
        Target.objects.bulk_create(
            [
                Target(
                    campaign=campaign,
                    member_id=pk,
                    occurrence=occurrence,
                    group=Target.Group.TREATED,
                    outcome=Target.Outcome.REACHED,
                )
                for pk in member_ids
            ],
            ignore_conflicts=True,
        )
        return len(member_ids)

    def start_run(self, campaign, occurrence, now=None):
        self.runs.append((campaign.pk, occurrence))
        return CampaignRun.objects.create(campaign=campaign, occurrence=occurrence)

    def reached(self, campaign: Campaign) -> list[int]:
        return [pk for c in self.contacts if c["campaign"] == campaign.pk for pk in c["members"]]


def fake_members(merchant, spec, now=None):
    """The audience `{"filter": {"ids": [...]}}`: just those members."""
    return Member.objects.filter(merchant=merchant, pk__in=spec["filter"]["ids"])


def install(monkeypatch) -> Recorder:
    """Each test module's `recorder` fixture: the stand-ins in place of the engine's."""
    rec = Recorder()
    monkeypatch.setattr(delivery, "contact", rec.contact, raising=False)
    monkeypatch.setattr(delivery, "start_run", rec.start_run, raising=False)
    monkeypatch.setattr(audience, "members", fake_members, raising=False)
    return rec


def make_member(merchant, n: int, **fields) -> Member:
    return Member.objects.create(
        merchant=merchant,
        name=f"会员{n}",
        card_no=f"J{n:05d}",
        mobile=f"139{n:08d}",
        referral_code=f"JR{n}",
        joined_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        **fields,
    )


def journey(merchant, trigger: dict, **fields) -> Campaign:
    values = {
        "name": f"journey {trigger.get('event')}",
        "kind": Campaign.Kind.TRIGGER,
        "status": Campaign.Status.RUNNING,
        "trigger": trigger,
        "actions": [{"type": "message", "channel": "inbox", "template": "thanks"}],
        "launched_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    }
    values.update(fields)
    return Campaign.objects.create(merchant=merchant, **values)
