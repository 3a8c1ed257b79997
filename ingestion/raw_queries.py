"""Reads from the raw layer that drive a later extraction (which posts LinkedIn is asked about)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import psycopg

from ingestion.loader import apply_raw_schema

#: How long after sharing a post's counters are still fetched.
MEASURED_FOR = timedelta(days=90)

_POSTS_TO_MEASURE = """
select distinct payload->>'post_id'
from raw.advocacy__shares
where payload->>'network' = 'linkedin'
  and (payload->>'shared_at')::timestamptz < %(end)s
  and (payload->>'shared_at')::timestamptz >= %(end)s - %(measured_for)s
order by 1
"""


def posts_to_measure(warehouse_url: str, logical_date: date) -> list[str]:
    """LinkedIn post URNs shared before the end of `logical_date` and at most 90 days before it."""
    end = datetime.combine(logical_date + timedelta(days=1), time(), UTC)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        apply_raw_schema(conn)
        rows = conn.execute(_POSTS_TO_MEASURE, {"end": end, "measured_for": MEASURED_FOR}).fetchall()
    return [post_urn for (post_urn,) in rows]
