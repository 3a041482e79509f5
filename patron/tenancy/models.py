"""Merchants, stores, staff roles, API keys and the audit log (F-43, F-46, F-48)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    timezone = models.CharField(_("timezone"), max_length=64, default="Asia/Shanghai")
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    # Last card number sequence handed out; bumped with UPDATE ... SET seq = seq + n.
    card_seq = models.BigIntegerField(default=0)
    # Card numbers are this prefix, an 8-digit sequence and a Luhn check digit (F-06). Each
    # merchant has its own (tenancy.cardprefix): no two merchants can issue the same number.
    card_prefix = models.CharField(_("card number prefix"), max_length=6, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("merchant")

    def __str__(self) -> str:
        return self.name


class Store(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="stores")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Refunds at the till above this many fen need a store manager's approval; None: never.
    # (The API's refunds are the integrator's to authorise and never ask.)
    refund_approval_above = models.BigIntegerField(
        _("refunds needing a manager above"), null=True, blank=True, default=50000
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["merchant", "code"], name="uniq_store_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


def run_by_store() -> models.ForeignKey:
    """The field naming the store that runs and pays for an activity (a promotion, a coupon
    template, a campaign; F-41); None: HQ's, for the whole chain."""
    return models.ForeignKey(
        Store,
        verbose_name=_("run by store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )


class Role(models.TextChoices):
    HQ_ADMIN = "hq_admin", _("HQ admin")
    STORE_MANAGER = "store_manager", _("Store manager")
    CASHIER = "cashier", _("Cashier")
    MARKETER = "marketer", _("Marketer")


# Roles bound to one store: they see and change only that store's data.
STORE_ROLES = {Role.STORE_MANAGER, Role.CASHIER}
# Roles allowed to see unmasked personal data (mobile, ID number).
PERSONAL_DATA_ROLES = {Role.HQ_ADMIN, Role.STORE_MANAGER}


class Staff(models.Model):
    """A Django user's role at one merchant."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_roles"
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    store = models.ForeignKey(
        Store, verbose_name=_("store"), null=True, blank=True, on_delete=models.PROTECT
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff")
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="uniq_staff_user_merchant"),
            models.CheckConstraint(
                condition=~models.Q(role__in=["store_manager", "cashier"])
                | models.Q(store__isnull=False),
                name="store_role_has_store",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} · {self.get_role_display()}"

    @property
    def is_store_bound(self) -> bool:
        return self.role in STORE_ROLES

    @property
    def sees_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES


class ApiKey(models.Model):
    """A merchant's API key. Only a SHA-256 of the key is stored; the key is shown once."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")

    def __str__(self) -> str:
        return f"{self.name} (pk_{self.prefix}_…)"


class AuditEntry(models.Model):
    """Who did what, when, where (F-46). Append-only: written by `tenancy.services.audit`."""

    class Action(models.TextChoices):
        CREATE = "create", _("create")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")
        VIEW = "view", _("view personal data")
        EXPORT = "export", _("export")
        IMPORT = "import", _("import")
        LOCKOUT = "lockout", _("log-in locked")
        UNLOCK = "unlock", _("log-in unlocked")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="audit_entries")
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    store = models.ForeignKey(Store, null=True, blank=True, on_delete=models.SET_NULL)
    ip = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=20, default="console")  # console / api / cli
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=50)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        # The log's pages read newest first, all of it or one store, object type or action:
        # each has an index in that order, so a page is a seek, not a sort of the whole log.
        indexes = [
            models.Index(fields=["merchant", "object_type", "object_id"]),
            models.Index(fields=["merchant", "-at", "-id"], name="audit_newest"),
            models.Index(fields=["merchant", "store", "-at", "-id"], name="audit_store_newest"),
            models.Index(
                fields=["merchant", "object_type", "-at", "-id"], name="audit_type_newest"
            ),
            models.Index(fields=["merchant", "action", "-at", "-id"], name="audit_action_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_id}"
