"""Celery: a latency-bound night's ingestion through two Celery workers against one.

The local stack of `make airflow EXECUTOR=celery` (sharewhy_dev.airflow_stack, started the way the end-to-end tests
start it: sharewhy_dev/scratch_stack.py) runs one simulated night — every ingestion DAG, then the build — with the simulator
answering every API call after `latency` seconds (150 ms: a vendor API across the internet), each worker running one
task at a time, the member-scoped loads in SHAREWHY_INGESTION_SHARDS (2) shards. The figure is the ingestion wall:
from the first ingestion run's start to the last one's end, as Airflow recorded them. Each round uses a fresh
warehouse, metadata database and Redis queue; rounds alternate (1, 2, 2, 1, …).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import Report, alternate, ratios, scratch_database, server_url
from sharewhy import settings
from sharewhy_dev import airflow_stack
from sharewhy_dev.scratch_stack import running_stack

AS_OF = date(2026, 11, 13)
NIGHT = AS_OF - timedelta(days=28)  # the first night of the simulator's share window: small, so the API calls dominate
VARIANTS = ("1 worker", "2 workers")


def _ingestion_wall(api, runs: dict) -> float:
    details = [api.run(dag_id, run_id) for dag_id, run_id in runs]
    started = min(datetime.fromisoformat(run["start_date"]) for run in details)
    ended = max(datetime.fromisoformat(run["end_date"]) for run in details)
    return (ended - started).total_seconds()


def run(report: Report, reps: int, latency: float = 0.15) -> None:
    if airflow_stack.broker_problem(settings.CELERY_BROKER_URL):
        report.note(f"celery: not measured: {airflow_stack.broker_problem(settings.CELERY_BROKER_URL)}")
        return
    if "SHAREWHY_TOKEN_KEYS" not in os.environ:
        from cryptography.fernet import Fernet

        os.environ["SHAREWHY_TOKEN_KEYS"] = Fernet.generate_key().decode()  # this run's token store only
    server = server_url()

    def one(variant: str, rep: int) -> float:
        workers = airflow_stack.celery_workers(int(variant.split()[0]))
        with tempfile.TemporaryDirectory(prefix="bench-celery-") as home, scratch_database("celery") as url:
            with running_stack(
                server,
                url,
                Path(home),
                AS_OF,
                NIGHT + timedelta(days=1),
                executor="celery",
                services=("api-server", "scheduler", "dag-processor", *workers),
                extra_env={"AIRFLOW__CELERY__WORKER_CONCURRENCY": "1"},
                latency=latency,
            ) as stack:
                result = airflow_stack.run_night(stack["api"], NIGHT, timeout=1800)
                wall = _ingestion_wall(stack["api"], result["ingestion"])
        print(f"  {variant}: ingestion {wall:.1f} s", flush=True)
        return wall

    samples = alternate(reps, VARIANTS, one)
    section = "celery"
    report.add(
        section,
        f"night {NIGHT} (simulator latency {latency * 1000:.0f} ms, {settings.INGESTION_SHARDS} member"
        " shards, one task at a time per worker)",
        "",
    )
    for variant in VARIANTS:
        report.add(section, f"ingestion wall, {variant}: s", samples[variant].spread(1))
    two_vs_one = ratios(samples["2 workers"], samples["1 worker"])  # wall(2) / wall(1), round by round
    report.add(
        section, "ingestion wall, 2 workers ÷ 1 worker", two_vs_one.spread(2), "≤ 0.6×", two_vs_one.median <= 0.6
    )
