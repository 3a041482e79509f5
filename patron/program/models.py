from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A product category used by SKUs in baskets and by tier discounts (program `categories`)."""

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="categories"
    )
    code = models.CharField(_("code"), max_length=40)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="uniq_category")]

    def __str__(self) -> str:
        return self.code


class ProgramRevision(models.Model):
    """Each applied program file, with its diff: the history of the merchant's rules."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    document = models.JSONField(_("program file"))
    changes = models.JSONField(_("changes"), default=list)
    # The sections the file gave, as `program export` wrote them just before and just after
    # the apply: the revision page shows their difference.
    before = models.JSONField(_("before"), default=dict)
    after = models.JSONField(_("after"), default=dict)
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    channel = models.CharField(_("channel"), max_length=20, default="cli")

    class Meta:
        verbose_name = _("program revision")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"program of {self.merchant_id} at {self.applied_at:%Y-%m-%d %H:%M}"
