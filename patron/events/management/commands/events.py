"""`patron events`: what the outbox holds, and delivering what is pending now (docs/events.md)."""

from django.core.management.base import CommandError
from django.utils import timezone

from patron.core.commands import PatronCommand
from patron.events.dispatch import dispatch_pending
from patron.events.models import Event
from patron.events.types import EVENT_TYPES
from patron.tenancy.selectors import merchant_by_slug


class Command(PatronCommand):
    help = (
        "The outbox: `patron events list --merchant S [--type T] [--pending] [--limit N]` "
        "(newest first), `patron events dispatch` (hand pending events to their consumers now)."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="a merchant's events, newest first")
        listing.add_argument("--merchant", required=True)
        listing.add_argument("--type", help=f"only this type ({', '.join(EVENT_TYPES)})")
        listing.add_argument("--pending", action="store_true", help="only those not delivered")
        listing.add_argument("--limit", type=int, default=50)
        sub.add_parser("dispatch", help="deliver the pending events of every merchant now")

    def handle(self, *args, action, **options):
        if action == "dispatch":
            done = dispatch_pending()
            left = Event.objects.filter(dispatched_at__isnull=True).count()
            self.stdout.write(f"dispatched {done}; still pending {left}")
            return
        merchant = merchant_by_slug(options["merchant"])
        events = Event.objects.filter(merchant=merchant).order_by("-id")
        if options["type"]:
            if options["type"] not in EVENT_TYPES:
                raise CommandError(
                    f"Unknown event type {options['type']!r}; one of: {', '.join(EVENT_TYPES)}"
                )
            events = events.filter(type=options["type"])
        if options["pending"]:
            events = events.filter(dispatched_at__isnull=True)
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1")
        for event in events[: options["limit"]]:
            self.stdout.write(
                f"#{event.pk}\t{timezone.localtime(event.created_at):%Y-%m-%d %H:%M:%S}\t"
                f"{event.type}\tmember {event.member_id or '-'}\t{state(event)}\t{event.uid}"
            )


def state(event: Event) -> str:
    if event.dispatched_at is None:
        return f"pending (attempts {event.attempts})" if event.attempts else "pending"
    if event.error:
        return f"set aside after {event.attempts} attempts: {event.error}"
    return "delivered"
