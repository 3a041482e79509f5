"""What the SMS providers push back: delivery receipts and members' replies (F-37, F-38).

Each provider posts JSON to the merchant's callback URL, /campaigns/hooks/sms/<provider>/<token>/
(`hook_url`): the token is the merchant id signed with the server's key, so the URL is the
shared secret (configure it in the provider's console); a wrong token is a 404.

- Aliyun (SmsReport / SmsUp push): a list of `{phone_number, success, err_code, biz_id,
  report_time, ...}` receipts, or of `{phone_number, content, sign_name, send_time, ...}`
  replies. Answered `{"code": 0, "msg": "成功"}`.
- Tencent (status callback / reply callback): a list of `{mobile, report_status: SUCCESS|FAIL,
  errmsg, sid, user_receive_time, ...}`, or one reply `{mobile, nationcode, text, sign, time}`.
  Answered `{"result": 0, "errmsg": "OK"}`.
- http: `{"receipts": [{provider_id, delivered, error?}], "replies": [{mobile, text}]}`.
- WeChat posts XML to the official account's server URL, /campaigns/hooks/wechat/<token>/
  (`wechat_hook_url`): the TEMPLATESENDJOBFINISH event names the template message by its
  `MsgID` (the `msgid` the send answered) with Status `success` or `failed:user block` /
  `failed:system failed`. WeChat's GET that checks the URL is answered with its `echostr`
  (the token in the URL is the credential, as for SMS). Answered `success`.

A receipt marks its message DELIVERED (delivered_at = the provider's time, Beijing time when
it has no zone) or FAILED with the provider's error code; a reply "T", "TD", "退订" withdraws the
member's SMS consent at once (optout.opt_out_by_reply).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils import timezone
from wechatpy import parse_message

from patron.campaigns.models import Channel, Message
from patron.campaigns.optout import hook_token, opt_out_by_reply
from patron.tenancy.models import Merchant

PROVIDER_ZONE = zoneinfo.ZoneInfo("Asia/Shanghai")
ANSWERS = {
    "aliyun": {"code": 0, "msg": "成功"},
    "tencent": {"result": 0, "errmsg": "OK"},
    "http": {"ok": True},
}


def hook_url(merchant: Merchant, provider: str) -> str:
    return reverse("campaign_hooks:sms", args=[provider, hook_token(merchant)])


def wechat_hook_url(merchant: Merchant) -> str:
    return reverse("campaign_hooks:wechat", args=[hook_token(merchant)])


def handle_wechat(merchant: Merchant, xml: bytes) -> dict[str, int]:
    """Apply WeChat's push: a template message's delivery; other events are not ours."""
    try:
        event = parse_message(xml)
    except Exception:  # wechatpy raises what its XML parser raises on a malformed body
        return {"delivered": 0, "failed": 0}
    if getattr(event, "event", "") != "templatesendjobfinish":
        return {"delivered": 0, "failed": 0}
    ok = event.status == "success"
    receipt = (str(event.id), ok, "" if ok else str(event.status), event.create_time)
    return record_receipts(merchant, "wechat", [receipt], channel=Channel.WECHAT)


def _when(text: Any) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(str(text))
    except ValueError:
        return timezone.now()
    return moment if moment.tzinfo else moment.replace(tzinfo=PROVIDER_ZONE)


def _items(body: Any) -> list[dict[str, Any]]:
    rows = body if isinstance(body, list) else [body]
    return [row for row in rows if isinstance(row, dict)]


def handle(merchant: Merchant, provider: str, body: Any) -> dict[str, Any]:
    """Apply a provider's push; answers counts {delivered, failed, opted_out}."""
    receipts: list[tuple[str, bool, str, dt.datetime]] = []
    replies: list[tuple[str, str]] = []
    if provider == "aliyun":
        for row in _items(body):
            if "content" in row:
                replies.append((str(row.get("phone_number", "")), str(row["content"])))
            elif "biz_id" in row:
                provider_id = f"{row['biz_id']}:{row.get('phone_number', '')}"
                ok = row.get("success") in (True, "true")
                receipts.append(
                    (provider_id, ok, str(row.get("err_code") or ""), _when(row.get("report_time")))
                )
    elif provider == "tencent":
        for row in _items(body):
            if "text" in row:
                replies.append((str(row.get("mobile", "")), str(row["text"])))
            elif "sid" in row:
                ok = row.get("report_status") == "SUCCESS"
                receipts.append(
                    (
                        str(row["sid"]),
                        ok,
                        str(row.get("errmsg") or ""),
                        _when(row.get("user_receive_time")),
                    )
                )
    elif isinstance(body, dict):
        for row in _items(body.get("receipts") or []):
            ok = bool(row.get("delivered"))
            receipts.append(
                (str(row.get("provider_id", "")), ok, str(row.get("error") or ""), timezone.now())
            )
        replies = [
            (str(r.get("mobile", "")), str(r.get("text", "")))
            for r in _items(body.get("replies") or [])
        ]
    counts = record_receipts(merchant, provider, receipts)
    counts["opted_out"] = sum(
        1 for mobile, text in replies if opt_out_by_reply(merchant, mobile, text)
    )
    return counts


def record_receipts(
    merchant: Merchant,
    provider: str,
    receipts: Iterable[tuple[str, bool, str, dt.datetime]],
    *,
    channel: str = Channel.SMS,
) -> dict[str, int]:
    """Mark the messages named by (provider_id, delivered, error, at) receipts."""
    by_id = {provider_id: (ok, error, at) for provider_id, ok, error, at in receipts if provider_id}
    messages = list(
        Message.objects.filter(
            merchant=merchant, channel=channel, provider=provider, provider_id__in=list(by_id)
        ).exclude(status=Message.Status.DELIVERED)
    )
    counts = {"delivered": 0, "failed": 0}
    for message in messages:
        ok, error, at = by_id[message.provider_id]
        if ok:
            message.status, message.delivered_at = Message.Status.DELIVERED, at
            counts["delivered"] += 1
        else:
            message.status, message.error = Message.Status.FAILED, error[:300] or "undelivered"
            counts["failed"] += 1
    Message.objects.bulk_update(messages, ["status", "delivered_at", "error"], batch_size=500)
    return counts
