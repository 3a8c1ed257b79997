"""LinkedIn memberCreatorPostAnalytics: cumulative TOTAL counts per post, one call per post × queryType.

`GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn%3Ali%3Ashare%3A…)&queryType=…&aggregation=TOTAL`
with a pinned `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`. The entity is a Rest.li 2.0 union whose URN
is percent-encoded inside the parentheses; it is built here and sent byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from ingestion.http import ApiClient, ApiConfig, ApiError, Encoded, RateLimitPolicy, RetryPolicy, Timeouts
from ingestion.paging import OffsetPaging, Page
from ingestion.records import Quarantined, Row, Target, as_json_text

TARGET = Target("linkedin", "member_post_analytics", "linkedin__member_post_analytics", ("post_urn", "metric_type"))

DEFAULT_VERSION = "202606"
ENDPOINT = "/memberCreatorPostAnalytics"
PAGING = OffsetPaging(count=10, records_key="elements")
QUERY_TYPES = ("IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS")
#: queryTypes newer than the endpoint itself: asking an older version for them is a 400.
QUERY_TYPE_SINCE_VERSION = {"LINK_CLICKS": "202604"}
#: URN type → member name of the Rest.li `entity` union.
ENTITY_UNION_MEMBERS = {"share": "share", "ugcPost": "ugc"}

RATE_LIMIT = RateLimitPolicy(
    retries=3,
    advice="LinkedIn's daily quota (per app and per member, no Retry-After) is exhausted; "
    "it resets at midnight UTC, so rerun the load after 00:00 UTC",
)


class VersionNotActive(ApiError):
    """HTTP 426 NONEXISTENT_VERSION: the pinned LinkedIn-Version has been sunset."""

    def __init__(self, version: str, cause: ApiError) -> None:
        advice = (
            f"LinkedIn-Version {version} is no longer served (versions live about 12 months): roll the version "
            "forward to a current YYYYMM via ApiConfig.api_version (the linkedin_api connection) and check "
            "LinkedIn's changelog for response-shape changes"
        )
        super().__init__(cause.source, cause.endpoint, cause.status, cause.code, cause.message, advice)


def client(api: ApiConfig, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts()) -> ApiClient:
    headers = {"LinkedIn-Version": version_of(api), "X-Restli-Protocol-Version": "2.0.0"}
    return ApiClient("linkedin", api, rate_limit=RATE_LIMIT, headers=headers, retry=retry, timeouts=timeouts)


def version_of(api: ApiConfig) -> str:
    return api.api_version or DEFAULT_VERSION


def query_types(version: str) -> tuple[str, ...]:
    """The queryTypes this version serves (`YYYYMM` or `YYYYMM.RR`)."""
    return tuple(q for q in QUERY_TYPES if version[:6] >= QUERY_TYPE_SINCE_VERSION.get(q, ""))


def restli_entity(post_urn: str) -> Encoded:
    """`urn:li:share:1` → `(share:urn%3Ali%3Ashare%3A1)`, `urn:li:ugcPost:1` → `(ugc:urn%3Ali%3AugcPost%3A1)`."""
    parts = post_urn.split(":")
    if len(parts) != 4 or parts[:2] != ["urn", "li"] or parts[2] not in ENTITY_UNION_MEMBERS or not parts[3]:
        raise ValueError(f"not a LinkedIn post URN (urn:li:share:… or urn:li:ugcPost:…): {post_urn!r}")
    return Encoded(f"({ENTITY_UNION_MEMBERS[parts[2]]}:{quote(post_urn, safe='')})")


def metric_type(value: Any) -> str | None:
    """The metric type as a plain string: from 202605 it is one (`"IMPRESSION"`); before, it is a union object
    `{"com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1": "IMPRESSION"}`."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, dict) and len(value) == 1:
        (member,) = value.values()
        if isinstance(member, str) and member:
            return member
    return None


class PostAnalyticsExtraction:
    """The six TOTAL metrics of each post. A post LinkedIn does not know (404: deleted, or not the member's) is
    quarantined and the night goes on; a sunset version (426) fails the load."""

    def __init__(self, client: ApiClient, version: str, post_urns: Sequence[str], logical_date: date) -> None:
        self._client, self._version, self._post_urns, self._logical_date = client, version, post_urns, logical_date

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def records(self) -> Iterator[Row | Quarantined]:
        for post_urn in self._post_urns:
            try:
                entity = restli_entity(post_urn)
            except ValueError as exc:
                yield Quarantined(str(exc), as_json_text({"post_urn": post_urn}))
                continue
            yield from self._post_records(post_urn, entity)

    def state(self) -> dict[str, Any]:
        return {"logical_date": self._logical_date.isoformat(), "posts": len(self._post_urns)}

    def _post_records(self, post_urn: str, entity: Encoded) -> Iterator[Row | Quarantined]:
        for query_type in query_types(self._version):
            params = [("q", "entity"), ("entity", entity), ("queryType", query_type), ("aggregation", "TOTAL")]
            try:
                for page in PAGING.pages(self._client, ENDPOINT, params):
                    yield from (self._record(post_urn, element, page) for element in page.records)
            except ApiError as error:
                if error.status == 426:
                    raise VersionNotActive(self._version, error) from None
                if error.status == 404:
                    reason = f"post unknown to LinkedIn (deleted, or not the member's): {error}"
                    yield Quarantined(reason, as_json_text({"post_urn": post_urn, "request": error.endpoint}))
                    return
                raise

    @staticmethod
    def _record(post_urn: str, element: Any, page: Page) -> Row | Quarantined:
        if not isinstance(element, dict):
            return Quarantined("element is not an object", as_json_text(element))
        metric = metric_type(element.get("metricType"))
        if metric is None:
            return Quarantined("element has no recognisable metricType", as_json_text(element))
        count = element.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return Quarantined(f"count is not a non-negative integer: {count!r}", as_json_text(element))
        return Row((post_urn, metric), element, page.request, page.extracted_at)
