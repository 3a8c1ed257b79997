"""X in the tenant: is `int_x__tweet_metrics_nightly` incremental in cost, whatever the X history behind it?

Two warehouses (scratch databases) hold the tenant's X part (bench/tenant_x.py) with 1× and G× history. Each gets
its history laid in raw in bulk and a first build of the X models (set-up, timed apart). Then, round by round,
alternating which goes first, each runs the same new night on a fresh copy of its warehouse as the set-up left it
(CREATE DATABASE … TEMPLATE), so every round repeats identical work:

  shares     the night's X shares into raw.advocacy__shares as the advocacy load lands them (COPY; not timed)
  ingestion  ingestion.run.land_x_tweet_metrics — the due posts (refresh schedule) looked up 100 ids a call — against
             the simulator's X API in a process of its own (bench/serve_x.py) with the tenant behind it; no member
             holds an X token there, so the night reads with the app's token, public metrics only (link clicks
             are carried from the history's user-context readings)
  dbt        `dbt build` of the X models (stg_x__tweet_metrics, int_x__tweet_metrics_nightly and their tests),
             incremental; then `dbt build --full-refresh` of the same over the same data (without the tests: only
             the model's time is taken)

The model's time is dbt's own per-node timing (run_results.json). Rows written per night are the rows the
incremental build stamped (`built_at` of that build); rows in the table are all of them afterwards.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg

from bench.common import REPO_ROOT, Report, RoundCopies, Samples, clock, ratios, scratch_database
from bench.night import output_to
from bench.tenant import MEASURED_FOR_DAYS, OLD_POST_READING_NIGHTS, POLICY_READING_NIGHTS, Tenant, TenantSpec
from bench.tenant_x import X_TOTAL_COLUMNS, raw_x_share_lines, x_post_lines
from ingestion.http import ApiConfig
from ingestion.loader import apply_raw_schema
from ingestion.sources.x import BATCH_SIZE

TOKEN = "bench-simulator-token"
MODEL = "int_x__tweet_metrics_nightly"
X_MODELS = ("stg_x__tweet_metrics", MODEL)
#: Below this many rows in the model's table at 1×, a build's time is dbt's start-up and noise, not the table: the
#: growth ratio is printed but not judged (`make bench`'s quick sizes; `--history-shares 100000` gets there).
JUDGED_FROM_ROWS = 100_000
_NODE = f"model.sharewhy.{MODEL}"

# A history reading on night r is as of the end of r (the simulator's counter_at: total × (1 − e^(−age/1.5)),
# rounded); the author's token read non-public and organic metrics while the post was younger than 29 days (what
# the X source asks them for).
_HISTORY_READINGS = """
insert into raw.x__tweet_metrics
    (tweet_id, payload, _load_id, _extracted_at, _logical_date, _request, metrics_access)
select p.tweet_id,
       jsonb_build_object(
           'id', p.tweet_id,
           'text', 'Worth a read',
           'edit_history_tweet_ids', jsonb_build_array(p.tweet_id),
           'created_at', to_char(p.shared_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS".000Z"'),
           'public_metrics', jsonb_build_object(
               'retweet_count', c.reshares, 'reply_count', c.comments, 'like_count', c.reactions,
               'quote_count', c.quotes, 'bookmark_count', c.bookmarks, 'impression_count', c.impressions))
       || case when a.age < 29 then jsonb_build_object(
           'non_public_metrics', jsonb_build_object(
               'impression_count', c.impressions, 'url_link_clicks', c.link_clicks,
               'user_profile_clicks', c.profile_clicks),
           'organic_metrics', jsonb_build_object(
               'impression_count', c.impressions, 'like_count', c.reactions, 'reply_count', c.comments,
               'retweet_count', c.reshares, 'url_link_clicks', c.link_clicks,
               'user_profile_clicks', c.profile_clicks))
          else '{}'::jsonb end,
       %(load_id)s, (r.night + 1)::timestamp at time zone 'UTC' + interval '30 minutes', r.night, 'bench://history',
       case when a.age < 29 then 'user_context' else 'app_public' end
from bench_tenant.x_posts p
cross join lateral (
    select (p.shared_at at time zone 'UTC')::date + n as night
    from unnest(case when p.shared_at >= %(young_since)s then %(policy)s::int[] else %(old)s::int[] end) as n
) r
cross join lateral (
    select extract(epoch from (r.night + 1)::timestamp at time zone 'UTC' - p.shared_at) / 86400 as age
) a
cross join lateral (
    select /* counts */
) c
where r.night < %(first_night)s
"""


@contextlib.contextmanager
def served(spec: TenantSpec, night: date) -> Iterator[str]:
    """The simulator's X API for `night` in a process of its own; yields its base URL."""
    fields = {**dataclasses.asdict(spec), "first_night": spec.first_night.isoformat()}
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.serve_x", json.dumps(fields), night.isoformat()],
        env={**os.environ, "SHAREWHY_SIMULATOR_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line:
            raise RuntimeError(f"the X simulator did not start (exit code {process.wait()})")
        yield json.loads(line)["x"]
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclasses.dataclass
class NightFigures:
    """One round's night on one warehouse."""

    ingestion: float
    api_calls: int
    posts_due: int
    dbt: float
    model: float
    rows_written: int
    table_rows: int
    full_refresh_model: float


class XWarehouse(RoundCopies):
    """One scratch database holding the tenant's X part, and the nights run on it."""

    def __init__(self, label: str, url: str, tenant: Tenant, work: Path):
        self.label, self.url, self.tenant, self.work = label, url, tenant, work
        self.log = work / "bench.log"

    def lay_history(self) -> dict[str, int]:
        """The X shares and X readings of the history straight into raw (COPY and server-side SQL)."""
        spec = self.tenant.spec
        days = spec.history_day_list()
        history_end = datetime.combine(spec.first_night, time(), UTC)
        with psycopg.connect(self.url, autocommit=True) as conn:
            apply_raw_schema(conn)
            conn.execute("create schema if not exists bench_tenant")
            columns = ", ".join(f"{c} bigint" for c in X_TOTAL_COLUMNS)
            conn.execute(f"create table bench_tenant.x_posts (tweet_id text, shared_at timestamptz, {columns})")
            with conn.transaction():
                self._copy(conn, "raw.advocacy__shares", raw_x_share_lines(self.tenant, days, "bench://history"))
                self._copy(conn, "bench_tenant.x_posts", x_post_lines(self.tenant, days))
            counts = ",\n           ".join(
                f"floor(p.{c} * (1 - exp(-a.age / 1.5)) + 0.5)::bigint as {c}" for c in X_TOTAL_COLUMNS
            )
            conn.execute(
                _HISTORY_READINGS.replace("/* counts */", counts),
                {
                    "load_id": uuid.uuid4(),
                    "policy": list(POLICY_READING_NIGHTS),
                    "old": list(OLD_POST_READING_NIGHTS),
                    "first_night": spec.first_night,
                    "young_since": history_end - timedelta(days=MEASURED_FOR_DAYS + 1),
                },
            )
            conn.execute("analyze")
            return {
                table: conn.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("bench_tenant.x_posts", "raw.x__tweet_metrics")
            }

    @staticmethod
    def _copy(conn: psycopg.Connection, table: str, lines: Iterator[str]) -> None:
        with conn.cursor() as cur, cur.copy(f"copy {table} from stdin") as copy:
            chunk: list[str] = []
            for line in lines:
                chunk.append(line)
                if len(chunk) >= 20_000:
                    copy.write("".join(chunk))
                    chunk.clear()
            copy.write("".join(chunk))

    def build(self, full_refresh: bool = False, tests: bool = True) -> tuple[float, float]:
        """`dbt build` of the X models: (wall seconds, the model's own seconds from run_results.json). `tests=False`
        leaves out their data and unit tests (a set-up build, or a full refresh only its model's time is taken of)."""
        from sharewhy import dbt

        target = self.work / "target"
        started = clock()
        with output_to(self.log):
            try:
                dbt.run(
                    [
                        "build",
                        "--select",
                        *X_MODELS,
                        "--indirect-selection",
                        "cautious",
                        *(["--full-refresh"] if full_refresh else []),
                        *([] if tests else ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]),
                    ],
                    self.url,
                    target_dir=target,
                    log_dir=self.work / "logs",
                )
            except subprocess.CalledProcessError:
                failures = [line for line in self.log.read_text().splitlines() if "ERROR" in line or "FAIL" in line]
                raise RuntimeError(
                    f"dbt build of the X models failed on {self.label}: " + " | ".join(failures[-8:])
                ) from None
        wall = clock() - started
        results = json.loads((target / "run_results.json").read_text())["results"]
        model = next(float(r["execution_time"]) for r in results if r["unique_id"] == _NODE)
        return wall, model

    def table_rows(self) -> tuple[int, int]:
        """(rows the last build of the model wrote, rows in the model's table)."""
        with psycopg.connect(self.url) as conn:
            written, total = conn.execute(
                f"select count(*) filter (where built_at = (select max(built_at) from intermediate.{MODEL})),"
                f" count(*) from intermediate.{MODEL}"
            ).fetchone()
        return written, total

    def night(self, night: date) -> NightFigures:
        """The night on this warehouse (a fresh copy): its X shares, the X extraction, the incremental build, then
        the full refresh of the same."""
        from ingestion.raw_queries import last_fetched, shared_posts
        from ingestion.refresh import DEFAULT
        from ingestion.run import land_x_tweet_metrics

        with psycopg.connect(self.url, autocommit=True) as conn:
            arrived = datetime.combine(night + timedelta(days=1), time(0, 30), UTC)
            self._copy(conn, "raw.advocacy__shares", raw_x_share_lines(self.tenant, [night], "bench://night", arrived))
        window = shared_posts(self.url, night, "x")
        fetched = last_fetched(self.url, "x__tweet_metrics", "tweet_id", night, DEFAULT.horizon)
        due = DEFAULT.select(window, lambda p: p.shared_at, lambda p: p.post_id, night, fetched, "bench")
        with served(self.tenant.spec, night) as base, output_to(self.log):
            started = clock()
            landed = land_x_tweet_metrics(self.url, night, ApiConfig(base, TOKEN))
            ingestion = clock() - started
        if landed.rows_inserted != len(due):
            raise RuntimeError(f"{self.label}: {landed.rows_inserted} X readings landed for {len(due)} due posts")
        dbt_wall, model = self.build()
        written, total = self.table_rows()
        _, full_model = self.build(full_refresh=True, tests=False)
        return NightFigures(ingestion, landed.api_calls, len(due), dbt_wall, model, written, total, full_model)


def run(report: Report, spec: TenantSpec, reps: int, growth: int) -> None:
    section = "x"
    labels = ("1×", f"{growth}×")
    specs = {labels[0]: spec, labels[1]: spec.with_history(growth)}
    night = spec.night(0)
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-x-")))
        houses: dict[str, XWarehouse] = {}
        for label, s in specs.items():
            name = label.rstrip("×")
            url = stack.enter_context(scratch_database("x" + name))
            house = XWarehouse(name + "x", url, Tenant(s), tmp / name)
            house.work.mkdir(parents=True)
            started = clock()
            counts = house.lay_history()
            laid = clock() - started
            first, _ = house.build(full_refresh=True, tests=False)
            _, rows = house.table_rows()
            print(f"   {label}: history laid in {laid:.0f} s {counts}, first build {first:.0f} s", flush=True)
            report.add(
                section,
                f"set-up at {label} history: X posts, raw X readings, {MODEL} rows; laid s, first build s",
                f"{counts['bench_tenant.x_posts']:,}, {counts['raw.x__tweet_metrics']:,}, {rows:,}; "
                f"{laid:.1f} s, {first:.1f} s",
            )
            houses[label] = house
        os.environ.setdefault("SHAREWHY_TOKEN_KEYS", _token_keys())
        figures: dict[str, list[NightFigures]] = {label: [] for label in labels}
        for rep in range(reps):
            for label in labels if rep % 2 == 0 else tuple(reversed(labels)):
                house = houses[label]
                with scratch_database("xround", template=house.url) as round_url, house.using(round_url):
                    done = house.night(night)
                figures[label].append(done)
                print(f"   {label} night {night}, round {rep + 1}: {done}", flush=True)
    _figures(report, section, labels, figures)


def _token_keys() -> str:
    """The token store's keys (no X member token is enrolled, but the X source opens the store)."""
    from sharewhy import consent

    return consent.local_token_keys()


def _figures(report: Report, section: str, labels: tuple[str, str], figures: dict[str, list[NightFigures]]) -> None:
    def samples(label: str, name: str) -> Samples:
        return Samples([float(getattr(f, name)) for f in figures[label]])

    one, many = labels
    for label in labels:
        report.add(section, f"{MODEL} incremental at {label} history: s (dbt node)", samples(label, "model").spread(3))
        report.add(
            section,
            f"{MODEL} full refresh at {label} history: s (dbt node)",
            samples(label, "full_refresh_model").spread(3),
        )
        report.add(
            section,
            f"  rows written per incremental night / rows in the table at {label}",
            f"{samples(label, 'rows_written').spread(0)} / {samples(label, 'table_rows').spread(0)}",
        )
        report.add(
            section,
            f"  full refresh ÷ incremental at {label}",
            ratios(samples(label, "full_refresh_model"), samples(label, "model")).spread(1),
        )
        report.add(
            section, f"  dbt build of the X models at {label} (incremental): wall s", samples(label, "dbt").spread(1)
        )
    growth = ratios(samples(many, "model"), samples(one, "model"))
    judged = min(samples(one, "table_rows").values) >= JUDGED_FROM_ROWS
    report.add(
        section,
        f"{MODEL} incremental at {many} ÷ 1×",
        growth.spread(2),
        "≤ 1.3×" if judged else f"≤ 1.3× (judged from {JUDGED_FROM_ROWS:,} rows at 1×)",
        growth.median <= 1.3 if judged else None,
    )
    full_growth = ratios(samples(many, "full_refresh_model"), samples(one, "full_refresh_model"))
    report.add(section, f"  its full refresh at {many} ÷ 1×", full_growth.spread(2))
    calls, due = samples(one, "api_calls"), samples(one, "posts_due")
    minimum = Samples([math.ceil(d / BATCH_SIZE) for d in due.values])
    report.add(
        section,
        f"X ingestion at 1×: posts due / API calls vs minimum ⌈posts ÷ {BATCH_SIZE}⌉; s",
        f"{due.spread(0)} / {calls.spread(0)} vs {minimum.spread(0)}; {samples(one, 'ingestion').spread(2)} s",
    )
    ratio = ratios(calls, minimum)
    report.add(section, "  X calls ÷ batching minimum", ratio.spread(3), "≤ 1.05×", ratio.median <= 1.05)
