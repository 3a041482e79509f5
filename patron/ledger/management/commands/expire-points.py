from patron.core.commands import PatronCommand, as_of_for
from patron.ledger.services import expire_due_lots, release_due_holds
from patron.tenancy.models import Merchant
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Post due points expiries and release pending points whose return window has "
        "passed. Idempotent; also runs hourly in the job worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="date (start of day, merchant time) or datetime")
        parser.add_argument("--merchant", help="only this merchant (slug)")

    def handle(self, *args, **options):
        merchants = (
            [merchant_by_slug(options["merchant"])]
            if options["merchant"]
            else list(Merchant.objects.order_by("pk"))
        )
        if options["as_of"]:
            as_of_for((merchants[0] if merchants else Merchant()).timezone, options["as_of"])
        expired = released = 0
        for merchant in merchants:
            as_of = as_of_for(merchant.timezone, options["as_of"])
            released += release_due_holds(as_of, merchant)
            expired += expire_due_lots(as_of, merchant)
        self.stdout.write(f"{expired} lots expired, {released} pending holds released")
