"""`patron alliances --merchant SLUG [--statement ID --month YYYY-MM]`: a merchant's alliances,
or one alliance's clearing statement (the figures of GET /alliances/{id}/statement)."""

from __future__ import annotations

from patron.core.commands import PatronCommand
from patron.network import alliance_selectors, alliance_services
from patron.tenancy.actor import Actor
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = "List a merchant's alliances, or print one alliance's monthly clearing statement."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", required=True, help="the merchant (slug)")
        parser.add_argument("--statement", type=int, help="an alliance id: print its statement")
        parser.add_argument("--month", help="YYYY-MM (with --statement)")

    def handle(self, *args, **options):
        actor = Actor.system(merchant_by_slug(options["merchant"]))
        if options["statement"] is None:
            for alliance in alliance_selectors.alliances_for(actor):
                other = alliance_services.other_side(alliance, actor.merchant)
                self.stdout.write(
                    f"{alliance.pk}\t{other.slug}\t{other.name}\t{alliance.status}\t"
                    f"{alliance.rate_points}:{alliance.rate_partner_points}"
                )
            return
        alliance = alliance_selectors.alliance_for(actor, options["statement"])
        answer = alliance_services.statement_answer(
            alliance_services.statement(alliance, options["month"])
        )
        self.stdout.write(f"month {answer['month']}")
        for row in answer["rows"]:
            self.stdout.write(
                f"{row['from']} -> {row['to']}: {row['points_out']} points out, "
                f"{row['points_in']} in, {row['exchanges']} exchanges, owed {row['amount']} fen"
            )
        for slug, amount in answer["net"].items():
            self.stdout.write(f"net {slug}: {amount}")
        if answer["payer"]:
            self.stdout.write(f"{answer['payer']} pays {answer['payee']} {answer['amount']} fen")
        else:
            self.stdout.write("nothing to settle")
