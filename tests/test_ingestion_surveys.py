"""SurveyMonkey and Qualtrics, the alternative survey sources, against the simulator that speaks their contracts."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import psycopg
import pytest
from api_stubs import RecordingApp, Reply, serve

from ingestion.http import ApiConfig, ApiError, RateLimitExceeded, RetryPolicy, Timeouts
from ingestion.loader import land
from ingestion.paging import NextLinkPaging
from ingestion.records import Quarantined, Row
from ingestion.run import land_qualtrics_responses, land_surveymonkey_responses, land_surveymonkey_survey_details
from ingestion.sources import qualtrics, surveymonkey
from simulator import qualtrics as qualtrics_simulator
from simulator import surveymonkey as surveymonkey_simulator
from simulator.server import start
from simulator.surveymonkey import CLIENT_ID

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
NIGHT = date(2026, 11, 25)
TOKEN = "survey-ingestion-token-7f3a"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with start(AS_OF, seed=7, drop_dir=tmp_path_factory.mktemp("drop"), token=TOKEN) as running:
        yield running


def respondents(sim, vendor: str) -> dict[str, dict[str, int]]:
    (wave,) = sim.company.survey_waves_for(vendor)
    return {r.employee_id: dict(r.answers) for r in wave.responses if r.submitted_at < sim.company.as_of}


def the_wave(sim, vendor: str):
    (wave,) = sim.company.survey_waves_for(vendor)
    return wave


# --- SurveyMonkey ----------------------------------------------------------------------------------------------


def test_the_token_exchange_gives_the_access_url_as_api_base_and_keeps_the_secret_out_of_errors(sim):
    api = surveymonkey.exchange_code(sim.surveymonkey_token_url, CLIENT_ID, TOKEN, "code-1", "http://127.0.0.1/cb")
    assert (api.base_url, api.token) == (sim.surveymonkey_base_url, TOKEN)
    with pytest.raises(ApiError) as refused:
        surveymonkey.exchange_code(sim.surveymonkey_token_url, CLIENT_ID, "not-the-secret", "c", "http://x/cb")
    assert str(refused.value) == (
        "surveymonkey: POST /oauth/token failed: HTTP 401 invalid_client: Invalid client credentials"
    )


def test_a_night_pages_by_links_next_and_lands_every_response_with_string_ids(sim, fresh_db):
    api = surveymonkey.exchange_code(sim.surveymonkey_token_url, CLIENT_ID, TOKEN, "code-2", "http://127.0.0.1/cb")
    with surveymonkey.client(api, retry=FAST) as client:
        first = land(
            fresh_db,
            surveymonkey.TARGET,
            NIGHT,
            lambda state: surveymonkey.ResponsesExtraction(
                client, sim.surveymonkey_survey_ids, NIGHT, state, NextLinkPaging(per_page=20)
            ),
        )
    rerun = land_surveymonkey_responses(fresh_db, NIGHT, api, sim.surveymonkey_survey_ids, retry=FAST)

    expected = respondents(sim, "surveymonkey")
    assert (first.rows_inserted, first.api_calls) == (len(expected), -(-len(expected) // 20))
    assert rerun.rows_inserted == 0 and rerun.api_calls == 1  # the hour of overlap comes again, deduplicated
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("select response_id, payload, _request from raw.surveymonkey__responses").fetchall()
        state = conn.execute("select state from raw._ingestion_state where source = 'surveymonkey'").fetchone()[0]
    refs = surveymonkey_simulator.question_ids(the_wave(sim, "surveymonkey"))
    landed = {}
    for response_id, payload, request in rows:
        assert response_id == payload["id"] and response_id.isdigit()
        assert request.startswith(sim.surveymonkey_base_url + "/surveys/")
        answers = {refs[q["id"]]: q["answers"][0]["choice_id"] for q in payload["pages"][0]["questions"]}
        landed[payload["custom_variables"]["employee_id"]] = answers
    assert landed == {
        employee: {ref: surveymonkey_simulator.choice_id(qid, answers[ref]) for qid, ref in refs.items()}
        for employee, answers in expected.items()
    }
    latest = max(r.submitted_at for r in the_wave(sim, "surveymonkey").responses if r.submitted_at < AS_OF)
    assert state == {"watermarks": {sim.surveymonkey_survey_ids[0]: latest.isoformat()}}


def test_each_surveys_details_land_once_a_night_with_their_choices(sim, fresh_db):
    api = ApiConfig(sim.surveymonkey_base_url, TOKEN)
    first = land_surveymonkey_survey_details(fresh_db, NIGHT, api, sim.surveymonkey_survey_ids, retry=FAST)
    rerun = land_surveymonkey_survey_details(fresh_db, NIGHT, api, sim.surveymonkey_survey_ids, retry=FAST)
    next_night = land_surveymonkey_survey_details(fresh_db, date(2026, 11, 26), api, sim.surveymonkey_survey_ids)

    assert (first.source, first.entity, first.rows_inserted, first.api_calls) == (
        "surveymonkey",
        "survey_details",
        1,
        1,
    )
    assert (rerun.rows_inserted, rerun.rows_duplicate) == (0, 1)  # the night's catalogue is there already
    assert next_night.rows_inserted == 1  # fetched again the next night: freshness follows it
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "select survey_id, date_modified, payload, _request, _logical_date"
            " from raw.surveymonkey__survey_details order by _logical_date"
        ).fetchall()
        loads = conn.execute("select count(*) from raw._loads where entity = 'survey_details' and status = 'success'")
        assert loads.fetchone()[0] == 3
    (survey,) = sim.surveymonkey_survey_ids
    assert [(r[0], r[4]) for r in rows] == [(survey, NIGHT), (survey, date(2026, 11, 26))]
    payload = rows[0][2]
    assert rows[0][1] == datetime.fromisoformat(payload["date_modified"])
    assert rows[0][3] == f"{sim.surveymonkey_base_url}/surveys/{survey}/details"
    refs = surveymonkey_simulator.question_ids(the_wave(sim, "surveymonkey"))
    assert [q["id"] for q in payload["pages"][0]["questions"]] == list(refs)


@pytest.mark.parametrize(
    ("details", "reason"),
    [
        ([], "survey details are not an object"),
        ({"id": "other", "pages": []}, "survey details name survey 'other', not the '820' asked for"),
        ({"id": "820", "pages": [], "date_modified": "yesterday"}, "date_modified"),
    ],
)
def test_details_that_are_not_the_surveys_are_quarantined_with_the_reason(details, reason):
    """(Details without `pages` are the contract drifting: the load fails, see test_ingestion_faults.)"""
    record = surveymonkey.SurveyDetailsExtraction._record("820", details, "GET /details", datetime.now(UTC))
    assert isinstance(record, Quarantined) and reason in record.reason
    good = {"id": "820", "pages": [], "date_modified": "2026-09-01T00:00:00+00:00"}
    assert isinstance(surveymonkey.SurveyDetailsExtraction._record("820", good, "GET /details", datetime.now(UTC)), Row)


def test_a_spent_day_fails_at_once_saying_when_it_resets(fresh_db, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, surveymonkey_limits=(120, 0)) as limited:
        api = ApiConfig(limited.surveymonkey_base_url, TOKEN)
        with pytest.raises(RateLimitExceeded) as raised:
            land_surveymonkey_responses(fresh_db, NIGHT, api, limited.surveymonkey_survey_ids, retry=FAST)
    message = str(raised.value)
    assert "HTTP 429 1040: Rate limit reached: Too many requests were made, try again later." in message
    assert "the window resets at " in message and "500 a day" in message


def test_the_wait_follows_the_spent_window_and_its_reset_in_seconds():
    policy = surveymonkey.RATE_LIMIT
    header = "X-Ratelimit-App-Global-{}-{}".format
    minute_spent = {
        header("Minute", "Remaining"): "0",
        header("Minute", "Reset"): "7",
        header("Day", "Remaining"): "420",
        header("Day", "Reset"): "40000",
    }
    day_spent = minute_spent | {header("Minute", "Remaining"): "3", header("Day", "Remaining"): "0"}
    assert policy.reset_in(minute_spent) == 7.0
    assert policy.reset_in(day_spent) == 40000.0 > policy.max_wait
    assert policy.reset_in({header("Minute", "Remaining"): "5"}, spent_only=True) is None


def test_a_429_with_no_window_spent_waits_for_the_minute_not_the_day_and_goes_on():
    header = "X-Ratelimit-App-Global-{}-{}".format
    unexplained = {
        header("Minute", "Remaining"): "5",
        header("Minute", "Reset"): "1",
        header("Day", "Remaining"): "420",
        header("Day", "Reset"): "40000",
    }
    assert surveymonkey.RATE_LIMIT.reset_in(unexplained) == 1.0

    class ThrottlesOnce(RecordingApp):
        def answer(self, path, headers):
            if len(self.requests) == 1:
                error = {"id": "1040", "name": "Rate limit reached", "message": "Too many requests"}
                return Reply(429, {"error": {**error, "http_status_code": 429}}, headers=unexplained)
            return Reply(200, {"data": [], "links": {}})

    with serve(ThrottlesOnce()) as base_url, surveymonkey.client(ApiConfig(base_url, TOKEN), retry=FAST) as client:
        started = time.monotonic()
        assert client.get("/surveys/1/responses/bulk").body == {"data": [], "links": {}}
        waited = time.monotonic() - started
    assert client.api_calls == 2
    assert 1.0 <= waited < 5


@pytest.mark.parametrize("suffix", ["", "/", "/v3", "/v3/"])
def test_the_documented_access_url_works_with_or_without_v3(sim, fresh_db, suffix):
    api = ApiConfig(sim.base_url + "/surveymonkey" + suffix, TOKEN)
    report = land_surveymonkey_responses(fresh_db, NIGHT, api, sim.surveymonkey_survey_ids, retry=FAST)
    assert report.rows_inserted == len(respondents(sim, "surveymonkey"))


# --- Qualtrics ----------------------------------------------------------------------------------------------------


def test_a_night_starts_an_export_polls_it_to_complete_and_lands_the_zip(sim, fresh_db):
    api = ApiConfig(sim.qualtrics_base_url, TOKEN)
    first = land_qualtrics_responses(fresh_db, NIGHT, api, sim.qualtrics_survey_ids, retry=FAST, poll_interval=0.01)
    rerun = land_qualtrics_responses(fresh_db, NIGHT, api, sim.qualtrics_survey_ids, retry=FAST, poll_interval=0.01)

    expected = respondents(sim, "qualtrics")
    assert (first.rows_inserted, first.api_calls) == (len(expected), 1 + 2 + 1)  # start, two polls, download
    assert rerun.rows_inserted == 0
    with psycopg.connect(fresh_db) as conn:
        payloads = [p for (p,) in conn.execute("select payload from raw.qualtrics__responses").fetchall()]
    qids = qualtrics_simulator.question_ids(the_wave(sim, "qualtrics"))
    landed = {
        p["values"]["externalDataReference"]: {ref: p["values"][qid] for qid, ref in qids.items()} for p in payloads
    }
    assert landed == expected


def test_a_failed_export_at_100_percent_fails_the_load_and_lands_nothing(fresh_db, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, qualtrics_failing_exports=1) as failing:
        api = ApiConfig(failing.qualtrics_base_url, TOKEN)
        with pytest.raises(qualtrics.ExportFailed) as raised:
            land_qualtrics_responses(fresh_db, NIGHT, api, failing.qualtrics_survey_ids, poll_interval=0.01)
        rerun = land_qualtrics_responses(fresh_db, NIGHT, api, failing.qualtrics_survey_ids, poll_interval=0.01)
    message = str(raised.value)
    assert message.startswith("qualtrics: GET /surveys/SV_")
    assert "EXPORT_FAILED: the export failed (status failed, percentComplete 100.0, fileId None)" in message
    assert rerun.rows_inserted == len(respondents(failing, "qualtrics"))  # a new export on the rerun


def test_an_export_that_never_completes_fails_after_the_poll_timeout(tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, qualtrics_polls_to_complete=1000) as slow:
        with qualtrics.client(ApiConfig(slow.qualtrics_base_url, TOKEN), retry=FAST) as client:
            extraction = qualtrics.ResponsesExtraction(
                client, slow.qualtrics_survey_ids, NIGHT, None, poll_interval=0.01, poll_timeout=0.05
            )
            with pytest.raises(qualtrics.ExportFailed) as raised:
                list(extraction.records())
    assert "EXPORT_TIMEOUT: the export was still inProgress at" in str(raised.value)
    request = extraction.export_request(slow.qualtrics_survey_ids[0])
    assert request == {"format": "json", "endDate": "2026-11-26T00:00:00Z"}  # no watermark yet: everything until then


@pytest.mark.parametrize("suffix", ["", "/", "/API/v3", "/API/v3/"])
def test_the_documented_data_center_host_works_with_or_without_api_v3(sim, fresh_db, suffix):
    api = ApiConfig(sim.base_url + "/qualtrics" + suffix, TOKEN)
    report = land_qualtrics_responses(fresh_db, NIGHT, api, sim.qualtrics_survey_ids, retry=FAST, poll_interval=0.01)
    assert report.rows_inserted == len(respondents(sim, "qualtrics"))


def test_an_export_start_that_times_out_is_not_sent_again_so_no_second_export_starts(fresh_db, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, faults=["timeout:qualtrics"]) as slow:
        api = ApiConfig(slow.qualtrics_base_url, TOKEN)
        options = dict(retry=FAST, timeouts=Timeouts(connect=1, read=0.3), poll_interval=0.01)
        with pytest.raises(ApiError) as raised:
            land_qualtrics_responses(fresh_db, NIGHT, api, slow.qualtrics_survey_ids, **options)
        assert slow.qualtrics_exports_started == 1  # the export the timed-out start did create: only that one
        rerun = land_qualtrics_responses(fresh_db, NIGHT, api, slow.qualtrics_survey_ids, **options)
        assert slow.qualtrics_exports_started == 2
    message = str(raised.value)
    assert message.startswith("qualtrics: POST /surveys/SV_") and "ReadTimeout" in message
    assert "not sent again" in message
    assert rerun.rows_inserted == len(respondents(slow, "qualtrics"))
