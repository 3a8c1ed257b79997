"""Builders for the expectations several suites share: rules as SQL, required columns, value checks, personal data,
freshness, volume against the last publish.

A rule GX has no built-in expectation for is an `UnexpectedRowsExpectation`: a query over `{batch}` (the audited
table) that returns the offending rows, named by its description. In the query, `{batch}` is substituted by GX
and literal braces must be doubled; `%` is avoided (the psycopg2 driver would read it as a placeholder). GX
substitutes a subquery that it aliases itself (`AS subselect`) unless the query contains a join: so `{batch}` is
given an alias in queries that join, and in no other (PostgreSQL 16 takes an unaliased subquery).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from expectations.thresholds import Thresholds
from expectations.volumes import volume_query

if TYPE_CHECKING:
    import great_expectations as gx


#: An expectation's `meta["severity"]`: a failed `error` expectation blocks the publish; a failed `warning` is
#: recorded (`audit.validation_runs.severity`, Data Docs, the audit's summary) and blocks nothing.
ERROR, WARNING = "error", "warning"


def rule(description: str, unexpected_rows_query: str) -> gx.expectations.UnexpectedRowsExpectation:
    import great_expectations as gx

    return gx.expectations.UnexpectedRowsExpectation(
        description=description, unexpected_rows_query=" ".join(unexpected_rows_query.split())
    )


def warning(expectation: gx.expectations.Expectation) -> gx.expectations.Expectation:
    """`expectation` as a non-blocking warning. Rules that block the publish may only check what the vendor's
    contract guarantees; a field merely observed (in one example, in one tenant's data) is checked as a warning."""
    expectation.meta = {**(expectation.meta or {}), "severity": WARNING}
    return expectation


def severity(meta: dict | None) -> str:
    """`warning` or `error` (the default) from an expectation's meta."""
    return WARNING if (meta or {}).get("severity") == WARNING else ERROR


def any_of(conditions: Iterable[str]) -> str:
    return " or ".join(f"({condition})" for condition in conditions)


def sql_list(values: Iterable[str]) -> str:
    """`'a', 'b'`: literals for an `in (…)` list (of values from configuration, never from data)."""
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def not_negative(columns: tuple[str, ...]) -> list[gx.expectations.ExpectColumnValuesToBeBetween]:
    """Each column ≥ 0 (GX's built-in per column; a null is left to dbt's not_null tests and contracts)."""
    import great_expectations as gx

    return [gx.expectations.ExpectColumnValuesToBeBetween(column=column, min_value=0) for column in columns]


def required_columns(columns: Iterable[str]) -> gx.expectations.ExpectTableColumnsToMatchSet:
    """The table has at least these columns: more may be added (by another model change) without failing the gate."""
    import great_expectations as gx

    return gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(columns), exact_match=False)


def checks(
    description: str, keys: tuple[str, ...], conditions: dict[str, str], *, source: str = "{batch}", with_: str = ""
) -> gx.expectations.UnexpectedRowsExpectation:
    """One rule for many row-level conditions (`name → SQL that must hold`): the rows of `source` (the batch, or a
    relation of the `with_` clause) where any condition is false, with the names of those it breaks (`broken`).
    A condition that is null (a null value) holds: nulls are the business of dbt's not_null tests and contracts and of the k-anonymity rules,
    and a condition that must not be null says so (`coalesce`, `is distinct from`)."""
    broken = ", ".join(
        f"case when ({condition}) is false then {sql_list([name])} end" for name, condition in conditions.items()
    )
    return rule(
        description,
        f"{with_} select {', '.join(keys)}, array_remove(array[{broken}], null) as broken from {source}"
        f" where {' or '.join(f'({condition}) is false' for condition in conditions.values())}",
    )


def no_personal_data() -> gx.expectations.UnexpectedRowsExpectation:
    """No value of any column, present or added later, holds an '@' (an e-mail address, a social handle). Reported
    per column with its count of rows, never with the rows: a key could be the value itself, and the audit's
    evidence (`audit.validation_runs`, Data Docs) must not copy personal data."""
    return rule(
        "no e-mail address or @handle in any column (no value holds '@')",
        "select field.key as column_name, count(*) as rows from {batch} as row_values"
        " cross join lateral jsonb_each_text(to_jsonb(row_values)) as field"
        " where strpos(field.value, '@') > 0 group by field.key",
    )


def freshness_if_set(max_age_hours: float | None, column: str = "_extracted_at") -> list:
    """`freshness` as a list: empty when the threshold is None (unchecked)."""
    return [] if max_age_hours is None else [freshness(max_age_hours, column)]


def freshness(max_age_hours: float, column: str = "_extracted_at") -> gx.expectations.UnexpectedRowsExpectation:
    """The newest `column` is at most `max_age_hours` old (an empty table is left to the row-count expectation).

    SQL, not GX's `ExpectColumnMaxToBeBetween`: that one fails an empty table (its observed max is null), and the
    empty table of a source a tenant does not use must pass (raw_suites.py); it also reads the max as this query
    does, through the `_extracted_at` index, so the SQL costs nothing more."""
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
