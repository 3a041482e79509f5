"""Every write to the catalogue: put a product (new or changed), deactivate, reactivate.

`put_product` is idempotent: the same body twice changes nothing the second time and writes no
audit entry. Fields a body leaves out keep their value (a price update need not repeat the
brand); `None` or "" clears an optional one.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from pypinyin import Style, lazy_pinyin

from patron.catalogue.barcodes import clean_barcode, is_valid_barcode
from patron.catalogue.models import MAX_PRODUCT_PRICE, Product
from patron.core.errors import Conflict, FieldError, ValidationFailed
from patron.program.fields import SKU_SHAPE
from patron.program.models import Category
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry
from patron.tenancy.services import audit, diff, snapshot

TEXT_LIMITS = {"name": 100, "brand": 60, "size": 30, "colour": 30}
OPTIONAL_TEXT = ("brand", "size", "colour")
AUDITED = ("name", "category_id", "price", "barcode", "brand", "size", "colour", "is_active")


def clean_sku(raw: Any) -> str:
    """A SKU as written on a product: 1 to 64 characters without spaces, taken as given (a
    form or an import strips the spaces around it first)."""
    sku = raw if isinstance(raw, str) else ""
    if not SKU_SHAPE.fullmatch(sku):
        raise ValidationFailed([FieldError("sku", _("A SKU of 1 to 64 characters, no spaces."))])
    return sku


def _text(data: dict[str, Any], name: str, errors: list[FieldError]) -> str | None:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        errors.append(FieldError(name, _("Must be text.")))
        return None
    value = value.strip()
    if len(value) > TEXT_LIMITS[name]:
        errors.append(
            FieldError(name, _("At most %(limit)d characters.") % {"limit": TEXT_LIMITS[name]})
        )
        return None
    return value


def _price(value: Any, errors: list[FieldError]) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        errors.append(FieldError("price", _("The price is a whole number of fen.")))
        return None
    if value < 0:
        errors.append(FieldError("price", _("The price cannot be negative.")))
        return None
    if value > MAX_PRODUCT_PRICE:
        errors.append(
            FieldError(
                "price",
                _("The price is above %(max)s fen: check the amount (prices are in fen).")
                % {"max": f"{MAX_PRODUCT_PRICE:,}"},
            )
        )
        return None
    return value


def _category(actor: Actor, code: Any, errors: list[FieldError]) -> Category | None:
    category = None
    if isinstance(code, str) and code.strip():
        category = Category.objects.filter(
            merchant=actor.merchant, code=code.strip(), is_active=True
        ).first()
    if category is None:
        errors.append(
            FieldError(
                "category",
                _("Unknown category %(category)r: use one of the program's categories.")
                % {"category": code},
            )
        )
    return category


def _barcode(value: Any, errors: list[FieldError]) -> str | None:
    """The cleaned barcode, None for none; an error (and None) for one that is not valid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = clean_barcode(value) if isinstance(value, str) else None
    if code is None or not is_valid_barcode(code):
        errors.append(
            FieldError(
                "barcode",
                _("%(code)r is not a valid EAN-13, EAN-8 or UPC-A barcode (check its last digit).")
                % {"code": value},
            )
        )
        return None
    return code


def clean_product(actor: Actor, data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """The product's fields from an API body, a form or an import row (model field names).

    With `partial`, fields absent from `data` are absent from the answer (left as they are);
    otherwise name, category and price are required. Raises with every error found.
    """
    errors: list[FieldError] = []
    fields: dict[str, Any] = {}
    for required in ("name", "category", "price"):
        if not partial and data.get(required) in (None, ""):
            errors.append(FieldError(required, _("Required.")))
    if "name" in data and data["name"] not in (None, ""):
        name = _text(data, "name", errors)
        if name == "":
            errors.append(FieldError("name", _("Required.")))
        elif name is not None:
            fields["name"] = name
    if "category" in data and data["category"] not in (None, ""):
        category = _category(actor, data["category"], errors)
        if category is not None:
            fields["category_id"] = category.pk
    if "price" in data and data["price"] not in (None, ""):
        price = _price(data["price"], errors)
        if price is not None:
            fields["price"] = price
    for name in OPTIONAL_TEXT:
        if name in data:
            value = _text(data, name, errors)
            if value is not None:
                fields[name] = value
    if "barcode" in data:
        before = len(errors)
        barcode = _barcode(data["barcode"], errors)
        if len(errors) == before:
            fields["barcode"] = barcode
    if "active" in data and data["active"] is not None:
        if not isinstance(data["active"], bool):
            errors.append(FieldError("active", _("true or false.")))
        else:
            fields["is_active"] = data["active"]
    if errors:
        raise ValidationFailed(errors)
    return fields


def _barcode_taken(actor: Actor, barcode: str | None, sku: str) -> None:
    if not barcode:
        return
    holder = (
        Product.objects.filter(merchant=actor.merchant, barcode=barcode)
        .exclude(sku=sku)
        .values_list("sku", flat=True)
        .first()
    )
    if holder is not None:
        raise Conflict(
            _("Barcode %(barcode)s belongs to product %(sku)s already.")
            % {"barcode": barcode, "sku": holder},
            code="duplicate_barcode",
            errors=[FieldError("barcode", _("Already used by %(sku)s.") % {"sku": holder})],
        )


class Put(NamedTuple):
    product: Product
    created: bool
    changed: bool  # created, or some field took a new value


def put_product(actor: Actor, sku: Any, data: dict[str, Any]) -> Put:
    """Create the product `sku` or bring it to `data`. The same body again changes nothing."""
    sku = clean_sku(sku)
    existing = Product.objects.filter(merchant=actor.merchant, sku=sku).first()
    fields = clean_product(actor, data, partial=existing is not None)
    _barcode_taken(actor, fields.get("barcode"), sku)
    try:
        with transaction.atomic():
            if existing is None:
                return Put(_create(actor, sku, fields), created=True, changed=True)
            changed = _update(actor, existing, fields)
            return Put(existing, created=False, changed=changed)
    except IntegrityError:
        # Another request put the same SKU or barcode between our check and our write.
        raise Conflict(
            _("Product %(sku)s was changed by someone else at the same time: try again.")
            % {"sku": sku},
            code="concurrent_change",
        ) from None


def initials_of(name: str) -> str:
    """明前龙井 -> "mqlj"; letters and digits of other scripts kept, lower case, no spaces."""
    pieces = lazy_pinyin(name, style=Style.FIRST_LETTER, errors="default")
    return "".join(piece.lower() for piece in pieces if not piece.isspace()).replace(" ", "")[:100]


def _create(actor: Actor, sku: str, fields: dict[str, Any]) -> Product:
    fields["initials"] = initials_of(fields.get("name", ""))
    product = Product.objects.create(merchant=actor.merchant, sku=sku, **fields)
    audit(actor, AuditEntry.Action.CREATE, product, diff({}, snapshot(product, AUDITED)))
    return product


def _update(actor: Actor, product: Product, fields: dict[str, Any]) -> bool:
    """Whether anything changed (then saved and audited)."""
    before = snapshot(product, AUDITED)
    for name, value in fields.items():
        setattr(product, name, value)
    changes = diff(before, snapshot(product, AUDITED))
    if changes:
        product.initials = initials_of(product.name)
        product.save()
        audit(actor, AuditEntry.Action.UPDATE, product, changes)
    return bool(changes)


def set_product_active(actor: Actor, product: Product, active: bool) -> Product:
    """Deactivate (no longer sold or scanned; kept for history) or reactivate a product."""
    if product.is_active == active:
        return product
    if active and not product.category.is_active:
        raise ValidationFailed(
            [
                FieldError(
                    "category",
                    _("Its category %(category)s has ended: choose another one first.")
                    % {"category": product.category.display_name},
                )
            ]
        )
    _update(actor, product, {"is_active": active})
    return product
