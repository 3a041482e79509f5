"""The webhooks console page (HQ admins): the list with each one's last delivery, the add
form, a test that shows the receiver's answer, disable / enable, and each one's delivery log."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from patron.core.errors import DomainError, NotFound
from patron.events import webhooks
from patron.events.models import Webhook
from patron.events.types import label
from patron.events.webhook_forms import WebhookForm
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

hq_only = require_role(Role.HQ_ADMIN)


def webhook_or_404(request: HttpRequest, pk: int) -> Webhook:
    try:
        return webhooks.webhook_for(request.actor, pk)
    except NotFound:
        raise Http404(_("Webhook not found")) from None


def event_names(webhook: Webhook) -> list[str]:
    return [label(t) for t in webhook.events]


@hq_only
def webhook_list(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    created_secret = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            webhook, secret = webhooks.create_webhook(
                request.actor, data["url"], data["events"], data["secret"] or None
            )
        except DomainError as problem:
            form.add_service_errors(problem)
        else:
            messages.success(request, _("Webhook added."))
            if not data["secret"]:
                created_secret = secret  # generated: shown on this page only
            else:
                return redirect("webhooks:list")
            form = WebhookForm()
    hooks = list(webhooks.webhooks_for(request.actor))
    last = webhooks.last_attempts(hooks)
    rows = [{"webhook": w, "events": event_names(w), "last": last.get(w.pk)} for w in hooks]
    context = {"rows": rows, "form": form, "created_secret": created_secret}
    return render(request, "events/webhooks.html", context)


@hq_only
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = webhook_or_404(request, pk)
    return render(request, "events/webhook_detail.html", detail_context(webhook))


def detail_context(webhook: Webhook, answer: webhooks.Answer | None = None) -> dict:
    attempts = [
        {"attempt": a, "event_label": label(a.delivery.event.type)}
        for a in webhooks.attempts_of(webhook)
    ]
    return {
        "webhook": webhook,
        "events": event_names(webhook),
        "attempts": attempts,
        "answer": answer,
    }


@require_POST
@hq_only
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = webhook_or_404(request, pk)
    answer = webhooks.send_test(request.actor, webhook)
    return render(request, "events/webhook_detail.html", detail_context(webhook, answer))


@require_POST
@hq_only
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    webhook = webhook_or_404(request, pk)
    active = request.POST.get("active") == "1"
    webhooks.set_active(request.actor, webhook, active)
    messages.success(request, _("Webhook enabled.") if active else _("Webhook disabled."))
    if request.POST.get("next") == "detail":
        return redirect("webhooks:detail", pk=webhook.pk)
    return redirect("webhooks:list")
