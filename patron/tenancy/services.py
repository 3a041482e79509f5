"""Every write to tenancy data, in a transaction, audited."""

from __future__ import annotations

import logging
import re
import secrets
import zoneinfo
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from patron.core.errors import Conflict, FieldError, ValidationFailed
from patron.tenancy import logins
from patron.tenancy.actor import Actor
from patron.tenancy.cardprefix import next_prefix
from patron.tenancy.models import STORE_ROLES, ApiKey, AuditEntry, Merchant, Role, Staff, Store
from patron.tenancy.permissions import merchant_zone
from patron.tenancy.selectors import API_KEY_PREFIX, hash_api_key

User = get_user_model()
log = logging.getLogger(__name__)


# --- audit -----------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for every field whose value changed."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def audit_entry(
    actor: Actor, action: str, obj: Model, changes: dict | None = None, *, label: str = ""
) -> AuditEntry:
    """Build (not save) an audit entry, for bulk writers."""
    return AuditEntry(
        merchant=actor.merchant,
        user=actor.user,
        api_key=actor.api_key,
        store=actor.store,
        ip=actor.ip,
        channel=actor.channel,
        action=action,
        object_type=obj._meta.model_name,
        object_id=str(obj.pk),
        object_repr=(label or str(obj))[:200],
        changes=_jsonable(changes or {}),
    )


def audit(
    actor: Actor, action: str, obj: Model, changes: dict | None = None, *, label: str = ""
) -> AuditEntry:
    entry = audit_entry(actor, action, obj, changes, label=label)
    entry.save()
    return entry


def snapshot(obj: Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


# --- merchants -------------------------------------------------------------------------------


def validate_timezone(name: str) -> str:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            [FieldError("timezone", _("Unknown time zone: %s") % name)]
        ) from None
    return name


@transaction.atomic
def create_merchant(slug: str, name: str, timezone: str = "Asia/Shanghai") -> Merchant:
    errors = []
    from django.core.validators import validate_slug

    try:
        validate_slug(slug)
    except Exception:
        errors.append(FieldError("slug", _("Use letters, digits, hyphens or underscores.")))
    if not name or len(name) > 100:
        errors.append(FieldError("name", _("A name of 1 to 100 characters is required.")))
    if len(slug) > 50:
        errors.append(FieldError("slug", _("At most 50 characters.")))
    try:
        validate_timezone(timezone)
    except ValidationFailed as problem:
        errors += problem.errors
    if errors:
        raise ValidationFailed(errors)
    if Merchant.objects.filter(slug=slug).exists():
        raise Conflict(_("A merchant with slug '%s' already exists.") % slug, "duplicate_slug")
    merchant = _create_with_own_prefix(slug=slug, name=name, timezone=timezone)
    audit(
        Actor.system(merchant),
        AuditEntry.Action.CREATE,
        merchant,
        {"slug": [None, slug], "name": [None, name], "timezone": [None, timezone]},
    )
    return merchant


def _create_with_own_prefix(**fields: Any) -> Merchant:
    """The merchant with the next free card number prefix (tenancy.cardprefix); a merchant
    created at the same moment may take the same one: the unique index says so, take the next."""
    for _attempt in range(5):
        prefix = next_prefix(Merchant.objects.values_list("card_prefix", flat=True))
        try:
            with transaction.atomic():
                return Merchant.objects.create(card_prefix=prefix, **fields)
        except IntegrityError:
            if Merchant.objects.filter(slug=fields["slug"]).exists():
                raise Conflict(
                    _("A merchant with slug '%s' already exists.") % fields["slug"],
                    "duplicate_slug",
                ) from None
    raise Conflict(_("Please try again."), "conflict")


# --- stores ----------------------------------------------------------------------------------

STORE_FIELDS = ("code", "name", "address", "phone", "is_active", "refund_approval_above")
DEFAULT_REFUND_APPROVAL = 50000  # fen: 500 yuan
MAX_REFUND_APPROVAL = 10**10  # fen: the largest price a sale line may carry
# ASCII only, as in program files (program.fields.CODE_SHAPE): every store can be exported.
STORE_CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,32}")


def _check_store(code: str | None, name: str, address: str = "", phone: str = "") -> None:
    """Raise with every problem; `code` None skips the code (it never changes after create)."""
    errors = []
    if code is not None and (not isinstance(code, str) or not STORE_CODE_SHAPE.fullmatch(code)):
        errors.append(FieldError("code", _("Use 1 to 32 letters, digits, - or _.")))
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        errors.append(FieldError("name", _("A name of 1 to 100 characters is required.")))
    if not isinstance(address, str) or len(address) > 200:
        errors.append(FieldError("address", _("At most %d characters.") % 200))
    if not isinstance(phone, str) or len(phone) > 32:
        errors.append(FieldError("phone", _("At most %d characters.") % 32))
    if errors:
        raise ValidationFailed(errors)


def _check_refund_approval(amount: Any) -> None:
    """None (never ask) or a whole number of fen from 0 (ask for every refund) up."""
    if amount is None:
        return
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or not (0 <= amount <= MAX_REFUND_APPROVAL)
    ):
        raise ValidationFailed(
            [
                FieldError(
                    "refund_approval_above", _("Enter an amount of 0 or more, or leave it empty.")
                )
            ]
        )


@transaction.atomic
def create_store(
    actor: Actor,
    code: str,
    name: str,
    address: str = "",
    phone: str = "",
    refund_approval_above: int | None = DEFAULT_REFUND_APPROVAL,
) -> Store:
    _check_store(code, name, address, phone)
    _check_refund_approval(refund_approval_above)
    if Store.objects.filter(merchant=actor.merchant, code=code).exists():
        raise Conflict(
            _("Store code '%s' is already used.") % code,
            "duplicate_store",
            [FieldError("code", _("This code is already used."))],
        )
    store = Store.objects.create(
        merchant=actor.merchant,
        code=code,
        name=name,
        address=address,
        phone=phone,
        refund_approval_above=refund_approval_above,
    )
    audit(actor, AuditEntry.Action.CREATE, store, diff({}, snapshot(store, STORE_FIELDS)))
    return store


@transaction.atomic
def update_store(actor: Actor, store: Store, **changes: Any) -> Store:
    before = snapshot(store, STORE_FIELDS)
    after = {
        **before,
        **{k: v for k, v in changes.items() if k in STORE_FIELDS and k != "code"},
    }
    _check_store(None, after["name"], after["address"], after["phone"])
    _check_refund_approval(after["refund_approval_above"])
    for key, value in after.items():
        setattr(store, key, value)
    changed = diff(before, after)
    if changed:
        store.save()
        action = (
            AuditEntry.Action.DELETE
            if changed.get("is_active") == [True, False]
            else (AuditEntry.Action.UPDATE)
        )
        audit(actor, action, store, changed)
    return store


# --- staff -----------------------------------------------------------------------------------

STAFF_FIELDS = ("role", "store_id", "is_active")
KEEP_STORE: Any = object()  # update_staff(store=...) not given: a store-bound role keeps its store


def _check_staff_role(actor: Actor, role: str, store: Store | None) -> None:
    errors = []
    if role not in Role.values:
        errors.append(FieldError("role", _("Unknown role.")))
    elif role in STORE_ROLES and store is None:
        errors.append(FieldError("store", _("Store managers and cashiers need a store.")))
    if store is not None and store.merchant_id != actor.merchant.pk:
        errors.append(FieldError("store", _("Unknown store.")))
    if errors:
        raise ValidationFailed(errors)


@transaction.atomic
def create_staff(
    actor: Actor,
    username: str,
    password: str,
    role: str,
    store: Store | None = None,
    full_name: str = "",
) -> Staff:
    _check_staff_role(actor, role, store)
    errors = []
    if not username or len(username) > 150:
        errors.append(FieldError("username", _("A user name of 1 to 150 characters is required.")))
    if len(password) < 8:
        errors.append(FieldError("password", _("At least 8 characters.")))
    if errors:
        raise ValidationFailed(errors)
    if role not in STORE_ROLES:
        store = None
    try:
        with transaction.atomic():
            user = User.objects.create_user(username=username, password=password)
    except IntegrityError:
        raise Conflict(
            _("User name '%s' is taken.") % username,
            "duplicate_username",
            [FieldError("username", _("This user name is taken."))],
        ) from None
    user.first_name = full_name[:150]
    user.save(update_fields=["first_name"])
    staff = Staff.objects.create(user=user, merchant=actor.merchant, role=role, store=store)
    audit(
        actor,
        AuditEntry.Action.CREATE,
        staff,
        {
            "username": [None, username],
            "role": [None, role],
            "store": [None, store.code if store else None],
        },
    )
    return staff


@transaction.atomic
def update_staff(
    actor: Actor,
    staff: Staff,
    *,
    role: str | None = None,
    store: Store | None = KEEP_STORE,
    is_active: bool | None = None,
    password: str | None = None,
    full_name: str | None = None,
) -> Staff:
    before = snapshot(staff, STAFF_FIELDS)
    new_role = role or staff.role
    if store is KEEP_STORE:
        store = staff.store
    new_store = store if new_role in STORE_ROLES else None
    _check_staff_role(actor, new_role, new_store)
    staff.role, staff.store = new_role, new_store
    if is_active is not None:
        staff.is_active = is_active
    changed = diff(before, snapshot(staff, STAFF_FIELDS))
    if password:
        if len(password) < 8:
            raise ValidationFailed([FieldError("password", _("At least 8 characters."))])
        staff.user.set_password(password)
        staff.user.save(update_fields=["password"])
        changed["password"] = ["***", "***"]
    if full_name is not None and full_name.strip()[:150] != staff.user.first_name:
        changed["full_name"] = [staff.user.first_name, full_name.strip()[:150]]
        staff.user.first_name = full_name.strip()[:150]
        staff.user.save(update_fields=["first_name"])
    if changed:
        staff.save()
        action = (
            AuditEntry.Action.DELETE
            if changed.get("is_active") == [True, False]
            else (AuditEntry.Action.UPDATE)
        )
        audit(actor, action, staff, changed)
    return staff


# --- API keys --------------------------------------------------------------------------------


@transaction.atomic
def create_api_key(actor: Actor, name: str = "default") -> tuple[ApiKey, str]:
    """Returns the key row and the plain key, which is never stored and shown only now."""
    if not name or len(name) > 100:
        raise ValidationFailed([FieldError("name", _("A name of 1 to 100 characters."))])
    prefix = secrets.token_hex(6)
    plain = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey.objects.create(
        merchant=actor.merchant,
        name=name,
        prefix=prefix,
        key_hash=hash_api_key(plain),
        created_by=actor.user,
    )
    audit(actor, AuditEntry.Action.CREATE, key, {"name": [None, name]})
    return key, plain


@transaction.atomic
def revoke_api_key(actor: Actor, key: ApiKey) -> ApiKey:
    from django.utils import timezone

    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
        audit(actor, AuditEntry.Action.DELETE, key, {"revoked": [False, True]})
    return key


# --- console log-in locks (django-axes; reads and the lockout page in tenancy.logins) ---------


def record_lockout(sender, request, username: str | None, ip_address: str | None, **kwargs):
    """Receiver of axes' `user_locked_out`: one log line, and an audit entry for each merchant
    with staff of that user name (an unknown name, or an address alone, is in the log only)."""
    if getattr(request, "axes_failures_since_start", None) is None:
        return  # axes also signals each refusal during a lock: not a new lockout
    until = logins.locked_until(username, ip_address) or timezone.now() + logins.cool_off()
    failures = request.axes_failures_since_start
    log.warning(
        "Console log-in locked until %s after %d failed log-ins: user name %r, IP %s",
        until.isoformat(timespec="seconds"),
        failures,
        (username or "")[:150],  # %r: a typed name cannot forge a log line
        ip_address,
    )
    if username:
        for staff in Staff.objects.select_related("merchant", "store", "user").filter(
            user__username=username
        ):
            audit_lockout(staff, ip_address, until, failures)


def audit_lockout(staff: Staff, ip: str | None, until: datetime, failures: int) -> AuditEntry:
    """Nobody known acted (the entry's user stays empty: "System"); it is filed under the
    staff's store so that store's manager sees it too."""
    entry = audit_entry(
        Actor(merchant=staff.merchant, ip=ip, channel="console"),
        AuditEntry.Action.LOCKOUT,
        staff,
        {"locked_until": [None, _local_iso(until, staff)], "failed_logins": [None, failures]},
        label=staff.user.get_username(),
    )
    entry.store = staff.store
    entry.save()
    return entry


@transaction.atomic
def unlock_login(actor: Actor, staff: Staff) -> bool:
    """Lift a log-in lock on this staff's user name (and the addresses it failed from);
    False when nothing was locked."""
    username = staff.user.get_username()
    until = logins.staff_locks([username]).get(username)
    logins.unlock(username, staff.merchant)
    if until is None:
        return False
    audit(
        actor,
        AuditEntry.Action.UNLOCK,
        staff,
        {"locked_until": [_local_iso(until, staff), None]},
        label=username,
    )
    return True


def _local_iso(moment: datetime, staff: Staff) -> str:
    return moment.astimezone(merchant_zone(staff.merchant.timezone)).isoformat(timespec="seconds")
