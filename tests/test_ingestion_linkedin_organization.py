"""The company page's LinkedIn statistics (per day and per post) against the simulator that speaks the contract."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from ingestion.http import ApiConfig, RetryPolicy
from ingestion.paging import OffsetPaging
from ingestion.run import land_linkedin_organization_statistics
from ingestion.sources import linkedin_organization
from simulator.server import start

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
NIGHT = date(2026, 11, 25)
TOKEN = "linkedin-org-ingestion-token"


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with start(AS_OF, seed=7, drop_dir=tmp_path_factory.mktemp("drop"), token=TOKEN) as running:
        yield running


def test_rest_li_2_literals_for_days_and_post_lists():
    assert linkedin_organization.time_intervals(date(2026, 11, 24), date(2026, 11, 25)) == (
        "(timeRange:(start:1795478400000,end:1795651200000),timeGranularityType:DAY)"
    )
    assert linkedin_organization.post_lists(["urn:li:share:1", "urn:li:ugcPost:2", "urn:li:share:3"]) == [
        ("shares", "List(urn%3Ali%3Ashare%3A1,urn%3Ali%3Ashare%3A3)"),
        ("ugcPosts", "List(urn%3Ali%3AugcPost%3A2)"),
    ]


def test_a_night_lands_each_day_once_and_every_recent_page_post(sim, fresh_db, monkeypatch):
    monkeypatch.setattr(linkedin_organization, "POSTS_PER_CALL", 20)
    api, organization = ApiConfig(sim.linkedin_base_url, TOKEN), sim.company.organization_urn
    daily, posts = land_linkedin_organization_statistics(fresh_db, NIGHT, api, organization, retry=FAST)
    daily_rerun, posts_rerun = land_linkedin_organization_statistics(fresh_db, NIGHT, api, organization, retry=FAST)

    page_posts = sim.company.page_posts(NIGHT - timedelta(days=89))
    assert (daily.rows_inserted, daily.api_calls) == (28, 1)
    assert (daily_rerun.rows_received, daily_rerun.api_calls) == (0, 0)  # every day up to the night has landed
    assert posts.rows_inserted == len(page_posts) > 40
    assert posts.api_calls == 1 + -(-len(page_posts) // 20)  # the finder's one page, then 20 posts a call
    assert (posts_rerun.rows_inserted, posts_rerun.rows_duplicate) == (0, len(page_posts))

    with psycopg.connect(fresh_db) as conn:
        days = conn.execute(
            "select day, (payload->'totalShareStatistics'->>'impressionCount')::int, _request"
            " from raw.linkedin__organization_daily_statistics order by day"
        ).fetchall()
        likes = dict(
            conn.execute(
                "select post_urn, (payload->'totalShareStatistics'->>'likeCount')::int"
                " from raw.linkedin__organization_post_statistics"
            ).fetchall()
        )
    assert [day for day, _, _ in days] == [NIGHT - timedelta(days=n) for n in range(27, -1, -1)]
    first_day = datetime.combine(days[0][0], datetime.min.time(), UTC)
    expected = sum(
        sim.company.page_post_counters(p, first_day + timedelta(days=1))["impressions"]
        - sim.company.page_post_counters(p, first_day)["impressions"]
        for p in sim.company.page_posts(days[0][0] - timedelta(days=60))
    )
    assert days[0][1] == expected
    assert "&timeIntervals=(timeRange:(start:" in days[0][2]
    assert likes == {p.post_urn: sim.company.page_post_counters(p)["likes"] for p in page_posts}


def test_statistics_are_paged_like_every_finder_so_no_day_or_post_is_left_behind(sim, fresh_db, monkeypatch):
    monkeypatch.setattr(linkedin_organization, "STATISTICS_PAGING", OffsetPaging(count=7, records_key="elements"))
    monkeypatch.setattr(linkedin_organization, "POSTS_PER_CALL", 20)
    api, organization = ApiConfig(sim.linkedin_base_url, TOKEN), sim.company.organization_urn
    daily, posts = land_linkedin_organization_statistics(fresh_db, NIGHT, api, organization, retry=FAST)

    page_posts = sim.company.page_posts(NIGHT - timedelta(days=89))
    assert (daily.rows_inserted, daily.rows_quarantined, daily.api_calls) == (28, 0, 5)  # 4 full pages, 1 empty
    assert (posts.rows_inserted, posts.rows_quarantined) == (len(page_posts), 0)
    batches = [min(20, len(page_posts) - start) for start in range(0, len(page_posts), 20)]
    assert posts.api_calls == 1 + sum(size // 7 + 1 for size in batches)  # the finder, then each batch's pages
    with psycopg.connect(fresh_db) as conn:
        requests = [r for (r,) in conn.execute("select _request from raw.linkedin__organization_daily_statistics")]
    assert {r.rpartition("&start=")[2] for r in requests} == {"0&count=7", "7&count=7", "14&count=7", "21&count=7"}
