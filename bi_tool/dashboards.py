"""The stakeholder dashboard as code, and the writer of its Superset YAML bundle (`bi_tool/bundle/`, committed).

Why this shape:
- Every object has a fixed UUID written here, so an import updates the same database connection, datasets,
  charts and dashboard every time (Superset matches on UUID), and a renamed chart stays the same chart.
- The bundle holds no numeric ids (the `chartId`s in the layout are placeholders that the import remaps) and no
  secret: the database file carries a placeholder URI; `bi_tool.provision` puts the real one (from the warehouse
  URL, user `bi_reader`) in at import time and hands the password to Superset separately.
- Datasets are the `bi` views, one per dbt `bi` model; they declare only what the charts need (readable labels,
  saved metrics with units). The import then syncs each dataset's columns from the view itself, so analysts
  exploring in Superset see every published column. `tests/test_dashboards_bundle.py` checks every column used
  here against the dbt contracts in dbt_project/models/bi/*.yml.
- Per-motivation figures sum the *attributed* parts (`attributed_shares`, …), which add up exactly to the totals;
  totals per month and network come from `bi.monthly_totals`, per team from `bi.advocacy_kpis`.
- Periods: headline tiles and their "vs the month before" keep complete months only (`is_complete`); every chart
  that shows months groups by the calculated column `period`, which marks a month not yet complete as partial.
  Native filters (period, team, network) are declared here too, each scoped to the charts whose dataset has its
  column (`NATIVE_FILTERS`).
- Each chart carries a `query_context` (what `POST /api/v1/chart/data` runs) built from the same spec as its
  form data; the acceptance test runs every one of them with `force: true` against the real Superset.

`python -m bi_tool.dashboards write` regenerates the bundle; `python -m bi_tool.dashboards status` lists the charts
on the dashboard with the view each one reads.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sharewhy import settings

BUNDLE_DIR = Path(__file__).resolve().parent / "bundle"
DBT_BI_MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "bi"

#: The survey confidentiality threshold (settings.K_ANONYMITY) and the flags' thresholds (dbt vars), as the texts
#: state them; a change in dbt_project.yml shows up as a stale bundle (tests/test_dashboards_bundle.py).
K = settings.K_ANONYMITY
OBLIGATION_MIN_SIGNALS = int(settings.DBT_VARS["obligation_signals"]["min_signals"])
SALESY_MIN_SIGNALS = int(settings.DBT_VARS["salesy_risk"]["min_signals"])

VERSION = "1.0.0"
#: Fixed, so that the bundle is byte-for-byte reproducible.
BUNDLE_TIMESTAMP = "2026-11-26T00:00:00+00:00"

#: Where the database file's URI is replaced at import time (see bi_tool.provision.sqlalchemy_uri).
PLACEHOLDER_URI = "postgresql+psycopg2://bi_reader@warehouse.invalid:5432/sharewhy"

DATABASE_UUID = "3c24bcc3-85e2-4393-a5f9-b4111b9f806f"
DATABASE_NAME = "sharewhy warehouse (bi)"
DATABASE_FILE = "databases/sharewhy_warehouse_bi.yaml"
BI_SCHEMA = "bi"

#: One colour per motivation on every chart (dashboard label colours).
MOTIVATION_LABELS = {
    "obligated": "Obligated",
    "good_news": "Good news",
    "proud": "Proud",
    "educate": "Educate customers",
    "unattributed": "Unattributed",
}
LABEL_COLORS = {
    "Obligated": "#E04355",
    "Good news": "#5AC189",
    "Proud": "#1FA8C9",
    "Educate customers": "#A868B7",
    "Unattributed": "#B2B2B2",
    "Lift": "#454E7C",
    "95 % interval, low": "#A1A6BD",
    "95 % interval, high": "#A1A6BD",
    # the lift chart's interval bar stands on an invisible bar from 0 to the interval's lower end (charts colour
    # a metric's series by the metric's name)
    "er_lift_below_interval": "rgba(0, 0, 0, 0)",
    "er_lift_interval": "#A1A6BD",
    "er_lift": "#454E7C",
    "er_lift_lower": "#A1A6BD",
    "er_lift_upper": "#A1A6BD",
    "linkedin": "#1FA8C9",
    "x": "#454E7C",
    "all": "#666666",
}


# --- the model: datasets, metrics, charts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # PostgreSQL type, as in the dbt contract (data_type)
    verbose_name: str
    description: str = ""
    is_dttm: bool = False
    expression: str | None = None  # a calculated column (not in the view): SQL over the view's columns


@dataclass(frozen=True)
class Metric:
    name: str
    expression: str
    verbose_name: str
    d3format: str
    description: str


@dataclass(frozen=True)
class Dataset:
    model: str  # the dbt model = the view bi.<model>
    uuid: str
    description: str
    columns: tuple[Column, ...]
    metrics: tuple[Metric, ...]
    main_dttm_col: str | None = None

    @property
    def file(self) -> str:
        return f"datasets/{DATABASE_NAME_SLUG}/{self.model}.yaml"

    def physical_columns(self) -> list[Column]:
        return [column for column in self.columns if column.expression is None]

    def metric(self, name: str) -> Metric:
        return next(metric for metric in self.metrics if metric.name == name)


@dataclass(frozen=True)
class Chart:
    uuid: str
    title: str
    dataset: Dataset
    viz_type: str
    params: dict[str, Any]
    query: dict[str, Any]  # the query object of its query_context
    description: str
    width: int  # grid columns of 12
    height: int  # grid rows of 8 px
    extra_queries: tuple[dict[str, Any], ...] = ()  # a mixed chart's second query

    @property
    def queries(self) -> list[dict[str, Any]]:
        return [self.query, *self.extra_queries]

    @property
    def file(self) -> str:
        slug = "".join(c if c.isalnum() else "_" for c in self.title).strip("_")
        while "__" in slug:
            slug = slug.replace("__", "_")
        return f"charts/{slug}_{self.uuid[:8]}.yaml"

    def columns_used(self) -> set[str]:
        """Physical columns of the view this chart's query reads (directly or through calculated columns/metrics)."""
        used: set[str] = set()
        texts = [json.dumps(self.queries)]
        for metric in self.dataset.metrics:
            if _mentions(texts[0], metric.name):
                texts.append(metric.expression)
        for column in self.dataset.columns:
            if column.expression is not None and _mentions(texts[0], column.name):
                texts.append(column.expression)
        text = " ".join(texts)
        for column in self.dataset.physical_columns():
            if _mentions(text, column.name):
                used.add(column.name)
        return used


DATABASE_NAME_SLUG = "sharewhy_warehouse_bi"


def _mentions(text: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text) is not None


def _case_label(column: str, labels: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{value}' THEN '{label}'" for value, label in labels.items())
    return f"CASE {column} {whens} ELSE {column} END"


def _pct_text(column: str) -> str:
    """A lift (1.0 = baseline) as text with its interval: '1.38 (1.19 to 1.57)'; why it is missing otherwise."""
    return (
        f"CASE WHEN is_suppressed THEN 'suppressed (fewer than {K} respondents)' "
        f"WHEN {column} IS NULL THEN lift_note "
        f"ELSE to_char({column}, 'FM990.00') || '  (' || to_char({column}_lower, 'FM990.00') || ' to ' "
        f"|| to_char({column}_upper, 'FM990.00') || ')' END"
    )


#: The month as a label that says when the month is not complete yet: '2026-11', '2026-12 (partial: 2 days)'.
#: Every month-grain dataset has it as the calculated column `period` (the x-axis of monthly charts and the
#: dashboard's period filter); 'YYYY-MM' first, so the labels sort in time order.
PERIOD_EXPRESSION = (
    "to_char(month, 'YYYY-MM') || CASE WHEN is_complete THEN '' ELSE ' (partial: ' || days_covered || ' days)' END"
)


def _period_columns() -> tuple[Column, ...]:
    return (
        Column(
            "is_complete",
            "boolean",
            "Month complete",
            "Whether the data covers the whole month (false for the running month).",
        ),
        Column("days_covered", "integer", "Days covered", "Days of the month the data covers."),
        Column(
            "period",
            "text",
            "Month",
            "The month, marked 'partial' while it is not complete.",
            expression=PERIOD_EXPRESSION,
        ),
    )


MOTIVATION_ATTRIBUTION = Dataset(
    model="motivation_attribution",
    uuid="159d4cb1-dc62-4e11-b868-6bc698e4cd1e",
    description=(
        "Month × network × motivation: the part of the month × network's shares, impressions, engagements and "
        "clicks attributed to the motivation by the sharers' motivation weights (the totals are in "
        "monthly_totals; the parts add up to them). Groups with fewer than "
        f"{K} survey respondents are not split by motivation (all on 'Unattributed')."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", "First day of the month (UTC) the shares were made in.", is_dttm=True),
        Column("network", "text", "Network", "The social network the shares were made to."),
        Column("motivation", "text", "Motivation (code)", "obligated, good_news, proud, educate or unattributed."),
        Column(
            "respondents",
            "integer",
            "Surveyed sharers in the group",
            "Distinct surveyed sharers behind the month × network group (below 5: no motivation split).",
        ),
        Column("attributed_shares", "numeric", "Shares (attributed)"),
        Column("attributed_impressions", "numeric", "Impressions (attributed)"),
        Column("attributed_engagements", "numeric", "Engagements (attributed)"),
        Column("attributed_clicks", "numeric", "Clicks (attributed)"),
        *_period_columns(),
        Column(
            "motivation_label",
            "text",
            "Motivation",
            "Why the sharers share, from the motivation survey.",
            expression=_case_label("motivation", MOTIVATION_LABELS),
        ),
    ),
    metrics=(
        Metric(
            "shares",
            "SUM(attributed_shares)",
            "Shares",
            ",.0f",
            "Shares made by employees (attributed parts sum exactly to the totals).",
        ),
        Metric(
            "impressions",
            "SUM(attributed_impressions)",
            "Impressions",
            ",.0f",
            "Platform-reported impressions of the shares, latest night observed.",
        ),
        Metric("engagements", "SUM(attributed_engagements)", "Engagements", ",.0f", "Reactions + comments + reshares."),
        Metric(
            "clicks",
            "SUM(attributed_clicks)",
            "Link clicks (network-reported)",
            ",.0f",
            "Clicks on the shared links, as the networks report them.",
        ),
        Metric(
            "engagement_rate",
            "SUM(attributed_engagements) / NULLIF(SUM(attributed_impressions), 0)",
            "Engagement rate",
            ".2%",
            "Engagements ÷ impressions.",
        ),
        Metric(
            "click_through_rate",
            "SUM(attributed_clicks) / NULLIF(SUM(attributed_impressions), 0)",
            "Click-through rate",
            ".2%",
            "Link clicks ÷ impressions.",
        ),
        Metric(
            "surveyed_sharers",
            "MAX(respondents)",
            "Surveyed sharers",
            ",d",
            "Surveyed sharers behind a month × network group (do not add up across groups).",
        ),
    ),
)

MOTIVATION_LIFT = Dataset(
    model="motivation_lift",
    uuid="0a0bba1a-1eff-468f-b380-ae4c8fabe233",
    description=(
        "Network × share segment × motivation: the engagement and click-through rate of shares by sharers whose "
        "primary motivation it is, against the same content's baseline on the same network (1 = the content's "
        f"rate from its average surveyed share), with 95 % intervals. Groups with fewer than {K} respondents, or "
        f"motivations of fewer than {K} sharers, show no lift; lift_note says why a lift is missing."
    ),
    columns=(
        Column("network", "text", "Network", "A network, or 'all' for every network pooled."),
        Column("share_segment", "text", "Shares", "all, manual, scheduled, nudged or self_initiated."),
        Column("motivation", "text", "Motivation (code)"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("shares", "integer", "Shares in the fit"),
        Column("is_suppressed", "boolean", f"Suppressed (fewer than {K} respondents)"),
        Column("engagement_rate_lift", "numeric", "Engagement-rate lift"),
        Column("engagement_rate_lift_lower", "numeric", "Engagement-rate lift, 95 % lower"),
        Column("engagement_rate_lift_upper", "numeric", "Engagement-rate lift, 95 % upper"),
        Column("click_through_rate_lift", "numeric", "Click-through-rate lift"),
        Column("click_through_rate_lift_lower", "numeric", "Click-through-rate lift, 95 % lower"),
        Column("click_through_rate_lift_upper", "numeric", "Click-through-rate lift, 95 % upper"),
        Column("motivation_label", "text", "Motivation", expression=_case_label("motivation", MOTIVATION_LABELS)),
        Column(
            "segment_label",
            "text",
            "Shares",
            expression=_case_label(
                "share_segment",
                {
                    "all": "All shares",
                    "manual": "Posted by hand",
                    "scheduled": "Scheduled by the platform",
                    "nudged": "Prompted by a campaign",
                    "self_initiated": "Self-initiated",
                },
            ),
        ),
        Column(
            "engagement_rate_lift_text",
            "text",
            "Engagement-rate lift (95 % interval)",
            expression=_pct_text("engagement_rate_lift"),
        ),
        Column(
            "click_through_rate_lift_text",
            "text",
            "Click-through-rate lift (95 % interval)",
            expression=_pct_text("click_through_rate_lift"),
        ),
    ),
    metrics=(
        Metric(
            "er_lift",
            "MAX(engagement_rate_lift)",
            "Lift",
            ".2f",
            "Engagement rate of shares by sharers of this primary motivation ÷ the content's baseline (1 = baseline).",
        ),
        Metric(
            "er_lift_lower",
            "MAX(engagement_rate_lift_lower)",
            "95 % interval, low",
            ".2f",
            "Lower end of the 95 % interval of the engagement-rate lift.",
        ),
        Metric(
            "er_lift_upper",
            "MAX(engagement_rate_lift_upper)",
            "95 % interval, high",
            ".2f",
            "Upper end of the 95 % interval of the engagement-rate lift.",
        ),
        Metric(
            "er_lift_below_interval",
            "MAX(engagement_rate_lift_lower)",
            "95 % interval from",
            ".2f",
            "From 0 to the lower end of the interval: the invisible base the interval bar stands on.",
        ),
        Metric(
            "er_lift_interval",
            "MAX(engagement_rate_lift_upper) - MAX(engagement_rate_lift_lower)",
            "95 % interval width",
            ".2f",
            "Width of the 95 % interval of the engagement-rate lift (drawn from its lower to its upper end).",
        ),
    ),
)

TEAM_MORALE = Dataset(
    model="team_morale",
    uuid="cb3d4dc1-5eff-4701-ab6a-d305a97a49ff",
    description=(
        "Team × survey wave: respondents, mean construct scores, and morale (intrinsic motivation = good news + "
        f"proud, against obligated). Team × wave cells with fewer than {K} respondents are suppressed."
    ),
    columns=(
        Column("team", "text", "Team"),
        Column("wave", "text", "Survey wave (form)"),
        Column("wave_number", "integer", "Wave number"),
        Column("wave_started_on", "date", "Wave started on", is_dttm=True),
        Column("respondents", "integer", "Respondents"),
        Column("is_suppressed", "boolean", f"Suppressed (fewer than {K} respondents)"),
        Column("intrinsic_share", "numeric", "Intrinsic motivation (good news + proud)"),
        Column("obligated_share", "numeric", "Obligated share"),
        Column("intrinsic_share_change", "numeric", "Change in intrinsic motivation since the previous wave"),
        Column(
            "wave_label",
            "text",
            "Survey wave",
            expression="to_char(wave_started_on, 'YYYY-MM-DD') || ' (wave ' || wave_number || ')'",
        ),
    ),
    metrics=(
        Metric(
            "intrinsic_share",
            "MAX(intrinsic_share)",
            "Intrinsic motivation",
            ".0%",
            "Mean of the respondents' good news + proud motivation weights (0–100 %); empty when suppressed.",
        ),
        Metric(
            "obligated_share",
            "MAX(obligated_share)",
            "Obligated",
            ".0%",
            "Mean of the respondents' obligated weight; empty when suppressed.",
        ),
    ),
)

ADVOCACY_KPIS = Dataset(
    model="advocacy_kpis",
    uuid="6153ef07-3d1d-4600-9fc3-440650fd4150",
    description=(
        "Month × team × network: participation (sharers ÷ enrolled), shares, potential reach, impressions, "
        "members reached, engagements, clicks, earned media value. Reach kinds are never added together. "
        "No survey-derived value."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", is_dttm=True),
        Column("team", "text", "Team"),
        Column("network", "text", "Network"),
        Column("enrolled", "integer", "Enrolled employees"),
        Column("sharers", "integer", "Sharers"),
        Column("shares", "bigint", "Shares"),
        Column("potential_reach", "bigint", "Potential reach"),
        Column("impressions", "bigint", "Impressions"),
        Column("engagements", "bigint", "Engagements"),
        Column("clicks", "bigint", "Link clicks (network-reported)"),
        Column("earned_media_value", "numeric", "Earned media value"),
        Column("emv_currency", "text", "EMV currency"),
        Column("tracking_link_clicks", "bigint", "Tracking-link clicks (Bitly)"),
        *_period_columns(),
    ),
    metrics=(
        Metric(
            "participation",
            "SUM(sharers)::numeric / NULLIF(SUM(enrolled), 0)",
            "Participation",
            ".0%",
            "Employees who shared ÷ employees enrolled, per network (do not pool networks: a person sharing "
            "on two networks counts on each).",
        ),
        Metric("shares", "SUM(shares)", "Shares", ",.0f", "Shares made through the advocacy platform."),
        Metric(
            "potential_reach",
            "SUM(potential_reach)",
            "Potential reach",
            ".3s",
            "Σ of the sharers' audience sizes at share time: an upper bound, not people reached.",
        ),
        Metric(
            "impressions",
            "SUM(impressions)",
            "Impressions",
            ".3s",
            "Times the posts were shown, as the platforms report (latest night).",
        ),
        Metric(
            "clicks",
            "SUM(clicks)",
            "Link clicks (network-reported)",
            ",.0f",
            "Link clicks as the networks report them.",
        ),
        Metric(
            "tracking_link_clicks",
            "SUM(tracking_link_clicks)",
            "Tracking-link clicks (Bitly)",
            ",.0f",
            "Clicks on the shares' tracking links, as Bitly counts them.",
        ),
        Metric(
            "earned_media_value",
            "SUM(earned_media_value)",
            "Earned media value",
            "$,.0f",
            "impressions, engagements and clicks × the unit values of seed emv_unit_values (USD): a "
            "convention for comparing with paid media, not revenue.",
        ),
    ),
)

OBLIGATION_SIGNALS = Dataset(
    model="obligation_signals",
    uuid="5eb480fe-42c5-4776-91fa-6076bfd40b86",
    description=(
        "Team × month: behavioural signals that a team shares out of obligation (scheduled, unedited, nudged "
        "sharing, low engagement, a high obligated share), and the flag when enough are raised."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", is_dttm=True),
        Column("team", "text", "Team"),
        Column("shares", "integer", "Shares"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("signals_raised", "integer", "Signals raised (of 5)"),
        Column("is_flagged", "boolean", "Flagged"),
        Column("is_low_volume", "boolean", "Too few shares to judge"),
        *_period_columns(),
    ),
    metrics=(
        Metric(
            "signals_raised",
            "MAX(CASE WHEN is_low_volume THEN NULL ELSE signals_raised END)",
            "Obligation signals raised",
            ",d",
            "How many of the 5 obligation signals the team raised in the month; empty when the team shared too "
            "little that month to judge.",
        ),
        Metric(
            "flagged_team_months",
            "SUM(CASE WHEN is_flagged THEN 1 ELSE 0 END)",
            "Flagged team-months",
            ",d",
            "Team × months flagged for obligation.",
        ),
    ),
)

SALESY_RISK = Dataset(
    model="salesy_risk",
    uuid="8614729a-86c9-4e42-9085-c8fb6b9d8f42",
    description=(
        "Team × month: where educational sharing risks turning salesy (low engagement, link pushing, a high "
        "educate share), and the flag when enough signals are raised."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", is_dttm=True),
        Column("team", "text", "Team"),
        Column("shares", "integer", "Shares"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("signals_raised", "integer", "Signals raised (of 3)"),
        Column("is_at_risk", "boolean", "At risk"),
        Column("is_low_volume", "boolean", "Too few shares to judge"),
        *_period_columns(),
    ),
    metrics=(
        Metric(
            "signals_raised",
            "MAX(CASE WHEN is_low_volume THEN NULL ELSE signals_raised END)",
            "Salesy-risk signals raised",
            ",d",
            "How many of the 3 salesy-risk signals the team raised in the month; empty when the team shared too "
            "little that month to judge.",
        ),
    ),
)

MONTHLY_TOTALS = Dataset(
    model="monthly_totals",
    uuid="4f0c8a52-7a4e-4d55-9a1e-0d2b7c6e9f31",
    description=(
        "Month × network: the totals of shares, impressions, engagements and clicks (each additive over months "
        "and networks), and the surveyed sharers behind them."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", is_dttm=True),
        Column("network", "text", "Network"),
        Column("shares", "bigint", "Shares"),
        Column("impressions", "bigint", "Impressions"),
        Column("engagements", "bigint", "Engagements"),
        Column("clicks", "bigint", "Link clicks (network-reported)"),
        Column("respondents", "integer", "Surveyed sharers"),
        *_period_columns(),
    ),
    metrics=(
        Metric("shares", "SUM(shares)", "Shares", ",.0f", "Shares of company content by employees."),
        Metric(
            "impressions",
            "SUM(impressions)",
            "Impressions",
            ".3s",
            "Times the posts were shown, as the networks report (latest night observed).",
        ),
        Metric("engagements", "SUM(engagements)", "Engagements", ",.0f", "Reactions + comments + reshares."),
        Metric(
            "clicks",
            "SUM(clicks)",
            "Link clicks (network-reported)",
            ",.0f",
            "Clicks on the shared links, as the networks report them.",
        ),
        Metric(
            "engagement_rate",
            "SUM(engagements)::numeric / NULLIF(SUM(impressions), 0)",
            "Engagement rate",
            ".2%",
            "Engagements ÷ impressions.",
        ),
        Metric(
            "click_through_rate",
            "SUM(clicks)::numeric / NULLIF(SUM(impressions), 0)",
            "Click-through rate",
            ".2%",
            "Network-reported link clicks ÷ impressions.",
        ),
        Metric(
            "surveyed_sharers",
            "MAX(respondents)",
            "Surveyed sharers",
            ",d",
            "Surveyed sharers behind a month × network (distinct people: do not add up across rows).",
        ),
    ),
)

TEAM_MOTIVATION_CLICKS = Dataset(
    model="team_motivation_clicks",
    uuid="9b7e2f40-3c1d-4a8e-8f6b-5d2a1c0e7b64",
    description=(
        "Month × team × motivation: shares and network-reported clicks attributed to each motivation by the "
        f"sharers' motivation weights, and clicks per share. Team-months with fewer than {K} surveyed sharers are "
        "not shown."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", is_dttm=True),
        Column("team", "text", "Team"),
        Column("motivation", "text", "Motivation (code)"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("attributed_shares", "numeric", "Shares (attributed)"),
        Column("attributed_clicks", "numeric", "Clicks (attributed)"),
        *_period_columns(),
        Column("motivation_label", "text", "Motivation", expression=_case_label("motivation", MOTIVATION_LABELS)),
        Column(
            "is_latest_complete_month",
            "boolean",
            "Latest complete month",
            "Whether the row's month is the latest month the data covers completely.",
            expression=(
                f"month = (SELECT max(month) FROM {BI_SCHEMA}.team_motivation_clicks AS latest "
                "WHERE latest.is_complete)"
            ),
        ),
    ),
    metrics=(
        Metric(
            "clicks_per_share",
            "SUM(attributed_clicks) / NULLIF(SUM(attributed_shares), 0)",
            "Clicks per share",
            ".2f",
            "Network-reported link clicks per share, both attributed to the motivation.",
        ),
    ),
)

CONTENT_OBLIGATION = Dataset(
    model="content_obligation",
    uuid="d3a5c7e9-1b2f-4c6d-8e0a-7f9b3d5c1e28",
    description=(
        "Per piece of content: how much of its sharing comes from obligation (the sharers' mean obligated "
        f"weight), and how it performs. Content shared by fewer than {K} surveyed sharers is not shown."
    ),
    columns=(
        Column("content_id", "text", "Content id"),
        Column("content_title", "text", "Content"),
        Column("content_type", "text", "Content type"),
        Column("sharers", "integer", "Sharers"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("shares", "integer", "Shares"),
        Column("obligated_share", "numeric", "Obligated share of the sharing"),
        Column("is_mostly_obligated", "boolean", "Mostly shared out of obligation"),
        Column("engagement_rate", "numeric", "Engagement rate"),
        Column("click_through_rate", "numeric", "Click-through rate"),
        Column("is_low_volume", "boolean", "Too few shares to judge"),
        Column(
            "verdict",
            "text",
            "Mostly obligated?",
            expression=(
                "CASE WHEN is_low_volume THEN 'too few shares to judge' "
                "WHEN is_mostly_obligated THEN 'mostly obligated' ELSE 'no' END"
            ),
        ),
    ),
    metrics=(),
)

CONTENT_TYPE_OBLIGATION = Dataset(
    model="content_type_obligation",
    uuid="6e8f0a2c-4d5b-4f7e-9a1c-3b5d7f9e1a46",
    description=(
        "Per content type: how much of its sharing comes from obligation and how it performs. Types shared by "
        f"fewer than {K} surveyed sharers are not shown."
    ),
    columns=(
        Column("content_type", "text", "Content type"),
        Column("sharers", "integer", "Sharers"),
        Column("respondents", "integer", "Surveyed sharers"),
        Column("shares", "integer", "Shares"),
        Column("obligated_share", "numeric", "Obligated share of the sharing"),
        Column("is_mostly_obligated", "boolean", "Mostly shared out of obligation"),
        Column("engagement_rate", "numeric", "Engagement rate"),
        Column("click_through_rate", "numeric", "Click-through rate"),
        Column("is_low_volume", "boolean", "Too few shares to judge"),
        Column(
            "type_label",
            "text",
            "Content type",
            expression="content_type || CASE WHEN is_low_volume THEN ' (too few shares to judge)' ELSE '' END",
        ),
    ),
    metrics=(
        Metric(
            "obligated_share",
            "MAX(obligated_share)",
            "Obligated share",
            ".0%",
            "The sharers' mean obligated motivation weight for this type of content.",
        ),
        Metric("engagement_rate", "MAX(engagement_rate)", "Engagement rate", ".2%", "Engagements ÷ impressions."),
        Metric(
            "click_through_rate",
            "MAX(click_through_rate)",
            "Click-through rate",
            ".2%",
            "Network-reported link clicks ÷ impressions.",
        ),
    ),
)

DATASETS: tuple[Dataset, ...] = (
    MOTIVATION_ATTRIBUTION,
    MOTIVATION_LIFT,
    TEAM_MORALE,
    ADVOCACY_KPIS,
    OBLIGATION_SIGNALS,
    SALESY_RISK,
    MONTHLY_TOTALS,
    TEAM_MOTIVATION_CLICKS,
    CONTENT_OBLIGATION,
    CONTENT_TYPE_OBLIGATION,
)


# --- chart builders: form data (params) and the matching query ------------------------------------------------------

_NO_TIME_FILTER = {
    "clause": "WHERE",
    "comparator": "No filter",
    "expressionType": "SIMPLE",
    "operator": "TEMPORAL_RANGE",
}
_EXTRAS = {"having": "", "where": ""}

#: column → value: `==` for text, `IS TRUE` / `IS FALSE` for a boolean.
Filters = dict[str, str | bool]


def _query_filter(column: str, value: str | bool) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"col": column, "op": "IS TRUE" if value else "IS FALSE"}
    return {"col": column, "op": "==", "val": value}


def _base_query(dataset: Dataset, where: Filters | None = None, **fields: Any) -> dict[str, Any]:
    filters = [_query_filter(column, value) for column, value in (where or {}).items()]
    if dataset.main_dttm_col:
        filters.append({"col": dataset.main_dttm_col, "op": "TEMPORAL_RANGE", "val": "No filter"})
    return {
        "filters": filters,
        "extras": dict(_EXTRAS),
        "applied_time_extras": {},
        "columns": [],
        "metrics": [],
        "orderby": [],
        "annotation_layers": [],
        "row_limit": 10_000,
        "series_limit": 0,
        "order_desc": True,
        "url_params": {},
        "custom_params": {},
        "custom_form_data": {},
        "post_processing": [],
        **fields,
    }


def _adhoc_filters(dataset: Dataset, where: Filters | None = None) -> list[dict[str, Any]]:
    filters = []
    for column, value in (where or {}).items():
        operator = ("IS TRUE" if value else "IS FALSE") if isinstance(value, bool) else "=="
        filters.append(
            {
                "clause": "WHERE",
                "comparator": None if isinstance(value, bool) else value,
                "expressionType": "SIMPLE",
                "operator": operator,
                "subject": column,
                "filterOptionName": f"filter_{column}_{str(value).lower()}",
                "isExtra": False,
                "isNew": False,
            }
        )
    if dataset.main_dttm_col:
        filters.append({**_NO_TIME_FILTER, "subject": dataset.main_dttm_col})
    return filters


#: Headline figures and trend comparisons count complete months only (the running month would read as a fall).
COMPLETE: Filters = {"is_complete": True}


def big_number_trend(
    uuid: str,
    title: str,
    dataset: Dataset,
    metric: str,
    where: Filters,
    subheader: str,
    description: str,
    width: int = 3,
) -> Chart:
    """The latest month's value (of the months `where` keeps), with the monthly trend line under it."""
    x = dataset.main_dttm_col
    params = {
        "viz_type": "big_number",
        "x_axis": x,
        "time_grain_sqla": "P1M",
        "metric": metric,
        "adhoc_filters": _adhoc_filters(dataset, where),
        "header_font_size": 0.3,
        "subheader_font_size": 0.125,
        "subheader": subheader,
        "show_trend_line": True,
        "start_y_axis_at_zero": True,
        "compare_lag": 1,
        "compare_suffix": "vs the month before",
        "show_timestamp": True,
        "time_format": "%b %Y",
        "y_axis_format": dataset.metric(metric).d3format,
        "rolling_type": None,
    }
    axis = {"timeGrain": "P1M", "columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}
    query = _base_query(dataset, where, columns=[axis], metrics=[metric], extras={**_EXTRAS, "time_grain_sqla": "P1M"})
    return Chart(uuid, title, dataset, "big_number", params, query, description, width=width, height=30)


def _category_axis(x: str) -> dict[str, Any]:
    return {"columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}


def monthly_series(
    uuid: str,
    title: str,
    dataset: Dataset,
    metric: str,
    groupby: list[str],
    *,
    kind: str,
    share_of_total: bool,
    y_title: str,
    description: str,
    width: int = 6,
    height: int = 56,
) -> Chart:
    """Per month (the `period` label, which marks a partial month): bars stacked by `groupby` (`kind` 'bar';
    `share_of_total`: each part as % of the month), or lines."""
    x = "period"
    viz = {"bar": "echarts_timeseries_bar", "line": "echarts_timeseries_line"}[kind]
    params = {
        "viz_type": viz,
        "x_axis": x,
        "x_axis_sort_asc": True,
        "metrics": [metric],
        "groupby": groupby,
        "adhoc_filters": _adhoc_filters(dataset),
        "order_desc": True,
        "row_limit": 10_000,
        "truncate_metric": True,
        "show_empty_columns": True,
        "annotation_layers": [],
        "contributionMode": "row" if share_of_total else None,
        "x_axis_title": "Month",
        "x_axis_title_margin": 30,
        "y_axis_title": y_title,
        "y_axis_title_margin": 50,
        "y_axis_title_position": "Left",
        "xAxisLabelRotation": 0,
        "y_axis_format": ".0%" if share_of_total else dataset.metric(metric).d3format,
        "rich_tooltip": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "color_scheme": "supersetColors",
        "zoomable": False,
        "show_value": False,
        "sort_series_type": "sum",
        "sort_series_ascending": False,
    }
    if kind == "bar":
        params.update({"orientation": "vertical", "stack": "Stack", "only_total": True})
    else:
        params.update({"markerEnabled": True, "markerSize": 8, "seriesType": "line"})
    if share_of_total:
        params["y_axis_bounds"] = [0, 1]
    query = _base_query(
        dataset, columns=[_category_axis(x), *groupby], metrics=[metric], series_columns=groupby, orderby=[[x, True]]
    )
    return Chart(uuid, title, dataset, viz, params, query, description, width, height)


REFERENCE_LINE_AT_ONE = {
    "name": "1.00 = the content's baseline",
    "annotationType": "FORMULA",
    "sourceType": "",
    "value": "1",
    "overrides": {"time_range": None},
    "show": True,
    "showLabel": True,
    "showMarkers": False,
    "hideLine": False,
    "titleColumn": "",
    "descriptionColumns": [],
    "timeColumn": "",
    "intervalEndColumn": "",
    "color": "#E04355",
    "opacity": "",
    "style": "dashed",
    "width": 2,
}


def interval_bars(
    uuid: str,
    title: str,
    dataset: Dataset,
    x: str,
    estimate: str,
    below: str,
    interval: str,
    where: Filters,
    *,
    y_title: str,
    description: str,
    width: int = 6,
    height: int = 56,
) -> Chart:
    """Per category of `x`: its interval as a bar from the lower to the upper end (a stack of an invisible
    `below` and the `interval` width), the estimate as a labelled marker on it, and a dashed line at 1.0."""
    fmt = dataset.metric(estimate).d3format
    params = {
        "viz_type": "mixed_timeseries",
        "x_axis": x,
        "x_axis_sort_asc": True,
        "metrics": [below, interval],
        "groupby": [],
        "adhoc_filters": _adhoc_filters(dataset, where),
        "metrics_b": [estimate],
        "groupby_b": [],
        "adhoc_filters_b": _adhoc_filters(dataset, where),
        "seriesType": "bar",
        "stack": "Stack",
        "show_value": False,
        "markerEnabled": False,
        "yAxisIndex": 0,
        "seriesTypeB": "scatter",
        "stackB": None,
        "show_valueB": True,
        "markerEnabledB": True,
        "markerSizeB": 14,
        "yAxisIndexB": 0,
        "order_desc": True,
        "order_desc_b": True,
        "row_limit": 10_000,
        "row_limit_b": 10_000,
        "truncate_metric": True,
        "truncate_metric_b": True,
        "annotation_layers": [REFERENCE_LINE_AT_ONE],
        "x_axis_title": "",
        "y_axis_title": y_title,
        "y_axis_title_margin": 40,
        "y_axis_title_position": "Left",
        "y_axis_format": fmt,
        "y_axis_format_secondary": fmt,
        "rich_tooltip": True,
        "show_legend": False,
        "color_scheme": "supersetColors",
        "zoomable": False,
        "truncateYAxis": False,
        "minorTicks": True,
        "xAxisLabelInterval": 0,
    }
    axis = _category_axis(x)
    intervals = _base_query(
        dataset, where, columns=[axis], metrics=[below, interval], series_columns=[], orderby=[[x, True]]
    )
    estimates = _base_query(dataset, where, columns=[axis], metrics=[estimate], series_columns=[], orderby=[[x, True]])
    return Chart(
        uuid,
        title,
        dataset,
        "mixed_timeseries",
        params,
        intervals,
        description,
        width,
        height,
        extra_queries=(estimates,),
    )


def heatmap(
    uuid: str,
    title: str,
    dataset: Dataset,
    x: str,
    y: str,
    metric: str,
    *,
    colors: str,
    bounds: tuple[float | None, float | None],
    description: str,
    where: Filters | None = None,
    every_x_label: bool = False,
    width: int = 6,
    height: int = 50,
) -> Chart:
    """`every_x_label`: label every column (few categories), rather than as many as fit."""
    params = {
        "viz_type": "heatmap_v2",
        "x_axis": x,
        "groupby": y,
        "metric": metric,
        "adhoc_filters": _adhoc_filters(dataset, where),
        "row_limit": 10_000,
        "sort_x_axis": "alpha_asc",
        "sort_y_axis": "alpha_asc",
        "normalize_across": "heatmap",
        "legend_type": "continuous",
        "linear_color_scheme": colors,
        "xscale_interval": 1 if every_x_label else -1,
        "yscale_interval": -1,
        "left_margin": 130,
        "bottom_margin": 45,
        "value_bounds": list(bounds),
        "y_axis_format": dataset.metric(metric).d3format,
        "show_legend": True,
        "show_percentage": False,
        "show_values": True,
        "normalized": False,
        "border_width": 1,
        "border_color": {"r": 255, "g": 255, "b": 255, "a": 1},
    }
    query = _base_query(dataset, where, columns=[x, y], metrics=[metric], orderby=[[x, True], [y, True]])
    return Chart(uuid, title, dataset, "heatmap_v2", params, query, description, width, height)


def category_bars(
    uuid: str,
    title: str,
    dataset: Dataset,
    x: str,
    metrics: list[str],
    *,
    y_title: str,
    y_format: str,
    description: str,
    width: int = 6,
    height: int = 56,
) -> Chart:
    """Side-by-side bars per category of `x`, one per metric (metrics sharing one axis format)."""
    params = {
        "viz_type": "echarts_timeseries_bar",
        "x_axis": x,
        "x_axis_sort_asc": True,
        "metrics": metrics,
        "groupby": [],
        "adhoc_filters": _adhoc_filters(dataset),
        "order_desc": True,
        "row_limit": 10_000,
        "truncate_metric": True,
        "annotation_layers": [],
        "orientation": "vertical",
        "stack": None,
        "x_axis_title": "",
        "y_axis_title": y_title,
        "y_axis_title_margin": 40,
        "y_axis_title_position": "Left",
        "y_axis_format": y_format,
        "show_value": True,
        "rich_tooltip": True,
        "show_legend": True,
        "legendType": "scroll",
        "legendOrientation": "top",
        "color_scheme": "supersetColors",
        "zoomable": False,
        "xAxisLabelInterval": 0,
    }
    query = _base_query(dataset, columns=[_category_axis(x)], metrics=metrics, series_columns=[], orderby=[[x, True]])
    return Chart(uuid, title, dataset, "echarts_timeseries_bar", params, query, description, width, height)


def table(
    uuid: str,
    title: str,
    dataset: Dataset,
    groupby: list[str],
    metrics: list[str],
    *,
    description: str,
    width: int = 12,
    height: int = 60,
) -> Chart:
    """Aggregated rows: one per combination of `groupby`, latest month first."""
    params = {
        "viz_type": "table",
        "query_mode": "aggregate",
        "groupby": groupby,
        "metrics": metrics,
        "all_columns": [],
        "percent_metrics": [],
        "adhoc_filters": _adhoc_filters(dataset),
        "order_by_cols": [],
        "row_limit": 10_000,
        "server_page_length": 10,
        "page_length": 10,
        "order_desc": True,
        "show_cell_bars": True,
        "color_pn": True,
        "allow_rearrange_columns": False,
        "include_search": False,
        "column_config": {metric: {"d3NumberFormat": dataset.metric(metric).d3format} for metric in metrics},
    }
    query = _base_query(dataset, columns=groupby, metrics=metrics, orderby=[[groupby[0], False], [metrics[0], False]])
    return Chart(uuid, title, dataset, "table", params, query, description, width, height)


def raw_table(
    uuid: str,
    title: str,
    dataset: Dataset,
    columns: list[str],
    where: Filters,
    order_by: list[tuple[str, bool]],
    *,
    description: str,
    page_length: int,
    width: int = 12,
    height: int = 60,
    formats: dict[str, str] | None = None,
) -> Chart:
    """The rows themselves (no aggregation), `columns` in order (`formats`: column → d3 number format)."""
    params = {
        "viz_type": "table",
        "query_mode": "raw",
        "all_columns": columns,
        "groupby": [],
        "metrics": [],
        "adhoc_filters": _adhoc_filters(dataset, where),
        "order_by_cols": [json.dumps([column, ascending]) for column, ascending in order_by],
        "row_limit": 10_000,
        "server_page_length": page_length,
        "page_length": page_length,
        "show_cell_bars": False,
        "color_pn": False,
        "allow_rearrange_columns": False,
        "include_search": False,
        "column_config": {column: {"d3NumberFormat": fmt} for column, fmt in (formats or {}).items()},
    }
    query = _base_query(dataset, where, columns=columns, metrics=None, orderby=[list(o) for o in order_by])
    return Chart(uuid, title, dataset, "table", params, query, description, width, height)


MA, LIFT, MORALE, KPIS, OBLIGATION, SALESY, TOTALS, TEAM_CLICKS, CONTENT, CONTENT_TYPES = DATASETS

OBLIGATION_TITLE = f"Obligation signals by team and month (of 5; flagged at {OBLIGATION_MIN_SIGNALS} or more)"
SALESY_TITLE = f"Salesy-risk signals by team and month (of 3; at risk at {SALESY_MIN_SIGNALS} or more)"
LIFT_TITLE = "Motivation lift of the engagement rate (1 = the content's baseline, bars: 95 % intervals)"
TEAM_CLICKS_TITLE = "Clicks per share by team and motivation (latest complete month)"

_LATEST = "latest complete month"

CHARTS: tuple[Chart, ...] = (
    # --- headline figures: the latest complete month, against the month before
    big_number_trend(
        "c5a88c42-6b86-4299-9f6b-5586fdf9b0d4",
        "LinkedIn participation, latest complete month",
        KPIS,
        "participation",
        {"network": "linkedin", **COMPLETE},
        f"{_LATEST}: sharers ÷ enrolled",
        "Share of enrolled employees who shared to LinkedIn in the latest complete month (trend: every "
        "complete month; the running month is left out until it is complete).",
    ),
    big_number_trend(
        "1c92e8e4-af27-486e-bd0e-65d000a18756",
        "Shares",
        KPIS,
        "shares",
        COMPLETE,
        f"{_LATEST}, all networks",
        "Shares of company content by employees in the latest complete month.",
    ),
    big_number_trend(
        "009f98c3-90a7-4f52-8b36-6e3428c6902b",
        "Potential reach",
        KPIS,
        "potential_reach",
        COMPLETE,
        f"{_LATEST}; an upper bound",
        "Σ of the sharers' audience sizes at share time (the vendors' potential reach), latest "
        "complete month. Not people reached; never added to impressions.",
    ),
    big_number_trend(
        "112d1532-a9a1-479e-ab47-dfc4f9abfb06",
        "Impressions",
        KPIS,
        "impressions",
        COMPLETE,
        f"{_LATEST}, as the networks report them",
        "Times the posts were shown, as the networks report (latest night observed), latest complete month.",
    ),
    big_number_trend(
        "f68099ae-2c89-4bf2-9fdf-b719222d9887",
        "Link clicks (network-reported)",
        KPIS,
        "clicks",
        COMPLETE,
        f"{_LATEST}, counted by LinkedIn and X",
        "Clicks on the links in the shares as the networks report them, latest complete month. "
        "Not the tracking-link count (Bitly), which counts differently.",
        width=4,
    ),
    big_number_trend(
        "7d3e9a61-0c4b-4e8f-a2d5-3f6b8c1e9a07",
        "Tracking-link clicks (Bitly)",
        KPIS,
        "tracking_link_clicks",
        COMPLETE,
        f"{_LATEST}, counted by Bitly",
        "Clicks on the shares' tracking links as Bitly counts them, latest complete month. Not the "
        "networks' own click count.",
        width=4,
    ),
    big_number_trend(
        "d1619c85-93c2-42f5-b585-1513f31864d9",
        "Earned media value",
        KPIS,
        "earned_media_value",
        COMPLETE,
        f"{_LATEST}; USD, a convention, not revenue",
        "Impressions, engagements and clicks valued at the unit values of seed emv_unit_values (USD): "
        "what the same reach would have cost as paid media; latest complete month.",
        width=4,
    ),
    # --- why people share
    monthly_series(
        "732212e6-6b15-4693-a8f2-b02d3b4acf68",
        "Why employees share: motivation mix by month (% of shares)",
        MA,
        "shares",
        ["motivation_label"],
        kind="bar",
        share_of_total=True,
        y_title="% of the month's shares",
        description=(
            "Each month's shares split by the sharers' motivation profile (survey weights at share "
            "time); a month not yet complete says 'partial'. 'Unattributed': sharers without a survey "
            f"profile, and whole groups with fewer than {K} surveyed sharers (suppressed for "
            "confidentiality)."
        ),
    ),
    interval_bars(
        "2f768a17-2554-4db7-b4da-fb5d0facfffd",
        LIFT_TITLE,
        LIFT,
        "motivation_label",
        "er_lift",
        "er_lift_below_interval",
        "er_lift_interval",
        {"network": "all", "share_segment": "all"},
        y_title="lift (× baseline)",
        description=(
            "Engagement rate of shares by sharers of this primary motivation relative to what the same "
            "content gets on the same network from its average surveyed share (1.00 = baseline, the "
            "dashed line), all networks and shares pooled. The bar spans the 95 % interval (a cluster "
            "bootstrap over sharers); the marker is the estimate. A bar that crosses the line is no "
            "evidence of a difference."
        ),
    ),
    raw_table(
        "1c3ee26c-12f4-4ab4-8dea-f5c117a6306f",
        "Motivation lift by kind of share: engagement and click-through rate (95 % intervals)",
        LIFT,
        [
            "segment_label",
            "motivation_label",
            "respondents",
            "shares",
            "engagement_rate_lift_text",
            "click_through_rate_lift_text",
        ],
        {"network": "all"},
        [("share_segment", True), ("engagement_rate_lift", False)],
        page_length=20,
        height=90,
        description=(
            "Lift against the same content's baseline on the same network (1.00 = baseline), all networks "
            "pooled, for every share and split by how the share came about. Groups with fewer than "
            f"{K} respondents are suppressed; a lift that cannot be estimated says why."
        ),
    ),
    # --- which motivation moves clicks, per team; which content is shared out of obligation
    heatmap(
        "5a1f3c7e-9b2d-4e6a-8c0f-2d4b6e8a0c13",
        TEAM_CLICKS_TITLE,
        TEAM_CLICKS,
        "motivation_label",
        "team",
        "clicks_per_share",
        colors="blues",
        bounds=(None, None),
        where={"is_latest_complete_month": True},
        every_x_label=True,
        width=7,
        description=(
            "Network-reported link clicks per share, both attributed to the motivation by the sharers' survey "
            "weights, per team, in the latest complete month. Teams with fewer than "
            f"{K} surveyed sharers that month are not shown."
        ),
    ),
    category_bars(
        "8c2e4a6f-1d3b-4f5e-9a7c-0b2d4f6a8e19",
        "Content types: share of obligated sharing and how they perform",
        CONTENT_TYPES,
        "type_label",
        ["obligated_share", "engagement_rate", "click_through_rate"],
        y_title="%",
        y_format=".1%",
        width=5,
        description=(
            "Per content type: the sharers' mean obligated motivation weight, and the engagement and "
            f"click-through rate of its shares. Types shared by fewer than {K} surveyed sharers are not "
            "shown; types with too few shares to judge say so."
        ),
    ),
    raw_table(
        "3b9d1f5a-7c2e-4a8b-b6d0-4e1f3a5c7b92",
        "Content shared mostly out of obligation, and how it performs",
        CONTENT,
        [
            "content_title",
            "content_type",
            "verdict",
            "obligated_share",
            "sharers",
            "shares",
            "engagement_rate",
            "click_through_rate",
        ],
        {},
        [("is_low_volume", True), ("obligated_share", False)],
        page_length=10,
        height=70,
        formats={"obligated_share": ".0%", "engagement_rate": ".2%", "click_through_rate": ".2%"},
        description=(
            "Each piece of content with the sharers' mean obligated motivation weight (most obligated "
            "first) and its engagement and click-through rate. 'Mostly obligated': obligation outweighs "
            f"the other motivations. Content shared by fewer than {K} surveyed sharers is not shown."
        ),
    ),
    # --- teams
    heatmap(
        "c5f33606-2a54-49c8-afeb-43de4b30807d",
        "Team morale by survey wave: intrinsic motivation (good news + proud, %)",
        MORALE,
        "wave_label",
        "team",
        "intrinsic_share",
        colors="greens",
        bounds=(0, 1),
        every_x_label=True,
        description=(
            "Mean of the respondents' good news + proud motivation weights per team and wave. Empty cells: "
            f"fewer than {K} respondents (suppressed)."
        ),
    ),
    monthly_series(
        "72c29369-f880-4667-bc50-d1ae4f5f3384",
        "Participation by month and network (% of enrolled employees who shared)",
        KPIS,
        "participation",
        ["network"],
        kind="line",
        share_of_total=False,
        y_title="participation",
        description=(
            "Employees who shared to the network in the month ÷ employees enrolled. A month "
            "not yet complete says 'partial': its participation is still growing."
        ),
    ),
    heatmap(
        "8486da21-4964-4973-809d-35d6cef37fa7",
        OBLIGATION_TITLE,
        OBLIGATION,
        "period",
        "team",
        "signals_raised",
        colors="oranges",
        bounds=(0, 5),
        width=12,
        description=(
            "Signals of sharing out of obligation: scheduled, unedited and campaign-prompted sharing, low "
            "engagement, a high obligated share. A team-month is flagged when at least "
            f"{OBLIGATION_MIN_SIGNALS} are raised (dbt var obligation_signals.min_signals). Empty cells: the "
            "team shared too little that month to judge."
        ),
    ),
    heatmap(
        "825021a0-bcd3-4997-a4bb-ae8deb9e1e2e",
        SALESY_TITLE,
        SALESY,
        "period",
        "team",
        "signals_raised",
        colors="oranges",
        bounds=(0, 3),
        width=12,
        description=(
            "Signals that educational sharing turns salesy: low engagement, link pushing (clicks rather than "
            "conversation), a high educate share. At risk when at least "
            f"{SALESY_MIN_SIGNALS} are raised (dbt var salesy_risk.min_signals). Empty cells: the team "
            "shared too little that month to judge."
        ),
    ),
    # --- detail
    table(
        "e4c6a8b0-2f1d-4c3e-a5b7-9d0f2e4a6c81",
        "Monthly totals by network",
        TOTALS,
        ["period", "network"],
        ["shares", "impressions", "engagements", "clicks", "engagement_rate", "click_through_rate", "surveyed_sharers"],
        description=("Totals per month and network (bi.monthly_totals); a month not yet complete says 'partial'."),
    ),
    table(
        "2c429e54-512b-406c-929b-58d5c0e22931",
        "Monthly detail by network and motivation",
        MA,
        ["period", "network", "motivation_label"],
        ["shares", "impressions", "engagements", "clicks", "engagement_rate", "click_through_rate"],
        description=(
            "Figures attributed to each motivation per month and network (they add up to the monthly totals). "
            f"Groups with fewer than {K} surveyed sharers are not split by motivation ('Unattributed')."
        ),
    ),
)


# --- dashboard --------------------------------------------------------------------------------------------------------

DASHBOARD_UUID = "2ac8d573-6075-4686-a220-08332e7dfd1a"
DASHBOARD_TITLE = "Employee advocacy: why people share"
DASHBOARD_SLUG = "why-people-share"
DASHBOARD_FILE = "dashboards/Employee_advocacy_why_people_share.yaml"

INTRO_MARKDOWN = f"""\
#### What employees share, what it reaches, and why they share it

Employees' shares of company content, what the networks report for them, and the **motivation** behind them from
the employee survey (*obligated*, *good news*, *proud*, *educate customers*). Figures are the audited nightly
release of the warehouse; counts grow for recent shares. Hover a chart's title for how it is computed.

**Periods.** The headline figures are the **latest complete month**, compared with the month before; a month still
running is marked *partial* (with the days it covers) wherever it appears. Filter by period, team and network on
the left.

**Confidentiality.** No individual survey answer or score appears here. Every survey-derived figure aggregates at
least **{K} respondents**: smaller groups are suppressed (*Unattributed* in the motivation mix, empty heatmap cells,
"suppressed" in the lift table).
"""

#: Rows of the layout: chart titles (or "markdown:intro"), left to right.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("markdown:intro",),
    ("LinkedIn participation, latest complete month", "Shares", "Potential reach", "Impressions"),
    ("Link clicks (network-reported)", "Tracking-link clicks (Bitly)", "Earned media value"),
    ("Why employees share: motivation mix by month (% of shares)", LIFT_TITLE),
    ("Motivation lift by kind of share: engagement and click-through rate (95 % intervals)",),
    (TEAM_CLICKS_TITLE, "Content types: share of obligated sharing and how they perform"),
    ("Content shared mostly out of obligation, and how it performs",),
    (
        "Team morale by survey wave: intrinsic motivation (good news + proud, %)",
        "Participation by month and network (% of enrolled employees who shared)",
    ),
    (OBLIGATION_TITLE,),
    (SALESY_TITLE,),
    ("Monthly totals by network",),
    ("Monthly detail by network and motivation",),
)


@dataclass(frozen=True)
class NativeFilter:
    """A dashboard filter (a value list of `column` from `source`), applied to every chart whose dataset has
    `column`, except the charts in `not_on` (titles) whose figures would be wrong under it."""

    id: str
    name: str
    column: str
    source: Dataset
    description: str
    not_on: tuple[str, ...] = ()

    def charts(self) -> list[Chart]:
        return [
            chart
            for chart in CHARTS
            if self.column in {c.name for c in chart.dataset.columns} and chart.title not in self.not_on
        ]


NATIVE_FILTERS: tuple[NativeFilter, ...] = (
    NativeFilter(
        "NATIVE_FILTER-period",
        "Period (month)",
        "period",
        TOTALS,
        "Months to show; 'partial' marks a month not yet complete. Not applied to the clicks-per-share "
        "heatmap, which always shows the latest complete month.",
        not_on=(TEAM_CLICKS_TITLE,),
    ),
    NativeFilter(
        "NATIVE_FILTER-team",
        "Team",
        "team",
        KPIS,
        "Teams to show, on the charts that break figures down by team (the headline tiles among them); "
        "the monthly totals, the motivation mix, the lift and the content charts are company-wide.",
    ),
    NativeFilter(
        "NATIVE_FILTER-network",
        "Network",
        "network",
        TOTALS,
        "Networks to show. The lift charts pool every network (their own per-network rows are in "
        "bi.motivation_lift), so this filter leaves them as they are.",
        not_on=(LIFT_TITLE, "Motivation lift by kind of share: engagement and click-through rate (95 % intervals)"),
    ),
)


def native_filter_configuration() -> list[dict[str, Any]]:
    """Superset's native_filter_configuration: chart ids are the layout's placeholders (the import remaps them,
    like the dataset UUID of each target)."""
    config = []
    for native in NATIVE_FILTERS:
        in_scope = {chart.uuid for chart in native.charts()}
        config.append(
            {
                "id": native.id,
                "name": native.name,
                "type": "NATIVE_FILTER",
                "filterType": "filter_select",
                "description": native.description,
                "targets": [{"column": {"name": native.column}, "datasetUuid": native.source.uuid}],
                "controlValues": {
                    "multiSelect": True,
                    "enableEmptyFilter": False,
                    "defaultToFirstItem": False,
                    "inverseSelection": False,
                    "searchAllOptions": False,
                    "sortAscending": True,
                },
                "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
                "cascadeParentIds": [],
                "tabsInScope": [],
                "scope": {
                    "rootPath": ["ROOT_ID"],
                    "excluded": [_chart_id(chart) for chart in CHARTS if chart.uuid not in in_scope],
                },
            }
        )
    return config


def _chart_id(chart: Chart) -> int:
    """The placeholder chart id of the layout (`chartId`), which the import maps to the chart's real id."""
    return CHARTS.index(chart) + 1


def _chart_by_title(title: str) -> Chart:
    return next(chart for chart in CHARTS if chart.title == title)


def position() -> dict[str, Any]:
    """Superset's position_json: header, grid, one ROW per layout row, every chart with its UUID."""
    pos: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
    }
    for r, row in enumerate(LAYOUT, start=1):
        row_id = f"ROW-{r}"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for item in row:
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if item.startswith("markdown:"):
                component_id = f"MARKDOWN-{item.split(':', 1)[1]}"
                pos[component_id] = {
                    "type": "MARKDOWN",
                    "id": component_id,
                    "children": [],
                    "parents": parents,
                    "meta": {"width": 12, "height": 24, "code": INTRO_MARKDOWN},
                }
            else:
                chart = _chart_by_title(item)
                component_id = f"CHART-{chart.uuid[:8]}"
                pos[component_id] = {
                    "type": "CHART",
                    "id": component_id,
                    "children": [],
                    "parents": parents,
                    "meta": {
                        "chartId": _chart_id(chart),
                        "uuid": chart.uuid,
                        "sliceName": chart.title,
                        "width": chart.width,
                        "height": chart.height,
                    },
                }
            pos[row_id]["children"].append(component_id)
    return pos


# --- the bundle ---------------------------------------------------------------------------------------------------------


def _database_yaml() -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": PLACEHOLDER_URI,
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_file_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "metadata_params": {},
            "engine_params": {},
            "schemas_allowed_for_file_upload": [],
        },
        "impersonate_user": False,
        "is_managed_externally": True,
        "external_url": None,
        "uuid": DATABASE_UUID,
        "version": VERSION,
    }


def _dataset_yaml(dataset: Dataset) -> dict[str, Any]:
    return {
        "table_name": dataset.model,
        "main_dttm_col": dataset.main_dttm_col,
        "description": dataset.description,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": BI_SCHEMA,
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "is_managed_externally": True,
        "external_url": None,
        "uuid": dataset.uuid,
        "metrics": [
            {
                "metric_name": m.name,
                "verbose_name": m.verbose_name,
                "metric_type": None,
                "expression": m.expression,
                "description": m.description,
                "d3format": m.d3format,
                "extra": {},
                "warning_text": None,
            }
            for m in dataset.metrics
        ],
        "columns": [
            {
                "column_name": c.name,
                "verbose_name": c.verbose_name,
                "is_dttm": c.is_dttm,
                "is_active": True,
                "type": c.type.upper() if c.expression is None else "TEXT",
                "advanced_data_type": None,
                "groupby": True,
                "filterable": True,
                "expression": c.expression,
                "description": c.description or None,
                "python_date_format": None,
                "extra": {},
            }
            for c in dataset.columns
        ],
        "version": VERSION,
        "database_uuid": DATABASE_UUID,
    }


def query_context(chart: Chart) -> dict[str, Any]:
    """What the chart data API runs for the chart (the import points `datasource` at the imported dataset)."""
    datasource = {"id": 0, "type": "table"}
    return {
        "datasource": datasource,
        "force": False,
        "queries": chart.queries,
        "form_data": {**chart.params, "datasource": "0__table", "slice_id": None},
        "result_format": "json",
        "result_type": "full",
    }


def _chart_yaml(chart: Chart) -> dict[str, Any]:
    return {
        "slice_name": chart.title,
        "description": chart.description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": chart.viz_type,
        "params": {**chart.params, "datasource": "0__table"},
        "query_context": json.dumps(query_context(chart), sort_keys=True),
        "cache_timeout": None,
        "is_managed_externally": True,
        "external_url": None,
        "uuid": chart.uuid,
        "version": VERSION,
        "dataset_uuid": chart.dataset.uuid,
    }


def _dashboard_yaml() -> dict[str, Any]:
    return {
        "dashboard_title": DASHBOARD_TITLE,
        "description": None,
        "css": "",
        "slug": DASHBOARD_SLUG,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "is_managed_externally": True,
        "external_url": None,
        "uuid": DASHBOARD_UUID,
        "position": position(),
        "metadata": {
            "color_scheme": "supersetColors",
            "label_colors": LABEL_COLORS,
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "cross_filters_enabled": False,
            "expanded_slices": {},
            "refresh_frequency": 0,
            "timed_refresh_immune_slices": [],
            "default_filters": "{}",
            "native_filter_configuration": native_filter_configuration(),
            "chart_configuration": {},
            "global_chart_configuration": {"scope": {"rootPath": ["ROOT_ID"], "excluded": []}, "chartsInScope": []},
        },
        "version": VERSION,
    }


def bundle() -> dict[str, dict[str, Any]]:
    """Every file of the bundle: path → content."""
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": VERSION, "type": "assets", "timestamp": BUNDLE_TIMESTAMP},
        DATABASE_FILE: _database_yaml(),
    }
    for dataset in DATASETS:
        files[dataset.file] = _dataset_yaml(dataset)
    for chart in CHARTS:
        files[chart.file] = _chart_yaml(chart)
    files[DASHBOARD_FILE] = _dashboard_yaml()
    return files


HEADER = "# Generated by `python -m bi_tool.dashboards write` from bi_tool/dashboards.py: edit that, not this.\n"


def render(content: dict[str, Any]) -> str:
    return HEADER + yaml.safe_dump(content, sort_keys=True, allow_unicode=True, width=100)


def write(target: Path = BUNDLE_DIR) -> list[Path]:
    """(Re)write the bundle into `target` (the committed bundle by default): exactly these files, nothing else."""
    if target.exists():
        shutil.rmtree(target)
    written = []
    for name, content in bundle().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(content))
        written.append(path)
    return written


def declared_bi_models(models_dir: Path = DBT_BI_MODELS) -> dict[str, dict[str, str]]:
    """The dbt `bi` models declared in models/bi/*.yml: model → {column: data_type}."""
    models: dict[str, dict[str, str]] = {}
    for path in sorted(models_dir.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []) or []:
            models[model["name"]] = {c["name"]: str(c.get("data_type", "")) for c in model.get("columns", []) or []}
    return models


def status() -> str:
    """The dashboard's charts, each with its view and whether dbt declares that model (models/bi/*.yml)."""
    declared = declared_bi_models()
    lines = [f"Dashboard '{DASHBOARD_TITLE}': {len(CHARTS)} charts over {len(DATASETS)} views of bi"]
    for chart in CHARTS:
        state = "ok" if chart.dataset.model in declared else "NO dbt MODEL"
        lines.append(f"  {state:<12} bi.{chart.dataset.model:<24} {chart.title}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bi_tool.dashboards", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["write", "status"])
    args = parser.parse_args(argv)
    if args.action == "write":
        paths = write()
        print(f"wrote {len(paths)} files into {BUNDLE_DIR}")
    else:
        print(status())
    return 0


if __name__ == "__main__":
    sys.exit(main())
