"""Scheduling defaults every sharewhy DAG shares."""

from datetime import datetime, timedelta, timezone

from airflow.sdk import CronDataIntervalTimetable

from sharewhy import settings

#: Nights start here; catchup is off, so backfills are explicit (`airflow backfill create`).
START_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": settings.TASK_RETRIES,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
}


def nightly(cron: str) -> CronDataIntervalTimetable:
    """A nightly schedule whose logical date is the start of the day it covers (the night of that date)."""
    return CronDataIntervalTimetable(cron, timezone="UTC")
