from django.core.management.base import CommandError

from patron.core.commands import PatronCommand
from patron.demo.data import DEMO_SLUG
from patron.demo.selectors import demo_exists, print_logins
from patron.demo.services import create_demo
from patron.tenancy.models import Merchant


class Command(PatronCommand):
    help = "Create the demo merchant `demo` (3 stores, staff, N members) and print the logins."

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, default=2000)
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="only when the database has no merchant yet (used by make run)",
        )
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, **options):
        if not 0 <= options["members"] <= 1_000_000:
            raise CommandError("--members must be between 0 and 1,000,000")
        if options["if_empty"] and Merchant.objects.exists() and not demo_exists():
            self.stdout.write("Database already has merchants; demo not created.")
            return
        result = create_demo(options["members"])
        if result.created:
            self.stdout.write(f"Created demo merchant '{DEMO_SLUG}' with {result.members} members.")
        else:
            self.stdout.write(f"Demo merchant '{DEMO_SLUG}' exists ({result.members} members).")
        print_logins(self.stdout, options["url"])
