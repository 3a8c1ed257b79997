"""A throwaway local Airflow stack for the end-to-end tests and the benchmarks (`sharewhy_dev.airflow_stack`, the
code behind `make airflow`): an in-process simulator and its connections, every member's own token enrolled (keys of
SHAREWHY_TOKEN_KEYS), a metadata database of its own, and a cluster policy that ends every DAG's schedule at
`schedule_end`, so unpaused DAGs create no scheduled run of their own: every run is one the caller asks for
(manual, backfill, or asset-triggered)."""

from __future__ import annotations

import hashlib
import os
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import psycopg

from sharewhy import settings
from sharewhy_dev import airflow_stack, simulated_sources
from sharewhy_dev.processes import free_port, wait_until
from simulator import server as simulator

CLUSTER_POLICY = '''
"""Scratch-stack cluster policy: no DAG schedules a run after the nights asked for."""
from datetime import datetime, timezone

END = datetime({year}, {month}, {day}, tzinfo=timezone.utc)


def dag_policy(dag):
    dag.end_date = END
'''


@contextmanager
def running_stack(
    server_url: str,
    warehouse_url: str,
    home: Path,
    as_of: date,
    schedule_end: date,
    *,
    services: tuple[str, ...] = ("api-server", "scheduler", "dag-processor"),
    executor: str = "local",
    extra_env: dict[str, str] | None = None,
    **simulator_options,
):
    """{"stack", "api", "sim", "url", "home"} of a started stack; everything stopped and dropped afterwards.
    `simulator_options` go to `simulator.server.start` (e.g. `latency`)."""
    metadata = f"sharewhy_test_airflow_{os.getpid()}_{time.time_ns()}"
    metadata_url = airflow_stack.sqlalchemy_url(airflow_stack.ensure_database(server_url, metadata))
    drops = home / "drops"
    token = "test-token-" + hashlib.sha256(str(home).encode()).hexdigest()[:12]
    sim = simulator.start(as_of, 7, drop_dir=drops, token=token, truth_path=home / "truth.json", **simulator_options)
    simulated_sources.enrol_members(warehouse_url, sim.consent_export_url, token)  # encrypted, SHAREWHY_TOKEN_KEYS
    (home / "config").mkdir()
    (home / "config" / "airflow_local_settings.py").write_text(
        CLUSTER_POLICY.format(year=schedule_end.year, month=schedule_end.month, day=schedule_end.day)
    )
    env = airflow_stack.airflow_env(
        home,
        free_port(),
        metadata_url,
        {
            "SHAREWHY_WAREHOUSE_URL": warehouse_url,
            "SHAREWHY_HOME": str(home / "sharewhy"),
            "SHAREWHY_DROP_DIR": str(drops),
            "SHAREWHY_TASK_RETRIES": "0",
            # above the scheduler's latency in handling a rescheduled sensor's exit under load (a shorter poke can
            # be re-queued before the executor reports the previous try, and Airflow then fails the task)
            "SHAREWHY_WAIT_POKE_SECONDS": "10",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "600",  # parse once: the DAG files do not change here
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            **simulated_sources.connections_env(sim.connections, token),
            **(extra_env or {}),
        },
        executor,
    )
    running = airflow_stack.AirflowStack(home, int(env["AIRFLOW__API__PORT"]), env, services=services)
    started = time.monotonic()
    try:
        with open(home / "prepare.log", "w") as log:
            running.prepare(log)
        running.start()
        api = running.api()
        expected = {p.stem for p in settings.DAGS_DIR.glob("*.py")}
        wait_until(lambda: expected <= {d["dag_id"] for d in api.dags()}, 120, "the DAGs to be parsed")
        print(f"\n[orchestration] Airflow stack ({executor}) up in {time.monotonic() - started:.1f} s ({running.url})")
        yield {"stack": running, "api": api, "sim": sim, "url": warehouse_url, "home": home}
    finally:
        running.stop()
        sim.stop()
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{metadata}" with (force)')
