"""Aliyun SMS (dysmsapi 2017-05-25) through the official SDK.

Messages of the same template go in SendBatchSms requests of up to 100 numbers, each with its
own sign name and parameters; the answer's BizId names the batch, so a message's provider id is
"<BizId>:<mobile>", which is what the delivery receipts carry back. A lone message goes by
SendSms with OutId = the message id. Answer codes other than "OK" fail the whole request
(Aliyun refuses a batch as one): "isv.BUSINESS_LIMIT_CONTROL" (rate limit),
"isv.MOBILE_NUMBER_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", ... become the messages' error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models
from darabonba.runtime import RuntimeOptions

from patron.campaigns.channels.base import Outgoing, Result, chunks, failed_all

BATCH = 100
DEFAULT_ENDPOINT = "dysmsapi.aliyuncs.com"


class AliyunSms:
    name = "aliyun"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        endpoint = config.get("endpoint") or DEFAULT_ENDPOINT
        protocol = "HTTPS"
        if endpoint.startswith(("http://", "https://")):
            protocol = endpoint.split("://", 1)[0].upper()
            endpoint = endpoint.split("://", 1)[1].rstrip("/")
        self.client = Client(
            utils_models.Config(
                access_key_id=config.get("access_key_id", ""),
                access_key_secret=config.get("access_key_secret", ""),
                endpoint=endpoint,
                protocol=protocol,
                region_id=config.get("region") or "cn-hangzhou",
                connect_timeout=5000,
                read_timeout=10000,
            )
        )
        self.runtime = RuntimeOptions(autoretry=False, max_attempts=0)

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        by_template: dict[str, list[Outgoing]] = {}
        for item in batch:
            code = item.template or self.config.get("template_code", "")
            by_template.setdefault(code, []).append(item)
        results: dict[int, Result] = {}
        for code, items in by_template.items():
            for part in chunks(items, BATCH):
                for result in self._send(code, part):
                    results[result.message_id] = result
        return [results[item.message_id] for item in batch]

    def _params(self, item: Outgoing) -> str:
        return json.dumps(
            item.params if item.template else {"content": item.body}, ensure_ascii=False
        )

    def _send(self, code: str, items: Sequence[Outgoing]) -> list[Result]:
        if not code:
            return failed_all(items, "no_template_code")
        sign = self.config.get("sign_name", "")
        try:
            if len(items) == 1:
                item = items[0]
                answer = self.client.send_sms_with_options(
                    sms_models.SendSmsRequest(
                        phone_numbers=item.address,
                        sign_name=sign,
                        template_code=code,
                        template_param=self._params(item),
                        out_id=str(item.message_id),
                    ),
                    self.runtime,
                ).body
            else:
                answer = self.client.send_batch_sms_with_options(
                    sms_models.SendBatchSmsRequest(
                        phone_number_json=json.dumps([item.address for item in items]),
                        sign_name_json=json.dumps([sign] * len(items), ensure_ascii=False),
                        template_code=code,
                        template_param_json="["
                        + ",".join(self._params(item) for item in items)
                        + "]",
                    ),
                    self.runtime,
                ).body
        except Exception as error:  # the SDK raises its own exceptions and network errors
            return failed_all(items, str(getattr(error, "code", None) or type(error).__name__))
        if answer.code != "OK":
            return failed_all(items, answer.code or "unknown")
        return [
            Result(item.message_id, provider_id=f"{answer.biz_id}:{item.address}") for item in items
        ]
