"""Tencent Cloud SMS (sms 2021-01-11 SendSms) through the official SDK, TC3-HMAC-SHA256 signed.

One SendSms request carries up to 200 numbers sharing a template and its parameters: messages
are grouped by (template, parameters), so identical texts go together and personalised ones
go alone; requests run on a few threads. Each number's SendStatus gives its SerialNo (the
provider id the receipts carry back) and a Code: "Ok", or e.g.
"LimitExceeded.PhoneNumberDailyLimit", "InvalidParameterValue.IncorrectPhoneNumber",
which become the message's error.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from patron.campaigns.channels.base import Outgoing, Result, chunks, failed_all

BATCH = 200
THREADS = 8
DEFAULT_ENDPOINT = "sms.tencentcloudapi.com"


def e164(mobile: str) -> str:
    return mobile if mobile.startswith("+") else f"+86{mobile}"


class TencentSms:
    name = "tencent"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        endpoint = config.get("endpoint") or DEFAULT_ENDPOINT
        scheme = "https"
        if "://" in endpoint:
            scheme, endpoint = endpoint.split("://", 1)
            endpoint = endpoint.rstrip("/")
        profile = ClientProfile(
            signMethod="TC3-HMAC-SHA256",
            httpProfile=HttpProfile(
                protocol=scheme, endpoint=endpoint, reqTimeout=10, keepAlive=True
            ),
        )
        cred = credential.Credential(
            config.get("access_key_id", ""), config.get("access_key_secret", "")
        )
        self.client = sms_client.SmsClient(cred, config.get("region") or "ap-guangzhou", profile)

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        groups: dict[tuple[str, tuple[str, ...]], list[Outgoing]] = {}
        for item in batch:
            code = item.template or self.config.get("template_code", "")
            params = tuple(str(v) for v in item.params.values()) if item.template else (item.body,)
            groups.setdefault((code, params), []).append(item)
        requests = [
            (code, params, part)
            for (code, params), items in groups.items()
            for part in chunks(items, BATCH)
        ]
        results: dict[int, Result] = {}
        with ThreadPoolExecutor(max_workers=min(THREADS, len(requests) or 1)) as pool:
            for answer in pool.map(lambda request: self._send(*request), requests):
                results.update((result.message_id, result) for result in answer)
        return [results[item.message_id] for item in batch]

    def _send(self, code: str, params: tuple[str, ...], items: Sequence[Outgoing]) -> list[Result]:
        if not code:
            return failed_all(items, "no_template_code")
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [e164(item.address) for item in items]
        request.SmsSdkAppId = self.config.get("sdk_app_id", "")
        request.SignName = self.config.get("sign_name", "")
        request.TemplateId = code
        request.TemplateParamSet = list(params)
        try:
            answer = self.client.SendSms(request)
        except TencentCloudSDKException as error:
            return failed_all(items, error.code or "sdk_error")
        except Exception as error:  # network
            return failed_all(items, type(error).__name__)
        by_number = {status.PhoneNumber: status for status in answer.SendStatusSet or []}
        results = []
        for item in items:
            status = by_number.get(e164(item.address))
            if status is None:
                results.append(Result(item.message_id, error="no_status"))
            elif status.Code != "Ok":
                results.append(Result(item.message_id, error=status.Code))
            else:
                results.append(Result(item.message_id, provider_id=status.SerialNo))
        return results
