"""LinkedIn `memberCreatorPostAnalytics` (q=entity, aggregation=TOTAL) as documented, failures included; the
company page's `organizationalEntityShareStatistics` and Posts finder live in `linkedin_organization`.

Rules (see /tmp/sharewhy_spec.md and reference/api-contracts.md §1, §1d):
- `Authorization: Bearer` → else 401; a daily call quota → 429 with no rate-limit headers;
- `LinkedIn-Version: YYYYMM[.RR]` → missing 400 `VERSION_MISSING`; a version is active from 12 months before
  `as_of`'s month up to that month, any other (older, future, malformed) is 426 `NONEXISTENT_VERSION`;
- `X-Restli-Protocol-Version: 2.0.0` → else 400;
- `entity` must be the Rest.li 2.0 union with the URN percent-encoded inside the parentheses, exactly;
- `metricType` is the union object before 202605 and a plain string from 202605; `LINK_CLICKS` exists from 202604;
- member scope (`r_member_postAnalytics` is a member permission): memberCreatorPostAnalytics answers only a member
  token (simulator.consent) of the post's author; any other token, the app's included, gets 403 ACCESS_DENIED "Not
  enough permissions to access: memberCreatorPostAnalytics.FINDER-entity" (as observed against LinkedIn). The
  company page's endpoints take the app's (page administrator's) token only. A revoked member token is 401
  serviceErrorCode 65601, an expired one 401 65602 (subcodes and messages are a guess: LinkedIn's error-handling
  page documents the body's shape, not this list);
  each member also has a daily quota (Development tier: 100 calls per member per day), over it 429.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from urllib.parse import unquote

from simulator.company import Company, PostTotals
from simulator.consent import ConsentRegistry
from simulator.linkedin_organization import POSTS_PATH, STATISTICS_PATH, OrganizationEndpoints
from simulator.messages import ApiRequest, ApiResponse

ANALYTICS_PATH = "/memberCreatorPostAnalytics"

#: queryType → the lifetime total it counts.
METRICS = {
    "IMPRESSION": "impressions",
    "MEMBERS_REACHED": "members_reached",
    "REACTION": "reactions",
    "COMMENT": "comments",
    "RESHARE": "reshares",
    "LINK_CLICKS": "link_clicks",
}
LINK_CLICKS_SINCE_VERSION = 202604
PLAIN_METRIC_TYPE_SINCE_VERSION = 202605
METRIC_TYPE_UNION_KEY = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
ACTIVE_VERSION_MONTHS = 12
DEFAULT_COUNT = 10
MAX_COUNT = 100
DEFAULT_DAILY_QUOTA = 1_000_000
DEFAULT_MEMBER_DAILY_QUOTA = 100_000

_VERSION = re.compile(r"(\d{4})(\d{2})(?:\.\d{2})?")
# The union member, then the URN with its three colons percent-encoded (hex digits in either case).
_ENTITY = re.compile(r"\((share|ugc):urn%3[aA]li%3[aA](share|ugcPost)%3[aA](\d{1,19})\)")
_UNION_MEMBER_OF_URN_TYPE = {"share": "share", "ugcPost": "ugc"}


def _error(status: int, code: str, message: str, service_error_code: int | None = None) -> ApiResponse:
    body: dict[str, object] = {"status": status}
    if service_error_code is not None:
        body["serviceErrorCode"] = service_error_code
    body.update(code=code, message=message)
    return ApiResponse(status, body)


def _bad_request(message: str) -> ApiResponse:
    return _error(400, "ILLEGAL_ARGUMENT", message)


def _raw_params(raw_query: str) -> dict[str, str]:
    """Query parameters by decoded name, values still percent-encoded (Rest.li literals are checked as sent)."""
    raw_params: dict[str, str] = {}
    for pair in filter(None, raw_query.split("&")):
        name, _, value = pair.partition("=")
        raw_params.setdefault(unquote(name), value)
    return raw_params


def _month_number(year: int, month: int) -> int:
    return year * 12 + month - 1


class LinkedInApi:
    def __init__(
        self,
        company: Company,
        token: str,
        daily_quota: int = DEFAULT_DAILY_QUOTA,
        consent: ConsentRegistry | None = None,
        member_daily_quota: int = DEFAULT_MEMBER_DAILY_QUOTA,
    ):
        self._company = company
        self._token = token
        self._daily_quota = daily_quota
        self._member_daily_quota = member_daily_quota
        self._calls = 0
        self._member_calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._organization = OrganizationEndpoints(company, _error)
        self.consent = consent if consent is not None else ConsentRegistry.for_company(company, token)

    def handle(self, request: ApiRequest) -> ApiResponse:
        member: str | None = None
        if not request.has_bearer_token(self._token):
            scheme, _, bearer = (request.header("authorization") or "").partition(" ")
            principal = self.consent.identify("linkedin", bearer.strip() if scheme.lower() == "bearer" else None)
            if principal is None:
                return _error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", service_error_code=65600)
            if principal.error == "revoked":
                message = "The token used in the request has been revoked by the user"
                return _error(401, "REVOKED_ACCESS_TOKEN", message, service_error_code=65601)
            if principal.error == "expired":
                return _error(
                    401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", service_error_code=65602
                )
            member = principal.employee_id
        if not self._take_quota():
            message = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
            return _error(429, "TOO_MANY_REQUESTS", message, service_error_code=101)
        if member is not None and not self._take_member_quota(member):
            message = "Resource level throttle MEMBER DAY limit for calls to this resource is reached."
            return _error(429, "TOO_MANY_REQUESTS", message, service_error_code=101)
        version = request.header("linkedin-version")
        if not version:
            return _error(
                400,
                "VERSION_MISSING",
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
            )
        version_month = self._active_version(version.strip())
        if version_month is None:
            return _error(426, "NONEXISTENT_VERSION", f"Requested version {version.strip()} is not active")
        if request.header("x-restli-protocol-version") != "2.0.0":
            return _error(400, "INVALID_PROTOCOL_VERSION", "Header X-Restli-Protocol-Version: 2.0.0 is required")
        path = request.path.rstrip("/")
        if path not in (ANALYTICS_PATH, STATISTICS_PATH, POSTS_PATH):
            return _error(404, "NOT_FOUND", f"No resource found for {request.path}")
        if request.method != "GET":
            return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not supported on {path}")
        if path in (STATISTICS_PATH, POSTS_PATH) and member is not None:
            return _error(
                403,
                "ACCESS_DENIED",
                f"Not enough permissions to access: {path.lstrip('/')}.FINDER",
                service_error_code=100,
            )
        if path == STATISTICS_PATH:
            return self._organization.share_statistics(_raw_params(request.raw_query))
        if path == POSTS_PATH:
            return self._organization.posts(_raw_params(request.raw_query))
        return self._analytics(request.raw_query, version_month, member)

    def _take_quota(self) -> bool:
        """Count the call against the day's quota; the simulated day is the one ending at `as_of`."""
        with self._lock:
            self._calls += 1
            return self._calls <= self._daily_quota

    def _take_member_quota(self, member: str) -> bool:
        with self._lock:
            self._member_calls[member] = self._member_calls.get(member, 0) + 1
            return self._member_calls[member] <= self._member_daily_quota

    def _active_version(self, version: str) -> int | None:
        """The version as YYYYMM if it is active at `as_of`, else None."""
        match = _VERSION.fullmatch(version)
        if not match:
            return None
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            return None
        as_of: datetime = self._company.as_of
        age_months = _month_number(as_of.year, as_of.month) - _month_number(year, month)
        if not 0 <= age_months <= ACTIVE_VERSION_MONTHS:
            return None
        return year * 100 + month

    def _analytics(self, raw_query: str, version: int, member: str | None = None) -> ApiResponse:
        raw_params = _raw_params(raw_query)

        if unquote(raw_params.get("q", "")) != "entity":
            return _bad_request("Query parameter q must be 'entity' (the simulator implements the entity finder only)")

        raw_entity = raw_params.get("entity")
        if raw_entity is None:
            return _bad_request("Query parameter entity is required")
        entity = _ENTITY.fullmatch(raw_entity)
        if not entity or _UNION_MEMBER_OF_URN_TYPE[entity[2]] != entity[1]:
            return _bad_request(
                f"Invalid value for param entity: {raw_entity!r}. Expected the Rest.li 2.0 union "
                "(share:urn%3Ali%3Ashare%3A{id}) or (ugc:urn%3Ali%3AugcPost%3A{id})"
            )
        urn = f"urn:li:{entity[2]}:{entity[3]}"

        query_type = unquote(raw_params.get("queryType", ""))
        if query_type not in METRICS or (query_type == "LINK_CLICKS" and version < LINK_CLICKS_SINCE_VERSION):
            return _bad_request(f"Invalid value for param queryType: {query_type!r} in version {version}")
        if unquote(raw_params.get("aggregation", "")) != "TOTAL":
            return _bad_request("Query parameter aggregation must be TOTAL (DAILY is not simulated)")
        try:
            start = int(unquote(raw_params.get("start", "0")))
            count = int(unquote(raw_params.get("count", str(DEFAULT_COUNT))))
        except ValueError:
            return _bad_request("Query parameters start and count must be integers")
        if start < 0 or not 0 <= count <= MAX_COUNT:
            return _bad_request(f"start must be >= 0 and count between 0 and {MAX_COUNT}")

        share = self._company.find_post(urn)
        if share is None:
            return _error(404, "NOT_FOUND", f"Post {urn} not found")
        if member is None or share.employee_id != member:
            message = "Not enough permissions to access: memberCreatorPostAnalytics.FINDER-entity"
            return _error(403, "ACCESS_DENIED", message, service_error_code=100)
        counters: PostTotals = self._company.counters(share)
        metric_type: object = query_type
        if version < PLAIN_METRIC_TYPE_SINCE_VERSION:
            metric_type = {METRIC_TYPE_UNION_KEY: query_type}
        elements = [
            {
                "count": getattr(counters, METRICS[query_type]),
                "metricType": metric_type,
                # No `targetEntity`: LinkedIn documents the element of `q=me` as count, metricType and dateRange only,
                # and nowhere that a `q=entity` element names its post; the client knows the post from its request.
                "dateRange": {},
            }
        ]
        return ApiResponse(
            200,
            {"paging": {"start": start, "count": count, "links": []}, "elements": elements[start : start + count]},
        )
