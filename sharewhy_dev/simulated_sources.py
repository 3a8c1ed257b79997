"""The source simulator as a child process of the local tools (`sharewhy demo`, `sharewhy airflow up`), the Airflow
connections that point at it, and its members' consent imported into the warehouse's token store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, Any

from sharewhy import consent, settings
from sharewhy_dev import processes

#: The simulator's environment variable for the run's API token (never on a command line).
TOKEN_ENV = "SHAREWHY_SIMULATOR_TOKEN"


def start(as_of: date, token: str, log: IO[str], *options: str) -> tuple[subprocess.Popen, dict[str, Any]]:
    """`sharewhy simulate serve` on a free loopback port, answering as of `as_of`, its file drops in the project's
    drop folder: (the process, its ready line {"base_url", "connections", "consent_export", …}). `options` are
    further `simulate serve` flags (seed, ground-truth path, consent shares)."""
    command = [
        sys.executable,
        "-m",
        "sharewhy.cli",
        "simulate",
        "serve",
        "--port",
        "0",
        "--as-of",
        as_of.isoformat(),
        "--drop-dir",
        str(settings.drop_dir()),
        *options,
    ]
    return processes.start_child(command, {**os.environ, TOKEN_ENV: token}, log)


@contextmanager
def running(as_of: date, token: str, log: IO[str], *options: str) -> Iterator[dict[str, Any]]:
    """`start`'s ready line, the simulator stopped when the block ends."""
    process, ready = start(as_of, token, log, *options)
    try:
        yield ready
    finally:
        processes.kill_trees([process.pid], timeout=10)


def connections_env(connections: dict[str, dict[str, Any]], token: str) -> dict[str, str]:
    """`AIRFLOW_CONN_<ID>` for each source API the simulator (or anything speaking its shape) describes."""

    def extra(conn: dict[str, Any]) -> dict[str, Any]:
        extra = {"base_url": conn["base_url"], **conn["extra"]}
        if "client_id" in extra:  # the simulator's OAuth app (member token refresh): its secret is the token
            extra["client_secret"] = token
        return extra

    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps({"conn_type": "http", "password": token, "extra": extra(conn)})
        for conn_id, conn in connections.items()
    }


def enrol_members(warehouse_url: str, consent_export_url: str, token: str) -> tuple[str, dict]:
    """Import the simulated members' own tokens (the advocacy platform's consent export, over its API) into the
    warehouse's token store, encrypted with the project's local keys; returns (the keys, what was imported)."""
    keys = consent.local_token_keys()
    return keys, consent.enrol_from_export_api(warehouse_url, consent_export_url, token, keys)
