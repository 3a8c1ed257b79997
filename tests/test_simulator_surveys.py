"""The simulator runs the motivation survey on SurveyMonkey and Qualtrics too, speaking their documented contracts:
SurveyMonkey answers name question and choice ids only (their meaning is in the survey's /details), Qualtrics
surveys order their QIDs each their own way and name the respondent the way each survey is configured to."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from simulator import instrument, qualtrics, surveymonkey
from simulator.company import SURVEY_ITEMS, SURVEY_VENDORS, Company
from simulator.server import start
from simulator.surveymonkey import CHOICE_TEXTS, CLIENT_ID

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
TOKEN = "survey-simulator-test-token"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
QUALTRICS = {"X-API-TOKEN": TOKEN}


def expected_answers(sim, vendor: str) -> dict[str, tuple[str, dict[str, int]]]:
    """Employee id → (submitted_at, answers by ref) of every response to the vendor's wave submitted before as_of."""
    (wave,) = sim.company.survey_waves_for(vendor)
    return {r.employee_id: (r.submitted_at, dict(r.answers)) for r in wave.responses if r.submitted_at < AS_OF}


def the_wave(sim, vendor: str):
    (wave,) = sim.company.survey_waves_for(vendor)
    return wave


# --- SurveyMonkey ----------------------------------------------------------------------------------------------


def exchange(http, sim, **overrides):
    form = {
        "client_id": CLIENT_ID,
        "client_secret": TOKEN,
        "code": "one-time-code",
        "redirect_uri": "http://127.0.0.1/callback",
        "grant_type": "authorization_code",
    } | overrides
    return http.post(sim.surveymonkey_token_url, data=form, timeout=5)


def bulk(http, sim, headers=BEARER, **params):
    (survey,) = sim.surveymonkey_survey_ids
    url = f"{sim.surveymonkey_base_url}/surveys/{survey}/responses/bulk"
    return http.get(url, params=params, headers=headers, timeout=5)


def test_the_token_exchange_answers_the_access_url_to_use_as_the_api_base(sim, http):
    answer = exchange(http, sim).json()
    assert answer == {"access_token": TOKEN, "access_url": sim.base_url + "/surveymonkey", "token_type": "bearer"}
    assert answer["access_url"] + "/v3" == sim.surveymonkey_base_url
    assert exchange(http, sim, client_secret="wrong").status_code == 401
    assert exchange(http, sim, code="").status_code == 400


def details(http, sim, headers=BEARER):
    (survey,) = sim.surveymonkey_survey_ids
    return http.get(f"{sim.surveymonkey_base_url}/surveys/{survey}/details", headers=headers, timeout=5)


def test_details_list_each_question_with_its_choices_ids_positions_and_plain_labels(sim, http):
    response = details(http, sim)
    assert response.status_code == 200
    assert response.headers["X-Ratelimit-App-Global-Day-Limit"] == "500"
    body = response.json()
    assert body["id"] == sim.surveymonkey_survey_ids[0]
    assert body["date_modified"].endswith("+00:00") and body["custom_variables"] == {"employee_id": "Employee id"}
    (page,) = body["pages"]
    questions = page["questions"]
    assert [q["id"] for q in questions] == list(surveymonkey.question_ids(the_wave(sim, "surveymonkey")))
    assert body["question_count"] == len(questions) == len(SURVEY_ITEMS)
    for question in questions:
        assert (question["family"], question["subtype"]) == ("single_choice", "vertical")
        assert question["headings"][0]["heading"]
        choices = question["answers"]["choices"]
        assert [(c["position"], c["text"]) for c in choices] == list(enumerate(CHOICE_TEXTS, start=1))
        assert all(isinstance(c["id"], str) for c in choices)
        assert not any(ch.isdigit() for c in choices for ch in c["text"])  # labels, not numbers
    assert details(http, sim, headers={"Authorization": "Bearer nope"}).status_code == 401
    missing = http.get(f"{sim.surveymonkey_base_url}/surveys/1/details", headers=BEARER, timeout=5)
    assert (missing.status_code, missing.json()["error"]["id"]) == (404, "1020")


def test_bulk_answers_name_question_and_choice_ids_only_resolved_through_details(sim, http):
    body = bulk(http, sim, per_page=100, simple="true").json()
    expected = expected_answers(sim, "surveymonkey")
    refs = surveymonkey.question_ids(the_wave(sim, "surveymonkey"))
    positions = {
        (question["id"], choice["id"]): choice["position"]
        for question in details(http, sim).json()["pages"][0]["questions"]
        for choice in question["answers"]["choices"]
    }
    assert body["total"] == len(body["data"]) == len(expected)
    assert (body["page"], body["per_page"]) == (1, 100) and "next" not in body["links"]
    for response in body["data"]:
        assert isinstance(response["id"], str) and response["id"].isdigit()
        assert response["survey_id"] == sim.surveymonkey_survey_ids[0]
        submitted_at, answers = expected[response["custom_variables"]["employee_id"]]
        assert response["date_modified"] == submitted_at.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        (page,) = response["pages"]
        assert all("variable_id" not in question for question in page["questions"])
        given = {refs[q["id"]]: positions[(q["id"], q["answers"][0]["choice_id"])] for q in page["questions"]}
        assert given == answers
        assert all(
            q["answers"][0]["simple_text"] == CHOICE_TEXTS[answers[refs[q["id"]]] - 1] for q in page["questions"]
        )
    plain = bulk(http, sim, per_page=1).json()["data"][0]["pages"][0]["questions"][0]
    assert set(plain) == {"id", "answers"} and set(plain["answers"][0]) == {"choice_id"}  # no simple=true


def test_links_next_pages_through_every_response_once(sim, http):
    seen, url = [], None
    first = bulk(http, sim, per_page=20, sort_order="ASC", sort_by="date_modified").json()
    body = first
    while True:
        seen += [response["id"] for response in body["data"]]
        url = body["links"].get("next")
        if url is None:
            break
        body = http.get(url, headers=BEARER, timeout=5).json()
    assert len(seen) == len(set(seen)) == first["total"] > 40
    assert first["links"]["next"].startswith(sim.surveymonkey_base_url + "/surveys/")


@pytest.mark.parametrize(("params", "message"), [({"per_page": 101}, "per_page"), ({"sort_order": "UP"}, "sort_order")])
def test_invalid_parameters_are_400_with_a_string_error_id(sim, http, params, message):
    response = bulk(http, sim, **params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["id"], error["http_status_code"]) == ("1002", 400) and message in error["message"]


def test_modified_window_filters_and_a_bad_token_is_1011(sim, http):
    submitted = sorted(at for at, _ in expected_answers(sim, "surveymonkey").values())
    middle = submitted[len(submitted) // 2].strftime("%Y-%m-%dT%H:%M:%S")
    body = bulk(http, sim, per_page=100, start_modified_at=middle).json()
    assert body["total"] == len(submitted) - len(submitted) // 2
    refused = bulk(http, sim, headers={"Authorization": "Bearer nope"})
    assert (refused.status_code, refused.json()["error"]["id"]) == (401, "1011")


def test_rate_limit_headers_and_the_429_of_the_minute_and_the_day(http, tmp_path):
    with start(AS_OF, drop_dir=tmp_path / "m", token=TOKEN, surveymonkey_limits=(2, 500)) as per_minute:
        first, second, third = (bulk(http, per_minute) for _ in range(3))
        assert first.headers["X-Ratelimit-App-Global-Minute-Remaining"] == "1"
        assert first.headers["X-Ratelimit-App-Global-Day-Remaining"] == "499"
        assert 0 < int(first.headers["X-Ratelimit-App-Global-Minute-Reset"]) <= 60  # seconds from now
        assert (third.status_code, third.json()["error"]["id"]) == (429, "1040")
        assert third.headers["X-Ratelimit-App-Global-Minute-Remaining"] == "0"
    with start(AS_OF, drop_dir=tmp_path / "d", token=TOKEN, surveymonkey_limits=(120, 1)) as per_day:
        assert bulk(http, per_day).status_code == 200
        over = bulk(http, per_day)
        assert over.status_code == 429 and over.headers["X-Ratelimit-App-Global-Day-Remaining"] == "0"
        assert 0 < int(over.headers["X-Ratelimit-App-Global-Day-Reset"]) <= 86_400


# --- Qualtrics ----------------------------------------------------------------------------------------------------


def exports_url(sim) -> str:
    return f"{sim.qualtrics_base_url}/surveys/{sim.qualtrics_survey_ids[0]}/export-responses"


def run_export(http, sim, **body) -> tuple[list[dict], bytes]:
    started = http.post(exports_url(sim), json={"format": "json"} | body, headers=QUALTRICS, timeout=5).json()
    progress_id = started["result"]["progressId"]
    assert started["result"] == {"progressId": progress_id, "percentComplete": 0.0, "status": "inProgress"}
    polls = []
    while not polls or polls[-1]["status"] == "inProgress":
        polls.append(http.get(f"{exports_url(sim)}/{progress_id}", headers=QUALTRICS, timeout=5).json()["result"])
    file_id = polls[-1]["fileId"]
    content = http.get(f"{exports_url(sim)}/{file_id}/file", headers=QUALTRICS, timeout=5).content
    return polls, content


def test_an_export_is_started_polled_to_complete_and_downloaded_as_a_zip(sim, http):
    polls, content = run_export(http, sim)
    assert [(p["status"], p["percentComplete"]) for p in polls] == [("inProgress", 50.0), ("complete", 100.0)]
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        (name,) = archive.namelist()
        responses = json.loads(archive.read(name))["responses"]
    assert name.endswith(".json")
    expected = expected_answers(sim, "qualtrics")
    qids = qualtrics.question_ids(the_wave(sim, "qualtrics"))
    assert len(responses) == len(expected)
    for response in responses:
        values = response["values"]
        submitted_at, answers = expected[values["externalDataReference"]]  # the default link
        assert response["responseId"].startswith("R_")
        assert values["recordedDate"] == submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert {qids[qid]: values[qid] for qid in qids} == answers
        assert response["displayedFields"] == list(qids)


def test_two_surveys_ask_the_items_in_orders_of_their_own():
    # a Qualtrics wave every 18 weeks (waves every six weeks, vendors in turn): two seen months apart
    nights = (datetime(2026, 11, 26, tzinfo=UTC), datetime(2027, 1, 31, tzinfo=UTC))
    waves = [Company(7, night).survey_waves_for("qualtrics")[-1] for night in nights]
    assert waves[0].form_id != waves[1].form_id
    orders = [qualtrics.question_ids(wave) for wave in waves]
    assert all(sorted(order.values()) == sorted(item.ref for item in SURVEY_ITEMS) for order in orders)
    assert list(orders[0].values()) != list(orders[1].values())
    assert qualtrics.question_ids(waves[0]) == orders[0]  # derived from the survey id: stable


@pytest.mark.parametrize("link", ["externalDataReference", "embedded:staff_ref", "recipientEmail"])
def test_each_survey_names_its_respondents_the_way_it_is_configured_to(http, tmp_path, link):
    (wave,) = Company(7, AS_OF).survey_waves_for("qualtrics")
    survey = qualtrics.survey_id(wave)
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, qualtrics_link_fields={survey: link}) as configured:
        _, content = run_export(http, configured, compress=False)
        emails = {entry.employee_id: entry.email for entry in configured.company.roster_on(AS_OF.date())}
    responses = json.loads(content)["responses"]
    expected = sorted(r.employee_id for r in wave.responses if r.submitted_at < AS_OF)
    assert len(responses) == len(expected)
    values = [response["values"] for response in responses]
    if link == "externalDataReference":
        assert sorted(v["externalDataReference"] for v in values) == expected
    elif link == "recipientEmail":
        assert all(v["externalDataReference"] == "" for v in values)
        by_email = {email: employee for employee, email in emails.items()}
        assert sorted(by_email[v["recipientEmail"].lower()] for v in values) == expected
        assert any(v["recipientEmail"] != v["recipientEmail"].lower() for v in values)  # as typed: case differs
    else:
        assert all(v["externalDataReference"] == v["recipientEmail"] == "" for v in values)
        assert sorted(v["staff_ref"] for v in values) == expected


def test_an_unknown_link_field_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown respondent link"):
        start(AS_OF, drop_dir=tmp_path, token=TOKEN, qualtrics_link_fields={"SV_x": "employeeNumber"})


def test_the_committed_instrument_maps_every_survey_the_simulator_serves_on_the_tests_night():
    """If this fails after a change to the simulated surveys, regenerate the seed: `python -m simulator.instrument`
    (writes dbt_project/seeds/survey_instrument.csv for the simulated company's nights 2026–2028)."""
    with instrument.SEED_PATH.open() as seed:
        committed = {(row["source"], row["survey_id"], row["item_key"]): row for row in csv.DictReader(seed)}
    company = Company(7, datetime(2026, 11, 26, tzinfo=UTC))
    needed = instrument.instrument_rows({vendor: company.survey_waves_for(vendor) for vendor in SURVEY_VENDORS})
    missing = [key for key in ((r["source"], r["survey_id"], r["item_key"]) for r in needed) if key not in committed]
    assert not missing, f"run `python -m simulator.instrument` to regenerate the seed; missing {missing[:5]}…"
    assert all(committed[(r["source"], r["survey_id"], r["item_key"])] == r for r in needed)
    assert {r["source"] for r in needed} == set(SURVEY_VENDORS)
    surveys = {(r["source"], r["survey_id"]) for r in needed if r["source"] != "typeform"}
    assert {("surveymonkey", surveymonkey.survey_id(w)) for w in company.survey_waves_for("surveymonkey")} | {
        ("qualtrics", qualtrics.survey_id(w)) for w in company.survey_waves_for("qualtrics")
    } == surveys


def test_parameters_are_case_sensitive_and_the_token_goes_in_x_api_token(sim, http):
    wrong_case = http.post(exports_url(sim), json={"Format": "json"}, headers=QUALTRICS, timeout=5)
    assert wrong_case.status_code == 400
    assert wrong_case.json()["meta"]["error"]["errorMessage"] == "Invalid parameters (names are case-sensitive): Format"
    no_token = http.post(exports_url(sim), json={"format": "json"}, timeout=5)
    assert (no_token.status_code, no_token.json()["meta"]["error"]["errorCode"]) == (401, "AUTH_0.1")
    assert http.get(f"{exports_url(sim)}/ES_unknown", headers=QUALTRICS, timeout=5).status_code == 404


def test_a_window_and_compress_false_give_the_plain_json_of_those_responses(sim, http):
    submitted = sorted(at for at, _ in expected_answers(sim, "qualtrics").values())
    start_date = submitted[10].strftime("%Y-%m-%dT%H:%M:%SZ")
    end_date = submitted[20].strftime("%Y-%m-%dT%H:%M:%SZ")
    _, content = run_export(http, sim, compress=False, startDate=start_date, endDate=end_date)
    assert len(json.loads(content)["responses"]) == 10  # startDate inclusive, endDate exclusive


def test_a_failed_export_shows_100_percent_without_a_file(http, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, qualtrics_failing_exports=1) as failing:
        started = http.post(exports_url(failing), json={"format": "json"}, headers=QUALTRICS, timeout=5).json()
        url = f"{exports_url(failing)}/{started['result']['progressId']}"
        results = [http.get(url, headers=QUALTRICS, timeout=5).json()["result"] for _ in range(2)]
    assert results[-1] == {"percentComplete": 100.0, "status": "failed", "fileId": None}
