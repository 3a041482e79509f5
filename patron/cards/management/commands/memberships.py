import datetime as dt
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError
from django.utils import timezone

from patron.cards.memberships import expire_due
from patron.core.commands import PatronCommand
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import merchant_by_slug


def as_of_for(merchant: Merchant, text: str | None) -> dt.datetime:
    """`--as-of 2028-01-01` means the start of that day in the merchant's time zone."""
    if not text:
        return timezone.now()
    try:
        if len(text) == 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(merchant.timezone))
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--as-of takes a date (YYYY-MM-DD) or an ISO datetime, not {text!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(merchant.timezone))


class Command(PatronCommand):
    help = (
        "Paid memberships: `patron memberships expire [--as-of DATE] [--merchant SLUG]` ends "
        "the periods that are over and returns their members to the tier they earn. "
        "Idempotent; also runs every 15 minutes in the job worker."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        expire = sub.add_parser("expire", help="expire the paid periods that have ended")
        expire.add_argument("--as-of", help="date (start of day, merchant time) or datetime")
        expire.add_argument("--merchant", help="only this merchant (slug)")

    def handle(self, *args, action, **options):
        merchants = (
            [merchant_by_slug(options["merchant"])]
            if options["merchant"]
            else list(Merchant.objects.order_by("pk"))
        )
        if options["as_of"]:  # a bad date is refused even when there is no merchant yet
            as_of_for(merchants[0] if merchants else Merchant(), options["as_of"])
        expired = 0
        for merchant in merchants:
            expired += expire_due(as_of_for(merchant, options["as_of"]), merchant)
        self.stdout.write(f"{expired} paid memberships expired")
