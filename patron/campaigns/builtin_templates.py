"""Built-in message templates for the seeds' three kinds of campaign (F-35): relationship
care, exclusive promotion and information.

Data only: `templating.resolve(merchant, code)` falls back to these when the merchant has no
template of that code, so a journey or a campaign can name `birthday` from the first day; a
merchant who saves a template with the same code replaces the built-in for themselves.
`provider_code` is left empty: an SMS or WeChat provider needs the merchant's own registered
template code, which they set on their copy.
"""

from __future__ import annotations

from typing import Any

BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "birthday": {
        "name": "生日祝福 Birthday greeting",
        "purpose": "care",
        "subject_zh": "生日快乐，{name}",
        "subject_en": "Happy birthday, {name}",
        "body_zh": "{name}，{merchant}祝您生日快乐！送您一份生日礼物，到店出示会员卡即可领取。",
        "body_en": "Happy birthday, {name}! {merchant} has a birthday gift for you: "
        "show your card in store to collect it.",
    },
    "thanks": {
        "name": "消费感谢 Thanks for visiting",
        "purpose": "care",
        "subject_zh": "感谢光临",
        "subject_en": "Thank you for visiting",
        "body_zh": "{name}，感谢您光临{store}。您现有积分{points}，期待再次见到您。",
        "body_en": "Thank you for visiting {store}, {name}. You now have {points} points; "
        "we look forward to seeing you again.",
    },
    "win_back": {
        "name": "老客召回 We miss you",
        "purpose": "care",
        "subject_zh": "好久不见，{name}",
        "subject_en": "We miss you, {name}",
        "body_zh": "{name}，好久不见！{merchant}为您准备了一张优惠券{coupon}，欢迎回来。",
        "body_en": "{name}, it has been a while! {merchant} saved a coupon for you: {coupon}. "
        "Welcome back.",
    },
    "points_expiring": {
        "name": "积分到期提醒 Points expiring",
        "purpose": "care",
        "subject_zh": "积分即将到期",
        "subject_en": "Your points expire soon",
        "body_zh": "{name}，您有{points}积分将于{expires_at}到期，记得及时使用。",
        "body_en": "{name}, {points} of your points expire on {expires_at}. Use them in time.",
    },
    "balance_low": {
        "name": "储值余额不足 Stored value low",
        "purpose": "care",
        "subject_zh": "储值余额提醒",
        "subject_en": "Your stored value is low",
        "body_zh": "{name}，您的储值余额为{balance}，充值可享赠送优惠。",
        "body_en": "{name}, your stored value balance is {balance}. Top up to enjoy a bonus.",
    },
    # The names the journeys part's presets use (docs/journeys.md): "stored_value_low" is
    # "balance_low" under the preset's name; the complaint follow-up apologises.
    "stored_value_low": {
        "name": "储值余额提醒 Stored value reminder",
        "purpose": "care",
        "subject_zh": "储值余额提醒",
        "subject_en": "Your stored value is low",
        "body_zh": "{name}，您的储值余额为{balance}，充值可享赠送优惠。",
        "body_en": "{name}, your stored value balance is {balance}. Top up to enjoy a bonus.",
    },
    "complaint_follow_up": {
        "name": "投诉回访 Complaint follow-up",
        "purpose": "care",
        "subject_zh": "关于您的反馈",
        "subject_en": "About your feedback",
        "body_zh": "{name}，很抱歉给您带来不好的体验。{merchant}的店长会尽快与您联系，"
        "感谢您的反馈。",
        "body_en": "{name}, we are sorry about your experience. The manager at {merchant} will "
        "contact you shortly. Thank you for telling us.",
    },
    "tier_up": {
        "name": "会员升级 Tier upgrade",
        "purpose": "care",
        "subject_zh": "恭喜升级为{tier}",
        "subject_en": "Welcome to {tier}",
        "body_zh": "{name}，恭喜您升级为{tier}，更多专属权益等您体验。",
        "body_en": "Congratulations {name}, you are now {tier}: more benefits await you.",
    },
    "promotion": {
        "name": "专属优惠 Exclusive offer",
        "purpose": "promotion",
        "subject_zh": "{name}，您的专属优惠",
        "subject_en": "{name}, an offer just for you",
        "body_zh": "{name}，{merchant}会员专享：优惠券{coupon}已放入您的账户，欢迎使用。",
        "body_en": "{name}, for {merchant} members only: coupon {coupon} is in your account.",
    },
    "information": {
        "name": "会员通知 Member news",
        "purpose": "information",
        "subject_zh": "{merchant}会员通知",
        "subject_en": "News from {merchant}",
        "body_zh": "{name}，{merchant}有新的会员通知，欢迎到店了解。",
        "body_en": "{name}, {merchant} has news for members: ask us in store.",
    },
}
