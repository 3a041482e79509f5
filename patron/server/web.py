"""The HTTP servers `patron serve` runs in its web child: granian (default) or gunicorn.

Each server forks its workers from its main loop; every worker asks the kernel to kill it when
that server process dies (parent_death), so no worker outlives its generation.
"""

from __future__ import annotations

import os
from functools import partial

from gunicorn.app.base import BaseApplication

from patron.server.parent_death import die_with_parent


def load_application_in_worker(server_pid: int, _target: str):
    """granian's target loader, run first thing in each worker it spawns: tie the worker's life
    to the granian process, then load the WSGI application."""
    die_with_parent(server_pid)
    from patron.wsgi import application

    return application


def die_with_arbiter(arbiter, _worker) -> None:
    """gunicorn's post_fork hook, run in each new worker right after the fork."""
    die_with_parent(arbiter.pid)


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
    ).serve(target_loader=partial(load_application_in_worker, os.getpid()))


def serve_with_gunicorn(options: dict) -> None:
    PatronServer(
        {
            "bind": f"{options['host']}:{options['port']}",
            "workers": options["workers"],
            "threads": options["threads"],
            "worker_class": "gthread",
            "accesslog": "-",
            "timeout": 60,
            "post_fork": die_with_arbiter,
        }
    ).run()


SERVERS = {"granian": serve_with_granian, "gunicorn": serve_with_gunicorn}
