"""WeChat template messages through wechatpy (access token, then message/template/send).

`endpoint` replaces https://api.weixin.qq.com (the fakes); the openid is the member's custom
field `wechat_openid` (optout.wechat_openid). A message whose template has a provider code
sends its variables as the template's data; others go through the section's `template_id`
with the text in a `content` field. WeChat's errcode (e.g. 43004 not following, 40003 bad
openid, 45009 quota) becomes the message's error as `wechat_<errcode>`; `msgid` is the
provider id (the TEMPLATESENDJOBFINISH event names it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from patron.campaigns.channels.base import Outgoing, Result, failed_all

DEFAULT_ENDPOINT = "https://api.weixin.qq.com"


class _Client(WeChatClient):
    """wechatpy's client with the API's base URL taken from the settings (its token URL is
    written out in full, so it is overridden too)."""

    def __init__(self, app_id: str, secret: str, endpoint: str) -> None:
        self.API_BASE_URL = f"{endpoint.rstrip('/')}/cgi-bin/"
        super().__init__(app_id, secret, timeout=10)

    def fetch_access_token(self):
        return self._fetch_access_token(
            url=f"{self.API_BASE_URL}token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class Wechat:
    name = "wechat"

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.client = _Client(
            config["app_id"],
            config.get("app_secret", ""),
            config.get("endpoint") or DEFAULT_ENDPOINT,
        )

    def send(self, batch: Sequence[Outgoing]) -> list[Result]:
        try:
            self.client.access_token  # noqa: B018 - fetched once for the batch
        except Exception as error:  # token refused or network
            code = getattr(error, "errcode", None)
            return failed_all(batch, f"wechat_{code}" if code else type(error).__name__)
        return [self._send(item) for item in batch]

    def _send(self, item: Outgoing) -> Result:
        if item.template:
            template, data = item.template, {k: {"value": v} for k, v in item.params.items()}
        else:
            template = self.config.get("template_id", "")
            data = {"content": {"value": item.body}}
        if not template:
            return Result(item.message_id, error="no_template_code")
        try:
            answer = self.client.message.send_template(item.address, template, data)
        except WeChatClientException as error:
            return Result(item.message_id, error=f"wechat_{error.errcode}")
        except Exception as error:  # network
            return Result(item.message_id, error=type(error).__name__)
        return Result(item.message_id, provider_id=str(answer.get("msgid", "")))
