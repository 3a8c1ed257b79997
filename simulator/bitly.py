"""Bitly v4 `GET /v4/bitlinks/{bitlink}/clicks` (clicks per tracking link per unit of time), failures included.

Rules (reference/api-contracts.md §4):
- `Authorization: Bearer` → else 403 FORBIDDEN (no rate-limit reason header);
- `{bitlink}` is `domain/hash` without a scheme (`bit.ly/abc1234`; the slash may come percent-encoded);
  an unknown link is 404;
- `unit` (the simulator serves `day`), `units` (≥ 1, or -1 for all, i.e. the link's whole history) and
  `unit_reference`: an ISO-8601 timestamp that must arrive URL-encoded — a bare `+` decodes to a space and is a 400
  `INVALID_ARG_UNIT_REFERENCE`; default now (`as_of`);
- body `{link_clicks: [{clicks, date}], units, unit, unit_reference}`, most recent bucket first; the buckets are the
  `units` days that start before `unit_reference`; a day still running at `as_of` counts its clicks so far;
- a monthly call quota → 429 `MONTHLY_LIMIT_EXCEEDED`; a per-minute limit → 403 with `X-Ratelimit-Reason`.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, unquote

from simulator.company import POST_HISTORY_DAYS, Company
from simulator.messages import ApiRequest, ApiResponse

DEFAULT_MONTHLY_QUOTA = 1_000_000
RATE_LIMIT_REASON = "RATE_LIMIT_PER_MINUTE"
_CLICKS_PATH = re.compile(r"/v4/bitlinks/(.+)/clicks/?")
_BUCKET_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"


def _error(status: int, message: str, description: str, field: str | None = None, headers=None) -> ApiResponse:
    body: dict[str, object] = {"message": message, "description": description, "resource": "bitlinks"}
    if field:
        body["errors"] = [{"field": field, "error_code": "invalid", "message": description}]
    return ApiResponse(status, body, headers or {})


class BitlyApi:
    def __init__(
        self,
        company: Company,
        token: str,
        monthly_quota: int = DEFAULT_MONTHLY_QUOTA,
        rate_limit: tuple[int, float] | None = None,
    ) -> None:
        self._company = company
        self._token = token
        self._monthly_quota = monthly_quota
        self._rate_limit = rate_limit  # (calls, seconds) before 403 + X-Ratelimit-Reason
        self._calls = 0
        self._window: tuple[float, int] = (0.0, 0)
        self._lock = threading.Lock()

    def handle(self, request: ApiRequest) -> ApiResponse:
        if not request.has_bearer_token(self._token):
            return _error(403, "FORBIDDEN", "You are currently forbidden to access this resource.")
        quota = self._take_quota()
        if quota is not None:
            return quota
        route = _CLICKS_PATH.fullmatch(request.path)
        if route is None:
            return _error(404, "NOT_FOUND", "What you are looking for cannot be found.")
        if request.method != "GET":
            return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not supported here")
        bitlink = unquote(route[1])
        if bitlink not in self._company.bitlinks:
            return _error(404, "NOT_FOUND", "What you are looking for cannot be found.")
        return self._clicks(bitlink, parse_qs(request.raw_query, keep_blank_values=True))

    def _take_quota(self) -> ApiResponse | None:
        with self._lock:
            self._calls += 1
            if self._calls > self._monthly_quota:
                return _error(429, "MONTHLY_LIMIT_EXCEEDED", "You have exceeded your monthly limit for this resource.")
            if self._rate_limit is not None:
                calls, seconds = self._rate_limit
                opened_at, used = self._window
                now = time.time()
                if now >= opened_at + seconds:
                    opened_at, used = now, 0
                self._window = (opened_at, used + 1)
                if used >= calls:
                    description = "You are currently forbidden to access this resource."
                    return _error(403, "FORBIDDEN", description, headers={"X-Ratelimit-Reason": RATE_LIMIT_REASON})
        return None

    def _clicks(self, bitlink: str, params: dict[str, list[str]]) -> ApiResponse:
        def param(name: str, default: str) -> str:
            return params[name][-1] if name in params else default

        unit = param("unit", "day")
        if unit != "day":
            return _error(400, "INVALID_ARG_UNIT", "The simulator serves unit=day only.", "unit")
        units_text = param("units", "-1")
        if not re.fullmatch(r"-1|[1-9]\d*", units_text):
            return _error(400, "INVALID_ARG_UNITS", "units must be a positive integer or -1.", "units")
        reference_text = param("unit_reference", "")
        if reference_text:
            try:
                reference = datetime.fromisoformat(reference_text)
            except ValueError:
                description = f"unit_reference {reference_text!r} is not an ISO-8601 timestamp (URL-encode `+` as %2B)."
                return _error(400, "INVALID_ARG_UNIT_REFERENCE", description, "unit_reference")
            if reference.tzinfo is None:
                return _error(400, "INVALID_ARG_UNIT_REFERENCE", "unit_reference needs a UTC offset.", "unit_reference")
        else:
            reference = self._company.as_of
        units = POST_HISTORY_DAYS if units_text == "-1" else min(int(units_text), POST_HISTORY_DAYS)
        reference = reference.astimezone(UTC)
        last_day = (reference - timedelta(microseconds=1)).date()  # the day in which the reference falls, if begun
        days = [last_day - timedelta(days=n) for n in range(units)]
        clicks = self._company.tracking_link_clicks_by_day(bitlink, days)
        buckets = [{"clicks": clicks[day], "date": day.strftime(_BUCKET_FORMAT)} for day in days]
        body = {
            "link_clicks": buckets,
            "units": int(units_text),
            "unit": unit,
            "unit_reference": reference.strftime(_BUCKET_FORMAT),
        }
        return ApiResponse(200, body)
