"""A load killed mid-way (SIGKILL: nothing of it can run) is marked `aborted` by the next load, and a load that is
merely slow is left `running`; warehouses created before the `aborted` status get it on their next load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import date

import psycopg

from ingestion.loader import apply_raw_schema, land
from ingestion.records import Target

NIGHT = date(2026, 11, 24)
SLOW = Target("test", "slow", "advocacy__shares", ("share_id",))
OTHER = Target("test", "other", "advocacy__shares", ("share_id",))

#: A load whose extraction blocks until killed: prints its load's pid once its `running` row is committed.
_SLOW_LOAD = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from ingestion.loader import land
    from ingestion.records import Target

    class Blocking:
        api_calls = 0
        def records(self):
            print("extracting", flush=True)
            time.sleep(600)
            yield from ()
        def state(self):
            return {}

    land(sys.argv[1], Target("test", "slow", "advocacy__shares", ("share_id",)), date(2026, 11, 24),
         lambda state: Blocking())
    """
)


class _Nothing:
    api_calls = 0

    def records(self):
        yield from ()

    def state(self):
        return {}


def _start_slow_load(url: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", _SLOW_LOAD, url], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert process.stdout.readline().strip() == "extracting"
    return process


def _statuses(url: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("select source, entity, status, error from raw._loads").fetchall()
    return {(source, entity): (status, error) for source, entity, status, error in rows}


def _wait_until_session_gone(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(100):
            if not conn.execute("select exists (select from pg_stat_activity where pid = %s)", (pid,)).fetchone()[0]:
                return
            time.sleep(0.1)
    raise AssertionError(f"the killed load's session {pid} is still open")


def test_a_killed_load_is_marked_aborted_by_the_next_load(fresh_db):
    slow = _start_slow_load(fresh_db)
    with psycopg.connect(fresh_db) as conn:
        (pid,) = conn.execute("select backend_pid from raw._loads where entity = 'slow'").fetchone()
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=10)
    _wait_until_session_gone(fresh_db, pid)
    assert _statuses(fresh_db)[("test", "slow")][0] == "running"  # the killed load could record nothing

    land(fresh_db, OTHER, NIGHT, lambda state: _Nothing())

    status, error = _statuses(fresh_db)[("test", "slow")]
    assert status == "aborted"
    assert "session ended before the load recorded an outcome" in error
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select finished_at is not null from raw._loads where entity = 'slow'").fetchone()[0]


def test_a_load_still_running_is_left_running(fresh_db):
    slow = _start_slow_load(fresh_db)
    try:
        land(fresh_db, OTHER, NIGHT, lambda state: _Nothing())
        assert _statuses(fresh_db)[("test", "slow")] == ("running", None)
        assert _statuses(fresh_db)[("test", "other")][0] == "success"
    finally:
        slow.kill()
        slow.wait(timeout=10)


def test_a_warehouse_from_before_gets_the_aborted_status_and_session_columns(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("create schema raw")
        conn.execute(
            "create table raw._loads (load_id uuid primary key, source text not null, entity text not null,"
            " logical_date date not null, started_at timestamptz not null, finished_at timestamptz,"
            " status text not null check (status in ('running', 'success', 'failed')),"
            " rows_received integer not null default 0, rows_inserted integer not null default 0,"
            " rows_duplicate integer not null default 0, rows_quarantined integer not null default 0,"
            " api_calls integer not null default 0, error text)"
        )
        conn.execute(
            "insert into raw._loads (load_id, source, entity, logical_date, started_at, status)"
            " values (gen_random_uuid(), 'test', 'slow', %s, now(), 'running')",
            (NIGHT,),
        )
        apply_raw_schema(conn)
        apply_raw_schema(conn)  # idempotent

    land(fresh_db, OTHER, NIGHT, lambda state: _Nothing())

    assert _statuses(fresh_db)[("test", "slow")][0] == "aborted"  # an old row has no session: it is not running
