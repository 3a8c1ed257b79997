"""Questions a DAG asks the warehouse about what has landed (read inside tasks, never at parse time)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import psycopg


def has_landed(warehouse_url: str, source: str, entity: str, night: date) -> bool:
    """Whether a load of `source.entity` for `night` or a later night has succeeded (raw._loads)."""
    with psycopg.connect(warehouse_url) as conn:
        if conn.execute("select to_regclass('raw._loads')").fetchone()[0] is None:
            return False  # nothing has ever landed in this warehouse
        row = conn.execute(
            "select exists (select 1 from raw._loads where source = %s and entity = %s"
            " and status = 'success' and logical_date >= %s)",
            (source, entity, night),
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

        return has_landed(settings.warehouse_url(), "advocacy", "shares", night_of(get_current_context()))

    return wait_for_shares()
