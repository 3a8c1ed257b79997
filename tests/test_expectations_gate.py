"""The quality gate end to end on real PostgreSQL, dbt and GX: audit raw + marts + `bi_build`, publish `bi`.

dbt builds a small handcrafted raw layer once per module into a template database; every test gets its own copy
(`create database … template …`, a file copy, no rebuild). A "night" after the first is made the way dbt would
leave it: raw gains rows, the marts and `bi_build` are rebuilt (from the template's copy of the build, optionally
with every outcome scaled, which keeps every sum and reconciliation true while changing the data).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
import uuid
from base64 import b64decode
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from expectations import bi_reader
from expectations.audit import AuditFailed, AuditResult, run_audit
from expectations.publish import KEEP_RELEASES, PublishRefused, publish
from expectations.suites import EXPECTATIONS, VOLUME_CHECKED
from expectations.thresholds import Thresholds, from_environment
from sharewhy import dbt, settings

RAW_SCHEMA_SQL = settings.REPO_ROOT / "ingestion" / "raw_schema.sql"
FORM_ID = "motivation-2026w36"
NIGHT_1, NIGHT_2, NIGHT_3 = date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
METRIC_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")
SURVEY_ITEMS = ("obligated_1", "obligated_2", "good_news_1", "good_news_2", "proud_1", "proud_2", "educate_1",
                "educate_2")

#: (share id, employee, post number, shared at). October: five surveyed sharers (shown) and e-0009, who never
#: answered; November: three surveyed sharers (fewer than k = 5: suppressed), s-09 not observed by LinkedIn yet.
SHARES = [
    ("s-01", "e-0001", 1, "2026-10-05T09:00:00Z"),
    ("s-02", "e-0002", 2, "2026-10-06T09:00:00Z"),
    ("s-03", "e-0003", 3, "2026-10-07T09:00:00Z"),
    ("s-04", "e-0004", 4, "2026-10-08T09:00:00Z"),
    ("s-05", "e-0005", 5, "2026-10-09T09:00:00Z"),
    ("s-06", "e-0009", 6, "2026-10-09T12:00:00Z"),
    ("s-07", "e-0001", 7, "2026-11-01T09:00:00Z"),
    ("s-08", "e-0002", 8, "2026-11-02T09:00:00Z"),
    ("s-09", "e-0003", 9, "2026-11-02T10:00:00Z"),
]
UNOBSERVED = {9}
#: Survey answers (1–5) per respondent, item by item in SURVEY_ITEMS order.
ANSWERS = {
    "e-0001": (2, 5, 5, 4, 3, 4, 1, 2),
    "e-0002": (3, 3, 3, 3, 3, 3, 3, 3),
    "e-0003": (1, 5, 1, 1, 1, 1, 1, 1),
    "e-0004": (1, 5, 1, 1, 5, 5, 1, 1),
    "e-0005": (4, 2, 2, 3, 4, 5, 5, 4),
}

CHECKSUM = "select md5(string_agg(t::text, ',' order by t::text)) from {} t"


def post_urn(number: int) -> str:
    return f"urn:li:{'ugcPost' if number % 3 == 0 else 'share'}:{7_000_000_000_000_000_000 + number}"


def counts(number: int, night: date) -> dict[str, int]:
    """Cumulative counters of post `number`: NIGHT_1 sees half of what NIGHT_2 sees."""
    latest = dict(zip(METRIC_TYPES, (100 * number, 80 * number, 5 * number, 2 * number, number, number)))
    return latest if night == NIGHT_2 else {metric: count // 2 for metric, count in latest.items()}


# --- raw rows ------------------------------------------------------------------------------------------------------

def insert_share(conn: psycopg.Connection, share_id: str, employee_id: str, number: int, shared_at: str,
                 extracted_at: datetime) -> None:
    payload = {
        "share_id": share_id, "employee_id": employee_id, "content_id": "c-001", "network": "linkedin",
        "post_id": post_urn(number), "shared_at": shared_at, "tracking_link": "bit.ly/abcdefg",
        "share_mode": "manual", "copy_edited": False, "campaign": None, "audience_size": 1000,
    }
    conn.execute(
        "insert into raw.advocacy__shares values (%s, %s, %s, %s, %s, %s)",
        (share_id, Jsonb(payload), uuid.uuid4(), extracted_at, NIGHT_2, "advocacy/shares_2026-11-04.csv"),
    )


def insert_count(conn: psycopg.Connection, number: int, metric: str, count: int, night: date,
                 extracted_at: datetime) -> None:
    urn = post_urn(number)
    element = {"count": count, "metricType": metric, "targetEntity": {"ugc" if "ugcPost" in urn else "share": urn},
               "dateRange": {}}
    conn.execute(
        "insert into raw.linkedin__member_post_analytics values (%s, %s, %s, %s, %s, %s, %s)",
        (urn, metric, Jsonb(element), uuid.uuid4(), extracted_at, night, "GET /memberCreatorPostAnalytics"),
    )


def insert_response(conn: psycopg.Connection, token: str, employee_id: str, answers: tuple[int, ...],
                    extracted_at: datetime) -> None:
    submitted_at = f"2026-09-0{int(employee_id[-1])}T10:00:00Z"
    payload = {
        "landing_id": token, "token": token, "response_id": token, "landed_at": submitted_at.replace("T10", "T09"),
        "submitted_at": submitted_at, "metadata": {}, "hidden": {"employee_id": employee_id},
        "calculated": {"score": 0},
        "answers": [
            {"field": {"id": f"id-{ref}", "ref": ref, "type": "opinion_scale"}, "type": "number", "number": number}
            for ref, number in zip(SURVEY_ITEMS, answers)
        ],
    }
    conn.execute(
        "insert into raw.typeform__responses values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (FORM_ID, token, submitted_at, Jsonb(payload), uuid.uuid4(), extracted_at, NIGHT_2, "GET /forms/responses"),
    )


def land_raw(url: str) -> None:
    extracted_at = datetime.now(timezone.utc)
    with psycopg.connect(url) as conn:
        conn.execute(RAW_SCHEMA_SQL.read_text())
        for share_id, employee_id, number, shared_at in SHARES:
            insert_share(conn, share_id, employee_id, number, shared_at, extracted_at)
            for night in () if number in UNOBSERVED else (NIGHT_1, NIGHT_2):
                for metric, count in counts(number, night).items():
                    insert_count(conn, number, metric, count, night, extracted_at)
        for employee_id, answers in ANSWERS.items():
            insert_response(conn, f"t-{employee_id}", employee_id, answers, extracted_at)


# --- warehouses ----------------------------------------------------------------------------------------------------

#: Where the template keeps dbt's build, to rebuild marts and `bi_build` for a later night without dbt.
BUILD_COPY = "test_build_copy"
BUILT_TABLES = ("marts.fct_shares", "marts.fct_share_motivation_attribution", "bi_build.motivation_attribution")
#: Outcome columns scaled by `rebuild` (counts of shares are not: they must keep matching the shares).
SCALED = {
    "marts.fct_shares": ("impressions", "engagements", "clicks"),
    "marts.fct_share_motivation_attribution": ("attributed_impressions", "attributed_engagements", "attributed_clicks"),
    "bi_build.motivation_attribution": ("impressions", "engagements", "clicks", "attributed_impressions",
                                        "attributed_engagements", "attributed_clicks"),
}


@pytest.fixture(scope="module")
def template(server_url: str, tmp_path_factory: pytest.TempPathFactory):
    """A database with the raw fixture built by `dbt build` and a copy of the build; its name."""
    name = f"sharewhy_test_tpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    url = settings.with_database(server_url, name)
    try:
        land_raw(url)
        work = tmp_path_factory.mktemp("dbt")
        # models and seeds only: dbt's own tests are test_dbt_build's subject, and the clean-night audit checks this
        dbt.run(["build", "--quiet", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"], url,
                target_dir=work / "target", log_dir=work / "logs")
        with psycopg.connect(url) as conn:
            conn.execute(f"create schema {BUILD_COPY}")
            for table in BUILT_TABLES:
                conn.execute(f"create table {BUILD_COPY}.{table.split('.')[1]} as table {table}")
        yield name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def warehouse(server_url: str, template: str):
    """A copy of the built template for one test; its conninfo."""
    name = f"sharewhy_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}" template "{template}"')
    yield settings.with_database(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(autouse=True)
def data_docs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DATA_DOCS_DIR", tmp_path / "data_docs")


def rebuild(url: str, scale: int = 1, version: int | None = None) -> None:
    """What dbt leaves behind on the next night: the marts and `bi_build` rebuilt (outcomes × `scale`), and with a
    version, a second `bi_build` table `build_info` (not audited) that tells builds apart."""
    with psycopg.connect(url) as conn:
        conn.execute("create schema if not exists bi_build")
        for table in BUILT_TABLES:
            copy = f"{BUILD_COPY}.{table.split('.')[1]}"
            conn.execute(f"create table if not exists {table} as table {copy} with no data")  # bi_build was published
            conn.execute(f"truncate {table}")
            conn.execute(f"insert into {table} select * from {copy}")
            scaled = ", ".join(f"{column} = {column} * {scale}" for column in SCALED[table])
            conn.execute(f"update {table} set {scaled}")
        if version is not None:
            conn.execute("create table bi_build.build_info (version integer)")
            conn.execute("insert into bi_build.build_info values (%s)", (version,))


def checksum(url: str, relation: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(CHECKSUM.format(relation)).fetchone()[0]


def bi_checksums(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        views = [name for (name,) in conn.execute(
            "select table_name from information_schema.views where table_schema = 'bi' order by 1")]
    return {view: checksum(url, f"bi.{view}") for view in views}


def audit_and_publish(url: str, run_id: str, thresholds: Thresholds = Thresholds()) -> str:
    run_audit(url, run_id, thresholds).raise_if_failed()
    return publish(url, run_id)


def failing(result: AuditResult) -> set[tuple[str, str]]:
    return {(failure.suite, failure.name) for failure in result.failures}


def failure(result: AuditResult, suite: str, name_start: str):
    return next(f for f in result.failures if f.suite == suite and f.name.startswith(name_start))


# --- a clean night -------------------------------------------------------------------------------------------------

def test_clean_night_passes_every_suite_and_publishes(warehouse):
    built = checksum(warehouse, "bi_build.motivation_attribution")

    result = run_audit(warehouse, "scheduled__2026-11-26T02:00:00+00:00")

    assert result.success, result.summary()
    assert (result.failed, result.failures) == (0, [])
    assert 0 < result.elapsed_s < 60
    with psycopg.connect(warehouse) as conn:
        suites = conn.execute(
            "select suite, bool_and(success), count(*) from audit.validation_runs where run_id = %s group by suite",
            (result.run_id,),
        ).fetchall()
    assert {suite for suite, _, _ in suites} == set(EXPECTATIONS) == {
        "raw.advocacy__shares", "raw.linkedin__member_post_analytics", "raw.typeform__responses",
        "marts.fct_shares", "marts.fct_share_motivation_attribution", "bi_build.motivation_attribution",
    }
    assert all(passed for _, passed, _ in suites)
    assert sum(n for _, _, n in suites) == result.passed == sum(len(build(Thresholds())) for build in EXPECTATIONS.values())
    assert result.data_docs_path == settings.DATA_DOCS_DIR / "scheduled__2026-11-26T02_00_00_00_00" / "index.html"
    index = result.data_docs_path.read_text()
    assert "raw.typeform__responses" in index and "bi_build.motivation_attribution" in index

    release = publish(warehouse, result.run_id)

    assert release == "bi_release_scheduled__2026_11_26t02_00_00_00_00"
    assert checksum(warehouse, "bi.motivation_attribution") == built
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select to_regnamespace('bi_build')").fetchone()[0] is None
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone()[0] == 10
        volumes = dict(conn.execute("select relation, row_count from audit.published_volumes").fetchall())
    # 9 shares: 8 by respondents (a row per construct), s-06 unattributed; 2 months × 5 motivations
    assert volumes == {"marts.fct_shares": 9, "marts.fct_share_motivation_attribution": 8 * 4 + 1,
                       "bi_build.motivation_attribution": 10}
    assert set(volumes) == set(VOLUME_CHECKED)


# --- a poisoned night ----------------------------------------------------------------------------------------------

#: What the poisoned night breaks, as (suite, failing expectation).
POISONED_NIGHT_FAILURES = {
    # -5 impressions for post 1 on NIGHT_3: negative, and a fall from NIGHT_2's 100
    ("raw.linkedin__member_post_analytics", "count of each post × metric's latest night is not negative"),
    ("raw.linkedin__member_post_analytics",
     "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)"),
    # an answer of 9 on a 1–5 item
    ("raw.typeform__responses",
     "Likert: answers to the survey instrument's items are whole numbers on the item's scale (1–5)"),
    # s-03 twice in fct_shares: its key, and the October totals the build no longer matches
    ("marts.fct_shares", "expect_column_values_to_be_unique(share_id)"),
    ("bi_build.motivation_attribution", "totals per month × network equal those of marts.fct_shares"),
    # attributed clicks that no longer sum to the group's clicks
    ("bi_build.motivation_attribution", "Σ attributed_clicks over motivations == clicks per month × network"),
}


def test_poisoned_night_fails_naming_each_failure_and_leaves_bi_unchanged(warehouse):
    audit_and_publish(warehouse, "night-1")
    published = bi_checksums(warehouse)
    rebuild(warehouse, scale=2)
    with psycopg.connect(warehouse) as conn:
        insert_count(conn, 1, "IMPRESSION", -5, NIGHT_3, datetime.now(timezone.utc))
        poisoned_answers = (*ANSWERS["e-0005"][:4], 9, *ANSWERS["e-0005"][5:])
        insert_response(conn, "t-poisoned", "e-0005", poisoned_answers, datetime.now(timezone.utc))
        conn.execute("insert into marts.fct_shares select * from marts.fct_shares where share_id = 's-03'")
        conn.execute("update bi_build.motivation_attribution set attributed_clicks = attributed_clicks + 1"
                     " where month = %s and motivation = 'proud'", (OCTOBER,))

    result = run_audit(warehouse, "night-2")

    assert not result.success
    assert failing(result) == POISONED_NIGHT_FAILURES, result.summary()
    negative = failure(result, "raw.linkedin__member_post_analytics", "count of each post × metric's latest night is not")
    assert negative.observed["details"]["unexpected_rows"] == [
        {"post_urn": post_urn(1), "metric_type": "IMPRESSION", "_logical_date": "2026-11-05", "count": "-5"}
    ]
    likert = failure(result, "raw.typeform__responses", "Likert")
    assert [(r["response_token"], r["question_ref"], r["answer"]) for r in likert.observed["details"]["unexpected_rows"]] \
        == [("t-poisoned", "proud_1", 9)]
    duplicate = failure(result, "marts.fct_shares", "expect_column_values_to_be_unique")
    assert duplicate.observed["partial_unexpected_list"] == ["s-03", "s-03"]
    sums = failure(result, "bi_build.motivation_attribution", "Σ attributed_clicks")
    # October, doubled: clicks of posts 1…6 = 2 × 21 = 42, and one click too many attributed
    assert [(r["month"], r["max_total"], Decimal(r["attributed_sum"]))
            for r in sums.observed["details"]["unexpected_rows"]] == [("2026-10-01", 42, 43)]
    with psycopg.connect(warehouse) as conn:
        recorded = conn.execute("select suite, coalesce(description, expectation_type || '(' || column_name || ')')"
                                " from audit.validation_runs where run_id = 'night-2' and not success").fetchall()
    assert set(recorded) == POISONED_NIGHT_FAILURES
    for suite, name in POISONED_NIGHT_FAILURES:
        assert f"✗ [{suite}] {name}" in result.summary()
    with pytest.raises(AuditFailed, match="Likert"):
        result.raise_if_failed()

    assert bi_checksums(warehouse) == published
    with pytest.raises(PublishRefused, match="failed 6 of"):
        publish(warehouse, "night-2")  # the gate holds even when a caller ignores the audit result
    assert bi_checksums(warehouse) == published


def test_build_missing_a_column_fails_naming_it(warehouse):
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table bi_build.motivation_attribution drop column respondents")

    result = run_audit(warehouse, "missing-column")

    named = {f.name: f.observed for f in result.failures if f.suite == "bi_build.motivation_attribution"}
    assert named["expect_table_columns_to_match_set"]["details"]["mismatched"] == {"missing": ["respondents"]}
    never_null = next(observed for name, observed in named.items() if name.startswith("never null:"))
    assert 'column "respondents" does not exist' in never_null["exception"]


def test_a_night_without_its_marts_cannot_be_audited_nor_published(warehouse):
    from great_expectations.datasource.fluent.interfaces import TestConnectionError

    with psycopg.connect(warehouse) as conn:
        conn.execute("drop table marts.fct_share_motivation_attribution")

    with pytest.raises(TestConnectionError, match="marts.fct_share_motivation_attribution"):
        run_audit(warehouse, "no-marts")
    with pytest.raises(PublishRefused, match="no audit"):
        publish(warehouse, "no-marts")


def test_k_anonymity_threshold_comes_from_configuration(warehouse):
    """November's three surveyed sharers shown under `proud`: refused at k = 5 (the poisoned night shows the
    rule failing), allowed at k = 3."""
    with psycopg.connect(warehouse) as conn:
        for metric in ("shares", "impressions", "engagements", "clicks"):
            conn.execute(f"update bi_build.motivation_attribution set attributed_{metric} = case motivation"
                         f" when 'proud' then {metric} else 0 end where month = %s", (NOVEMBER,))

    shown = run_audit(warehouse, "k5")
    allowed = run_audit(warehouse, "k3", Thresholds(k_anonymity=3))

    assert failing(shown) == {("bi_build.motivation_attribution",
                               "k-anonymity: no motivation row carries attributed values for fewer than 5 respondents")}
    rows = shown.failures[0].observed["details"]["unexpected_rows"]
    assert [(r["month"], r["motivation"], r["respondents"]) for r in rows] == [("2026-11-01", "proud", 3)]
    assert allowed.success, allowed.summary()


# --- raw rules between nights ----------------------------------------------------------------------------------------

def test_counters_may_fall_within_tolerance_and_stale_sources_fail_freshness(warehouse):
    stale = datetime.now(timezone.utc) - timedelta(hours=51)
    with psycopg.connect(warehouse) as conn:
        conn.execute("update raw.linkedin__member_post_analytics set _extracted_at = %s", (stale,))
        for number in (n for _, _, n, _ in SHARES if n not in UNOBSERVED):
            for metric, count in counts(number, NIGHT_2).items():
                insert_count(conn, number, metric, count, NIGHT_3, stale)
        # post 5: 500 → 495 impressions (within max(2, 1 %)); post 4: 20 → 17 reactions (beyond it)
        conn.execute("update raw.linkedin__member_post_analytics set payload = jsonb_set(payload, '{count}', %s)"
                     " where post_urn = %s and metric_type = %s and _logical_date = %s",
                     (Jsonb(495), post_urn(5), "IMPRESSION", NIGHT_3))
        conn.execute("update raw.linkedin__member_post_analytics set payload = jsonb_set(payload, '{count}', %s)"
                     " where post_urn = %s and metric_type = %s and _logical_date = %s",
                     (Jsonb(17), post_urn(4), "REACTION", NIGHT_3))

    result = run_audit(warehouse, "night-3")

    suite = "raw.linkedin__member_post_analytics"
    assert failing(result) == {
        (suite, "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)"),
        (suite, "freshness: newest _extracted_at at most 50 hours old"),
    }, result.summary()
    fallen = failure(result, suite, "cumulative counts").observed["details"]["unexpected_rows"]
    assert fallen == [{"post_urn": post_urn(4), "metric_type": "REACTION", "previous_night": "2026-11-04",
                       "previous_count": "20", "night": "2026-11-05", "count": "17"}]


def test_volume_is_checked_against_the_last_publish_within_configured_bounds(warehouse, monkeypatch):
    audit_and_publish(warehouse, "night-1")
    rebuild(warehouse)
    with psycopg.connect(warehouse) as conn:  # as if night 1 had published three times as many shares
        conn.execute("update audit.published_volumes set row_count = 27 where relation = 'marts.fct_shares'")

    shrunk = run_audit(warehouse, "night-2")
    monkeypatch.setenv("SHAREWHY_THRESHOLD_VOLUME_MIN_RATIO", "0.3")
    tolerated = run_audit(warehouse, "night-2-tolerant", from_environment())

    assert failing(shrunk) == {("marts.fct_shares", "volume: rows within 0.8–2 × the rows at the last publish")}
    assert failure(shrunk, "marts.fct_shares", "volume").observed["details"]["unexpected_rows"] == [
        {"published_rows": 27, "tonight_rows": 9}
    ]
    assert tolerated.success, tolerated.summary()


def test_thresholds_from_the_environment_are_typed_and_checked():
    environ = {"SHAREWHY_THRESHOLD_K_ANONYMITY": "7", "SHAREWHY_THRESHOLD_TYPEFORM_MAX_AGE_HOURS": "none",
               "SHAREWHY_THRESHOLD_ALLOWED_NETWORKS": "linkedin, x", "PATH": "/usr/bin"}

    thresholds = from_environment(environ)

    assert (thresholds.k_anonymity, thresholds.typeform_max_age_hours, thresholds.allowed_networks) == (
        7, None, ("linkedin", "x"))
    assert thresholds.volume_max_ratio == Thresholds().volume_max_ratio
    with pytest.raises(ValueError, match="SHAREWHY_THRESHOLD_K_ANONIMITY names no threshold"):
        from_environment({"SHAREWHY_THRESHOLD_K_ANONIMITY": "7"})
    with pytest.raises(ValueError, match="SHAREWHY_THRESHOLD_K_ANONYMITY='five'"):
        from_environment({"SHAREWHY_THRESHOLD_K_ANONYMITY": "five"})
    with pytest.raises(ValueError, match="volume bounds"):
        from_environment({"SHAREWHY_THRESHOLD_VOLUME_MIN_RATIO": "1.5"})


# --- publish -------------------------------------------------------------------------------------------------------

def test_publish_refuses_an_unaudited_build(warehouse):
    with pytest.raises(PublishRefused, match="no audit"):
        publish(warehouse, "never-audited")


def test_readers_see_old_or_new_release_never_a_mix(warehouse):
    """Readers query two `bi` views in one statement while builds 2…4 are published."""
    expected: dict[int, str] = {}

    def build(version: int) -> None:
        rebuild(warehouse, scale=version, version=version)
        expected[version] = checksum(warehouse, "bi_build.motivation_attribution")

    build(1)
    audit_and_publish(warehouse, "v1")
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    reading = f"select (select version from bi.build_info), ({CHECKSUM.format('bi.motivation_attribution')})"

    def read() -> None:
        with psycopg.connect(warehouse, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(reading).fetchone())
                except psycopg.errors.DeadlockDetected:
                    continue  # PostgreSQL resolved a lock cycle with the switch by aborting this read: no data seen

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(2, 5):
            build(version)
            audit_and_publish(warehouse, f"v{version}")
    finally:
        stop.set()
        reader.join()

    assert len(set(expected.values())) == 4
    assert seen
    assert all(expected[version] == digest for version, digest in seen), "a reader saw a mix of two builds"
    assert {version for version, _ in seen} >= {1, 4}
    assert checksum(warehouse, "bi.motivation_attribution") == expected[4]
    with psycopg.connect(warehouse) as conn:
        releases = conn.execute("select release_schema from audit.bi_releases order by seq").fetchall()
        schemas = conn.execute("select nspname from pg_namespace where nspname ~ '^bi_release_' order by 1").fetchall()
    assert [r for (r,) in releases] == ["bi_release_v2", "bi_release_v3", "bi_release_v4"]
    assert len(releases) == KEEP_RELEASES
    assert schemas == releases


def test_publish_follows_changed_tables_and_replaces_a_rerun(warehouse):
    with psycopg.connect(warehouse, autocommit=True) as conn:
        rebuild(warehouse, version=1)
        audit_and_publish(warehouse, "r1")
        rebuild(warehouse, version=2)
        conn.execute("alter table bi_build.build_info rename column version to build")  # the view is recreated
        audit_and_publish(warehouse, "r2")
        assert conn.execute("select build from bi.build_info").fetchone() == (2,)

        rebuild(warehouse, scale=9)  # build_info is no longer built: its view goes
        rebuilt = checksum(warehouse, "bi_build.motivation_attribution")
        audit_and_publish(warehouse, "r2")  # the same run re-run: its release is replaced

        views = conn.execute("select table_name from information_schema.views where table_schema = 'bi'").fetchall()
        releases = conn.execute("select release_schema from audit.bi_releases order by seq").fetchall()
    assert views == [("motivation_attribution",)]
    assert checksum(warehouse, "bi.motivation_attribution") == rebuilt
    assert releases == [("bi_release_r1",), ("bi_release_r2",)]


# --- the bi_reader role --------------------------------------------------------------------------------------------

@pytest.fixture
def bi_reader_as_it_was(server_url):
    """Put the cluster-wide `bi_reader` back as it was (or drop it) once the test's database is gone."""
    with psycopg.connect(server_url) as conn:
        before = conn.execute(
            "select rolcanlogin, rolpassword from pg_authid where rolname = %s", (bi_reader.ROLE,)).fetchone()
    yield
    with psycopg.connect(server_url, autocommit=True) as conn:
        role = sql.Identifier(bi_reader.ROLE)
        if before is None:
            try:
                conn.execute(sql.SQL("drop role if exists {}").format(role))
            except psycopg.errors.DependentObjectsStillExist:  # granted in another database meanwhile: disarm it
                conn.execute(sql.SQL("alter role {} nologin password null").format(role))
        else:
            login = sql.SQL("login" if before[0] else "nologin")
            conn.execute(sql.SQL("alter role {} {} password {}").format(role, login, sql.Literal(before[1])))


def scram_matches(verifier: str, password: str) -> bool:
    """Whether a `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` verifier is for `password` (RFC 5802)."""
    method, params, keys = verifier.split("$")
    iterations, salt = params.split(":")
    stored_key = b64decode(keys.split(":")[0])
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return method == "SCRAM-SHA-256" and hashlib.sha256(client_key).digest() == stored_key


#: Everything but `bi`: a statement as `bi_reader` on any of them must be refused.
NOT_FOR_READERS = [
    "select * from raw.typeform__responses",
    "select * from staging.stg_typeform__answers",
    "select * from intermediate.int_survey__motivation_weights",
    "select * from marts.fct_share_motivation_attribution",
    "select * from bi_build.build_info",
    "select * from audit.validation_runs",
    "select * from bi_release_r1.motivation_attribution",
    "create table bi.mine (x int)",
    "create table public.mine (x int)",
]


def test_bi_reader_reads_bi_and_nothing_else_after_every_publish(
        bi_reader_as_it_was, warehouse, server_url, monkeypatch, caplog):
    """The embedded server trusts local socket connections (pg_hba `trust`): the login is checked by role, not by
    password; the password is checked against the stored SCRAM verifier instead."""
    password = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv(bi_reader.PASSWORD_ENV, password)
    rebuild(warehouse, version=1)
    audit_and_publish(warehouse, "r1")
    rebuild(warehouse, version=2)
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table bi_build.build_info rename column version to build")  # bi.build_info recreated
    audit_and_publish(warehouse, "r2")
    rebuild(warehouse, version=3)  # tomorrow's candidates, not published
    with psycopg.connect(server_url) as conn:
        login, verifier = conn.execute(
            "select rolcanlogin, rolpassword from pg_authid where rolname = %s", (bi_reader.ROLE,)).fetchone()
    assert login and scram_matches(verifier, password) and password not in caplog.text

    as_reader = psycopg.conninfo.make_conninfo(warehouse, user=bi_reader.ROLE, password=password)
    with psycopg.connect(as_reader, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == (bi_reader.ROLE,)
        assert conn.execute("select build from bi.build_info").fetchone() == (2,)
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone() == (10,)
        for statement in NOT_FOR_READERS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_without_a_password_bi_reader_is_created_nologin_and_says_so(fresh_db, monkeypatch, caplog):
    role = f"bi_reader_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(bi_reader, "ROLE", role)
    monkeypatch.delenv(bi_reader.PASSWORD_ENV, raising=False)
    try:
        with caplog.at_level(logging.WARNING, logger="expectations.bi_reader"):
            with psycopg.connect(fresh_db) as conn:
                bi_reader.ensure_role(conn)
            with psycopg.connect(fresh_db) as conn:
                bi_reader.ensure_role(conn)  # idempotent
        with psycopg.connect(fresh_db) as conn:
            attributes = conn.execute("select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword"
                                      " from pg_authid where rolname = %s", (role,)).fetchone()
        assert attributes == (False, False, False, False, None)
        assert f"SHAREWHY_BI_READER_PASSWORD is not set: created role {role} NOLOGIN" in caplog.text
        assert f"SHAREWHY_BI_READER_PASSWORD is not set: role {role} left as it is" in caplog.text
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            psycopg.connect(psycopg.conninfo.make_conninfo(fresh_db, user=role))
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
