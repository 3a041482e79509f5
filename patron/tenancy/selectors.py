"""Reads for tenancy, and the one helper that scopes every tenant query."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from typing import NoReturn

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from patron.core import rawsql
from patron.core.errors import DomainError, FieldError, NotFound, PermissionDenied
from patron.tenancy.actor import Actor
from patron.tenancy.models import ApiKey, AuditEntry, Merchant, Staff, Store

API_KEY_PREFIX = "pk_"


def scoped(queryset: QuerySet, actor: Actor, store_field: str | None = "store") -> QuerySet:
    """Limit a tenant-owned queryset to the actor's merchant, and store for store-bound roles."""
    queryset = queryset.filter(merchant=actor.merchant)
    store = actor.store_bound
    if store is not None and store_field:
        queryset = queryset.filter(**{store_field: store})
    return queryset


def merchant_stores(actor: Actor) -> QuerySet[Store]:
    """Every store of the merchant (deactivated ones last), with its member and staff counts."""
    return (
        scoped(Store.objects.all(), actor, store_field=None)
        .annotate(
            member_count=Count("members", distinct=True),
            staff_count=Count("staff", distinct=True, filter=Q(staff__is_active=True)),
        )
        .order_by("-is_active", "code")
    )


def merchant_staff(actor: Actor) -> QuerySet[Staff]:
    return scoped(Staff.objects.select_related("user", "store"), actor, store_field=None).order_by(
        "-is_active", "user__username"
    )


def merchant_api_keys(actor: Actor) -> QuerySet[ApiKey]:
    return scoped(ApiKey.objects.select_related("created_by"), actor, store_field=None).order_by(
        "revoked_at", "-created_at"
    )


def merchant_by_slug(slug: str) -> Merchant:
    try:
        return Merchant.objects.get(slug=slug)
    except Merchant.DoesNotExist:
        raise NotFound(f"No merchant with slug '{slug}'") from None


def store_by_code(merchant: Merchant, code: str, *, active_only: bool = True) -> Store:
    stores = Store.objects.filter(merchant=merchant, code=code)
    if active_only:
        stores = stores.filter(is_active=True)
    store = stores.first()
    if store is None:
        raise NotFound(f"Unknown store '{code}'")
    return store


def active_stores(merchant: Merchant) -> QuerySet[Store]:
    return Store.objects.filter(merchant=merchant, is_active=True).order_by("code")


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_key_from_authorization(header: str) -> ApiKey | None:
    """Resolve `Bearer pk_<prefix>_<secret>` to a live ApiKey, or None."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return api_key_from_token(token.strip())


# Every API request asks this: one fixed statement for the key and its merchant.
API_KEY = rawsql.Statement(
    "SELECT {k:columns}, {m:columns} FROM {k} JOIN {m} ON {m.id} = {k.merchant_id}"
    " WHERE {k.prefix} = %s AND {k.revoked_at} IS NULL",
    k=rawsql.Table(ApiKey, "k"),
    m=rawsql.Table(Merchant, "m"),
)


def api_key_from_token(token: str) -> ApiKey | None:
    if not token.startswith(API_KEY_PREFIX) or len(token) > 200:
        return None
    prefix = token[len(API_KEY_PREFIX) :].split("_", 1)[0]
    row = rawsql.fetch_one(API_KEY, [prefix])
    key = None
    if row is not None:
        split = rawsql.width(ApiKey)
        key = rawsql.build(ApiKey, row[:split])
        key.merchant = rawsql.build(Merchant, row[split:])
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(token)):
        return None
    return key


# --- fragments for other apps' statements ----------------------------------------------------


def merchant_with(*parts: Callable[[rawsql.Column], rawsql.Join]) -> rawsql.Statement:
    """One row for the merchant whose id is the statement's last parameter, with each part
    LEFT JOINed on that id (a part gets the merchant's id column, returns its `Join`): what a
    hot path reads about the merchant, from several apps, in one statement."""
    merchant = rawsql.Table(Merchant, "mm")
    joins = [part(merchant.id) for part in parts]
    return rawsql.Statement(
        "SELECT {columns} FROM {mm} {clauses} WHERE {mm.id} = %s",
        columns=rawsql.joined([join.columns for join in joins], ", "),
        clauses=rawsql.joined([join.clause for join in joins], " "),
        mm=merchant,
    )


def store_join(merchant_id: rawsql.Column) -> rawsql.Join:
    """The merchant's active store whose code is the clause's parameter (every column, NULL
    when there is none), joined as `s`."""
    store = rawsql.Table(Store, "s")
    return rawsql.Join(
        columns=rawsql.Statement("{s:columns}", s=store),
        clause=rawsql.Statement(
            "LEFT JOIN {s} ON {s.merchant_id} = {merchant_id} AND {s.code} = %s AND {s.is_active}",
            s=store,
            merchant_id=merchant_id,
        ),
        width=rawsql.width(Store),
    )


def named_staff(actor: Actor, username: str | None, store: Store | None) -> Staff | None:
    """The staff a call names as who sold, issued, topped up or recruited (API.md §3 and §12
    `staff`): one of the merchant's active staff who may work at `store` (any store when the
    call names none). A store-bound staff signed in may name only themselves. None when the
    call names nobody (the actor's own user then stands for it)."""
    if not username:
        return None
    staff = (
        Staff.objects.select_related("user", "store")
        .filter(merchant=actor.merchant, user__username=username, is_active=True)
        .first()
    )
    if staff is None or not staff.user.is_active:
        _refuse_staff(_("No active staff named %(name)r.") % {"name": username}, "unknown_staff")
    if store is not None and staff.is_store_bound and staff.store_id != store.pk:
        message = _("%(name)s works at another store, not at %(store)s.")
        _refuse_staff(message % {"name": username, "store": store.name}, "staff_not_at_store")
    if actor.store_bound is not None and actor.staff is not None and actor.staff.pk != staff.pk:
        raise PermissionDenied(_("You can only record your own sales."))
    return staff


def _refuse_staff(message: str, code: str) -> NoReturn:
    raise DomainError(message, code, 422, [FieldError("staff", message)])


def acting_for(actor: Actor, username: str | None, store: Store | str | None = None) -> Actor:
    """The actor a call stands for when it names its staff: what it writes is theirs (a card's
    issued_by, a ledger transaction's user, a member's recruited_by) and audited with their
    name; the API key, channel and address stay the caller's. `store` may be a code (one the
    merchant has not is the service's to refuse)."""
    if isinstance(store, str):
        store = Store.objects.filter(merchant=actor.merchant, code=store).first()
    staff = named_staff(actor, username, store)
    return actor if staff is None else replace(actor, staff=staff)


def staff_for_user(user) -> Staff | None:
    if not user.is_authenticated:
        return None
    return (
        Staff.objects.select_related("merchant", "store", "user")
        .filter(user=user, is_active=True, merchant__isnull=False)
        .order_by("id")
        .first()
    )


def audit_entries(actor: Actor) -> QuerySet[AuditEntry]:
    return scoped(AuditEntry.objects.select_related("user", "api_key", "store"), actor)


# Each step seeks the next object type after the last one in the (merchant, object_type, …)
# index: one index probe per type instead of a DISTINCT over every entry of the log.
AUDIT_OBJECT_TYPES = rawsql.Statement(
    "WITH RECURSIVE types(object_type) AS ("
    " SELECT (SELECT MIN({a.object_type}) FROM {a} WHERE {a.merchant_id} = %s)"
    " UNION ALL"
    " SELECT (SELECT MIN({b.object_type}) FROM {b}"
    "  WHERE {b.merchant_id} = %s AND {b.object_type} > types.object_type)"
    " FROM types WHERE types.object_type IS NOT NULL"
    ") SELECT object_type FROM types WHERE object_type IS NOT NULL",
    a=rawsql.Table(AuditEntry, "a"),
    b=rawsql.Table(AuditEntry, "b"),
)


def audit_object_types(actor: Actor) -> list[str]:
    """The kinds of object the merchant's log mentions, in code order. A store-bound role is
    offered the merchant's list too: a type its store never touched only filters to nothing."""
    merchant_id = actor.merchant.pk
    return [row[0] for row in rawsql.fetch_all(AUDIT_OBJECT_TYPES, [merchant_id, merchant_id])]
