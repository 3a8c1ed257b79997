"""LinkedIn memberCreatorPostAnalytics against a local server that speaks the documented contract."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
from api_stubs import METRIC_TYPE_UNION_KEY, TOKEN, LinkedInStub, serve, share_line, write_shares_file
from consent_helpers import give_tokens

from ingestion.http import ApiConfig, RateLimitExceeded, RetryPolicy
from ingestion.records import Quarantined, Row
from ingestion.run import land_advocacy_shares, land_linkedin_post_analytics
from ingestion.sources import linkedin

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
SHARE = "urn:li:share:7000000000000000001"
UGC_POST = "urn:li:ugcPost:7000000000000000002"
NIGHT = date(2026, 11, 25)


def counts(impressions: int) -> dict[str, int]:
    return {
        "IMPRESSION": impressions,
        "MEMBERS_REACHED": int(impressions * 0.8),
        "REACTION": 7,
        "COMMENT": 2,
        "RESHARE": 1,
        "LINK_CLICKS": 3,
    }


def extract(
    base_url: str, post_urns: list[str], version: str | None = None
) -> tuple[list, linkedin.PostAnalyticsExtraction]:
    api = ApiConfig(f"{base_url}/linkedin/rest", TOKEN, version)
    client = linkedin.client(api, retry=FAST)
    extraction = linkedin.PostAnalyticsExtraction(client, linkedin.version_of(api), post_urns, NIGHT)
    try:
        return list(extraction.records()), extraction
    finally:
        client.close()


def test_post_urns_become_restli_unions_with_the_urn_encoded_inside():
    assert linkedin.restli_entity(SHARE) == "(share:urn%3Ali%3Ashare%3A7000000000000000001)"
    assert linkedin.restli_entity(UGC_POST) == "(ugc:urn%3Ali%3AugcPost%3A7000000000000000002)"
    with pytest.raises(ValueError, match="not a LinkedIn post URN"):
        linkedin.restli_entity("urn:li:activity:1")


def test_requests_go_out_exactly_as_the_contract_says():
    stub = LinkedInStub({SHARE: counts(1000), UGC_POST: counts(500)})
    with serve(stub) as base_url:
        records, extraction = extract(base_url, [SHARE, UGC_POST])

    assert stub.paths[0] == (
        "/linkedin/rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn%3Ali%3Ashare%3A7000000000000000001)"
        "&queryType=IMPRESSION&aggregation=TOTAL&start=0&count=10"
    )
    assert "entity=(ugc:urn%3Ali%3AugcPost%3A7000000000000000002)&queryType=LINK_CLICKS" in stub.paths[-1]
    path, headers = stub.requests[0]
    assert headers["LinkedIn-Version"] == "202606"
    assert headers["X-Restli-Protocol-Version"] == "2.0.0"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert extraction.api_calls == 12
    assert [record.keys for record in records] == [(urn, q) for urn in (SHARE, UGC_POST) for q in linkedin.QUERY_TYPES]
    assert records[0].payload["count"] == 1000
    assert records[0].request == f"{base_url}{path}"


@pytest.mark.parametrize(("version", "shape"), [("202604", "union object"), ("202606", "plain string")])
def test_metric_type_is_normalised_from_either_shape_and_the_payload_kept_as_returned(version, shape):
    with serve(LinkedInStub({SHARE: counts(1000)})) as base_url:
        records, _ = extract(base_url, [SHARE], version)
    assert [record.keys[1] for record in records] == list(linkedin.QUERY_TYPES)
    returned = records[0].payload["metricType"]
    assert returned == ({METRIC_TYPE_UNION_KEY: "IMPRESSION"} if shape == "union object" else "IMPRESSION")


def test_link_clicks_is_only_asked_of_versions_that_serve_it():
    stub = LinkedInStub({SHARE: counts(1000)})
    with serve(stub) as base_url:
        records, _ = extract(base_url, [SHARE], "202601")
    assert [record.keys[1] for record in records] == ["IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE"]
    assert not any("LINK_CLICKS" in path for path in stub.paths)


def test_429_without_headers_fails_after_bounded_backoff_pointing_at_midnight_utc():
    stub = LinkedInStub({SHARE: counts(1000)}, daily_quota=2)
    with serve(stub) as base_url, pytest.raises(RateLimitExceeded) as raised:
        extract(base_url, [SHARE])
    assert len(stub.requests) == 2 + linkedin.RATE_LIMIT.retries + 1
    message = str(raised.value)
    assert "HTTP 429 TOO_MANY_REQUESTS (serviceErrorCode 101)" in message
    assert "resets at midnight UTC" in message
    assert "queryType=REACTION" in message


def test_a_sunset_version_fails_at_once_telling_to_roll_it_forward():
    stub = LinkedInStub({SHARE: counts(1000)}, oldest_version="202607")
    with serve(stub) as base_url, pytest.raises(linkedin.VersionNotActive) as raised:
        extract(base_url, [SHARE])
    assert len(stub.requests) == 1
    message = str(raised.value)
    assert message.startswith("linkedin: GET /memberCreatorPostAnalytics?q=entity")
    assert "HTTP 426 NONEXISTENT_VERSION: Requested version 202606 is not active" in message
    assert "roll the version forward" in message


def test_an_unknown_post_is_quarantined_once_and_the_others_still_land():
    gone = "urn:li:share:7000000000000000099"
    with serve(LinkedInStub({SHARE: counts(1000)})) as base_url:
        records, extraction = extract(base_url, [gone, SHARE, "urn:li:activity:5"])
    quarantined = [record for record in records if isinstance(record, Quarantined)]
    assert [q.reason.split(":")[0] for q in quarantined] == [
        "post unknown to LinkedIn (deleted, or not the member's)",
        "not a LinkedIn post URN (urn",
    ]
    assert "HTTP 404 NOT_FOUND" in quarantined[0].reason
    assert sum(isinstance(record, Row) for record in records) == 6
    assert extraction.api_calls == 1 + 6


def test_nightly_load_measures_recent_linkedin_posts_and_a_rerun_adds_nothing(fresh_db, tmp_path):
    old = "urn:li:share:7000000000000000010"
    later = "urn:li:share:7000000000000000011"
    write_shares_file(tmp_path, "2026-08-20", [share_line("s-old", old, "2026-08-20T10:00:00Z")])
    write_shares_file(
        tmp_path,
        "2026-11-25",
        [
            share_line("s-1", SHARE, "2026-11-25T10:00:00Z"),
            share_line("s-2", UGC_POST, "2026-11-25T23:59:59Z"),
            share_line("s-3", "urn:li:share:7000000000000000012", "2026-11-25T11:00:00Z", network="x"),
        ],
    )
    write_shares_file(tmp_path, "2026-11-26", [share_line("s-later", later, "2026-11-26T00:00:00Z")])
    land_advocacy_shares(fresh_db, date(2026, 11, 26), tmp_path)
    stub = LinkedInStub({SHARE: counts(1000), UGC_POST: counts(500), old: counts(1), later: counts(1)})

    give_tokens(fresh_db, "linkedin", ["e-0001"], TOKEN)  # the sharer's own member token (the stub's one token)
    with serve(stub) as base_url:
        api = ApiConfig(f"{base_url}/linkedin/rest", TOKEN)
        first = land_linkedin_post_analytics(fresh_db, NIGHT, api)
        rerun = land_linkedin_post_analytics(fresh_db, NIGHT, api)

    assert (first.rows_received, first.rows_inserted, first.rows_duplicate, first.api_calls) == (12, 12, 0, 12)
    assert (rerun.rows_received, rerun.rows_inserted, rerun.rows_duplicate) == (12, 0, 12)
    with psycopg.connect(fresh_db) as conn:
        landed = conn.execute(
            "select post_urn, count(*), max(_request) from raw.linkedin__member_post_analytics group by 1 order by 1"
        ).fetchall()
        impressions = conn.execute(
            "select (payload->>'count')::int from raw.linkedin__member_post_analytics"
            " where post_urn = %s and metric_type = 'IMPRESSION'",
            (SHARE,),
        ).fetchone()[0]
    assert [(urn, n) for urn, n, _ in landed] == [(SHARE, 6), (UGC_POST, 6)]
    endpoint = f"{base_url}/linkedin/rest/memberCreatorPostAnalytics?q=entity"
    assert all(request.startswith(endpoint) for *_, request in landed)
    assert impressions == 1000
