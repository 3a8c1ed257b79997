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

from sharewhy import settings

#: The four motivation constructs of the survey (spec: "The synthetic company"), as dbt lists them.
MOTIVATION_CONSTRUCTS: tuple[str, ...] = settings.MOTIVATION_CONSTRUCTS

#: Where shares without a usable survey profile, and small groups, are attributed.
UNATTRIBUTED = "unattributed"

#: Prefix of the environment variables that override a threshold.
ENV_PREFIX = "SHAREWHY_THRESHOLD_"


@dataclass(frozen=True)
class Thresholds:
    # --- marts and bi_build -----------------------------------------------------------------------------------
    #: Values a `motivation` column may take.
    allowed_motivations: tuple[str, ...] = (*MOTIVATION_CONSTRUCTS, UNATTRIBUTED)
    #: Networks shares may be made to (those whose metrics are collected: LinkedIn and X).
    allowed_networks: tuple[str, ...] = ("linkedin", "x")
    #: Allowed |Σ attributed_X − X| per group or share. 0: weights sum to exactly 1, so the parts are exact.
    attribution_sum_tolerance: float = 0
    #: Allowed |Σ weight − 1| per share. 0: dbt makes the largest weight absorb the rounding.
    weight_sum_tolerance: float = 0
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
    #: Freshness: hours since the newest row of the table was extracted (dbt's source freshness `error_after`).
    #: Survey responses only arrive while a wave is open, so their silence is normal for a quarter; None: unchecked.
    shares_max_age_hours: float = 50
    linkedin_max_age_hours: float = 50
    typeform_max_age_hours: float | None = 100 * 24
    #: The sources a tenant may not use (their raw tables may be empty or absent, see `raw_suites`); None: unchecked.
    #: The HR roster and the page's daily statistics land every night. X metrics, Bitly clicks and the page posts'
    #: statistics follow the refresh schedule (ingestion.refresh, "7:1,90:7"): a post or link of the last 90 days
    #: is fetched at least every 7 days, so a tenant that shares rarely may land nothing for a week (+ a day).
    #: SurveyMonkey and Qualtrics responses, like Typeform's, only arrive while a wave is open.
    hr_roster_max_age_hours: float | None = 50
    linkedin_organization_daily_max_age_hours: float | None = 50
    x_max_age_hours: float | None = 8 * 24
    bitly_max_age_hours: float | None = 8 * 24
    linkedin_organization_posts_max_age_hours: float | None = 8 * 24
    surveymonkey_max_age_hours: float | None = 100 * 24
    qualtrics_max_age_hours: float | None = 100 * 24

    def __post_init__(self) -> None:
        if not 0 < self.volume_min_ratio <= 1 <= self.volume_max_ratio:
            raise ValueError("volume bounds must satisfy 0 < volume_min_ratio <= 1 <= volume_max_ratio")
        if self.k_anonymity < 1:
            raise ValueError("k_anonymity must be at least 1")
        negative = [
            f.name for f in dataclasses.fields(self)
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
    return dataclasses.replace(base or Thresholds(), **overrides)


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
