"""Suites over the built marts (schema `marts`): what dbt's tests of the marts do not check — the shares reconciled
with raw, the attribution reconciled with the shares it splits (same employee, month and network; parts summing to
each share's totals), value ranges dbt states nowhere, and row volume against the last publish.

The per-share rules read the rows built since the last audit their suite passed (`built_since`), not every row:
these marts are incremental, and reading all of them every night made the audit grow with the history. Value
ranges are such rules too, not GX's column expectations (each of those reads every row, several times: at 10M
shares they were half a minute of the night); that the table has rows is `has_rows`, not a count.

Keys, not-null columns, accepted values and weights summing to 1 per share are dbt's tests
(`dbt_project/models/marts/*.yml`, error severity): one failing fails `dbt build`, so the audit never sees them.

Marts are internal and grow columns as the models evolve, so their schema expectation asks for the columns the
gate and `bi` rely on (`exact_match=False`); `bi` candidates, which readers see, are held to an exact set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.arrivals import has_rows, last_passed_audit
from expectations.raw_suites import SHARES
from expectations.rules import any_of, checks, rule, sql_list, volume_against_last_publish
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


def built_since(relation: str) -> str:
    """SQL for the instant from which the rows of an incremental share mart are reconciled: the start of the last
    audit run its suite passed (`arrivals.last_passed_audit`); no such run: every row. Both that start and `built_at`
    are the warehouse's clock (`audit.run_audit`), and the transform lease keeps builds from overlapping an audit,
    so no margin is needed.

    Why that is enough: a build stamps each row it writes with `built_at`, and rewrites a share's rows whenever
    something they depend on changes (fct_shares: its inputs since the last build; the attribution: the shares
    fct_shares rebuilt, the sharers whose profile changed). A row built before that audit was reconciled by it; a
    failed audit moves nothing, so the next night reads its rows again. A row rewritten outside dbt, by hand,
    escapes these per-share rules: the `bi` candidates' totals rules still reconcile every row of the marts."""
    return f"coalesce(({last_passed_audit(relation)}), '-infinity')"


def fct_shares_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(FCT_SHARES_COLUMNS), exact_match=False),
        has_rows(),
        checks(
            "share_month is the first day of the month (UTC) of shared_at; network is one of"
            f" {', '.join(thresholds.allowed_networks)} (rows built since the last passed audit)",
            ("share_id",),
            {
                "share_month is the month of shared_at": "share_month = date_trunc('month', shared_at at time zone 'UTC')::date",
                "network is allowed": f"network in ({sql_list(thresholds.allowed_networks)})",
            },
            source=f"(select * from {{batch}} where built_at >= {built_since(FCT_SHARES)}) as built",
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
    tolerance = float(thresholds.attribution_sum_tolerance)
    since = built_since(FCT_SHARE_ATTRIBUTION)
    # arrays of share ids, looked up in the tables' indexes on share_id: few on a night, where PostgreSQL, not knowing
    # how recent `since` is, planned "built since" as a third of each table (14 s instead of a tenth at 1M shares)
    built_shares = f"array(select share_id from {{batch}} where built_at >= {since})"
    touched = (
        f"array(select share_id from {FCT_SHARES} where built_at >= {since}"
        f" union select share_id from {{batch}} where built_at >= {since})"
    )
    parts_off = [
        "parts.share_id is null",
        f"abs(parts.attributed_shares - 1) > {tolerance!r}",
        *(f"abs(parts.attributed_{metric} - shares.{metric}) > {tolerance!r}" for metric in SHARE_METRICS),
    ]
    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(FCT_SHARE_ATTRIBUTION_COLUMNS), exact_match=False),
        has_rows(),
        checks(
            "weight is within [0, 1]; attributed parts are not negative (rows built since the last passed audit)",
            ("share_id", "motivation"),
            {
                "weight in [0, 1]": "weight between 0 and 1",
                **{f"{column} >= 0": f"{column} >= 0" for column in attributed},
            },
            source=f"(select * from {{batch}} where share_id = any({built_shares})) as built",
        ),
        rule(
            f"every share exists in {FCT_SHARES} with the same employee, month and network"
            " (rows built since the last passed audit)",
            f"select attribution.share_id, attribution.motivation from {{batch}} as attribution"
            f" left join {FCT_SHARES} as shares on shares.share_id = attribution.share_id"
            f" where attribution.share_id = any({built_shares}) and (shares.share_id is null"
            " or shares.employee_id <> attribution.employee_id"
            " or shares.share_month <> attribution.share_month or shares.network <> attribution.network)",
        ),
        rule(
            f"attributed parts of each share of {FCT_SHARES} sum to the share and its totals"
            " (shares either table built since the last passed audit)",
            "with parts as (select share_id,"
            f" {', '.join(f'sum({column}) as {column}' for column in attributed)} from {{batch}}"
            f" where share_id = any({touched}) group by share_id)"
            " select shares.share_id, "
            + ", ".join(f"shares.{metric}, parts.attributed_{metric}" for metric in SHARE_METRICS)
            + f" from {FCT_SHARES} as shares left join parts on parts.share_id = shares.share_id"
            f" where shares.share_id = any({touched}) and ({any_of(parts_off)})",
        ),
        volume_against_last_publish(FCT_SHARE_ATTRIBUTION, thresholds),
    ]
