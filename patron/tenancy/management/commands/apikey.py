from patron.core.commands import PatronCommand
from patron.tenancy import services
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Manage API keys: `patron apikey create --merchant SLUG [--name N]` prints the key "
        "alone on the last line; it is stored hashed and cannot be shown again."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create an API key")
        create.add_argument("--merchant", required=True)
        create.add_argument("--name", default="default")

    def handle(self, *args, action, **options):
        merchant = merchant_by_slug(options["merchant"])
        key, plain = services.create_api_key(Actor.system(merchant), options["name"])
        self.stderr.write(f"API key '{key.name}' for {merchant.slug} (shown once, store it now):")
        self.stdout.write(plain)
