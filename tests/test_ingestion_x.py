"""X API v2 post lookup against local servers that speak the documented contract: a stub for exact control, and the
simulator for a whole night."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from api_stubs import TOKEN, XStub, serve, share_line, write_shares_file, x_tweet
from consent_helpers import enrol_simulated_members

from ingestion.http import ApiConfig, RateLimitExceeded, RetryPolicy, SchemaDrift
from ingestion.raw_queries import SharedPost
from ingestion.records import Quarantined, Row
from ingestion.run import land_advocacy_shares, land_x_tweet_metrics
from ingestion.sources import x
from simulator.server import start

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
NIGHT = date(2026, 11, 25)
END = datetime(2026, 11, 26, tzinfo=UTC)


def tweet_id(n: int) -> str:
    return str(2_000_000_000_000_000_000 + n)


def posts(numbers: range, days_old: float) -> list[SharedPost]:
    return [SharedPost(tweet_id(n), END - timedelta(days=days_old)) for n in numbers]


def extract(base_url: str, shared: list[SharedPost], **client_options) -> tuple[list, x.TweetMetricsExtraction]:
    client = x.client(ApiConfig(f"{base_url}/x/2", TOKEN), retry=FAST, **client_options)
    extraction = x.TweetMetricsExtraction(client, shared, NIGHT)
    try:
        return list(extraction.records()), extraction
    finally:
        client.close()


def test_ids_go_in_batches_of_100_and_only_young_posts_ask_for_non_public_metrics():
    young, old = posts(range(150), days_old=3), posts(range(150, 180), days_old=40)
    stub = XStub({post.post_id: x_tweet(post.post_id) for post in young + old})
    with serve(stub) as base_url:
        records, extraction = extract(base_url, young + old)

    assert extraction.api_calls == 3
    all_fields = "tweet.fields=created_at,public_metrics,non_public_metrics,organic_metrics"
    assert stub.paths[0] == f"/x/2/tweets?ids={','.join(p.post_id for p in young[:100])}&{all_fields}"
    assert stub.paths[1] == f"/x/2/tweets?ids={','.join(p.post_id for p in young[100:])}&{all_fields}"
    assert stub.paths[2] == f"/x/2/tweets?ids={','.join(p.post_id for p in old)}&tweet.fields=created_at,public_metrics"
    assert stub.requests[0][1]["Authorization"] == f"Bearer {TOKEN}"
    assert [record.keys for record in records] == [(p.post_id, "app_public") for p in young + old]
    assert "non_public_metrics" in records[0].payload and "non_public_metrics" not in records[-1].payload


def test_a_deleted_post_is_quarantined_with_xs_reason_and_the_rest_of_the_page_lands():
    alive, deleted = posts(range(3), days_old=2), posts(range(3, 4), days_old=2)
    with serve(XStub({post.post_id: x_tweet(post.post_id) for post in alive})) as base_url:
        records, _ = extract(base_url, alive + deleted + [SharedPost("urn:li:share:1", END)])
    rows = [record for record in records if isinstance(record, Row)]
    quarantined = [record for record in records if isinstance(record, Quarantined)]
    assert [row.keys[0] for row in rows] == [post.post_id for post in alive]
    assert [q.reason for q in quarantined] == [
        "not an X post id: 'urn:li:share:1'",
        f"post not returned by X (Not Found Error): Could not find tweet with ids: [{deleted[0].post_id}].",
    ]


@pytest.mark.parametrize("tell_remaining", [False, True])
def test_a_spent_window_waits_until_the_epoch_second_in_x_rate_limit_reset(tell_remaining):
    shared = posts(range(101), days_old=2)
    stub = XStub({p.post_id: x_tweet(p.post_id) for p in shared}, limit=1, window=0.2, tell_remaining=tell_remaining)
    with serve(stub) as base_url:
        records, extraction = extract(base_url, shared)
    assert len(records) == 101
    statuses = [status for _, status, _ in stub.answered]
    if tell_remaining:  # the first answer said 0 calls remain: the next call waited for the reset, no 429
        assert statuses == [200, 200]
    else:  # the second call got the 429, waited for the reset it announced, and was sent again
        assert statuses == [200, 429, 200]
    assert extraction.api_calls == len(statuses)
    (first_at, _, reset), (last_at, _, _) = stub.answered[0], stub.answered[-1]
    assert reset <= last_at < reset + 1.0 and first_at < reset


def test_a_reset_beyond_the_longest_wait_fails_at_once_naming_the_reset_time():
    shared = posts(range(2), days_old=2)
    stub = XStub({post.post_id: x_tweet(post.post_id) for post in shared}, limit=0, window=3600.0)
    patience = dataclasses.replace(x.RATE_LIMIT, max_wait=2.0)
    with serve(stub) as base_url, pytest.raises(RateLimitExceeded) as raised:
        extract(base_url, shared, rate_limit=patience)
    message = str(raised.value)
    assert message.startswith(f"x: GET /tweets?ids={shared[0].post_id},")
    assert "HTTP 429 88: Rate limit exceeded" in message
    assert "the window resets at 20" in message and "beyond the 2 s a load waits" in message
    assert len(stub.requests) == 1


def test_a_post_without_public_metrics_is_quarantined_with_the_reason_and_the_rest_of_the_night_lands(
    fresh_db, tmp_path
):
    good, bad = tweet_id(1), tweet_id(2)
    lines = [share_line(f"s-{n}", post, "2026-11-25T09:00:00Z", network="x") for n, post in enumerate((good, bad))]
    write_shares_file(tmp_path, "2026-11-25", lines)
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    drifted = x_tweet(bad)
    drifted["publicMetrics"] = drifted.pop("public_metrics")
    with serve(XStub({good: x_tweet(good), bad: drifted})) as base_url:
        report = land_x_tweet_metrics(fresh_db, NIGHT, ApiConfig(f"{base_url}/x/2", TOKEN), retry=FAST)
    assert (report.rows_inserted, report.rows_quarantined) == (1, 1)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select tweet_id from raw.x__tweet_metrics").fetchall() == [(good,)]
        assert conn.execute("select status from raw._loads where source = 'x'").fetchone() == ("success",)
        reason, record = conn.execute("select reason, record from raw._quarantine where source = 'x'").fetchone()
    assert reason == f"post {bad} has no `public_metrics` object"
    assert json.loads(record)["id"] == bad and "publicMetrics" in json.loads(record)


def test_a_night_where_no_post_has_public_metrics_is_schema_drift_and_fails_the_load(fresh_db, tmp_path):
    ids = [tweet_id(1), tweet_id(2)]
    lines = [share_line(f"s-{n}", post, "2026-11-25T09:00:00Z", network="x") for n, post in enumerate(ids)]
    write_shares_file(tmp_path, "2026-11-25", lines)
    land_advocacy_shares(fresh_db, NIGHT, tmp_path)
    drifted = {post: x_tweet(post) for post in ids}
    for tweet in drifted.values():
        tweet["publicMetrics"] = tweet.pop("public_metrics")
    with serve(XStub(drifted)) as base_url, pytest.raises(SchemaDrift) as raised:
        land_x_tweet_metrics(fresh_db, NIGHT, ApiConfig(f"{base_url}/x/2", TOKEN), retry=FAST)
    assert "HTTP 200 SCHEMA_DRIFT: no post of the night has a `public_metrics` object (2 posts)" in str(raised.value)
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select count(*) from raw.x__tweet_metrics").fetchone() == (0,)
        assert conn.execute("select status from raw._loads where source = 'x'").fetchone() == ("failed",)


def test_a_night_against_the_simulator_lands_every_x_post_once_and_quarantines_the_deleted(fresh_db, tmp_path):
    with start(END, seed=7, drop_dir=tmp_path, token=TOKEN) as sim:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        enrol_simulated_members(fresh_db, sim)
        api = ApiConfig(sim.x_base_url, TOKEN)
        first = land_x_tweet_metrics(fresh_db, NIGHT, api, retry=FAST)
        rerun = land_x_tweet_metrics(fresh_db, NIGHT, api, retry=FAST)

    shares = sim.company.network_shares("x")
    deleted = [s for s in shares if sim.company.is_deleted(s)]
    alive = len(shares) - len(deleted)
    assert (first.rows_received, first.rows_inserted, first.rows_quarantined) == (len(shares), alive, len(deleted))
    # every post younger than 29 days, read with its author's own token: one call of up to 100 ids per author
    assert first.api_calls == len({s.employee_id for s in shares})
    # the rerun refuses the deleted posts again, as they were: already in raw._quarantine, so duplicates there too
    assert (rerun.rows_inserted, rerun.rows_duplicate, rerun.rows_quarantined) == (0, len(shares), 0)
    with psycopg.connect(fresh_db) as conn:
        landed = dict(
            conn.execute(
                "select tweet_id, (payload->'non_public_metrics'->>'url_link_clicks')::int from raw.x__tweet_metrics"
            ).fetchall()
        )
        reasons = conn.execute("select reason from raw._quarantine where source = 'x'").fetchall()
    alive = [s for s in shares if s not in deleted]
    assert landed == {s.post_id: sim.company.counters(s).link_clicks for s in alive}
    assert all(reason.startswith("post not returned by X (Not Found Error)") for (reason,) in reasons)
    assert len(reasons) == len(deleted) > 0


def test_member_shards_land_at_once_each_its_own_load_and_a_failed_shard_is_rerun_alone(fresh_db, tmp_path):
    """Two shards of the members (ingestion/shards.py), each its own transaction with its own raw._loads row,
    together land what one whole load lands. A shard never waits for another (while shard 1's lock is held, shard 2
    lands); a shard that fails loses only its own part, and running it again completes the night."""
    from concurrent.futures import ThreadPoolExecutor

    from ingestion.http import ApiError
    from ingestion.shards import Shard

    first, second = Shard(0, 2), Shard(1, 2)
    with start(END, seed=7, drop_dir=tmp_path, token=TOKEN) as sim:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        enrol_simulated_members(fresh_db, sim)
        api = ApiConfig(sim.x_base_url, TOKEN)
        unreachable = ApiConfig("http://127.0.0.1:9/x/2", TOKEN)  # the discard port: nothing listens
        with psycopg.connect(fresh_db) as holder, holder.transaction(), ThreadPoolExecutor(1) as pool:
            # what a running shard 1 holds (and, before shards, every load of the target held)
            holder.execute(
                "select pg_advisory_xact_lock(hashtext('x.tweet_metrics shard 1/2')),"
                " pg_advisory_xact_lock(hashtext('x.tweet_metrics'))"
            )
            with pytest.raises((ApiError, OSError)):
                pool.submit(land_x_tweet_metrics, fresh_db, NIGHT, unreachable, retry=FAST, shard=second).result(30)
            landed_second = pool.submit(land_x_tweet_metrics, fresh_db, NIGHT, api, retry=FAST, shard=second).result(30)
        landed_first = land_x_tweet_metrics(fresh_db, NIGHT, api, retry=FAST, shard=first)

    shares = sim.company.network_shares("x")
    alive = [s for s in shares if not sim.company.is_deleted(s)]
    by_shard = {shard: [s for s in alive if shard.owns(s.employee_id)] for shard in (first, second)}
    assert by_shard[first] and by_shard[second]  # the members do split
    assert (landed_first.rows_inserted, landed_second.rows_inserted) == (len(by_shard[first]), len(by_shard[second]))
    with psycopg.connect(fresh_db) as conn:
        landed = {r[0] for r in conn.execute("select tweet_id from raw.x__tweet_metrics").fetchall()}
        loads = conn.execute(
            "select status, count(*) from raw._loads where source = 'x' group by status order by status"
        ).fetchall()
    assert landed == {s.post_id for s in alive}  # both shards together: every post, once
    assert loads == [("failed", 1), ("success", 2)]
