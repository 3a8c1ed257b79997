"""Questions a DAG asks the warehouse about what has landed (read inside tasks, never at parse time)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import psycopg


def shares_landed(warehouse_url: str, night: date) -> bool:
    """Whether the advocacy shares export of `night` has landed: raw._file_manifest holds a version of its file.

    Asked of the file itself, not of the loads: a later night's successful load says nothing of a night whose
    export is still missing (that night's own load fails, and the sources measuring its shares keep waiting)."""
    from ingestion.sources.advocacy import TARGET, shares_file_name

    with psycopg.connect(warehouse_url) as conn:
        if conn.execute("select to_regclass('raw._file_manifest')").fetchone()[0] is None:
            return False  # nothing has ever landed in this warehouse
        row = conn.execute(
            "select exists (select 1 from raw._file_manifest where source = %s and entity = %s and file_name = %s)",
            (TARGET.source, TARGET.entity, shares_file_name(night)),
        ).fetchone()
    return bool(row[0])


def missing_typeform_responses(warehouse_url: str, responses: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Which (form_id, response token) pairs are not in raw.typeform__responses yet."""
    wanted = sorted(set(responses))
    if not wanted:
        return []
    with psycopg.connect(warehouse_url) as conn:
        landed = set(
            conn.execute(
                "select form_id, response_token from raw.typeform__responses"
                " where (form_id, response_token) in (select * from unnest(%s::text[], %s::text[]))",
                ([f for f, _ in wanted], [t for _, t in wanted]),
            ).fetchall()
        )
    return [pair for pair in wanted if pair not in landed]


def wait_for_shares():
    """A task that waits, without holding a worker slot, until the advocacy shares of its night have landed.

    For every source that measures the shares (LinkedIn, X, Bitly): put it first, `wait_for_shares() >> land(...)`,
    so a late export or a backfill never makes the source ask for a night whose shares are not known yet.
    """
    from datetime import timedelta

    from airflow.sdk import get_current_context, task

    from sharewhy import settings

    @task.sensor(poke_interval=settings.WAIT_POKE_SECONDS, timeout=timedelta(hours=6), mode="reschedule")
    def wait_for_shares() -> bool:
        from pipeline.runs import night_of

        return shares_landed(settings.warehouse_url(), night_of(get_current_context()))

    return wait_for_shares()
