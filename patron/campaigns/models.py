"""Reaching the members (API.md §9, SPEC F-35..F-40): campaigns, who each one reached, and the
messages it sent on which channel.

A campaign's definition (audience, trigger, schedule, actions, caps, quiet hours) is kept as
the JSON of the API body, validated by `services.validate_spec`; what happened is in rows:
a `CampaignRun` per occurrence of a scheduled campaign, a `Target` per member and occurrence
(holdout, reached or suppressed and why) and a `Message` per message on a channel.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.core.fields import EncryptedCharField
from patron.tenancy.models import run_by_store


class Purpose(models.TextChoices):
    """The seed's three kinds of campaign (F-35)."""

    CARE = "care", pgettext_lazy("campaign purpose", "Relationship care")
    PROMOTION = "promotion", pgettext_lazy("campaign purpose", "Exclusive promotion")
    INFORMATION = "information", pgettext_lazy("campaign purpose", "Information")


class Channel(models.TextChoices):
    INBOX = "inbox", pgettext_lazy("channel", "Inbox")
    SMS = "sms", pgettext_lazy("channel", "SMS")
    EMAIL = "email", pgettext_lazy("channel", "Email")
    WECHAT = "wechat", pgettext_lazy("channel", "WeChat")


class MessageTemplate(models.Model):
    """A message in zh and en with variables (`{name}`, `{points}`, ...), checked when saved.
    SMS and WeChat providers also need the template registered with them (`provider_code`)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    code = models.CharField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.CARE
    )
    subject_zh = models.CharField(_("subject (Chinese)"), max_length=120, blank=True)
    subject_en = models.CharField(_("subject (English)"), max_length=120, blank=True)
    body_zh = models.TextField(_("text (Chinese)"), max_length=1000)
    body_en = models.TextField(_("text (English)"), max_length=1000, blank=True)
    # The template code an SMS provider or WeChat account registered for this text.
    provider_code = models.CharField(_("provider template code"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="one_message_template_code")
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Kind(models.TextChoices):
        ONCE = "once", pgettext_lazy("campaign kind", "One-off")
        RECURRING = "recurring", pgettext_lazy("campaign kind", "Recurring")
        TRIGGER = "trigger", pgettext_lazy("campaign kind", "Triggered journey")

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
        SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
        RUNNING = "running", pgettext_lazy("campaign status", "Running")
        PAUSED = "paused", pgettext_lazy("campaign status", "Paused")
        DONE = "done", pgettext_lazy("campaign status", "Done")
        CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    owner_store = run_by_store()
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.CARE
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    # The API body's parts, as validated (API.md §9).
    audience = models.JSONField(default=dict, blank=True)  # {segment: id} or {filter: {...}}
    trigger = models.JSONField(default=dict, blank=True)  # {event: ..., options}
    schedule = models.JSONField(default=dict, blank=True)  # {at: ...} or {cron: ...}
    actions = models.JSONField(default=list, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(_("holdout %"), default=10)
    caps = models.JSONField(default=dict, blank=True)  # {per_member_per_7d: 2}
    quiet_hours = models.JSONField(default=list, blank=True)  # ["21:00", "09:00"] or []
    budget_fen = models.BigIntegerField(_("budget"), null=True, blank=True)
    spent_fen = models.BigIntegerField(_("spent"), default=0)
    # Sales within this many days of contact count towards the campaign (report, uplift).
    window_days = models.PositiveSmallIntegerField(_("measuring window (days)"), default=14)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the scheduler next starts a run (once at `schedule.at`, recurring by cron).
    next_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("campaign")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["merchant", "status"], name="campaigns_by_status"),
            models.Index(
                fields=["next_run_at"],
                condition=Q(next_run_at__isnull=False),
                name="campaigns_due",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignRun(models.Model):
    """One occurrence of a campaign sent to its audience: the one-off, each recurring date,
    each day's birthday batch. Its progress feeds the console's progress bar."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("run status", "Queued")
        RUNNING = "running", pgettext_lazy("run status", "Sending")
        DONE = "done", pgettext_lazy("run status", "Done")
        FAILED = "failed", pgettext_lazy("run status", "Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="runs")
    occurrence = models.CharField(max_length=60)  # "once", "2026-12-06", ...
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "occurrence"], name="one_run_per_occurrence"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.occurrence}"


class Target(models.Model):
    """One member in one occurrence of a campaign: holdout (never contacted), reached, or
    suppressed and why (F-38, F-39). Unique per occurrence, so a repeated trigger or a rerun
    job reaches nobody twice."""

    class Group(models.TextChoices):
        TREATED = "treated", pgettext_lazy("campaign group", "Treated")
        HOLDOUT = "holdout", pgettext_lazy("campaign group", "Holdout")

    class Outcome(models.TextChoices):
        PENDING = "pending", pgettext_lazy("target outcome", "Pending")
        REACHED = "reached", pgettext_lazy("target outcome", "Reached")
        SUPPRESSED = "suppressed", pgettext_lazy("target outcome", "Suppressed")
        HELD = "held", pgettext_lazy("target outcome", "Held for quiet hours")
        FAILED = "failed", pgettext_lazy("target outcome", "Failed")

    class Reason(models.TextChoices):
        CONSENT = "consent", pgettext_lazy("suppression", "No consent")
        CAP = "cap", pgettext_lazy("suppression", "Frequency cap")
        QUIET_HOURS = "quiet_hours", pgettext_lazy("suppression", "Quiet hours")
        OPTED_OUT = "opted_out", pgettext_lazy("suppression", "Opted out")
        BUDGET = "budget", pgettext_lazy("suppression", "Budget or stock used up")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    run = models.ForeignKey(
        CampaignRun, null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    occurrence = models.CharField(max_length=60)
    group = models.CharField(max_length=8, choices=Group.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    reason = models.CharField(max_length=12, choices=Reason.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    contacted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "occurrence"], name="one_target_per_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "group", "outcome"], name="targets_by_outcome"),
            models.Index(fields=["member", "created_at"], name="targets_by_member"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.member_id} {self.occurrence}"


class Message(models.Model):
    """One message to one member on one channel. Inbox messages are read on the member's pages;
    the others go out through a provider, which may send a receipt (`provider_id`)."""

    class Status(models.TextChoices):
        QUEUED = "queued", pgettext_lazy("message status", "Queued")
        HELD = "held", pgettext_lazy("message status", "Held for quiet hours")
        SENT = "sent", pgettext_lazy("message status", "Sent")
        DELIVERED = "delivered", pgettext_lazy("message status", "Delivered")
        FAILED = "failed", pgettext_lazy("message status", "Failed")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    target = models.ForeignKey(
        Target, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    language = models.CharField(max_length=10, default="zh-hans")
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    hold_until = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=20, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    # The provider's registered template (SMS, WeChat) and its variables' values, when the
    # message's template has a `provider_code` (templating.message_fields); else the channel
    # sends `body` through the section's generic template (docs/channels.md).
    provider_template = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["member", "created_at"], name="messages_by_member"),
            models.Index(fields=["hold_until"], condition=Q(status="held"), name="messages_held"),
            models.Index(fields=["id"], condition=Q(status="queued"), name="messages_queued"),
            models.Index(fields=["provider", "provider_id"], name="messages_by_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.member_id}"


class ChannelSettings(models.Model):
    """The program file's `channels` section of a merchant (API.md §9): SMS provider, SMTP,
    WeChat account. Provider secrets (SMS access key secret, SMTP and WeChat passwords) are
    kept apart, encrypted at rest, and never exported in plain text (docs/channels.md)."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    config = models.JSONField(default=dict, blank=True)  # {sms: {...}, email: {...}, ...}
    # JSON {"sms.access_key_secret": "...", ...}, Fernet-encrypted like ID numbers.
    secrets = EncryptedCharField(blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"channels of {self.merchant_id}"


class CampaignDefaults(models.Model):
    """The program file's `campaigns` section: merchant-wide caps, quiet hours and holdout
    copied into a campaign when it is created without its own (API.md §9)."""

    merchant = models.OneToOneField(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="campaign_defaults"
    )
    caps = models.JSONField(default=dict, blank=True)
    quiet_hours = models.JSONField(default=list, blank=True)
    holdout_percent = models.PositiveSmallIntegerField(null=True, blank=True)
    # What one message costs on a channel, in fen ({"sms": 5}); counted into a report's cost.
    message_cost_fen = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"campaign defaults {self.merchant_id}"


class JourneyStep(models.Model):
    """A triggered journey's contact that waits (the thanks a few hours after a sale): the
    periodic job hands it to `delivery.contact` once `due_at` has passed. Unique per campaign,
    member and occurrence, so a replayed event schedules nothing twice."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    occurrence = models.CharField(max_length=60)
    due_at = models.DateTimeField()
    # The message's variables, as `contact` takes them for this member.
    context = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "member", "occurrence"], name="one_step_per_occurrence"
            )
        ]
        indexes = [
            models.Index(fields=["due_at"], condition=Q(done_at__isnull=True), name="steps_due")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.member_id} {self.occurrence}"
