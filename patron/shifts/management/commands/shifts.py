from django import forms
from django.core.management.base import CommandError
from django.utils import timezone

from patron.core.commands import PatronCommand
from patron.core.forms import parse_yuan
from patron.core.money import yuan
from patron.shifts import selectors, services
from patron.tenancy.actor import Actor
from patron.tenancy.models import Staff
from patron.tenancy.selectors import merchant_by_slug, store_by_code


class Command(PatronCommand):
    help = (
        "Shift close (交班): `patron shifts list --merchant S [--store CODE]`, "
        "`patron shifts close --merchant S --store CODE --user NAME --counted YUAN`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="closed shifts, newest first")
        listing.add_argument("--merchant", required=True)
        listing.add_argument("--store", help="only this store (code)")
        close = sub.add_parser("close", help="close a cashier's open shift at a store")
        close.add_argument("--merchant", required=True)
        close.add_argument("--store", required=True, help="store code")
        close.add_argument("--user", required=True, help="the cashier's user name")
        close.add_argument("--counted", required=True, help="cash counted, in yuan")
        close.add_argument("--note", default="")

    def handle(self, *args, action, **options):
        merchant = merchant_by_slug(options["merchant"])
        system = Actor.system(merchant)
        store = store_by_code(merchant, options["store"]) if options.get("store") else None
        if action == "list":
            for shift in selectors.closed_shifts(system, store)[:200]:
                self.stdout.write(
                    f"#{shift.pk}\t{shift.store.code}\t{shift.user.get_username()}\t"
                    f"{timezone.localtime(shift.closed_at):%Y-%m-%d %H:%M}\t"
                    f"sales {shift.sales_count}\trefunds {shift.refunds_count}\t"
                    f"cash {yuan(shift.cash_expected)} counted {yuan(shift.cash_counted)} "
                    f"difference {yuan(shift.cash_difference)}"
                )
            return
        staff = (
            Staff.objects.filter(merchant=merchant, user__username=options["user"], is_active=True)
            .select_related("user", "store")
            .first()
        )
        if staff is None:
            raise CommandError(f"No active staff '{options['user']}' at {merchant.slug}")
        try:
            counted = parse_yuan(options["counted"])
        except forms.ValidationError as problem:
            raise CommandError(" ".join(problem.messages)) from None
        actor = Actor(merchant=merchant, staff=staff, channel="cli")
        shift = services.close_shift(actor, store, counted, note=options["note"])
        self.stdout.write(
            f"shift #{shift.pk} closed: cash expected {yuan(shift.cash_expected)}, "
            f"counted {yuan(shift.cash_counted)}, difference {yuan(shift.cash_difference)}"
        )
