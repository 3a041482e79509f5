"""Console forms for stores, staff, API keys and the audit-log filter.

Forms only collect input; the rules live in `patron.tenancy.services`, whose FieldErrors the
views put back on these forms with `add_service_errors`.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from patron.core.errors import DomainError
from patron.core.forms import ConsoleForm, DayField, ServiceErrorsMixin, YuanField
from patron.tenancy.actor import Actor
from patron.tenancy.models import AuditEntry, Merchant, Role, Staff, Store
from patron.tenancy.selectors import active_stores, merchant_staff, named_staff
from patron.tenancy.services import MAX_REFUND_APPROVAL


def store_choice_field(merchant: Merchant, *, required: bool = False) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Store"),
        queryset=active_stores(merchant),
        to_field_name="code",
        required=required,
        empty_label=_("— No store (HQ) —"),
        help_text=_("Store managers and cashiers work at one store."),
    )


def staff_choice_field(actor: Actor) -> forms.ChoiceField:
    """The "staff" (经办人) of a console form: who is credited with the top-up, the card or
    the member recruited (API.md §12, commissions). The signed-in user by default; a store
    manager or cashier only themselves, HQ any active staff."""
    me = actor.user.get_username() if actor.user else ""
    if actor.store_bound is not None or actor.staff is None:
        staff = [actor.staff] if actor.staff is not None else []
    else:
        staff = list(merchant_staff(actor).filter(is_active=True, user__is_active=True))
    choices = [(s.user.get_username(), _staff_label(s)) for s in staff]
    return forms.ChoiceField(
        label=pgettext_lazy("credited staff", "Staff"),
        choices=choices,
        initial=me,
        required=False,
        help_text=_("Who is credited with it (staff commissions)."),
    )


def _staff_label(staff: Staff) -> str:
    name = staff.user.get_full_name() or staff.user.get_username()
    where = staff.store.name if staff.store_id else staff.get_role_display()
    return f"{name} · {where}"


def check_named_staff(form: forms.Form, actor: Actor, store: Store | None) -> None:
    """A form's clean(): the staff named may work at `store` (else an error on the field)."""
    try:
        named_staff(actor, form.cleaned_data.get("staff"), store)
    except DomainError as problem:
        form.add_error("staff", str(problem.detail))


class StoreForm(ServiceErrorsMixin, forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=32,
        help_text=_("Short and unique, e.g. S1. It cannot be changed later."),
    )
    name = forms.CharField(label=pgettext_lazy("name of a thing", "Name"), max_length=100)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    refund_approval_above = YuanField(
        label=_("Refunds above this need a store manager (yuan)"),
        required=False,
        maximum=MAX_REFUND_APPROVAL,
        help_text=_(
            "At the till a store manager approves larger refunds with their password. "
            "Empty: never asked."
        ),
    )

    def __init__(self, *args, editing: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code cannot be changed.")


class StoreRefundLimitForm(ServiceErrorsMixin, forms.Form):
    """What a store manager may change of their own store: the refund approval limit."""

    refund_approval_above = StoreForm.base_fields["refund_approval_above"]


class StaffCreateForm(ServiceErrorsMixin, forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150)
    full_name = forms.CharField(label=_("Full name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"] = store_choice_field(merchant)


class StaffEditForm(ServiceErrorsMixin, forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    is_active = forms.BooleanField(
        label=_("Active (may log in)"),
        required=False,
    )

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"] = store_choice_field(merchant)
        # Keep the order role, store, active on the page.
        self.order_fields(["role", "store", "is_active"])


class PasswordResetForm(ServiceErrorsMixin, forms.Form):
    password = forms.CharField(
        label=_("New password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("At least 8 characters."),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class ApiKeyForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("name of a thing", "Name"),
        max_length=100,
        help_text=_("What uses this key, e.g. “POS at S1” or “Web shop”."),
    )


class AuditFilterForm(ConsoleForm):
    """GET filters; an invalid value is reported and ignored, never an error page."""

    object_type = forms.ChoiceField(label=_("Object"), required=False)
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = DayField(label=_("From"), required=False)
    date_to = DayField(label=_("To"), required=False)

    def __init__(self, *args, object_types: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["object_type"].choices = [("", _("All objects")), *object_types]
        self.fields["action"].choices = [("", _("All actions")), *AuditEntry.Action.choices]

    def valid_filters(self) -> dict:
        """The filters that are valid, even when others are not."""
        self.is_valid()
        return {k: v for k, v in getattr(self, "cleaned_data", {}).items() if v}
