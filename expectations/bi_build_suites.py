"""Suites over the `bi` candidates in `bi_build` (DESIGN §4): value ranges, reconciliation with the marts they are
built from, survey confidentiality, no personal data, and row volume against the last publish.

Keys, not-null columns and accepted values are dbt's: every candidate's contract is enforced (its not-null
constraints are the table's) and its yml tests its key and values at error severity, so a build breaking them
fails `dbt build` and is never audited.

`bi.motivation_attribution` is held to an exact column set (its contract predates the others). The other tables
ask for the columns readers rely on (`required_columns`) so that a model can grow a column without a gate change.
Rules that must cover columns added later do so by construction (`no_personal_data` reads every column of a row).

Survey confidentiality (k-anonymity, threshold `Thresholds.k_anonymity`) is checked on every survey-derived column,
as each model expresses suppression:
- `motivation_attribution`: a group below k shows no motivation split (construct rows all 0, everything on
  `unattributed`);
- `motivation_lift`, `team_morale`, `obligation_signals`, `salesy_risk`: `is_suppressed` rows, and every row
  with fewer than k `respondents`, must be flagged `is_suppressed` and show null in every survey-derived column;
  `team_morale` also must not show a change against a wave that is itself suppressed (the difference would give
  the suppressed wave's value away), and the signal counts of `obligation_signals` / `salesy_risk` must count
  shown signals only (a hidden survey signal must not be readable from `signals_raised`).
- `team_motivation_clicks`, `content_obligation`, `content_type_obligation`: a group under k is not shown at all
  (every row has at least k respondents);
- `advocacy_kpis`, `monthly_totals` and `consent_coverage` carry no survey-derived value.

Every month-grain candidate carries the month's coverage (`is_complete`, `days_covered`, from `marts.dim_month`),
checked against the calendar. `motivation_attribution`'s attributed parts sum exactly to `monthly_totals`, checked
against `fct_shares` on both sides (the totals live in their own view, so no sum over a view double-counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.instrument import survey_items
from expectations.mart_suites import FCT_SHARE_ATTRIBUTION, FCT_SHARES, MARTS_SCHEMA
from expectations.rules import (
    any_of,
    checks,
    no_personal_data,
    not_negative,
    required_columns,
    rule,
    sql_list,
    volume_against_last_publish,
)
from expectations.thresholds import MOTIVATION_CONSTRUCTS, UNATTRIBUTED, Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

MOTIVATION_ATTRIBUTION = f"{settings.BI_BUILD_SCHEMA}.motivation_attribution"
MOTIVATION_LIFT = f"{settings.BI_BUILD_SCHEMA}.motivation_lift"
TEAM_MORALE = f"{settings.BI_BUILD_SCHEMA}.team_morale"
ADVOCACY_KPIS = f"{settings.BI_BUILD_SCHEMA}.advocacy_kpis"
OBLIGATION_SIGNALS = f"{settings.BI_BUILD_SCHEMA}.obligation_signals"
SALESY_RISK = f"{settings.BI_BUILD_SCHEMA}.salesy_risk"
CONSENT_COVERAGE = f"{settings.BI_BUILD_SCHEMA}.consent_coverage"
MONTHLY_TOTALS = f"{settings.BI_BUILD_SCHEMA}.monthly_totals"
TEAM_MOTIVATION_CLICKS = f"{settings.BI_BUILD_SCHEMA}.team_motivation_clicks"
CONTENT_OBLIGATION = f"{settings.BI_BUILD_SCHEMA}.content_obligation"
CONTENT_TYPE_OBLIGATION = f"{settings.BI_BUILD_SCHEMA}.content_type_obligation"
DIM_MONTH = f"{MARTS_SCHEMA}.dim_month"

#: The coverage columns of every month-grain candidate (marts.dim_month).
PERIOD_COLUMNS = ("is_complete", "days_covered")

#: Grain of `motivation_attribution`.
ATTRIBUTION_KEYS = ("month", "network", "motivation")
#: Month × network totals (in `monthly_totals`), each split into `attributed_<metric>` over motivations.
ATTRIBUTION_METRICS = ("shares", "impressions", "engagements", "clicks")
ATTRIBUTION_COLUMNS = (
    *ATTRIBUTION_KEYS,
    "respondents",
    *(f"attributed_{metric}" for metric in ATTRIBUTION_METRICS),
    *PERIOD_COLUMNS,
)


def motivation_attribution_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    counts = ("respondents", *(f"attributed_{m}" for m in ATTRIBUTION_METRICS))
    return [
        gx.expectations.ExpectTableColumnsToMatchSet(column_set=list(ATTRIBUTION_COLUMNS), exact_match=True),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=thresholds.max_attribution_rows),
        *not_negative(counts),
        rule(
            "month is the first day of a month",
            "select * from {batch} where month <> date_trunc('month', month)::date",
        ),
        rule(
            f"Σ attributed parts over motivations per month × network equal the totals of {FCT_SHARES}"
            " (bi.monthly_totals holds the same totals)",
            _reconciliation_query(thresholds),
        ),
        _period_coverage(ATTRIBUTION_KEYS),
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
        no_personal_data(),
        volume_against_last_publish(MOTIVATION_ATTRIBUTION, thresholds),
    ]


def _fct_shares_totals() -> str:
    """Month × network totals summed from `fct_shares`: what `monthly_totals` holds and the attribution splits."""
    return (
        "select share_month as month, network, count(*) as shares, sum(impressions) as impressions,"
        f" sum(engagements) as engagements, sum(clicks) as clicks from {FCT_SHARES} group by share_month, network"
    )


def _reconciliation_query(thresholds: Thresholds) -> str:
    """Month × network groups: Σ attributed parts of the build vs the totals from `fct_shares`, missing groups
    included."""
    tolerance = float(thresholds.attribution_sum_tolerance)
    built = ", ".join(f"sum(attributed_{metric}) as {metric}" for metric in ATTRIBUTION_METRICS)
    differs = " or ".join(f"abs(built.{metric} - marts.{metric}) > {tolerance!r}" for metric in ATTRIBUTION_METRICS)
    pairs = ", ".join(
        f"built.{metric} as attributed_{metric}, marts.{metric} as marts_{metric}" for metric in ATTRIBUTION_METRICS
    )
    return (
        f"with built as (select month, network, {built} from {{batch}} group by month, network),"
        f" marts as ({_fct_shares_totals()})"
        f" select month, network, {pairs} from built full join marts using (month, network)"
        f" where built.month is null or marts.month is null or {differs}"
    )


def _period_coverage(keys: tuple[str, ...]) -> gx.expectations.UnexpectedRowsExpectation:
    """`is_complete` / `days_covered` are those of the month in `marts.dim_month` (rows of months it lacks too)."""
    return rule(
        f"is_complete and days_covered are the month's coverage in {DIM_MONTH}",
        f"select {', '.join(f'built.{key}' for key in keys)}, built.is_complete, built.days_covered,"
        " months.is_complete as month_is_complete, months.days_covered as month_days_covered"
        f" from {{batch}} as built left join {DIM_MONTH} as months on months.month = built.month"
        " where months.month is null or built.is_complete is distinct from months.is_complete"
        " or built.days_covered is distinct from months.days_covered"
        " or built.days_covered not between 0 and extract(day from (built.month + interval '1 month' - interval '1 day'))",
    )


def monthly_totals_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    """Month × network totals: once per group, equal to `fct_shares`'s, with the month's coverage."""
    import great_expectations as gx

    keys = ("month", "network")
    counts = (*ATTRIBUTION_METRICS, "respondents")
    differs = " or ".join(f"built.{metric} <> marts.{metric}" for metric in ATTRIBUTION_METRICS)
    pairs = ", ".join(
        f"built.{metric} as built_{metric}, marts.{metric} as marts_{metric}" for metric in ATTRIBUTION_METRICS
    )
    return [
        required_columns((*keys, *counts, *PERIOD_COLUMNS)),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        *not_negative(counts),
        rule(
            f"totals per month × network equal those of {FCT_SHARES}",
            f"with marts as ({_fct_shares_totals()})"
            f" select month, network, {pairs} from {{batch}} as built full join marts using (month, network)"
            f" where built.month is null or marts.month is null or {differs}",
        ),
        _period_coverage(keys),
        no_personal_data(),
        volume_against_last_publish(MONTHLY_TOTALS, thresholds),
    ]


# --- the other bi candidates ---------------------------------------------------------------------------------------

#: Fit groups of `motivation_lift`: a network or `all` of them × a segment of the shares.
LIFT_KEYS = ("network", "share_segment", "motivation")
LIFT_RATES = ("engagement_rate", "click_through_rate")
LIFT_SURVEY_COLUMNS = (
    "motivation_sharers",
    "motivation_shares",
    *(f"{rate}_lift{end}" for rate in LIFT_RATES for end in ("", "_lower", "_upper")),
)
LIFT_COLUMNS = (
    *LIFT_KEYS,
    "respondents",
    "shares",
    "outcome_horizon_days",
    "is_suppressed",
    *LIFT_SURVEY_COLUMNS,
    "lift_note",
)

MORALE_KEYS = ("team", "wave")
MORALE_SURVEY_COLUMNS = (
    *(f"mean_{construct}_score" for construct in MOTIVATION_CONSTRUCTS),
    "intrinsic_share",
    "obligated_share",
    "intrinsic_share_change",
    "obligated_share_change",
)
MORALE_COLUMNS = (
    *MORALE_KEYS,
    "wave_number",
    "wave_started_on",
    "respondents",
    "is_suppressed",
    *MORALE_SURVEY_COLUMNS,
)

KPI_KEYS = ("month", "team", "network")
#: Reach kinds, each its own column, never added together (DESIGN §4), and the other counts.
KPI_REACH = ("potential_reach", "impressions", "members_reached")
KPI_COUNTS = ("enrolled", "sharers", "shares", *KPI_REACH, "engagements", "clicks")
KPI_COLUMNS = (
    *KPI_KEYS,
    *KPI_COUNTS,
    "participation_rate",
    "earned_media_value",
    "emv_currency",
    "emv_version",
    *PERIOD_COLUMNS,
)

TEAM_MONTH_KEYS = ("month", "team")
OBLIGATION_SIGNALS_RAISED = (
    "high_scheduled_sharing",
    "high_unedited_sharing",
    "high_nudged_sharing",
    "low_engagement",
    "high_obligated_share",
)
OBLIGATION_SURVEY_COLUMNS = ("obligated_share", "high_obligated_share")
OBLIGATION_COLUMNS = (
    *TEAM_MONTH_KEYS,
    "shares",
    "sharers",
    "respondents",
    "is_suppressed",
    "scheduled_share_rate",
    "unedited_share_rate",
    "nudged_share_rate",
    "matured_shares",
    "engagement_rate_index",
    "obligated_share",
    *OBLIGATION_SIGNALS_RAISED,
    "signals_raised",
    "is_low_volume",
    "is_flagged",
    *PERIOD_COLUMNS,
)
SALESY_SIGNALS_RAISED = ("high_educate_share", "low_engagement", "link_pushing")
SALESY_SURVEY_COLUMNS = ("educate_share", "high_educate_share")
SALESY_HORIZON_COUNTS = ("horizon_impressions", "horizon_engagements", "horizon_clicks")
SALESY_INDEXES = (
    "impressions_per_engagement",
    "engagement_rate_index",
    "click_through_rate_index",
    "clicks_per_engagement_index",
)
SALESY_COLUMNS = (
    *TEAM_MONTH_KEYS,
    "shares",
    "matured_shares",
    "respondents",
    "is_suppressed",
    *SALESY_HORIZON_COUNTS,
    *SALESY_INDEXES,
    "educate_share",
    *SALESY_SIGNALS_RAISED,
    "signals_raised",
    "is_low_volume",
    "is_at_risk",
    *PERIOD_COLUMNS,
)


def _unit_interval(*columns: str) -> dict[str, str]:
    return {f"{column} in [0, 1]": f"{column} between 0 and 1" for column in columns}


def _not_negative(*columns: str) -> dict[str, str]:
    """`column >= 0`, and a number: PostgreSQL's numeric NaN sorts above every number (so NaN >= 0 holds)."""
    return {f"{column} >= 0": f"{column} >= 0 and {column}::numeric < 'Infinity'::numeric" for column in columns}


def _first_of_month(column: str = "month") -> dict[str, str]:
    return {f"{column} is a month's first day": f"{column} = date_trunc('month', {column})::date"}


def _signal_count(signals: tuple[str, ...]) -> dict[str, str]:
    """`signals_raised` counts the signals shown as raised, and no other (a hidden survey signal included)."""
    shown = " + ".join(f"coalesce({signal}::integer, 0)" for signal in signals)
    return {"signals_raised counts the raised signals shown": f"signals_raised = {shown}"}


def _suppressed(
    keys: tuple[str, ...], survey_columns: tuple[str, ...], thresholds: Thresholds
) -> gx.expectations.UnexpectedRowsExpectation:
    """Rows below k respondents are flagged suppressed, and suppressed rows show no survey-derived value."""
    k = int(thresholds.k_anonymity)
    shown = ", ".join(f"case when {column} is not null then '{column}' end" for column in survey_columns)
    return rule(
        f"k-anonymity: rows with fewer than {k} respondents are suppressed and show no survey-derived value"
        f" ({', '.join(survey_columns)})",
        f"select {', '.join(keys)}, respondents, is_suppressed, array_remove(array[{shown}], null) as survey_values_shown"
        f" from {{batch}} where (respondents < {k} and is_suppressed is not true)"
        f" or ((respondents < {k} or is_suppressed) and ({any_of(f'{c} is not null' for c in survey_columns)}))",
    )


def _low_volume_not_raised(flag: str) -> gx.expectations.UnexpectedRowsExpectation:
    """A team × month with too few shares (`is_low_volume`, dbt var `signal_min_shares`) never raises its flag."""
    return rule(
        f"{flag} is never raised on a low-volume team × month (is_low_volume known on every row)",
        f"select month, team, shares, is_low_volume, {flag} from {{batch}}"
        f" where is_low_volume is null or (is_low_volume and {flag})",
    )


def motivation_lift_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    # A lift is a ratio of two rates of observed shares (nothing extrapolated): never below 0, never infinite. That
    # it is shown exactly when lift_note gives no reason to withhold it, the motivations and segments are dbt's tests.
    not_negative = {
        f"{rate}_lift >= 0": f"{rate}_lift >= 0 and {rate}_lift::numeric < 'Infinity'::numeric" for rate in LIFT_RATES
    }
    interval = {
        f"{rate}_lift_lower <= {rate}_lift <= {rate}_lift_upper": f"{rate}_lift_lower <= {rate}_lift and {rate}_lift <= {rate}_lift_upper"
        for rate in LIFT_RATES
    }
    shown_together = {
        f"{rate}_lift shown with its interval": f"({rate}_lift is null) = ({rate}_lift_lower is null) and ({rate}_lift is null) = ({rate}_lift_upper is null)"
        for rate in LIFT_RATES
    }
    return [
        required_columns(LIFT_COLUMNS),
        checks(
            "values: network a network or `all`; counts ≥ 0; lift ≥ 0; interval lower ≤ lift ≤ upper, shown together",
            LIFT_KEYS,
            {
                "network is a network or all": f"network in ({sql_list((*thresholds.allowed_networks, 'all'))})",
                **_not_negative("respondents", "motivation_sharers", "motivation_shares"),
                "respondents <= shares": "respondents <= shares",
                "motivation_sharers <= respondents": "motivation_sharers <= respondents",
                "motivation_shares <= shares": "motivation_shares <= shares",
                "outcome_horizon_days > 0": "outcome_horizon_days > 0",
                **not_negative,
                **interval,
                **shown_together,
            },
        ),
        _suppressed(LIFT_KEYS, LIFT_SURVEY_COLUMNS, thresholds),
        no_personal_data(),
        volume_against_last_publish(MOTIVATION_LIFT, thresholds),
    ]


def team_morale_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:

    items = survey_items()
    low, high = min(item.scale_min for item in items), max(item.scale_max for item in items)
    k = int(thresholds.k_anonymity)
    changes = ("intrinsic_share_change", "obligated_share_change")
    return [
        required_columns(MORALE_COLUMNS),
        checks(
            f"values: mean scores on the answer scale ({low}–{high}), shares in [0, 1], changes in [-1, 1],"
            " respondents ≥ 0, wave_number ≥ 1",
            MORALE_KEYS,
            {
                **{
                    f"mean_{construct}_score in [{low}, {high}]": f"mean_{construct}_score between {low} and {high}"
                    for construct in MOTIVATION_CONSTRUCTS
                },
                **_unit_interval("intrinsic_share", "obligated_share"),
                **{f"{change} in [-1, 1]": f"{change} between -1 and 1" for change in changes},
                **_not_negative("respondents"),
                "wave_number >= 1": "wave_number >= 1",
            },
        ),
        _suppressed(MORALE_KEYS, MORALE_SURVEY_COLUMNS, thresholds),
        rule(
            f"k-anonymity: a change is shown only against the team's wave right before, itself shown (at least {k}"
            " respondents)",
            "select morale.team, morale.wave, morale.wave_number, previous.wave as previous_wave,"
            " previous.respondents as previous_respondents, previous.is_suppressed as previous_suppressed"
            " from {batch} as morale left join {batch} as previous"
            " on previous.team = morale.team and previous.wave_number = morale.wave_number - 1"
            f" where ({any_of(f'morale.{change} is not null' for change in changes)})"
            f" and (previous.team is null or previous.respondents < {k} or previous.is_suppressed"
            f" or {any_of(f'previous.{share} is null' for share in ('intrinsic_share', 'obligated_share'))})",
        ),
        no_personal_data(),
        volume_against_last_publish(TEAM_MORALE, thresholds),
    ]


def advocacy_kpis_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    return [
        required_columns(KPI_COLUMNS),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        checks(
            "values: counts ≥ 0, participation_rate in [0, 1], month a month's first day, network a network",
            KPI_KEYS,
            {
                **_not_negative(*KPI_COUNTS, "earned_media_value"),
                **_unit_interval("participation_rate"),
                **_first_of_month(),
                "network is a network": f"network in ({sql_list(thresholds.allowed_networks)})",
            },
        ),
        rule(
            f"reach kinds are kept apart: shares, potential_reach (Σ audience_size), impressions and members_reached"
            f" per month × team × network equal those of {FCT_SHARES}",
            _kpi_reconciliation_query(),
        ),
        _period_coverage(KPI_KEYS),
        no_personal_data(),
        volume_against_last_publish(ADVOCACY_KPIS, thresholds),
    ]


def obligation_signals_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    return [
        required_columns(OBLIGATION_COLUMNS),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        checks(
            "values: rates and obligated_share in [0, 1], engagement_rate_index ≥ 0, respondents ≤ sharers ≤ shares,"
            " matured_shares ≤ shares, signals_raised counts the raised signals, month a month's first day",
            TEAM_MONTH_KEYS,
            {
                **_unit_interval("scheduled_share_rate", "unedited_share_rate", "nudged_share_rate", "obligated_share"),
                **_not_negative("engagement_rate_index", "respondents", "matured_shares"),
                "respondents <= sharers": "respondents <= sharers",
                "sharers <= shares": "sharers <= shares",
                "matured_shares <= shares": "matured_shares <= shares",
                **_signal_count(OBLIGATION_SIGNALS_RAISED),
                **_first_of_month(),
            },
        ),
        _suppressed(TEAM_MONTH_KEYS, OBLIGATION_SURVEY_COLUMNS, thresholds),
        _period_coverage(TEAM_MONTH_KEYS),
        _low_volume_not_raised("is_flagged"),
        no_personal_data(),
        volume_against_last_publish(OBLIGATION_SIGNALS, thresholds),
    ]


def salesy_risk_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    import great_expectations as gx

    return [
        required_columns(SALESY_COLUMNS),
        gx.expectations.ExpectTableRowCountToBeBetween(min_value=1),
        checks(
            "values: educate_share in [0, 1], counts and indexes ≥ 0, matured_shares and respondents ≤ shares,"
            " signals_raised counts the raised signals, month a month's first day",
            TEAM_MONTH_KEYS,
            {
                **_unit_interval("educate_share"),
                **_not_negative("respondents", "matured_shares", *SALESY_HORIZON_COUNTS, *SALESY_INDEXES),
                "matured_shares <= shares": "matured_shares <= shares",
                "respondents <= shares": "respondents <= shares",
                **_signal_count(SALESY_SIGNALS_RAISED),
                **_first_of_month(),
            },
        ),
        _suppressed(TEAM_MONTH_KEYS, SALESY_SURVEY_COLUMNS, thresholds),
        _period_coverage(TEAM_MONTH_KEYS),
        _low_volume_not_raised("is_at_risk"),
        no_personal_data(),
        volume_against_last_publish(SALESY_RISK, thresholds),
    ]


def _kpi_reconciliation_query() -> str:
    """Month × team × network groups of the build vs the same groups summed from `fct_shares`, missing groups
    included. A platform count the build leaves null (metrics not collected on the network) is not compared."""
    sums = {
        "shares": "count(*)",
        "potential_reach": "sum(audience_size)",
        "impressions": "sum(impressions)",
        "members_reached": "sum(members_reached)",
    }
    marts = ", ".join(f"{expression} as {column}" for column, expression in sums.items())
    differs = " or ".join(
        [f"built.{column} <> coalesce(marts.{column}, 0)" for column in ("shares", "potential_reach")]
        + [f"built.{column} <> coalesce(marts.{column}, 0)" for column in ("impressions", "members_reached")]
    )
    pairs = ", ".join(f"built.{column} as built_{column}, marts.{column} as marts_{column}" for column in sums)
    return (
        f"with marts as (select share_month as month, team, network, {marts} from {FCT_SHARES}"
        " group by share_month, team, network)"
        f" select coalesce(built.month, marts.month) as month, coalesce(built.team, marts.team) as team,"
        f" coalesce(built.network, marts.network) as network, {pairs}"
        " from {batch} as built full join marts"
        " on built.month = marts.month and built.team = marts.team and built.network = marts.network"
        f" where built.month is null or {differs}"
    )


#: Grain and counts of `consent_coverage` (member consent, issue 13).
CONSENT_KEYS = ("month", "network")
CONSENT_COUNTS = (
    "sharers",
    "sharers_with_valid_token",
    "sharers_expiring",
    "sharers_revoked",
    "sharers_without_consent",
)


def consent_coverage_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    """Consent coverage: one row per month × network; coverage the usable share; no personal data (counts only).
    That the sharers split exactly into those with a usable token, revoked and without consent is dbt's test."""

    return [
        required_columns((*CONSENT_KEYS, *CONSENT_COUNTS, "consent_coverage", "status_as_of")),
        checks(
            "values: counts ≥ 0, coverage = usable / sharers (null only when no night of the month recorded"
            " statuses), month a month's first day",
            CONSENT_KEYS,
            {
                **_not_negative(*CONSENT_COUNTS),
                "coverage = usable / sharers": "consent_coverage is null or abs(consent_coverage -"
                " sharers_with_valid_token::numeric / nullif(sharers, 0)) < 0.0001",
                "coverage null only when unmeasured": "(consent_coverage is null) = (status_as_of is null)",
                **_first_of_month(),
            },
        ),
        _period_coverage(CONSENT_KEYS),
        no_personal_data(),
        volume_against_last_publish(CONSENT_COVERAGE, thresholds),
    ]


# --- the answerable questions (issue 15) ----------------------------------------------------------------------------

TEAM_CLICKS_KEYS = ("month", "team", "motivation")
TEAM_CLICKS_COLUMNS = (
    *TEAM_CLICKS_KEYS,
    "respondents",
    "attributed_shares",
    "attributed_clicks",
    "clicks_per_share",
    *PERIOD_COLUMNS,
)
CONTENT_MEASURES = (
    "sharers",
    "respondents",
    "shares",
    "obligated_share",
    "is_mostly_obligated",
    "engagement_rate",
    "click_through_rate",
    "is_low_volume",
)
CONTENT_COLUMNS = ("content_id", "content_title", "content_type", *CONTENT_MEASURES)
CONTENT_TYPE_COLUMNS = ("content_type", "contents", *CONTENT_MEASURES)


def _not_shown_under_k(thresholds: Thresholds) -> gx.expectations.ExpectColumnValuesToBeBetween:
    """Views that leave groups under k out entirely: no row has fewer than k respondents (a null one is refused by
    the model's contract)."""
    import great_expectations as gx

    k = int(thresholds.k_anonymity)
    return gx.expectations.ExpectColumnValuesToBeBetween(
        column="respondents",
        min_value=k,
        description=f"k-anonymity: no row has fewer than {k} respondents (smaller groups are not shown at all)",
    )


def team_motivation_clicks_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    """Clicks per share per team and motivation: k-anonymous, weights' parts within the team's surveyed shares,
    clicks per share the ratio of its parts, the month's coverage."""

    keys = TEAM_CLICKS_KEYS
    return [
        required_columns(TEAM_CLICKS_COLUMNS),
        checks(
            "values: counts and clicks_per_share ≥ 0, month a month's first day",
            keys,
            {
                **_not_negative("attributed_shares", "attributed_clicks", "clicks_per_share"),
                **_first_of_month(),
            },
        ),
        _not_shown_under_k(thresholds),
        rule(
            f"Σ attributed_shares over motivations per month × team = the team's surveyed shares in {FCT_SHARES}",
            "with built as (select month, team, sum(attributed_shares) as attributed_shares from {batch}"
            " group by month, team),"
            " surveyed as (select shares.share_month as month, shares.team, count(distinct shares.share_id) as shares"
            f" from {FCT_SHARE_ATTRIBUTION} as attribution join {FCT_SHARES} as shares using (share_id)"
            f" where attribution.motivation <> '{UNATTRIBUTED}' and attribution.survey_response_token is not null"
            " group by shares.share_month, shares.team)"
            " select built.month, built.team, built.attributed_shares, surveyed.shares as surveyed_shares"
            " from built left join surveyed on surveyed.month = built.month and surveyed.team = built.team"
            f" where surveyed.shares is null or abs(built.attributed_shares - surveyed.shares)"
            f" > {float(thresholds.attribution_sum_tolerance)!r}",
        ),
        _period_coverage(keys),
        no_personal_data(),
        volume_against_last_publish(TEAM_MOTIVATION_CLICKS, thresholds),
    ]


def _content_expectations(
    keys: tuple[str], columns: tuple[str, ...], relation: str, thresholds: Thresholds
) -> list[gx.expectations.Expectation]:

    return [
        required_columns(columns),
        checks(
            "values: obligated_share and rates in [0, 1], is_mostly_obligated = obligated_share > 0.5",
            keys,
            {
                **_unit_interval("obligated_share", "engagement_rate", "click_through_rate"),
                "is_mostly_obligated = obligated_share > 0.5": "is_mostly_obligated is not distinct from (obligated_share > 0.5)",
            },
        ),
        _not_shown_under_k(thresholds),
        no_personal_data(),
        volume_against_last_publish(relation, thresholds),
    ]


def content_obligation_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    """Obligation and performance per content piece (k-anonymous; content_type `unknown` when not exported)."""
    return _content_expectations(("content_id",), CONTENT_COLUMNS, CONTENT_OBLIGATION, thresholds)


def content_type_obligation_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    """Obligation and performance per content type (k-anonymous)."""
    return _content_expectations(("content_type",), CONTENT_TYPE_COLUMNS, CONTENT_TYPE_OBLIGATION, thresholds)
