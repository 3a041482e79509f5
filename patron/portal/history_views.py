"""/m/history: sales with their receipts, top-ups, points movements in words (issue 18 §4).

Owner: the history part. Reads through patron.portal.history_selectors, which starts every
query from the logged-in member."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from patron.portal import history_selectors as selectors
from patron.portal.session import member_page


def chosen_filter(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or "all"
    return kind if kind in selectors.FILTER_VALUES else "all"


@require_GET
@member_page
def history(request: HttpRequest) -> HttpResponse:
    kind = chosen_filter(request)
    page, rows = selectors.history_page(request.member, kind, request.GET.get("page"))
    context = {
        "merchant": request.merchant,
        "member": request.member,
        "tab": "history",
        "filters": selectors.FILTERS,
        "kind": kind,
        "page": page,
        "rows": rows,
    }
    return render(request, "portal/history.html", context)


@require_GET
@member_page
def receipt(request: HttpRequest, ref: str) -> HttpResponse:
    sale = selectors.member_sale(request.member, ref)
    if sale is None:
        raise Http404
    shown = selectors.member_receipt(sale)
    context = {
        "merchant": request.merchant,
        "member": request.member,
        "tab": "history",
        "sale": sale,
        "lines": shown.lines,
        "discounts": shown.discounts,
        "tenders": shown.tenders,
        "refunds": shown.refunds,
        "after": shown.after,
    }
    return render(request, "portal/receipt.html", context)
