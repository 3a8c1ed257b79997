"""Faults on demand: what real vendors do on a bad night, injected in front of each simulated API.

A fault is `kind` (every vendor) or `kind:vendor` (one vendor: linkedin, typeform, x, bitly, surveymonkey,
qualtrics). Kinds, each in the vendor's own shape:
- `429_storm`: the vendor's first STORM requests are rate limited (LinkedIn 429 without headers, X 429 with
  x-rate-limit-* headers, Bitly 403 + X-Ratelimit-Reason, SurveyMonkey 429 id "1040" with its headers, …);
- `5xx`: the first FAILURES requests answer 502/503;
- `timeout`: the first TIMEOUTS requests answer only after TIMEOUT_SECONDS (longer than a test client waits);
- `truncated_json`: the first FAILURES JSON answers are cut off midway (a 200 whose body is not JSON);
- `drifted_fields`: every answer has a field of the contract renamed (LinkedIn `elements`, Typeform `items`, X
  `public_metrics`, Bitly `link_clicks`, SurveyMonkey `data`, Qualtrics `result`);
- `expired_token`: every request is refused as the vendor refuses an expired token;
- `duplicate_deliveries`: every list of records comes with its first record delivered twice.
The counts are per vendor, so every source meets the fault, and bounded, so a client with retries gets through.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from simulator.messages import ApiRequest, ApiResponse, VendorApi

KINDS = ("429_storm", "5xx", "timeout", "truncated_json", "drifted_fields", "expired_token", "duplicate_deliveries")
VENDORS = ("linkedin", "typeform", "x", "bitly", "surveymonkey", "qualtrics")
STORM = 2
FAILURES = 2
TIMEOUTS = 1
TIMEOUT_SECONDS = 1.0


def parse(specs: Iterable[str]) -> dict[str, frozenset[str]]:
    """`["5xx", "drifted_fields:x"]` → vendor → the fault kinds it suffers."""
    plan: dict[str, set[str]] = {vendor: set() for vendor in VENDORS}
    for spec in specs:
        kind, _, vendor = spec.strip().partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}: one of {', '.join(KINDS)}")
        if vendor and vendor not in VENDORS:
            raise ValueError(f"unknown vendor {vendor!r} in fault {spec!r}: one of {', '.join(VENDORS)}")
        for target in [vendor] if vendor else VENDORS:
            plan[target].add(kind)
    return {vendor: frozenset(kinds) for vendor, kinds in plan.items() if kinds}


def _rate_limited(vendor: str) -> ApiResponse:
    now = int(time.time())  # a window that turns right away: the storm costs retries, not minutes
    if vendor == "linkedin":
        message = "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."
        body = {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": message}
        return ApiResponse(429, body)
    if vendor == "x":
        headers = {"x-rate-limit-limit": "3500", "x-rate-limit-remaining": "0", "x-rate-limit-reset": str(now)}
        return ApiResponse(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers)
    if vendor == "bitly":
        body = {"message": "FORBIDDEN", "description": "Rate limit exceeded.", "resource": "bitlinks"}
        return ApiResponse(403, body, {"X-Ratelimit-Reason": "RATE_LIMIT_PER_MINUTE"})
    if vendor == "surveymonkey":
        error = {"id": "1040", "name": "Rate limit reached", "message": "Too many requests were made, try again later."}
        headers = {
            "X-Ratelimit-App-Global-Minute-Remaining": "0",
            "X-Ratelimit-App-Global-Minute-Reset": "0",
            "X-Ratelimit-App-Global-Day-Remaining": "400",
            "X-Ratelimit-App-Global-Day-Reset": "3600",
        }
        return ApiResponse(429, {"error": {**error, "http_status_code": 429}}, headers)
    if vendor == "qualtrics":
        error = {"errorCode": "0.1", "errorMessage": "Too many requests"}
        return ApiResponse(429, {"meta": {"httpStatus": "429 - Too Many Requests", "error": error}})
    return ApiResponse(429, {"code": "TOO_MANY_REQUESTS", "description": "Too many requests, slow down."})


def _expired(vendor: str) -> ApiResponse:
    if vendor == "linkedin":
        message = "The token used in the request has expired"
        body = {"status": 401, "serviceErrorCode": 65601, "code": "EXPIRED_ACCESS_TOKEN", "message": message}
        return ApiResponse(401, body)
    if vendor == "x":
        body = {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401}
        return ApiResponse(401, body)
    if vendor == "bitly":
        description = "The access token is expired or has been revoked."
        return ApiResponse(403, {"message": "FORBIDDEN", "description": description, "resource": "bitlinks"})
    if vendor == "surveymonkey":
        message = "The authorization token provided has expired."
        error = {"id": "1012", "name": "Authorization Error", "message": message}
        return ApiResponse(401, {"error": {**error, "http_status_code": 401}})
    if vendor == "qualtrics":
        error = {"errorCode": "AUTH_0.2", "errorMessage": "The API token has expired"}
        return ApiResponse(401, {"meta": {"httpStatus": "401 - Unauthorized", "error": error}})
    return ApiResponse(401, {"code": "AUTHENTICATION_FAILED", "description": "The access token has expired."})


def _rename(body: object, old: str, new: str) -> object:
    if isinstance(body, dict) and old in body:
        return {(new if key == old else key): value for key, value in body.items()}
    return body


def _drift(vendor: str, body: object) -> object:
    if vendor == "x" and isinstance(body, dict) and isinstance(body.get("data"), list):
        return {**body, "data": [_rename(tweet, "public_metrics", "publicMetrics") for tweet in body["data"]]}
    if vendor == "surveymonkey" and isinstance(body, dict) and "pages" in body and "data" not in body:
        return _rename(body, "pages", "survey_pages")  # /details drifts too
    renamed = {
        "linkedin": ("elements", "results"),
        "typeform": ("items", "responses"),
        "bitly": ("link_clicks", "clicks"),
        "surveymonkey": ("data", "responses"),
        "qualtrics": ("result", "results"),
    }.get(vendor)
    return _rename(body, *renamed) if renamed else body


RECORD_LISTS = {
    "linkedin": "elements",
    "typeform": "items",
    "x": "data",
    "bitly": "link_clicks",
    "surveymonkey": "data",
}


def _duplicate(vendor: str, body: object) -> object:
    key = RECORD_LISTS.get(vendor)
    if key and isinstance(body, dict) and isinstance(body.get(key), list) and body[key]:
        return {**body, key: [body[key][0], *body[key]]}
    return body


@dataclass
class FaultInjector:
    """Wraps one vendor's simulated API and injects the faults planned for it."""

    vendor: str
    api: VendorApi
    kinds: frozenset[str]

    def __post_init__(self) -> None:
        self._requests = 0
        self._json_answers = 0
        self._lock = threading.Lock()

    def __getattr__(self, name: str):  # survey_ids and the like: the wrapped API's
        return getattr(self.api, name)

    def handle(self, request: ApiRequest) -> ApiResponse:
        with self._lock:
            self._requests += 1
            number = self._requests
        status = 502 + number % 2
        before: list[tuple[str, float, Callable[[], ApiResponse]]] = [
            ("expired_token", float("inf"), lambda: _expired(self.vendor)),
            ("429_storm", STORM, lambda: _rate_limited(self.vendor)),
            ("5xx", FAILURES, lambda: ApiResponse(status, {"status": status, "message": "Upstream unavailable"})),
        ]
        for kind, first, answer in before:
            if kind in self.kinds and number <= first:
                return answer()
        response = self.api.handle(request)
        if "timeout" in self.kinds and number <= TIMEOUTS:
            response = replace(response, delay=TIMEOUT_SECONDS)
        if isinstance(response.body, bytes) or response.status >= 400:
            return response
        body = response.body
        if "drifted_fields" in self.kinds:
            body = _drift(self.vendor, body)
        if "duplicate_deliveries" in self.kinds:
            body = _duplicate(self.vendor, body)
        if "truncated_json" in self.kinds:
            with self._lock:
                self._json_answers += 1
                cut = self._json_answers <= FAILURES
            if cut:
                text = json.dumps(body, separators=(",", ":")).encode()
                headers = {**response.headers, "Content-Type": "application/json"}
                return ApiResponse(response.status, text[: len(text) // 2], headers)
        return replace(response, body=body)
