"""The transform lease on real PostgreSQL: one transform run at a time from dbt build to publish; a second run waits
a bounded time and is refused naming the holder; a build without the lease is refused before dbt runs."""

from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest

from expectations import publish
from expectations.naming import release_schema
from sharewhy import settings, transform, transform_lease
from sharewhy.transform_lease import LeaseRefused


def test_a_second_run_waits_then_is_refused_naming_the_holder(fresh_db):
    transform_lease.acquire(fresh_db, "scheduled__2026-11-26T04:00:00+00:00")
    began = time.monotonic()

    with pytest.raises(LeaseRefused) as refused:
        transform_lease.acquire(fresh_db, "manual__2026-11-26T05:00:00+00:00", wait_seconds=1.0)

    assert time.monotonic() - began >= 1.0
    message = str(refused.value)
    assert message.startswith(
        "transform run manual__2026-11-26T05:00:00+00:00 refused: the transform lease is held"
        " by run scheduled__2026-11-26T04:00:00+00:00 (host "
    )
    assert "waited 1 s" in message and "audit.transform_lease" in message


def test_a_build_without_the_lease_is_refused_before_dbt_runs(fresh_db, tmp_path):
    transform_lease.acquire(fresh_db, "run-a")

    with pytest.raises(LeaseRefused, match="transform run run-b does not hold the transform lease .*held by run run-a"):
        transform.build_release(fresh_db, "run-b", target_dir=tmp_path / "target", log_dir=tmp_path / "logs")

    with psycopg.connect(fresh_db) as conn:  # dbt never ran: nothing was built
        schemas = conn.execute(
            "select nspname from pg_namespace where nspname in ('staging', 'marts', 'bi_release_run_b')"
        ).fetchall()
    assert schemas == [] and not (tmp_path / "target").exists()


def test_a_waiting_run_gets_the_lease_once_the_holder_gives_it_back(fresh_db):
    transform_lease.acquire(fresh_db, "run-a")
    transform_lease.acquire(fresh_db, "run-a")  # a retried setup task: still its own
    got: list[float] = []
    began = time.monotonic()
    waiter = threading.Thread(
        target=lambda: (
            transform_lease.acquire(fresh_db, "run-b", wait_seconds=30),
            got.append(time.monotonic() - began),
        )
    )
    waiter.start()
    time.sleep(1.0)

    assert not transform_lease.release(fresh_db, "run-b")  # a teardown of a run that does not hold it: no-op
    assert transform_lease.release(fresh_db, "run-a")
    waiter.join(30)

    assert got and 1.0 <= got[0] < 1.0 + 2 * 2.0 + 1  # within a poll or two of the release
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select holder from audit.transform_lease").fetchall() == [("run-b",)]


def test_a_lease_never_released_is_taken_over_once_stale(fresh_db, caplog):
    transform_lease.acquire(fresh_db, "killed-run")
    with psycopg.connect(fresh_db) as conn:
        conn.execute(
            "update audit.transform_lease set acquired_at = now() - %s * interval '1 hour'",
            (settings.TRANSFORM_LEASE_STALE_HOURS + 1,),
        )

    with caplog.at_level(logging.WARNING, logger="sharewhy.transform_lease"):
        transform_lease.acquire(fresh_db, "next-run", wait_seconds=0)

    assert "transform lease taken over by next-run: the transform lease is held by run killed-run" in caplog.text
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select holder from audit.transform_lease").fetchall() == [("next-run",)]


def test_the_release_bi_shows_is_never_rebuilt_in_place(fresh_db, tmp_path):
    """A published run cleared and run again would rebuild the tables `bi` reads, unaudited: refused before dbt."""
    with psycopg.connect(fresh_db) as conn:
        conn.execute(publish._CREATE_REGISTRY)
        conn.execute(
            "insert into audit.bi_releases (release_schema, run_id) values (%s, 'run-a')", (release_schema("run-a"),)
        )
    transform_lease.acquire(fresh_db, "run-a")

    with pytest.raises(transform.BuildRefused, match="its release bi_release_run_a is what bi shows now"):
        transform.build_release(fresh_db, "run-a", target_dir=tmp_path / "target", log_dir=tmp_path / "logs")
    assert not (tmp_path / "target").exists()
