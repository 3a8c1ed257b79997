"""Thresholds of the quality gate, as configuration kept apart from the expectations that use them.

A typed Python object rather than a YAML file: it needs no parser or package-data, a typo fails at import,
and a caller (a DAG, a test) passes its own `Thresholds(...)` to `run_audit` to override a value.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The four motivation constructs of the survey (spec: "The synthetic company").
MOTIVATION_CONSTRUCTS: tuple[str, ...] = ("obligated", "good_news", "proud", "educate")

#: Where shares without a usable survey profile, and small groups, are attributed.
UNATTRIBUTED = "unattributed"


@dataclass(frozen=True)
class Thresholds:
    #: Values `bi_build.motivation_attribution.motivation` may take.
    allowed_motivations: tuple[str, ...] = (*MOTIVATION_CONSTRUCTS, UNATTRIBUTED)
    #: Allowed |Σ attributed_X − X| per month × network. 0: weights sum to exactly 1, so the parts are exact.
    attribution_sum_tolerance: float = 0
    #: Minimum respondents behind a group that shows survey-derived values (dbt var `k_anonymity`, same default).
    k_anonymity: int = 5
    #: Upper bound on rows of the attribution table: months × networks × 5 motivations; far above any real year.
    max_attribution_rows: int = 100_000


DEFAULT = Thresholds()
