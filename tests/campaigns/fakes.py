"""Local fakes of the message providers, speaking their protocols (for tests and the bench).

Each fake is an HTTP server on 127.0.0.1 (a free port) in a thread that checks what a real
provider checks (signature, access key, sign name, template code, numbers), answers with the
provider's answer codes and records what it accepted in `sent`:

- FakeAliyun: dysmsapi SendSms / SendBatchSms, ACS3-HMAC-SHA256 signature recomputed with the
  SDK's own canonicalisation (alibabacloud_tea_openapi.utils); codes "OK",
  "isv.SMS_SIGNATURE_ILLEGAL", "isv.SMS_TEMPLATE_ILLEGAL", "isv.MOBILE_NUMBER_ILLEGAL",
  "isv.BUSINESS_LIMIT_CONTROL" (numbers in `limited`), 400 "SignatureDoesNotMatch".
- FakeTencent: sms 2021-01-11 SendSms, TC3-HMAC-SHA256 as documented; per-number codes "Ok",
  "InvalidParameterValue.IncorrectPhoneNumber", "LimitExceeded.PhoneNumberDailyLimit";
  request errors "AuthFailure.SignatureFailure", "FailedOperation.TemplateIncorrectOrUnapproved",
  "FailedOperation.SignatureIncorrectOrUnapproved", "FailedOperation.SmsSdkAppIdVerifyFail".
- FakeWechat: /cgi-bin/token and /cgi-bin/message/template/send with errcodes 40001, 40037,
  43004.
- FakeGateway: the plain JSON gateway of channels/http.py.
- FakeSmtp: an aiosmtpd server; recipients in `refused` get 550.

    with FakeAliyun() as aliyun:
        settings = aliyun.settings()   # the `channels.sms` section pointing at it
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import socket
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

MOBILE = re.compile(r"1\d{10}")
_serial = itertools.count(1)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        return None

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, answer = self.server.fake.answer(method, self.path, self.headers, body)
        data = json.dumps(answer, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", self.server.fake.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class FakeServer:
    """An HTTP fake in a thread; `with` starts and stops it."""

    content_type = "application/json; charset=utf-8"

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.requests = 0
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def answer(self, method: str, path: str, headers: Any, body: bytes) -> tuple[int, Any]:
        raise NotImplementedError

    def record(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            self.requests += 1
            self.sent.extend(rows)


class FakeAliyun(FakeServer):
    def __init__(
        self,
        key_id: str = "LTAI-test",
        secret: str = "aliyun-secret",
        sign_names: tuple[str, ...] = ("茶馆",),
        templates: tuple[str, ...] = ("SMS_100", "SMS_CONTENT"),
    ) -> None:
        super().__init__()
        self.key_id, self.secret = key_id, secret
        self.sign_names, self.templates = set(sign_names), set(templates)
        self.limited: set[str] = set()

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "provider": "aliyun",
            "sign_name": next(iter(self.sign_names)),
            "access_key_id": self.key_id,
            "access_key_secret": self.secret,
            "endpoint": self.url,
            "region": "cn-hangzhou",
            "template_code": "SMS_CONTENT",
            **extra,
        }

    def signature_ok(self, method: str, path: str, headers: Any, body: bytes) -> str | None:
        """None when the ACS3-HMAC-SHA256 signature holds, else the error code."""
        from alibabacloud_tea_openapi.utils import (
            get_canonical_query_string,
            get_canonicalized_headers,
        )

        match = re.fullmatch(
            r"ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
            headers.get("Authorization", ""),
        )
        if not match:
            return "MissingAuthorization"
        key_id, signed, signature = match.groups()
        if key_id != self.key_id:
            return "InvalidAccessKeyId.NotFound"
        payload = headers.get("x-acs-content-sha256", "")
        if payload != hashlib.sha256(body).hexdigest():
            return "SignatureDoesNotMatch"
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        names = signed.split(";")
        canonical_headers, signed_again = get_canonicalized_headers(
            {name: headers.get(name) for name in names}
        )
        canonical = "\n".join(
            [
                method,
                parts.path or "/",
                get_canonical_query_string(query),
                canonical_headers,
                signed_again,
                payload,
            ]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        return None if hmac.compare_digest(expected, signature) else "SignatureDoesNotMatch"

    def answer(self, method, path, headers, body):
        request_id = str(uuid.uuid4())
        problem = self.signature_ok(method, path, headers, body)
        if problem:
            return 400, {"Code": problem, "Message": problem, "RequestId": request_id}
        params = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
        action = headers.get("x-acs-action")
        if action == "SendSms":
            numbers = params.get("PhoneNumbers", "").split(",")
            signs = [params.get("SignName", "")] * len(numbers)
            values = [json.loads(params.get("TemplateParam") or "{}")] * len(numbers)
        elif action == "SendBatchSms":
            numbers = json.loads(params.get("PhoneNumberJson") or "[]")
            signs = json.loads(params.get("SignNameJson") or "[]")
            values = json.loads(params.get("TemplateParamJson") or "[]")
        else:
            return 404, {"Code": "InvalidAction.NotFound", "RequestId": request_id}
        code = "OK"
        if any(sign not in self.sign_names for sign in signs):
            code = "isv.SMS_SIGNATURE_ILLEGAL"
        elif params.get("TemplateCode") not in self.templates:
            code = "isv.SMS_TEMPLATE_ILLEGAL"
        elif any(not MOBILE.fullmatch(number) for number in numbers):
            code = "isv.MOBILE_NUMBER_ILLEGAL"
        elif any(number in self.limited for number in numbers):
            code = "isv.BUSINESS_LIMIT_CONTROL"
        if code != "OK":
            return 200, {"Code": code, "Message": code, "RequestId": request_id}
        biz_id = f"{next(_serial)}^0"
        self.record(
            [
                {
                    "mobile": number,
                    "sign_name": sign,
                    "template": params["TemplateCode"],
                    "params": value,
                    "biz_id": biz_id,
                    "out_id": params.get("OutId", ""),
                }
                for number, sign, value in zip(numbers, signs, values, strict=False)
            ]
        )
        return 200, {"Code": "OK", "Message": "OK", "BizId": biz_id, "RequestId": request_id}


def tc3_signature(secret_key: str, date: str, service: str, string_to_sign: str) -> str:
    def sign(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    key = sign(sign(sign(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencent(FakeServer):
    content_type = "application/json"  # exactly: the SDK reads errors only under this type

    def __init__(
        self,
        secret_id: str = "AKID-test",
        secret_key: str = "tencent-secret",
        app_id: str = "1400000001",
        sign_names: tuple[str, ...] = ("茶馆",),
        templates: tuple[str, ...] = ("100", "200"),
    ) -> None:
        super().__init__()
        self.secret_id, self.secret_key, self.app_id = secret_id, secret_key, app_id
        self.sign_names, self.templates = set(sign_names), set(templates)
        self.limited: set[str] = set()

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "provider": "tencent",
            "sign_name": next(iter(self.sign_names)),
            "access_key_id": self.secret_id,
            "access_key_secret": self.secret_key,
            "sdk_app_id": self.app_id,
            "endpoint": self.url,
            "region": "ap-guangzhou",
            "template_code": "200",
            **extra,
        }

    def signature_ok(self, method: str, path: str, headers: Any, body: bytes) -> bool:
        match = re.fullmatch(
            r"TC3-HMAC-SHA256 Credential=([^/]+)/(\d{4}-\d\d-\d\d)/(\w+)/tc3_request, "
            r"SignedHeaders=([\w;-]+), Signature=([0-9a-f]+)",
            headers.get("Authorization", ""),
        )
        if not match:
            return False
        secret_id, date, service, signed, signature = match.groups()
        if secret_id != self.secret_id:
            return False
        names = signed.split(";")
        canonical_headers = "".join(f"{name}:{headers.get(name, '')}\n" for name in names)
        canonical = "\n".join(
            [
                method,
                urlsplit(path).path or "/",
                urlsplit(path).query,
                canonical_headers,
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                "TC3-HMAC-SHA256",
                headers.get("X-TC-Timestamp", ""),
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        expected = tc3_signature(self.secret_key, date, service, to_sign)
        return hmac.compare_digest(expected, signature)

    def answer(self, method, path, headers, body):
        request_id = str(uuid.uuid4())

        def error(code: str) -> tuple[int, Any]:
            return 200, {
                "Response": {"Error": {"Code": code, "Message": code}, "RequestId": request_id}
            }

        if not self.signature_ok(method, path, headers, body):
            return error("AuthFailure.SignatureFailure")
        if headers.get("X-TC-Action") != "SendSms" or headers.get("X-TC-Version") != "2021-01-11":
            return error("InvalidAction")
        params = json.loads(body or b"{}")
        if params.get("SmsSdkAppId") != self.app_id:
            return error("FailedOperation.SmsSdkAppIdVerifyFail")
        if params.get("SignName") not in self.sign_names:
            return error("FailedOperation.SignatureIncorrectOrUnapproved")
        if params.get("TemplateId") not in self.templates:
            return error("FailedOperation.TemplateIncorrectOrUnapproved")
        numbers = params.get("PhoneNumberSet") or []
        if not 1 <= len(numbers) <= 200:
            return error("LimitExceeded.PhoneNumberCountLimit")
        statuses, rows = [], []
        for number in numbers:
            local = number.removeprefix("+86")
            code = "Ok"
            if not MOBILE.fullmatch(local):
                code = "InvalidParameterValue.IncorrectPhoneNumber"
            elif local in self.limited:
                code = "LimitExceeded.PhoneNumberDailyLimit"
            serial = f"2645:{next(_serial)}" if code == "Ok" else ""
            statuses.append(
                {
                    "SerialNo": serial,
                    "PhoneNumber": number,
                    "Fee": 1 if code == "Ok" else 0,
                    "SessionContext": "",
                    "Code": code,
                    "Message": "send success" if code == "Ok" else code,
                    "IsoCode": "CN",
                }
            )
            if code == "Ok":
                rows.append(
                    {
                        "mobile": local,
                        "sign_name": params["SignName"],
                        "template": params["TemplateId"],
                        "params": params.get("TemplateParamSet") or [],
                        "serial": serial,
                    }
                )
        self.record(rows)
        return 200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}}


class FakeWechat(FakeServer):
    def __init__(
        self,
        app_id: str = "wx-test",
        secret: str = "wechat-secret",
        templates: tuple[str, ...] = ("TPL-CONTENT",),
    ) -> None:
        super().__init__()
        self.app_id, self.secret, self.templates = app_id, secret, set(templates)
        self.followers: set[str] = set()
        self.tokens: set[str] = set()

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "app_secret": self.secret,
            "endpoint": self.url,
            "template_id": "TPL-CONTENT",
            **extra,
        }

    def answer(self, method, path, headers, body):
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        if parts.path == "/cgi-bin/token":
            if query.get("appid") != self.app_id:
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            if query.get("secret") != self.secret:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            token = uuid.uuid4().hex
            with self.lock:
                self.tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if parts.path == "/cgi-bin/message/template/send":
            if query.get("access_token") not in self.tokens:
                return 200, {"errcode": 40001, "errmsg": "invalid access_token"}
            data = json.loads(body or b"{}")
            if data.get("template_id") not in self.templates:
                return 200, {"errcode": 40037, "errmsg": "invalid template_id"}
            if data.get("touser") not in self.followers:
                return 200, {"errcode": 43004, "errmsg": "require subscribe"}
            msgid = next(_serial)
            self.record([{**data, "msgid": msgid}])
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": msgid}
        return 404, {"errcode": 404, "errmsg": "not found"}


class FakeGateway(FakeServer):
    """The plain JSON gateway (channels/http.py)."""

    def __init__(self, token: str = "gateway-token") -> None:
        super().__init__()
        self.token = token

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "provider": "http",
            "sign_name": "茶馆",
            "access_key_secret": self.token,
            "endpoint": f"{self.url}/send",
            **extra,
        }

    def answer(self, method, path, headers, body):
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized"}
        data = json.loads(body or b"{}")
        results, rows = [], []
        for message in data.get("messages", []):
            if MOBILE.fullmatch(message.get("mobile", "")):
                provider_id = f"gw-{next(_serial)}"
                results.append({"id": message["id"], "ok": True, "provider_id": provider_id})
                rows.append({**message, "provider_id": provider_id})
            else:
                results.append({"id": message["id"], "ok": False, "error": "bad_mobile"})
        self.record(rows)
        return 200, {"results": results}


def _free_port() -> int:
    # aiosmtpd's controller checks it is up by connecting to its port, so it needs a real one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FakeSmtp:
    """An aiosmtpd server recording what it accepted; `refused` recipients get 550."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.sent: list[dict[str, Any]] = []
        self.refused: set[str] = set()
        fake = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                if address in fake.refused:
                    return "550 5.1.1 mailbox unavailable"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                fake.sent.append(
                    {
                        "from": envelope.mail_from,
                        "to": list(envelope.rcpt_tos),
                        "data": envelope.content.decode("utf-8", "replace"),
                    }
                )
                return "250 Message accepted"

        self.port = _free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {
            "smtp_host": "127.0.0.1",
            "smtp_port": self.port,
            "from": "茶馆会员 <vip@example.com>",
            **extra,
        }

    def __enter__(self) -> FakeSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.controller.stop()
