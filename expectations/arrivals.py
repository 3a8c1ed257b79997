"""Which rows of a raw table an audit reads: those that arrived since the last audit its suite passed.

Why that is enough: raw is append-only — the loader only inserts (a key's first delivery wins), nothing updates or
deletes a landed row — and a row's checks depend on the row itself, on its key's older rows, and on shares that
are never removed. So a row that a passed audit checked stays checked, and each night's audit only needs the rows
that arrived since; reading all of raw every night made the audit grow with history.

"Arrived since" is `_extracted_at >= arrived_since(relation)` (an index per raw table, `ingestion/raw_schema.sql`):
- T: the start (`validated_at`) of the newest audit run in which every blocking expectation of the table's suite
  passed (`audit.validation_runs`; a failed `warning` does not hold rows back); no such run: everything (`-infinity`). A failed audit moves nothing: the next night
  reads the failed night's rows again, so a bad row is never waved through by a later night that did not look at
  it (it blocks until it is corrected, see below, or removed by hand).
- Rows committed after T were invisible to that audit. The loader commits a load's rows together with its
  `raw._loads.finished_at` and stamps `_extracted_at` after the load's `started_at`, so every such row belongs to a
  load that finished after T and was extracted after that load started: the watermark is the earliest start of a
  load that finished after T, when that is before T.
- Minus `MARGIN`, for the clocks of the extracting worker, the warehouse and the auditing worker, and the instant
  between `finished_at` and the commit.

Cumulative sources (a key observed again night after night) are checked on each key's newest row only, for the
keys with a row arrived: a bad value that a later row corrected no longer blocks the gate, one still in use does;
the counter rule compares that newest row with the key's previous observation, however many nights back, read
through the table's unique index on (key…, night).

In a query, `{batch}` is the audited table (substituted by GX, see `expectations.rules`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.rules import rule
from expectations.thresholds import Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

#: Slack on the watermark (see the module docstring): a few rows of the hour before the last passed audit are
#: read again, which costs nothing next to a night's arrivals.
MARGIN = "interval '1 hour'"

_RUNS = f"{settings.AUDIT_SCHEMA}.validation_runs"
_LOADS = f"{settings.RAW_SCHEMA}._loads"


def last_passed_audit(relation: str) -> str:
    """SQL, one row or none: the start (`validated_at`) of the newest audit run in which every blocking expectation
    of `relation`'s suite passed."""
    suite = relation.replace("'", "''")
    return (
        f"select runs.validated_at from {_RUNS} as runs where runs.suite = '{suite}' and not exists"
        f" (select from {_RUNS} as failed where failed.run_id = runs.run_id and failed.suite = '{suite}'"
        " and not failed.success and failed.severity = 'error') order by runs.validated_at desc limit 1"
    )


def arrived_since(relation: str) -> str:
    """SQL for the instant from which rows of `relation` are audited (the module docstring's watermark)."""
    return (
        f"coalesce((select least(passed.validated_at, (select min(loads.started_at) from {_LOADS} as loads"
        f" where loads.finished_at >= passed.validated_at - {MARGIN})) - {MARGIN}"
        f" from ({last_passed_audit(relation)}) as passed), '-infinity')"
    )


def arrived_rows(relation: str) -> str:
    """A subquery, `(…)`, of the rows of `{batch}` that arrived since `arrived_since(relation)`."""
    return f"(select * from {{batch}} where _extracted_at >= {arrived_since(relation)})"


def arrived(relation: str, alias: str = "arrived") -> str:
    """`arrived_rows(relation) as alias`: a derived table for a `from` clause."""
    return f"{arrived_rows(relation)} as {alias}"


def newest_of_arrived(
    relation: str, keys: tuple[str, ...], night: str = "_logical_date", rows: int = 1, name: str = "latest"
) -> str:
    """`with <name> as (…)`: the `rows` newest rows (by `night`) of each key with a row arrived, read through the
    unique index on (key…, night). `rows=1`: each key's row the build reads of a cumulative source."""
    key_list = ", ".join(keys)
    same_key = " and ".join(f"observed.{key} = touched.{key}" for key in keys)
    return (
        f"with {name} as (select observed.* from (select distinct {key_list} from {arrived(relation)}) as touched"
        f" cross join lateral (select * from {{batch}} as observed where {same_key}"
        f" order by observed.{night} desc limit {int(rows)}) as observed)"
    )


def counters_do_not_fall(
    thresholds: Thresholds, relation: str, row_keys: tuple[str, ...], keys: tuple[str, ...], counts: str
) -> gx.expectations.UnexpectedRowsExpectation:
    """Cumulative counters: each counter's count on its key's newest night against its previous observation, for
    the keys (`row_keys`, the table's unique key without the night) with a row arrived. `counts` is a query over
    `recent` (the two newest rows of each such key) giving `*keys, night, count` per observation (count null when
    not a number); `keys` name a counter (`row_keys` and, when a row holds several counters, the counter)."""
    key_list = ", ".join(keys)
    tolerance = (
        f"greatest({int(thresholds.counter_drop_tolerance_abs)},"
        f" {float(thresholds.counter_drop_tolerance_ratio)!r} * previous_count)"
    )
    return rule(
        f"cumulative counts do not fall from the previous night by more than"
        f" max({thresholds.counter_drop_tolerance_abs}, {thresholds.counter_drop_tolerance_ratio:g} × previous)",
        f"{newest_of_arrived(relation, row_keys, rows=2, name='recent')}, counts as ({counts}),"
        " compared as (select *, lag(count) over night_order as previous_count,"
        " lag(night) over night_order as previous_night,"
        f" max(night) over (partition by {', '.join(row_keys)}) as newest_night from counts"
        f" window night_order as (partition by {key_list} order by night))"
        f" select {key_list}, previous_night, previous_count, night, count from compared"
        f" where night = newest_night and previous_count - count > {tolerance}",
    )


def unique_key(relation: str, columns: tuple[str, ...]) -> gx.expectations.UnexpectedRowsExpectation:
    """Rows are unique on `columns`: PostgreSQL enforces it with the table's unique constraint
    (`ingestion/raw_schema.sql`), so the rule checks that a unique index on exactly these columns is there (the
    catalog) instead of grouping every row every night. (`{batch}` appears in a clause that reads nothing: GX warns
    about a query without it.)"""
    wanted = ", ".join(f"'{column}'" for column in sorted(columns))
    index_columns = (
        "select array_agg(attribute.attname::text order by attribute.attname::text)"
        " from unnest(index.indkey::int2[]) as key (attnum)"
        " join pg_attribute as attribute on attribute.attrelid = index.indrelid and attribute.attnum = key.attnum"
    )
    return rule(
        f"unique on ({', '.join(columns)}): the table has a unique index on exactly these columns",
        f"select '{relation}' as relation, array[{wanted}] as key_columns where not exists"
        f" (select from pg_index as index where index.indrelid = to_regclass('{relation}') and index.indisunique"
        f" and index.indpred is null and ({index_columns}) = array[{wanted}]::text[])"
        " and not exists (select from {batch} where false)",
    )


def has_rows() -> gx.expectations.UnexpectedRowsExpectation:
    """At least one row, without counting them all."""
    return rule("has rows", "select 'no rows' as problem where not exists (select from {batch})")
