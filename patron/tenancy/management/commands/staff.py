from django.core.management.base import CommandError

from patron.core.commands import PatronCommand
from patron.tenancy import services
from patron.tenancy.actor import Actor
from patron.tenancy.models import Role, Staff
from patron.tenancy.selectors import merchant_by_slug, merchant_staff, store_by_code

# The role words of the command line (API.md §12) and the roles they stand for.
ROLE_WORDS = {
    "hq": Role.HQ_ADMIN,
    "manager": Role.STORE_MANAGER,
    "cashier": Role.CASHIER,
    "marketer": Role.MARKETER,
}


class Command(PatronCommand):
    help = (
        "Manage staff: `patron staff create USERNAME --merchant SLUG --role "
        "hq|manager|cashier|marketer [--store S1] --password P` (managers and cashiers need a "
        "store); `patron staff list --merchant SLUG`."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a staff user; prints who was created")
        create.add_argument("username")
        create.add_argument("--merchant", required=True)
        create.add_argument("--role", required=True, help="hq, manager, cashier or marketer")
        create.add_argument("--store", default=None, help="store code (managers and cashiers)")
        create.add_argument("--password", required=True)
        create.add_argument("--name", default="", help="full name")
        listing = sub.add_parser("list", help="the merchant's staff")
        listing.add_argument("--merchant", required=True)

    def handle(self, *args, action, **options):
        merchant = merchant_by_slug(options["merchant"])
        actor = Actor.system(merchant)
        if action == "list":
            for staff in merchant_staff(actor):
                self.stdout.write(describe(staff))
            return
        role = ROLE_WORDS.get(options["role"])
        if role is None:
            words = ", ".join(ROLE_WORDS)
            raise CommandError(f"Unknown role {options['role']!r}: use one of {words}.")
        store = None
        if options["store"]:
            store = store_by_code(merchant, options["store"])
        elif role in (Role.STORE_MANAGER, Role.CASHIER):
            raise CommandError(f"--role {options['role']} needs --store (a store code).")
        elif options["store"] is not None:
            raise CommandError("--store needs a store code.")
        staff = services.create_staff(
            actor, options["username"], options["password"], role, store, options["name"]
        )
        self.stdout.write(describe(staff))


def describe(staff: Staff) -> str:
    where = f" at {staff.store.code} {staff.store.name}" if staff.store_id else ""
    active = "" if staff.is_active else " (inactive)"
    return f"{staff.user.get_username()}\t{staff.get_role_display()}{where}{active}"
