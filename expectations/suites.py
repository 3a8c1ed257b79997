"""The GX Core suites of the quality gate, built in code from `Thresholds`: raw arrivals, marts, `bi` candidates.

`build_suites` maps each audited relation (`schema.table`) to its suite, named after it; `audit.run_audit`
validates every entry, so a new table gets audited by adding a builder here. Great Expectations is imported
inside the builders because importing it costs ~5 s and importers of this module (DAG files) must stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from expectations import bi_build_suites, mart_suites, raw_suites
from expectations.thresholds import DEFAULT, Thresholds

if TYPE_CHECKING:
    import great_expectations as gx

#: Audited relation → the builder of its expectations, in audit order (sources first, then what is built on them).
EXPECTATIONS: dict[str, Callable[[Thresholds], list]] = {
    raw_suites.SHARES: raw_suites.advocacy_shares_expectations,
    raw_suites.LINKEDIN: raw_suites.linkedin_expectations,
    raw_suites.TYPEFORM: raw_suites.typeform_expectations,
    mart_suites.FCT_SHARES: mart_suites.fct_shares_expectations,
    mart_suites.FCT_SHARE_ATTRIBUTION: mart_suites.fct_share_attribution_expectations,
    bi_build_suites.MOTIVATION_ATTRIBUTION: bi_build_suites.motivation_attribution_expectations,
}

#: Relations whose row count `publish` records, for the next night's volume expectation.
VOLUME_CHECKED = (
    mart_suites.FCT_SHARES,
    mart_suites.FCT_SHARE_ATTRIBUTION,
    bi_build_suites.MOTIVATION_ATTRIBUTION,
)


def build_suites(thresholds: Thresholds = DEFAULT) -> dict[str, gx.ExpectationSuite]:
    """Audited relation (`schema.table`) → its suite (named after the relation)."""
    import great_expectations as gx

    suites = {}
    for relation, expectations in EXPECTATIONS.items():
        suite = gx.ExpectationSuite(name=relation)
        for expectation in expectations(thresholds):
            suite.add_expectation(expectation)
        suites[relation] = suite
    return suites
