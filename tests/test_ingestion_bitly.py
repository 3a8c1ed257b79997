"""Bitly v4 link clicks against local servers that speak the documented contract: the simulator for whole nights and
its quotas, a stub for exact requests and a drifted envelope."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from api_stubs import TOKEN, BitlyStub, bitly_buckets, serve, share_line, write_shares_file

from ingestion.http import ApiConfig, RateLimitExceeded, RetryPolicy, SchemaDrift
from ingestion.refresh import RefreshPolicy
from ingestion.run import land_advocacy_shares, land_bitly_link_clicks
from simulator.company import Company
from simulator.server import start

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
NIGHT = date(2026, 11, 25)
MORNING_AFTER = datetime(2026, 11, 26, 5, tzinfo=UTC)


def test_the_request_and_only_complete_days_up_to_the_logical_date(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-23", [share_line("s-1", "urn:li:share:1", "2026-11-23T09:00:00Z")])
    write_shares_file(tmp_path, NIGHT.isoformat(), [])  # the night's export: no shares that day
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    answer = bitly_buckets(("2026-11-26", 9), ("2026-11-25", 4), ("2026-11-24", 0), ("2026-11-23", 2))
    stub = BitlyStub(lambda path: answer)
    with serve(stub) as base_url:
        api = ApiConfig(f"{base_url}/bitly/v4", TOKEN)
        report = land_bitly_link_clicks(fresh_db, NIGHT, api, retry=FAST, now=MORNING_AFTER)

    assert stub.paths == [
        "/bitly/v4/bitlinks/bit.ly/abc1234/clicks?unit=day&units=3&unit_reference=2026-11-26T00%3A00%3A00%2B0000"
    ]
    assert stub.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
    assert (report.rows_received, report.rows_inserted, report.api_calls) == (3, 3, 1)
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute("select click_date, payload from raw.bitly__link_clicks order by 1").fetchall()
        state = conn.execute("select state from raw._ingestion_state where source = 'bitly'").fetchone()[0]
    assert rows == [
        (date(2026, 11, 23), {"clicks": 2, "date": "2026-11-23T00:00:00+0000"}),
        (date(2026, 11, 24), {"clicks": 0, "date": "2026-11-24T00:00:00+0000"}),
        (date(2026, 11, 25), {"clicks": 4, "date": "2026-11-25T00:00:00+0000"}),
    ]
    assert state == {"last_day": {"bit.ly/abc1234": "2026-11-25"}}


def test_a_day_that_has_not_ended_is_not_asked_for(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-23", [share_line("s-1", "urn:li:share:1", "2026-11-23T09:00:00Z")])
    write_shares_file(tmp_path, NIGHT.isoformat(), [])  # the night's export: no shares that day
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    stub = BitlyStub(lambda path: bitly_buckets(("2026-11-24", 1), ("2026-11-23", 2)))
    with serve(stub) as base_url:
        api = ApiConfig(f"{base_url}/bitly/v4", TOKEN)
        land_bitly_link_clicks(fresh_db, NIGHT, api, now=datetime(2026, 11, 25, 20, tzinfo=UTC))
    assert stub.paths[0].endswith("units=2&unit_reference=2026-11-25T00%3A00%3A00%2B0000")


def test_a_v3_envelope_is_schema_drift_and_lands_nothing(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-25", [share_line("s-1", "urn:li:share:1", "2026-11-25T09:00:00Z")])
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    v3 = {"data": {"link_clicks": [{"clicks": 1, "dt": 1700000000}]}, "status_code": 200, "status_txt": "OK"}
    with serve(BitlyStub(lambda path: v3)) as base_url, pytest.raises(SchemaDrift) as raised:
        land_bitly_link_clicks(fresh_db, NIGHT, ApiConfig(f"{base_url}/bitly/v4", TOKEN), now=MORNING_AFTER)
    assert str(raised.value).startswith("bitly: GET /bitlinks/bit.ly/abc1234/clicks?unit=day&units=1")
    assert "SCHEMA_DRIFT: the answer has no `link_clicks` list" in str(raised.value)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with start(AS_OF, seed=7, drop_dir=tmp_path_factory.mktemp("drop"), token=TOKEN) as running:
        yield running


def test_nights_against_the_simulator_land_each_complete_day_of_each_link_once(sim, fresh_db):
    night = date(2026, 11, 5)  # early in the simulated window: fewer links, same contract
    land_advocacy_shares(fresh_db, night, sim.truth_path.parent)
    api, nightly = ApiConfig(sim.bitly_base_url, TOKEN), RefreshPolicy.parse("90:1")
    options = dict(retry=FAST, now=MORNING_AFTER, refresh=nightly)
    night_before = land_bitly_link_clicks(fresh_db, night - timedelta(days=1), api, **options)
    first = land_bitly_link_clicks(fresh_db, night, api, **options)
    rerun = land_bitly_link_clicks(fresh_db, night, api, **options)

    shares = [share for share in sim.company.shares if share.shared_at.date() <= night]
    first_day: dict[str, date] = {}
    for share in shares:
        first_day.setdefault(share.tracking_link, share.shared_at.date())
    links_before = {link for link, day in first_day.items() if day <= night - timedelta(days=1)}
    assert night_before.api_calls == len(links_before)
    assert first.api_calls == len(first_day)  # every night, one call per link for the new day (or its first days)
    assert rerun.api_calls == 0 and rerun.rows_received == 0  # every complete day has landed
    expected_rows = sum((night - day).days + 1 for day in first_day.values())
    assert night_before.rows_inserted + first.rows_inserted == expected_rows

    with psycopg.connect(fresh_db) as conn:
        query = "select bitlink, click_date, (payload->>'clicks')::int from raw.bitly__link_clicks"
        landed = conn.execute(query).fetchall()
    assert all(clicks == sim.company.tracking_link_clicks(link, day) for link, day, clicks in landed)
    tracked = defaultdict(int)
    for link, _, clicks in landed:
        tracked[link] += clicks
    platform = defaultdict(int)  # each post's link clicks by the end of the night (what Bitly has seen of them)
    at_night_end = Company(7, night + timedelta(days=1))
    for share in shares:
        platform[share.tracking_link] += at_night_end.counters(share).link_clicks
    assert all(tracked[link] >= platform[link] for link in first_day)  # every source, not only the posts
    assert sum(tracked.values()) > sum(platform.values())


def test_the_monthly_quota_stops_the_load_at_once_with_a_clear_error(fresh_db, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, bitly_monthly_quota=2) as limited:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        with pytest.raises(RateLimitExceeded) as raised:
            land_bitly_link_clicks(fresh_db, NIGHT, ApiConfig(limited.bitly_base_url, TOKEN), now=MORNING_AFTER)
    message = str(raised.value)
    assert message.startswith("bitly: GET /bitlinks/bit.ly/")
    assert "HTTP 429 MONTHLY_LIMIT_EXCEEDED: You have exceeded your monthly limit for this resource." in message
    assert "retrying will not help" in message
    with psycopg.connect(fresh_db) as conn:
        load = conn.execute("select status, api_calls from raw._loads where source = 'bitly'").fetchone()
        assert conn.execute("select count(*) from raw.bitly__link_clicks").fetchone() == (0,)
    assert load == ("failed", 3)  # two answered, the third refused, none retried


def test_a_403_with_a_rate_limit_reason_is_backed_off_then_fails_naming_the_reason(fresh_db, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, bitly_rate_limit=(2, 60.0)) as limited:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        with pytest.raises(RateLimitExceeded) as raised:
            api = ApiConfig(limited.bitly_base_url, TOKEN)
            land_bitly_link_clicks(fresh_db, NIGHT, api, retry=FAST, now=MORNING_AFTER)
    assert "HTTP 403 FORBIDDEN: You are currently forbidden to access this resource." in str(raised.value)
    assert "(X-Ratelimit-Reason: RATE_LIMIT_PER_MINUTE)" in str(raised.value)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select api_calls from raw._loads where source = 'bitly'").fetchone() == (2 + 1 + 3,)
