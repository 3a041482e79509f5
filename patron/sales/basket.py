"""The open basket kept on the server, so a reload (F5) or a crashed tab loses nothing.

The page still posts the whole basket with every key (`forms.read_till`); after each operation
the view keeps a copy here, in the cashier's session, one per store (a cashier sells in one
store; HQ may switch). `GET /cashier/` shows the kept basket; confirming the sale or clearing
the basket drops it. The copy holds what the page would post again — lines, member, codes,
points, stored value, the one-time key (a reload must not make a confirmed-twice sale two
sales) and the selected line — never the member's PIN.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from patron.core.text import INT64_MAX
from patron.sales.forms import MAX_CODES, MAX_QUANTITY, MAX_TILL_LINES, Till, TillLine, one_time_key

BASKETS = "sales.baskets"  # session: {"<merchant>:<store>": basket}
LINE_FIELDS = {f.name for f in fields(TillLine)} - {"typed_quantity"}


def slot(merchant_id: int, store_id: int) -> str:
    return f"{merchant_id}:{store_id}"


def is_empty(till: Till) -> bool:
    return not (till.lines or till.member or till.codes)


def line_data(line: TillLine) -> dict[str, Any]:
    return {name: value for name, value in asdict(line).items() if name in LINE_FIELDS}


def line_from(data: Any) -> TillLine | None:
    """A kept line back, or None when it is not one (a session written by an older till)."""
    if not isinstance(data, dict):
        return None
    known = {name: data[name] for name in LINE_FIELDS if name in data}
    try:
        line = TillLine(**known)
    except TypeError:
        return None
    valid = (
        isinstance(line.sku, str)
        and line.sku
        and isinstance(line.unit_price, int)
        and 0 < line.unit_price <= INT64_MAX
        and isinstance(line.quantity, int)
        and 0 < line.quantity <= MAX_QUANTITY
    )
    return line if valid else None


def whole(value: Any, high: int = INT64_MAX) -> int:
    return value if isinstance(value, int) and 0 <= value <= high else 0


class Baskets:
    """The open baskets of one login session."""

    def __init__(self, session: Any, merchant_id: int) -> None:
        self.session = session
        self.merchant_id = merchant_id

    def _all(self) -> dict[str, Any]:
        kept = self.session.get(BASKETS)
        return kept if isinstance(kept, dict) else {}

    def keep(self, store_id: int, till: Till) -> None:
        """Keep this basket for the store; an empty one is dropped instead."""
        if is_empty(till):
            self.drop(store_id)
            return
        kept = self._all()
        kept[slot(self.merchant_id, store_id)] = {
            "key": till.key,
            "store": till.store,
            "member": till.member,
            "lines": [line_data(line) for line in till.lines],
            "codes": list(till.codes),
            "points": till.points,
            "stored_value": till.stored_value,
            "selected": till.selected,
            "removed": till.removed_data(),
        }
        self.session[BASKETS] = kept

    def drop(self, store_id: int) -> None:
        kept = self._all()
        if kept.pop(slot(self.merchant_id, store_id), None) is not None:
            self.session[BASKETS] = kept

    def open(self, store_id: int, store_code: str) -> Till:
        """The kept basket of this store, or a new empty one."""
        data = self._all().get(slot(self.merchant_id, store_id))
        if not isinstance(data, dict):
            return Till.empty(store_code)
        till = Till(key=one_time_key(data.get("key")), store=store_code)
        member = data.get("member")
        till.member = member if isinstance(member, int) and member > 0 else None
        for raw in (data.get("lines") or [])[:MAX_TILL_LINES]:
            line = line_from(raw)
            if line is not None:
                till.lines.append(line)
        for code in (data.get("codes") or [])[:MAX_CODES]:
            if isinstance(code, str):
                till.add_code(code)
        if till.member is not None:
            till.points = whole(data.get("points"))
            till.stored_value = whole(data.get("stored_value"))
        till.select(data.get("selected"))
        till.restore_removed(data.get("removed"))
        return till
