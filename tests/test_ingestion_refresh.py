"""The metric refresh schedule: young posts every night, older ones weekly, none past 90 days — and what it saves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from api_stubs import TOKEN, BitlyStub, LinkedInStub, bitly_buckets, serve, share_line, write_shares_file
from consent_helpers import give_tokens

from ingestion.http import ApiConfig
from ingestion.loader import apply_raw_schema
from ingestion.raw_queries import end_of, last_fetched
from ingestion.refresh import DEFAULT, RefreshPolicy
from ingestion.run import land_advocacy_shares, land_bitly_link_clicks, land_linkedin_post_analytics

NIGHT = date(2026, 11, 25)
END = datetime(2026, 11, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("age_days", "last_fetched_days_ago", "due"),
    [
        (0.5, None, True),  # never fetched
        (3.5, 1, True),  # young: every night
        (7.5, 1, True),
        (10.5, None, True),  # older but never fetched: at once
        (10.5, 1, False),  # weekly: not its day (10 days old)
        (14.5, 1, True),  # its weekly day: 14 days old
        (12.5, 8, True),  # more than a week unfetched (a missed night): at once
        (84.5, 7, True),
        (91.5, None, False),  # past the last step: never again
    ],
)
def test_the_default_schedule_is_nightly_for_a_week_then_weekly_up_to_90_days(age_days, last_fetched_days_ago, due):
    last = None if last_fetched_days_ago is None else NIGHT - timedelta(days=last_fetched_days_ago)
    assert DEFAULT.is_due(END - timedelta(days=age_days), NIGHT, last) is due


def test_the_schedule_is_configurable_and_checked():
    policy = RefreshPolicy.parse("2:1, 30:3")
    assert policy.horizon == timedelta(days=30)
    assert policy.is_due(END - timedelta(days=5.5), NIGHT, NIGHT - timedelta(days=2)) is False  # 5 days old
    assert policy.is_due(END - timedelta(days=6.5), NIGHT, NIGHT - timedelta(days=2)) is True  # 6 days old
    for spec in ("", "7", "7:0", "90:7,7:1", "a:b"):
        with pytest.raises(ValueError):
            RefreshPolicy.parse(spec)


def test_ten_nights_fetch_young_posts_nightly_and_old_ones_weekly(fresh_db, tmp_path):
    young, old = "urn:li:share:7000000000000000001", "urn:li:share:7000000000000000002"
    write_shares_file(tmp_path, "2026-11-05", [share_line("s-old", old, "2026-11-05T10:00:00Z")])
    write_shares_file(tmp_path, "2026-11-23", [share_line("s-young", young, "2026-11-23T10:00:00Z")])
    write_shares_file(tmp_path, NIGHT.isoformat(), [])  # the night's export: no shares that day
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    counts = {q: 1 for q in ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")}
    nights = [NIGHT - timedelta(days=n) for n in range(9, -1, -1)]
    give_tokens(fresh_db, "linkedin", ["e-0001"], TOKEN)  # the sharer's member token (the stub takes one token)
    with serve(LinkedInStub({young: counts, old: counts})) as base_url:
        api = ApiConfig(f"{base_url}/linkedin/rest", TOKEN)
        calls = [land_linkedin_post_analytics(fresh_db, night, api).api_calls for night in nights]
        rerun = land_linkedin_post_analytics(fresh_db, NIGHT, api)
    with psycopg.connect(fresh_db) as conn:
        fetched = conn.execute(
            "select post_urn, array_agg(distinct _logical_date order by _logical_date)"
            " from raw.linkedin__member_post_analytics group by 1"
        ).fetchall()
    assert dict(fetched) == {
        old: [date(2026, 11, 16), date(2026, 11, 19)],  # 11 days old when first seen, then on its weekly day (14)
        young: [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)],  # every night from its share
    }
    assert sum(calls) == 6 * 5  # every night for both would have been 6 × 13
    assert rerun.api_calls == calls[-1]  # a rerun of a night asks for the same posts


def test_bitly_links_of_old_shares_wait_for_their_weekly_day_then_get_all_their_days_in_one_call(fresh_db, tmp_path):
    write_shares_file(tmp_path, "2026-11-05", [share_line("s-1", "urn:li:share:1", "2026-11-05T10:00:00Z")])
    write_shares_file(tmp_path, NIGHT.isoformat(), [])  # the night's export: no shares that day
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    days = [NIGHT - timedelta(days=n) for n in range(30)]
    stub = BitlyStub(lambda path: bitly_buckets(*((day.isoformat(), 1) for day in days)))
    with serve(stub) as base_url:
        api = ApiConfig(f"{base_url}/bitly/v4", TOKEN)
        for night in [NIGHT - timedelta(days=n) for n in range(9, -1, -1)]:
            land_bitly_link_clicks(fresh_db, night, api, now=END)
    # The first night (11-16) gets 11-05…16; the next call waits for the link's weekly day (14 days after its share,
    # 11-19) and gets the days since; the nights after wait for the next one (11-26).
    assert [path.split("units=")[1].split("&")[0] for path in stub.paths] == ["12", "3"]
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*), max(click_date) from raw.bitly__link_clicks").fetchone() == (
            15,
            date(2026, 11, 19),
        )


def test_last_fetched_reads_the_fetches_of_posts_within_the_horizon_only(fresh_db):
    """Bounded through the index on _extracted_at: a post's fetches were extracted after it was shared, so those of
    the posts the schedule can find due (shared within its horizon) are all there; an older post's may not be."""
    old, oldest_due, young = "urn:li:share:1", "urn:li:share:2", "urn:li:share:3"
    fetches = {
        old: NIGHT - timedelta(days=95),
        oldest_due: NIGHT - timedelta(days=89),
        young: NIGHT - timedelta(days=3),
    }
    with psycopg.connect(fresh_db) as conn:
        apply_raw_schema(conn)
        for urn, night in fetches.items():  # each fetched on the night it was shared, 30 minutes after it ended
            conn.execute(
                "insert into raw.linkedin__member_post_analytics values"
                " (%s, 'IMPRESSION', '{}', gen_random_uuid(), %s, %s, 'test')",
                (urn, end_of(night) + timedelta(minutes=30), night),
            )

    assert last_fetched(fresh_db, "linkedin__member_post_analytics", "post_urn", NIGHT, DEFAULT.horizon) == {
        oldest_due: fetches[oldest_due],
        young: fetches[young],
    }
    assert last_fetched(fresh_db, "linkedin__member_post_analytics", "post_urn", NIGHT, timedelta(days=200)) == fetches
