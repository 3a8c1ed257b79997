"""Builders for the expectations several suites share: rules as SQL, freshness, volume against the last publish.

A rule GX has no built-in expectation for is an `UnexpectedRowsExpectation`: a query over `{batch}` (the audited
table) that returns the offending rows, named by its description. In the query, `{batch}` is substituted by GX
and literal braces must be doubled; `%` is avoided (the psycopg2 driver would read it as a placeholder).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from expectations.thresholds import Thresholds
from expectations.volumes import volume_query

if TYPE_CHECKING:
    import great_expectations as gx


def rule(description: str, unexpected_rows_query: str) -> gx.expectations.UnexpectedRowsExpectation:
    import great_expectations as gx

    return gx.expectations.UnexpectedRowsExpectation(
        description=description, unexpected_rows_query=" ".join(unexpected_rows_query.split())
    )


def any_of(conditions: Iterable[str]) -> str:
    return " or ".join(f"({condition})" for condition in conditions)


def sql_list(values: Iterable[str]) -> str:
    """`'a', 'b'`: literals for an `in (…)` list (of values from configuration, never from data)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def never_null(columns: tuple[str, ...], keys: tuple[str, ...]) -> gx.expectations.UnexpectedRowsExpectation:
    """One rule for many columns (a native expectation per column costs GX ~20 ms of bookkeeping each)."""
    nulls = ", ".join(f"case when {column} is null then '{column}' end" for column in columns)
    return rule(
        f"never null: {', '.join(columns)}",
        f"select {', '.join(keys)}, array_remove(array[{nulls}], null) as null_columns from {{batch}}"
        f" where {any_of(f'{column} is null' for column in columns)}",
    )


def not_negative(columns: tuple[str, ...], keys: tuple[str, ...]) -> gx.expectations.UnexpectedRowsExpectation:
    return rule(
        f"not negative: {', '.join(columns)}",
        f"select {', '.join((*keys, *columns))} from {{batch}} where {any_of(f'{column} < 0' for column in columns)}",
    )


def freshness(max_age_hours: float, column: str = "_extracted_at") -> gx.expectations.UnexpectedRowsExpectation:
    """The newest `column` is at most `max_age_hours` old (an empty table is left to the row-count expectation)."""
    return rule(
        f"freshness: newest {column} at most {max_age_hours:g} hours old",
        f"select max({column}) as newest, (now() - max({column}))::text as age from {{batch}}"
        f" having max({column}) < now() - {float(max_age_hours)!r} * interval '1 hour'",
    )


def volume_against_last_publish(relation: str, thresholds: Thresholds) -> gx.expectations.UnexpectedRowsExpectation:
    low, high = thresholds.volume_min_ratio, thresholds.volume_max_ratio
    return rule(
        f"volume: rows within {low:g}–{high:g} × the rows at the last publish",
        volume_query(relation, low, high),
    )
