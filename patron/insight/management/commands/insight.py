"""`patron insight refresh --merchant SLUG [--as-of DATE]` (API.md §8)."""

from zoneinfo import ZoneInfo

from patron.core.commands import PatronCommand, as_of_for
from patron.insight.refresh import refresh
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Insight: `patron insight refresh [--merchant SLUG] [--as-of DATE]` recomputes member "
        "stats, lifecycle, RFM and value (also nightly at 04:10 merchant time)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        again = sub.add_parser("refresh", help="recompute stats, lifecycle, RFM and value")
        again.add_argument("--merchant", help="only this merchant (slug)")
        again.add_argument("--as-of", help="date (start of day, merchant time) or datetime")

    def handle(self, *args, action, **options):
        merchants = (
            [merchant_by_slug(options["merchant"])]
            if options.get("merchant")
            else list(Merchant.objects.order_by("pk"))
        )
        for merchant in merchants:
            as_of = as_of_for(merchant.timezone, options.get("as_of"))
            report = refresh(merchant, as_of)
            local = as_of.astimezone(ZoneInfo(merchant.timezone))
            self.stdout.write(
                f"{merchant.slug}: refreshed as of {local:%Y-%m-%d %H:%M} ({merchant.timezone})"
            )
            for step, summary, seconds in report.lines:
                self.stdout.write(f"  {step:<10} {seconds:6.1f} s  {summary}")
