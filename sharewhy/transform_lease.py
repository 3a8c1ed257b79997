"""The transform lease: one transform run at a time, from its dbt build to its publish.

dbt rebuilds the shared schemas (staging, intermediate, marts) in place, so two builds at once collide (seen:
`relation "int_survey__answers" already exists`), and a build running while another run is audited or published
changes what that run reads. Airflow's `max_active_runs=1` serialises the runs of one DAG in one Airflow; the lease
also covers `dag.test()` (the demo), the benchmark, and a second Airflow pointed at the same warehouse.

The lease is a row in `audit.transform_lease` (who holds it, from which host and process, since when), so it is held
across tasks and processes: the DAG takes it in a setup task before dbt build and gives it back in a teardown task,
which Airflow runs even when the build, the audit or the publish failed. A run that finds the lease held waits up to
`settings.TRANSFORM_LEASE_WAIT_SECONDS`, then is refused with a message naming the holder. A lease older than
`settings.TRANSFORM_LEASE_STALE_HOURS` (its holder was killed before its teardown) is taken over, with a warning.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Iterator

import psycopg

from sharewhy import settings

log = logging.getLogger(__name__)

LEASE_TABLE = f"{settings.AUDIT_SCHEMA}.transform_lease"

_CREATE = f"""
create schema if not exists {settings.AUDIT_SCHEMA};
create table if not exists {LEASE_TABLE} (
    singleton boolean primary key default true check (singleton),
    holder text not null,
    host text not null,
    pid integer not null,
    acquired_at timestamptz not null default now()
);
"""

#: Seconds between two looks at a held lease.
_POLL_SECONDS = 2.0

#: Advisory lock key serialising the creation of the lease table ("sharewhy lease" as a number): two runs starting
#: together on a new warehouse would otherwise race on `create schema/table if not exists`.
_CREATE_LOCK = 0x5348_574C_4541


class LeaseRefused(RuntimeError):
    """Another transform run holds the lease (or this run does not hold it)."""


def acquire(warehouse_url: str, holder: str, wait_seconds: float | None = None) -> None:
    """Take the lease for `holder` (a run id), waiting up to `wait_seconds` for another holder to release it.

    Taking a lease `holder` already holds succeeds (a retried setup task).
    """
    wait = settings.TRANSFORM_LEASE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    started = time.monotonic()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        _create(conn)
        while True:
            taken = conn.execute(
                f"insert into {LEASE_TABLE} (holder, host, pid) values (%s, %s, %s)"
                " on conflict (singleton) do nothing returning holder",
                (holder, socket.gethostname(), os.getpid()),
            ).fetchone()
            if taken:
                log.info("transform lease taken by %s", holder)
                return
            current = _holder(conn)
            if current is None:
                continue  # released between the insert and the look
            if current[0] == holder:
                log.info("transform lease already held by %s", holder)
                return
            if _take_over_if_stale(conn, holder, current):
                return
            waited = time.monotonic() - started
            if waited >= wait:
                raise LeaseRefused(
                    f"transform run {holder} refused: {_describe(current)}; waited {waited:.0f} s"
                    f" (SHAREWHY_TRANSFORM_LEASE_WAIT_SECONDS={wait:g}). Let that run finish, or, if its worker is"
                    f" gone, delete the row of {LEASE_TABLE}"
                )
            time.sleep(min(_POLL_SECONDS, wait - waited))


def release(warehouse_url: str, holder: str) -> bool:
    """Give the lease back if `holder` holds it; whether it did (a lease taken over meanwhile is left alone)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        _create(conn)
        released = conn.execute(f"delete from {LEASE_TABLE} where holder = %s returning holder", (holder,)).fetchone()
    if released:
        log.info("transform lease released by %s", holder)
    else:
        log.warning("transform lease was not held by %s: nothing to release", holder)
    return released is not None


def require(conn: psycopg.Connection, holder: str) -> None:
    """Raise `LeaseRefused` unless `holder` holds the lease."""
    _create(conn)
    current = _holder(conn)
    if current is None or current[0] != holder:
        held = _describe(current) if current else "nobody holds it"
        raise LeaseRefused(f"transform run {holder} does not hold the transform lease ({held}): take it first")


@contextlib.contextmanager
def held(warehouse_url: str, holder: str, wait_seconds: float | None = None) -> Iterator[None]:
    """The lease for the duration of a `with` block (for callers outside Airflow: the benchmark, scripts)."""
    acquire(warehouse_url, holder, wait_seconds)
    try:
        yield
    finally:
        release(warehouse_url, holder)


def _create(conn: psycopg.Connection) -> None:
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_CREATE_LOCK,))
        conn.execute(_CREATE)


def _holder(conn: psycopg.Connection) -> tuple[str, str, int, dt.datetime] | None:
    return conn.execute(f"select holder, host, pid, acquired_at from {LEASE_TABLE}").fetchone()


def _describe(current: tuple[str, str, int, dt.datetime]) -> str:
    holder, host, pid, since = current
    age = (dt.datetime.now(dt.UTC) - since).total_seconds()
    return (
        f"the transform lease is held by run {holder} (host {host}, pid {pid}) since {since:%Y-%m-%d %H:%M:%S %Z}"
        f" ({age:.0f} s)"
    )


def _take_over_if_stale(conn: psycopg.Connection, holder: str, current: tuple) -> bool:
    """Take a lease older than the stale limit, only if it is still the one seen (two takers: one wins)."""
    old_holder, _, _, since = current
    if dt.datetime.now(dt.UTC) - since < dt.timedelta(hours=settings.TRANSFORM_LEASE_STALE_HOURS):
        return False
    taken = conn.execute(
        f"update {LEASE_TABLE} set holder = %s, host = %s, pid = %s, acquired_at = now()"
        " where holder = %s and acquired_at = %s returning holder",
        (holder, socket.gethostname(), os.getpid(), old_holder, since),
    ).fetchone()
    if taken:
        log.warning(
            "transform lease taken over by %s: %s, older than %g h, was never released",
            holder,
            _describe(current),
            settings.TRANSFORM_LEASE_STALE_HOURS,
        )
    return taken is not None
