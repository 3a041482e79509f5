from django.core.management import call_command

from patron.core.commands import PatronCommand


class Command(PatronCommand):
    help = (
        "Run background jobs and schedules (huey). Embedded SQLite queue by default; "
        "Redis when PATRON_REDIS_URL is set (production: run this as its own process)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2)

    def handle(self, *args, **options):
        call_command("run_huey", workers=options["workers"], worker_type="thread")
