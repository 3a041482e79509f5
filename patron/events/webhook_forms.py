"""The console's form to add a webhook: URL, event types as checkboxes, an optional secret."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, ServiceErrorsMixin
from patron.events import webhooks
from patron.events.types import LABELS


class WebhookForm(ServiceErrorsMixin, ConsoleForm):
    url = forms.CharField(
        label=_("URL"),
        max_length=webhooks.URL_MAX,
        help_text=_("An http:// or https:// address outside your network."),
        widget=forms.TextInput(
            attrs={"placeholder": "https://example.com/patron/events", "inputmode": "url"}
        ),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        required=False,
        choices=list(LABELS.items()),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every event."),
    )
    secret = forms.CharField(
        label=_("Secret"),
        required=False,
        min_length=webhooks.SECRET_MIN,
        max_length=webhooks.SECRET_MAX,
        help_text=_("Signs each delivery. Leave empty to have one generated (shown once)."),
    )
