"""LinkedIn company page statistics: `organizationalEntityShareStatistics` (organic only), per day and per post.

Both calls use Rest.li 2.0 literals, built here and sent byte for byte (the 1.0 dotted syntax fails under protocol
2.0.0):
- per day: `timeIntervals=(timeRange:(start:{ms},end:{ms}),timeGranularityType:DAY)` — one element per day. The days
  after the last one landed, up to the logical date (a first run goes back FIRST_RUN_DAYS; LinkedIn keeps a rolling
  12 months).
- per post: `shares=List(urn%3Ali%3Ashare%3A…)` and `ugcPosts=List(urn%3Ali%3AugcPost%3A…)` — the page's posts
  (from the Posts finder `q=author`, newest first, read back 90 days), at most POSTS_PER_CALL per call so the query
  stays well under the 4,000 characters past which LinkedIn wants query tunneling.
Either is a finder, paged with `start`/`count` like every other (STATISTICS_PAGING): LinkedIn answers 10 elements
unless `count` says otherwise, so a call without paging would land 10 days of a longer range, 10 posts of a longer
list.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.http import ApiClient, ApiError, Encoded, SchemaDrift
from ingestion.paging import OffsetPaging, Page
from ingestion.raw_queries import MEASURED_FOR
from ingestion.records import Quarantined, Row, Target, as_json_text
from ingestion.sources.linkedin import VersionNotActive

DAILY_TARGET = Target(
    "linkedin", "organization_daily_statistics", "linkedin__organization_daily_statistics", ("organization_urn", "day")
)
POST_TARGET = Target(
    "linkedin", "organization_post_statistics", "linkedin__organization_post_statistics", ("post_urn",)
)

STATISTICS = "/organizationalEntityShareStatistics"
POSTS = "/posts"
POSTS_PAGING = OffsetPaging(count=100, records_key="elements")
STATISTICS_PAGING = OffsetPaging(count=100, records_key="elements")
POSTS_PER_CALL = 50
FIRST_RUN_DAYS = 28
#: URN type → the statistics parameter its posts go in, and the element key they come back under.
POST_LISTS = {"share": "shares", "ugcPost": "ugcPosts"}


def restli_urn(urn: str) -> Encoded:
    return Encoded(quote(urn, safe=""))


def time_intervals(first: date, last: date) -> Encoded:
    """Days `first`…`last` (UTC, inclusive) as a Rest.li 2.0 DAY time interval."""
    start = datetime.combine(first, time(), UTC)
    end = datetime.combine(last + timedelta(days=1), time(), UTC)
    millis = (int(start.timestamp() * 1000), int(end.timestamp() * 1000))
    return Encoded(f"(timeRange:(start:{millis[0]},end:{millis[1]}),timeGranularityType:DAY)")


def post_lists(post_urns: Sequence[str]) -> list[tuple[str, Encoded]]:
    """`shares=List(…)` / `ugcPosts=List(…)` parameters for these post URNs (URNs percent-encoded inside)."""
    by_parameter: dict[str, list[str]] = {}
    for urn in post_urns:
        by_parameter.setdefault(POST_LISTS[urn.split(":")[2]], []).append(quote(urn, safe=""))
    return [(name, Encoded(f"List({','.join(urns)})")) for name, urns in by_parameter.items()]


def _statistics_pages(client: ApiClient, version: str, params: Sequence[tuple[str, object]]) -> Iterator[Page]:
    """The statistics finder's pages for these parameters."""
    try:
        yield from STATISTICS_PAGING.pages(client, STATISTICS, params)
    except ApiError as error:
        if error.status == 426:
            raise VersionNotActive(version, error) from None
        raise


class DailyStatisticsExtraction:
    """The page's statistics of each day not landed yet, up to the logical date. State: `{"last_day": ISO}`."""

    def __init__(
        self, client: ApiClient, version: str, organization: str, logical_date: date, state: dict[str, Any] | None
    ) -> None:
        self._client, self._version, self._organization = client, version, organization
        last = (state or {}).get("last_day")
        first_run = logical_date - timedelta(days=FIRST_RUN_DAYS - 1)
        self._first = date.fromisoformat(last) + timedelta(days=1) if last else first_run
        self._last, self._landed_to = logical_date, last

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def records(self) -> Iterator[Row | Quarantined]:
        if self._first > self._last:
            return
        params = [
            ("q", "organizationalEntity"),
            ("organizationalEntity", restli_urn(self._organization)),
            ("timeIntervals", time_intervals(self._first, self._last)),
        ]
        days = []
        for page in _statistics_pages(self._client, self._version, params):
            for element in page.records:
                time_range = element.get("timeRange") if isinstance(element, dict) else None
                start = time_range.get("start") if isinstance(time_range, dict) else None
                if not isinstance(start, int) or not isinstance(element.get("totalShareStatistics"), dict):
                    yield Quarantined("element has no timeRange.start or totalShareStatistics", as_json_text(element))
                    continue
                day = datetime.fromtimestamp(start / 1000, UTC).date()
                if self._first <= day <= self._last:
                    days.append(day)
                    yield Row((self._organization, day), element, page.request, page.extracted_at)
        if days:
            self._landed_to = max(days).isoformat()

    def state(self) -> dict[str, Any]:
        return {"last_day": self._landed_to}


class PostStatisticsExtraction:
    """Lifetime statistics of the page's posts of the last 90 days that `due` picks (the refresh schedule),
    POSTS_PER_CALL per call."""

    def __init__(
        self, client: ApiClient, version: str, organization: str, logical_date: date, due=lambda posts: posts
    ) -> None:
        self._client, self._version, self._organization = client, version, organization
        self._end = datetime.combine(logical_date + timedelta(days=1), time(), UTC)
        self._due = due  # picks the posts to refresh tonight from (post URN, created_at) pairs
        self.posts_seen = 0

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def page_posts(self) -> list[tuple[str, datetime]]:
        """(post URN, created_at) of the page's posts created in the 90 days before the end of the logical date."""
        params = [("q", "author"), ("author", restli_urn(self._organization)), ("sortBy", "CREATED")]
        posts: list[tuple[str, datetime]] = []
        for page in POSTS_PAGING.pages(self._client, POSTS, params):
            for post in page.records:
                valid = isinstance(post, dict) and isinstance(post.get("id"), str)
                if not valid or not isinstance(post.get("createdAt"), int):
                    raise SchemaDrift(self._client.source, POSTS, "a post has no string `id` or integer `createdAt`")
                created = datetime.fromtimestamp(post["createdAt"] / 1000, UTC)
                if created < self._end - MEASURED_FOR:
                    return posts  # newest first: the rest are older still
                if created < self._end:
                    posts.append((post["id"], created))
        return posts

    def records(self) -> Iterator[Row | Quarantined]:
        posts = self.page_posts()
        self.posts_seen = len(posts)
        due = [urn for urn, _ in self._due(posts)]
        for start in range(0, len(due), POSTS_PER_CALL):
            batch = due[start : start + POSTS_PER_CALL]
            params = [
                ("q", "organizationalEntity"),
                ("organizationalEntity", restli_urn(self._organization)),
                *post_lists(batch),
            ]
            returned = set()
            for page in _statistics_pages(self._client, self._version, params):
                for element in page.records:
                    urn = (element.get("share") or element.get("ugcPost")) if isinstance(element, dict) else None
                    if not isinstance(urn, str) or not isinstance(element.get("totalShareStatistics"), dict):
                        reason = "element names no post or has no totalShareStatistics"
                        yield Quarantined(reason, as_json_text(element))
                        continue
                    returned.add(urn)
                    yield Row((urn,), element, page.request, page.extracted_at)
            for missing in sorted(set(batch) - returned):
                reason = "LinkedIn returned no statistics for this page post"
                yield Quarantined(reason, as_json_text({"post_urn": missing}))

    def state(self) -> dict[str, Any]:
        return {"logical_date": (self._end - timedelta(days=1)).date().isoformat(), "page_posts": self.posts_seen}
