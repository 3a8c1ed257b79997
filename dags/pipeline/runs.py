"""What a task needs to know about its run: the night it lands, and the survey submissions that triggered it.

The night: scheduled and backfill runs take it from their data interval, which the nightly timetable makes one UTC
day, [night 00:00, night + 1 day) — `logical_date` is that interval's start. A manual run names its night with its
logical date (`airflow dags test ingest_typeform 2026-11-25`). A run with no logical date (asset-triggered) covers the
day it was triggered, unless the events that triggered it say better (see `submission_night`).

Everything here reads the task context only; nothing runs at DAG-parse time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

#: Run types whose data interval is the timetable's nightly interval.
INTERVAL_RUN_TYPES = {"scheduled", "backfill"}


def _utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def night_of(context: Mapping[str, Any]) -> date:
    """The night (UTC date) this run lands."""
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
    if run_type in INTERVAL_RUN_TYPES and context.get("data_interval_start") is not None:
        return _utc_day(context["data_interval_start"])
    if context.get("logical_date") is not None:
        return _utc_day(context["logical_date"])
    return _utc_day(dag_run.run_after)


def named_night(context: Mapping[str, Any]) -> date | None:
    """The night a manual run names with its logical date (`airflow dags test transform_audit_publish 2026-11-25`,
    the demo's night runner), else None.

    For the transform: its scheduled runs fire at 04:00 UTC after the night they build (their logical date is the
    trigger time, not the night) and asset-triggered runs have no logical date, so neither names the night its data
    covers; the build then takes the latest share date (marts.dim_month)."""
    dag_run = context["dag_run"]
    run_type = str(getattr(dag_run.run_type, "value", dag_run.run_type))
    if run_type == "manual" and context.get("logical_date") is not None:
        return _utc_day(context["logical_date"])
    return None


def triggering_extras(context: Mapping[str, Any], asset) -> list[dict[str, Any]]:
    """The `extra` of every event of `asset` that triggered this run (none for a scheduled or manual run).

    Read defensively (reference notes, pain point 10): an accessor without the asset, or events without extra,
    give an empty list rather than an error.
    """
    events = context.get("triggering_asset_events") or {}
    try:
        matching = events[asset]
    except (KeyError, TypeError):
        return []
    return [dict(event.extra or {}) for event in matching]


def submission_night(submissions: list[dict[str, Any]], default: date) -> date:
    """The night that covers every submitted response: the UTC day of the latest `submitted_at`."""
    days = []
    for submission in submissions:
        try:
            days.append(_utc_day(datetime.fromisoformat(str(submission["submitted_at"]).replace("Z", "+00:00"))))
        except (KeyError, ValueError):
            continue
    return max(days, default=default)
