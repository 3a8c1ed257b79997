"""Child processes of the local tools: a server started until its ready line, a process tree stopped whole, a free
loopback port, a wait for a condition."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from contextlib import suppress
from typing import IO, Any, TypeVar

import psutil

T = TypeVar("T")


def start_child(command: list[str], env: dict[str, str], log: IO[str]) -> tuple[subprocess.Popen, dict[str, Any]]:
    """A sharewhy server as a child process (in a session of its own) that prints one JSON ready-line on stdout."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{' '.join(command[2:5])} did not start (exit code {process.wait()}); see the log")
    return process, json.loads(line)


def kill_trees(pids: list[int], timeout: float = 20.0) -> None:
    """SIGTERM processes and every descendant of theirs (task processes run in process groups of their own), all at
    once, then SIGKILL whatever is still alive after `timeout` seconds."""
    family: list[psutil.Process] = []
    for pid in pids:
        with suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            family += [root, *root.children(recursive=True)]
    for process in family:
        with suppress(psutil.NoSuchProcess):
            process.send_signal(signal.SIGTERM)
    _, alive = psutil.wait_procs(family, timeout=timeout)
    for process in alive:
        with suppress(psutil.NoSuchProcess):
            for child in process.children(recursive=True):
                with suppress(psutil.NoSuchProcess):
                    child.kill()
            process.kill()
    psutil.wait_procs(alive, timeout=5)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], T], timeout: float, what: str, poll: float = 0.5) -> T:
    """`condition()`'s first truthy value, polled every `poll` seconds; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(poll)
