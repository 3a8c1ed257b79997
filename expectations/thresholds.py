"""Thresholds of the quality gate, as configuration kept apart from the expectations that use them.

A typed Python object rather than a YAML file: it needs no parser or package-data, and a typo fails at import.
Two ways to change a value, both ending in a `Thresholds`:
- a caller (a DAG, a test) passes its own `Thresholds(...)` to `run_audit`;
- the environment: `SHAREWHY_THRESHOLD_<FIELD NAME IN CAPITALS>`, e.g. `SHAREWHY_THRESHOLD_K_ANONYMITY=7` or
  `SHAREWHY_THRESHOLD_VOLUME_MAX_RATIO=3`, read once when this module is imported (into `DEFAULT`, which
  `run_audit` uses when given nothing). Numbers as Python writes them, tuples comma-separated, `none` for an
  optional value. A variable with that prefix that names no field, or a value that does not parse, raises
  `ValueError` naming the variable: a mistyped override must not be ignored silently.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from sharewhy import settings

#: The four motivation constructs of the survey (spec: "The synthetic company"), as dbt lists them.
MOTIVATION_CONSTRUCTS: tuple[str, ...] = settings.MOTIVATION_CONSTRUCTS

#: Where shares without a usable survey profile, and small groups, are attributed.
UNATTRIBUTED = "unattributed"

#: Prefix of the environment variables that override a threshold.
ENV_PREFIX = "SHAREWHY_THRESHOLD_"

_PERIOD_HOURS = {"minute": 1 / 60, "hour": 1, "day": 24}


def dbt_source_max_age_hours(project_dir=settings.DBT_PROJECT_DIR) -> dict[str, float | None]:
    """Each raw table's freshness limit as dbt's sources state it (`error_after`, in hours; None: dbt sets none),
    by table identifier: the freshness thresholds' defaults, so dbt and the gate state one limit per source."""
    limits: dict[str, float | None] = {}
    for path in sorted(project_dir.glob("models/staging/*/_*__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            inherited = _freshness(source, None)
            for table in source.get("tables", []):
                error_after = (_freshness(table, inherited) or {}).get("error_after")
                limits[table.get("identifier", table["name"])] = (
                    None if error_after is None else error_after["count"] * _PERIOD_HOURS[error_after["period"]]
                )
    return limits


def _freshness(node: dict, inherited: dict | None) -> dict | None:
    """A source's or table's `freshness` (under `config:` or not); its source's when it sets none."""
    for scope in (node.get("config") or {}, node):
        if "freshness" in scope:
            return scope["freshness"]
    return inherited


_DBT_MAX_AGE_HOURS = dbt_source_max_age_hours()


def _dbt_required_max_age_hours(table: str) -> float:
    """The limit of a source every tenant has: dbt must state one."""
    limit = _DBT_MAX_AGE_HOURS[table]
    if limit is None:
        raise ValueError(f"dbt's source `{table}` states no freshness error_after: every tenant has it, give it one")
    return limit


@dataclass(frozen=True)
class Thresholds:
    # --- marts and bi_build -----------------------------------------------------------------------------------
    #: Networks shares may be made to (those whose metrics are collected: LinkedIn and X).
    allowed_networks: tuple[str, ...] = ("linkedin", "x")
    #: Allowed |Σ attributed_X − X| per group or share. 0: weights sum to exactly 1, so the parts are exact.
    attribution_sum_tolerance: float = 0
    #: Minimum respondents behind a group that shows survey-derived values: the value the dbt build is given
    #: (`settings.K_ANONYMITY`, dbt var `k_anonymity` or its environment override).
    k_anonymity: int = settings.K_ANONYMITY
    #: Upper bound on rows of the attribution table: months × networks × 5 motivations; far above any real year.
    max_attribution_rows: int = 100_000
    #: Tonight's rows of a mart or `bi` candidate ÷ its rows at the last publish must lie in [min, max].
    volume_min_ratio: float = 0.8
    volume_max_ratio: float = 2.0

    # --- raw --------------------------------------------------------------------------------------------------
    #: A cumulative LinkedIn counter may fall from one night to the next by at most
    #: max(counter_drop_tolerance_abs, counter_drop_tolerance_ratio × last value) (LinkedIn's counts are best-effort:
    #: a withdrawn reaction lowers them a little).
    counter_drop_tolerance_abs: int = 2
    counter_drop_tolerance_ratio: float = 0.01
    #: Largest plausible follower count of a sharer (ranges on the export's `audience_size`).
    max_audience_size: int = 50_000_000
    #: Freshness: hours since the newest row of the table was extracted. The defaults are dbt's source freshness
    #: `error_after` (dbt_project/models/staging/*/_*__sources.yml, where each source says why its limit is what it
    #: is: survey responses only arrive while a wave is open; X, Bitly and the page posts follow the refresh
    #: schedule). None: unchecked.
    shares_max_age_hours: float = _dbt_required_max_age_hours("advocacy__shares")
    linkedin_max_age_hours: float = _dbt_required_max_age_hours("linkedin__member_post_analytics")
    typeform_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["typeform__responses"]
    #: The sources a tenant may not use (their raw tables may be empty or absent, see `raw_suites`).
    hr_roster_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["hr__roster"]
    linkedin_organization_daily_max_age_hours: float | None = _DBT_MAX_AGE_HOURS[
        "linkedin__organization_daily_statistics"
    ]
    x_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["x__tweet_metrics"]
    bitly_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["bitly__link_clicks"]
    linkedin_organization_posts_max_age_hours: float | None = _DBT_MAX_AGE_HOURS[
        "linkedin__organization_post_statistics"
    ]
    surveymonkey_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["surveymonkey__responses"]
    qualtrics_max_age_hours: float | None = _DBT_MAX_AGE_HOURS["qualtrics__responses"]

    def __post_init__(self) -> None:
        if not 0 < self.volume_min_ratio <= 1 <= self.volume_max_ratio:
            raise ValueError("volume bounds must satisfy 0 < volume_min_ratio <= 1 <= volume_max_ratio")
        if self.k_anonymity < 1:
            raise ValueError("k_anonymity must be at least 1")
        negative = [
            f.name
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), (int, float)) and getattr(self, f.name) < 0
        ]
        if negative:
            raise ValueError(f"thresholds must not be negative: {', '.join(negative)}")


def from_environment(environ: Mapping[str, str] = os.environ, base: Thresholds | None = None) -> Thresholds:
    """`base` (default: the defaults above) with every `SHAREWHY_THRESHOLD_*` override of `environ` applied."""
    types = typing.get_type_hints(Thresholds)
    overrides: dict[str, object] = {}
    for variable, text in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        name = variable.removeprefix(ENV_PREFIX).lower()
        if name not in types:
            known = ", ".join(ENV_PREFIX + field.upper() for field in types)
            raise ValueError(f"{variable} names no threshold; known: {known}")
        try:
            overrides[name] = _parse(text, types[name])
        except ValueError as error:
            raise ValueError(f"{variable}={text!r}: {error}") from None
    return dataclasses.replace(base or Thresholds(), **overrides)  # type: ignore[arg-type]  # parsed per field type


def _parse(text: str, annotation: object) -> object:
    text = text.strip()
    if annotation == tuple[str, ...]:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    optional = type(None) in typing.get_args(annotation)
    if optional and text.lower() == "none":
        return None
    kind = next(arg for arg in (typing.get_args(annotation) or (annotation,)) if arg is not type(None))
    return kind(text)


#: The thresholds `run_audit` applies unless given others: the defaults with the environment's overrides.
DEFAULT = from_environment()
