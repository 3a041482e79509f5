"""The what-if page's form: a draft program (pasted or uploaded), the range and a store.

Cleaning parses the draft as `patron program apply` does and checks the range with
`services.question`, so the page refuses exactly what the API and the command line refuse,
every error at once, each under the input it is about."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patron.core.errors import DomainError, ValidationFailed
from patron.core.forms import ConsoleForm, DayField, ServiceErrorsMixin
from patron.program.services import dump_yaml, export_sections, parse_document
from patron.tenancy.actor import Actor
from patron.tenancy.models import Store
from patron.whatif import services

# The sections a merchant drafts on this page; an uploaded file may hold any.
DRAFTED_SECTIONS = ["tiers", "promotions", "coupon_templates", "points"]
MAX_FILE_BYTES = 1_000_000  # a whole program file is a few tens of kB
MAX_TEXT = 1_000_000


def current_draft_text(actor: Actor) -> str:
    """The current program's drafted sections as YAML: what the textarea starts from."""
    return dump_yaml(export_sections(actor, DRAFTED_SECTIONS))


def last_twelve_months(today: dt.date) -> tuple[dt.date, dt.date]:
    """The twelve months ending yesterday (2026-12-07 -> 2025-12-07 .. 2026-12-06)."""
    last = today - dt.timedelta(days=1)
    try:
        first = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        first = today.replace(year=today.year - 1, day=28)
    return first, last


def local_today(actor: Actor) -> dt.date:
    return timezone.now().astimezone(ZoneInfo(actor.merchant.timezone)).date()


def iso_day() -> forms.DateInput:
    """A date input given its value as the browser's date picker reads it, in any language."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DraftForm(ServiceErrorsMixin, ConsoleForm):
    program = forms.CharField(
        label=gettext_lazy("Draft program (YAML)"),
        required=False,
        max_length=MAX_TEXT,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "mono"}),
        help_text=gettext_lazy(
            "The current tiers, promotions, coupon templates and points rules: edit them here. "
            "A section left out stays as it is."
        ),
    )
    upload = forms.FileField(
        label=gettext_lazy("Or upload a program file"),
        required=False,
        help_text=gettext_lazy(
            "YAML or JSON, as patron program export writes it; it replaces the text above."
        ),
    )

    def __init__(self, *args: Any, actor: Actor, **kwargs: Any) -> None:
        self.actor = actor
        given = kwargs.pop("initial", None) or {}
        super().__init__(*args, **kwargs)
        if not self.is_bound:  # a posted form shows what was posted: no export needed
            first, last = last_twelve_months(local_today(actor))
            self.initial = {"from": first, "to": last, **given}
            self.initial.setdefault("program", current_draft_text(actor))
        self.fields["from"] = DayField(label=_("From"), widget=iso_day())
        self.fields["to"] = DayField(
            label=_("To"),
            widget=iso_day(),
            help_text=_("Up to 31 days: at once; longer: in the background."),
        )
        stores = Store.objects.filter(merchant=actor.merchant).order_by("-is_active", "code")
        self.fields["store"] = forms.ChoiceField(
            label=_("Store"),
            required=False,
            choices=[("", _("All stores"))] + [(s.code, s.name) for s in stores],
        )
        self.order_fields(["program", "upload", "from", "to", "store"])
        self.document: dict[str, Any] = {}
        self.asked: services.Question | None = None

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        if upload is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("The file is larger than 1 MB: is it a program file?"))
        return upload

    def draft_text(self) -> str | None:
        upload = self.cleaned_data.get("upload")
        if upload is not None:
            try:
                return upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                self.add_error("upload", _("The file is not UTF-8 text."))
                return None
        text = self.cleaned_data.get("program") or ""
        if not text.strip():
            self.add_error("program", _("Paste a draft or upload a program file."))
            return None
        return text

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "upload" not in self.errors and "program" not in self.errors:
            text = self.draft_text()
            if text is not None:
                try:
                    self.document = parse_document(text)
                except ValidationFailed as failure:
                    self.add_draft_errors(failure)
        if not any(name in self.errors for name in ("from", "to", "store")):
            try:
                self.asked = services.question(
                    self.actor, cleaned.get("from"), cleaned.get("to"), cleaned.get("store") or None
                )
            except DomainError as problem:
                self.add_service_errors(problem)
        return cleaned

    def add_draft_errors(self, failure: DomainError) -> None:
        """Every refusal of the draft under its input, each as `path: message` (as `patron
        program apply` prints them), after the sentence that counts them."""
        field = "upload" if self.cleaned_data.get("upload") is not None else "program"
        lines = [
            f"{e.field}: {e.message}" if e.field != "$" else str(e.message) for e in failure.errors
        ]
        if str(failure.detail) != "; ".join(f"{e.field}: {e.message}" for e in failure.errors):
            lines.insert(0, str(failure.detail))
        for line in lines or [str(failure.detail)]:
            self.add_error(field, line)
