"""LinkedIn organization (company page) endpoints: `organizationalEntityShareStatistics` and the Posts API finder.

Rules (reference/api-contracts.md §1a, §1c), on top of the LinkedIn headers `LinkedInApi` checks:
- `q=organizationalEntity&organizationalEntity=urn%3Ali%3Aorganization%3A{id}`: the page the token administers, else
  403 ACCESS_DENIED;
- no `timeIntervals`: ONE element with the page's lifetime `totalShareStatistics` (organic);
- `timeIntervals=(timeRange:(start:{ms},end:{ms}),timeGranularityType:DAY)` (Rest.li 2.0; the 1.0 dotted
  `timeIntervals.timeRange.start=` form is a 400 under protocol 2.0.0): one element per day with its `timeRange` and
  the statistics of that day; the window reaches back at most 12 months;
- `shares=List(urn%3Ali%3Ashare%3A…)` and/or `ugcPosts=List(urn%3Ali%3AugcPost%3A…)`: one element per post of the
  page with its lifetime statistics; a list not Rest.li 2.0 encoded is 403 ACCESS_DENIED "Unpermitted fields present
  in PARAMETER … [/shares[0]]" (as observed);
- every answer pages like any LinkedIn finder (§ "Pagination"): `start`/`count`, `count` 10 unless given, at most
  MAX_COUNT (a guess: LinkedIn says the maximum "varies by endpoint" and publishes none for this one); a client that
  sends neither gets the first 10 elements only — 10 days of a longer range, 10 posts of a longer list;
- statistics: uniqueImpressionsCount, impressionCount, clickCount, likeCount, commentCount, shareCount,
  shareMentionsCount, commentMentionsCount, and `engagement` — a ratio, not a percentage;
- `GET /posts?q=author&author=urn%3Ali%3Aorganization%3A{id}&start=&count=` (count ≤ 100): the page's posts, newest
  first, `start`/`count` paging without a total.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, unquote

from simulator.company import Company, PagePost
from simulator.messages import ApiResponse

STATISTICS_PATH = "/organizationalEntityShareStatistics"
POSTS_PATH = "/posts"
WINDOW_DAYS = 366
#: LinkedIn's `count` when a finder call names none (api-contracts.md §1 "Pagination"), and the largest accepted.
DEFAULT_COUNT = 10
MAX_COUNT = 100

_TIME_INTERVALS = re.compile(r"\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:DAY\)")
_URN_LISTS = {"shares": "share", "ugcPosts": "ugcPost"}


def _urn_list(kind: str) -> re.Pattern:
    urn = rf"urn%3[aA]li%3[aA]{kind}%3[aA]\d{{1,19}}"
    return re.compile(rf"List\(({urn}(?:,{urn})*)\)")


def statistics(counts: dict[str, int]) -> dict[str, object]:
    impressions = counts["impressions"]
    engaged = counts["clicks"] + counts["likes"] + counts["comments"] + counts["shares"]
    return {
        "uniqueImpressionsCount": counts["unique_impressions"],
        "impressionCount": impressions,
        "clickCount": counts["clicks"],
        "likeCount": counts["likes"],
        "commentCount": counts["comments"],
        "shareCount": counts["shares"],
        "shareMentionsCount": 0,
        "commentMentionsCount": 0,
        "engagement": engaged / impressions if impressions else 0.0,
    }


def _sum(counters: list[dict[str, int]]) -> dict[str, int]:
    names = ("impressions", "unique_impressions", "clicks", "likes", "comments", "shares")
    return {name: sum(c[name] for c in counters) for name in names}


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class OrganizationEndpoints:
    def __init__(self, company: Company, error: Callable[..., ApiResponse]) -> None:
        self._company = company
        self._error = error  # LinkedIn's error body builder

    def share_statistics(self, raw_params: dict[str, str]) -> ApiResponse:
        if unquote(raw_params.get("q", "")) != "organizationalEntity":
            return self._error(400, "ILLEGAL_ARGUMENT", "Query parameter q must be 'organizationalEntity'")
        organization = self._organization(raw_params.get("organizationalEntity"))
        if isinstance(organization, ApiResponse):
            return organization
        if any(name.startswith("timeIntervals.") for name in raw_params):
            message = (
                "timeIntervals uses the Rest.li 1.0 dotted syntax; protocol 2.0.0 expects "
                "timeIntervals=(timeRange:(start:…,end:…),timeGranularityType:DAY)"
            )
            return self._error(400, "ILLEGAL_ARGUMENT", message)
        posts = []
        for parameter, kind in _URN_LISTS.items():
            if parameter in raw_params:
                listed = _urn_list(kind).fullmatch(raw_params[parameter])
                if listed is None:
                    message = (
                        "Unpermitted fields present in PARAMETER: Data Processing Exception while processing fields "
                        f"[/{parameter}[0]]"
                    )
                    return self._error(403, "ACCESS_DENIED", message)
                posts += [(kind, unquote(urn)) for urn in listed[1].split(",")]
        paging = self._paging(raw_params)
        if isinstance(paging, ApiResponse):
            return paging
        if posts and "timeIntervals" in raw_params:
            return self._error(400, "ILLEGAL_ARGUMENT", "The simulator serves lifetime statistics per post only")
        if posts:
            elements = self._post_elements(organization, posts)
        elif "timeIntervals" in raw_params:
            elements = self._daily_elements(organization, raw_params["timeIntervals"])
            if isinstance(elements, ApiResponse):
                return elements
        else:
            counters = [self._company.page_post_counters(p) for p in self._page_posts(self._history_start())]
            elements = [{"organizationalEntity": organization, "totalShareStatistics": statistics(_sum(counters))}]
        start, count = paging
        page = elements[start : start + count]
        return ApiResponse(200, {"paging": {"start": start, "count": count, "links": []}, "elements": page})

    def posts(self, raw_params: dict[str, str]) -> ApiResponse:
        if unquote(raw_params.get("q", "")) != "author":
            return self._error(400, "ILLEGAL_ARGUMENT", "Query parameter q must be 'author'")
        organization = self._organization(raw_params.get("author"))
        if isinstance(organization, ApiResponse):
            return organization
        paging = self._paging(raw_params)
        if isinstance(paging, ApiResponse):
            return paging
        start, count = paging
        posts = self._page_posts(self._history_start())[start : start + count]
        elements = [
            {
                "id": post.post_urn,
                "author": organization,
                "commentary": f"New on our blog: {post.content_id}",
                "visibility": "PUBLIC",
                "lifecycleState": "PUBLISHED",
                "createdAt": _millis(post.created_at),
                "publishedAt": _millis(post.created_at),
                "lastModifiedAt": _millis(post.created_at),
            }
            for post in posts
        ]
        return ApiResponse(200, {"paging": {"start": start, "count": count, "links": []}, "elements": elements})

    def _paging(self, raw_params: dict[str, str]) -> tuple[int, int] | ApiResponse:
        """(start, count) of a finder call: 0 and DEFAULT_COUNT unless given."""
        try:
            start, count = int(raw_params.get("start", "0")), int(raw_params.get("count", str(DEFAULT_COUNT)))
        except ValueError:
            return self._error(400, "ILLEGAL_ARGUMENT", "start and count must be integers")
        if start < 0 or not 1 <= count <= MAX_COUNT:
            return self._error(400, "ILLEGAL_ARGUMENT", f"start must be >= 0 and count between 1 and {MAX_COUNT}")
        return start, count

    def _organization(self, raw_urn: str | None) -> str | ApiResponse:
        expected = quote(self._company.organization_urn, safe="")
        if raw_urn is None or raw_urn.lower() != expected.lower():
            urn = unquote(raw_urn or "")
            return self._error(403, "ACCESS_DENIED", f"Not enough permissions to access organization {urn!r}")
        return self._company.organization_urn

    def _history_start(self) -> date:
        return self._company.as_of.date() - timedelta(days=WINDOW_DAYS)

    def _page_posts(self, since: date) -> list[PagePost]:
        return self._company.page_posts(since)

    def _post_elements(self, organization: str, posts: list[tuple[str, str]]) -> list[dict]:
        elements = []
        for kind, urn in posts:
            post = self._company.page_post(urn)
            if post is None:
                continue  # not a post of this page: no element
            counters = self._company.page_post_counters(post)
            element = {"organizationalEntity": organization, kind: urn, "totalShareStatistics": statistics(counters)}
            elements.append(element)
        return elements

    def _daily_elements(self, organization: str, raw_intervals: str) -> list[dict] | ApiResponse:
        interval = _TIME_INTERVALS.fullmatch(raw_intervals)
        if interval is None:
            expected = "(timeRange:(start:{epoch ms},end:{epoch ms}),timeGranularityType:DAY)"
            return self._error(400, "ILLEGAL_ARGUMENT", f"Invalid timeIntervals {raw_intervals!r}: expected {expected}")
        start = datetime.fromtimestamp(int(interval[1]) / 1000, UTC)
        end = min(datetime.fromtimestamp(int(interval[2]) / 1000, UTC), self._company.as_of)
        if start < self._company.as_of - timedelta(days=WINDOW_DAYS) or start >= end:
            return self._error(400, "ILLEGAL_ARGUMENT", "timeRange must lie within the last 12 months, start < end")
        posts = self._page_posts(start.date() - timedelta(days=WINDOW_DAYS // 4))
        elements = []
        bucket = start
        while bucket < end:
            bucket_end = min(bucket + timedelta(days=1), end)
            increments = [
                {
                    name: after - before
                    for (name, after), before in zip(
                        self._company.page_post_counters(post, bucket_end).items(),
                        self._company.page_post_counters(post, bucket).values(),
                        strict=True,
                    )
                }
                for post in posts
                if post.created_at < bucket_end
            ]
            elements.append(
                {
                    "organizationalEntity": organization,
                    "timeRange": {"start": _millis(bucket), "end": _millis(bucket + timedelta(days=1))},
                    "totalShareStatistics": statistics(_sum(increments)),
                }
            )
            bucket += timedelta(days=1)
        return elements
