"""How money was paid at the counter: the one list of payment methods (API.md §3 `tenders`,
`POST /topups` `payment_method`).

Sales (tenders), top-ups and the shift close all name methods from this list; it lives in the
ledger, the lowest app they share, because a top-up records its method on the ledger's
transaction. Real payment gateways come later: a method only records how it was paid.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CASH = "cash"
WECHAT = "wechat"
ALIPAY = "alipay"
CARD = "card"
OTHER = "other"

# In the order a till shows them.
METHODS: tuple[str, ...] = (CASH, WECHAT, ALIPAY, CARD, OTHER)
CHOICES = (
    (CASH, _("Cash")),
    (WECHAT, _("WeChat Pay")),
    (ALIPAY, _("Alipay")),
    (CARD, _("Bank card")),
    (OTHER, _("Other")),
)
# Names an earlier version accepted for a top-up: read as the method they meant.
ALIASES = {"bank_card": CARD}


def canonical(code: str) -> str:
    """The method's code as this list spells it (`bank_card` -> `card`)."""
    return ALIASES.get(code, code)


def is_known(code: str) -> bool:
    return canonical(code) in METHODS


def label(code: str) -> str:
    """The method in words (微信支付, 现金 …); an unknown code as "Other"."""
    return str(dict(CHOICES).get(canonical(code), dict(CHOICES)[OTHER]))
