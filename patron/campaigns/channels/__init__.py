"""Channels (F-37): inbox, SMS (Aliyun, Tencent Cloud, plain HTTP), email (SMTP), WeChat.

Interface the other campaign parts call (the channels part implements it):

- `available(merchant) -> list[str]`: the channels configured in the program's `channels`
  section, inbox always first.
- `suppression_reason(member, channel) -> str | None`: "consent" (never granted),
  "opted_out" (granted then withdrawn) or None when the member may be sent on it. Inbox: None.
- `send(messages: Sequence[Message]) -> None`: send QUEUED messages through their channel's
  adapter (network calls: call it OUTSIDE any long transaction), set status SENT / FAILED,
  provider and provider_id, sent_at; emit `message.sent` for each sent one. Inbox messages
  are SENT at once.
"""
