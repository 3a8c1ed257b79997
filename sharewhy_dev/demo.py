"""`sharewhy demo`: one complete night through Airflow on the embedded default, then a readable summary.

Starts the embedded warehouse (unless `SHAREWHY_WAREHOUSE_URL` is set) and the source simulator on 127.0.0.1,
prepares a project-local Airflow home, and runs the night's DAGs one after another with `dag.test()` for the chosen
logical date — in one process (sharewhy_dev/night_runner.py), which is what `airflow dags test` does for a single DAG.
Airflow's own output goes to a log file; the console gets one line per DAG and the summary.
Running it again for the same night lands nothing twice (every raw table is keyed; see ingestion/raw_schema.sql).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg

from sharewhy import consent, dbt, settings
from sharewhy_dev import simulated_sources, summary, warehouse

#: The night's DAGs in the order a scheduler would finish them: file drops, then APIs, then the build.
NIGHT_DAGS = [
    "ingest_advocacy",
    "ingest_hr",
    "ingest_linkedin",
    "ingest_linkedin_organization",
    "ingest_x",
    "ingest_bitly",
    "ingest_typeform",
    "ingest_surveymonkey",
    "ingest_qualtrics",
    "transform_audit_publish",
]

SIMULATOR_SEED = 7
#: The simulated members' consent: 5 % revoked their grant, 5 % hold an expired access token, 10 % one expiring soon.
DEMO_CONSENT = ["--revoked-share", "0.05", "--expired-share", "0.05", "--expiring-share", "0.1"]
SIMULATOR_DIR = settings.STATE_DIR / "simulator"


def run(night: date | None = None) -> int:
    night_date = night or datetime.now(UTC).date() - timedelta(days=1)
    settings.LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = settings.LOG_DIR / f"demo-{night_date}.log"
    print(f"sharewhy demo — the night of {night_date}  (Airflow output: {log_path})")

    url = settings.external_warehouse_url()
    if url:
        print("  warehouse: SHAREWHY_WAREHOUSE_URL")
    else:
        url = warehouse.start()
        print(f"  warehouse: embedded PostgreSQL, {warehouse.status()}")

    token = secrets.token_urlsafe(24)  # lives only in this process's environment and its children's
    simulator_options = ["--seed", str(SIMULATOR_SEED), "--truth", str(_truth_path(night_date)), *DEMO_CONSENT]
    with (
        open(log_path, "a") as log,
        simulated_sources.running(night_date + timedelta(days=1), token, log, *simulator_options) as ready,
    ):
        print(f"  simulator: {ready['base_url']} (seed {SIMULATOR_SEED}, ground truth in {ready['truth']})")
        keys, enrolled = simulated_sources.enrol_members(url, ready["consent_export"], token)
        statuses = ", ".join(f"{status} {n}" for status, n in sorted(enrolled["by_status"].items()))
        print(
            f"  member consent: {enrolled['imported']} member tokens from the advocacy platform's consent export,"
            f" stored encrypted ({statuses})"
        )
        env = {
            **_airflow_env(),
            **simulated_sources.connections_env(ready["connections"], token),
            consent.KEYS_ENV: keys,
        }
        if not _step("airflow db migrate", [_airflow(), "db", "migrate"], env, log):
            print(f"\nAirflow's metadata database could not be prepared: see {log_path}")
            return 1
        failed_dag = _run_dags(night_date, env, log)
        if failed_dag:
            print(f"\nThe night failed in {failed_dag}: see {log_path}")
            return 1

    with psycopg.connect(url) as conn:
        print()
        print(summary.render(conn, night_date, dbt.TARGET_DIR / "run_results.json"))
        coverage = consent.coverage_lines(conn)
        if coverage:
            print("\n" + "\n".join(coverage))
    print(
        "\nWhere to look next:\n"
        "  .venv/bin/sharewhy warehouse psql       # bi.*, raw._loads, raw._quarantine, audit.validation_runs\n"
        f"  {settings.DATA_DOCS_DIR}     # Great Expectations Data Docs of each audit\n"
        f"  {log_path}    # everything Airflow, dbt and GX printed\n"
        "  .venv/bin/sharewhy warehouse stop       # when you are done (the data stays)"
    )
    return 0


def _truth_path(night: date) -> Path:
    """Where the simulator writes the night's ground truth (what the tests compare the attribution with)."""
    SIMULATOR_DIR.mkdir(parents=True, exist_ok=True)
    return SIMULATOR_DIR / f"ground_truth-{night}.json"


def _airflow_env() -> dict[str, str]:
    """Environment for the Airflow CLI: a project-local home and our DAGs (the connections are added to it)."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(settings.AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SHAREWHY_TASK_RETRIES": "0",
        "DO_NOT_TRACK": "1",
    }


def _airflow() -> str:
    return str(Path(sys.executable).with_name("airflow"))


def _run_dags(night: date, env: dict[str, str], log) -> str | None:
    """Run NIGHT_DAGS through the night runner, printing a line per DAG as it ends; returns the DAG that failed."""
    read_fd, write_fd = os.pipe()
    command = [
        sys.executable,
        "-m",
        "sharewhy_dev.night_runner",
        night.isoformat(),
        *NIGHT_DAGS,
        "--report-fd",
        str(write_fd),
    ]
    log.write(f"\n===== the night's DAGs: {' '.join(command)}\n")
    log.flush()
    runner = subprocess.Popen(
        command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.REPO_ROOT, pass_fds=(write_fd,)
    )
    os.close(write_fd)
    succeeded = []
    with os.fdopen(read_fd) as reports:
        for line in reports:
            report = json.loads(line)
            ok = report["state"] == "success"
            print(f"  {'dag ' + report['dag_id']:<34} {'ok' if ok else 'FAILED':<7} {report['seconds']:6.1f} s")
            if ok:
                succeeded.append(report["dag_id"])
    if runner.wait() == 0 and succeeded == NIGHT_DAGS:
        return None
    return next(dag_id for dag_id in NIGHT_DAGS if dag_id not in succeeded)


def _step(label: str, command: list[str], env: dict[str, str], log) -> bool:
    """Run one command, its output into the log; print one status line; return whether it succeeded."""
    started = time.monotonic()
    log.write(f"\n===== {label}: {' '.join(command)}\n")
    log.flush()
    result = subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=settings.REPO_ROOT)
    print(f"  {label:<34} {'ok' if result.returncode == 0 else 'FAILED':<7} {time.monotonic() - started:6.1f} s")
    return result.returncode == 0
