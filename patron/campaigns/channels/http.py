"""A plain JSON SMS gateway, for providers without an adapter of their own.

POST `endpoint` with `Authorization: Bearer <access_key_secret>` and
`{"sign_name": ..., "messages": [{"id": <message id>, "mobile": ..., "text": ...,
"template": ..., "params": {...}}]}` (up to 500); the gateway answers 200 with
`{"results": [{"id": ..., "ok": true, "provider_id": ...} or {"id": ..., "ok": false,
"error": "<code>"}]}`. Any other answer fails the batch with `http_<status>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from patron.campaigns.channels.base import Outgoing, Result, chunks, failed_all

BATCH = 500


class HttpSms:
    name = "http"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        results: list[Result] = []
        with httpx.Client(timeout=10) as client:
            for part in chunks(batch, BATCH):
                results += self._send(client, part)
        return results

    def _send(self, client: httpx.Client, items: Sequence[Outgoing]) -> list[Result]:
        body = {
            "sign_name": self.config.get("sign_name", ""),
            "messages": [
                {
                    "id": item.message_id,
                    "mobile": item.address,
                    "text": item.body,
                    "template": item.template,
                    "params": item.params,
                }
                for item in items
            ],
        }
        headers = {"Authorization": f"Bearer {self.config.get('access_key_secret', '')}"}
        try:
            answer = client.post(self.config.get("endpoint", ""), json=body, headers=headers)
        except httpx.HTTPError as error:
            return failed_all(items, type(error).__name__)
        if answer.status_code != 200:
            return failed_all(items, f"http_{answer.status_code}")
        try:
            found = {row["id"]: row for row in answer.json()["results"]}
        except (ValueError, KeyError, TypeError):
            return failed_all(items, "bad_answer")
        results = []
        for item in items:
            row = found.get(item.message_id)
            if row is None:
                results.append(Result(item.message_id, error="no_status"))
            elif row.get("ok"):
                results.append(Result(item.message_id, provider_id=str(row.get("provider_id", ""))))
            else:
                results.append(Result(item.message_id, error=str(row.get("error") or "failed")))
        return results
