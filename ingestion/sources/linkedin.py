"""LinkedIn memberCreatorPostAnalytics: cumulative TOTAL counts per post, one call per post × queryType.

`GET /rest/memberCreatorPostAnalytics?q=entity&entity=(share:urn%3Ali%3Ashare%3A…)&queryType=…&aggregation=TOTAL`
with a pinned `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`. The entity is a Rest.li 2.0 union whose URN
is percent-encoded inside the parentheses; it is built here and sent byte for byte.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from ingestion import oauth
from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    Encoded,
    RateLimitExceeded,
    RateLimitPolicy,
    RetryPolicy,
    SchemaDrift,
    Timeouts,
)
from ingestion.members import Budget, MemberAccess, member_pool
from ingestion.paging import OffsetPaging, Page
from ingestion.records import Quarantined, Row, Target, as_json_text

log = logging.getLogger(__name__)

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


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """LinkedIn's error body `{status, serviceErrorCode, message}`, plus `code` (`ACCESS_DENIED`) on newer
    versions: the code names the serviceErrorCode too, `EXPIRED_ACCESS_TOKEN (serviceErrorCode 65602)`."""
    code, service_code = data.get("code"), data.get("serviceErrorCode")
    if code and service_code is not None:
        code = f"{code} (serviceErrorCode {service_code})"
    elif service_code is not None:
        code = f"serviceErrorCode {service_code}"
    return code, str(data.get("message") or "")


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
    return ApiClient(
        "linkedin", api, rate_limit=RATE_LIMIT, error_body=error_body, headers=headers, retry=retry, timeouts=timeouts
    )


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
            yield from self.post_records(post_urn, entity)

    def state(self) -> dict[str, Any]:
        return {"logical_date": self._logical_date.isoformat(), "posts": len(self._post_urns)}

    def post_records(self, post_urn: str, entity: Encoded) -> Iterator[Row | Quarantined]:
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


#: This many member tokens refused, and no other tried: an app-wide problem, not members revoking.
APP_WIDE_REFUSALS = 3


class MemberPostAnalyticsExtraction:
    """Each member's posts read with that member's own token (`r_member_postAnalytics` is member-scoped: any other
    token gets 403 on the post), different members concurrently on `access.workers` threads, one member's calls one
    after another.

    Per member, never failing the night: no token, or one revoked / needing consent → the member's posts are
    quarantined with the token's status; a 401 marks the token `revoked` (after one refresh and retry when LinkedIn
    says it expired), a 403 `needs_consent`, and quarantines the member's remaining posts with LinkedIn's reason; a
    member's 429 (their daily quota) or the app's daily quota spent quarantines what is left, to be read on a later
    night (the refresh schedule finds them unfetched). Still failing the load: a sunset version (426) and a changed
    contract, and every member failing for another reason (an outage is not a consent problem)."""

    def __init__(
        self,
        api: ApiConfig,
        version: str,
        posts_by_member: Mapping[str, Sequence[str]],
        logical_date: date,
        access: MemberAccess,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        app_calls: int | None = None,
    ) -> None:
        self._api, self._version, self._posts, self._logical_date = api, version, posts_by_member, logical_date
        self._access, self._retry, self._timeouts = access, retry, timeouts
        self._app_budget = Budget(app_calls)  # None: no app quota configured, no limit
        self._calls = 0
        self._lock = threading.Lock()
        self.outcomes: dict[str, int] = {}

    @property
    def api_calls(self) -> int:
        return self._calls

    def state(self) -> dict[str, Any]:
        return {
            "logical_date": self._logical_date.isoformat(),
            "posts": sum(len(p) for p in self._posts.values()),
            "members": len(self._posts),
            "members_by_outcome": dict(sorted(self.outcomes.items())),
        }

    def records(self) -> Iterator[Row | Quarantined]:
        tokens = self._access.tokens(self._posts)
        failures: list[ApiError] = []
        self._refusals: list[tuple[Any, ApiError]] = []
        self._tried = 0
        for member_records in member_pool(
            self._posts,
            lambda member, posts: self._member(member, posts, tokens.get(member), failures),
            self._access.workers,
        ):
            yield from member_records
        if failures and len(failures) == self._tried:
            raise failures[0]  # every member failed alike: the API is down, not a member's consent
        refusals = self._refusals
        if len(refusals) >= APP_WIDE_REFUSALS and len(refusals) == self._tried:
            # every member's token refused at once is the app's problem (its credentials, LinkedIn's auth), not
            # every member revoking: fail the load, mark no one
            error = refusals[0][1]
            raise ApiError(
                error.source,
                error.endpoint,
                error.status,
                error.code,
                error.message,
                f"every one of the {len(refusals)} member tokens tried was refused: check the app's "
                "LinkedIn credentials and status before asking members to consent again",
            )
        for token, error in refusals:
            status = self._access.refused(token, error.status, f"{error.code or ''} {error.message}".strip())
            self._outcome(status)

    def _outcome(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _member(self, member: str, posts: Sequence[str], token, failures: list[ApiError]) -> list[Row | Quarantined]:
        records: list[Row | Quarantined] = []
        if token is None:
            self._outcome("no_token")
            return self._quarantine(
                member,
                posts,
                "no member token: the employee has not granted access to their "
                "LinkedIn post analytics (status needs_consent)",
            )
        if token.usable:
            try:
                token = self._access.ready(token)
            except oauth.OAuthError as error:
                self._outcome("refresh_failed")
                return self._quarantine(member, posts, f"member token could not be refreshed: {error}")
        if not token.usable:
            self._outcome(token.status)
            return self._quarantine(member, posts, f"member token {token.status}: {token.status_reason or ''}".strip())
        member_budget = Budget(self._access.member_daily_quota)
        with self._lock:
            self._tried += 1
        client = self._client(token)
        retried_expired = False
        try:
            index = 0
            while index < len(posts):
                post_urn = posts[index]
                try:
                    entity = restli_entity(post_urn)
                except ValueError as exc:
                    records.append(Quarantined(str(exc), as_json_text({"post_urn": post_urn})))
                    index += 1
                    continue
                if not self._take_budget(member_budget, len(query_types(self._version))):
                    self._outcome("quota")
                    which = (
                        "the app's"
                        if self._app_budget.limit is not None and self._app_budget.spent >= self._app_budget.limit
                        else "the member's"
                    )
                    return records + self._quarantine(
                        member, posts[index:], f"{which} LinkedIn daily call quota is spent: read on a later night"
                    )
                extraction = PostAnalyticsExtraction(client, self._version, [post_urn], self._logical_date)
                try:
                    records.extend(extraction.post_records(post_urn, entity))
                except VersionNotActive:
                    raise
                except RateLimitExceeded as error:
                    self._outcome("rate_limited")
                    return records + self._quarantine(member, posts[index:], f"rate limited, read later: {error}")
                except SchemaDrift:
                    raise
                except ApiError as error:
                    if error.status == 401 and "EXPIRED" in (error.code or "") and not retried_expired:
                        retried_expired = True  # LinkedIn says expired before our clock did: refresh, try again
                        token = self._access.ready(token, force=True)
                        if token.usable:
                            self._close(client)
                            client = self._client(token)
                            continue
                    if error.status in (401, 403):
                        status = "revoked" if error.status == 401 else "needs_consent"
                        with self._lock:
                            self._refusals.append((token, error))  # marked once the night's reads are done
                        return records + self._quarantine(member, posts[index:], f"member token {status}: {error}")
                    self._outcome("failed")
                    with self._lock:
                        failures.append(error)
                    return records + self._quarantine(member, posts[index:], f"member's posts not read: {error}")
                index += 1
            self._outcome("read")
            return records
        finally:
            self._close(client)

    def _take_budget(self, member_budget: Budget, calls: int) -> bool:
        return all(member_budget.take() and self._app_budget.take() for _ in range(calls))

    def _client(self, token) -> ApiClient:
        member_api = ApiConfig(self._api.base_url, token.access_token.reveal(), self._version)
        return client(member_api, retry=self._retry, timeouts=self._timeouts)

    def _close(self, api_client: ApiClient) -> None:
        with self._lock:
            self._calls += api_client.api_calls
        api_client.api_calls = 0
        api_client.close()

    @staticmethod
    def _quarantine(member: str, posts: Sequence[str], reason: str) -> list[Row | Quarantined]:
        return [Quarantined(reason, as_json_text({"post_urn": post, "employee_id": member})) for post in posts]
