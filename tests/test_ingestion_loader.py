"""The loader against a real PostgreSQL: one transaction per load, dedupe on rerun, quarantine, failure records,
streaming, and no credential anywhere it writes, raises or logs."""

from __future__ import annotations

import logging
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from api_stubs import (
    TOKEN,
    BitlyStub,
    LinkedInStub,
    TypeformStub,
    XStub,
    bitly_buckets,
    serve,
    share_line,
    typeform_response,
    write_shares_file,
    x_tweet,
)
from consent_helpers import give_tokens

from ingestion.http import ApiConfig, ApiError
from ingestion.loader import apply_raw_schema, land
from ingestion.records import Quarantined, Row
from ingestion.run import (
    land_advocacy_shares,
    land_bitly_link_clicks,
    land_linkedin_organization_statistics,
    land_linkedin_post_analytics,
    land_qualtrics_responses,
    land_surveymonkey_responses,
    land_surveymonkey_survey_details,
    land_typeform_responses,
    land_x_tweet_metrics,
)
from ingestion.sources.advocacy import TARGET
from ingestion.sources.surveymonkey import exchange_code
from simulator.server import start
from simulator.surveymonkey import CLIENT_ID

NIGHT = date(2026, 11, 24)
EXTRACTED_AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)


class ScriptedExtraction:
    """`count` share rows (+ one quarantined record), optionally failing after `fail_after` records."""

    api_calls = 7

    def __init__(
        self, previous_state, count: int, fail_after: int | None = None, payload_bytes: int = 10, prefix: str = "s"
    ) -> None:
        self._previous = (previous_state or {}).get("nights", 0)
        self._count, self._fail_after, self._filler = count, fail_after, "x" * payload_bytes
        self._prefix = prefix

    def records(self) -> Iterator[Row | Quarantined]:
        for n in range(self._count):
            if n == self._fail_after:
                raise RuntimeError(f"source went away (token {TOKEN})")
            key = f"{self._prefix}-{n}"
            yield Row((key,), {"share_id": key, "filler": self._filler}, "shares.csv", EXTRACTED_AT)
        yield Quarantined("audience_size 'lots' is not a non-negative integer", "s-x,e-0001,...,lots")

    def state(self) -> dict:
        return {"nights": self._previous + 1}


def table_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in ("advocacy__shares", "_quarantine", "_ingestion_state")
        }


def test_the_raw_schema_applies_idempotently(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        apply_raw_schema(conn)
        apply_raw_schema(conn)
        tables = conn.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
        ).fetchall()
    assert [name for (name,) in tables] == [
        "_file_manifest",
        "_ingestion_state",
        "_loads",
        "_quarantine",
        "_superseded_rows",
        "advocacy__shares",
        "bitly__link_clicks",
        "consent__member_token_status",
        "hr__roster",
        "linkedin__member_post_analytics",
        "linkedin__organization_daily_statistics",
        "linkedin__organization_post_statistics",
        "qualtrics__responses",
        "surveymonkey__responses",
        "surveymonkey__survey_details",
        "typeform__responses",
        "x__tweet_metrics",
    ]


def test_a_rerun_of_the_same_night_inserts_nothing_new(fresh_db):
    first = land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 50))
    after_first = table_counts(fresh_db)
    rerun = land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 50))

    assert (first.rows_received, first.rows_inserted, first.rows_duplicate, first.rows_quarantined) == (51, 50, 0, 1)
    # the refused record, refused again as it was, is already in raw._quarantine: a duplicate like the rows
    assert (rerun.rows_received, rerun.rows_inserted, rerun.rows_duplicate, rerun.rows_quarantined) == (51, 0, 51, 0)
    assert table_counts(fresh_db) == after_first
    assert after_first["advocacy__shares"] == 50 and after_first["_quarantine"] == 1
    with psycopg.connect(fresh_db) as conn:
        loads = conn.execute(
            "select status, rows_received, rows_inserted, rows_duplicate, rows_quarantined, api_calls, error"
            " from raw._loads order by started_at"
        ).fetchall()
        metadata = conn.execute(
            "select distinct _load_id::text, _logical_date, _extracted_at, _request from raw.advocacy__shares"
        ).fetchall()
    assert loads == [("success", 51, 50, 0, 1, 7, None), ("success", 51, 0, 51, 0, 7, None)]
    assert metadata == [(first.load_id, NIGHT, EXTRACTED_AT, "shares.csv")]


def test_a_failure_mid_load_leaves_neither_rows_nor_state_and_records_a_failed_load(fresh_db):
    land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 3))
    before = table_counts(fresh_db)

    with pytest.raises(RuntimeError, match="source went away"):
        land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 50, fail_after=40), secrets=[TOKEN])

    assert table_counts(fresh_db) == before
    with psycopg.connect(fresh_db) as conn:
        state = conn.execute("select state from raw._ingestion_state").fetchone()[0]
        failed = conn.execute(
            "select rows_inserted, api_calls, error, finished_at is not null from raw._loads where status = 'failed'"
        ).fetchall()
    assert state == {"nights": 1}
    assert failed == [(0, 7, "RuntimeError: source went away (token ***)", True)]


def test_quarantined_records_keep_their_reason_and_record(fresh_db):
    report = land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 1))
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("select load_id::text, source, entity, reason, record from raw._quarantine").fetchall()
    assert rows == [
        (
            report.load_id,
            "advocacy",
            "shares",
            "audience_size 'lots' is not a non-negative integer",
            "s-x,e-0001,...,lots",
        )
    ]


def test_a_record_is_quarantined_once_but_a_different_record_or_reason_is_quarantined_again(fresh_db):
    """Quarantine is keyed by source, entity, reason and record: a rerun adds nothing, a new refusal is kept."""

    def refusing(*refused: Quarantined):
        def extraction(state):
            scripted = ScriptedExtraction(state, 0)
            scripted.records = lambda: iter(refused)
            return scripted

        return extraction

    deleted = Quarantined("post not returned by X (Not Found Error)", '{"post_id": "1"}')
    first = land(fresh_db, TARGET, NIGHT, refusing(deleted))
    again = land(fresh_db, TARGET, NIGHT, refusing(deleted, deleted))
    changed = land(
        fresh_db,
        TARGET,
        NIGHT,
        refusing(
            deleted,
            Quarantined(deleted.reason, '{"post_id": "2"}'),  # another record, same reason
            Quarantined("post 1 has no public_metrics", deleted.record),  # same record, another reason
        ),
    )

    counts = [(r.rows_received, r.rows_duplicate, r.rows_quarantined) for r in (first, again, changed)]
    assert counts == [(1, 0, 1), (2, 2, 0), (3, 1, 2)]
    with psycopg.connect(fresh_db) as conn:
        kept = conn.execute(
            "select load_id::text, reason, record from raw._quarantine order by quarantine_id"
        ).fetchall()
    assert kept == [
        (first.load_id, deleted.reason, deleted.record),
        (changed.load_id, deleted.reason, '{"post_id": "2"}'),
        (changed.load_id, "post 1 has no public_metrics", deleted.record),
    ]


def test_a_warehouse_quarantined_twice_before_keeps_the_first_of_each_record(fresh_db):
    """Warehouses whose reruns quarantined the same records again: the schema keeps the first row of each."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        apply_raw_schema(conn)
        conn.execute("drop index raw._quarantine__once")
        conn.execute("comment on schema raw is 'sharewhy raw schema before issue 15'")
        for night in (1, 2):
            conn.execute(
                "insert into raw._quarantine (load_id, source, entity, reason, record) values"
                " (gen_random_uuid(), 'x', 'tweet_metrics', 'deleted', '{\"post_id\": \"1\"}'),"
                " (gen_random_uuid(), 'x', 'tweet_metrics', 'deleted', %s)",
                (f'{{"post_id": "night {night}"}}',),
            )
        apply_raw_schema(conn)
        kept = conn.execute("select quarantine_id, record from raw._quarantine order by 1").fetchall()
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(
                "insert into raw._quarantine (load_id, source, entity, reason, record)"
                " select gen_random_uuid(), source, entity, reason, record from raw._quarantine limit 1"
            )
    assert kept == [(1, '{"post_id": "1"}'), (2, '{"post_id": "night 1"}'), (4, '{"post_id": "night 2"}')]


@pytest.mark.parametrize("already_landed", [0, 1], ids=["all new: straight COPY", "one known: replayed"])
def test_memory_does_not_grow_with_the_volume_streamed(fresh_db, already_landed):
    """20,000 records of ~1 kB (≈20 MB) stream through COPY with a small, bounded client-side peak — both when every
    row is new (one COPY into the raw table) and when one is known (the spooled rows replayed from disk)."""
    land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, already_landed, payload_bytes=1000))
    land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 1, prefix="warm-up"))
    tracemalloc.start()
    try:
        report = land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 20_000, payload_bytes=1000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # + 1: the scripted refused record, quarantined by the loads before
    assert (report.rows_inserted, report.rows_duplicate) == (20_000 - already_landed, already_landed + 1)
    assert peak < 1_000_000


def test_a_delivery_mixing_known_and_new_rows_keeps_each_new_row_once(fresh_db):
    """Rows already landed, new rows, and a row delivered twice in the same load (a page served twice)."""
    land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 10))

    def overlapping(state):
        extraction = ScriptedExtraction(state, 25)
        records = list(extraction.records())
        extraction.records = lambda: iter([*records, records[20]])  # s-20 arrives twice
        return extraction

    report = land(fresh_db, TARGET, NIGHT, overlapping)

    assert (report.rows_received, report.rows_inserted, report.rows_duplicate, report.rows_quarantined) == (
        27,
        15,
        12,
        0,  # the refused record was quarantined by the first load: a duplicate here
    )
    with psycopg.connect(fresh_db) as conn:
        keys = [key for (key,) in conn.execute("select share_id from raw.advocacy__shares order by 1").fetchall()]
        quarantined = conn.execute("select count(*) from raw._quarantine").fetchone()[0]
    assert keys == sorted(f"s-{n}" for n in range(25))
    assert quarantined == 1  # once, though both loads refused it


def test_a_row_the_table_refuses_for_another_reason_fails_the_load_without_a_replay(fresh_db, caplog):
    """Only a unique-key conflict sends the rows through the dedupe path; any other refusal fails the load."""

    def keyless(state):
        extraction = ScriptedExtraction(state, 3)
        extraction.records = lambda: iter([Row((None,), {"share_id": None}, "shares.csv", EXTRACTED_AT)])
        return extraction

    with caplog.at_level(logging.INFO), pytest.raises(psycopg.errors.NotNullViolation):
        land(fresh_db, TARGET, NIGHT, keyless)

    assert table_counts(fresh_db) == {"advocacy__shares": 0, "_quarantine": 0, "_ingestion_state": 0}
    assert "already in raw" not in caplog.text
    with psycopg.connect(fresh_db) as conn:
        status, error = conn.execute("select status, error from raw._loads").fetchone()
    assert status == "failed" and "share_id" in error


def test_the_token_never_appears_in_raw_tables_requests_errors_or_logs(fresh_db, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    post, tweet = "urn:li:share:7000000000000000001", "2000000000000000001"
    shares = [
        share_line("s-1", post, "2026-11-24T09:00:00Z"),
        share_line("s-2", tweet, "2026-11-24T09:00:00Z", network="x"),
    ]
    write_shares_file(tmp_path, "2026-11-24", shares)
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    linkedin_counts = {q: 5 for q in ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")}
    give_tokens(fresh_db, "linkedin", ["e-0001"], TOKEN)  # the sharer's member token (the stub takes one token)
    raised = []
    with (
        serve(LinkedInStub({post: linkedin_counts})) as linkedin_url,
        serve(TypeformStub({"form-1": [typeform_response("t-1", "2026-11-24T10:00:00Z")]})) as typeform_url,
    ):
        land_linkedin_post_analytics(fresh_db, NIGHT, ApiConfig(f"{linkedin_url}/linkedin/rest", TOKEN))
        land_typeform_responses(fresh_db, NIGHT, ApiConfig(f"{typeform_url}/typeform", TOKEN), ["form-1"])
        with pytest.raises(ApiError) as sunset:
            land_linkedin_post_analytics(fresh_db, NIGHT, ApiConfig(f"{linkedin_url}/linkedin/rest", TOKEN, "202401"))
        with pytest.raises(ApiError) as unknown_form:
            land_typeform_responses(fresh_db, NIGHT, ApiConfig(f"{typeform_url}/typeform", TOKEN), ["nope"])
        raised += [str(sunset.value), str(unknown_form.value)]
    with serve(XStub({tweet: x_tweet(tweet)}, limit=1, window=3600)) as x_url:
        land_x_tweet_metrics(fresh_db, NIGHT, ApiConfig(f"{x_url}/x/2", TOKEN))
        with pytest.raises(ApiError) as window_spent:  # the next reset is an hour away
            land_x_tweet_metrics(fresh_db, NIGHT, ApiConfig(f"{x_url}/x/2", TOKEN))
        raised.append(str(window_spent.value))
    with serve(BitlyStub(lambda path: bitly_buckets(("2026-11-24", 3)), monthly_quota=1)) as bitly_url:
        bitly_api = ApiConfig(f"{bitly_url}/bitly/v4", TOKEN)
        land_bitly_link_clicks(fresh_db, NIGHT, bitly_api, now=datetime(2026, 11, 26, tzinfo=UTC))
        with pytest.raises(ApiError) as quota_spent:  # the next night: the month's quota is gone
            next_morning = datetime(2026, 11, 27, tzinfo=UTC)
            land_bitly_link_clicks(fresh_db, NIGHT + timedelta(days=1), bitly_api, now=next_morning)
        raised.append(str(quota_spent.value))
    with start(NIGHT + timedelta(days=1), drop_dir=tmp_path / "sim", token=TOKEN, qualtrics_failing_exports=1) as sim:
        with pytest.raises(ApiError) as no_code:  # the client secret is the token here: it must not show
            exchange_code(sim.surveymonkey_token_url, CLIENT_ID, TOKEN, "", "http://127.0.0.1/cb")
        surveymonkey_api = exchange_code(sim.surveymonkey_token_url, CLIENT_ID, TOKEN, "code", "http://127.0.0.1/cb")
        land_surveymonkey_survey_details(fresh_db, NIGHT, surveymonkey_api, sim.surveymonkey_survey_ids)
        land_surveymonkey_responses(fresh_db, NIGHT, surveymonkey_api, sim.surveymonkey_survey_ids)
        with pytest.raises(ApiError) as unknown_survey:
            land_surveymonkey_responses(fresh_db, NIGHT, surveymonkey_api, ["404"])
        qualtrics_api = ApiConfig(sim.qualtrics_base_url, TOKEN)
        with pytest.raises(ApiError) as failed_export:
            land_qualtrics_responses(fresh_db, NIGHT, qualtrics_api, sim.qualtrics_survey_ids, poll_interval=0.01)
        land_qualtrics_responses(fresh_db, NIGHT, qualtrics_api, sim.qualtrics_survey_ids, poll_interval=0.01)
        linkedin_api = ApiConfig(sim.linkedin_base_url, TOKEN)
        land_linkedin_organization_statistics(fresh_db, NIGHT, linkedin_api, sim.company.organization_urn)
        with pytest.raises(ApiError) as not_admin:
            land_linkedin_organization_statistics(fresh_db, NIGHT, linkedin_api, "urn:li:organization:1")
        raised += [str(no_code.value), str(unknown_survey.value), str(failed_export.value), str(not_admin.value)]
    with pytest.raises(RuntimeError):  # its message carries the token: the recorded error must not
        land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 5, fail_after=2), secrets=[TOKEN])

    with psycopg.connect(fresh_db) as conn:
        tables = conn.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
        dumps = {
            table: conn.execute(f"select coalesce(string_agg(t::text, ' '), '') from raw.{table} t").fetchone()[0]
            for (table,) in tables
        }
        requests = conn.execute(
            "select _request from raw.linkedin__member_post_analytics"
            " union all select _request from raw.typeform__responses"
            " union all select _request from raw.x__tweet_metrics"
            " union all select _request from raw.bitly__link_clicks"
            " union all (select _request from raw.surveymonkey__responses limit 1)"
            " union all (select _request from raw.qualtrics__responses limit 1)"
            " union all (select _request from raw.linkedin__organization_daily_statistics limit 1)"
            " union all (select _request from raw.linkedin__organization_post_statistics limit 1)"
        ).fetchall()
        errors = conn.execute("select error from raw._loads where status = 'failed' order by started_at").fetchall()

    landed = (
        "linkedin__member_post_analytics",
        "typeform__responses",
        "x__tweet_metrics",
        "bitly__link_clicks",
        "surveymonkey__responses",
        "surveymonkey__survey_details",
        "qualtrics__responses",
        "linkedin__organization_daily_statistics",
        "linkedin__organization_post_statistics",
    )
    assert all(dumps[table] for table in landed)
    assert len(requests) == 13 and all(request.startswith("http://127.0.0.1:") for (request,) in requests)
    assert [error.split(":")[0] for (error,) in errors] == [
        "VersionNotActive",
        "ApiError",
        "RateLimitExceeded",
        "RateLimitExceeded",
        "ApiError",
        "ExportFailed",
        "ApiError",
        "RuntimeError",
    ]
    assert all(TOKEN not in text for text in dumps.values())
    assert all(TOKEN not in text for text in raised)
    assert TOKEN not in caplog.text and "load" in caplog.text


def test_conflicting_duplicates_go_to_quarantine_with_both_versions_and_identical_ones_count_as_duplicates(fresh_db):
    """The same key with different content is never dropped silently: against a landed row, or twice in a load."""
    first = land(fresh_db, TARGET, NIGHT, lambda state: ScriptedExtraction(state, 3))

    def redelivery(state):
        extraction = ScriptedExtraction(state, 0)

        def row(key, filler, request="again.csv"):
            return Row((key,), {"share_id": key, "filler": filler}, request, EXTRACTED_AT)

        extraction.records = lambda: iter(
            [
                row("s-0", "x" * 10),  # identical to the landed one: a duplicate
                row("s-1", "changed"),  # conflicts with the landed one
                row("s-7", "first"),  # new
                row("s-7", "first"),  # the same again in this load: a duplicate
                row("s-7", "second", "later.csv"),  # conflicts with the first delivery of this load
            ]
        )
        return extraction

    report = land(fresh_db, TARGET, NIGHT, redelivery)

    assert (report.rows_received, report.rows_inserted, report.rows_duplicate, report.rows_quarantined) == (5, 1, 2, 2)
    with psycopg.connect(fresh_db) as conn:
        shares = conn.execute("select share_id, payload->>'filler' from raw.advocacy__shares order by 1").fetchall()
        quarantined = conn.execute(
            "select load_id::text, reason, record::jsonb from raw._quarantine where load_id = %s order by reason",
            (report.load_id,),
        ).fetchall()
        loads = conn.execute(
            "select rows_inserted, rows_duplicate, rows_quarantined from raw._loads where load_id = %s",
            (report.load_id,),
        ).fetchone()
    assert shares == [("s-0", "x" * 10), ("s-1", "x" * 10), ("s-2", "x" * 10), ("s-7", "first")]
    assert loads == (1, 2, 2)
    assert quarantined == [
        (
            report.load_id,
            f"conflicting duplicate: share_id s-1 is already in raw.advocacy__shares (load {first.load_id})"
            " with different content; the landed version is kept",
            {
                "key": {"share_id": "s-1"},
                "kept": {
                    "payload": {"share_id": "s-1", "filler": "x" * 10},
                    "_load_id": first.load_id,
                    "_request": "shares.csv",
                    "_logical_date": NIGHT.isoformat(),
                },
                "refused": {
                    "payload": {"share_id": "s-1", "filler": "changed"},
                    "_load_id": report.load_id,
                    "_request": "again.csv",
                    "_logical_date": NIGHT.isoformat(),
                },
            },
        ),
        (
            report.load_id,
            f"conflicting duplicate: share_id s-7 is already in raw.advocacy__shares (load {report.load_id})"
            " with different content; the landed version is kept",
            {
                "key": {"share_id": "s-7"},
                "kept": {
                    "payload": {"share_id": "s-7", "filler": "first"},
                    "_load_id": report.load_id,
                    "_request": "again.csv",
                    "_logical_date": NIGHT.isoformat(),
                },
                "refused": {
                    "payload": {"share_id": "s-7", "filler": "second"},
                    "_load_id": report.load_id,
                    "_request": "later.csv",
                    "_logical_date": NIGHT.isoformat(),
                },
            },
        ),
    ]
