"""A night through CeleryExecutor: the local stack (`sharewhy airflow up --executor celery`) with two Celery
workers taking tasks from Redis, against the same night through LocalExecutor — the same raw and `bi` contents.

The broker is the Redis already running on 127.0.0.1:6379 (or SHAREWHY_CELERY_BROKER_URL); when none answers, the
test starts its own `redis-server` on a free loopback port, and skips (saying why) only when there is none to start.
Each stack takes tasks from a queue of its own (`airflow_stack.celery_queue`), so a shared Redis is safe.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import date, timedelta

import psycopg
import pytest

from sharewhy import settings
from sharewhy_dev import airflow_stack
from sharewhy_dev.processes import free_port, wait_until
from sharewhy_dev.scratch_stack import running_stack

pytestmark = pytest.mark.e2e

AS_OF = date(2026, 11, 13)  # the simulator's "now": its share window is the 28 days before
NIGHT = AS_OF - timedelta(days=28)
#: Columns that say when or by which load a row landed, not what it holds: they differ between any two nights.
LOAD_METADATA = ("_load_id", "_extracted_at", "_request")
#: Payload fields that say when the test enrolled the members' tokens (each stack's own enrolment), not the night.
ENROLMENT_TIMES = {"raw.consent__member_token_status": "payload - 'access_expires_at' - 'refresh_expires_at'"}


@pytest.fixture(scope="module")
def broker_url():
    if airflow_stack.broker_problem(settings.CELERY_BROKER_URL) is None:
        yield settings.CELERY_BROKER_URL
        return
    if shutil.which("redis-server") is None:
        pytest.skip(f"no Redis answers at {settings.CELERY_BROKER_URL} and redis-server is not installed")
    port = free_port()
    redis = subprocess.Popen(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_until(lambda: airflow_stack.broker_problem(url) is None, 30, "redis-server to answer")
        yield url
    finally:
        redis.terminate()
        redis.wait_until(timeout=10)


def _contents(url: str) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per raw data table (without its load metadata and timestamps of when
    things were recorded) and per `bi` relation."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "select table_schema, table_name, array_agg(quote_ident(column_name::text) order by column_name)"
            " from information_schema.columns"
            " where (table_schema = 'raw' and table_name not like '\\_%%' and column_name <> all(%s)"
            "        and data_type <> 'timestamp with time zone')"
            "    or table_schema = 'bi'"
            " group by 1, 2 order by 1, 2",
            (list(LOAD_METADATA),),
        ).fetchall()
        contents = {}
        for schema, table, names in columns:
            relation = f"{schema}.{table}"
            if relation in ENROLMENT_TIMES:
                names = [ENROLMENT_TIMES[relation] if name == "payload" else name for name in names]
            contents[relation] = conn.execute(
                f"select count(*), coalesce(md5(string_agg(r::text, e'\\n' order by r::text)), '')"
                f' from (select {", ".join(names)} from "{schema}"."{table}") r'
            ).fetchone()
        return contents


def _night(server_url: str, warehouse_url: str, home, executor: str, broker: str) -> dict:
    workers = airflow_stack.celery_workers(2) if executor == "celery" else ()
    with running_stack(
        server_url,
        warehouse_url,
        home,
        AS_OF,
        NIGHT + timedelta(days=1),
        executor=executor,
        services=("api-server", "scheduler", "dag-processor", *workers),
        extra_env={"AIRFLOW__CELERY__BROKER_URL": broker},
    ) as running:
        started = time.monotonic()
        result = airflow_stack.run_night(running["api"], NIGHT, timeout=900)
        wall = time.monotonic() - started
        received = {
            worker: (running["stack"].log_dir / f"{worker}.log").read_text().count(" received") for worker in workers
        }
    print(f"\n[orchestration] one night through {executor}: {wall:.1f} s; tasks per Celery worker {received}")
    return {"result": result, "contents": _contents(warehouse_url), "received": received}


@pytest.fixture(scope="module")
def nights(server_url, broker_url, tmp_path_factory):
    created = []
    try:
        runs = {}
        for executor in ("local", "celery"):
            name = f"sharewhy_test_{executor}_night_{time.time_ns()}"
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'create database "{name}"')
            created.append(name)
            runs[executor] = _night(
                server_url,
                settings.with_database(server_url, name),
                tmp_path_factory.mktemp(f"airflow-{executor}"),
                executor,
                broker_url,
            )
        yield runs
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            for name in created:
                conn.execute(f'drop database if exists "{name}" with (force)')


def test_a_night_through_two_celery_workers_lands_what_a_local_executor_night_lands(nights):
    local, celery = nights["local"], nights["celery"]
    assert celery["result"]["transform"]["state"] == "success"
    assert set(celery["result"]["ingestion"].values()) == {"success"}
    assert celery["contents"].keys() == local["contents"].keys()
    assert {name for name, (rows, _) in local["contents"].items() if rows} >= {
        "raw.advocacy__shares",
        "bi.motivation_attribution",
    }
    differing = sorted(r for r, content in local["contents"].items() if celery["contents"][r] != content)
    assert differing == []


def test_both_celery_workers_took_tasks_of_the_night(nights):
    received = nights["celery"]["received"]
    assert len(received) == 2 and all(count > 0 for count in received.values()), received
