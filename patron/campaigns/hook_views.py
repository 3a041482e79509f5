"""Providers' pushes (receipts, replies) and the email unsubscribe page; no login: the signed
token in the URL is the credential (optout.hook_token / unsubscribe_token)."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from patron.campaigns import receipts
from patron.campaigns.optout import merchant_of_hook, opt_out, read_unsubscribe_token

MAX_BODY = 1_000_000


@csrf_exempt
@require_POST
def sms_hook(request: HttpRequest, provider: str, token: str) -> HttpResponse:
    merchant = merchant_of_hook(token)
    if merchant is None or provider not in receipts.ANSWERS:
        raise Http404
    if len(request.body) > MAX_BODY:
        return JsonResponse({"error": "too_large"}, status=413)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"error": "bad_json"}, status=400)
    receipts.handle(merchant, provider, body)
    return JsonResponse(receipts.ANSWERS[provider], json_dumps_params={"ensure_ascii": False})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def wechat_hook(request: HttpRequest, token: str) -> HttpResponse:
    """GET: WeChat checking the server URL (echo `echostr`); POST: its XML pushes."""
    merchant = merchant_of_hook(token)
    if merchant is None:
        raise Http404
    if request.method == "GET":
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    if len(request.body) > MAX_BODY:
        return HttpResponse("too large", status=413, content_type="text/plain")
    receipts.handle_wechat(merchant, request.body)
    return HttpResponse("success", content_type="text/plain")


@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks (mail scanners follow links), POST records the withdrawal."""
    found = read_unsubscribe_token(token)
    if found is None:
        return render(request, "campaigns/hooks/unsubscribe.html", {"invalid": True}, status=404)
    member, channel = found
    done = False
    if request.method == "POST":
        opt_out(member, channel)
        done = True
    return render(
        request,
        "campaigns/hooks/unsubscribe.html",
        {"merchant": member.merchant, "done": done, "token": token},
    )
