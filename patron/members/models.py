"""Members, custom fields, tags and consent (F-01, F-03, F-38, F-45)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.core.fields import EncryptedCharField
from patron.members.pinyin import name_pinyin


class Gender(models.TextChoices):
    UNKNOWN = "U", _("Unknown")
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class IncomeBand(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    LOW = "low", _("Under 5,000 / month")
    MIDDLE = "middle", _("5,000–15,000 / month")
    HIGH = "high", _("15,000–50,000 / month")
    TOP = "top", _("Over 50,000 / month")


class Channel(models.TextChoices):
    TILL = "till", _("At the till")
    QR = "qr", _("QR code / link")
    H5 = "h5", _("Mobile page")
    IMPORT = "import", _("Bulk import")
    API = "api", _("API")
    CONSOLE = "console", _("Console")
    # Created at an allied merchant's request: the member asked to move points here (F-42).
    ALLIANCE = "alliance", _("Alliance partner")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    FROZEN = "frozen", _("Frozen")
    CLOSED = "closed", _("Closed")


class Tag(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=30)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["merchant", "name"], name="uniq_tag")]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A merchant-defined profile field (clothing size, favourite colour, blood type …)."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        CHOICE = "choice", _("Choice")
        DATE = "date", _("Date")

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "key"], name="uniq_custom_field")
        ]

    def __str__(self) -> str:
        return self.label


class AgreementUnit(models.Model):
    """A 协议单位: a company or body whose people join under it with its own discount (F-02)."""

    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(pgettext_lazy("organisation", "name"), max_length=100)
    # {category: percent of price} as a tier's member prices; "*" for every category.
    discount = models.JSONField(_("discount"), default=dict, blank=True)
    contact_name = models.CharField(_("contact"), max_length=50, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=11, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    valid_until = models.DateField(_("agreement valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("agreement unit")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="uniq_agreement_unit")
        ]

    def __str__(self) -> str:
        return self.name


class Member(models.Model):
    merchant = models.ForeignKey("tenancy.Merchant", on_delete=models.CASCADE)
    card_no = models.CharField(_("card number"), max_length=20)
    mobile = models.CharField(_("mobile"), max_length=11)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50, blank=True)
    # The name in lowercase pinyin, run together and as initials ("zhangsan zs"), for search
    # from keyboards without a Chinese input method. Derived from `name` on every save.
    name_pinyin = models.CharField(max_length=200, blank=True, default="", editable=False)
    gender = models.CharField(
        _("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    # Lunar birthday as MM-DD in the Chinese calendar (many members celebrate that one).
    lunar_birthday = models.CharField(_("lunar birthday"), max_length=5, blank=True)
    id_number = EncryptedCharField(_("ID number"), blank=True, default="")
    email = models.EmailField(_("email"), blank=True)
    region = models.CharField(_("region"), max_length=60, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    occupation = models.CharField(_("occupation"), max_length=60, blank=True)
    income_band = models.CharField(
        _("income band"), max_length=10, choices=IncomeBand.choices, blank=True, default=""
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="members")
    consent_sms = models.BooleanField(_("SMS marketing"), default=False)
    consent_wechat = models.BooleanField(_("WeChat marketing"), default=False)
    consent_email = models.BooleanField(_("email marketing"), default=False)
    source_channel = models.CharField(
        _("source channel"), max_length=10, choices=Channel.choices, default=Channel.CONSOLE
    )
    store = models.ForeignKey(
        "tenancy.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    recruited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recruited by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    referral_code = models.CharField(_("referral code"), max_length=12)
    referred_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # Empty: the merchant's tier of rank 0 (where every new member starts).
    tier = models.ForeignKey(
        "promotions.Tier",
        verbose_name=_("tier"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    agreement_unit = models.ForeignKey(
        AgreementUnit,
        verbose_name=_("agreement unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    joined_at = models.DateTimeField(_("joined at"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("member")
        ordering = ["-joined_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "mobile"], name="uniq_member_mobile"),
            models.UniqueConstraint(fields=["merchant", "card_no"], name="uniq_member_card"),
            models.UniqueConstraint(
                fields=["merchant", "referral_code"], name="uniq_member_referral"
            ),
        ]
        indexes = [
            models.Index(fields=["merchant", "store", "joined_at"]),
            # A store's member ids from the index alone: a segment count that mixes the home
            # store (or a store manager's scope) with insight columns hashes these against
            # the insight rows instead of reading 1/3 of the member table (docs/segments.md).
            models.Index(fields=["merchant", "store", "id"], name="member_store_ids"),
            # The list's and a search tier's order (newest first, ids breaking ties) read
            # straight from the index: an import gives 10,000 members one join time, and
            # without the id the database sorted each such group to hand out a page.
            models.Index(fields=["merchant", "joined_at", "id"], name="member_newest"),
            models.Index(fields=["merchant", "name"]),
            # The list filtered by a rare status (frozen, closed) without reading every member.
            # Search's PostgreSQL-only indexes are in migration 0008 (docs/scale.md).
            models.Index(fields=["merchant", "status", "joined_at"], name="member_status_joined"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.card_no}"

    def save(self, *args, **kwargs) -> None:
        self.name_pinyin = name_pinyin(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin"}
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        """Whether the member's balances may move (not frozen, not closed)."""
        return self.status == MemberStatus.ACTIVE


class ConsentRecord(models.Model):
    """History of marketing consent: what was granted or withdrawn, when and how (F-38)."""

    class Topic(models.TextChoices):
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        EMAIL = "email", _("Email")

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="consents")
    topic = models.CharField(max_length=10, choices=Topic.choices)
    granted = models.BooleanField()
    method = models.CharField(max_length=10, choices=Channel.choices)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.topic}={'yes' if self.granted else 'no'} via {self.method}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Stopped")


class ImportBatch(models.Model):
    """One bulk import of members from a spreadsheet, or its dry run (F-03, F-46).

    Dry runs are kept too: the console previews an upload as a dry run and the operator then
    confirms that very batch, so the stored file and its checksum must outlive the request.
    """

    merchant = models.ForeignKey(
        "tenancy.Merchant", on_delete=models.CASCADE, related_name="import_batches"
    )
    file_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    dry_run = models.BooleanField(_("dry run"), default=False)
    channel = models.CharField(_("channel"), max_length=20, default="cli")  # cli / console / api
    default_store = models.ForeignKey(
        "tenancy.Store",
        verbose_name=_("default store"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    skipped_existing = models.PositiveIntegerField(_("already members"), default=0)
    rejected = models.PositiveIntegerField(_("rows with errors"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    # [{row, column, message}], capped: a hopeless file must not bloat the table.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    # First valid rows with the mobile masked, for the console preview.
    preview = models.JSONField(_("preview"), default=list, blank=True)
    # Console uploads only: the saved file (relative to DATA_DIR/imports) until it is imported.
    stored_file = models.CharField(_("stored file"), max_length=255, blank=True)
    source = models.ForeignKey(
        "self",
        verbose_name=_("confirmed dry run"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="confirmations",
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    # A big file imports for minutes (in a job when confirmed on the console): its state and
    # how far it has read, in bytes of the file, so a page can show a progress line.
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.DONE
    )
    bytes_read = models.BigIntegerField(_("bytes read"), default=0)
    bytes_total = models.BigIntegerField(_("file size"), default=0)
    failure = models.TextField(_("why it stopped"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("member import")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["merchant", "created_at"])]

    def __str__(self) -> str:
        return self.file_name

    @property
    def errors_truncated(self) -> bool:
        return self.error_count > len(self.errors)

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent_read(self) -> int:
        if not self.bytes_total:
            return 0
        return min(100, self.bytes_read * 100 // self.bytes_total)
