"""The GX Core suites over the `bi` candidates in `bi_build`, built in code from `Thresholds`.

`build_suites` maps each audited table (in `settings.BI_BUILD_SCHEMA`) to its suite; `audit.run_audit` validates
every entry, so a new `bi` table gets audited by adding a builder here. Great Expectations is imported inside
the builders because importing it costs ~5 s and importers of this module (DAG files) must stay fast to parse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.thresholds import DEFAULT, UNATTRIBUTED, Thresholds

if TYPE_CHECKING:
    import great_expectations as gx

MOTIVATION_ATTRIBUTION = "motivation_attribution"

#: Grain of `motivation_attribution`.
ATTRIBUTION_KEYS = ("month", "network", "motivation")
#: Month × network totals (repeated on each motivation row), each split into `attributed_<metric>`.
ATTRIBUTION_METRICS = ("shares", "impressions", "engagements", "clicks")
ATTRIBUTION_COLUMNS = (
    *ATTRIBUTION_KEYS,
    "respondents",
    *ATTRIBUTION_METRICS,
    *(f"attributed_{metric}" for metric in ATTRIBUTION_METRICS),
)


def suite_name(table: str) -> str:
    return f"bi_build.{table}"


def motivation_attribution_suite(thresholds: Thresholds = DEFAULT) -> gx.ExpectationSuite:
    import great_expectations as gx

    counts = ("respondents", *ATTRIBUTION_METRICS, *(f"attributed_{m}" for m in ATTRIBUTION_METRICS))
    expectations = [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(ATTRIBUTION_COLUMNS), exact_match=True),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=thresholds.max_attribution_rows),
        *(gx.expectations.ExpectColumnValuesToNotBeNull(column=column) for column in ATTRIBUTION_COLUMNS),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(ATTRIBUTION_KEYS)),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="motivation", value_set=list(thresholds.allowed_motivations)
        ),
        *(gx.expectations.ExpectColumnValuesToBeBetween(column=column, min_value=0) for column in counts),
        *(
            gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=metric, column_B=f"attributed_{metric}", or_equal=True
            )
            for metric in ATTRIBUTION_METRICS
        ),
        gx.expectations.UnexpectedRowsExpectation(
            description="month is the first day of a month",
            unexpected_rows_query="select * from {batch} where month <> date_trunc('month', month)::date",
        ),
        *(_attributed_parts_sum_to_total(metric, thresholds) for metric in ATTRIBUTION_METRICS),
        gx.expectations.UnexpectedRowsExpectation(
            description=(
                f"k-anonymity: no motivation row carries attributed values for fewer than "
                f"{thresholds.k_anonymity} respondents"
            ),
            unexpected_rows_query=(
                "select * from {batch}"
                f" where motivation <> '{UNATTRIBUTED}' and respondents < {int(thresholds.k_anonymity)}"
                f" and ({' or '.join(f'attributed_{m} <> 0' for m in ATTRIBUTION_METRICS)})"
            ),
        ),
    ]
    suite = gx.ExpectationSuite(name=suite_name(MOTIVATION_ATTRIBUTION))
    for expectation in expectations:
        suite.add_expectation(expectation)
    return suite


def _attributed_parts_sum_to_total(metric: str, thresholds: Thresholds) -> gx.expectations.UnexpectedRowsExpectation:
    """Σ attributed_<metric> over motivations == <metric> per month × network (the total repeated on every row)."""
    import great_expectations as gx

    tolerance = float(thresholds.attribution_sum_tolerance)
    return gx.expectations.UnexpectedRowsExpectation(
        description=f"Σ attributed_{metric} over motivations == {metric} per month × network",
        unexpected_rows_query=(
            f"select month, network, min({metric}) as min_total, max({metric}) as max_total,"
            f" sum(attributed_{metric}) as attributed_sum"
            " from {batch} group by month, network"
            f" having min({metric}) <> max({metric}) or abs(sum(attributed_{metric}) - max({metric})) > {tolerance!r}"
        ),
    )


def build_suites(thresholds: Thresholds = DEFAULT) -> dict[str, gx.ExpectationSuite]:
    """Audited table in `bi_build` → its suite."""
    return {MOTIVATION_ATTRIBUTION: motivation_attribution_suite(thresholds)}
