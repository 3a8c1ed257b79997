"""The simulator serves the company page's organizationalEntityShareStatistics and Posts finder as documented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
TOKEN = "linkedin-org-simulator-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202606", "X-Restli-Protocol-Version": "2.0.0"}
DAY_MS = 86_400_000


def statistics(http, sim, extra="", organization=None):
    org = quote(organization or sim.company.organization_urn, safe="")
    query = f"q=organizationalEntity&organizationalEntity={org}"
    url = f"{sim.linkedin_base_url}/organizationalEntityShareStatistics?{query}"
    return http.get(url + extra, headers=HEADERS, timeout=5)


def restli_list(urns):
    return "List(" + ",".join(quote(urn, safe="") for urn in urns) + ")"


def page_posts(sim):
    return sim.company.page_posts(AS_OF.date() - timedelta(days=366))


def test_lifetime_statistics_are_one_element_summing_every_page_post(sim, http):
    body = statistics(http, sim).json()
    (element,) = body["elements"]
    counters = [sim.company.page_post_counters(post) for post in page_posts(sim)]
    stats = element["totalShareStatistics"]
    assert element["organizationalEntity"] == sim.company.organization_urn
    assert stats["impressionCount"] == sum(c["impressions"] for c in counters) > 0
    assert stats["uniqueImpressionsCount"] == sum(c["unique_impressions"] for c in counters)
    engaged = stats["clickCount"] + stats["likeCount"] + stats["commentCount"] + stats["shareCount"]
    assert stats["engagement"] == pytest.approx(engaged / stats["impressionCount"]) and stats["engagement"] < 1


def test_time_intervals_give_one_element_per_day_with_that_days_statistics(sim, http):
    start_ms = int((AS_OF - timedelta(days=3)).timestamp() * 1000)
    intervals = f"(timeRange:(start:{start_ms},end:{start_ms + 3 * DAY_MS}),timeGranularityType:DAY)"
    elements = statistics(http, sim, f"&timeIntervals={intervals}").json()["elements"]
    assert [e["timeRange"] for e in elements] == [
        {"start": start_ms + n * DAY_MS, "end": start_ms + (n + 1) * DAY_MS} for n in range(3)
    ]
    for n, element in enumerate(elements):
        day_start = AS_OF - timedelta(days=3 - n)
        expected = sum(
            sim.company.page_post_counters(post, day_start + timedelta(days=1))["impressions"]
            - sim.company.page_post_counters(post, day_start)["impressions"]
            for post in page_posts(sim)
        )
        assert element["totalShareStatistics"]["impressionCount"] == expected


@pytest.mark.parametrize(
    "extra",
    [
        "&timeIntervals.timeGranularityType=DAY&timeIntervals.timeRange.start=1700000000000",  # Rest.li 1.0
        "&timeIntervals=(timeRange:(start:1,end:2),timeGranularityType:WEEK)",
        "&timeIntervals=(timeRange:(start:1600000000000,end:1600086400000),timeGranularityType:DAY)",  # > 12 months
    ],
)
def test_time_intervals_must_be_restli_2_and_within_12_months(sim, http, extra):
    response = statistics(http, sim, extra)
    assert (response.status_code, response.json()["code"]) == (400, "ILLEGAL_ARGUMENT")


def test_per_post_statistics_take_encoded_shares_and_ugc_posts_lists(sim, http):
    posts = page_posts(sim)[:12]
    shares = [p.post_urn for p in posts if ":share:" in p.post_urn]
    ugc_posts = [p.post_urn for p in posts if ":ugcPost:" in p.post_urn]
    assert shares and ugc_posts
    extra = f"&shares={restli_list(shares)}&ugcPosts={restli_list(ugc_posts)}&count=100"
    elements = statistics(http, sim, extra).json()["elements"]
    by_post = {e.get("share") or e.get("ugcPost"): e["totalShareStatistics"] for e in elements}
    assert set(by_post) == set(shares + ugc_posts)
    for post in posts:
        assert by_post[post.post_urn]["likeCount"] == sim.company.page_post_counters(post)["likes"]
    assert all("share" in e for e in elements if e.get("share") in shares)


def test_a_post_list_not_restli_encoded_is_403_unpermitted_fields(sim, http):
    raw_urn = page_posts(sim)[0].post_urn
    response = statistics(http, sim, f"&shares=List({raw_urn})")
    assert response.status_code == 403
    assert response.json()["code"] == "ACCESS_DENIED"
    assert response.json()["message"].endswith("[/shares[0]]")


def test_statistics_page_like_every_finder_ten_elements_unless_count_says_otherwise(sim, http):
    start_ms = int((AS_OF - timedelta(days=25)).timestamp() * 1000)
    intervals = f"&timeIntervals=(timeRange:(start:{start_ms},end:{start_ms + 25 * DAY_MS}),timeGranularityType:DAY)"
    first = statistics(http, sim, intervals).json()
    assert len(first["elements"]) == 10 and first["paging"]["start"] == 0 and first["paging"]["count"] == 10
    days = [e["timeRange"]["start"] for e in first["elements"]]
    start = 10
    while True:
        page = statistics(http, sim, f"{intervals}&start={start}&count=10").json()["elements"]
        days += [e["timeRange"]["start"] for e in page]
        if len(page) < 10:
            break
        start += 10
    assert days == [start_ms + n * DAY_MS for n in range(25)]
    posts = page_posts(sim)[:30]
    listed = "".join(
        f"&{name}={restli_list(urns)}"
        for name, urns in (
            ("shares", [p.post_urn for p in posts if ":share:" in p.post_urn]),
            ("ugcPosts", [p.post_urn for p in posts if ":ugcPost:" in p.post_urn]),
        )
        if urns
    )
    assert len(statistics(http, sim, listed).json()["elements"]) == 10
    assert len(statistics(http, sim, listed + "&count=100").json()["elements"]) == 30
    for bad in ("&count=0", "&count=101", "&start=-1", "&count=ten"):
        response = statistics(http, sim, intervals + bad)
        assert (response.status_code, response.json()["code"]) == (400, "ILLEGAL_ARGUMENT"), bad


def test_another_organization_is_403(sim, http):
    response = statistics(http, sim, organization="urn:li:organization:1")
    assert (response.status_code, response.json()["code"]) == (403, "ACCESS_DENIED")


def test_the_posts_finder_pages_the_page_posts_newest_first(sim, http):
    author = quote(sim.company.organization_urn, safe="")
    seen, start = [], 0
    while True:
        url = f"{sim.linkedin_base_url}/posts?q=author&author={author}&start={start}&count=50"
        elements = http.get(url, headers=HEADERS, timeout=5).json()["elements"]
        seen += elements
        if len(elements) < 50:
            break
        start += 50
    assert [e["id"] for e in seen] == [p.post_urn for p in page_posts(sim)]
    assert all(e["author"] == sim.company.organization_urn and e["lifecycleState"] == "PUBLISHED" for e in seen)
    assert [e["createdAt"] for e in seen] == sorted((e["createdAt"] for e in seen), reverse=True)
