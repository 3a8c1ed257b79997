"""The simulator speaks the documented X API v2 contract (post lookup, user timelines, rate limits) over real HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from simulator.consent import member_access_token
from simulator.server import start

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
TOKEN = "x-simulator-test-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
ALL_METRICS = "created_at,public_metrics,non_public_metrics,organic_metrics"


def lookup(http, sim, ids, fields=ALL_METRICS, headers=HEADERS):
    params = {"ids": ",".join(ids), "tweet.fields": fields}
    return http.get(f"{sim.x_base_url}/tweets", params=params, headers=headers, timeout=5)


def old_tweet(company, author=None):
    """A tweet older than 30 days, from the history before the shares window (by `author`, if given)."""
    day = AS_OF.date() - timedelta(days=45)
    return next(
        s
        for n in range(60)
        for s in company.shares_on(day - timedelta(days=n))
        if s.network == "x" and author in (None, s.employee_id)
    )


def as_author(employee_id: str) -> dict[str, str]:
    """The user-context token of a member (OAuth 2.0 with PKCE, issued by the simulator)."""
    return {"Authorization": f"Bearer {member_access_token(TOKEN, 'x', employee_id)}"}


def test_lookup_returns_the_counters_and_non_public_metrics_only_for_posts_younger_than_30_days(sim, http):
    alive = [s for s in sim.company.network_shares("x") if not sim.company.is_deleted(s)]
    author = alive[-1].employee_id
    young = [s for s in alive if s.employee_id == author][-3:]
    old = old_tweet(sim.company, author)
    body = lookup(http, sim, [s.post_id for s in young] + [old.post_id], headers=as_author(author)).json()

    tweets = {tweet["id"]: tweet for tweet in body["data"]}
    assert list(tweets) == [s.post_id for s in young] + [old.post_id]
    for share in young:
        counters, tweet = sim.company.counters(share), tweets[share.post_id]
        assert tweet["public_metrics"] == {
            "retweet_count": counters.reshares,
            "reply_count": counters.comments,
            "like_count": counters.reactions,
            "quote_count": counters.quotes,
            "bookmark_count": counters.bookmarks,
            "impression_count": counters.impressions,
        }
        assert tweet["non_public_metrics"]["url_link_clicks"] == counters.link_clicks
        assert tweet["organic_metrics"]["impression_count"] == counters.impressions
        assert tweet["created_at"] == share.shared_at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        assert tweet["edit_history_tweet_ids"] == [share.post_id]
    assert "non_public_metrics" not in tweets[old.post_id] and "organic_metrics" not in tweets[old.post_id]
    assert tweets[old.post_id]["public_metrics"]["impression_count"] == sim.company.counters(old).impressions > 0
    assert [(e["resource_id"], e["parameter"], e["title"]) for e in body["errors"]] == [
        (old.post_id, "non_public_metrics", "Field Authorization Error"),
        (old.post_id, "organic_metrics", "Field Authorization Error"),
    ]


def test_default_fields_only_unless_asked(sim, http):
    share = sim.company.network_shares("x")[-1]
    (tweet,) = lookup(http, sim, [share.post_id], fields="").json()["data"]
    assert sorted(tweet) == ["edit_history_tweet_ids", "id", "text"]
    assert share.tracking_link in tweet["text"]


def test_deleted_and_unknown_posts_are_partial_errors_inside_a_200(sim, http):
    deleted = next(s for s in sim.company.network_shares("x") if sim.company.is_deleted(s))
    alive = sim.company.network_shares("x")[-1]
    unknown = alive.post_id[:-4] + ("0000" if not alive.post_id.endswith("0000") else "0001")
    response = lookup(http, sim, [deleted.post_id, alive.post_id, unknown], fields="public_metrics")
    assert response.status_code == 200
    body = response.json()
    assert [tweet["id"] for tweet in body["data"]] == [alive.post_id]
    assert [(e["resource_id"], e["title"], e["type"]) for e in body["errors"]] == [
        (deleted.post_id, "Not Found Error", "https://api.twitter.com/2/problems/resource-not-found"),
        (unknown, "Not Found Error", "https://api.twitter.com/2/problems/resource-not-found"),
    ]
    assert body["errors"][0]["detail"] == f"Could not find tweet with ids: [{deleted.post_id}]."


@pytest.mark.parametrize(
    ("ids", "parameter"), [([str(n) for n in range(1, 102)], "ids"), (["12", "abc"], "ids"), ([], "ids")]
)
def test_lookup_takes_1_to_100_numeric_ids(sim, http, ids, parameter):
    response = lookup(http, sim, ids)
    assert response.status_code == 400
    body = response.json()
    assert body["title"] == "Invalid Request"
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert list(body["errors"][0]["parameters"]) == [parameter]


def test_hundred_ids_is_the_maximum_and_is_fine(sim, http):
    ids = [s.post_id for s in sim.company.network_shares("x")][:100]
    assert lookup(http, sim, ids, fields="public_metrics").status_code == 200


def test_missing_token_is_a_401_problem(sim, http):
    response = lookup(http, sim, ["1"], headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json() == {"status": 401, "title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank"}


def test_every_answer_carries_rate_limit_headers_and_the_429_says_when_the_window_resets(http, tmp_path):
    with start(AS_OF, drop_dir=tmp_path, token=TOKEN, x_rate_limit=(2, 1.0)) as limited:
        ids = [limited.company.network_shares("x")[-1].post_id]
        first, second, third = (lookup(http, limited, ids) for _ in range(3))
        assert [r.status_code for r in (first, second, third)] == [200, 200, 429]
        assert (first.headers["x-rate-limit-limit"], first.headers["x-rate-limit-remaining"]) == ("2", "1")
        assert second.headers["x-rate-limit-remaining"] == "0"
        assert third.json() == {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}
        reset = int(third.headers["x-rate-limit-reset"])  # an epoch in seconds, not a delay
        assert time.time() - 1 <= reset <= time.time() + 2
        time.sleep(max(0.0, reset - time.time()) + 0.05)
        assert lookup(http, limited, ids).status_code == 200


def timeline(http, sim, user_id, **params):
    params.setdefault("tweet.fields", "public_metrics")
    return http.get(f"{sim.x_base_url}/users/{user_id}/tweets", params=params, headers=HEADERS, timeout=5)


def busiest_account(company):
    return max(company.x_accounts.values(), key=lambda a: len(company.x_timeline(a.user_id)))


def test_timeline_pages_with_next_token_newest_first_until_there_is_none(sim, http):
    account = busiest_account(sim.company)
    expected = [s.post_id for s in sim.company.x_timeline(account.user_id)]
    seen, token, pages = [], None, 0
    while True:
        params = {"max_results": 5} | ({"pagination_token": token} if token else {})
        body = timeline(http, sim, account.user_id, **params).json()
        pages += 1
        seen += [tweet["id"] for tweet in body.get("data", [])]
        assert body["meta"]["result_count"] == len(body.get("data", []))
        token = body["meta"].get("next_token")
        if token is None:
            break
    assert seen == expected and len(expected) > 10
    assert pages == -(-len(expected) // 5)


def test_timeline_with_non_public_metrics_leaves_old_posts_out_but_keeps_paging(sim, http):
    account = busiest_account(sim.company)
    young = [s.post_id for s in sim.company.x_timeline(account.user_id) if AS_OF - s.shared_at < timedelta(days=30)]
    seen, token, empty_pages_with_next_token = [], None, 0
    while True:
        params = {"max_results": 5, "tweet.fields": "non_public_metrics"}
        params |= {"pagination_token": token} if token else {}
        body = timeline(http, sim, account.user_id, **params).json()
        token = body["meta"].get("next_token")
        if "data" not in body:
            assert body["meta"]["result_count"] == 0
            empty_pages_with_next_token += token is not None
        seen += [tweet["id"] for tweet in body.get("data", [])]
        if token is None:
            break
    assert seen == young
    assert empty_pages_with_next_token >= 1


def test_timeline_time_window_and_parameter_checks(sim, http):
    account = busiest_account(sim.company)
    since = (AS_OF - timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = timeline(http, sim, account.user_id, max_results=100, start_time=since).json()
    expected = [s.post_id for s in sim.company.network_shares("x") if s.employee_id == account.employee_id]
    assert sorted(tweet["id"] for tweet in body.get("data", [])) == sorted(
        p for p in expected if not sim.company.is_deleted(sim.company.find_tweet(p))
    )
    assert timeline(http, sim, account.user_id, max_results=4).status_code == 400
    assert timeline(http, sim, account.user_id, pagination_token="nonsense").status_code == 400
    unknown_user = timeline(http, sim, "42").json()
    assert unknown_user["errors"][0]["resource_type"] == "user" and "data" not in unknown_user


def test_non_public_metrics_need_the_authors_own_user_context(sim, http):
    alive = [s for s in sim.company.network_shares("x") if not sim.company.is_deleted(s)]
    mine = alive[-1]
    other = next(s for s in reversed(alive) if s.employee_id != mine.employee_id)
    for headers, expected in ((HEADERS, set()), (as_author(mine.employee_id), {mine.post_id})):
        body = lookup(http, sim, [mine.post_id, other.post_id], headers=headers).json()
        with_non_public = {t["id"] for t in body["data"] if "non_public_metrics" in t}
        assert with_non_public == expected
        refused = {e["resource_id"] for e in body["errors"] if e["title"] == "Field Authorization Error"}
        assert refused == {mine.post_id, other.post_id} - expected
    revoked = lookup(http, sim, [mine.post_id], headers={"Authorization": "Bearer X2-not-a-token"})
    assert revoked.status_code == 401
