"""Typeform responses against a local server that speaks the documented contract."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import psycopg
import pytest
from api_stubs import TOKEN, TypeformStub, serve, typeform_response

from ingestion.http import ApiConfig, ApiError, RetryPolicy
from ingestion.records import Quarantined, Row
from ingestion.run import land_typeform_responses
from ingestion.sources import typeform

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
FORM = "motivation-2026w1"
NIGHT = date(2026, 11, 24)


def extract(base_url: str, forms: list[str], previous_state=None) -> tuple[list, typeform.ResponsesExtraction]:
    client = typeform.client(ApiConfig(f"{base_url}/typeform", TOKEN), retry=FAST)
    extraction = typeform.ResponsesExtraction(client, forms, NIGHT, previous_state)
    try:
        return list(extraction.records()), extraction
    finally:
        client.close()


def test_cursor_paging_visits_each_response_once():
    start = datetime.fromisoformat("2026-11-20T00:00:00Z")
    items = [typeform_response(f"t{n:04d}", typeform.iso_second(start + timedelta(minutes=n))) for n in range(2100)]
    stub = TypeformStub({FORM: list(reversed(items))})
    with serve(stub) as base_url:
        records, extraction = extract(base_url, [FORM])

    assert [record.keys[1] for record in records] == [item["token"] for item in items]
    assert stub.paths == [
        f"/typeform/forms/{FORM}/responses?until=2026-11-24T23:59:59Z&sort=submitted_at,asc&page_size=1000",
        f"/typeform/forms/{FORM}/responses?until=2026-11-24T23:59:59Z&sort=submitted_at,asc&page_size=1000&after=t0999",
        f"/typeform/forms/{FORM}/responses?until=2026-11-24T23:59:59Z&sort=submitted_at,asc&page_size=1000&after=t1999",
    ]
    assert extraction.api_calls == 3
    assert extraction.state() == {"watermarks": {FORM: typeform.iso_second(start + timedelta(minutes=2099))}}


def test_the_window_starts_an_hour_before_the_watermark_and_ends_with_the_logical_date():
    extraction = typeform.ResponsesExtraction(
        client=None, form_ids=[FORM], logical_date=NIGHT, previous_state={"watermarks": {FORM: "2026-11-23T20:15:00Z"}}
    )
    assert extraction.window(FORM) == [("since", "2026-11-23T19:15:00Z"), ("until", "2026-11-24T23:59:59Z")]
    assert extraction.window("a-new-form") == [("until", "2026-11-24T23:59:59Z")]


def test_never_submitted_and_tokenless_responses_are_quarantined():
    zero = typeform_response("t-zero", "0001-01-01T00:00:00Z") | {"answers": []}
    tokenless = typeform_response(None, "2026-11-24T09:00:00Z")
    good = typeform_response("t-good", "2026-11-24T10:00:00Z")
    with serve(TypeformStub({FORM: [zero, tokenless, good]})) as base_url:
        records, extraction = extract(base_url, [FORM])
    quarantined = [record for record in records if isinstance(record, Quarantined)]
    assert [q.reason for q in quarantined] == [
        "submitted_at is the zero timestamp '0001-01-01T00:00:00Z': the response was never submitted",
        "response has no token",
    ]
    assert '"token":"t-zero"' in quarantined[0].record
    assert [record.keys[1] for record in records if isinstance(record, Row)] == ["t-good"]
    assert extraction.state() == {"watermarks": {FORM: "2026-11-24T10:00:00Z"}}


def test_overlapping_nights_land_each_response_once(fresh_db):
    night_one = [
        typeform_response("t-1", "2026-11-23T09:00:00Z", "e-0001"),
        typeform_response("t-2", "2026-11-24T21:00:00Z", "e-0002"),
        typeform_response("t-3", "2026-11-24T22:00:00Z", "e-0003"),
        typeform_response("t-zero", "0001-01-01T00:00:00Z", "e-0004"),
    ]
    stub = TypeformStub({FORM: [*night_one, typeform_response("t-5", "2026-11-25T08:00:00Z", "e-0005")]})
    with serve(stub) as base_url:
        api = ApiConfig(f"{base_url}/typeform", TOKEN)
        first = land_typeform_responses(fresh_db, NIGHT, api, [FORM])
        # submitted within the overlap but returned only now (Typeform's ~30 minute lag)
        stub.forms[FORM].append(typeform_response("t-late", "2026-11-24T21:40:00Z", "e-0006"))
        second = land_typeform_responses(fresh_db, NIGHT + timedelta(days=1), api, [FORM])

    assert (first.rows_received, first.rows_inserted, first.rows_duplicate, first.rows_quarantined) == (4, 3, 0, 1)
    assert "since=2026-11-24T21:00:00Z" in stub.paths[-1]
    assert (second.rows_received, second.rows_inserted, second.rows_duplicate, second.rows_quarantined) == (4, 2, 2, 0)
    with psycopg.connect(fresh_db) as conn:
        tokens = conn.execute("select response_token from raw.typeform__responses order by submitted_at").fetchall()
        employee = conn.execute(
            "select payload->'hidden'->>'employee_id' from raw.typeform__responses where response_token = 't-late'"
        ).fetchone()[0]
        quarantine = conn.execute("select reason, record::jsonb->>'token' from raw._quarantine").fetchall()
        state = conn.execute("select state from raw._ingestion_state where source = 'typeform'").fetchone()[0]
    assert [token for (token,) in tokens] == ["t-1", "t-2", "t-late", "t-3", "t-5"]
    assert employee == "e-0006"
    never_submitted = "submitted_at is the zero timestamp '0001-01-01T00:00:00Z': the response was never submitted"
    assert quarantine == [(never_submitted, "t-zero")]
    assert state == {"watermarks": {FORM: "2026-11-25T08:00:00Z"}}


def test_an_unknown_form_fails_the_load_naming_it(fresh_db):
    with serve(TypeformStub({FORM: []})) as base_url, pytest.raises(ApiError) as raised:
        land_typeform_responses(fresh_db, NIGHT, ApiConfig(f"{base_url}/typeform", TOKEN), ["no-such-form"])
    assert str(raised.value).startswith("typeform: GET /forms/no-such-form/responses?until=")
    assert "HTTP 404 FORM_NOT_FOUND: Form no-such-form not found" in str(raised.value)
    with psycopg.connect(fresh_db) as conn:
        status, api_calls, error = conn.execute("select status, api_calls, error from raw._loads").fetchone()
    assert (status, api_calls) == ("failed", 1)
    assert error == f"ApiError: {raised.value}"
