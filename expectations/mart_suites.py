"""Suites over the built marts (schema `marts`), every row: keys, ranges, referential integrity between marts
and raw, motivation weights summing to 1 and attributed parts summing to each share's totals, and row volume
against the last publish.

Marts are internal and grow columns as the models evolve, so their schema expectation asks for the columns the
gate and `bi` rely on (`exact_match=False`); `bi` candidates, which readers see, are held to an exact set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.raw_suites import SHARE_MODES, SHARES
from expectations.rules import any_of, never_null, not_negative, rule, volume_against_last_publish
from expectations.thresholds import Thresholds

if TYPE_CHECKING:
    import great_expectations as gx

MARTS_SCHEMA = "marts"
FCT_SHARES = f"{MARTS_SCHEMA}.fct_shares"
FCT_SHARE_ATTRIBUTION = f"{MARTS_SCHEMA}.fct_share_motivation_attribution"

#: The outcome of a share, and of each part of it attributed to a motivation (`attributed_<metric>`).
SHARE_METRICS = ("impressions", "engagements", "clicks")

#: Columns the marts must have (they may have more).
FCT_SHARES_COLUMNS = (
    "share_id",
    "employee_id",
    "content_id",
    "network",
    "post_id",
    "shared_at",
    "share_month",
    "share_mode",
    *SHARE_METRICS,
)
FCT_SHARE_ATTRIBUTION_COLUMNS = (
    "share_id",
    "motivation",
    "employee_id",
    "share_month",
    "network",
    "survey_response_token",
    "weight",
    "attributed_shares",
    *(f"attributed_{metric}" for metric in SHARE_METRICS),
)


def fct_shares_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(FCT_SHARES_COLUMNS), exact_match=False),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        never_null(FCT_SHARES_COLUMNS, keys=("share_id",)),
        gx.expectations.ExpectColumnValuesToBeUnique(column="share_id"),
        gx.expectations.ExpectColumnValuesToBeInSet(column="network", value_set=list(thresholds.allowed_networks)),
        gx.expectations.ExpectColumnValuesToBeInSet(column="share_mode", value_set=list(SHARE_MODES)),
        not_negative(SHARE_METRICS, keys=("share_id",)),
        rule(
            "share_month is the first day of the month (UTC) of shared_at",
            "select share_id, shared_at, share_month from {batch}"
            " where share_month <> date_trunc('month', shared_at at time zone 'UTC')::date",
        ),
        rule(
            f"the shares are exactly those of {SHARES}",
            f"select coalesce(landed.share_id, built.share_id) as share_id, built.share_id is null as missing"
            f" from {SHARES} as landed full join {{batch}} as built on built.share_id = landed.share_id"
            " where landed.share_id is null or built.share_id is null",
        ),
        volume_against_last_publish(FCT_SHARES, thresholds),
    ]


def fct_share_attribution_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    attributed = ("attributed_shares", *(f"attributed_{metric}" for metric in SHARE_METRICS))
    required = tuple(column for column in FCT_SHARE_ATTRIBUTION_COLUMNS if column != "survey_response_token")
    tolerance = float(thresholds.attribution_sum_tolerance)
    parts_off = [
        "parts.share_id is null",
        f"abs(parts.attributed_shares - 1) > {tolerance!r}",
        *(f"abs(parts.attributed_{metric} - shares.{metric}) > {tolerance!r}" for metric in SHARE_METRICS),
    ]
    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(FCT_SHARE_ATTRIBUTION_COLUMNS), exact_match=False),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        never_null(required, keys=("share_id", "motivation")),
        gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["share_id", "motivation"]),
        gx.expectations.ExpectColumnValuesToBeInSet(
            column="motivation", value_set=list(thresholds.allowed_motivations)
        ),
        gx.expectations.ExpectColumnValuesToBeBetween(column="weight", min_value=0, max_value=1),
        not_negative(attributed, keys=("share_id", "motivation")),
        rule(
            f"every share exists in {FCT_SHARES} with the same employee, month and network",
            f"select attribution.share_id, attribution.motivation from {{batch}} as attribution"
            f" left join {FCT_SHARES} as shares on shares.share_id = attribution.share_id"
            " where shares.share_id is null or shares.employee_id <> attribution.employee_id"
            " or shares.share_month <> attribution.share_month or shares.network <> attribution.network",
        ),
        rule(
            "motivation weights sum to 1 per share",
            "select share_id, sum(weight) as weight_sum from {batch} group by share_id"
            f" having abs(sum(weight) - 1) > {float(thresholds.weight_sum_tolerance)!r}",
        ),
        rule(
            f"attributed parts of each share of {FCT_SHARES} sum to the share and its totals",
            "with parts as (select share_id,"
            f" {', '.join(f'sum({column}) as {column}' for column in attributed)} from {{batch}} group by share_id)"
            " select shares.share_id, "
            + ", ".join(f"shares.{metric}, parts.attributed_{metric}" for metric in SHARE_METRICS)
            + f" from {FCT_SHARES} as shares left join parts on parts.share_id = shares.share_id"
            f" where {any_of(parts_off)}",
        ),
        volume_against_last_publish(FCT_SHARE_ATTRIBUTION, thresholds),
    ]
