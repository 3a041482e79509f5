"""`patron settle --merchant SLUG --month 2027-03 [--close] [--xlsx FILE]`: the month's
settlement between stores (pairs, nets, activities, late uploads), as the API answers it."""

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from patron.core.commands import PatronCommand
from patron.core.money import signed_yuan, yuan
from patron.network import settlement_exports as exports
from patron.network import settlement_selectors as selectors
from patron.network import settlement_services as services
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "Settlement between stores for a month: `patron settle --merchant S --month 2027-03 "
        "[--close] [--xlsx FILE]` (amounts in yuan; --close freezes the month)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True)
        parser.add_argument("--month", help="YYYY-MM (default: last month)")
        parser.add_argument("--close", action="store_true", help="close (freeze) the month")
        parser.add_argument("--xlsx", help="also write the statement to this xlsx file")

    def handle(self, *args, **options):
        merchant = merchant_by_slug(options["merchant"])
        actor = Actor.system(merchant)
        month = options["month"] or selectors.last_month(merchant)
        if options["close"]:
            found = services.close_month(actor, month, key=f"cli:{month}")
        else:
            found = selectors.statement(actor, month)
        self._print(found)
        if options["xlsx"]:
            try:
                Path(options["xlsx"]).write_bytes(exports.workbook(found))
            except OSError as problem:
                raise CommandError(f"Cannot write {options['xlsx']}: {problem.strerror}") from None
            self.stdout.write(f"written {options['xlsx']}")

    def _print(self, found: selectors.Statement) -> None:
        out = self.stdout.write
        status = found.status
        if found.closed_at:
            at = timezone.localtime(found.closed_at).strftime("%Y-%m-%d %H:%M")
            status += f" (closed {at} by {found.closed_by or 'the command line'})"
        out(f"settlement {found.month}: {status}")
        rows = found.rows
        if not rows:
            out("  no store owes another anything this month")
        for row in rows:
            out(f"  {row.payer} owes {row.payee}\t{yuan(row.amount)}")
        out("net per store (+ is owed, - owes):")
        for code, amount in found.net.items():
            out(f"  {code}\t{signed_yuan(amount)}")
        for activity in found.activities():
            out(
                f"activity {activity['activity']}: {activity['payer']} owes "
                f"{activity['payee']}\t{yuan(activity['amount'])}"
            )
        for line in found.late():
            at = timezone.localtime(line.occurred_at).strftime("%Y-%m-%d %H:%M")
            out(
                f"late upload (dated {at}, counted in {found.month}): "
                f"{line.payer} -> {line.payee}\t{yuan(line.amount)}"
                + (f"\tsale #{line.sale_id}" if line.sale_id else "")
            )
