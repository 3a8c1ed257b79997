"""Orchestration overhead: what Airflow adds around a task — `airflow dags test` wall time minus the task's own
time.

The DAG is `ingest_advocacy` (one task) on a small export, so the task's own work is short and measured exactly:
the loader's raw._loads row (started_at → finished_at) brackets everything the task does. What is left is Airflow's:
interpreter and Airflow start-up, DAG parsing, the DAG run and task instance bookkeeping in the metadata database,
the task runner. A night runs one such DAG per source plus transform_audit_publish (sharewhy_dev.demo.NIGHT_DAGS), so
the night's orchestration overhead is about this figure times those DAG runs — an estimate: a DAG of several tasks
pays start-up and parsing once in `dags test`, while a scheduler starts every task in a process of its own.

The Airflow home is the bench's own (`.sharewhy/bench/airflow`, migrated once, kept between runs).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

from bench.common import BENCH_HOME, REPO_ROOT, Report, Samples, clock, scratch_database
from bench.tenant import Tenant, TenantSpec
from sharewhy import settings

AIRFLOW_HOME = BENCH_HOME / "airflow"
DAG_ID = "ingest_advocacy"


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _env(url: str, drop: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        AIRFLOW_HOME=str(AIRFLOW_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(settings.DAGS_DIR),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        SHAREWHY_WAREHOUSE_URL=url,
        SHAREWHY_DROP_DIR=str(drop),
        SHAREWHY_TASK_RETRIES="0",
        DO_NOT_TRACK="1",
    )
    return env


def _migrate(env: dict[str, str]) -> None:
    import airflow

    stamp = AIRFLOW_HOME / f".migrated-{airflow.__version__}"
    if stamp.exists():
        return
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    subprocess.run([_airflow(), "db", "migrate"], env=env, check=True, capture_output=True, cwd=REPO_ROOT)
    stamp.touch()


def run(report: Report, reps: int) -> None:
    spec = TenantSpec(employees=60, history_shares=0, history_days=1, night_shares=100)
    tenant = Tenant(spec)
    nights = [spec.night(k) for k in range(reps)]
    wall, own, overhead = Samples(), Samples(), Samples()
    with tempfile.TemporaryDirectory(prefix="bench-airflow-") as tmp, scratch_database("airflow") as url:
        drop = Path(tmp) / "drop"
        for night in nights:
            tenant.write_shares_file(drop, night)
        env = _env(url, drop)
        _migrate(env)
        log = Path(tmp) / "airflow.log"
        for night in nights:
            started = clock()
            with log.open("a") as out:
                done = subprocess.run(
                    [_airflow(), "dags", "test", DAG_ID, night.isoformat()],
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=REPO_ROOT,
                )
            elapsed = clock() - started
            if done.returncode != 0:
                raise RuntimeError(f"airflow dags test {DAG_ID} {night} failed: {log.read_text()[-1500:]}")
            with psycopg.connect(url) as conn:
                row = conn.execute(
                    "select extract(epoch from finished_at - started_at), rows_inserted from raw._loads"
                    " where source = 'advocacy' and logical_date = %s and status = 'success'",
                    (night,),
                ).fetchone()
            if row is None or row[1] != spec.night_shares:
                raise RuntimeError(f"the DAG run of {night} landed no shares: {row}; see {log}")
            task = float(row[0])
            wall.add(elapsed)
            own.add(task)
            overhead.add(elapsed - task)
            print(f"   dags test {DAG_ID} {night}: {elapsed:.1f} s, the task's own work {task:.2f} s", flush=True)
    from sharewhy_dev.demo import NIGHT_DAGS

    runs = len(NIGHT_DAGS)
    section = "orchestration"
    report.add(section, f"`airflow dags test {DAG_ID}` wall s", wall.spread(1))
    report.add(section, "  the task's own work (its load, raw._loads) s", own.spread(2))
    report.add(section, "  Airflow overhead per DAG run (wall − task) s", overhead.spread(1))
    report.add(
        section,
        f"  ≈ a night's orchestration overhead ({runs} DAG runs × overhead; an estimate) s",
        Samples([o * runs for o in overhead.values]).spread(0),
    )
