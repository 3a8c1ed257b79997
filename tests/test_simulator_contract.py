"""The simulator speaks the documented LinkedIn and Typeform contracts, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from simulator.company import SHARES_CSV_COLUMNS, SURVEY_ITEMS, Company, iso_utc, write_shares_files
from simulator.consent import member_access_token
from simulator.server import start

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
TOKEN = "simulator-test-token"
LINKEDIN_HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "LinkedIn-Version": "202606",
    "X-Restli-Protocol-Version": "2.0.0",
}
TYPEFORM_HEADERS = {"Authorization": f"Bearer {TOKEN}"}
METRIC_FIELDS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "members_reached",
    "REACTION": "reactions",
    "COMMENT": "comments",
    "RESHARE": "reshares",
    "LINK_CLICKS": "link_clicks",
}


def entity_of(post_urn: str) -> str:
    """The Rest.li 2.0 union for a post URN, e.g. (share:urn%3Ali%3Ashare%3A123)."""
    _, _, kind, number = post_urn.split(":")
    member = "share" if kind == "share" else "ugc"
    return f"({member}:urn%3Ali%3A{kind}%3A{number})"


def analytics(http, base_url, entity, query_type="IMPRESSION", headers=None, extra=""):
    query = f"q=entity&entity={entity}&queryType={query_type}&aggregation=TOTAL{extra}"
    headers = _as_author(headers or LINKEDIN_HEADERS, entity)
    return http.get(f"{base_url}/memberCreatorPostAnalytics?{query}", headers=headers, timeout=5)


_AUTHORS = Company(7, AS_OF + timedelta(days=3))  # who shared each post (the same at every later as_of)


def _as_author(headers: dict[str, str], entity: str) -> dict[str, str]:
    """Member post analytics are member-scoped: the app's token becomes the post author's own member token (the
    simulator derives it from its secret, simulator.consent). Other tokens are sent as given."""
    match = re.fullmatch(r"\((?:share|ugc):urn%3Ali%3A(share|ugcPost)%3A(\d+)\)", entity)
    share = _AUTHORS.find_post(f"urn:li:{match[1]}:{match[2]}") if match else None
    if headers.get("Authorization") != f"Bearer {TOKEN}" or share is None:
        return headers
    return {**headers, "Authorization": f"Bearer {member_access_token(TOKEN, 'linkedin', share.employee_id)}"}


def version(linkedin_version: str) -> dict[str, str]:
    return {**LINKEDIN_HEADERS, "LinkedIn-Version": linkedin_version}


def old_share_with_clicks(company: Company):
    """A window share old enough to have clicks and engagements on every counter."""
    return next(s for s in company.network_shares("linkedin") if min(vars(company.counters(s)).values()) > 0)


def typeform_responses(company: Company) -> list:
    """The responses of the company's wave on Typeform, submitted before as_of."""
    (wave,) = company.survey_waves_for("typeform")
    return company.survey_responses(wave)


def responses_url(sim, form_id=None):
    return f"{sim.typeform_base_url}/forms/{form_id or sim.form_ids[0]}/responses"


# --- health and LinkedIn headers ---------------------------------------------------------------------------


def test_health(sim, http):
    response = http.get(f"{sim.base_url}/health", timeout=5)
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["Content-Length"] == str(len(response.content))


def test_linkedin_rejects_missing_or_wrong_token(sim, http):
    entity = entity_of(sim.company.network_shares("linkedin")[0].post_id)
    expected = {
        "status": 401,
        "serviceErrorCode": 65600,
        "code": "INVALID_ACCESS_TOKEN",
        "message": "Invalid access token",
    }
    no_token = {k: v for k, v in LINKEDIN_HEADERS.items() if k != "Authorization"}
    wrong_token = {**LINKEDIN_HEADERS, "Authorization": "Bearer not-the-token"}
    for headers in (no_token, wrong_token):
        response = analytics(http, sim.linkedin_base_url, entity, headers=headers)
        assert (response.status_code, response.json()) == (401, expected)


@pytest.mark.parametrize(
    ("linkedin_version", "status"),
    [
        ("202401", 426),  # long sunset
        ("202510", 426),  # 13 months before as_of (2026-11)
        ("202511", 200),  # oldest active: 12 months before as_of
        ("202611", 200),  # as_of's month
        ("202606.01", 200),  # YYYYMM.RR form
        ("202612", 426),  # not released yet at as_of
        ("2026-06", 426),  # malformed
    ],
)
def test_linkedin_version_must_be_active(sim, http, linkedin_version, status):
    entity = entity_of(sim.company.network_shares("linkedin")[0].post_id)
    response = analytics(http, sim.linkedin_base_url, entity, headers=version(linkedin_version))
    assert response.status_code == status
    if status == 426:
        assert response.json() == {
            "status": 426,
            "code": "NONEXISTENT_VERSION",
            "message": f"Requested version {linkedin_version} is not active",
        }


def test_linkedin_version_header_is_required(sim, http):
    headers = {k: v for k, v in LINKEDIN_HEADERS.items() if k != "LinkedIn-Version"}
    entity = entity_of(sim.company.network_shares("linkedin")[0].post_id)
    response = analytics(http, sim.linkedin_base_url, entity, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "VERSION_MISSING"


@pytest.mark.parametrize("protocol", [None, "1.0.0"])
def test_linkedin_requires_restli_protocol_2(sim, http, protocol):
    headers = {k: v for k, v in LINKEDIN_HEADERS.items() if k != "X-Restli-Protocol-Version"}
    if protocol:
        headers["X-Restli-Protocol-Version"] = protocol
    entity = entity_of(sim.company.network_shares("linkedin")[0].post_id)
    response = analytics(http, sim.linkedin_base_url, entity, headers=headers)
    assert response.status_code == 400
    assert response.json()["status"] == 400


# --- LinkedIn body ---------------------------------------------------------------------------------------------


def test_metric_type_is_a_union_before_202605_and_a_string_from_202605(sim, http):
    share = old_share_with_clicks(sim.company)
    expected_count = sim.company.counters(share).reactions
    entity = entity_of(share.post_id)
    before = analytics(http, sim.linkedin_base_url, entity, "REACTION", version("202604"))
    after = analytics(http, sim.linkedin_base_url, entity, "REACTION", version("202605"))
    (old_element,) = before.json()["elements"]
    (new_element,) = after.json()["elements"]
    assert old_element["metricType"] == {
        "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": "REACTION"
    }
    assert new_element["metricType"] == "REACTION"
    assert old_element["count"] == new_element["count"] == expected_count > 0


def test_link_clicks_exist_from_version_202604(sim, http):
    share = old_share_with_clicks(sim.company)
    entity = entity_of(share.post_id)
    too_old = analytics(http, sim.linkedin_base_url, entity, "LINK_CLICKS", version("202603"))
    assert too_old.status_code == 400
    assert too_old.json()["code"] == "ILLEGAL_ARGUMENT"
    available = analytics(http, sim.linkedin_base_url, entity, "LINK_CLICKS", version("202604"))
    assert available.status_code == 200
    assert available.json()["elements"][0]["count"] == sim.company.counters(share).link_clicks > 0


def test_every_metric_returns_the_post_counter_as_of(sim, http):
    share = old_share_with_clicks(sim.company)
    counters = sim.company.counters(share)
    for query_type, field in METRIC_FIELDS.items():
        response = analytics(http, sim.linkedin_base_url, entity_of(share.post_id), query_type)
        assert response.status_code == 200
        assert response.json() == {
            "paging": {"start": 0, "count": 10, "links": []},
            "elements": [
                {
                    "count": getattr(counters, field),
                    "metricType": query_type,
                    "dateRange": {},
                }
            ],
        }


def test_ugc_posts_use_the_ugc_union_member(sim, http):
    share = next(s for s in sim.company.network_shares("linkedin") if s.post_id.startswith("urn:li:ugcPost:"))
    response = analytics(http, sim.linkedin_base_url, entity_of(share.post_id))
    assert response.status_code == 200
    assert "targetEntity" not in response.json()["elements"][0]  # undocumented: the simulator does not guess it
    assert response.json()["elements"][0]["count"] == sim.company.counters(share).impressions


@pytest.mark.parametrize(
    "entity_template",
    [
        "(share:urn:li:share:{n})",  # raw colons inside the union
        "%28share%3Aurn%3Ali%3Ashare%3A{n}%29",  # the union itself percent-encoded
        "(share:urn%253Ali%253Ashare%253A{n})",  # URN encoded twice
        "(ugc:urn%3Ali%3Ashare%3A{n})",  # union member does not match the URN type
        "urn%3Ali%3Ashare%3A{n}",  # no union
    ],
)
def test_entity_must_be_restli_2_encoded(sim, http, entity_template):
    share = next(s for s in sim.company.network_shares("linkedin") if s.post_id.startswith("urn:li:share:"))
    number = share.post_id.rsplit(":", 1)[1]
    response = analytics(http, sim.linkedin_base_url, entity_template.format(n=number))
    assert response.status_code == 400
    assert response.json()["code"] == "ILLEGAL_ARGUMENT"
    assert analytics(http, sim.linkedin_base_url, entity_of(share.post_id)).status_code == 200


def test_unknown_post_is_404_but_posts_older_than_the_window_are_known(sim, http):
    share = sim.company.network_shares("linkedin")[0]
    unknown = share.post_id[:-3] + ("000" if not share.post_id.endswith("000") else "001")
    response = analytics(http, sim.linkedin_base_url, entity_of(unknown))
    assert response.status_code == 404
    assert response.json()["status"] == 404

    older = next(s for s in sim.company.shares_on(AS_OF.date() - timedelta(days=80)) if s.network == "linkedin")
    response = analytics(http, sim.linkedin_base_url, entity_of(older.post_id))
    assert response.status_code == 200
    assert response.json()["elements"][0]["count"] == sim.company.counters(older).impressions > 0


def test_start_count_paging_has_no_total(sim, http):
    entity = entity_of(old_share_with_clicks(sim.company).post_id)
    first = analytics(http, sim.linkedin_base_url, entity, extra="&start=0&count=1").json()
    beyond = analytics(http, sim.linkedin_base_url, entity, extra="&start=1&count=1").json()
    assert first["paging"] == {"start": 0, "count": 1, "links": []}
    assert len(first["elements"]) == 1
    assert beyond == {"paging": {"start": 1, "count": 1, "links": []}, "elements": []}


def test_counters_never_decrease_when_as_of_moves_forward(sim, http, tmp_path):
    linkedin = sim.company.network_shares("linkedin")
    posts = [s.post_id for s in linkedin[-6:]] + [s.post_id for s in linkedin[::80]]
    readings = []
    for days_later in (0, 1, 3):
        if days_later == 0:
            readings.append(_read_all_metrics(http, sim.linkedin_base_url, posts))
            continue
        later_as_of = AS_OF + timedelta(days=days_later)
        with start(later_as_of, seed=7, drop_dir=tmp_path / f"drop{days_later}", token=TOKEN) as later:
            readings.append(_read_all_metrics(http, later.linkedin_base_url, posts))
    now, next_day, three_days = readings
    for key in now:
        assert now[key] <= next_day[key] <= three_days[key], key
    youngest_impressions = ("IMPRESSION", sim.company.network_shares("linkedin")[-1].post_id)
    assert now[youngest_impressions] < next_day[youngest_impressions] < three_days[youngest_impressions]


def _read_all_metrics(http, base_url, posts):
    counts = {}
    for post in posts:
        for query_type in METRIC_FIELDS:
            response = analytics(http, base_url, entity_of(post), query_type)
            assert response.status_code == 200
            counts[query_type, post] = response.json()["elements"][0]["count"]
    return counts


def test_daily_quota_gives_429_without_rate_limit_headers(http, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, linkedin_daily_quota=2) as limited:
        entity = entity_of(limited.company.network_shares("linkedin")[0].post_id)
        statuses = [analytics(http, limited.linkedin_base_url, entity).status_code for _ in range(2)]
        throttled = analytics(http, limited.linkedin_base_url, entity)
    assert statuses == [200, 200]
    assert throttled.status_code == 429
    body = throttled.json()
    assert {k: body[k] for k in ("status", "serviceErrorCode", "code")} == {
        "status": 429,
        "serviceErrorCode": 101,
        "code": "TOO_MANY_REQUESTS",
    }
    assert body["message"]
    assert not [name for name in throttled.headers if "ratelimit" in name.lower() or name.lower() == "retry-after"]


# --- Typeform --------------------------------------------------------------------------------------------------


def test_typeform_rejects_missing_token_and_unknown_form(sim, http):
    unauthenticated = http.get(responses_url(sim), timeout=5)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "AUTHENTICATION_FAILED"
    unknown = http.get(responses_url(sim, "motivation-1999w1"), headers=TYPEFORM_HEADERS, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "FORM_NOT_FOUND"


@pytest.mark.parametrize(("page_size", "status"), [("1001", 400), ("0", 400), ("many", 400), ("1000", 200)])
def test_typeform_page_size_is_at_most_1000(sim, http, page_size, status):
    response = http.get(responses_url(sim), params={"page_size": page_size}, headers=TYPEFORM_HEADERS, timeout=5)
    assert response.status_code == status
    if status == 400:
        body = response.json()
        assert body["code"] == "VALIDATION_ERROR"
        assert [(d["field"], d["in"]) for d in body["details"]] == [("page_size", "query")]


def test_typeform_default_page_is_25_newest_first(sim, http):
    body = http.get(responses_url(sim), headers=TYPEFORM_HEADERS, timeout=5).json()
    waves = json.loads(sim.truth_path.read_text())["survey"]["waves"]
    respondents = next(wave["respondents"] for wave in waves if wave["vendor"] == "typeform")
    assert body["total_items"] == respondents == len(typeform_responses(sim.company))
    assert body["page_count"] == math.ceil(respondents / 25)
    submitted = [item["submitted_at"] for item in body["items"]]
    assert len(submitted) == 25
    assert submitted == sorted(submitted, reverse=True)
    assert submitted[0] == iso_utc(typeform_responses(sim.company)[-1].submitted_at)


def test_typeform_item_carries_employee_and_answers_by_ref(sim, http):
    newest = typeform_responses(sim.company)[-1]
    (item,) = http.get(responses_url(sim), params={"page_size": 1}, headers=TYPEFORM_HEADERS, timeout=5).json()["items"]
    assert item["token"] == item["response_id"] == newest.token
    assert item["hidden"] == {"employee_id": newest.employee_id}
    assert [a["field"]["ref"] for a in item["answers"]] == [i.ref for i in SURVEY_ITEMS]
    assert {a["field"]["ref"]: a["number"] for a in item["answers"]} == dict(newest.answers)
    assert {(a["type"], a["field"]["type"]) for a in item["answers"]} == {("number", "opinion_scale")}


def test_typeform_after_cursor_visits_every_response_once(sim, http):
    params = {"page_size": 7, "sort": "submitted_at,asc"}
    seen, pages = [], 0
    while True:
        body = http.get(responses_url(sim), params=params, headers=TYPEFORM_HEADERS, timeout=5).json()
        if not body["items"]:
            break
        pages += 1
        seen += [item["token"] for item in body["items"]]
        params = {"page_size": 7, "after": body["items"][-1]["token"]}
    expected = [r.token for r in typeform_responses(sim.company)]
    assert seen == expected  # every response, once, in submission order
    assert pages == math.ceil(len(expected) / 7)


def test_typeform_before_cursor_pages_backwards_from_the_newest(sim, http):
    params = {"page_size": 10}
    seen = []
    while True:
        body = http.get(responses_url(sim), params=params, headers=TYPEFORM_HEADERS, timeout=5).json()
        if not body["items"]:
            break
        seen += [item["token"] for item in body["items"]]
        params = {"page_size": 10, "before": body["items"][-1]["token"]}
    assert seen == [r.token for r in reversed(typeform_responses(sim.company))]


def test_typeform_since_until_are_inclusive_iso_or_unix_seconds(sim, http):
    responses = typeform_responses(sim.company)
    first, fifth = responses[0], responses[4]
    params = {"since": iso_utc(first.submitted_at), "until": str(int(fifth.submitted_at.timestamp())), "page_size": 100}
    body = http.get(responses_url(sim), params=params, headers=TYPEFORM_HEADERS, timeout=5).json()
    assert body["total_items"] == 5
    assert {item["token"] for item in body["items"]} == {r.token for r in responses[:5]}
    one_second_later = iso_utc(fifth.submitted_at + timedelta(seconds=1))
    after_fifth = http.get(
        responses_url(sim), params={"since": one_second_later, "page_size": 1000}, headers=TYPEFORM_HEADERS, timeout=5
    ).json()
    assert after_fifth["total_items"] == len(responses) - 5


@pytest.mark.parametrize(
    ("name", "value"), [("sort", "submitted_at"), ("since", "yesterday"), ("after", "no-such-token")]
)
def test_typeform_invalid_parameters_are_validation_errors(sim, http, name, value):
    response = http.get(responses_url(sim), params={name: value}, headers=TYPEFORM_HEADERS, timeout=5)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == name


def test_typeform_only_completed_responses_exist(sim, http):
    partial = http.get(responses_url(sim), params={"response_type": "partial"}, headers=TYPEFORM_HEADERS, timeout=5)
    assert partial.json() == {"total_items": 0, "page_count": 0, "items": []}


def test_typeform_hides_responses_of_the_last_30_minutes(http, tmp_path):
    opens_on = date(2026, 11, 2)
    late_response = typeform_responses(Company(7, datetime(2026, 11, 20, tzinfo=UTC), opens_on))[9]
    cases = {timedelta(minutes=10): False, timedelta(minutes=29, seconds=59): False, timedelta(minutes=30): True}
    for delay, visible in cases.items():
        as_of = late_response.submitted_at + delay
        with start(as_of, drop_dir=tmp_path, token=TOKEN, survey_opens_on=opens_on) as running:
            assert late_response in typeform_responses(running.company)  # submitted before as_of…
            params = {"page_size": 1000}
            body = http.get(responses_url(running), params=params, headers=TYPEFORM_HEADERS, timeout=5).json()
        tokens = [item["token"] for item in body["items"]]
        assert (late_response.token in tokens) is visible, delay  # …but only returned 30 minutes later
        lag_start = as_of - timedelta(minutes=30)
        returned = [r.token for r in typeform_responses(running.company) if r.submitted_at <= lag_start]
        assert sorted(tokens) == sorted(returned)


# --- determinism, drop files, ground truth ------------------------------------------------------------------


def test_same_seed_and_as_of_give_the_same_company(sim, tmp_path):
    again = Company(7, AS_OF)
    assert again.ground_truth() == sim.company.ground_truth()
    assert again.shares == sim.company.shares
    assert again.survey_wave == sim.company.survey_wave
    for written in again.write_shares_drop(tmp_path):
        assert written.read_bytes() == (sim.truth_path.parent / "advocacy" / written.name).read_bytes()
    other_seed = Company(8, AS_OF)
    assert [s.post_id for s in other_seed.shares] != [s.post_id for s in again.shares]


def test_shares_drop_has_one_file_per_day_before_as_of(sim):
    folder = sim.truth_path.parent / "advocacy"
    expected_days = [AS_OF.date() - timedelta(days=n) for n in range(28, 0, -1)]
    assert sorted(p.name for p in folder.iterdir()) == [f"shares_{d.isoformat()}.csv" for d in expected_days]
    rows = []
    for day in expected_days:
        with (folder / f"shares_{day.isoformat()}.csv").open(newline="") as handle:
            reader = csv.DictReader(handle)
            assert tuple(reader.fieldnames) == SHARES_CSV_COLUMNS
            day_rows = list(reader)
        assert {row["shared_at"][:10] for row in day_rows} == {day.isoformat()}
        rows += day_rows
    truth = json.loads(sim.truth_path.read_text())
    assert len(rows) == truth["counts"]["shares"] == len(sim.company.shares)
    assert len({row["share_id"] for row in rows}) == len(rows)
    linkedin = [row for row in rows if row["network"] == "linkedin"]
    x = [row for row in rows if row["network"] == "x"]
    assert 300 <= len(linkedin) <= 550
    assert 0.1 * len(linkedin) <= len(x) <= 0.3 * len(linkedin)
    assert len(linkedin) + len(x) == len(rows)
    for row in x:
        assert re.fullmatch(r"\d{19}", row["post_id"])  # a tweet id
        assert re.fullmatch(r"sh-\d{8}-x\d\d", row["share_id"])
    rows = linkedin
    for row in rows:
        assert re.fullmatch(r"urn:li:(share|ugcPost):\d{19}", row["post_id"])
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["shared_at"])
        assert re.fullmatch(r"bit\.ly/[0-9A-Za-z]{7}", row["tracking_link"])
        assert row["network"] == "linkedin"
        assert row["share_mode"] in ("manual", "scheduled")
        assert row["copy_edited"] in ("true", "false")
        assert row["campaign"] in ("", "autumn-launch", "customer-stories", "hiring-week")
        assert int(row["audience_size"]) > 0
    ugc_fraction = sum(row["post_id"].startswith("urn:li:ugcPost:") for row in rows) / len(rows)
    assert 0.2 <= ugc_fraction <= 0.4
    assert {row["campaign"] == "" for row in rows} == {True, False}


def test_a_day_without_shares_gets_a_header_only_file(tmp_path):
    (path,) = write_shares_files(tmp_path, {date(2026, 11, 25): []})
    assert path == tmp_path / "advocacy" / "shares_2026-11-25.csv"
    assert path.read_text() == ",".join(SHARES_CSV_COLUMNS) + "\n"


def test_ground_truth_file(sim):
    truth = json.loads(sim.truth_path.read_text())
    assert truth["seed"] == 7
    assert truth["as_of"] == "2026-11-26T00:00:00Z"
    assert truth["ER_EFFECT"] == {"obligated": 0.5, "good_news": 1.3, "proud": 1.15, "educate": 0.9}
    assert truth["CTR_EFFECT"] == {"obligated": 0.6, "good_news": 1.0, "proud": 0.9, "educate": 1.5}
    assert truth["base_rates"]["engagement_rate"] == 0.03
    assert truth["base_rates"]["click_through_rate"] == 0.01
    assert truth["counts"]["employees"] == 60
    assert truth["counts"]["contents"] == 20
    assert truth["survey"]["form_ids"] == sim.form_ids == ["motivation-2026w40"]
    assert [(w["form_id"], w["vendor"]) for w in truth["survey"]["waves"]] == [
        ("motivation-2026w34", "qualtrics"),
        ("motivation-2026w40", "typeform"),
        ("motivation-2026w46", "surveymonkey"),
    ]
    impressions_as_of = {
        network: sum(sim.company.counters(s).impressions for s in sim.company.network_shares(network))
        for network in ("linkedin", "x")
    }
    assert truth["window_counters_as_of"]["impressions"] == impressions_as_of["linkedin"]  # LinkedIn's, as before X
    assert truth["window_counters_as_of_by_network"]["linkedin"]["impressions"] == impressions_as_of["linkedin"]
    assert truth["window_counters_as_of_by_network"]["x"]["impressions"] == impressions_as_of["x"] > 0
    assert truth["counts"]["shares_by_network"] == {"linkedin": 436, "x": 73}
    assert truth["counts"]["x_accounts"] == sum(e["x_account"] is not None for e in truth["employees"])
