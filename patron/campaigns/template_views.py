"""Console pages of message templates (F-37): the merchant's templates and the built-ins,
a form whose unknown variables are form errors, and a live preview for a sample member."""

from __future__ import annotations

import copy

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.campaigns import template_services
from patron.campaigns.builtin_templates import BUILTIN_TEMPLATES
from patron.campaigns.models import Channel, MessageTemplate, Purpose
from patron.campaigns.templating import VARIABLES, builtin
from patron.campaigns.templating import render as render_text
from patron.campaigns.views import builtin_name
from patron.core.errors import ValidationFailed
from patron.core.forms import ConsoleForm, ServiceErrorsMixin
from patron.members.models import Member
from patron.tenancy.models import Role
from patron.tenancy.permissions import require_role

may_use = require_role(Role.HQ_ADMIN, Role.MARKETER)
TEXT = {"rows": 4, "class": "input"}
SAMPLE_CONTEXT = {
    "points": 500,
    "balance": 12800,
    "amount": 9900,
    "coupon": gettext_lazy("¥20 off"),
    "expires_at": "2027-01-31",
}


class TemplateForm(ServiceErrorsMixin, ConsoleForm):
    code = forms.CharField(label=gettext_lazy("code"), max_length=40)
    name = forms.CharField(label=gettext_lazy("name"), max_length=100)
    purpose = forms.ChoiceField(label=gettext_lazy("purpose"), choices=Purpose.choices)
    subject_zh = forms.CharField(
        label=gettext_lazy("subject (Chinese)"), max_length=120, required=False
    )
    subject_en = forms.CharField(
        label=gettext_lazy("subject (English)"), max_length=120, required=False
    )
    body_zh = forms.CharField(
        label=gettext_lazy("text (Chinese)"), max_length=1000, widget=forms.Textarea(TEXT)
    )
    body_en = forms.CharField(
        label=gettext_lazy("text (English)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(TEXT),
    )
    provider_code = forms.CharField(
        label=gettext_lazy("provider template code"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("The code the SMS provider or WeChat account gave this text."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("active"), required=False, initial=True)


def _template_or_404(request: HttpRequest, template_id: int) -> MessageTemplate:
    found = MessageTemplate.objects.filter(merchant=request.actor.merchant, pk=template_id).first()
    if found is None:
        raise Http404(_("Message template not found"))
    return found


@may_use
def template_list(request: HttpRequest) -> HttpResponse:
    merchant = request.actor.merchant
    own = list(MessageTemplate.objects.filter(merchant=merchant))
    codes = {t.code for t in own}
    builtins = [builtin(merchant, code) for code in BUILTIN_TEMPLATES if code not in codes]
    for template in builtins:  # "生日祝福 Birthday greeting": the page's language only
        template.name = builtin_name(template.name)
    return render(
        request, "campaigns/templates/list.html", {"templates": own, "builtins": builtins}
    )


def _save(request: HttpRequest, template: MessageTemplate | None, initial: dict) -> HttpResponse:
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                template_services.create_template(request.actor, form.cleaned_data)
            else:
                template_services.update_template(request.actor, template, form.cleaned_data)
        except ValidationFailed as problem:
            form.add_service_errors(problem)
        else:
            return redirect("message_templates:list")
    return render(
        request,
        "campaigns/templates/form.html",
        {"form": form, "template": template, "variables": VARIABLES},
    )


@may_use
def template_new(request: HttpRequest) -> HttpResponse:
    initial: dict = {"is_active": True}
    source = builtin(request.actor.merchant, request.GET.get("from", ""))
    if source is not None:  # start from a built-in
        initial.update({key: getattr(source, key) for key in template_services.FIELDS})
        initial["is_active"] = True
    return _save(request, None, initial)


@may_use
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    template = _template_or_404(request, template_id)
    initial = {key: getattr(template, key) for key in template_services.FIELDS}
    return _save(request, template, initial)


@may_use
def template_preview(request: HttpRequest) -> HttpResponse:
    """The texts as a sample member reads them on each channel (htmx, on every keystroke)."""
    form = TemplateForm(request.POST)
    form.is_valid()
    data = {
        key: request.POST.get(key, "") for key in ("subject_zh", "subject_en", "body_zh", "body_en")
    }
    draft = MessageTemplate(merchant=request.actor.merchant, **data)
    errors = [message for message in _errors(draft)]
    sample = Member.objects.filter(merchant=request.actor.merchant).order_by("pk").first()
    if sample is None:
        sample = Member(merchant=request.actor.merchant, name=_("Zhang San"), card_no="000001")
    # An unsaved copy: the email preview gets no real unsubscribe token, a note instead.
    sample = copy.copy(sample)
    sample.pk = sample.id = None
    previews = []
    if not errors and draft.body_zh:
        for channel in (Channel.SMS, Channel.INBOX, Channel.EMAIL):
            _language, subject, body = render_text(draft, sample, SAMPLE_CONTEXT, channel=channel)
            if channel == Channel.EMAIL:
                note = _("(an unsubscribe link follows here)")
                body = f"{body}\n\n{note}"
            if channel == Channel.SMS:
                subject = ""  # an SMS has no subject
            previews.append({"channel": Channel(channel).label, "subject": subject, "body": body})
    return render(
        request,
        "campaigns/templates/_preview.html",
        {"previews": previews, "errors": errors, "sample": sample},
    )


def _errors(draft: MessageTemplate) -> list[str]:
    from patron.campaigns.templating import check_template

    return [str(error.message) for error in check_template(draft.__dict__)]
