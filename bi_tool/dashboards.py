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
- Metrics sum the *attributed* parts (`attributed_shares`, …): they add up exactly to the group totals, so a sum
  over motivations never double-counts the totals that `bi.motivation_attribution` repeats on each row.
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

BUNDLE_DIR = Path(__file__).resolve().parent / "bundle"
DBT_BI_MODELS = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "bi"

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project" / "dbt_project.yml"
_DBT_VARS = yaml.safe_load(DBT_PROJECT.read_text()).get("vars", {})
#: The survey confidentiality threshold (dbt var k_anonymity) and the flags' thresholds, as the texts state them;
#: a change in dbt_project.yml shows up as a stale bundle (tests/test_dashboards_bundle.py).
K = int(_DBT_VARS.get("k_anonymity", 5))
OBLIGATION_MIN_SIGNALS = int(_DBT_VARS.get("obligation_signals", {}).get("min_signals", 2))
SALESY_MIN_SIGNALS = int(_DBT_VARS.get("salesy_risk", {}).get("min_signals", 2))

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

    @property
    def file(self) -> str:
        slug = "".join(c if c.isalnum() else "_" for c in self.title).strip("_")
        while "__" in slug:
            slug = slug.replace("__", "_")
        return f"charts/{slug}_{self.uuid[:8]}.yaml"

    def columns_used(self) -> set[str]:
        """Physical columns of the view this chart's query reads (directly or through calculated columns/metrics)."""
        used: set[str] = set()
        texts = [json.dumps(self.query)]
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
    return (f"CASE WHEN is_suppressed THEN 'suppressed (fewer than {K} respondents)' "
            f"WHEN {column} IS NULL THEN lift_note "
            f"ELSE to_char({column}, 'FM990.00') || '  (' || to_char({column}_lower, 'FM990.00') || ' to ' "
            f"|| to_char({column}_upper, 'FM990.00') || ')' END")


MOTIVATION_ATTRIBUTION = Dataset(
    model="motivation_attribution",
    uuid="159d4cb1-dc62-4e11-b868-6bc698e4cd1e",
    description=(
        "Month × network × motivation: shares, impressions, engagements and clicks, and the part of each "
        "attributed to the motivation by the sharers' motivation weights. Groups with fewer than "
        f"{K} survey respondents are not split by motivation (all on 'Unattributed')."
    ),
    main_dttm_col="month",
    columns=(
        Column("month", "date", "Month", "First day of the month (UTC) the shares were made in.", is_dttm=True),
        Column("network", "text", "Network", "The social network the shares were made to."),
        Column("motivation", "text", "Motivation (code)", "obligated, good_news, proud, educate or unattributed."),
        Column("respondents", "integer", "Surveyed sharers in the group",
               "Distinct surveyed sharers behind the month × network group (below 5: no motivation split)."),
        Column("attributed_shares", "numeric", "Shares (attributed)"),
        Column("attributed_impressions", "numeric", "Impressions (attributed)"),
        Column("attributed_engagements", "numeric", "Engagements (attributed)"),
        Column("attributed_clicks", "numeric", "Clicks (attributed)"),
        Column("motivation_label", "text", "Motivation", "Why the sharers share, from the motivation survey.",
               expression=_case_label("motivation", MOTIVATION_LABELS)),
    ),
    metrics=(
        Metric("shares", "SUM(attributed_shares)", "Shares", ",.0f",
               "Shares made by employees (attributed parts sum exactly to the totals)."),
        Metric("impressions", "SUM(attributed_impressions)", "Impressions", ",.0f",
               "Platform-reported impressions of the shares, latest night observed."),
        Metric("engagements", "SUM(attributed_engagements)", "Engagements", ",.0f",
               "Reactions + comments + reshares."),
        Metric("clicks", "SUM(attributed_clicks)", "Link clicks", ",.0f", "Clicks on the shared links."),
        Metric("engagement_rate", "SUM(attributed_engagements) / NULLIF(SUM(attributed_impressions), 0)",
               "Engagement rate", ".2%", "Engagements ÷ impressions."),
        Metric("click_through_rate", "SUM(attributed_clicks) / NULLIF(SUM(attributed_impressions), 0)",
               "Click-through rate", ".2%", "Link clicks ÷ impressions."),
        Metric("surveyed_sharers", "MAX(respondents)", "Surveyed sharers", ",d",
               "Surveyed sharers behind a month × network group (do not add up across groups)."),
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
        Column("segment_label", "text", "Shares",
               expression=_case_label("share_segment", {
                   "all": "All shares", "manual": "Posted by hand", "scheduled": "Scheduled by the platform",
                   "nudged": "Prompted by a campaign", "self_initiated": "Self-initiated"})),
        Column("engagement_rate_lift_text", "text", "Engagement-rate lift (95 % interval)",
               expression=_pct_text("engagement_rate_lift")),
        Column("click_through_rate_lift_text", "text", "Click-through-rate lift (95 % interval)",
               expression=_pct_text("click_through_rate_lift")),
    ),
    metrics=(
        Metric("er_lift", "MAX(engagement_rate_lift)", "Lift", ".2f",
               "Engagement rate of shares by sharers of this primary motivation ÷ the content's baseline "
               "(1 = baseline)."),
        Metric("er_lift_lower", "MAX(engagement_rate_lift_lower)", "95 % interval, low", ".2f",
               "Lower end of the 95 % interval of the engagement-rate lift."),
        Metric("er_lift_upper", "MAX(engagement_rate_lift_upper)", "95 % interval, high", ".2f",
               "Upper end of the 95 % interval of the engagement-rate lift."),
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
        Column("wave_label", "text", "Survey wave",
               expression="to_char(wave_started_on, 'YYYY-MM-DD') || ' (wave ' || wave_number || ')'"),
    ),
    metrics=(
        Metric("intrinsic_share", "MAX(intrinsic_share)", "Intrinsic motivation", ".0%",
               "Mean of the respondents' good news + proud motivation weights (0–100 %); empty when suppressed."),
        Metric("obligated_share", "MAX(obligated_share)", "Obligated", ".0%",
               "Mean of the respondents' obligated weight; empty when suppressed."),
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
        Column("clicks", "bigint", "Link clicks"),
        Column("earned_media_value", "numeric", "Earned media value"),
        Column("emv_currency", "text", "EMV currency"),
    ),
    metrics=(
        Metric("participation", "SUM(sharers)::numeric / NULLIF(SUM(enrolled), 0)", "Participation", ".0%",
               "Employees who shared ÷ employees enrolled, per network (do not pool networks: a person sharing "
               "on two networks counts on each)."),
        Metric("shares", "SUM(shares)", "Shares", ",.0f", "Shares made through the advocacy platform."),
        Metric("potential_reach", "SUM(potential_reach)", "Potential reach", ".3s",
               "Σ of the sharers' audience sizes at share time: an upper bound, not people reached."),
        Metric("impressions", "SUM(impressions)", "Impressions", ".3s",
               "Times the posts were shown, as the platforms report (latest night)."),
        Metric("clicks", "SUM(clicks)", "Link clicks", ",.0f", "Link clicks the platforms report."),
        Metric("earned_media_value", "SUM(earned_media_value)", "Earned media value", "$,.0f",
               "impressions, engagements and clicks × the unit values of seed emv_unit_values (USD): a "
               "convention for comparing with paid media, not revenue."),
    ),
)

_MONTH_LABEL = "to_char(month, 'YYYY-MM')"

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
        Column("month_label", "text", "Month", expression=_MONTH_LABEL),
    ),
    metrics=(
        Metric("signals_raised", "MAX(signals_raised)", "Obligation signals raised", ",d",
               "How many of the 5 obligation signals the team raised in the month."),
        Metric("flagged_team_months", "SUM(CASE WHEN is_flagged THEN 1 ELSE 0 END)", "Flagged team-months", ",d",
               "Team × months flagged for obligation."),
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
        Column("month_label", "text", "Month", expression=_MONTH_LABEL),
    ),
    metrics=(
        Metric("signals_raised", "MAX(signals_raised)", "Salesy-risk signals raised", ",d",
               "How many of the 3 salesy-risk signals the team raised in the month."),
    ),
)

DATASETS: tuple[Dataset, ...] = (
    MOTIVATION_ATTRIBUTION, MOTIVATION_LIFT, TEAM_MORALE, ADVOCACY_KPIS, OBLIGATION_SIGNALS, SALESY_RISK,
)


# --- chart builders: form data (params) and the matching query ------------------------------------------------------

_NO_TIME_FILTER = {
    "clause": "WHERE", "comparator": "No filter", "expressionType": "SIMPLE", "operator": "TEMPORAL_RANGE",
}
_EXTRAS = {"having": "", "where": ""}

Filters = dict[str, str]


def _base_query(dataset: Dataset, where: Filters | None = None, **fields: Any) -> dict[str, Any]:
    filters = [{"col": column, "op": "==", "val": value} for column, value in (where or {}).items()]
    if dataset.main_dttm_col:
        filters.append({"col": dataset.main_dttm_col, "op": "TEMPORAL_RANGE", "val": "No filter"})
    return {
        "filters": filters, "extras": dict(_EXTRAS), "applied_time_extras": {}, "columns": [], "metrics": [],
        "orderby": [], "annotation_layers": [], "row_limit": 10_000, "series_limit": 0, "order_desc": True,
        "url_params": {}, "custom_params": {}, "custom_form_data": {}, "post_processing": [], **fields,
    }


def _adhoc_filters(dataset: Dataset, where: Filters | None = None) -> list[dict[str, Any]]:
    filters = [
        {"clause": "WHERE", "comparator": value, "expressionType": "SIMPLE", "operator": "==", "subject": column,
         "filterOptionName": f"filter_{column}_{value}", "isExtra": False, "isNew": False}
        for column, value in (where or {}).items()
    ]
    if dataset.main_dttm_col:
        filters.append({**_NO_TIME_FILTER, "subject": dataset.main_dttm_col})
    return filters


def big_number(uuid: str, title: str, dataset: Dataset, metric: str, subheader: str, description: str) -> Chart:
    params = {
        "viz_type": "big_number_total", "metric": metric, "adhoc_filters": _adhoc_filters(dataset),
        "header_font_size": 0.3, "subheader_font_size": 0.125, "subheader": subheader,
        "y_axis_format": dataset.metric(metric).d3format, "time_format": "smart_date",
    }
    return Chart(uuid, title, dataset, "big_number_total", params, _base_query(dataset, metrics=[metric]),
                 description, width=2, height=30)


def big_number_trend(uuid: str, title: str, dataset: Dataset, metric: str, where: Filters, subheader: str,
                     description: str) -> Chart:
    """The latest month's value, with the monthly trend line under it."""
    x = dataset.main_dttm_col
    params = {
        "viz_type": "big_number", "x_axis": x, "time_grain_sqla": "P1M", "metric": metric,
        "adhoc_filters": _adhoc_filters(dataset, where), "header_font_size": 0.3, "subheader_font_size": 0.125,
        "subheader": subheader, "show_trend_line": True, "start_y_axis_at_zero": True, "compare_lag": 1,
        "compare_suffix": "vs the month before", "show_timestamp": True, "time_format": "%b %Y",
        "y_axis_format": dataset.metric(metric).d3format, "rolling_type": None,
    }
    axis = {"timeGrain": "P1M", "columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}
    query = _base_query(dataset, where, columns=[axis], metrics=[metric],
                        extras={**_EXTRAS, "time_grain_sqla": "P1M"})
    return Chart(uuid, title, dataset, "big_number", params, query, description, width=2, height=30)


def time_series(uuid: str, title: str, dataset: Dataset, metric: str, groupby: list[str], *, kind: str,
                share_of_total: bool, y_title: str, description: str, width: int = 6, height: int = 56) -> Chart:
    """Monthly bars stacked by `groupby` (`kind` 'bar'; `share_of_total`: each part as % of the month), or lines."""
    x = dataset.main_dttm_col
    viz = {"bar": "echarts_timeseries_bar", "line": "echarts_timeseries_line"}[kind]
    params = {
        "viz_type": viz, "x_axis": x, "time_grain_sqla": "P1M", "x_axis_sort_asc": True,
        "metrics": [metric], "groupby": groupby, "adhoc_filters": _adhoc_filters(dataset), "order_desc": True,
        "row_limit": 10_000, "truncate_metric": True, "show_empty_columns": True, "annotation_layers": [],
        "contributionMode": "row" if share_of_total else None,
        "x_axis_title": "Month", "x_axis_title_margin": 30, "y_axis_title": y_title, "y_axis_title_margin": 50,
        "y_axis_title_position": "Left", "x_axis_time_format": "%b %Y", "tooltipTimeFormat": "%B %Y",
        "y_axis_format": ".0%" if share_of_total else dataset.metric(metric).d3format,
        "rich_tooltip": True, "show_legend": True, "legendType": "scroll", "legendOrientation": "top",
        "color_scheme": "supersetColors", "zoomable": False, "show_value": False,
        "sort_series_type": "sum", "sort_series_ascending": False,
    }
    if kind == "bar":
        params.update({"orientation": "vertical", "stack": "Stack", "only_total": True})
    else:
        params.update({"markerEnabled": True, "markerSize": 8, "seriesType": "line"})
    if share_of_total:
        params["y_axis_bounds"] = [0, 1]
    axis = {"timeGrain": "P1M", "columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}
    query = _base_query(
        dataset, columns=[axis, *groupby], metrics=[metric], series_columns=groupby, orderby=[[metric, False]],
        extras={**_EXTRAS, "time_grain_sqla": "P1M"},
    )
    return Chart(uuid, title, dataset, viz, params, query, description, width, height)


def interval_plot(uuid: str, title: str, dataset: Dataset, x: str, estimate: str, lower: str, upper: str,
                  where: Filters, *, y_title: str, description: str, width: int = 6, height: int = 56) -> Chart:
    """Per category of `x`: the estimate and the ends of its interval as markers one above the other."""
    metrics = [upper, estimate, lower]
    params = {
        "viz_type": "echarts_timeseries_scatter", "x_axis": x, "x_axis_sort": estimate, "x_axis_sort_asc": False,
        "metrics": metrics, "groupby": [], "adhoc_filters": _adhoc_filters(dataset, where), "order_desc": True,
        "row_limit": 10_000, "truncate_metric": True, "annotation_layers": [],
        "x_axis_title": "", "y_axis_title": y_title, "y_axis_title_margin": 40, "y_axis_title_position": "Left",
        "y_axis_format": dataset.metric(estimate).d3format, "markerSize": 14, "show_value": True,
        "rich_tooltip": True, "show_legend": True, "legendType": "scroll", "legendOrientation": "top",
        "color_scheme": "supersetColors", "zoomable": False, "truncateYAxis": False,
    }
    axis = {"columnType": "BASE_AXIS", "sqlExpression": x, "label": x, "expressionType": "SQL"}
    query = _base_query(dataset, where, columns=[axis], metrics=metrics, series_columns=[],
                        orderby=[[estimate, False]])
    return Chart(uuid, title, dataset, "echarts_timeseries_scatter", params, query, description, width, height)


def heatmap(uuid: str, title: str, dataset: Dataset, x: str, y: str, metric: str, *, colors: str,
            bounds: tuple[float | None, float | None], description: str, width: int = 6, height: int = 50) -> Chart:
    params = {
        "viz_type": "heatmap_v2", "x_axis": x, "groupby": y, "metric": metric,
        "adhoc_filters": _adhoc_filters(dataset), "row_limit": 10_000, "sort_x_axis": "alpha_asc",
        "sort_y_axis": "alpha_asc", "normalize_across": "heatmap", "legend_type": "continuous",
        "linear_color_scheme": colors, "xscale_interval": -1, "yscale_interval": -1, "left_margin": 130,
        "bottom_margin": 45, "value_bounds": list(bounds), "y_axis_format": dataset.metric(metric).d3format,
        "show_legend": True, "show_percentage": False, "show_values": True, "normalized": False,
        "border_width": 1, "border_color": {"r": 255, "g": 255, "b": 255, "a": 1},
    }
    query = _base_query(dataset, columns=[x, y], metrics=[metric], orderby=[[x, True], [y, True]])
    return Chart(uuid, title, dataset, "heatmap_v2", params, query, description, width, height)


def table(uuid: str, title: str, dataset: Dataset, groupby: list[str], metrics: list[str], *, description: str,
          width: int = 12, height: int = 60) -> Chart:
    """Aggregated rows: one per combination of `groupby`."""
    params = {
        "viz_type": "table", "query_mode": "aggregate", "groupby": groupby, "metrics": metrics,
        "all_columns": [], "percent_metrics": [], "adhoc_filters": _adhoc_filters(dataset),
        "order_by_cols": [], "row_limit": 10_000, "server_page_length": 10, "page_length": 10, "order_desc": True,
        "table_timestamp_format": "%Y-%m", "time_grain_sqla": "P1M", "temporal_columns_lookup": {"month": True},
        "show_cell_bars": True, "color_pn": True, "allow_rearrange_columns": False, "include_search": False,
        "column_config": {metric: {"d3NumberFormat": dataset.metric(metric).d3format} for metric in metrics},
    }
    query = _base_query(dataset, columns=groupby, metrics=metrics, orderby=[[metrics[0], False]],
                        extras={**_EXTRAS, "time_grain_sqla": "P1M"})
    return Chart(uuid, title, dataset, "table", params, query, description, width, height)


def raw_table(uuid: str, title: str, dataset: Dataset, columns: list[str], where: Filters,
              order_by: list[tuple[str, bool]], *, description: str, page_length: int, width: int = 12,
              height: int = 60) -> Chart:
    """The rows themselves (no aggregation), `columns` in order."""
    params = {
        "viz_type": "table", "query_mode": "raw", "all_columns": columns, "groupby": [], "metrics": [],
        "adhoc_filters": _adhoc_filters(dataset, where),
        "order_by_cols": [json.dumps([column, ascending]) for column, ascending in order_by],
        "row_limit": 10_000, "server_page_length": page_length, "page_length": page_length,
        "show_cell_bars": False, "color_pn": False, "allow_rearrange_columns": False, "include_search": False,
    }
    query = _base_query(dataset, where, columns=columns, metrics=None, orderby=[list(o) for o in order_by])
    return Chart(uuid, title, dataset, "table", params, query, description, width, height)


MA, LIFT, MORALE, KPIS, OBLIGATION, SALESY = DATASETS

OBLIGATION_TITLE = f"Obligation signals by team and month (of 5; flagged at {OBLIGATION_MIN_SIGNALS} or more)"
SALESY_TITLE = f"Salesy-risk signals by team and month (of 3; at risk at {SALESY_MIN_SIGNALS} or more)"

_TOTALS = "all months, all networks"

CHARTS: tuple[Chart, ...] = (
    # --- advocacy KPIs
    big_number_trend("c5a88c42-6b86-4299-9f6b-5586fdf9b0d4", "LinkedIn participation, latest month", KPIS,
                     "participation", {"network": "linkedin"},
                     "employees who shared ÷ employees enrolled",
                     "Share of enrolled employees who shared to LinkedIn in the latest month (trend: every month)."),
    big_number("1c92e8e4-af27-486e-bd0e-65d000a18756", "Shares", KPIS, "shares", _TOTALS,
               "Shares of company content by employees, all months and networks."),
    big_number("009f98c3-90a7-4f52-8b36-6e3428c6902b", "Potential reach", KPIS, "potential_reach",
               "followers × shares: an upper bound",
               "Σ of the sharers' audience sizes at share time (the vendors' potential reach). Not people reached; "
               "never added to impressions."),
    big_number("112d1532-a9a1-479e-ab47-dfc4f9abfb06", "Impressions", KPIS, "impressions",
               "as the networks report them",
               "Times the posts were shown, as the platforms report (latest night observed)."),
    big_number("f68099ae-2c89-4bf2-9fdf-b719222d9887", "Link clicks", KPIS, "clicks", _TOTALS,
               "Clicks on the links in the shares, as the platforms report them."),
    big_number("d1619c85-93c2-42f5-b585-1513f31864d9", "Earned media value", KPIS, "earned_media_value",
               "USD; a convention, not revenue",
               "Impressions, engagements and clicks valued at the unit values of seed emv_unit_values (USD): what "
               "the same reach would have cost as paid media."),
    # --- why people share
    time_series("732212e6-6b15-4693-a8f2-b02d3b4acf68", "Why employees share: motivation mix by month (% of shares)",
                MA, "shares", ["motivation_label"], kind="bar", share_of_total=True,
                y_title="% of the month's shares",
                description=(
                    "Each month's shares split by the sharers' motivation profile (survey weights at share time). "
                    "'Unattributed': sharers without a survey profile, and whole groups with fewer than "
                    f"{K} surveyed sharers (suppressed for confidentiality).")),
    interval_plot("2f768a17-2554-4db7-b4da-fb5d0facfffd",
                  "Motivation lift of the engagement rate (1 = the content's baseline, 95 % interval)",
                  LIFT, "motivation_label", "er_lift", "er_lift_lower", "er_lift_upper",
                  {"network": "all", "share_segment": "all"}, y_title="lift (× baseline)",
                  description=(
                      "Engagement rate of shares by sharers of this primary motivation relative to what the same "
                      "content gets on the same network from its average surveyed share (1.00 = baseline), all "
                      "networks and shares pooled; the markers above and below are the ends of the 95 % interval "
                      "(a cluster bootstrap over sharers).")),
    raw_table("1c3ee26c-12f4-4ab4-8dea-f5c117a6306f",
              "Motivation lift by kind of share: engagement and click-through rate (95 % intervals)", LIFT,
              ["segment_label", "motivation_label", "respondents", "shares", "engagement_rate_lift_text",
               "click_through_rate_lift_text"],
              {"network": "all"}, [("share_segment", True), ("engagement_rate_lift", False)],
              page_length=20, height=90,
              description=(
                  "Lift against the same content's baseline on the same network (1.00 = baseline), all networks "
                  "pooled, for every share and split by how the share came about. Groups with fewer than "
                  f"{K} respondents are suppressed.")),
    # --- teams
    heatmap("c5f33606-2a54-49c8-afeb-43de4b30807d",
            "Team morale by survey wave: intrinsic motivation (good news + proud, %)", MORALE,
            "wave_label", "team", "intrinsic_share", colors="greens", bounds=(0, 1),
            description=(
                "Mean of the respondents' good news + proud motivation weights per team and wave. Empty cells: "
                f"fewer than {K} respondents (suppressed).")),
    time_series("72c29369-f880-4667-bc50-d1ae4f5f3384",
                "Participation by month and network (% of enrolled employees who shared)", KPIS,
                "participation", ["network"], kind="line", share_of_total=False, y_title="participation",
                description="Employees who shared to the network in the month ÷ employees enrolled."),
    heatmap("8486da21-4964-4973-809d-35d6cef37fa7",
            OBLIGATION_TITLE, OBLIGATION,
            "month_label", "team", "signals_raised", colors="oranges", bounds=(0, 5),
            description=(
                "Signals of sharing out of obligation: scheduled, unedited and campaign-prompted sharing, low "
                "engagement, a high obligated share. A team-month is flagged when at least "
                f"{OBLIGATION_MIN_SIGNALS} are raised (dbt var obligation_signals.min_signals).")),
    heatmap("825021a0-bcd3-4997-a4bb-ae8deb9e1e2e",
            SALESY_TITLE, SALESY,
            "month_label", "team", "signals_raised", colors="oranges", bounds=(0, 3),
            description=(
                "Signals that educational sharing turns salesy: low engagement, link pushing (clicks rather than "
                "conversation), a high educate share. At risk when at least "
                f"{SALESY_MIN_SIGNALS} are raised (dbt var salesy_risk.min_signals).")),
    # --- detail
    table("2c429e54-512b-406c-929b-58d5c0e22931", "Monthly detail by network and motivation", MA,
          ["month", "network", "motivation_label"],
          ["shares", "impressions", "engagements", "clicks", "engagement_rate", "click_through_rate",
           "surveyed_sharers"],
          description=(
              "Attributed figures per month, network and motivation. 'Surveyed sharers' is the month × network "
              f"group's count (below {K} the group is not split by motivation).")),
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

**Confidentiality.** No individual survey answer or score appears here. Every survey-derived figure aggregates at
least **{K} respondents**: smaller groups are suppressed (*Unattributed* in the motivation mix, empty heatmap cells,
"suppressed" in the lift table).
"""

#: Rows of the layout: chart titles (or "markdown:intro"), left to right.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("markdown:intro",),
    ("LinkedIn participation, latest month", "Shares", "Potential reach", "Impressions", "Link clicks",
     "Earned media value"),
    ("Why employees share: motivation mix by month (% of shares)",
     "Motivation lift of the engagement rate (1 = the content's baseline, 95 % interval)"),
    ("Motivation lift by kind of share: engagement and click-through rate (95 % intervals)",),
    ("Team morale by survey wave: intrinsic motivation (good news + proud, %)",
     "Participation by month and network (% of enrolled employees who shared)"),
    (OBLIGATION_TITLE, SALESY_TITLE),
    ("Monthly detail by network and motivation",),
)


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
        pos[row_id] = {"type": "ROW", "id": row_id, "children": [], "parents": ["ROOT_ID", "GRID_ID"],
                       "meta": {"background": "BACKGROUND_TRANSPARENT"}}
        for item in row:
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if item.startswith("markdown:"):
                component_id = f"MARKDOWN-{item.split(':', 1)[1]}"
                pos[component_id] = {"type": "MARKDOWN", "id": component_id, "children": [], "parents": parents,
                                     "meta": {"width": 12, "height": 24, "code": INTRO_MARKDOWN}}
            else:
                chart = _chart_by_title(item)
                component_id = f"CHART-{chart.uuid[:8]}"
                pos[component_id] = {
                    "type": "CHART", "id": component_id, "children": [], "parents": parents,
                    "meta": {"chartId": CHARTS.index(chart) + 1, "uuid": chart.uuid, "sliceName": chart.title,
                             "width": chart.width, "height": chart.height},
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
            {"metric_name": m.name, "verbose_name": m.verbose_name, "metric_type": None, "expression": m.expression,
             "description": m.description, "d3format": m.d3format, "extra": {}, "warning_text": None}
            for m in dataset.metrics
        ],
        "columns": [
            {"column_name": c.name, "verbose_name": c.verbose_name, "is_dttm": c.is_dttm, "is_active": True,
             "type": c.type.upper() if c.expression is None else "TEXT", "advanced_data_type": None,
             "groupby": True, "filterable": True, "expression": c.expression, "description": c.description or None,
             "python_date_format": None, "extra": {}}
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
        "queries": [chart.query],
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
            "native_filter_configuration": [],
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
