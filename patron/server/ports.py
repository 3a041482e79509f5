"""Is the port still held, and by whom: `patron serve` refuses to start next to an old
generation instead of sharing its port."""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

LISTEN = "0A"  # TCP state in /proc/net/tcp


def port_in_use(host: str, port: int) -> bool:
    """True when a socket listens on host:port.

    granian's workers bind with SO_REUSEPORT, so granian itself starts happily beside an old
    generation and the kernel spreads connections over both; this probe binds *without*
    SO_REUSEPORT, which any listening socket on the address refuses. SO_REUSEADDR keeps
    connections of a stopped generation lingering in TIME_WAIT from counting as held.
    Errors other than "in use" (a privileged port, an address not on this machine) propagate.
    """
    family, kind, proto, _name, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def listening_pids(port: int) -> list[int]:
    """The processes (of this user, on Linux) holding a listening socket on `port`; empty
    where /proc cannot tell. Only read when refusing to start, so a scan is fine."""
    sockets = _listening_socket_inodes(port)
    if not sockets:
        return []
    holders = []
    for process in Path("/proc").iterdir():
        if process.name.isdigit() and _holds_any(process, sockets):
            holders.append(int(process.name))
    return sorted(holders)


def _listening_socket_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if fields[3] == LISTEN and local_port == port:
                inodes.add(f"socket:[{fields[9]}]")
    return inodes


def _holds_any(process: Path, sockets: set[str]) -> bool:
    try:
        return any(os.readlink(fd) in sockets for fd in (process / "fd").iterdir())
    except OSError:  # gone meanwhile, or another user's
        return False
