"""Scheduling defaults every sharewhy DAG shares, and `nightly_dag`, the `@dag` that applies them."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from airflow.sdk import CronDataIntervalTimetable, dag

from pipeline.alerts import NightFailedNotifier
from sharewhy import settings

#: Nights start here; catchup is off, so backfills are explicit (`airflow backfill create`).
START_DATE = datetime(2026, 1, 1, tzinfo=UTC)

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": settings.TASK_RETRIES,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=settings.TASK_TIMEOUT_MINUTES),
}


def nightly(cron: str) -> CronDataIntervalTimetable:
    """A nightly schedule whose logical date is the start of the day it covers (the night of that date)."""
    return CronDataIntervalTimetable(cron, timezone="UTC")


def nightly_dag(schedule, *, tags: Sequence[str], doc_md: str | None):
    """`@dag` with what every sharewhy DAG shares: START_DATE, no catchup, one run at a time, DEFAULT_ARGS (retries,
    a time limit per task attempt), a time limit per run, and an alert when a run fails (`pipeline.alerts`).

    Each DAG file states what differs: `@nightly_dag(nightly("0 0 * * *"), tags=[...], doc_md=__doc__)`.
    """
    return dag(
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=timedelta(hours=settings.DAGRUN_TIMEOUT_HOURS),
        on_failure_callback=NightFailedNotifier(),
        default_args=DEFAULT_ARGS,
        tags=list(tags),
        doc_md=doc_md,
    )
