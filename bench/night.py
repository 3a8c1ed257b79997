"""A night at scale: where its time goes, what it costs in API calls, and how its cost grows with history.

Two warehouses (scratch databases) hold the same tenant with 1× and G× history (G× the days at the same daily rate,
bench/tenant.py). Each gets its history laid down in bulk, a first full `dbt build` and an audit of the history's
raw rows (set-up, not measured; see `BenchWarehouse.audit_history`). Then, round by round, alternating which goes
first, each runs the same new night end to end — on a fresh copy of its warehouse as the set-up left it (CREATE
DATABASE … TEMPLATE), so every round repeats identical work — with the project's own code, in process, stage by
stage:

  ingestion  ingestion.run.land_advocacy_shares / land_hr_roster (file drops), land_linkedin_post_analytics and
             land_typeform_responses (the simulator, in a process of its own, bench/serve.py)
  dbt        sharewhy.transform.build_release (`dbt build`, the `bi` candidates into the run's release), under the
             transform lease — incremental models build incrementally
  audit      expectations.audit.run_audit (GX imported beforehand: a cold import is task start-up, which the
             orchestration figure measures)
  publish    expectations.publish.publish

After each round's incremental night, the 1× copy also runs `dbt build --full-refresh` → audit → publish over the
same data (full profile); with that night's ingestion time added it is the full-refresh night the ratio compares.

API efficiency comes from the same nights: LinkedIn's calls (raw._loads.api_calls) against the minimum.
LinkedIn's memberCreatorPostAnalytics carries one post × one metric per call (q=entity takes a single entity, and
queryType a single metric), so the batching minimum is due posts × metrics; X (100 ids a call) and Bitly are not
part of the tenant yet.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg

from bench.common import REPO_ROOT, Report, RoundCopies, Samples, alternate, clock, ratios, scratch_database
from bench.tenant import (
    LINKEDIN_METRICS,
    MEASURED_FOR_DAYS,
    METRIC_COLUMNS,
    OLD_POST_READING_NIGHTS,
    POLICY_READING_NIGHTS,
    Tenant,
    TenantSpec,
)
from expectations.naming import release_schema
from ingestion.http import ApiConfig
from ingestion.loader import apply_raw_schema
from ingestion.run import land_advocacy_shares, land_hr_roster, land_linkedin_post_analytics, land_typeform_responses
from sharewhy import settings

TOKEN = "bench-simulator-token"


def enrol_tenant_members(url: str, spec) -> None:
    """Import the tenant members' tokens (the simulator's consent export) into the warehouse's token store, under
    SHAREWHY_TOKEN_KEYS or the local state folder's key (set into the environment for the loads that follow)."""
    from bench.tenant import tenant_consent
    from ingestion.tokens import TokenCipher, TokenStore, import_records
    from sharewhy import consent

    keys = consent.local_token_keys()
    os.environ[consent.KEYS_ENV] = keys
    store = TokenStore(url, TokenCipher(keys))
    import_records(store, enumerate(tenant_consent(spec, TOKEN).export(), 1), "bench")


STAGES = ("ingestion", "dbt", "audit", "publish")
#: The raw tables the history is laid into, and the sort memory their indexes are built with afterwards.
HISTORY_TABLES = ("raw.advocacy__shares", "raw.linkedin__member_post_analytics", "raw.hr__roster")
SETUP_MAINTENANCE_WORK_MEM = "1GB"


@contextlib.contextmanager
def indexes_deferred(conn: psycopg.Connection, tables: tuple[str, ...], done: Callable[[str], None]) -> Iterator[None]:
    """Drop the tables' indexes (unique constraints included) for a bulk load and build them again after it, in
    the same transaction: one sort per index instead of a B-tree insertion per row, which at tens of millions of
    rows is most of the load's time. `done` is told when the indexes are back."""
    constraints = conn.execute(
        "select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        " where conrelid = any(%s::regclass[]) and contype in ('u', 'p')",
        (list(tables),),
    ).fetchall()
    indexes = conn.execute(
        "select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i"
        " where i.indrelid = any(%s::regclass[])"
        " and not exists (select from pg_constraint c where c.conindid = i.indexrelid)",
        (list(tables),),
    ).fetchall()
    for table, name, _ in constraints:
        conn.execute(f'alter table {table} drop constraint "{name}"')
    for name, _ in indexes:
        conn.execute(f"drop index {name}")
    yield
    for table, name, definition in constraints:
        conn.execute(f'alter table {table} add constraint "{name}" {definition}')
    for _, definition in indexes:
        conn.execute(definition)
    done("indexes built")


INGESTION_STEPS = ("advocacy", "hr", "linkedin", "typeform")


@contextlib.contextmanager
def served(spec: TenantSpec, night: date) -> Iterator[dict]:
    fields = {**dataclasses.asdict(spec), "first_night": spec.first_night.isoformat()}
    env = {**os.environ, "SHAREWHY_SIMULATOR_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", json.dumps(fields), night.isoformat()],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator did not start (exit code {process.wait()})")
        yield json.loads(line)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextlib.contextmanager
def output_to(log_path: Path) -> Iterator[None]:
    """Send this process's stdout/stderr (and its children's: dbt) to a log file for the duration."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


class BenchWarehouse(RoundCopies):
    """One scratch database holding the tenant, and the nights run on it."""

    def __init__(self, label: str, url: str, tenant: Tenant, work: Path):
        self.label, self.url, self.tenant, self.work = label, url, tenant, work
        self.drop = work / "drop"
        self.log = work / "bench.log"
        self.run_ids: list[str] = []
        #: Per dbt build: node (model, test) → seconds, from dbt's run_results.json.
        self.node_times: list[dict[str, float]] = []
        self.history_seconds = 0.0
        #: Set-up step → seconds (laying the history step by step, first build, history audit).
        self.setup_times: dict[str, float] = {}

    # ---- set-up ------------------------------------------------------------------------------------------------

    def lay_history(self) -> dict[str, int]:
        """The history straight into raw (COPY and server-side SQL): shares, LinkedIn readings, HR rosters."""
        spec, tenant = self.tenant.spec, self.tenant
        started = step_started = clock()
        days = spec.history_day_list()

        def step(name: str) -> None:
            nonlocal step_started
            now = clock()
            self.setup_times[name] = now - step_started
            step_started = now

        history_end = datetime.combine(spec.first_night, time(), UTC)
        with psycopg.connect(self.url, autocommit=True) as conn:
            apply_raw_schema(conn)
            conn.execute("create schema if not exists bench_tenant")
            conn.execute(
                "create table bench_tenant.posts (post_urn text, shared_at timestamptz, impressions bigint,"
                " members_reached bigint, reactions bigint, comments bigint, reshares bigint, link_clicks bigint)"
            )
            conn.execute("create table bench_tenant.roster (employee_id text, payload jsonb)")
            conn.execute(f"set maintenance_work_mem = '{SETUP_MAINTENANCE_WORK_MEM}'")
            load_id = uuid.uuid4()
            with conn.transaction(), indexes_deferred(conn, HISTORY_TABLES, step):
                # one pass over the days: each day's shares drawn once, its posts' totals spooled for the next COPY
                with tempfile.TemporaryFile("w+", encoding="utf-8") as posts:
                    with (
                        conn.cursor() as cur,
                        cur.copy(
                            "copy raw.advocacy__shares"
                            " (share_id, payload, _load_id, _extracted_at, _logical_date, _request) from stdin"
                        ) as copy,
                    ):
                        for day in days:
                            copy.write("".join(tenant.raw_share_lines([day], "bench://history", load_id)))
                            shares = tenant.shares_on(day)
                            columns = [shares.totals[c].tolist() for c in METRIC_COLUMNS.values()]
                            posts.write(
                                "".join(
                                    f"{urn}\t{at.isoformat()}\t" + "\t".join(map(str, values)) + "\n"
                                    for urn, at, *values in zip(
                                        shares.post_urns, shares.shared_at, *columns, strict=True
                                    )
                                )
                            )
                    step("history shares COPY")
                    posts.seek(0)
                    with conn.cursor() as cur, cur.copy("copy bench_tenant.posts from stdin") as copy:
                        while block := posts.read(1 << 20):
                            copy.write(block)
                step("tenant posts COPY")
                with conn.cursor() as cur, cur.copy("copy bench_tenant.roster from stdin") as copy:
                    for row in tenant.roster_rows():
                        copy.write_row((row["employee_id"], json.dumps(row)))
                readings = ",\n".join(f"('{m}', p.{c})" for m, c in METRIC_COLUMNS.items())
                # A reading on night r is as of the end of r; counts follow the simulator's counter_at. Every history
                # row is extracted when its night ran (00:30 the next day), never "now": the incremental models take
                # what was extracted since their last build (minus a lookback), so history extracted at set-up time
                # would be reprocessed in full by the first benchmarked night.
                conn.execute(
                    f"""
                    insert into raw.linkedin__member_post_analytics
                        (post_urn, metric_type, payload, _load_id, _extracted_at, _logical_date, _request)
                    select p.post_urn, m.metric,
                           jsonb_build_object(
                               'count', floor(m.total * (1 - exp(-extract(epoch from (r.night + 1)::timestamptz
                                                                             - p.shared_at) / 86400 / 1.5)))::bigint,
                               'metricType', m.metric,
                               'targetEntity', jsonb_build_object(
                                   case when p.post_urn like 'urn:li:share:%%' then 'share' else 'ugc' end, p.post_urn),
                               'dateRange', '{{}}'::jsonb),
                           %(load_id)s, (r.night + time '00:30' + interval '1 day') at time zone 'UTC', r.night,
                           'bench://history'
                    from bench_tenant.posts p
                    cross join lateral (
                        select (p.shared_at at time zone 'UTC')::date + n as night
                        from unnest(case when p.shared_at >= %(young_since)s then %(policy)s::int[] else %(old)s::int[] end)
                            as n
                    ) r
                    cross join lateral (values {readings}) as m(metric, total)
                    where r.night < %(first_night)s
                    """,
                    {
                        "load_id": load_id,
                        "policy": list(POLICY_READING_NIGHTS),
                        "old": list(OLD_POST_READING_NIGHTS),
                        "first_night": spec.first_night,
                        "young_since": history_end - timedelta(days=MEASURED_FOR_DAYS + 1),
                    },
                )
                step("LinkedIn readings INSERT")
                conn.execute(
                    """
                    insert into raw.hr__roster (employee_id, payload, _load_id, _extracted_at, _logical_date, _request)
                    select r.employee_id, r.payload, %(load_id)s, n.night + interval '1 day 30 minutes', n.night::date,
                           'bench://history'
                    from bench_tenant.roster r
                    cross join generate_series(%(first)s::timestamptz, %(last)s::timestamptz, interval '1 day') as n(night)
                    """,
                    {
                        "load_id": load_id,
                        "first": spec.first_night - timedelta(days=spec.roster_nights),
                        "last": spec.first_night - timedelta(days=1),
                    },
                )
                step("rosters INSERT")
            last_day = json.dumps({"last_day": (spec.first_night - timedelta(days=1)).isoformat()})
            for source, entity in (("advocacy", "shares"), ("hr", "roster")):
                conn.execute(
                    "insert into raw._ingestion_state (source, entity, state, load_id, updated_at)"
                    " values (%s, %s, %s::jsonb, %s, %s)",
                    (source, entity, last_day, load_id, history_end),
                )
            conn.execute("analyze")
            step("analyze")
            counts = {
                table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
                for table in ("advocacy__shares", "linkedin__member_post_analytics", "hr__roster")
            }
        self.history_seconds = clock() - started
        return counts

    # ---- a night -----------------------------------------------------------------------------------------------

    def mark_history_audited(self) -> str:
        """What `audit_history` leaves for the nights, without reading the history: one passed row per raw and marts
        suite in `audit.validation_runs`, as of now (run id `bench_…_history_marked_…`, `observed` saying it was not
        audited). The nights' audits read only the raw rows that arrived since that pass (`expectations.arrivals`)
        and the marts' rows built since (`expectations.mart_suites.built_since`), so they do the same work as after
        a real audit of the history's build; what is skipped is checking the generated history itself — 198 s at
        100,000 shares, and it grows with the rows (hours at millions of shares). The history comes from the same
        per-day generator at every size, and the quick and toy profiles audit it for real (`--audit-history` does
        at any size)."""
        from expectations.audit import _CREATE_AUDIT_TABLE  # the audit's own tables, as its first run makes them
        from expectations.mart_suites import MARTS_SCHEMA
        from expectations.suites import EXPECTATIONS  # audited relation → its expectations; a suite per relation

        suites = [name for name in EXPECTATIONS if name.startswith((f"{settings.RAW_SCHEMA}.", f"{MARTS_SCHEMA}."))]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(_CREATE_AUDIT_TABLE)
            conn.execute(
                f"insert into {settings.AUDIT_SCHEMA}.validation_runs"
                " (run_id, suite, expectation_type, description, success, observed, validated_at)"
                " select %s, suite, 'bench_history_marked', 'bench set-up: the history marked audited, not read',"
                " true, '{}'::jsonb, now() from unnest(%s::text[]) as suite",
                (self.run_id("history_marked", self.tenant.spec.first_night), suites),
            )
        return "raw marked passed"

    def audit_history(self) -> str:
        """Audit the history once, as its own nights' audits would have: a night's audit reads the raw rows that
        arrived since the last audit their suite passed (`expectations.arrivals`), so without one the benchmarked
        night would read all of history, which no night after the first does. Freshness is lifted for this audit
        only: the history's rows carry the time their own nights extracted them, and those nights judged their
        freshness then. Returns the raw suites' verdict (the marts' and candidates' do not matter here)."""
        from expectations.audit import run_audit
        from expectations.thresholds import DEFAULT

        as_of_their_nights = dataclasses.replace(
            DEFAULT,
            **{f.name: 100 * 365 * 24.0 for f in dataclasses.fields(DEFAULT) if f.name.endswith("_max_age_hours")},
        )
        with output_to(self.log):
            result = run_audit(self.url, self.run_id("history", self.tenant.spec.first_night), as_of_their_nights)
        self.run_ids.append(result.run_id)
        raw = [f.name for f in result.failures if f.suite.startswith(f"{settings.RAW_SCHEMA}.")]
        return "raw passed" if not raw else "raw FAILED: " + "; ".join(raw)[:300]

    def ingest(self, night: date) -> tuple[dict[str, float], dict[str, object]]:
        self.tenant.write_shares_file(self.drop, night)
        self.tenant.write_roster_file(self.drop, night)
        times: dict[str, float] = {}
        reports: dict[str, object] = {}
        with served(self.tenant.spec, night) as apis, output_to(self.log):
            enrol_tenant_members(self.url, self.tenant.spec)  # set-up, not measured: the members' own tokens
            for step in INGESTION_STEPS:
                started = clock()
                if step == "advocacy":
                    reports[step] = land_advocacy_shares(self.url, night, self.drop)
                elif step == "hr":
                    reports[step] = land_hr_roster(self.url, night, self.drop)
                elif step == "linkedin":
                    reports[step] = land_linkedin_post_analytics(self.url, night, ApiConfig(apis["linkedin"], TOKEN))
                else:
                    reports[step] = land_typeform_responses(
                        self.url, night, ApiConfig(apis["typeform"], TOKEN), apis["form_ids"]
                    )
                times[step] = clock() - started
        return times, reports

    def transform_audit_publish(
        self, run_id: str, full_refresh: bool = False, tests: bool = True, audit: bool = True
    ) -> tuple[dict[str, float], str]:
        """dbt build → audit → publish; returns stage times and the audit's verdict. (`tests=False` skips dbt's data
        and unit tests, `audit=False` the audit and publish: for a set-up build that nothing measures.)"""
        from expectations.audit import run_audit
        from expectations.publish import publish
        from sharewhy import transform_lease
        from sharewhy.transform import build_release

        times: dict[str, float] = {}
        self.run_ids.append(run_id)
        with output_to(self.log):
            started = clock()
            skip_tests = [] if tests else ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
            with transform_lease.held(self.url, run_id):
                try:
                    build_release(
                        self.url,
                        run_id,
                        [*(["--full-refresh"] if full_refresh else []), *skip_tests],
                        target_dir=self.work / "target",
                        log_dir=self.work / "logs",
                    )
                except subprocess.CalledProcessError:
                    failures = [line for line in self.log.read_text().splitlines() if "ERROR" in line or "FAIL" in line]
                    raise RuntimeError(f"dbt build failed on {self.label}: " + " | ".join(failures[-8:])) from None
                times["dbt"] = clock() - started
                self.node_times.append(_node_times(self.work / "target" / "run_results.json"))
                if not audit:
                    return times, "not audited"
                started = clock()
                result = run_audit(self.url, run_id)
                times["audit"] = clock() - started
                if result.success:
                    started = clock()
                    publish(self.url, run_id)
                    times["publish"] = clock() - started
        verdict = "passed" if result.success else "FAILED: " + "; ".join(f.name for f in result.failures)[:300]
        return times, verdict

    def run_id(self, what: str, night: date) -> str:
        return f"bench_{self.label}_{what}_{night:%Y%m%d}_{uuid.uuid4().hex[:6]}"

    def linkedin_posts(self, night: date) -> tuple[int, int]:
        """(posts in the 90-day window, posts the refresh schedule says are due) for `night`, from the project's own
        queries and policy (ingestion.raw_queries, ingestion.refresh)."""
        from ingestion.raw_queries import last_fetched, shared_posts
        from ingestion.refresh import DEFAULT

        window = shared_posts(self.url, night, "linkedin")
        fetched = last_fetched(self.url, "linkedin__member_post_analytics", "post_urn", night, DEFAULT.horizon)
        due = DEFAULT.select(window, lambda p: p.shared_at, lambda p: p.post_id, night, fetched, "bench")
        return len(window), len(due)

    def cleanup(self) -> None:
        from expectations.naming import docs_dirname

        for run_id in self.run_ids:
            shutil.rmtree(settings.DATA_DOCS_DIR / docs_dirname(run_id), ignore_errors=True)


def run(
    report: Report,
    spec: TenantSpec,
    reps: int,
    growth: int,
    full_refresh_reps: bool = True,
    audit_history: bool = True,
) -> None:
    """`full_refresh_reps=False` (the quick profile) takes the full-refresh figure from the 1× warehouse's first
    build (one sample) instead of a full refresh after every round's night. `audit_history=False` (the full
    profile) marks the laid history audited instead of auditing it (`BenchWarehouse.mark_history_audited`)."""
    import great_expectations  # noqa: F401  — warm: its ~5 s import is task start-up, not the audit's work

    labels = ("1×", f"{growth}×") if growth > 1 else ("1×",)
    specs = {label: spec.with_history(int(label.rstrip("×"))) for label in labels}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-night-")))
        houses: dict[str, BenchWarehouse] = {}
        baseline: dict[str, dict[str, float]] = {}
        for label, s in specs.items():
            url = stack.enter_context(scratch_database("night" + label.rstrip("×")))
            house = BenchWarehouse(label.rstrip("×") + "x", url, Tenant(s), tmp / label.rstrip("×"))
            house.work.mkdir(parents=True)
            stack.callback(house.cleanup)
            counts = house.lay_history()
            steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in house.setup_times.items())
            print(f"   {label} history laid in {house.history_seconds:.0f} s ({steps}): {counts}", flush=True)
            started = clock()
            # with its data tests, as a warehouse's first build runs them: the nights' row-local tests then read only
            # the rows built since (dbt_project/macros/tested_builds.sql)
            first, verdict = house.transform_audit_publish(
                house.run_id("baseline", s.first_night), full_refresh=True, audit=False
            )
            house.setup_times["first dbt build"] = clock() - started
            print(f"   {label} first build: {house.setup_times['first dbt build']:.0f} s", flush=True)
            started = clock()
            audited = house.audit_history() if audit_history else house.mark_history_audited()
            house.setup_times["history audit"] = clock() - started
            print(f"   {label} history audited: {audited} ({house.setup_times['history audit']:.0f} s)", flush=True)
            if audited not in ("raw passed", "raw marked passed"):
                report.note(f"{label} history's audit: {audited} (its nights' audits then read all of raw)")
            if not audit_history:
                report.note(f"{label} history marked audited, not audited (set-up; see mark_history_audited)")
            baseline[label] = first
            houses[label] = house
            report.add(
                "set-up",
                f"history at {label}: raw rows (shares, LinkedIn readings, rosters)",
                ", ".join(f"{n:,}" for n in counts.values()),
            )
            for name, seconds in house.setup_times.items():
                report.add("set-up", f"  {label} {name}: s", f"{seconds:.1f}")

        stage_times = {label: {stage: Samples() for stage in (*STAGES, "night")} for label in labels}
        step_times = {step: Samples() for step in INGESTION_STEPS}
        full_night = Samples()
        full_stages = {stage: Samples() for stage in ("dbt", "audit", "publish")}
        verdicts: list[str] = []
        api: list[tuple[int, int, int]] = []  # (calls, posts in the window, posts due)
        rule_times: dict[str, dict[tuple[str, str], float]] = {}  # per warehouse, on the last round's night
        copy_times = {label: Samples() for label in labels}  # each round's copy of the warehouse (set-up)
        night = spec.night(0)
        if len(labels) > 1:
            _due_selection(report, houses, labels, night, reps)
        for rep in range(reps):
            order = list(labels) if rep % 2 == 0 else list(reversed(labels))
            for label in order:
                house = houses[label]
                # every round runs the same night on a fresh copy of the warehouse as the set-up left it, so
                # the rounds repeat identical work; a single round runs on the set-up's warehouse itself (at 10M
                # shares its copy is ≈ 70 GB and a quarter of an hour)
                copy_started = clock()
                with _round_database(house.url, copy=reps > 1) as round_url, house.using(round_url):
                    copy_times[label].add(clock() - copy_started)
                    ingest_times, reports = house.ingest(night)
                    run_id = house.run_id("night", night)
                    times, verdict = house.transform_audit_publish(run_id)
                    times["ingestion"] = sum(ingest_times.values())
                    if "publish" not in times:
                        verdicts.append(f"{label} night {night}: audit {verdict} (publish refused)")
                    for stage in STAGES:
                        if stage in times:
                            stage_times[label][stage].add(times[stage])
                    stage_times[label]["night"].add(sum(times.values()))
                    # the rules' diagnosis and the full-refresh night (the same night built another way) read the
                    # raw rows this night's audit read
                    _forget_audit(round_url, run_id)
                    if rep == reps - 1:
                        rule_times[label] = _rule_times(round_url, release_schema(run_id))
                    print(
                        f"   {label} night {night}, round {rep + 1}: "
                        + ", ".join(f"{k} {v:.1f} s" for k, v in times.items())
                        + f" (ingestion: {', '.join(f'{k} {v:.1f}' for k, v in ingest_times.items())})",
                        flush=True,
                    )
                    if label != labels[0]:
                        continue
                    for step, seconds in ingest_times.items():
                        step_times[step].add(seconds)
                    linkedin = reports["linkedin"]
                    api.append((linkedin.api_calls, *house.linkedin_posts(night)))
                    if not full_refresh_reps:
                        continue
                    full, verdict = house.transform_audit_publish(house.run_id("full", night), full_refresh=True)
                    for stage, seconds in full.items():
                        full_stages[stage].add(seconds)
                    full_night.add(times["ingestion"] + sum(full.values()))
                    print(
                        f"   {label} full refresh after that night: "
                        + ", ".join(f"{k} {v:.1f} s" for k, v in full.items()),
                        flush=True,
                    )
        if reps > 1:
            for label in labels:
                report.add(
                    "set-up",
                    f"  {label} warehouse copied for a round (CREATE DATABASE … TEMPLATE): s",
                    copy_times[label].spread(1),
                )
        else:
            report.note("one round: each night ran on its set-up's warehouse itself, not on a copy")
        one = labels[0]
        _night_split(report, spec, stage_times[one], step_times)
        _api_efficiency(report, spec, api)
        section = "cost growth"
        incremental = stage_times[one]["night"]
        incremental_dbt = stage_times[one]["dbt"]
        if not full_refresh_reps:  # one sample: the first build of the 1× warehouse, with the median ingestion
            full_night = Samples(
                [
                    sum(
                        stage_times[one][stage].median
                        for stage in STAGES
                        if stage != "dbt" and stage_times[one][stage].values
                    )
                    + baseline[one]["dbt"]
                ]
            )
            full_stages["dbt"] = Samples([baseline[one]["dbt"]])
            incremental, incremental_dbt = Samples([incremental.median]), Samples([incremental_dbt.median])
            report.note(
                "the full-refresh figure is one sample (the 1× warehouse's first build, with the median "
                "night's other stages, against the median incremental night); `make bench-full` without "
                "--full-refresh-from-first-build runs a full refresh after every round's night"
            )
        report.add(
            section, "full-refresh night at 1× (same ingestion, dbt --full-refresh): wall s", full_night.spread(1)
        )
        report.add(section, "full refresh ÷ incremental night (1×)", ratios(full_night, incremental).spread(2))
        report.add(
            section,
            "  dbt --full-refresh ÷ incremental dbt (1×)",
            ratios(full_stages["dbt"], incremental_dbt).spread(2),
        )
        if len(labels) > 1:
            many = labels[1]
            for label in labels:
                report.add(
                    section, f"incremental night at {label} history: wall s", stage_times[label]["night"].spread(1)
                )
            growth_ratio = ratios(stage_times[many]["night"], stage_times[one]["night"])
            report.add(
                section, f"night at {many} ÷ 1× history", growth_ratio.spread(2), "≤ 1.3×", growth_ratio.median <= 1.3
            )
            for stage in STAGES:
                if len(stage_times[many][stage].values) == len(stage_times[one][stage].values) == reps:
                    report.add(
                        section,
                        f"  {stage} at {many} ÷ 1×",
                        ratios(stage_times[many][stage], stage_times[one][stage]).spread(2),
                    )
            nights_one = [t for t in houses[one].node_times[1:] if t]
            if full_refresh_reps:  # the 1× copies ran a full refresh after each night: keep the nights
                nights_one = nights_one[0::2]
            nights_many = [t for t in houses[many].node_times[1:] if t]
            _growers(report, nights_one, nights_many, many)
            _audit_growers(report, rule_times[one], rule_times[many], many)
        else:
            report.note("cost growth with history not measured in this run (--growth 1)")
        for verdict in dict.fromkeys(verdicts):
            report.note(verdict)


@contextlib.contextmanager
def _round_database(url: str, copy: bool) -> Iterator[str]:
    """The database a round's night runs on: a fresh copy of the set-up's warehouse `url`, or `url` itself."""
    if not copy:
        yield url
        return
    with scratch_database("round", template=url) as round_url:
        yield round_url


def _due_selection(
    report: Report, houses: dict[str, BenchWarehouse], labels: tuple[str, ...], night: date, reps: int
) -> None:
    """LinkedIn's due-post selection (ingestion.run picks the posts before it calls), alone in a process, at 1× and
    G× history: read-only, so it runs on the warehouses as their first build left them."""
    peak = {label: Samples() for label in labels}
    process = {label: Samples() for label in labels}
    seconds = {label: Samples() for label in labels}

    def one(label: str, rep: int) -> float:
        done = subprocess.run(
            [sys.executable, "-m", "bench.memprobe", "--linkedin-due", houses[label].url, night.isoformat()],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO_ROOT,
        )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        peak[label].add((result["maxrss_kib"] - result["baseline_kib"]) / 1024)
        process[label].add(result["maxrss_kib"] / 1024)
        seconds[label].add(result["seconds"])
        return result["seconds"]

    try:
        alternate(reps, list(labels), one)
    except subprocess.CalledProcessError as error:
        report.note(f"LinkedIn due-post selection not measured: {error.stderr[-300:]}")
        return
    one_x, many = labels
    for label in labels:
        report.add(
            "memory",
            f"LinkedIn due-post selection at {label} history: s, MiB above the process's start",
            f"{seconds[label].spread(2)} s, {peak[label].spread(1)} MiB",
        )
    report.add(
        "memory", f"  its process's peak RSS at {many} ÷ 1× history", ratios(process[many], process[one_x]).spread(2)
    )
    report.add("memory", f"  its time at {many} ÷ 1× history", ratios(seconds[many], seconds[one_x]).spread(2))


def _forget_audit(url: str, run_id: str) -> None:
    """Delete a run's audit results: the raw suites then read again the rows that arrived since the last pass before
    it (`expectations.arrivals`), as that audit did."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"delete from {settings.AUDIT_SCHEMA}.validation_runs where run_id = %s", (run_id,))


def _rule_times(url: str, release: str) -> dict[tuple[str, str], float]:
    """(relation, description) → seconds of each `UnexpectedRowsExpectation` query of the suites, on a night's copy
    whose audit was forgotten (`_forget_audit`), the `bi` candidates read in the night's release schema. Once per
    warehouse, after the last round's night."""
    import great_expectations as gx

    from expectations.naming import candidate_relation
    from expectations.suites import build_suites

    gx.get_context(mode="ephemeral")
    times = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for relation, suite in build_suites().items():
            batch = candidate_relation(relation, release)
            for expectation in suite.expectations:
                query = getattr(expectation, "unexpected_rows_query", None)
                if not query or "." not in batch:
                    continue
                started = clock()
                try:
                    conn.execute(f"select count(*) from ({query.format(batch=batch)}) as unexpected").fetchone()
                except psycopg.Error:
                    continue
                times[relation, expectation.description or ""] = clock() - started
    return times


def _audit_growers(
    report: Report, one: dict[tuple[str, str], float], many: dict[tuple[str, str], float], label: str
) -> None:
    """The audit's SQL rules whose queries grew most from 1× to G× history (`_rule_times` of each). A diagnosis,
    one sample each, not a figure with a target."""
    timings = sorted(
        ((many[key] - one[key], *key, one[key], many[key]) for key in one.keys() & many.keys()), reverse=True
    )
    for delta, relation, description, a, b in timings[:5]:
        report.add(
            "cost growth",
            f"    audit rule [{relation}] {description[:70]}: 1× → {label} s",
            f"{a:.2f} → {b:.2f} (+{delta:.2f})",
        )
    report.add(
        "cost growth",
        f"    audit SQL rules in all: 1× → {label} s",
        f"{sum(t[3] for t in timings):.1f} → {sum(t[4] for t in timings):.1f} ({len(timings)} rules)",
    )


def _node_times(run_results: Path) -> dict[str, float]:
    try:
        results = json.loads(run_results.read_text())["results"]
    except (OSError, ValueError, KeyError):
        return {}
    return {r["unique_id"]: float(r.get("execution_time") or 0) for r in results}


def _growers(report: Report, one: list[dict[str, float]], many: list[dict[str, float]], label: str) -> None:
    """The dbt nodes whose time grew most from 1× to G× history (median of the nights), named for the dbt owners."""
    import statistics

    nodes = set().union(*one, *many) if one and many else set()
    rows = []
    for node in nodes:
        a = [n[node] for n in one if node in n]
        b = [n[node] for n in many if node in n]
        if a and b:
            rows.append((statistics.median(b) - statistics.median(a), node, statistics.median(a), statistics.median(b)))
    rows.sort(reverse=True)
    for delta, node, a, b in rows[:6]:
        name = node.split(".", 2)[-1] if node.startswith(("model.", "seed.")) else node.split(".")[2]
        kind = node.split(".")[0]
        report.add("cost growth", f"    dbt {kind} {name}: 1× → {label} s", f"{a:.2f} → {b:.2f} (+{delta:.2f})")


def _night_split(report: Report, spec: TenantSpec, times: dict[str, Samples], steps: dict[str, Samples]) -> None:
    section = "night split"
    night = times["night"]
    report.add(
        section,
        f"night at 1× ({spec.night_shares:,} new shares, {spec.employees:,} employees): wall s",
        night.spread(1),
    )
    for stage in STAGES:
        if len(times[stage].values) == len(night.values):
            share = Samples([100 * a / b for a, b in zip(times[stage].values, night.values, strict=True)])
            report.add(section, f"  {stage}: s (% of the night)", f"{times[stage].spread(1)} ({share.median:.0f} %)")
    for step, samples in steps.items():
        report.add(section, f"    ingestion {step}: s", samples.spread(1))


def _api_efficiency(report: Report, spec: TenantSpec, api: list[tuple[int, int, int]]) -> None:
    section = "API calls"
    metrics = len(LINKEDIN_METRICS)
    calls = Samples([c for c, _, _ in api])
    window = Samples([w for _, w, _ in api])
    due = Samples([d for _, _, d in api])
    minimum = Samples([d * metrics for d in due.values])
    report.add(
        section,
        "LinkedIn posts shared ≤ 90 days before the night / due by the refresh schedule",
        f"{window.spread(0)} / {due.spread(0)}",
    )
    report.add(
        section,
        f"LinkedIn calls made vs minimum = due posts × {metrics} metrics (the API takes one post × one "
        "metric a call, so nothing batches)",
        f"{calls.spread(0)} vs {minimum.spread(0)}",
    )
    ratio = ratios(calls, minimum)
    report.add(section, "LinkedIn calls ÷ batching minimum", ratio.spread(3), "≤ 1.05×", ratio.median <= 1.05)
    every = Samples([w * metrics for w in window.values])
    saved = Samples([100 * (1 - c / e) for c, e in zip(calls.values, every.values, strict=True)])
    report.add(
        section,
        "calls the refresh schedule saves against refreshing every post every night",
        f"{saved.spread(0)} % ({every.spread(0)} calls → {calls.spread(0)})",
    )
