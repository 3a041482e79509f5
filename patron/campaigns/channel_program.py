"""The `channels` program section (API.md §9): how the merchant's messages leave.

```yaml
channels:
  sms: {provider: aliyun, sign_name: 茶馆, access_key_id: LTAI..., access_key_secret: ...,
        endpoint: dysmsapi.aliyuncs.com, region: cn-hangzhou}      # tencent: sdk_app_id too
  email: {smtp_host: smtp.example.com, smtp_port: 465, from: 会员中心 <vip@example.com>,
          username: vip@example.com, password: ..., tls: true}
  wechat: {app_id: wx..., app_secret: ..., endpoint: https://api.weixin.qq.com}
```

The inbox always exists. Secrets (`access_key_secret`, `password`, `app_secret`) are stored
encrypted (ChannelSettings.secrets) and exported as `******`; a file giving `******` keeps the
stored secret, so an exported file applies unchanged without carrying secrets around.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field

from patron.campaigns.models import ChannelSettings
from patron.program.fields import Flag, OneOf, Text, Whole
from patron.program.schema import ProgramModel
from patron.program.services import Change, Plan, register_section
from patron.tenancy.actor import Actor
from patron.tenancy.models import Merchant

HIDDEN = "******"
SECRETS = {"sms": ("access_key_secret",), "email": ("password",), "wechat": ("app_secret",)}
SMS_PROVIDERS = ("aliyun", "tencent", "http")
Short = Annotated[str, Text(128)]
Long = Annotated[str, Text(300)]


class Sms(ProgramModel):
    """The SMS gateway: Aliyun, Tencent Cloud or a plain JSON POST (`http`)."""

    provider: Annotated[str, OneOf(SMS_PROVIDERS)]
    sign_name: Short = None
    access_key_id: Short = None
    access_key_secret: Long = None
    endpoint: Long = None  # host (aliyun, tencent) or URL (http); overridable for the fakes
    region: Short = None
    sdk_app_id: Short = None
    # A registered template with one variable `content`, for messages whose template has no
    # provider code of its own (the whole rendered text goes in `content`).
    template_code: Short = None
    # A registered verification-code template with one variable `code`, for the member pages'
    # one-time log-in codes (providers require one; without it the code goes through
    # `template_code` as text).
    login_template: Short = None


class Email(ProgramModel):
    """The SMTP server the emails go through."""

    smtp_host: Short
    smtp_port: Annotated[int, Whole(1, 65535)] = None
    from_: Long = Field(None, alias="from")
    username: Short = None
    password: Long = None
    tls: Annotated[bool, Flag()] = None


class Wechat(ProgramModel):
    """The WeChat official account sending template messages."""

    app_id: Short
    app_secret: Long = None
    endpoint: Long = None
    template_id: Short = None  # template message with a `content` field, as for SMS


class Channels(ProgramModel):
    """Providers of the channels beyond the inbox; a channel left out is not used."""

    sms: Sms = None
    email: Email = None
    wechat: Wechat = None

    def cleaned(self) -> dict[str, Any]:
        out = {}
        for name in ("sms", "email", "wechat"):
            part = getattr(self, name)
            if part is not None:
                out[name] = part.model_dump(include=set(part.model_fields_set), by_alias=True)
        return out


def stored(merchant: Merchant | int) -> dict[str, dict[str, Any]]:
    """The merchant's channel settings with secrets in plain text ({} when none)."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    row = ChannelSettings.objects.filter(merchant_id=merchant_id).first()
    if row is None:
        return {}
    config = {name: dict(part) for name, part in row.config.items()}
    secrets = json.loads(row.secrets) if row.secrets else {}
    for key, value in secrets.items():
        channel, field = key.split(".", 1)
        if channel in config:
            config[channel][field] = value
    return config


def _hidden(config: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: {
            key: (HIDDEN if key in SECRETS.get(name, ()) and value else value)
            for key, value in part.items()
        }
        for name, part in config.items()
    }


def export_channels(actor: Actor) -> dict[str, Any]:
    return _hidden(stored(actor.merchant))


def save(merchant: Merchant, config: dict[str, dict[str, Any]]) -> None:
    """Store `config` (plain secrets in it), the secrets encrypted apart."""
    public: dict[str, dict[str, Any]] = {}
    secrets: dict[str, str] = {}
    for name, part in config.items():
        public[name] = {}
        for key, value in part.items():
            if key in SECRETS.get(name, ()):
                secrets[f"{name}.{key}"] = value
            else:
                public[name][key] = value
    ChannelSettings.objects.update_or_create(
        merchant=merchant,
        defaults={"config": public, "secrets": json.dumps(secrets) if secrets else ""},
    )


def plan_channels(actor: Actor, cleaned: dict[str, Any], plan: Plan) -> None:
    current = stored(actor.merchant)
    wanted: dict[str, dict[str, Any]] = {}
    for name, part in cleaned.items():
        wanted[name] = dict(part)
        for key in SECRETS.get(name, ()):
            if part.get(key) == HIDDEN:  # "keep the stored secret"
                kept = current.get(name, {}).get(key)
                if kept:
                    wanted[name][key] = kept
                else:
                    wanted[name].pop(key)
    if wanted == current:
        return
    shown_now, shown_then = _hidden(current), _hidden(wanted)
    for name in sorted({*current, *wanted}):
        if shown_now.get(name) != shown_then.get(name) or current.get(name) != wanted.get(name):
            verb = "add" if name not in current else "end" if name not in wanted else "change"
            plan.changes.append(Change("channels", verb, name, json.dumps(shown_then.get(name))))
    plan.steps.append(lambda: save(actor.merchant, wanted))


def register() -> None:
    register_section("channels", Channels, plan_channels, export_channels)
