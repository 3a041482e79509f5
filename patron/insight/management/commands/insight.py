"""`patron insight refresh --merchant SLUG [--as-of DATE]` and `patron insight fit --merchant
SLUG [--as-of DATE] [--unit day|week]` (API.md §8)."""

import json
from zoneinfo import ZoneInfo

from patron.core.commands import PatronCommand, as_of_for
from patron.insight.clv.fitting import fit_merchant
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
        fit = sub.add_parser(
            "fit", help="fit BG/NBD and Gamma-Gamma on repeat purchases; prints JSON"
        )
        fit.add_argument("--merchant", required=True, help="the merchant (slug)")
        fit.add_argument("--as-of", help="last day counted (merchant time); default today")
        fit.add_argument("--unit", choices=("day", "week"), default="day", help="time unit")

    def handle(self, *args, action, **options):
        if action == "fit":
            return self.fit(options)
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

    def fit(self, options) -> None:
        """Only the JSON goes to standard output (API.md §8); v is in fen like the amounts."""
        merchant = merchant_by_slug(options["merchant"])
        moment = as_of_for(merchant.timezone, options.get("as_of"))
        day = moment.astimezone(ZoneInfo(merchant.timezone)).date()
        fitted = fit_merchant(merchant, day, options["unit"])
        answer = {
            "customers": fitted.fit.customers,
            "bgnbd": fitted.fit.bgnbd,
            "gamma_gamma": fitted.fit.gamma_gamma,
        }
        self.stdout.write(json.dumps(answer))
