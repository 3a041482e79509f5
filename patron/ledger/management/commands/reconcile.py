import sys

from patron.core.commands import PatronCommand
from patron.ledger.selectors import reconcile
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Recompute every balance and lot total from ledger entries; exit 0 with "
        "'0 differences', or exit 1 listing each difference."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", help="only this merchant (slug)")

    def handle(self, *args, **options):
        merchant = merchant_by_slug(options["merchant"]) if options["merchant"] else None
        differences = reconcile(merchant)
        for difference in differences:
            self.stdout.write(str(difference))
        self.stdout.write(f"{len(differences)} differences")
        if differences:
            sys.exit(1)
