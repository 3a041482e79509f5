from __future__ import annotations

import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from gunicorn.app.base import BaseApplication

from patron.core.commands import PatronCommand
from patron.demo.selectors import demo_exists, print_logins


class PatronServer(BaseApplication):
    """gunicorn, configured from our options instead of a config file."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from patron.wsgi import application

        return application


def serve_with_granian(options: dict) -> None:
    """granian (a Rust HTTP server) running the WSGI application.

    The default: HTTP parsing, keep-alive and socket I/O happen in Rust without the GIL, so
    the Python threads only run Django (less CPU per sale and a lower p99 than gunicorn
    gthread, measured back to back: docs/checkout-benchmarks.md).
    """
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "patron.wsgi:application",
        address=options["host"],
        port=options["port"],
        interface=Interfaces.WSGI,
        workers=options["workers"],
        blocking_threads=options["threads"],
        # Threads hold a database connection each (CONN_MAX_AGE): keep them for granian's
        # longest (10 min) instead of retiring idle ones after 30 s and reconnecting.
        blocking_threads_idle_timeout=600,
        websockets=False,
        log_access=True,
        respawn_failed_workers=True,
    ).serve()


def serve_with_gunicorn(options: dict) -> None:
    PatronServer(
        {
            "bind": f"{options['host']}:{options['port']}",
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
        }
    ).run()


SERVERS = {"granian": serve_with_granian, "gunicorn": serve_with_gunicorn}


class Command(PatronCommand):
    help = "Serve console, cashier, member pages and API with granian (or gunicorn) and WhiteNoise."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--threads", type=int, default=4, help="request threads per worker")
        parser.add_argument(
            "--server",
            choices=sorted(SERVERS),
            default="granian",
            help="HTTP server (default granian; gunicorn gthread is kept for comparison)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="do not run the embedded job worker (e.g. for benchmarks)",
        )

    def handle(self, *args, **options):
        call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{options['host']}:{options['port']}/"
        if demo_exists():
            print_logins(self.stdout, url)
        else:
            self.stdout.write(f"Console: {url}")
        self.stdout.flush()
        worker = self.start_embedded_worker(options)
        try:
            SERVERS[options["server"]](options)
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(timeout=10)

    def start_embedded_worker(self, options) -> subprocess.Popen | None:
        """With the embedded (SQLite) queue, jobs and schedules run in a child process;
        with Redis, production runs `patron worker` on its own."""
        if settings.REDIS_URL or options["no_worker"]:
            return None
        return subprocess.Popen([sys.executable, "-m", "patron.cli", "worker", "--workers", "1"])
