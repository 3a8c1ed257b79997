"""Suites over the `bi` candidates in `bi_build`: the contract of `bi.motivation_attribution` (DESIGN §4), its
reconciliation with the marts it is built from, the k-anonymity rule, and row volume against the last publish."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.mart_suites import FCT_SHARE_ATTRIBUTION, FCT_SHARES
from expectations.rules import never_null, not_negative, rule, sql_list, volume_against_last_publish
from expectations.thresholds import UNATTRIBUTED, Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

MOTIVATION_ATTRIBUTION = f"{settings.BI_BUILD_SCHEMA}.motivation_attribution"

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


def motivation_attribution_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    counts = ("respondents", *ATTRIBUTION_METRICS, *(f"attributed_{m}" for m in ATTRIBUTION_METRICS))
    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(ATTRIBUTION_COLUMNS), exact_match=True),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=thresholds.max_attribution_rows),
        never_null(ATTRIBUTION_COLUMNS, keys=ATTRIBUTION_KEYS),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=list(ATTRIBUTION_KEYS)),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="motivation", value_set=list(thresholds.allowed_motivations)
        ),
        gx.expectations.ExpectColumnValuesToBeInSet(column="network", value_set=list(thresholds.allowed_networks)),
        not_negative(counts, keys=ATTRIBUTION_KEYS),
        *(
            gx.expectations.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=metric, column_B=f"attributed_{metric}", or_equal=True
            )
            for metric in ATTRIBUTION_METRICS
        ),
        rule(
            "month is the first day of a month",
            "select * from {batch} where month <> date_trunc('month', month)::date",
        ),
        *(_attributed_parts_sum_to_total(metric, thresholds) for metric in ATTRIBUTION_METRICS),
        rule(
            f"totals per month × network equal those of {FCT_SHARES}",
            _reconciliation_query(),
        ),
        rule(
            f"respondents per month × network are the surveyed sharers of {FCT_SHARE_ATTRIBUTION}",
            "with surveyed as (select share_month as month, network, count(distinct employee_id)"
            " filter (where survey_response_token is not null) as respondents"
            f" from {FCT_SHARE_ATTRIBUTION} group by share_month, network)"
            " select distinct built.month, built.network, built.respondents, surveyed.respondents as surveyed_sharers"
            " from {batch} as built left join surveyed"
            " on surveyed.month = built.month and surveyed.network = built.network"
            " where built.respondents <> coalesce(surveyed.respondents, 0)",
        ),
        rule(
            f"k-anonymity: no motivation row carries attributed values for fewer than "
            f"{thresholds.k_anonymity} respondents",
            "select * from {batch}"
            f" where motivation not in ({sql_list([UNATTRIBUTED])}) and respondents < {int(thresholds.k_anonymity)}"
            f" and ({' or '.join(f'attributed_{m} <> 0' for m in ATTRIBUTION_METRICS)})",
        ),
        volume_against_last_publish(MOTIVATION_ATTRIBUTION, thresholds),
    ]


def _attributed_parts_sum_to_total(metric: str, thresholds: Thresholds) -> gx.expectations.UnexpectedRowsExpectation:
    """Σ attributed_<metric> over motivations == <metric> per month × network (the total repeated on every row)."""
    tolerance = float(thresholds.attribution_sum_tolerance)
    return rule(
        f"Σ attributed_{metric} over motivations == {metric} per month × network",
        f"select month, network, min({metric}) as min_total, max({metric}) as max_total,"
        f" sum(attributed_{metric}) as attributed_sum"
        " from {batch} group by month, network"
        f" having min({metric}) <> max({metric}) or abs(sum(attributed_{metric}) - max({metric})) > {tolerance!r}",
    )


def _reconciliation_query() -> str:
    """Month × network groups of the build vs the same groups summed from `fct_shares`, missing groups included."""
    built = ", ".join(f"max({metric}) as {metric}" for metric in ATTRIBUTION_METRICS)
    differs = " or ".join(f"built.{metric} <> marts.{metric}" for metric in ATTRIBUTION_METRICS)
    pairs = ", ".join(f"built.{metric} as built_{metric}, marts.{metric} as marts_{metric}" for metric in ATTRIBUTION_METRICS)
    return (
        f"with built as (select month, network, {built} from {{batch}} group by month, network),"
        " marts as (select share_month as month, network, count(*) as shares, sum(impressions) as impressions,"
        f" sum(engagements) as engagements, sum(clicks) as clicks from {FCT_SHARES} group by share_month, network)"
        f" select month, network, {pairs} from built full join marts using (month, network)"
        f" where built.month is null or marts.month is null or {differs}"
    )
