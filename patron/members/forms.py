"""Console forms for members.

The member form only collects input and validates nothing itself: the rules live in
`patron.members.validation`, applied by `services.register_member` / `update_member`, so the
console, the API and bulk import accept and refuse exactly the same things. The view puts the
service's FieldErrors back onto the inputs (`custom.<key>` -> `custom_<key>`).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from patron.core.forms import ConsoleForm, DayField, ServiceErrorsMixin, search_field
from patron.members import hooks
from patron.members.models import Channel, CustomField, Gender, IncomeBand, Member, MemberStatus
from patron.members.services import custom_field_definitions
from patron.tenancy.actor import Actor
from patron.tenancy.forms import check_named_staff, staff_choice_field
from patron.tenancy.selectors import active_stores

CUSTOM_PREFIX = "custom_"
PERSONAL_INPUTS = ("mobile", "id_number")
CONSENT_FIELDS = ("consent_sms", "consent_wechat", "consent_email")
SECTIONS = (
    (_("Contact"), ("mobile", "name", "gender", "birthday", "lunar_birthday", "email")),
    (_("Membership"), ("store", "staff", "source_channel", "referrer_code", "tags")),
    (_("Profile"), ("id_number", "region", "occupation", "income_band", "address")),
    (_("Marketing consent"), CONSENT_FIELDS),
)
SORT_MAX_LENGTH = 40
# Inputs that take the whole row of the two-column form.
WIDE_FIELDS = frozenset({"address", "tags"})


def text(label: str, *, help_text: str = "", **attrs: Any) -> forms.CharField:
    """An optional text input; whether the value is acceptable is the service's call."""
    return forms.CharField(
        label=label, required=False, help_text=help_text, widget=forms.TextInput(attrs=attrs)
    )


def select(label: str, choices: list[tuple[str, str]], **attrs: Any) -> forms.CharField:
    """A select whose value the service validates (so a forged value gets the same message)."""
    return forms.CharField(
        label=label, required=False, widget=forms.Select(choices=choices, attrs=attrs)
    )


def date_input(label: str, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.DateInput(attrs={"type": "date", **attrs})
    )


def custom_form_field(definition: CustomField) -> forms.Field:
    attrs = {"required": True} if definition.required else {}
    kind = definition.kind
    if kind == CustomField.Kind.NUMBER:
        widget: forms.Widget = forms.NumberInput(attrs={"step": "any", **attrs})
    elif kind == CustomField.Kind.CHOICE:
        choices = [("", "—"), *((str(c), str(c)) for c in definition.choices)]
        widget = forms.Select(choices=choices, attrs=attrs)
    elif kind == CustomField.Kind.DATE:
        widget = forms.DateInput(attrs={"type": "date", **attrs})
    else:
        widget = forms.TextInput(attrs=attrs)
    return forms.CharField(label=definition.label, required=False, widget=widget)


def store_choices(actor: Actor, current: Any = None) -> list[tuple[str, str]]:
    bound = actor.store_bound
    if bound is not None:
        return [(bound.code, str(bound))]
    choices = [("", str(_("— No store (HQ) —")))]
    choices += [(store.code, str(store)) for store in active_stores(actor.merchant)]
    if current is not None and current.code not in {code for code, _label in choices}:
        choices.append((current.code, str(current)))  # an inactive store the member belongs to
    return choices


def member_initial(member: Member) -> dict[str, Any]:
    """The member as form values (dates as ISO text, tags comma-separated)."""
    initial: dict[str, Any] = {
        name: getattr(member, name)
        for name in (
            "mobile",
            "name",
            "gender",
            "lunar_birthday",
            "email",
            "id_number",
            "region",
            "occupation",
            "income_band",
            "address",
            *CONSENT_FIELDS,
        )
    }
    initial["birthday"] = member.birthday.isoformat() if member.birthday else ""
    initial["store"] = member.store.code if member.store_id else ""
    initial["tags"] = ", ".join(sorted(tag.name for tag in member.tags.all()))
    for key, value in (member.custom or {}).items():
        initial[CUSTOM_PREFIX + key] = "" if value is None else str(value)
    return initial


class MemberForm(ServiceErrorsMixin, forms.Form):
    mobile = text(
        _("Mobile"), inputmode="tel", autocomplete="off", required=True, placeholder="138 0013 8000"
    )
    name = text(_("Name"), maxlength=50)
    gender = select(_("Gender"), Gender.choices)
    birthday = date_input(_("Birthday"))
    lunar_birthday = text(
        _("Lunar birthday"),
        help_text=_("Month and day in the Chinese calendar, as MM-DD."),
        placeholder="08-15",
        maxlength=5,
    )
    email = text(_("Email"), type="email", maxlength=254)
    store = select(_("Store"), [])
    source_channel = select(_("Source channel"), Channel.choices)
    referrer_code = text(
        _("Referral code"), help_text=_("The code of the member who recommended them, if any.")
    )
    tags = text(_("Tags"), help_text=_("Separate tags with commas, e.g. 商务, 亲子."))
    id_number = text(_("ID number"), maxlength=18, autocomplete="off")
    region = text(_("Region"), maxlength=60)
    occupation = text(_("Occupation"), maxlength=60)
    income_band = select(_("Income band"), IncomeBand.choices)
    address = text(_("Address"), maxlength=200)
    consent_sms = forms.BooleanField(label=_("Agrees to SMS marketing"), required=False)
    consent_wechat = forms.BooleanField(label=_("Agrees to WeChat marketing"), required=False)
    consent_email = forms.BooleanField(label=_("Agrees to email marketing"), required=False)

    def __init__(self, *args, actor: Actor, member: Member | None = None, **kwargs: Any) -> None:
        self.actor = actor
        self.member = member
        self.definitions = custom_field_definitions(actor.merchant)
        if member is not None:
            kwargs.setdefault("initial", member_initial(member))
        else:
            kwargs.setdefault("initial", {"gender": Gender.UNKNOWN})
        super().__init__(*args, **kwargs)
        self.fields["store"].widget.choices = store_choices(actor, member.store if member else None)
        if member is None:
            self.initial.setdefault("source_channel", default_channel_for(actor))
            if actor.store_bound is not None:
                self.initial.setdefault("store", actor.store_bound.code)
            self.fields["staff"] = staff_choice_field(actor)  # who recruited (commissions)
        else:
            # Where a member came from and who referred them are facts, not editable fields.
            del self.fields["source_channel"], self.fields["referrer_code"]
            if not actor.sees_personal_data:
                # Masked roles never get the unmasked value, not even inside an input.
                for name in PERSONAL_INPUTS:
                    del self.fields[name]
        for definition in self.definitions:
            self.fields[CUSTOM_PREFIX + definition.key] = custom_form_field(definition)
        self.extra_names: list[str] = []
        if member is None:  # what the apps above ask of a new member (members/hooks.py)
            for name, extra in hooks.registration_form_fields(actor).items():
                self.fields[name] = extra
                self.extra_names.append(name)

    # --- presentation ----------------------------------------------------------------------

    wide_fields = WIDE_FIELDS

    @property
    def masks_personal_data(self) -> bool:
        """Editing as a role that sees personal data masked: those inputs are left out."""
        return self.member is not None and not self.actor.sees_personal_data

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        shown = [
            (title, [self[name] for name in names if name in self.fields])
            for title, names in SECTIONS
        ]
        custom = [self[CUSTOM_PREFIX + d.key] for d in self.definitions]
        if custom:
            shown.append((str(_("Custom fields")), custom))
        if self.extra_names:
            shown.insert(1, (str(_("Joining")), [self[name] for name in self.extra_names]))
        return [(title, fields) for title, fields in shown if fields]

    # --- what the service receives -----------------------------------------------------------

    def plain_field_names(self) -> list[str]:
        return [
            name for name in self.fields if not name.startswith(CUSTOM_PREFIX) and name != "staff"
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if "staff" in self.fields:
            code = cleaned.get("store") or ""
            store = active_stores(self.actor.merchant).filter(code=code).first() if code else None
            check_named_staff(self, self.actor, store)
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """Raw input for register_member (everything) or update_member (what changed)."""
        data = self.cleaned_data
        changed = set(self.changed_data) if self.member is not None else set(self.fields)
        payload = {
            name: data[name]
            for name in self.plain_field_names()
            if name in changed and name in data
        }
        custom = {
            d.key: data.get(CUSTOM_PREFIX + d.key, "")
            for d in self.definitions
            if CUSTOM_PREFIX + d.key in changed
        }
        if custom or self.member is None:
            payload["custom"] = custom
        if self.member is None and not payload.get("source_channel"):
            payload.pop("source_channel", None)
        return payload

    def form_field_for(self, service_field: str) -> str | None:
        if service_field.startswith("custom."):
            service_field = CUSTOM_PREFIX + service_field.removeprefix("custom.")
        return super().form_field_for(service_field)


def default_channel_for(actor: Actor) -> str:
    # Mirrors the service's default: store staff register at the till, HQ in the console.
    return Channel.TILL if actor.store_bound is not None else Channel.CONSOLE


class MemberFilterForm(ConsoleForm):
    """The member list's search and filters. Bad values are reported and ignored."""

    q = search_field(_("Mobile, name or card number"), max_length=50)
    store = forms.ChoiceField(label=_("Store"), required=False)
    gender = forms.ChoiceField(label=_("Gender"), required=False)
    source_channel = forms.ChoiceField(label=_("Source channel"), required=False)
    tag = forms.ChoiceField(label=_("Tag"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)
    joined_from = DayField(label=_("Joined from"), required=False)
    joined_to = DayField(label=_("Joined to"), required=False)

    def __init__(self, *args, actor: Actor, tags: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        everything = ("", _("All"))
        if actor.store_bound is not None:
            del self.fields["store"]  # a store-bound role only ever sees one store
        else:
            stores = [(s.code, str(s)) for s in active_stores(actor.merchant)]
            self.fields["store"].choices = [everything, *stores]
        self.fields["gender"].choices = [everything, *Gender.choices]
        self.fields["source_channel"].choices = [everything, *Channel.choices]
        self.fields["tag"].choices = [everything, *((t, t) for t in tags)]
        self.fields["status"].choices = [everything, *MemberStatus.choices]

    def criteria(self) -> dict[str, Any]:
        """Keyword arguments for `selectors.search_members`, valid filters only."""
        self.is_valid()
        cleaned = getattr(self, "cleaned_data", {})
        return {name: value for name, value in cleaned.items() if value not in (None, "")}

    def sort(self) -> str:
        """The column the list is sorted by (`?sort=points`, `?sort=-points`): a header link,
        not an input; a name no column has sorts nothing."""
        raw = self.data.get("sort", "") if self.is_bound else ""
        return raw if isinstance(raw, str) and len(raw) <= SORT_MAX_LENGTH else ""
