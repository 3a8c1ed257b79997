"""The audit step of write–audit–publish: validate raw arrivals, the marts and the `bi` candidates (in the run's
release schema) with GX Core, keep the evidence.

One ephemeral GX context per run, built entirely in code (suites from `expectations.suites`, one per audited
relation): nothing GX-side persists between runs or needs a project folder. The evidence that does persist:
- one row per expectation result in `audit.validation_runs` (queryable history, written in one transaction);
- Data Docs HTML in `settings.DATA_DOCS_DIR / <run id>`, rendered after the checkpoint into a filesystem site added
  to the ephemeral context (its validation results live in memory just long enough to render);
- one row in `audit.audited_builds`: which schema of candidates the run audited and its fingerprint
  (`expectations.fingerprint`), taken before the audit reads anything. `publish` promotes that schema only, and only
  while its fingerprint still matches.

GX is imported inside `run_audit` (the import costs ~5 s), so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.types.json import Jsonb

from expectations.connection import GX_CONNECTION_STRING, gx_url_in_environment
from expectations.fingerprint import fingerprint
from expectations.naming import candidate_relation, docs_dirname, release_schema
from expectations.rules import ERROR, WARNING, severity
from expectations.suites import (
    BI_BUILD_CATALOG,
    EXPECTATIONS,
    bi_build_catalog_query,
    build_suites,
    is_skipped_when_absent,
)
from expectations.thresholds import DEFAULT, Thresholds
from expectations.volumes import CREATE_PUBLISHED_VOLUMES
from sharewhy import settings

if TYPE_CHECKING:
    from great_expectations.datasource.fluent.sql_datasource import QueryAsset, TableAsset

log = logging.getLogger(__name__)

DOCS_SITE = "sharewhy_audit"

#: Per run: the schema of `bi` candidates it audited, their fingerprint, when the audit started.
AUDITED_BUILDS = f"{settings.AUDIT_SCHEMA}.audited_builds"

#: Parts of a COMPLETE result that grow with the table (every unexpected value); the partial samples stay.
_UNBOUNDED_RESULT_KEYS = frozenset({"unexpected_list", "unexpected_index_list", "unexpected_index_query"})

_CREATE_AUDIT_TABLE = f"""
create schema if not exists {settings.AUDIT_SCHEMA};
create table if not exists {settings.AUDIT_SCHEMA}.validation_runs (
    id bigint generated always as identity primary key,
    run_id text not null,
    suite text not null,
    expectation_type text not null,
    column_name text,
    description text,
    success boolean not null,
    observed jsonb not null,
    validated_at timestamptz not null,
    severity text not null default 'error' check (severity in ('error', 'warning'))
);
-- added with the non-blocking warnings: a failed `warning` is recorded, a failed `error` blocks the publish
alter table {settings.AUDIT_SCHEMA}.validation_runs
    add column if not exists severity text not null default 'error' check (severity in ('error', 'warning'));
create index if not exists validation_runs_run_id on {settings.AUDIT_SCHEMA}.validation_runs (run_id);
-- the newest passed run of a suite: where the raw suites' audited rows start (expectations.arrivals)
create index if not exists validation_runs_suite on {settings.AUDIT_SCHEMA}.validation_runs (suite, validated_at);
create table if not exists {AUDITED_BUILDS} (
    run_id text primary key,
    candidates text not null,
    fingerprint jsonb not null,
    audited_at timestamptz not null
);
"""


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result, in plain Python."""

    suite: str
    expectation_type: str
    column: str | None
    description: str | None
    success: bool
    #: GX's `result` dict (observed value, unexpected counts and samples, unexpected rows) plus any exception.
    observed: dict[str, Any] = field(repr=False)
    #: `error` (a failure blocks the publish) or `warning` (a failure is recorded, blocks nothing): `rules.warning`.
    severity: str = ERROR

    @property
    def blocks_publish(self) -> bool:
        """A failed expectation of severity `error`."""
        return not self.success and self.severity == ERROR

    @property
    def name(self) -> str:
        """How a person recognises the expectation: its description, else `type(column)`."""
        if self.description:
            return self.description
        return f"{self.expectation_type}({self.column})" if self.column else self.expectation_type


@dataclass(frozen=True)
class AuditResult:
    run_id: str
    success: bool
    passed: int
    failed: int
    failures: list[ExpectationOutcome]
    #: `index.html` of the run's Data Docs site.
    data_docs_path: Path
    elapsed_s: float
    #: Audited relations that do not exist and whose suites were not run (`suites.is_skipped_when_absent`): the raw
    #: tables of sources the tenant does not use, and `bi_build` candidates (the `bi_build` suite fails for those).
    skipped: tuple[str, ...] = ()
    #: Failed expectations of severity `warning`: recorded, shown, not blocking (not in `failures` nor `failed`).
    warnings: list[ExpectationOutcome] = field(default_factory=list)

    def summary(self) -> str:
        verdict = "passed" if self.success else "FAILED"
        warned = f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}" if self.warnings else ""
        lines = [f"audit {self.run_id} {verdict}: {self.passed} passed, {self.failed} failed{warned}"]
        lines.append(f"  Data Docs: {self.data_docs_path}")
        if self.skipped:
            lines.append(f"  not audited (no such table): {', '.join(self.skipped)}")
        lines += [f"  ✗ [{f.suite}] {f.name}: {_brief(f.observed)}" for f in self.failures]
        lines += [f"  ⚠ [{w.suite}] {w.name} (warning, does not block): {_brief(w.observed)}" for w in self.warnings]
        return "\n".join(lines)

    def raise_if_failed(self) -> None:
        if not self.success:
            raise AuditFailed(self)


class AuditFailed(RuntimeError):
    """The build did not pass its audit; `bi` must not be switched to it."""

    def __init__(self, result: AuditResult):
        super().__init__(result.summary())
        self.result = result


def run_audit(
    warehouse_url: str, run_id: str, thresholds: Thresholds = DEFAULT, candidates: str | None = None
) -> AuditResult:
    """Validate each suite of `build_suites(thresholds)` against its relation (raw, marts, the `bi` candidates in
    schema `candidates`, by default the run's release schema); record and return the outcome.

    An audited relation that does not exist is skipped when `suites.is_skipped_when_absent` says so (listed in
    `skipped`); any other raises GX's `TestConnectionError`, as does a warehouse GX cannot reach (psycopg's
    `OperationalError` when it cannot be reached at all): nothing is recorded then, so `publish` refuses the run.
    Not for concurrent use by threads of one process: the warehouse URL reaches GX through one process-wide
    environment variable.
    """
    clock = time.monotonic()
    candidates = candidates or release_schema(run_id)
    docs_dir = settings.DATA_DOCS_DIR / docs_dirname(run_id)
    with psycopg.connect(warehouse_url) as conn:  # the volume and raw expectations read the audit's history
        # the warehouse's clock, which stamps the marts' `built_at`: the next audits' marts rules read the rows
        # built since this start (expectations.mart_suites.built_since), with no skew between two clocks to allow for
        ((started,),) = conn.execute("select clock_timestamp()").fetchall()
        conn.execute(CREATE_PUBLISHED_VOLUMES)
        conn.execute(_CREATE_AUDIT_TABLE)
        conn.commit()
        audited = fingerprint(conn, candidates)  # before anything is read: a later change shows at publish
        audited_relation = {candidate_relation(relation, candidates): relation for relation in EXPECTATIONS}
        absent = frozenset(
            audited_relation[where]
            for (where,) in conn.execute(
                "select relation from unnest(%s::text[]) as relation where to_regclass(relation) is null",
                (list(audited_relation),),
            )
        )
    skipped = tuple(relation for relation in EXPECTATIONS if relation in absent and is_skipped_when_absent(relation))
    if skipped:
        log.warning("audit %s: not auditing %s: no such table", run_id, ", ".join(skipped))
    with gx_url_in_environment(warehouse_url):
        outcomes = _validate(run_id, thresholds, docs_dir, absent, candidates)
    _record(warehouse_url, run_id, outcomes, validated_at=started, candidates=candidates, audited=audited)
    failures = [outcome for outcome in outcomes if outcome.blocks_publish]
    warnings = [outcome for outcome in outcomes if not outcome.success and outcome.severity == WARNING]
    result = AuditResult(
        run_id=run_id,
        success=not failures,
        passed=len(outcomes) - len(failures) - len(warnings),
        failed=len(failures),
        failures=failures,
        warnings=warnings,
        data_docs_path=docs_dir / "index.html",
        elapsed_s=time.monotonic() - clock,
        skipped=skipped,
    )
    log.info("%s (%.1f s)", result.summary(), result.elapsed_s)
    return result


def _validate(
    run_id: str, thresholds: Thresholds, docs_dir: Path, absent: frozenset[str], candidates: str
) -> list[ExpectationOutcome]:
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.add_data_docs_site(
        DOCS_SITE,
        {  # type: ignore[typeddict-unknown-key]  # GX's TypedDict lacks these two documented SiteBuilder keys
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            # A page per validation result only: each shows its suite's expectations with their results, so the
            # pages of the suites themselves would repeat them (and cost a third of the rendering).
            "site_section_builders": {"expectations": "0", "profiling": "0"},
        },
    )
    warehouse = context.data_sources.add_postgres(name="warehouse", connection_string=GX_CONNECTION_STRING)
    validation_definitions = []
    for relation, suite in build_suites(thresholds, absent).items():
        asset: QueryAsset | TableAsset
        if relation == BI_BUILD_CATALOG:
            asset = warehouse.add_query_asset(name=relation, query=bi_build_catalog_query(candidates))
        else:
            schema, table = candidate_relation(relation, candidates).split(".")
            asset = warehouse.add_table_asset(name=relation, table_name=table, schema_name=schema)
        validation_definitions.append(
            context.validation_definitions.add(
                gx.ValidationDefinition(
                    name=suite.name,
                    data=asset.add_batch_definition_whole_table("whole_table"),
                    suite=context.suites.add(suite),
                )
            )
        )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name="quality_gate",
            validation_definitions=validation_definitions,
            # COMPLETE: the SQL expectations then report the offending rows (GX caps them at 200).
            result_format={"result_format": "COMPLETE"},
        )
    )
    checkpoint_result = checkpoint.run(run_id=RunIdentifier(run_name=run_id))
    # Once for the whole run, from the results the run stored in the context: `UpdateDataDocsAction` would rebuild
    # the site once per suite, which costs seconds.
    context.build_data_docs(site_names=[DOCS_SITE])
    return [
        _outcome(suite_result.suite_name, expectation_result)
        for suite_result in checkpoint_result.run_results.values()
        for expectation_result in suite_result.results
    ]


def _outcome(suite: str, result) -> ExpectationOutcome:
    config = result.expectation_config
    kwargs = config.kwargs
    columns = kwargs.get("column_list") or [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    observed = _jsonable({k: v for k, v in (result.result or {}).items() if k not in _UNBOUNDED_RESULT_KEYS})
    errors = sorted(set(_exception_messages(result.exception_info)))
    if errors:
        observed["exception"] = "; ".join(errors)
    return ExpectationOutcome(
        suite=suite,
        expectation_type=config.type,
        column=",".join(columns) or None,
        description=config.description,
        success=bool(result.success),
        observed=observed,
        severity=severity(config.meta),
    )


def _exception_messages(info: Any) -> list[str]:
    """Messages of the exceptions GX caught: `exception_info` is one ExceptionInfo dict, or (when a metric failed)
    a dict of metric id → ExceptionInfo or a set of them."""
    if isinstance(info, dict) and "exception_message" in info:
        return [info["exception_message"]] if info.get("raised_exception") else []
    children = info.values() if isinstance(info, dict) else info if isinstance(info, (set, list, tuple)) else ()
    return [message for child in children for message in _exception_messages(child)]


def _jsonable(value: Any) -> Any:
    """GX results hold Decimals, dates and numpy scalars; keep them readable in jsonb."""
    return json.loads(json.dumps(value, default=str))


def _brief(observed: dict[str, Any]) -> str:
    """The most telling part of a failure's details, for the one-line summary."""
    keys = ("exception", "observed_value", "unexpected_count", "partial_unexpected_list", "details")
    telling = {key: observed[key] for key in keys if observed.get(key) not in (None, [], {})}
    return json.dumps(telling, default=str)[:500]


def _record(
    warehouse_url: str,
    run_id: str,
    outcomes: list[ExpectationOutcome],
    validated_at: dt.datetime,
    candidates: str,
    audited: dict[str, list],
) -> None:
    """Replace the run's rows in `audit.validation_runs` and `audit.audited_builds` (a retried run keeps only its
    latest results), in one transaction."""
    with psycopg.connect(warehouse_url) as conn:
        conn.execute(_CREATE_AUDIT_TABLE)
        conn.execute(f"delete from {settings.AUDIT_SCHEMA}.validation_runs where run_id = %s", (run_id,))
        conn.execute(
            f"insert into {AUDITED_BUILDS} (run_id, candidates, fingerprint, audited_at) values (%s, %s, %s, %s)"
            " on conflict (run_id) do update set candidates = excluded.candidates,"
            " fingerprint = excluded.fingerprint, audited_at = excluded.audited_at",
            (run_id, candidates, Jsonb(audited), validated_at),
        )
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into {settings.AUDIT_SCHEMA}.validation_runs"
                " (run_id, suite, expectation_type, column_name, description, success, observed, validated_at,"
                " severity) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        o.suite,
                        o.expectation_type,
                        o.column,
                        o.description,
                        o.success,
                        Jsonb(o.observed),
                        validated_at,
                        o.severity,
                    )
                    for o in outcomes
                ],
            )
