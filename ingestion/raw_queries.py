"""Reads from the raw layer that drive a later extraction (which posts the social APIs are asked about)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple

import psycopg
from psycopg import sql

from ingestion.loader import apply_raw_schema

#: How long after sharing a post's counters are still fetched.
MEASURED_FOR = timedelta(days=90)

_POSTS_TO_MEASURE = """
select payload->>'post_id', min((payload->>'shared_at')::timestamptz)
from raw.advocacy__shares
where payload->>'network' = %(network)s
  and (payload->>'shared_at')::timestamptz < %(end)s
  and (payload->>'shared_at')::timestamptz >= %(end)s - %(measured_for)s
group by 1
order by 1
"""


_TRACKING_LINKS = """
select payload->>'tracking_link', min((payload->>'shared_at')::timestamptz), max((payload->>'shared_at')::timestamptz)
from raw.advocacy__shares
where (payload->>'shared_at')::timestamptz < %(end)s
  and (payload->>'shared_at')::timestamptz >= %(end)s - %(measured_for)s
group by 1
order by 1
"""


class TrackedLink(NamedTuple):
    bitlink: str
    first_shared_at: datetime  # within the measured window
    last_shared_at: datetime


class SharedPost(NamedTuple):
    post_id: str
    shared_at: datetime


def end_of(logical_date: date) -> datetime:
    """The instant the logical date ends (midnight UTC after it)."""
    return datetime.combine(logical_date + timedelta(days=1), time(), UTC)


def shared_posts(
    warehouse_url: str, logical_date: date, network: str, measured_for: timedelta = MEASURED_FOR
) -> list[SharedPost]:
    """Posts to `network` shared before the end of `logical_date` and at most `measured_for` before it."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        params = {"network": network, "end": end_of(logical_date), "measured_for": measured_for}
        rows = conn.execute(_POSTS_TO_MEASURE, params).fetchall()
    return [SharedPost(post_id, shared_at) for post_id, shared_at in rows]


def tracking_links(
    warehouse_url: str, logical_date: date, measured_for: timedelta = MEASURED_FOR
) -> list[TrackedLink]:
    """Tracking links of every share (any network) made before the end of `logical_date`, at most `measured_for`
    before it."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        params = {"end": end_of(logical_date), "measured_for": measured_for}
        rows = conn.execute(_TRACKING_LINKS, params).fetchall()
    return [TrackedLink(*row) for row in rows]


def last_fetched(warehouse_url: str, table: str, key_column: str, logical_date: date) -> dict[str, date]:
    """Key → the latest night before `logical_date` that landed it in `raw.<table>` (what the refresh schedule
    counts from; the night itself is left out so that a rerun asks for the same posts)."""
    query = sql.SQL("select {key}, max(_logical_date) from {table} where _logical_date < %s group by 1").format(
        key=sql.Identifier(key_column), table=sql.Identifier("raw", table)
    )
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        return dict(conn.execute(query, (logical_date,)).fetchall())
