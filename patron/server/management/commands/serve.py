from __future__ import annotations

import os
import sys
from functools import partial

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from patron.core.commands import PatronCommand
from patron.demo.selectors import demo_exists, print_logins
from patron.server.ports import listening_pids, port_in_use
from patron.server.state import STATE_ENV, local_now, pid_alive, read_state, state_path
from patron.server.supervisor import Supervisor
from patron.server.web import SERVERS


class Command(PatronCommand):
    help = (
        "Serve console, cashier, member pages and API with granian (or gunicorn) and WhiteNoise, "
        "with the job worker as a supervised child when the queue is embedded."
    )

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
        host, port = options["host"], options["port"]
        refuse_if_held(host, port)
        call_command("collectstatic", interactive=False, verbosity=0)
        url = f"http://{host}:{port}/"
        if demo_exists():
            print_logins(self.stdout, url)
        else:
            self.stdout.write(f"Console: {url}")
        self.stdout.flush()
        connections.close_all()  # the children must not share this process's connections
        state_file = state_path(port)
        os.environ[STATE_ENV] = str(state_file)  # the web workers read it for /healthz
        supervisor = Supervisor(
            serve_web=partial(SERVERS[options["server"]], options),
            worker_command=embedded_worker_command(options),
            state_file=state_file,
            about={
                "pid": os.getpid(),
                "host": host,
                "port": port,
                "server": options["server"],
                "started": local_now(),
            },
        )
        returncode = supervisor.run()
        if returncode:
            sys.exit(returncode)


def embedded_worker_command(options) -> list[str] | None:
    """With the embedded (SQLite) queue, jobs and schedules run in a supervised child process;
    with Redis, production runs `patron worker` on its own."""
    if settings.REDIS_URL or options["no_worker"]:
        return None
    return [sys.executable, "-m", "patron.cli", "worker", "--workers", "1"]


def refuse_if_held(host: str, port: int) -> None:
    """Never start beside an old generation still listening on the port: its workers would
    answer part of the traffic with old code."""
    try:
        held = port_in_use(host, port)
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    if held:
        raise CommandError(held_message(host, port))


def held_message(host: str, port: int) -> str:
    where = f"port {port} on {host} is still in use"
    previous = read_state(state_path(port))
    if previous and pid_alive(previous.get("pid")):
        pid = previous["pid"]
        return (
            f"{where} by patron serve pid {pid} (started {previous.get('started')}); "
            f"stop it (kill {pid}) before starting another"
        )
    holders = listening_pids(port)
    if holders:
        pids = " ".join(map(str, holders))
        return f"{where} by pid {pids} (an earlier generation?); stop it (kill {pids}) first"
    return f"{where} by another program; stop it or choose another --port"
