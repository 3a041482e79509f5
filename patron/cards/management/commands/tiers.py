"""`patron tiers review [--merchant SLUG] [--as-of DATE]` and `patron tiers birthdays`."""

from django.utils import timezone

from patron.cards import tiers
from patron.core.commands import PatronCommand, as_of_for
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Tiers: `patron tiers review [--merchant SLUG] [--as-of DATE]` upgrades, starts or "
        "clears grace periods and downgrades after grace (also nightly at 03:30 merchant "
        "time); `patron tiers birthdays [--merchant SLUG]` gives today's birthday gifts."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        review = sub.add_parser("review", help="review every member's tier")
        review.add_argument("--merchant", help="only this merchant (slug)")
        review.add_argument("--as-of", help="date (start of day, merchant time) or datetime")
        birthdays = sub.add_parser("birthdays", help="give today's birthday gifts")
        birthdays.add_argument("--merchant", help="only this merchant (slug)")

    def handle(self, *args, action, **options):
        merchants = (
            [merchant_by_slug(options["merchant"])]
            if options.get("merchant")
            else list(Merchant.objects.order_by("pk"))
        )
        for merchant in merchants:
            if action == "birthdays":
                given = tiers.birthday_gifts(merchant, timezone.now())
                self.stdout.write(f"{merchant.slug}: {given} birthday gifts given")
                continue
            as_of = as_of_for(merchant.timezone, options.get("as_of"))
            result = tiers.review(merchant, as_of)
            self.stdout.write(
                f"{merchant.slug}: {result.members} members reviewed, {result.upgraded} up, "
                f"{result.downgraded} down, {result.grace_started} grace started, "
                f"{result.grace_cleared} grace cleared"
            )
