"""The GX Core suites of the quality gate, built in code from `Thresholds`: raw arrivals, marts, `bi` candidates.

`build_suites` maps each audited relation (`schema.table`) to its suite, named after it; `audit.run_audit`
validates every entry, so a new table gets audited by adding a builder here. Great Expectations is imported
inside the builders because importing it costs ~5 s and importers of this module (DAG files) must stay fast.

The `bi` candidates are named `bi_build.<table>` here (suite names, recorded volumes) whichever schema holds them: a
transform run builds them into its release schema, and the audit reads them there
(`naming.candidate_relation`).

Nothing reaches `bi` unaudited: `publish` exposes every relation of the audited schema, so one more suite, `bi_build`
(over the list of the schema's relations, `BI_BUILD_CATALOG`), fails when that schema holds a relation without a
suite here, naming it, and when a relation with a suite was not built (its own suite cannot run then; publishing
without it would drop its `bi` view).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from expectations import bi_build_suites, mart_suites, raw_suites
from expectations.naming import is_candidate
from expectations.rules import rule, sql_list
from expectations.thresholds import DEFAULT, Thresholds
from sharewhy import settings

if TYPE_CHECKING:
    import great_expectations as gx

#: Audited relation → the builder of its expectations, in audit order (sources first, then what is built on them).
EXPECTATIONS: dict[str, Callable[[Thresholds], list]] = {
    raw_suites.SHARES: raw_suites.advocacy_shares_expectations,
    raw_suites.LINKEDIN: raw_suites.linkedin_expectations,
    raw_suites.TYPEFORM: raw_suites.typeform_expectations,
    raw_suites.HR_ROSTER: raw_suites.hr_roster_expectations,
    raw_suites.X_METRICS: raw_suites.x_tweet_metrics_expectations,
    raw_suites.BITLY_CLICKS: raw_suites.bitly_link_clicks_expectations,
    raw_suites.SURVEYMONKEY: raw_suites.surveymonkey_expectations,
    raw_suites.SURVEYMONKEY_DETAILS: raw_suites.surveymonkey_details_expectations,
    raw_suites.QUALTRICS: raw_suites.qualtrics_expectations,
    raw_suites.LINKEDIN_ORGANIZATION_DAILY: raw_suites.linkedin_organization_daily_expectations,
    raw_suites.LINKEDIN_ORGANIZATION_POSTS: raw_suites.linkedin_organization_posts_expectations,
    mart_suites.FCT_SHARES: mart_suites.fct_shares_expectations,
    mart_suites.FCT_SHARE_ATTRIBUTION: mart_suites.fct_share_attribution_expectations,
    bi_build_suites.MOTIVATION_ATTRIBUTION: bi_build_suites.motivation_attribution_expectations,
    bi_build_suites.MOTIVATION_LIFT: bi_build_suites.motivation_lift_expectations,
    bi_build_suites.TEAM_MORALE: bi_build_suites.team_morale_expectations,
    bi_build_suites.ADVOCACY_KPIS: bi_build_suites.advocacy_kpis_expectations,
    bi_build_suites.OBLIGATION_SIGNALS: bi_build_suites.obligation_signals_expectations,
    bi_build_suites.SALESY_RISK: bi_build_suites.salesy_risk_expectations,
    bi_build_suites.CONSENT_COVERAGE: bi_build_suites.consent_coverage_expectations,
    bi_build_suites.MONTHLY_TOTALS: bi_build_suites.monthly_totals_expectations,
    bi_build_suites.TEAM_MOTIVATION_CLICKS: bi_build_suites.team_motivation_clicks_expectations,
    bi_build_suites.CONTENT_OBLIGATION: bi_build_suites.content_obligation_expectations,
    bi_build_suites.CONTENT_TYPE_OBLIGATION: bi_build_suites.content_type_obligation_expectations,
}

#: Relations whose row count `publish` records, for the next night's volume expectation.
VOLUME_CHECKED = (
    mart_suites.FCT_SHARES,
    mart_suites.FCT_SHARE_ATTRIBUTION,
    bi_build_suites.MOTIVATION_ATTRIBUTION,
    bi_build_suites.MOTIVATION_LIFT,
    bi_build_suites.TEAM_MORALE,
    bi_build_suites.ADVOCACY_KPIS,
    bi_build_suites.OBLIGATION_SIGNALS,
    bi_build_suites.SALESY_RISK,
    bi_build_suites.CONSENT_COVERAGE,
    bi_build_suites.MONTHLY_TOTALS,
    bi_build_suites.TEAM_MOTIVATION_CLICKS,
    bi_build_suites.CONTENT_OBLIGATION,
    bi_build_suites.CONTENT_TYPE_OBLIGATION,
)

#: The suite over the relations of `bi_build` (the guard of the module docstring); validated after the others.
BI_BUILD_CATALOG = settings.BI_BUILD_SCHEMA

#: What `publish` gives a `bi` view: tables, partitioned tables, views, materialised views (`expectations.publish`).
_BI_BUILD_RELATIONS = """
select c.relname::text as table_name from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname = '{schema}' and c.relkind in ('r', 'p', 'v', 'm')
"""


def is_skipped_when_absent(relation: str) -> bool:
    """Whether an audited relation that does not exist is left out of the audit instead of failing it: the raw
    tables of sources a tenant may not use (`raw_suites.OPTIONAL`), and `bi_build` candidates (the `bi_build`
    suite fails for those, naming them)."""
    return relation in raw_suites.OPTIONAL or is_candidate(relation)


def bi_build_catalog_query(candidates: str = settings.BI_BUILD_SCHEMA) -> str:
    """The query whose rows (`table_name`) the `bi_build` suite validates: one per relation of schema `candidates`
    (a plain identifier, `naming.release_schema`) that `publish` would expose."""
    if not candidates.replace("_", "").isalnum():
        raise ValueError(f"not a plain schema name: {candidates!r}")
    return " ".join(_BI_BUILD_RELATIONS.format(schema=candidates).split())


def bi_build_catalog_expectations(thresholds: Thresholds) -> list[gx.expectations.Expectation]:
    audited = sorted(relation.split(".", 1)[1] for relation in EXPECTATIONS if is_candidate(relation))
    return [
        rule(
            "every bi_build table has a suite (publish would expose it in bi unaudited)",
            f"select table_name from {{batch}} where table_name not in ({sql_list(audited)})",
        ),
        rule(
            "every bi_build table with a suite was built (publishing without it would drop its bi view)",
            f"select audited.table_name from (values {', '.join(f'({sql_list([name])})' for name in audited)})"
            " as audited (table_name) where audited.table_name not in (select table_name from {batch})",
        ),
    ]


def build_suites(
    thresholds: Thresholds = DEFAULT, absent: frozenset[str] = frozenset()
) -> dict[str, gx.ExpectationSuite]:
    """Audited relation (`schema.table`) → its suite (named after it), the `bi_build` suite last. Relations in
    `absent` that `is_skipped_when_absent` are left out."""
    import great_expectations as gx

    builders = {
        relation: expectations
        for relation, expectations in EXPECTATIONS.items()
        if not (relation in absent and is_skipped_when_absent(relation))
    }
    builders[BI_BUILD_CATALOG] = bi_build_catalog_expectations
    suites = {}
    for name, expectations in builders.items():
        suite = gx.ExpectationSuite(name=name)
        for expectation in expectations(thresholds):
            suite.add_expectation(expectation)
        suites[name] = suite
    return suites
