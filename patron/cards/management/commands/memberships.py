from patron.cards.memberships import expire_due
from patron.core.commands import PatronCommand, as_of_for
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import merchant_by_slug


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
            as_of_for((merchants[0] if merchants else Merchant()).timezone, options["as_of"])
        expired = 0
        for merchant in merchants:
            expired += expire_due(as_of_for(merchant.timezone, options["as_of"]), merchant)
        self.stdout.write(f"{expired} paid memberships expired")
