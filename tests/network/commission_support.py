"""What the commission tests share: the seed's rules, a card product, a moment to act at, and
API calls naming their staff."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from contextlib import contextmanager

from django.test import Client
from django.utils import timezone

SEED = {
    "per_card": 800,
    "per_topup": {"every": 50000, "amount": 800},
    "ladder": [{"members": 3, "bonus": 3000}, {"members": 6, "bonus": 8000}],
}
PROGRAM = {
    "card_products": [{"code": "std", "name": "会员卡", "replace_fee": 0}],
    "commissions": SEED,
}
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
MARCH = dt.datetime(2027, 3, 10, 12, 0, tzinfo=SHANGHAI)
_mobiles = itertools.count(13900000000)


@contextmanager
def at(monkeypatch, moment: dt.datetime):
    """Everything done inside happens at `moment` (cards issued, top-ups, members joined)."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: moment.astimezone(dt.UTC))
        yield


def post(client: Client, path: str, body: dict):
    return client.post(f"/api/v1{path}", json.dumps(body), content_type="application/json")


def new_member(client: Client, store: str = "S1", staff: str | None = None) -> int:
    body = {"mobile": str(next(_mobiles)), "name": "会员", "store": store}
    if staff:
        body["staff"] = staff
    answer = post(client, "/members", body)
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def rows_of(client: Client, month: str = "2027-03", **filters) -> dict:
    query = "&".join(f"{k}={v}" for k, v in {"month": month, **filters}.items())
    answer = client.get(f"/api/v1/commissions?{query}")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["rows"] == body["items"] and body["month"] == month
    return {(row["staff"], row["store"]): row for row in body["rows"]}
