"""Reads from the raw layer that drive a later extraction (which posts the social APIs are asked about).

Each read is bounded by time through the raw tables' index on `_extracted_at` (ingestion/raw_schema.sql), so it
costs what the measured window holds, not the history: a row is extracted after the share it is about was made (a
share row after its `shared_at`, which the audit checks; a post's counts after the post exists), so the rows about
shares made since an instant were all extracted since it.
"""

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
where _extracted_at >= %(end)s - %(measured_for)s
  and payload->>'network' = %(network)s
  and (payload->>'shared_at')::timestamptz < %(end)s
  and (payload->>'shared_at')::timestamptz >= %(end)s - %(measured_for)s
group by 1
order by 1
"""


_TRACKING_LINKS = """
select payload->>'tracking_link', min((payload->>'shared_at')::timestamptz), max((payload->>'shared_at')::timestamptz)
from raw.advocacy__shares
where _extracted_at >= %(end)s - %(measured_for)s
  and (payload->>'shared_at')::timestamptz < %(end)s
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


def tracking_links(warehouse_url: str, logical_date: date, measured_for: timedelta = MEASURED_FOR) -> list[TrackedLink]:
    """Tracking links of every share (any network) made before the end of `logical_date`, at most `measured_for`
    before it."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        params = {"end": end_of(logical_date), "measured_for": measured_for}
        rows = conn.execute(_TRACKING_LINKS, params).fetchall()
    return [TrackedLink(*row) for row in rows]


def last_fetched(
    warehouse_url: str, table: str, key_column: str, logical_date: date, horizon: timedelta
) -> dict[str, date]:
    """Key → the latest night before `logical_date` that landed it in `raw.<table>` (what the refresh schedule
    counts from; the night itself is left out so that a rerun asks for the same posts), for the posts shared at
    most `horizon` (the schedule's) before the end of `logical_date`: the only ones that schedule may find due (an
    older post is past its last step whenever it was fetched), and all of whose fetches were extracted since then.
    The keys of older posts may be missing."""
    query = sql.SQL(
        "select {key}, max(_logical_date) from {table} where _logical_date < %s and _extracted_at >= %s group by 1"
    ).format(key=sql.Identifier(key_column), table=sql.Identifier("raw", table))
    since = end_of(logical_date) - horizon
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        return dict(conn.execute(query, (logical_date, since)).fetchall())


_POST_AUTHORS = """
select payload->>'post_id', min(payload->>'employee_id')
from raw.advocacy__shares
where _extracted_at >= %(end)s - %(measured_for)s
  and payload->>'network' = %(network)s
  and (payload->>'shared_at')::timestamptz < %(end)s
  and (payload->>'shared_at')::timestamptz >= %(end)s - %(measured_for)s
group by 1
"""


def post_authors(
    warehouse_url: str, logical_date: date, network: str, measured_for: timedelta = MEASURED_FOR
) -> dict[str, str]:
    """Post id → the employee who shared it (whose own token reads its member-scoped metrics), for the posts
    `shared_posts` returns."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        params = {"network": network, "end": end_of(logical_date), "measured_for": measured_for}
        return dict(conn.execute(_POST_AUTHORS, params).fetchall())


def api_calls_today(warehouse_url: str, source: str) -> int:
    """Calls the loads of `source` have made since midnight UTC (what a daily quota has left, as far as we spent it)."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        (calls,) = conn.execute(
            "select coalesce(sum(api_calls), 0) from raw._loads where source = %s"
            " and started_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'",
            (source,),
        ).fetchone() or (0,)
    return int(calls)
