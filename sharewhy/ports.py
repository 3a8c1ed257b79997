"""A local server's port, checked before the server starts: `make airflow`, `make bi` and `make docs` say which port
is taken, by which process when the system tells, and how to choose another — instead of a traceback or a log to
read after a minute of start-up.

The check binds the port the way the servers do (SO_REUSEADDR, so a closed connection's TIME_WAIT does not count)
and lets it go at once; a server started later in the same second could still take it, which its own error reports.
"""

from __future__ import annotations

import errno
import socket
import sys
from contextlib import suppress

import psutil

HOST = "127.0.0.1"


class PortInUse(RuntimeError):
    """The port is taken; the message names it, its owner when known, and how to choose another."""


def is_free(port: int, host: str = HOST) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            raise
    return True


def owner_pid(port: int, host: str = HOST) -> int | None:
    """The pid of the process bound to `host:port` (or to every address on `port`, IPv6's included), when the system
    tells us (another user's sockets show no pid unless we are root)."""
    addresses = {host, "0.0.0.0", "::", f"::ffff:{host}"}
    with suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="inet"):
            listening = conn.laddr and conn.laddr.port == port and conn.laddr.ip in addresses and not conn.raddr
            if listening and conn.pid is not None:
                return conn.pid
    return None


def next_free(port: int, host: str = HOST, tries: int = 50) -> int | None:
    """The first free port above `port`, to suggest."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        if is_free(candidate, host):
            return candidate
    return None


def require_free(port: int, how_to_choose: str, host: str = HOST) -> None:
    """Raise PortInUse unless `host:port` is free. `how_to_choose` is the command that picks another port, with
    `{port}` where the suggested port goes, e.g. "make bi PORT={port}"."""
    if is_free(port, host):
        return
    pid = owner_pid(port, host)
    owner = f" by pid {pid}" if pid is not None else ""
    suggestion = next_free(port, host) or port + 1
    raise PortInUse(
        f"port {port} on {host} is already in use{owner}; choose another with `{how_to_choose.format(port=suggestion)}`"
    )


def exit_if_taken(checks: list[tuple[int, str]], program: str, host: str = HOST) -> None:
    """For a command line: print the first taken port's message to stderr and exit 1; return when all are free."""
    for port, how_to_choose in checks:
        try:
            require_free(port, how_to_choose, host)
        except PortInUse as error:
            print(f"{program}: {error}", file=sys.stderr)
            sys.exit(1)
