from patron.core.commands import PatronCommand
from patron.core.reencryption import DEFAULT_BATCH_SIZE, reencrypt_all


class Command(PatronCommand):
    help = (
        "Re-encrypt every encrypted value (ID numbers) under the current secret key, after a "
        "key rotation (docs/operations.md, 'Keys'). Safe to run again: values already under "
        "the current key are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH_SIZE,
            help=f"rows per transaction (default {DEFAULT_BATCH_SIZE})",
        )

    def handle(self, *args, **options):
        reports = reencrypt_all(max(1, options["batch_size"]))
        for report in reports:
            self.stdout.write(str(report))
        unreadable = sum(report.unreadable for report in reports)
        if unreadable:
            # Not an error: the data is kept, and putting the old key into
            # PATRON_SECRET_KEY_FALLBACKS and running this again recovers it.
            self.stderr.write(
                f"{unreadable} values are under a key Patron does not have; they were left "
                "unchanged. Add that key to PATRON_SECRET_KEY_FALLBACKS and run again."
            )
