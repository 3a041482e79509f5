"""What the member's pages keep: one-time codes and erasure (account deletion) requests.

A member's session is Django's session (patron.portal.session), not a table.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class OneTimeCode(models.Model):
    """A 6-digit code sent by SMS to log in or join (issue 18 §2).

    Only a hash of the code is kept. A code lives CODE_TTL, allows MAX_TRIES wrong answers,
    and is used once. The rows are also the rate limiter's memory: codes asked per mobile and
    per IP in a window are counted here, so limits hold across processes without Redis.
    """

    class Purpose(models.TextChoices):
        LOGIN = "login", _("Log in")
        JOIN = "join", _("Join")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    mobile = models.CharField(_("mobile"), max_length=11)
    purpose = models.CharField(max_length=10, choices=Purpose.choices, default=Purpose.LOGIN)
    code_hash = models.CharField(max_length=128)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)  # wrong answers so far
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["merchant", "mobile", "created_at"]),
            models.Index(fields=["ip", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.mobile[:3]}****{self.mobile[-4:]}"


class ErasureRequest(models.Model):
    """A member's request to delete their account (F-45, PIPL), and what became of it.

    The member row stays (the ledger and sales point at it) but its personal fields are erased
    when the request is completed; `settlement` is what the member was shown and confirmed:
    principal refundable, bonus, points and coupons forfeited.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for settlement")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="erasure_requests"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    settlement = models.JSONField(_("settlement"), default=dict, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        "tenancy.Staff", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("erasure request")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["merchant", "status", "requested_at"])]

    def __str__(self) -> str:
        return f"erasure of member {self.member_id} ({self.status})"


class DynamicCode(models.Model):
    """The short numeric code under the card page's barcode (F-20).

    The QR carries a signed token too long for a 1D barcode, so the barcode carries random
    digits that name the member here instead. A code works CODE_TTL (as the QR token does) and
    its row is kept a while after, so the till can tell a stale screenshot ("expired") from a
    mistyped number; `digits` is unique while the row lives (patron.portal.codes).
    """

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE, related_name="+")
    member = models.ForeignKey("members.Member", on_delete=models.CASCADE, related_name="+")
    digits = models.CharField(max_length=18, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"member code {self.digits[:4]}… until {self.expires_at:%H:%M:%S}"
