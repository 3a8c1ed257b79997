"""The quality gate end to end on real PostgreSQL, dbt and GX: audit raw + marts + `bi_build`, publish `bi`.

dbt builds a small handcrafted raw layer once per module into a template database; every test gets its own copy
(`create database … template …`, a file copy, no rebuild). A "night" after the first is made the way dbt would
leave it: raw gains rows, the marts and `bi_build` are rebuilt (from the template's copy of the build, optionally
with every outcome scaled, which keeps every sum and reconciliation true while changing the data).

The sources a tenant may not use (HR roster, X, Bitly, SurveyMonkey, Qualtrics, LinkedIn page statistics) get valid
rows, in their vendors' payload shapes, after the dbt build: the raw suites audit them on every night, and the
build (whose models for those sources are still changing) does not depend on them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from base64 import b64decode
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from expectations import raw_suites, suites
from expectations.audit import AuditFailed, AuditResult, run_audit
from expectations.naming import candidate_relation, release_schema
from expectations.publish import KEEP_RELEASES, PublishBlocked, PublishRefused, publish, rollback
from expectations.suites import BI_BUILD_CATALOG, EXPECTATIONS, VOLUME_CHECKED, bi_build_catalog_expectations
from expectations.thresholds import Thresholds, from_environment
from sharewhy import dbt, settings, transform, transform_lease, warehouse_access
from simulator import qualtrics as qualtrics_simulator
from simulator import surveymonkey as sm_simulator
from simulator.company import Company

RAW_SCHEMA_SQL = settings.REPO_ROOT / "ingestion" / "raw_schema.sql"
FORM_ID = "motivation-2026w36"
NIGHT_1, NIGHT_2, NIGHT_3 = date(2026, 11, 3), date(2026, 11, 4), date(2026, 11, 5)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
METRIC_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")
SURVEY_ITEMS = (
    "obligated_1",
    "obligated_2",
    "good_news_1",
    "good_news_2",
    "proud_1",
    "proud_2",
    "educate_1",
    "educate_2",
)

#: (share id, employee, post number, shared at). October: five surveyed sharers (shown) and e-0009, who never
#: answered; November: three surveyed sharers (fewer than k = 5: suppressed), s-09 not observed by LinkedIn yet.
#: On X (X_SHARES): one October share by e-0004 (one surveyed sharer: suppressed).
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
X_SHARES = [("s-10", "e-0004", 10, "2026-10-10T09:00:00Z")]
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


def tweet_id(number: int) -> str:
    return str(1_850_000_000_000_000_000 + number)


def counts(number: int, night: date) -> dict[str, int]:
    """Cumulative counters of post `number`: NIGHT_1 sees half of what NIGHT_2 sees, exactly (every count is even),
    so the October shares' rates at the outcome horizon (NIGHT_1) are all alike: every motivation's lift is 1."""
    latest = dict(
        zip(METRIC_TYPES, (100 * number, 80 * number, 6 * number, 2 * number, 2 * number, 2 * number), strict=True)
    )
    return latest if night == NIGHT_2 else {metric: count // 2 for metric, count in latest.items()}


# --- raw rows ------------------------------------------------------------------------------------------------------


def insert_share(
    conn: psycopg.Connection,
    share_id: str,
    employee_id: str,
    number: int,
    shared_at: str,
    extracted_at: datetime,
    network: str = "linkedin",
) -> None:
    payload = {
        "share_id": share_id,
        "employee_id": employee_id,
        "content_id": "c-001",
        "network": network,
        "post_id": post_urn(number) if network == "linkedin" else tweet_id(number),
        "shared_at": shared_at,
        "tracking_link": "bit.ly/abcdefg",
        "share_mode": "manual",
        "copy_edited": False,
        "campaign": None,
        "audience_size": 1000,
    }
    conn.execute(
        "insert into raw.advocacy__shares values (%s, %s, %s, %s, %s, %s)",
        (share_id, Jsonb(payload), uuid.uuid4(), extracted_at, NIGHT_2, "advocacy/shares_2026-11-04.csv"),
    )


def insert_count(
    conn: psycopg.Connection, number: int, metric: str, count: int, night: date, extracted_at: datetime
) -> None:
    urn = post_urn(number)
    element = {
        "count": count,
        "metricType": metric,
        "targetEntity": {"ugc" if "ugcPost" in urn else "share": urn},
        "dateRange": {},
    }
    conn.execute(
        "insert into raw.linkedin__member_post_analytics values (%s, %s, %s, %s, %s, %s, %s)",
        (urn, metric, Jsonb(element), uuid.uuid4(), extracted_at, night, "GET /memberCreatorPostAnalytics"),
    )


def insert_response(
    conn: psycopg.Connection, token: str, employee_id: str, answers: tuple[int, ...], extracted_at: datetime
) -> None:
    submitted_at = f"2026-09-0{int(employee_id[-1])}T10:00:00Z"
    payload = {
        "landing_id": token,
        "token": token,
        "response_id": token,
        "landed_at": submitted_at.replace("T10", "T09"),
        "submitted_at": submitted_at,
        "metadata": {},
        "hidden": {"employee_id": employee_id},
        "calculated": {"score": 0},
        "answers": [
            {"field": {"id": f"id-{ref}", "ref": ref, "type": "opinion_scale"}, "type": "number", "number": number}
            for ref, number in zip(SURVEY_ITEMS, answers, strict=True)
        ],
    }
    conn.execute(
        "insert into raw.typeform__responses values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (FORM_ID, token, submitted_at, Jsonb(payload), uuid.uuid4(), extracted_at, NIGHT_2, "GET /forms/responses"),
    )


def land_raw(url: str) -> None:
    extracted_at = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        conn.execute(RAW_SCHEMA_SQL.read_text())
        for share_id, employee_id, number, shared_at in SHARES:
            insert_share(conn, share_id, employee_id, number, shared_at, extracted_at)
            for night in () if number in UNOBSERVED else (NIGHT_1, NIGHT_2):
                for metric, count in counts(number, night).items():
                    insert_count(conn, number, metric, count, night, extracted_at)
        for share_id, employee_id, number, shared_at in X_SHARES:
            insert_share(conn, share_id, employee_id, number, shared_at, extracted_at, network="x")
        for employee_id, answers in ANSWERS.items():
            insert_response(conn, f"t-{employee_id}", employee_id, answers, extracted_at)


# --- raw rows of the sources a tenant may not use (landed after the build) -----------------------------------------

TEAMS = {
    "e-0001": "sales",
    "e-0002": "sales",
    "e-0003": "marketing",
    "e-0004": "marketing",
    "e-0005": "people",
    "e-0009": "people",
}
#: The vendor surveys of the simulated company's wave of 2026-11-25, which the committed instrument maps: their
#: question ids (SurveyMonkey) and QIDs (Qualtrics) → the item refs.
_COMPANY = Company(7, datetime(2026, 11, 26, tzinfo=UTC))
_SM_WAVE, _Q_WAVE = _COMPANY.survey_waves_for("surveymonkey")[-1], _COMPANY.survey_waves_for("qualtrics")[-1]
SURVEYMONKEY_SURVEY, QUALTRICS_SURVEY = sm_simulator.survey_id(_SM_WAVE), qualtrics_simulator.survey_id(_Q_WAVE)
SURVEYMONKEY_QUESTIONS = {ref: qid for qid, ref in sm_simulator.question_ids(_SM_WAVE).items()}
QUALTRICS_QUESTIONS = {ref: qid for qid, ref in qualtrics_simulator.question_ids(_Q_WAVE).items()}
#: The choices' labels, by position (no digits: the position, from /details, is the scale point).
CHOICES = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
ORGANIZATION = "urn:li:organization:99295745"
PAGE_POSTS = ("urn:li:share:7531390323943526063", "urn:li:ugcPost:7516106545272229245")


def _raw(
    conn: psycopg.Connection, table: str, keys: tuple, payload: dict, extracted_at: datetime, night: date, request: str
) -> None:
    values = ", ".join(["%s"] * (len(keys) + 5))
    conn.execute(
        f"insert into raw.{table} values ({values})",
        (*keys, Jsonb(payload), uuid.uuid4(), extracted_at, night, request),
    )


def insert_roster_row(conn, employee_id: str, night: date, extracted_at: datetime, **changes) -> None:
    payload = {
        "employee_id": employee_id,
        "email": f"{employee_id}@example.com",
        "team": TEAMS[employee_id],
        "department": "revenue",
        "manager": None if employee_id == "e-0001" else "e-0001",
        "location": None,
        "start_date": "2020-01-06",
        **changes,
    }
    _raw(conn, "hr__roster", (employee_id,), payload, extracted_at, night, f"hr/roster_{night}.csv")


def insert_tweet(conn, number: int, night: date, extracted_at: datetime, likes: int) -> None:
    counts = {
        "retweet_count": 1,
        "reply_count": 2,
        "like_count": likes,
        "quote_count": 0,
        "bookmark_count": 0,
        "impression_count": 100 * likes,
    }
    payload = {
        "id": tweet_id(number),
        "text": "Worth a read: c-001 https://bit.ly/abcdefg",
        "created_at": "2026-10-10T09:00:00.000Z",
        "edit_history_tweet_ids": [tweet_id(number)],
        "public_metrics": counts,
        "non_public_metrics": {"impression_count": 100 * likes, "url_link_clicks": 3, "user_profile_clicks": 1},
    }
    _raw(conn, "x__tweet_metrics", (tweet_id(number),), payload, extracted_at, night, "GET /2/tweets")


def insert_clicks(conn, day: date, clicks: int, night: date, extracted_at: datetime) -> None:
    payload = {"clicks": clicks, "date": f"{day.isoformat()}T00:00:00+0000"}
    _raw(
        conn,
        "bitly__link_clicks",
        ("bit.ly/abcdefg", day),
        payload,
        extracted_at,
        night,
        "GET /v4/bitlinks/bit.ly/abcdefg/clicks",
    )


def insert_surveymonkey_details(conn, extracted_at: datetime, choices: tuple[str, ...] = CHOICES) -> None:
    """The survey's /details: each instrument question with a choice per position."""
    questions = [
        {
            "id": qid,
            "position": n,
            "family": "single_choice",
            "subtype": "vertical",
            "headings": [{"heading": ref}],
            "answers": {
                "choices": [
                    {"id": sm_simulator.choice_id(qid, position), "position": position, "text": text}
                    for position, text in enumerate(choices, start=1)
                ]
            },
        }
        for n, (ref, qid) in enumerate(SURVEYMONKEY_QUESTIONS.items(), start=1)
    ]
    modified = "2026-08-31T00:00:00+00:00"
    payload = {
        "id": SURVEYMONKEY_SURVEY,
        "title": "Why we share",
        "date_created": modified,
        "date_modified": modified,
        "pages": [{"id": "688388674", "position": 1, "questions": questions}],
    }
    _raw(
        conn,
        "surveymonkey__survey_details",
        (SURVEYMONKEY_SURVEY, modified),
        payload,
        extracted_at,
        NIGHT_2,
        f"GET /v3/surveys/{SURVEYMONKEY_SURVEY}/details",
    )


def insert_surveymonkey_response(
    conn, employee_id: str, answers: tuple[int, ...], extracted_at: datetime, version: int = 1
) -> None:
    """Version n of the employee's response, modified n − 1 days after the first: answers by choice id."""
    response_id = f"8176461904{employee_id[-1]}"
    modified = f"2026-09-{int(employee_id[-1]) + version - 1:02d}T10:00:00+00:00"
    questions = []
    for ref, answer in zip(SURVEY_ITEMS, answers, strict=True):
        qid = SURVEYMONKEY_QUESTIONS[ref]
        text = CHOICES[answer - 1] if answer <= len(CHOICES) else None
        questions.append(
            {
                "id": qid,
                "answers": [
                    {"choice_id": sm_simulator.choice_id(qid, answer), **({"simple_text": text} if text else {})}
                ],
            }
        )
    payload = {
        "id": response_id,
        "survey_id": SURVEYMONKEY_SURVEY,
        "response_status": "completed",
        "date_created": f"2026-09-0{int(employee_id[-1])}T09:00:00+00:00",
        "date_modified": modified,
        "custom_variables": {"employee_id": employee_id},
        "pages": [{"id": "688388674", "questions": questions}],
    }
    _raw(
        conn,
        "surveymonkey__responses",
        (SURVEYMONKEY_SURVEY, response_id, modified),
        payload,
        extracted_at,
        NIGHT_2,
        f"GET /v3/surveys/{SURVEYMONKEY_SURVEY}/responses/bulk",
    )


def insert_qualtrics_response(conn, employee_id: str, answers: tuple[int, ...], extracted_at: datetime) -> None:
    response_id = f"R_Iv0FWlRHZs9lp{employee_id[-2:]}"
    recorded = f"2026-09-0{int(employee_id[-1])}T10:00:00Z"
    values = {QUALTRICS_QUESTIONS[ref]: answer for ref, answer in zip(SURVEY_ITEMS, answers, strict=True)}
    payload = {
        "responseId": response_id,
        "values": {
            "startDate": recorded.replace("T10", "T09"),
            "endDate": recorded,
            "recordedDate": recorded,
            "finished": 1,
            "progress": 100,
            **values,
            "externalDataReference": employee_id,
        },
        "labels": {},
        "displayedFields": list(values),
        "displayedValues": {q: [1, 2, 3, 4, 5] for q in values},
    }
    _raw(
        conn,
        "qualtrics__responses",
        (QUALTRICS_SURVEY, response_id, recorded),
        payload,
        extracted_at,
        NIGHT_2,
        f"GET /API/v3/surveys/{QUALTRICS_SURVEY}/export-responses/ES_1/file",
    )


def share_statistics(impressions: int) -> dict:
    return {
        "impressionCount": impressions,
        "uniqueImpressionsCount": impressions * 7 // 10,
        "clickCount": impressions // 50,
        "likeCount": impressions // 30,
        "commentCount": 1,
        "shareCount": 0,
        "engagement": 0.05,
    }


def insert_page_day(conn, day: date, extracted_at: datetime) -> None:
    start = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    payload = {
        "organizationalEntity": ORGANIZATION,
        "timeRange": {"start": start, "end": start + 86_400_000},
        "totalShareStatistics": share_statistics(500),
    }
    _raw(
        conn,
        "linkedin__organization_daily_statistics",
        (ORGANIZATION, day),
        payload,
        extracted_at,
        day,
        "GET /rest/organizationalEntityShareStatistics",
    )


def insert_page_post(conn, urn: str, impressions: int, night: date, extracted_at: datetime) -> None:
    payload = {
        "share" if ":share:" in urn else "ugcPost": urn,
        "organizationalEntity": ORGANIZATION,
        "totalShareStatistics": share_statistics(impressions),
    }
    _raw(
        conn,
        "linkedin__organization_post_statistics",
        (urn,),
        payload,
        extracted_at,
        night,
        "GET /rest/organizationalEntityShareStatistics",
    )


def land_optional_sources(url: str) -> None:
    """Two nights of every source a tenant may not use, all valid."""
    extracted_at = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        for night, scale in ((NIGHT_1, 1), (NIGHT_2, 2)):
            for employee_id in TEAMS:
                insert_roster_row(conn, employee_id, night, extracted_at)
            for _, _, number, _ in X_SHARES:
                insert_tweet(conn, number, night, extracted_at, likes=5 * scale)
            insert_clicks(conn, night - timedelta(days=1), 4 * scale, night, extracted_at)
            insert_page_day(conn, night, extracted_at)
            for urn in PAGE_POSTS:
                insert_page_post(conn, urn, 1000 * scale, night, extracted_at)
        insert_surveymonkey_details(conn, extracted_at)
        for employee_id, answers in ANSWERS.items():
            insert_surveymonkey_response(conn, employee_id, answers, extracted_at)
            insert_qualtrics_response(conn, employee_id, answers, extracted_at)


# --- warehouses ----------------------------------------------------------------------------------------------------

#: Where the template keeps dbt's build, to rebuild marts and `bi_build` for a later night without dbt.
BUILD_COPY = "test_build_copy"
#: The `bi` candidates (every one has a suite).
BI_TABLES = (
    "motivation_attribution",
    "motivation_lift",
    "team_morale",
    "advocacy_kpis",
    "obligation_signals",
    "salesy_risk",
    "consent_coverage",
    "monthly_totals",
    "team_motivation_clicks",
    "content_obligation",
    "content_type_obligation",
)
BUILT_TABLES = ("marts.fct_shares", "marts.fct_share_motivation_attribution", *(f"bi_build.{t}" for t in BI_TABLES))
#: Outcome columns scaled by `rebuild` (counts of shares are not: they must keep matching the shares; nor are the
#: horizon outcomes, which nothing reconciles).
SCALED = {
    "marts.fct_shares": ("impressions", "engagements", "clicks"),
    "marts.fct_share_motivation_attribution": ("attributed_impressions", "attributed_engagements", "attributed_clicks"),
    "bi_build.motivation_attribution": ("attributed_impressions", "attributed_engagements", "attributed_clicks"),
    "bi_build.monthly_totals": ("impressions", "engagements", "clicks"),
    "bi_build.advocacy_kpis": ("impressions", "engagements", "clicks"),
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
        dbt.run(
            ["build", "--quiet", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"],
            url,
            target_dir=work / "target",
            log_dir=work / "logs",
        )
        land_optional_sources(url)
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


def rebuild(url: str, scale: int = 1, version: int | None = None, candidates: str = "bi_build") -> None:
    """What dbt leaves behind on the next night: the marts and the `bi` candidates rebuilt (outcomes × `scale`) —
    in `bi_build`, as a `dbt build` without a release named, or in the schema `candidates` (a run's release) — and
    with a version, one more candidate `build_info` that tells builds apart."""
    with psycopg.connect(url) as conn:
        conn.execute(f"create schema if not exists {candidates}")
        for built in BUILT_TABLES:
            table = candidate_relation(built, candidates)
            copy = f"{BUILD_COPY}.{table.split('.')[1]}"
            conn.execute(f"create table if not exists {table} as table {copy} with no data")  # bi_build was published
            conn.execute(f"truncate {table}")
            conn.execute(f"insert into {table} select * from {copy}")
            if built in SCALED:
                scaled = ", ".join(f"{column} = {column} * {scale}" for column in SCALED[built])
                conn.execute(f"update {table} set {scaled}")
            if built.startswith("marts."):
                # every row written by this build, as dbt stamps them: the marts' per-share rules read the rows
                # built since the last passed audit (expectations.mart_suites.built_since)
                conn.execute(f"update {table} set built_at = now()")
        if version is not None:
            conn.execute(f"create table {candidates}.build_info (version integer)")
            conn.execute(f"insert into {candidates}.build_info values (%s)", (version,))


def checksum(url: str, relation: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(CHECKSUM.format(relation)).fetchone()[0]


def bi_checksums(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        views = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.views where table_schema = 'bi' order by 1"
            )
        ]
    return {view: checksum(url, f"bi.{view}") for view in views}


def audit_build(url: str, run_id: str, thresholds: Thresholds = Thresholds()) -> AuditResult:
    """The audit of the candidates `rebuild` (or the template's dbt build, without a release named) left in
    `bi_build`; publish makes that schema the run's release."""
    return run_audit(url, run_id, thresholds, candidates=settings.BI_BUILD_SCHEMA)


def audit_and_publish(url: str, run_id: str, thresholds: Thresholds = Thresholds()) -> str:
    audit_build(url, run_id, thresholds).raise_if_failed()
    return publish(url, run_id)


def failing(result: AuditResult) -> set[tuple[str, str]]:
    return {(failure.suite, failure.name) for failure in result.failures}


def failure(result: AuditResult, suite: str, name_start: str):
    return next(f for f in result.failures if f.suite == suite and f.name.startswith(name_start))


def unexpected_rows(result: AuditResult, suite: str, name_start: str) -> list[dict]:
    return failure(result, suite, name_start).observed["details"]["unexpected_rows"]


def build_info_expectations(thresholds: Thresholds) -> list:
    import great_expectations as gx

    return [gx.expectations.ExpectTableRowCountToBeBetween(min_value=1, max_value=1)]


@pytest.fixture
def audit_only(monkeypatch):
    """`audit_only("raw", …)`: the test's audits validate the suites of those layers only (the `bi_build` guard with
    `bi_build`). The clean and the poisoned nights audit every layer; a test about one layer (publish, a rule of the
    raw or `bi_build` suites) audits that layer over the template's others, which the clean night audits in full:
    about half an audit's cost, on a CI budget of two shared cores. The registry is put back in its order (the
    audit order) afterwards."""
    everything = dict(EXPECTATIONS)

    def narrow(*schemas: str) -> None:
        for relation in everything:
            if relation.split(".")[0] not in schemas:
                EXPECTATIONS.pop(relation, None)
        if "bi_build" not in schemas:  # the guard would find every bi_build table without a suite
            monkeypatch.setattr(suites, "bi_build_catalog_expectations", lambda thresholds: [])

    yield narrow
    EXPECTATIONS.clear()
    EXPECTATIONS.update(everything)


@pytest.fixture
def build_info_audited(monkeypatch):
    """The tests' own `bi_build.build_info` (which tells builds apart) gets a suite, as any new `bi` table must: the
    gate refuses a `bi_build` table without one."""
    monkeypatch.setitem(EXPECTATIONS, "bi_build.build_info", build_info_expectations)


# --- a clean night -------------------------------------------------------------------------------------------------

#: Every audited relation: the raw tables (sources every tenant has, then those a tenant may not use), the marts,
#: the `bi` candidates.
AUDITED = {
    "raw.advocacy__shares",
    "raw.linkedin__member_post_analytics",
    "raw.typeform__responses",
    "raw.hr__roster",
    "raw.x__tweet_metrics",
    "raw.bitly__link_clicks",
    "raw.surveymonkey__responses",
    "raw.surveymonkey__survey_details",
    "raw.qualtrics__responses",
    "raw.linkedin__organization_daily_statistics",
    "raw.linkedin__organization_post_statistics",
    "marts.fct_shares",
    "marts.fct_share_motivation_attribution",
    *(f"bi_build.{table}" for table in BI_TABLES),
}


def test_clean_night_passes_every_suite_and_publishes(warehouse):
    built = {table: checksum(warehouse, f"bi_build.{table}") for table in BI_TABLES}
    with psycopg.connect(warehouse) as conn:  # every raw table has rows to audit
        assert all(
            conn.execute(f"select exists (select from {relation})").fetchone()[0]
            for relation in AUDITED
            if relation.startswith("raw.")
        )

    result = audit_build(warehouse, "scheduled__2026-11-26T02:00:00+00:00")

    assert result.success, result.summary()
    assert (result.failed, result.failures, result.skipped) == (0, [], ())
    assert 0 < result.elapsed_s < 60
    with psycopg.connect(warehouse) as conn:
        suites = conn.execute(
            "select suite, bool_and(success), count(*) from audit.validation_runs where run_id = %s group by suite",
            (result.run_id,),
        ).fetchall()
    assert set(EXPECTATIONS) == AUDITED
    assert {suite for suite, _, _ in suites} == AUDITED | {BI_BUILD_CATALOG}
    assert all(passed for _, passed, _ in suites)
    assert (
        sum(n for _, _, n in suites)
        == result.passed
        == sum(len(build(Thresholds())) for build in (*EXPECTATIONS.values(), bi_build_catalog_expectations))
    )
    assert result.data_docs_path == settings.DATA_DOCS_DIR / "scheduled__2026-11-26T02_00_00_00_00" / "index.html"
    index = result.data_docs_path.read_text()
    assert all(relation in index for relation in AUDITED)

    release = publish(warehouse, result.run_id)

    assert release == "bi_release_scheduled__2026_11_26t02_00_00_00_00"
    assert {table: checksum(warehouse, f"bi.{table}") for table in BI_TABLES} == built
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select to_regnamespace('bi_build')").fetchone()[0] is None
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone()[0] == 15
        volumes = dict(conn.execute("select relation, row_count from audit.published_volumes").fetchall())
        bi_rows = {f"bi_build.{t}": conn.execute(f"select count(*) from bi.{t}").fetchone()[0] for t in BI_TABLES}
    # 10 shares: 9 by respondents (a row per construct), s-06 unattributed; (2 months on LinkedIn + October on X)
    # × 5 motivations
    assert volumes == {"marts.fct_shares": 10, "marts.fct_share_motivation_attribution": 9 * 4 + 1, **bi_rows}
    assert bi_rows["bi_build.motivation_attribution"] == 15
    # the one content piece has 5 surveyed sharers of 6 (k = 5): shown, though the export gives it no title
    assert bi_rows["bi_build.content_obligation"] == 1 and all(bi_rows.values())
    assert set(volumes) == set(VOLUME_CHECKED)


def test_published_views_carry_the_dbt_descriptions_as_comments(warehouse):
    """dbt's persist_docs comments the release tables; publish copies them onto the `bi` views (`\\d+ bi.x`)."""
    result = audit_build(warehouse, "scheduled__2026-11-26T02:00:00+00:00")
    assert result.success, result.summary()
    publish(warehouse, result.run_id)
    with psycopg.connect(warehouse) as conn:
        comments = dict(
            conn.execute(
                "select c.relname, obj_description(c.oid, 'pg_class') from pg_class c"
                " join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'bi' and c.relkind = 'v'"
            ).fetchall()
        )
        column = conn.execute(
            "select col_description(attrelid, attnum) from pg_attribute"
            " where attrelid = 'bi.monthly_totals'::regclass and attname = 'is_complete'"
        ).fetchone()[0]
        undocumented = conn.execute(
            "select c.relname, a.attname from pg_attribute a join pg_class c on c.oid = a.attrelid"
            " join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'bi' and a.attnum > 0 and not a.attisdropped and col_description(c.oid, a.attnum) is null"
        ).fetchall()
    assert set(comments) == set(BI_TABLES)
    assert comments["monthly_totals"].startswith("Grain: month × network.")
    assert all(comments.values()), comments
    assert column.startswith("Whether the data covers every day of the month")
    assert undocumented == []


# --- a poisoned night ----------------------------------------------------------------------------------------------

#: What the poisoned night breaks, as (suite, failing expectation).
POISONED_NIGHT_FAILURES = {
    # -5 impressions for post 1 on NIGHT_3: negative, and a fall from NIGHT_2's 100
    ("raw.linkedin__member_post_analytics", "count of each post × metric's latest night is not negative"),
    (
        "raw.linkedin__member_post_analytics",
        "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)",
    ),
    # an answer of 9 on a 1–5 item
    (
        "raw.typeform__responses",
        "Likert: answers to the survey instrument's items are whole numbers on the item's scale (1–5)",
    ),
    # s-03's impressions changed in fct_shares after the build: its attribution and the October totals the
    # candidates were built from no longer match it (a duplicate share cannot be written: its unique index,
    # tests/test_dbt_build.py)
    (
        "marts.fct_share_motivation_attribution",
        "attributed parts of each share of marts.fct_shares sum to the share and its totals"
        " (shares either table built since the last passed audit)",
    ),
    ("bi_build.monthly_totals", "totals per month × network equal those of marts.fct_shares"),
    (
        "bi_build.advocacy_kpis",
        "reach kinds are kept apart: shares, potential_reach (Σ audience_size), impressions"
        " and members_reached per month × team × network equal those of marts.fct_shares",
    ),
    # the attributed parts no longer sum to the totals (s-03's impressions, and one attributed click too many)
    (
        "bi_build.motivation_attribution",
        "Σ attributed parts over motivations per month × network equal the totals"
        " of marts.fct_shares (bi.monthly_totals holds the same totals)",
    ),
}


def test_poisoned_night_fails_naming_each_failure_and_leaves_bi_unchanged(warehouse):
    audit_and_publish(warehouse, "night-1")
    published = bi_checksums(warehouse)
    rebuild(warehouse, scale=2)
    with psycopg.connect(warehouse) as conn:
        insert_count(conn, 1, "IMPRESSION", -5, NIGHT_3, datetime.now(UTC))
        poisoned_answers = (*ANSWERS["e-0005"][:4], 9, *ANSWERS["e-0005"][5:])
        insert_response(conn, "t-poisoned", "e-0005", poisoned_answers, datetime.now(UTC))
        # after the build: the marts no longer hold what the candidates were built from (a duplicate share, the old
        # poison, cannot be written any more: fct_shares' key is its unique index's)
        conn.execute("update marts.fct_shares set impressions = impressions + 7 where share_id = 's-03'")
        conn.execute(
            "update bi_build.motivation_attribution set attributed_clicks = attributed_clicks + 1"
            " where month = %s and network = 'linkedin' and motivation = 'proud'",
            (OCTOBER,),
        )

    result = audit_build(warehouse, "night-2")

    assert not result.success
    assert failing(result) == POISONED_NIGHT_FAILURES, result.summary()
    negative = failure(
        result, "raw.linkedin__member_post_analytics", "count of each post × metric's latest night is not"
    )
    assert negative.observed["details"]["unexpected_rows"] == [
        {"post_urn": post_urn(1), "metric_type": "IMPRESSION", "_logical_date": "2026-11-05", "count": "-5"}
    ]
    likert = failure(result, "raw.typeform__responses", "Likert")
    assert [
        (r["response_token"], r["item_key"], r["answer"]) for r in likert.observed["details"]["unexpected_rows"]
    ] == [("t-poisoned", "proud_1", 9)]
    sums = failure(result, "bi_build.motivation_attribution", "Σ attributed parts")
    # October, doubled: clicks of posts 1…6 = 2 × 2 × 21 = 84, and one click too many attributed
    october = {r["network"]: r for r in sums.observed["details"]["unexpected_rows"] if r["month"] == "2026-10-01"}
    assert Decimal(october["linkedin"]["attributed_clicks"]) == 85
    with psycopg.connect(warehouse) as conn:
        recorded = conn.execute(
            "select suite, coalesce(description, expectation_type || '(' || column_name || ')')"
            " from audit.validation_runs where run_id = 'night-2' and not success"
        ).fetchall()
    assert set(recorded) == POISONED_NIGHT_FAILURES
    for suite, name in POISONED_NIGHT_FAILURES:
        assert f"✗ [{suite}] {name}" in result.summary()
    with pytest.raises(AuditFailed, match="Likert"):
        result.raise_if_failed()

    assert bi_checksums(warehouse) == published
    with pytest.raises(PublishRefused, match="failed 7 of"):
        publish(warehouse, "night-2")  # the gate holds even when a caller ignores the audit result
    assert bi_checksums(warehouse) == published


def test_build_missing_a_column_fails_naming_it(audit_only, warehouse):
    audit_only("bi_build")
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table bi_build.motivation_attribution drop column respondents")

    result = audit_build(warehouse, "missing-column")

    named = {f.name: f.observed for f in result.failures if f.suite == "bi_build.motivation_attribution"}
    assert named["expect_table_columns_to_match_set"]["details"]["mismatched"] == {"missing": ["respondents"]}
    k_anonymity = next(observed for name, observed in named.items() if name.startswith("k-anonymity:"))
    assert 'column "respondents" does not exist' in k_anonymity["exception"]


def test_a_night_without_its_marts_cannot_be_audited_nor_published(warehouse):
    from great_expectations.datasource.fluent.interfaces import TestConnectionError

    with psycopg.connect(warehouse) as conn:
        conn.execute("drop table marts.fct_share_motivation_attribution")

    with pytest.raises(TestConnectionError, match="marts.fct_share_motivation_attribution"):
        audit_build(warehouse, "no-marts")
    with pytest.raises(PublishRefused, match="no audit"):
        publish(warehouse, "no-marts")


def test_k_anonymity_threshold_comes_from_configuration(audit_only, warehouse):
    """November's three surveyed sharers shown under `proud`: refused at k = 5 (the poisoned night shows the
    rule failing), allowed at k = 3."""
    audit_only("bi_build")
    with psycopg.connect(warehouse) as conn:
        for metric in ("shares", "impressions", "engagements", "clicks"):
            conn.execute(
                f"update bi_build.motivation_attribution as parts set attributed_{metric} = case motivation"
                f" when 'proud' then (select totals.{metric} from bi_build.monthly_totals as totals"
                " where totals.month = parts.month and totals.network = parts.network) else 0 end"
                " where month = %s",
                (NOVEMBER,),
            )

    shown = audit_build(warehouse, "k5")
    allowed = audit_build(warehouse, "k3", Thresholds(k_anonymity=3))

    assert failing(shown) == {
        (
            "bi_build.motivation_attribution",
            "k-anonymity: no motivation row carries attributed values for fewer than 5 respondents",
        )
    }
    rows = shown.failures[0].observed["details"]["unexpected_rows"]
    assert [(r["month"], r["motivation"], r["respondents"]) for r in rows] == [("2026-11-01", "proud", 3)]
    assert allowed.success, allowed.summary()


#: What the poisoned candidates break, as (suite, failing expectation).
POISONED_CANDIDATES = {
    (
        "bi_build.motivation_lift",
        "values: network a network or `all`; counts ≥ 0; lift ≥ 0; interval lower ≤ lift ≤ upper, shown together",
    ),
    (
        "bi_build.team_morale",
        "k-anonymity: rows with fewer than 5 respondents are suppressed and show no"
        " survey-derived value (mean_obligated_score, mean_good_news_score, mean_proud_score,"
        " mean_educate_score, intrinsic_share, obligated_share, intrinsic_share_change,"
        " obligated_share_change)",
    ),
    (
        "bi_build.advocacy_kpis",
        "values: counts ≥ 0, participation_rate in [0, 1], month a month's first day, network a network",
    ),
    (
        "bi_build.advocacy_kpis",
        "reach kinds are kept apart: shares, potential_reach (Σ audience_size), impressions"
        " and members_reached per month × team × network equal those of marts.fct_shares",
    ),
    (
        "bi_build.obligation_signals",
        "values: rates and obligated_share in [0, 1], engagement_rate_index ≥ 0,"
        " respondents ≤ sharers ≤ shares, matured_shares ≤ shares, signals_raised counts"
        " the raised signals, month a month's first day",
    ),
    ("bi_build.salesy_risk", "no e-mail address or @handle in any column (no value holds '@')"),
}


def test_poisoned_candidates_fail_naming_each_expectation(audit_only, warehouse):
    audit_only("bi_build")
    with psycopg.connect(warehouse) as conn:
        # an inverted interval; two lifts below 0 (a ratio of observed rates cannot be)
        # (each shown, with lift_note cleared, so only the values are wrong)
        conn.execute(
            "update bi_build.motivation_lift set engagement_rate_lift = 1.0, engagement_rate_lift_lower = 1.2,"
            " engagement_rate_lift_upper = 0.8, click_through_rate_lift = 1.0,"
            " click_through_rate_lift_lower = 0.9, click_through_rate_lift_upper = 1.1, lift_note = null"
            " where network = 'linkedin' and share_segment = 'all' and motivation = 'proud'"
        )
        conn.execute(
            "update bi_build.motivation_lift set engagement_rate_lift = 1.0, engagement_rate_lift_lower = 0.9,"
            " engagement_rate_lift_upper = 1.1, click_through_rate_lift = -0.5,"
            " click_through_rate_lift_lower = -0.7, click_through_rate_lift_upper = -0.3, lift_note = null"
            " where network = 'all' and share_segment = 'all' and motivation = 'educate'"
        )
        conn.execute(
            "update bi_build.motivation_lift set engagement_rate_lift = 1.0, engagement_rate_lift_lower = 0.9,"
            " engagement_rate_lift_upper = 1.1, click_through_rate_lift = -0.02,"
            " click_through_rate_lift_lower = -0.3, click_through_rate_lift_upper = 0.28, lift_note = null"
            " where network = 'all' and share_segment = 'manual' and motivation = 'obligated'"
        )
        # a team × wave of 3 respondents that shows its scores
        conn.execute("update bi_build.team_morale set respondents = 3")
        # participation above 1; impressions added into potential reach
        conn.execute(
            "update bi_build.advocacy_kpis set participation_rate = 1.5, potential_reach = potential_reach"
            " + impressions where month = %s and network = 'linkedin'",
            (OCTOBER,),
        )
        # November is suppressed (3 respondents): a hidden survey signal counted in signals_raised
        conn.execute(
            "update bi_build.obligation_signals set signals_raised = signals_raised + 1 where month = %s", (NOVEMBER,)
        )
        # an e-mail address in a team name
        conn.execute("update bi_build.salesy_risk set team = 'jane.doe@example.com' where month = %s", (NOVEMBER,))

    result = audit_build(warehouse, "poisoned-candidates")

    assert failing(result) == POISONED_CANDIDATES, result.summary()
    lift_rows = unexpected_rows(result, "bi_build.motivation_lift", "values")
    assert sorted(lift_rows, key=lambda r: (r["network"], r["share_segment"])) == [
        {"network": "all", "share_segment": "all", "motivation": "educate", "broken": ["click_through_rate_lift >= 0"]},
        {
            "network": "all",
            "share_segment": "manual",
            "motivation": "obligated",
            "broken": ["click_through_rate_lift >= 0"],
        },
        {
            "network": "linkedin",
            "share_segment": "all",
            "motivation": "proud",
            "broken": ["engagement_rate_lift_lower <= engagement_rate_lift <= engagement_rate_lift_upper"],
        },
    ]
    [morale] = unexpected_rows(result, "bi_build.team_morale", "k-anonymity")
    assert (morale["respondents"], morale["is_suppressed"]) == (3, False)
    assert morale["survey_values_shown"][:2] == ["mean_obligated_score", "mean_good_news_score"]
    assert unexpected_rows(result, "bi_build.advocacy_kpis", "values") == [
        {"month": "2026-10-01", "team": "unknown", "network": "linkedin", "broken": ["participation_rate in [0, 1]"]}
    ]
    [reach] = unexpected_rows(result, "bi_build.advocacy_kpis", "reach kinds")
    assert reach["built_potential_reach"] == reach["marts_potential_reach"] + reach["built_impressions"]
    assert unexpected_rows(result, "bi_build.obligation_signals", "values") == [
        {"month": "2026-11-01", "team": "unknown", "broken": ["signals_raised counts the raised signals shown"]}
    ]
    personal = failure(result, "bi_build.salesy_risk", "no e-mail")
    assert personal.observed["details"]["unexpected_rows"] == [{"column_name": "team", "rows": 1}]
    assert "jane.doe" not in result.summary() and "jane.doe" not in json.dumps(personal.observed)
    with pytest.raises(PublishRefused, match="failed 6 of"):
        publish(warehouse, "poisoned-candidates")


def test_a_bi_build_table_without_a_suite_fails_naming_it(audit_only, warehouse):
    audit_only("bi_build")
    with psycopg.connect(warehouse) as conn:
        conn.execute("create table bi_build.sharer_leaderboard as select 'e-0001'::text as employee_id")
        conn.execute("drop table bi_build.salesy_risk")

    result = audit_build(warehouse, "unaudited-table")

    assert failing(result) == {
        ("bi_build", "every bi_build table has a suite (publish would expose it in bi unaudited)"),
        ("bi_build", "every bi_build table with a suite was built (publishing without it would drop its bi view)"),
    }, result.summary()
    assert unexpected_rows(result, "bi_build", "every bi_build table has") == [{"table_name": "sharer_leaderboard"}]
    assert unexpected_rows(result, "bi_build", "every bi_build table with") == [{"table_name": "salesy_risk"}]
    assert result.skipped == ("bi_build.salesy_risk",)
    assert "sharer_leaderboard" in result.summary()
    with pytest.raises(PublishRefused, match="failed 2 of"):
        publish(warehouse, "unaudited-table")


# --- raw rules between nights ----------------------------------------------------------------------------------------


def test_counters_may_fall_within_tolerance_and_stale_sources_fail_freshness(audit_only, warehouse):
    audit_only("raw")
    stale = datetime.now(UTC) - timedelta(hours=51)
    with psycopg.connect(warehouse) as conn:
        conn.execute("update raw.linkedin__member_post_analytics set _extracted_at = %s", (stale,))
        for number in (n for _, _, n, _ in SHARES if n not in UNOBSERVED):
            for metric, count in counts(number, NIGHT_2).items():
                insert_count(conn, number, metric, count, NIGHT_3, stale)
        # post 5: 500 → 495 impressions (within max(2, 1 %)); post 4: 24 → 17 reactions (beyond it)
        conn.execute(
            "update raw.linkedin__member_post_analytics set payload = jsonb_set(payload, '{count}', %s)"
            " where post_urn = %s and metric_type = %s and _logical_date = %s",
            (Jsonb(495), post_urn(5), "IMPRESSION", NIGHT_3),
        )
        conn.execute(
            "update raw.linkedin__member_post_analytics set payload = jsonb_set(payload, '{count}', %s)"
            " where post_urn = %s and metric_type = %s and _logical_date = %s",
            (Jsonb(17), post_urn(4), "REACTION", NIGHT_3),
        )

    result = audit_build(warehouse, "night-3")

    suite = "raw.linkedin__member_post_analytics"
    assert failing(result) == {
        (suite, "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)"),
        (suite, "freshness: newest _extracted_at at most 50 hours old"),
    }, result.summary()
    fallen = failure(result, suite, "cumulative counts").observed["details"]["unexpected_rows"]
    assert fallen == [
        {
            "post_urn": post_urn(4),
            "metric_type": "REACTION",
            "previous_night": "2026-11-04",
            "previous_count": "24",
            "night": "2026-11-05",
            "count": "17",
        }
    ]


#: What the poisoned vendor rows break, as (suite, failing expectation).
POISONED_SOURCES = {
    (
        "raw.surveymonkey__responses",
        "Likert: SurveyMonkey answers to the survey instrument's items are one choice of the question in the survey's"
        " /details, at a position on the item's scale (1–5; position 1 = its lowest)",
    ),
    (
        "raw.x__tweet_metrics",
        "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)",
    ),
    (
        "raw.linkedin__organization_post_statistics",
        "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)",
    ),
    ("raw.bitly__link_clicks", "clicks are non-negative whole numbers"),
    ("raw.linkedin__member_post_analytics", "every post counted is a share in raw.advocacy__shares"),
    (
        "raw.hr__roster",
        "payload is the export's row: exactly its columns, strings (manager, location may be null), the"
        " row's employee_id, an e-mail address, start_date an ISO date",
    ),
}


def test_poisoned_sources_fail_naming_each_expectation(audit_only, warehouse):
    audit_only("raw")
    now = datetime.now(UTC)
    poisoned_answers = (*ANSWERS["e-0005"][:4], 9, *ANSWERS["e-0005"][5:])  # proud_1
    with psycopg.connect(warehouse) as conn:
        # an edited response (a later version) answering a choice the question does not have (as if at position 9
        # of a 1–5 item); another vendor's 9 on QID5
        insert_surveymonkey_response(conn, "e-0005", poisoned_answers, now, version=2)
        conn.execute(
            "update raw.qualtrics__responses set payload = jsonb_set(payload, '{values,QID5}', '9')"
            " where payload -> 'values' ->> 'externalDataReference' = 'e-0005'"
        )
        # cumulative counts falling on a third night: X likes 10 → 3, a page post's impressions 2000 → 500
        insert_tweet(conn, 10, NIGHT_3, now, likes=10)
        conn.execute(
            "update raw.x__tweet_metrics set payload = jsonb_set(payload, '{public_metrics,like_count}', '3')"
            " where _logical_date = %s",
            (NIGHT_3,),
        )
        insert_page_post(conn, PAGE_POSTS[0], 500, NIGHT_3, now)
        insert_page_post(conn, PAGE_POSTS[1], 2000, NIGHT_3, now)
        # a LinkedIn count for a post no share made (number 97: none of the fixture's shares)
        insert_count(conn, 97, "IMPRESSION", 40, NIGHT_3, now)
        # negative clicks; a roster row without an e-mail address
        insert_clicks(conn, NIGHT_2, -2, NIGHT_3, now)
        insert_roster_row(conn, "e-0001", NIGHT_3, now, email="e-0001")

    result = audit_build(warehouse, "poisoned-sources")

    # its name says whether the instrument maps Qualtrics question ids to items (then: "on the item's scale")
    qualtrics_likert = next(
        e.description
        for e in raw_suites.qualtrics_expectations(Thresholds())
        if e.description and e.description.startswith("Likert")
    )
    assert failing(result) == POISONED_SOURCES | {("raw.qualtrics__responses", qualtrics_likert)}, result.summary()
    [likert] = unexpected_rows(result, "raw.surveymonkey__responses", "Likert")
    assert (likert["question_id"], likert["answers"][0]["choice_id"], likert["position"]) == (
        SURVEYMONKEY_QUESTIONS["proud_1"],
        sm_simulator.choice_id(SURVEYMONKEY_QUESTIONS["proud_1"], 9),
        None,
    )
    assert [(r["question"], r["answer"]) for r in unexpected_rows(result, "raw.qualtrics__responses", "Likert")] == [
        ("QID5", 9)
    ]
    fallen = unexpected_rows(result, "raw.x__tweet_metrics", "cumulative counts")
    assert [(r["metric"], r["previous_count"], r["count"]) for r in fallen] == [
        ("public_metrics.like_count", "10", "3")
    ]
    fallen = unexpected_rows(result, "raw.linkedin__organization_post_statistics", "cumulative counts")
    assert {(r["post_urn"], r["metric"]) for r in fallen} >= {(PAGE_POSTS[0], "impressionCount")}
    assert {r["post_urn"] for r in fallen} == {PAGE_POSTS[0]}
    assert unexpected_rows(result, "raw.linkedin__member_post_analytics", "every post counted") == [
        {"post_urn": post_urn(97)}
    ]
    assert unexpected_rows(result, "raw.bitly__link_clicks", "clicks") == [
        {"bitlink": "bit.ly/abcdefg", "click_date": "2026-11-04", "clicks": -2}
    ]
    assert unexpected_rows(result, "raw.hr__roster", "payload") == [
        {"employee_id": "e-0001", "_logical_date": "2026-11-05", "broken": ["email is an e-mail address"]}
    ]


# --- warnings: recorded, never blocking --------------------------------------------------------------------------

TARGET_ENTITY_WARNING = "payload names the row's post (targetEntity) — observed, not documented: a warning"


def test_a_failing_warning_is_recorded_and_shown_but_does_not_block_the_publish(audit_only, warehouse):
    """LinkedIn documents a member-analytics element as count, metricType and dateRange: a night of elements
    without `targetEntity` (keyed by the post the loader asked for) fails only the warning."""
    audit_only("raw")
    with psycopg.connect(warehouse) as conn:
        for number in (1, 2):
            for metric, count in counts(number, NIGHT_2).items():
                element = {"count": count + 2, "metricType": metric, "dateRange": {}}
                conn.execute(
                    "insert into raw.linkedin__member_post_analytics values (%s, %s, %s, %s, %s, %s, %s)",
                    (
                        post_urn(number),
                        metric,
                        Jsonb(element),
                        uuid.uuid4(),
                        datetime.now(UTC),
                        NIGHT_3,
                        "GET /rest/memberCreatorPostAnalytics",
                    ),
                )

    result = audit_build(warehouse, "night-with-a-warning")

    assert result.success, result.summary()
    assert (result.failed, result.failures) == (0, [])
    [warned] = result.warnings
    assert (warned.suite, warned.name, warned.severity) == (LINKEDIN_SUITE, TARGET_ENTITY_WARNING, "warning")
    assert {row["post_urn"] for row in warned.observed["details"]["unexpected_rows"]} == {post_urn(1), post_urn(2)}
    assert "1 warning" in result.summary() and f"⚠ [{LINKEDIN_SUITE}] {TARGET_ENTITY_WARNING}" in result.summary()
    with psycopg.connect(warehouse) as conn:
        recorded = conn.execute(
            "select suite, description, success, severity from audit.validation_runs"
            " where run_id = 'night-with-a-warning' and not success"
        ).fetchall()
    assert recorded == [(LINKEDIN_SUITE, TARGET_ENTITY_WARNING, False, "warning")]

    release = publish(warehouse, "night-with-a-warning")  # not refused

    with psycopg.connect(warehouse) as conn:
        assert conn.execute(
            "select run_id from audit.bi_releases where release_schema = %s", (release,)
        ).fetchone() == ("night-with-a-warning",)


def test_a_failing_blocking_rule_still_refuses_the_publish_beside_a_warning(audit_only, warehouse):
    audit_only("raw")
    with psycopg.connect(warehouse) as conn:  # no targetEntity (a warning) and a metricType of another metric
        element = {"count": 1, "metricType": "COMMENT", "dateRange": {}}
        conn.execute(
            "insert into raw.linkedin__member_post_analytics values (%s, %s, %s, %s, %s, %s, %s)",
            (
                post_urn(1),
                "IMPRESSION",
                Jsonb(element),
                uuid.uuid4(),
                datetime.now(UTC),
                NIGHT_3,
                "GET /rest/memberCreatorPostAnalytics",
            ),
        )

    result = audit_build(warehouse, "night-with-both")

    assert not result.success
    assert (LINKEDIN_SUITE, "payload names the row's metric (metricType)") in failing(result)
    assert [w.name for w in result.warnings] == [TARGET_ENTITY_WARNING]
    with pytest.raises(PublishRefused, match="blocking expectations"):
        publish(warehouse, "night-with-both")


# --- which raw rows an audit reads (expectations.arrivals) ---------------------------------------------------------

LINKEDIN_SUITE = "raw.linkedin__member_post_analytics"
FALLS = "cumulative counts do not fall from the previous night by more than max(2, 0.01 × previous)"


def backdate_raw(url: str, hours: int) -> None:
    """Every raw row extracted `hours` earlier: landed on an earlier night, beyond the arrivals' margin."""
    with psycopg.connect(url) as conn:
        for relation in (r for r in EXPECTATIONS if r.startswith("raw.")):
            conn.execute(f"update {relation} set _extracted_at = _extracted_at - %s * interval '1 hour'", (hours,))


def test_the_raw_audit_reads_the_rows_arrived_since_its_last_pass(audit_only, warehouse):
    audit_only("raw")
    backdate_raw(warehouse, 6)
    assert audit_build(warehouse, "night-2").success
    with psycopg.connect(warehouse) as conn:
        # not a real night (raw is append-only): a row the passed audit read is not read again
        conn.execute(
            "update raw.advocacy__shares set payload = jsonb_set(payload, '{network}', '\"myspace\"')"
            " where share_id = 's-01'"
        )
    assert audit_build(warehouse, "night-3").success

    extracted_before = datetime.now(UTC) - timedelta(hours=2)
    with psycopg.connect(warehouse) as conn:
        # a load running while night-3 was audited commits after it: rows extracted before that audit started
        started = conn.execute(
            "select min(validated_at) from audit.validation_runs where run_id = 'night-3'"
        ).fetchone()[0] - timedelta(hours=3)
        load_id = uuid.uuid4()
        conn.execute(
            "insert into raw._loads (load_id, source, entity, logical_date, started_at, finished_at, status)"
            " values (%s, 'advocacy', 'shares', %s, %s, now(), 'success')",
            (load_id, NIGHT_3, started),
        )
        insert_share(conn, "s-11", "e-0004", 11, "2026-11-04T09:00:00Z", extracted_before, network="myspace")
        conn.execute("update raw.advocacy__shares set _load_id = %s where share_id = 's-11'", (load_id,))
        insert_share(conn, "s-12", "e-0004", 12, "2026-11-05T09:00:00Z", datetime.now(UTC), network="myspace")
    result = audit_build(warehouse, "night-4")

    networks = unexpected_rows(result, "raw.advocacy__shares", "network is one of")
    assert sorted(row["share_id"] for row in networks) == ["s-11", "s-12"]


def test_the_marts_value_ranges_read_the_rows_built_since_their_last_pass(audit_only, warehouse):
    """The marts' value rules are rules over the rows built since the last audit their suite passed, like the
    per-share reconciliations: a row edited in place without a build stamp is not read again; once a build
    rewrites it (a new `built_at`), its broken values fail the audit, named per row."""
    audit_only("marts")
    assert audit_build(warehouse, "night-2").success
    poison = (
        "update marts.fct_shares set network = 'myspace' where share_id = 's-01';"
        " update marts.fct_share_motivation_attribution set weight = 1.5, attributed_clicks = -1"
        " where share_id = 's-02' and motivation = 'proud'"
    )
    with psycopg.connect(warehouse) as conn:
        conn.execute(poison)  # not a build: the rows keep the build time night-2 read them at
    assert audit_build(warehouse, "night-3").success

    with psycopg.connect(warehouse) as conn:
        conn.execute("update marts.fct_shares set built_at = now() where share_id = 's-01'")
        conn.execute("update marts.fct_share_motivation_attribution set built_at = now() where share_id = 's-02'")
    result = audit_build(warehouse, "night-4")

    assert unexpected_rows(result, "marts.fct_shares", "share_month is the first day") == [
        {"share_id": "s-01", "broken": ["network is allowed"]}
    ]
    assert unexpected_rows(result, "marts.fct_share_motivation_attribution", "weight is within") == [
        {"share_id": "s-02", "motivation": "proud", "broken": ["weight in [0, 1]", "attributed_clicks >= 0"]}
    ]


def test_a_failed_nights_rows_are_read_again_until_a_later_row_corrects_them(audit_only, warehouse):
    audit_only("raw")
    backdate_raw(warehouse, 9)
    assert audit_build(warehouse, "night-2").success
    now = datetime.now(UTC) - timedelta(hours=2)  # beyond the margin of the audits below
    with psycopg.connect(warehouse) as conn:
        # night-2 ran a night earlier than night-3, which lands rows extracted in between
        conn.execute(
            "update audit.validation_runs set validated_at = validated_at - interval '6 hours' where run_id = 'night-2'"
        )
        insert_count(conn, 1, "IMPRESSION", -5, NIGHT_3, now)
        for metric, count in counts(1, NIGHT_2).items():  # the other metrics, unchanged
            if metric != "IMPRESSION":
                insert_count(conn, 1, metric, count, NIGHT_3, now)

    night_3 = audit_build(warehouse, "night-3")
    night_3_again = audit_build(warehouse, "night-3-again")  # nothing new: the failed night's rows are still read
    with psycopg.connect(warehouse) as conn:
        for metric, count in counts(1, NIGHT_2).items():  # the next night reads 110: the -5 is no longer in use
            insert_count(conn, 1, metric, count + 10, NIGHT_3 + timedelta(days=1), now)
    night_4 = audit_build(warehouse, "night-4")

    expected = {(LINKEDIN_SUITE, "count of each post × metric's latest night is not negative"), (LINKEDIN_SUITE, FALLS)}
    assert failing(night_3) == failing(night_3_again) == expected
    assert night_4.success, night_4.summary()


def test_a_counter_below_its_observation_nights_back_fails(audit_only, warehouse):
    audit_only("raw")
    backdate_raw(warehouse, 6)
    assert audit_build(warehouse, "night-2").success
    week_later = NIGHT_2 + timedelta(days=7)  # a weekly refresh: the previous reading is NIGHT_2's, read again
    with psycopg.connect(warehouse) as conn:
        for metric, count in counts(2, NIGHT_2).items():
            insert_count(
                conn, 2, metric, count - 20 if metric == "IMPRESSION" else count, week_later, datetime.now(UTC)
            )

    result = audit_build(warehouse, "week-later")

    assert failing(result) == {(LINKEDIN_SUITE, FALLS)}, result.summary()
    assert unexpected_rows(result, LINKEDIN_SUITE, "cumulative counts") == [
        {
            "post_urn": post_urn(2),
            "metric_type": "IMPRESSION",
            "previous_night": str(NIGHT_2),
            "previous_count": "200",
            "night": str(week_later),
            "count": "180",
        }
    ]


def test_sources_a_tenant_does_not_use_pass_empty_or_absent_and_stale_ones_fail(audit_only, warehouse, monkeypatch):
    audit_only("raw")
    stale = datetime.now(UTC) - timedelta(hours=8 * 24 + 1)
    with psycopg.connect(warehouse) as conn:
        # never set up here (cascade: the staging views over them; the built marts are tables)
        conn.execute(
            "drop table raw.surveymonkey__responses, raw.surveymonkey__survey_details, raw.qualtrics__responses cascade"
        )
        conn.execute("truncate raw.x__tweet_metrics")  # set up, nothing landed
        conn.execute("update raw.bitly__link_clicks set _extracted_at = %s", (stale,))  # stopped landing

    result = audit_build(warehouse, "tenant-without-vendors")
    monkeypatch.setenv("SHAREWHY_THRESHOLD_BITLY_MAX_AGE_HOURS", "none")
    unchecked = audit_build(warehouse, "tenant-without-vendors-unchecked", from_environment())

    assert failing(result) == {("raw.bitly__link_clicks", "freshness: newest _extracted_at at most 192 hours old")}
    absent = ("raw.surveymonkey__responses", "raw.surveymonkey__survey_details", "raw.qualtrics__responses")
    assert result.skipped == unchecked.skipped == absent
    assert f"not audited (no such table): {', '.join(absent)}" in result.summary()
    assert unchecked.success, unchecked.summary()


def test_volume_is_checked_against_the_last_publish_within_configured_bounds(audit_only, warehouse, monkeypatch):
    audit_only("marts", "bi_build")
    audit_and_publish(warehouse, "night-1")
    rebuild(warehouse)
    with psycopg.connect(warehouse) as conn:  # as if night 1 had published three times as many shares
        conn.execute("update audit.published_volumes set row_count = 27 where relation = 'marts.fct_shares'")

    shrunk = audit_build(warehouse, "night-2")
    monkeypatch.setenv("SHAREWHY_THRESHOLD_VOLUME_MIN_RATIO", "0.3")
    tolerated = audit_build(warehouse, "night-2-tolerant", from_environment())

    assert failing(shrunk) == {("marts.fct_shares", "volume: rows within 0.8–2 × the rows at the last publish")}
    assert failure(shrunk, "marts.fct_shares", "volume").observed["details"]["unexpected_rows"] == [
        {"published_rows": 27, "tonight_rows": 10}
    ]
    assert tolerated.success, tolerated.summary()


def test_thresholds_from_the_environment_are_typed_and_checked():
    environ = {
        "SHAREWHY_THRESHOLD_K_ANONYMITY": "7",
        "SHAREWHY_THRESHOLD_TYPEFORM_MAX_AGE_HOURS": "none",
        "SHAREWHY_THRESHOLD_ALLOWED_NETWORKS": "linkedin, x",
        "SHAREWHY_THRESHOLD_X_MAX_AGE_HOURS": "72",
        "PATH": "/usr/bin",
    }

    thresholds = from_environment(environ)

    assert (thresholds.k_anonymity, thresholds.typeform_max_age_hours, thresholds.allowed_networks) == (
        7,
        None,
        ("linkedin", "x"),
    )
    assert (thresholds.x_max_age_hours, thresholds.qualtrics_max_age_hours) == (
        72,
        Thresholds().qualtrics_max_age_hours,
    )
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


def test_readers_see_old_or_new_release_never_a_mix(audit_only, build_info_audited, warehouse):
    """Readers query two `bi` views in one statement while builds 2…4 are published."""
    audit_only("bi_build")
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


def test_publish_follows_changed_tables_and_replaces_a_rerun(audit_only, build_info_audited, warehouse, monkeypatch):
    audit_only("bi_build")
    with psycopg.connect(warehouse, autocommit=True) as conn:
        rebuild(warehouse, version=1)
        audit_and_publish(warehouse, "r1")
        rebuild(warehouse, version=2)
        conn.execute("alter table bi_build.build_info rename column version to build")  # the view is recreated
        audit_and_publish(warehouse, "r2")
        assert conn.execute("select build from bi.build_info").fetchone() == (2,)

        rebuild(warehouse, scale=9)  # build_info is no longer built (nor audited: model and suite go together)
        monkeypatch.delitem(EXPECTATIONS, "bi_build.build_info")  # and its view goes
        rebuilt = checksum(warehouse, "bi_build.motivation_attribution")
        audit_and_publish(warehouse, "r2")  # the same run re-run: its release is replaced

        views = conn.execute("select table_name from information_schema.views where table_schema = 'bi'").fetchall()
        releases = conn.execute("select release_schema from audit.bi_releases order by seq").fetchall()
    assert sorted(view for (view,) in views) == sorted(BI_TABLES)
    assert checksum(warehouse, "bi.motivation_attribution") == rebuilt
    assert releases == [("bi_release_r1",), ("bi_release_r2",)]


# --- publish binds to the audited build ---------------------------------------------------------------------------

#: dbt's models and seeds only (its data tests are test_dbt_build's subject), as the template builds.
MODELS_ONLY = ("--quiet", "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test")


def test_a_build_made_after_the_audit_is_not_published(audit_only, warehouse, tmp_path):
    """The attack: run A builds its release and passes its audit; then a second `dbt build` into that release (a
    stray run, after the audit) picks up a share dated 2031. Publishing A must not publish what no audit read."""
    audit_only("bi_build")
    dbt_dirs = {"target_dir": tmp_path / "target", "log_dir": tmp_path / "logs"}
    with transform_lease.held(warehouse, "run-a"):
        release = transform.build_release(warehouse, "run-a", MODELS_ONLY, **dbt_dirs)
        audited = run_audit(warehouse, "run-a")  # the run's own release, by default
        with psycopg.connect(warehouse) as conn:
            insert_share(conn, "s-31", "e-0001", 31, "2031-01-06T09:00:00Z", datetime.now(UTC))
        dbt.run(["build", *MODELS_ONLY, *transform.release_vars("run-a")], warehouse, **dbt_dirs)

        with pytest.raises(PublishRefused, match=r"changed since its audit \(advocacy_kpis replaced, .*consent_cov"):
            publish(warehouse, "run-a")

    assert audited.success, audited.summary()
    assert release == release_schema("run-a")
    with psycopg.connect(warehouse) as conn:
        assert (
            conn.execute(f"select count(*) from {release}.advocacy_kpis where month = '2031-01-01'").fetchone()[0] > 0
        )  # the rebuild did happen, and is not what bi shows:
        assert conn.execute("select to_regnamespace('bi')").fetchone()[0] is None
        assert conn.execute("select candidates from audit.audited_builds where run_id = 'run-a'").fetchone() == (
            release,
        )

    with transform_lease.held(warehouse, "run-b"):  # the next run: run-a's refused release does not pile up
        transform.build_release(warehouse, "run-b", MODELS_ONLY, **dbt_dirs)
    with psycopg.connect(warehouse) as conn:
        releases = conn.execute("select nspname from pg_namespace where nspname like 'bi_release%'").fetchall()
    assert releases == [(release_schema("run-b"),)]


def test_two_transform_runs_at_once_run_one_after_the_other(audit_only, warehouse, tmp_path):
    """Two runs started together (what failed with `relation "…" already exists` when both built the shared schemas
    at once): the second waits for the first's lease, and each builds, audits and publishes its own release."""
    audit_only("bi_build")
    spans: dict[str, tuple[float, float]] = {}
    errors: list[BaseException] = []

    def run(run_id: str) -> None:
        try:
            with transform_lease.held(warehouse, run_id, wait_seconds=300):
                began = time.monotonic()
                transform.build_release(
                    warehouse,
                    run_id,
                    MODELS_ONLY,
                    target_dir=tmp_path / run_id / "target",
                    log_dir=tmp_path / run_id / "logs",
                )
                run_audit(warehouse, run_id).raise_if_failed()
                publish(warehouse, run_id)
                spans[run_id] = (began, time.monotonic())
        except BaseException as error:  # reported below, with the other run's outcome
            errors.append(error)

    runs = [threading.Thread(target=run, args=(run_id,)) for run_id in ("run-1", "run-2")]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()

    assert errors == [] and set(spans) == {"run-1", "run-2"}
    (first, first_span), (second, second_span) = sorted(spans.items(), key=lambda item: item[1])
    assert first_span[1] <= second_span[0], "the two runs overlapped"
    with psycopg.connect(warehouse) as conn:
        published = conn.execute("select run_id from audit.bi_releases order by seq").fetchall()
        built = [
            conn.execute(f"select count(*) from {release_schema(run_id)}.motivation_attribution").fetchone()[0]
            for run_id in (first, second)
        ]
        shown = conn.execute("select pg_get_viewdef('bi.motivation_attribution')").fetchone()[0]
    assert published == [(first,), (second,)] and built == [15, 15] and f"{release_schema(second)}." in shown


def test_an_older_run_is_not_published_over_a_newer_one_unless_rolled_back(audit_only, build_info_audited, warehouse):
    """Re-running an old run's publish after a newer run published must not roll `bi` back silently."""
    audit_only("bi_build")
    for version, run_id in ((1, "old"), (2, "new")):
        rebuild(warehouse, version=version, candidates=release_schema(run_id))
        run_audit(warehouse, run_id).raise_if_failed()
    publish(warehouse, "old")
    publish(warehouse, "new")

    with pytest.raises(PublishRefused, match="run old .* is older than run new, whose release bi shows"):
        publish(warehouse, "old")
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select version from bi.build_info").fetchone() == (2,)

    assert rollback(warehouse, "old") == release_schema("old")
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select version from bi.build_info").fetchone() == (1,)
        releases = conn.execute("select run_id from audit.bi_releases order by seq").fetchall()
    assert releases == [("new",), ("old",)]


# --- publish never holds readers up ----------------------------------------------------------------------------------


def _long_reader(url: str, view: str, started: threading.Event, seconds: float) -> threading.Thread:
    """A dashboard query on `bi.<view>` that runs for `seconds` (holding its lock on the view meanwhile)."""

    def read() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("set application_name = 'long dashboard query'")
            conn.execute(f"select count(*) from bi.{view}")  # resolves the view (its plan) before the wait
            with conn.transaction():
                conn.execute(f"select count(*) from bi.{view}")
                started.set()
                conn.execute("select pg_sleep(%s)", (seconds,))

    thread = threading.Thread(target=read)
    thread.start()
    assert started.wait(30)
    return thread


def test_a_long_reader_does_not_stall_other_readers_while_publish_waits(
    audit_only, build_info_audited, warehouse, caplog
):
    """One long query on `bi.team_morale` (the last view the switch replaces): queries on `bi.advocacy_kpis` (the
    first) stay fast while publish retries, and publish succeeds once the long query ends."""
    audit_only("bi_build")
    rebuild(warehouse, version=1)
    audit_and_publish(warehouse, "r1")
    rebuild(warehouse, scale=2, version=2)
    audit_build(warehouse, "r2").raise_if_failed()
    long_query_seconds = 6.0

    started = threading.Event()
    long_reader = _long_reader(warehouse, "team_morale", started, long_query_seconds)
    began = time.monotonic()
    published: list[str] = []
    publisher = threading.Thread(target=lambda: published.append(publish(warehouse, "r2")))
    publisher.start()
    latencies, versions = [], set()
    with psycopg.connect(warehouse, autocommit=True) as conn:
        while time.monotonic() - began < long_query_seconds - 1.5:
            asked = time.monotonic()
            conn.execute("select count(*) from bi.advocacy_kpis").fetchone()
            versions.add(conn.execute("select version from bi.build_info").fetchone()[0])
            latencies.append(time.monotonic() - asked)
            time.sleep(0.05)
        retrying = publisher.is_alive()
    long_reader.join()
    publisher.join(60)

    assert retrying and len(latencies) > 10
    assert max(latencies) < 1.0, f"a reader waited {max(latencies):.1f} s behind the switch"
    assert versions == {1}  # while the long query ran, bi stayed on the old release, consistently
    assert published == [release_schema("r2")]
    assert time.monotonic() - began >= long_query_seconds - 0.5
    assert "a reader holds a bi view" in caplog.text
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select version from bi.build_info").fetchone() == (2,)


def test_publish_gives_up_clearly_after_its_retry_budget(audit_only, build_info_audited, warehouse, monkeypatch):
    audit_only("bi_build")
    rebuild(warehouse, version=1)
    audit_and_publish(warehouse, "r1")
    rebuild(warehouse, version=2)
    audit_build(warehouse, "r2").raise_if_failed()
    monkeypatch.setattr(settings, "PUBLISH_RETRY_SECONDS", 1.5)

    started = threading.Event()
    long_reader = _long_reader(warehouse, "team_morale", started, 4.0)
    try:
        with pytest.raises(PublishBlocked, match=r"gave up after \d+ attempts .*long dashboard query.*bi stays"):
            publish(warehouse, "r2")
    finally:
        long_reader.join()
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select version from bi.build_info").fetchone() == (1,)
    assert publish(warehouse, "r2") == release_schema("r2")  # the next attempt, once the reader is gone


# --- the bi_reader role --------------------------------------------------------------------------------------------


@pytest.fixture
def bi_reader_as_it_was(server_url):
    """Put the cluster-wide `bi_reader` back as it was (or drop it) once the test's database is gone."""
    with psycopg.connect(server_url) as conn:
        before = conn.execute(
            "select rolcanlogin, rolpassword from pg_authid where rolname = %s", (warehouse_access.ROLE,)
        ).fetchone()
    yield
    with psycopg.connect(server_url, autocommit=True) as conn:
        role = sql.Identifier(warehouse_access.ROLE)
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
]
#: What PostgreSQL gives every role (PUBLIC) by default, and the owner keeps: refused to `bi_reader`.
PUBLIC_DEFAULTS = [
    "create temp table mine (x int)",  # TEMP on the database
    "select lo_creat(-1)",  # a large object, which would persist
    "select lo_from_bytea(0, 'x')",
    "create table public.mine (x int)",  # CREATE on schema public (PUBLIC's before PostgreSQL 15)
]


def test_bi_reader_reads_bi_and_nothing_else_after_every_publish(
    audit_only, bi_reader_as_it_was, build_info_audited, warehouse, server_url, monkeypatch, caplog
):
    """The embedded server trusts local socket connections (pg_hba `trust`): the login is checked by role, not by
    password; the password is checked against the stored SCRAM verifier instead."""
    audit_only("bi_build")
    password = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv(warehouse_access.PASSWORD_ENV, password)
    rebuild(warehouse, version=1)
    audit_and_publish(warehouse, "r1")
    rebuild(warehouse, version=2)
    with psycopg.connect(warehouse) as conn:
        conn.execute("alter table bi_build.build_info rename column version to build")  # bi.build_info recreated
    audit_and_publish(warehouse, "r2")
    rebuild(warehouse, version=3)  # tomorrow's candidates, not published
    with psycopg.connect(server_url) as conn:
        login, verifier = conn.execute(
            "select rolcanlogin, rolpassword from pg_authid where rolname = %s", (warehouse_access.ROLE,)
        ).fetchone()
    assert login and scram_matches(verifier, password) and password not in caplog.text

    as_reader = psycopg.conninfo.make_conninfo(warehouse, user=warehouse_access.ROLE, password=password)
    with psycopg.connect(as_reader, autocommit=True) as conn:
        assert conn.execute("select current_user").fetchone() == (warehouse_access.ROLE,)
        assert conn.execute("select build from bi.build_info").fetchone() == (2,)
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone() == (15,)
        for statement in NOT_FOR_READERS + PUBLIC_DEFAULTS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
    with psycopg.connect(warehouse) as conn:  # the owner: each statement succeeds (and is rolled back)
        for statement in NOT_FOR_READERS + PUBLIC_DEFAULTS:
            with conn.transaction(force_rollback=True):
                conn.execute(statement)
        large_objects = conn.execute("select count(*) from pg_largeobject_metadata").fetchone()[0]
    assert large_objects == 0


@pytest.fixture
def probe_role(server_url):
    """A login role with nothing granted (what PUBLIC gives any role); dropped afterwards."""
    role = f"probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    yield role
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_only_bi_reader_and_the_owner_connect_to_the_published_warehouse(
    audit_only, bi_reader_as_it_was, warehouse, fresh_db, probe_role, monkeypatch
):
    """PUBLIC's CONNECT on the warehouse database is revoked at publish and given to `bi_reader` by name; another
    database of the server is refused to `bi_reader` once an operator revokes PUBLIC's CONNECT there (README)."""
    audit_only("bi_build")
    monkeypatch.setenv(warehouse_access.PASSWORD_ENV, f"test-{uuid.uuid4().hex}")
    audit_and_publish(warehouse, "r1")
    as_role = {
        role: psycopg.conninfo.make_conninfo(warehouse, user=role) for role in (probe_role, warehouse_access.ROLE)
    }
    with psycopg.connect(warehouse) as conn:
        public_left = warehouse_access.revoke_public_defaults(conn)

    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(as_role[probe_role])
    with psycopg.connect(as_role[warehouse_access.ROLE]) as conn:
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone() == (15,)
    assert public_left == []

    other_database = psycopg.conninfo.conninfo_to_dict(fresh_db)["dbname"]
    with psycopg.connect(fresh_db, autocommit=True) as conn:  # what the README asks an operator to run there
        conn.execute(sql.SQL("revoke connect on database {} from public").format(sql.Identifier(other_database)))
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(psycopg.conninfo.make_conninfo(fresh_db, user=warehouse_access.ROLE))


def test_without_a_password_bi_reader_is_created_nologin_and_says_so(fresh_db, monkeypatch, caplog):
    role = f"bi_reader_test_{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(warehouse_access, "ROLE", role)
    monkeypatch.delenv(warehouse_access.PASSWORD_ENV, raising=False)
    try:
        with caplog.at_level(logging.WARNING, logger="sharewhy.warehouse_access"):
            with psycopg.connect(fresh_db) as conn:
                warehouse_access.ensure_role(conn)
            with psycopg.connect(fresh_db) as conn:
                warehouse_access.ensure_role(conn)  # idempotent
        with psycopg.connect(fresh_db) as conn:
            attributes = conn.execute(
                "select rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword"
                " from pg_authid where rolname = %s",
                (role,),
            ).fetchone()
        assert attributes == (False, False, False, False, None)
        assert f"SHAREWHY_BI_READER_PASSWORD is not set: created role {role} NOLOGIN" in caplog.text
        assert f"SHAREWHY_BI_READER_PASSWORD is not set: role {role} left as it is" in caplog.text
        with pytest.raises(psycopg.OperationalError, match="not permitted to log in"):
            psycopg.connect(psycopg.conninfo.make_conninfo(fresh_db, user=role))
    finally:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
