from patron.core.commands import PatronCommand
from patron.tenancy import services


class Command(PatronCommand):
    help = "Manage merchants: `patron merchant create SLUG --name NAME [--timezone TZ]`."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a merchant; prints its id")
        create.add_argument("slug")
        create.add_argument("--name", required=True)
        create.add_argument("--timezone", default="Asia/Shanghai")

    def handle(self, *args, action, **options):
        merchant = services.create_merchant(options["slug"], options["name"], options["timezone"])
        self.stdout.write(str(merchant.pk))
