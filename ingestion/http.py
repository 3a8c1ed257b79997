"""The one HTTP layer every API source goes through.

One `requests.Session` per source, (connect, read) timeouts, retries with exponential backoff and jitter for
connection errors, timeouts and 5xx, and HTTP 429 handed to the vendor's own `RateLimitPolicy`. Every request sent
is counted (retries too: they count against the vendor's quota as well).

Credentials: the bearer token only ever travels in the Authorization header. URLs never carry it, so the request
URL can be logged and stored as `_request`; `redact()` still scrubs every text that leaves this module.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
import requests

log = logging.getLogger(__name__)

REDACTED = "***"
#: Failures worth another try: the connection, a timeout, or a body cut off midway.
TRANSIENT_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_URL_USERINFO = re.compile(r"(?<=://)[^/\s@]+@")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s'\",]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with each secret, any bearer credential and any user:password@ in a URL replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(REDACTED + "@", text)
    return _BEARER.sub(r"\g<1>" + REDACTED, text)


@dataclass(frozen=True)
class ApiConfig:
    """Where an API lives and how to authenticate; `token` stays out of repr so it cannot reach a log."""

    base_url: str
    token: str = field(repr=False)
    api_version: str | None = None


@dataclass(frozen=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: `attempts` tries in all for a transient failure."""

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (retry - 1)) + random.uniform(0, self.base_delay)


@dataclass(frozen=True)
class RateLimitPolicy:
    """What a vendor's HTTP 429 means: back off up to `retries` times, then fail and tell the user `advice`."""

    retries: int
    advice: str


class Encoded(str):
    """A query value its protocol has already percent-encoded (a Rest.li 2.0 literal): sent exactly as is."""


def encode_query(params: Sequence[tuple[str, object]]) -> str:
    """The query string: plain values percent-encoded (`,` and `:` kept readable), `Encoded` values untouched."""
    return "&".join(
        f"{quote(name, safe='')}={value if isinstance(value, Encoded) else quote(str(value), safe=',:')}"
        for name, value in params
    )


class ApiError(RuntimeError):
    """An API call that failed for good. Names the source, the endpoint (path and query), the HTTP status and the
    vendor's error code and message; never carries a credential."""

    def __init__(
        self, source: str, endpoint: str, status: int | None, code: str | None, message: str, advice: str = ""
    ) -> None:
        self.source, self.endpoint, self.status, self.code, self.message = source, endpoint, status, code, message
        outcome = f"HTTP {status}" if status is not None else "no HTTP response"
        text = f"{source}: GET {endpoint} failed: {outcome}"
        if code:
            text += f" {code}"
        if message:
            text += f": {message}"
        if advice:
            text += f". {advice}"
        super().__init__(text)


class RateLimitExceeded(ApiError):
    """The vendor kept answering 429 after the backoff its `RateLimitPolicy` allows."""


@dataclass(frozen=True)
class ApiResponse:
    body: Any
    request: str  # the request URL, credential-free: what `_request` stores
    received_at: datetime


def vendor_error(body: bytes) -> tuple[str | None, str]:
    """(code, message) from an error body: LinkedIn `{status, serviceErrorCode, code, message}` or Typeform
    `{code, description, details: [{field, description}]}`; the start of the text for anything else."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, body[:200].decode("utf-8", "replace").strip()
    if not isinstance(data, dict):
        return None, str(data)[:200]
    code, service_code = data.get("code"), data.get("serviceErrorCode")
    if code and service_code is not None:
        code = f"{code} (serviceErrorCode {service_code})"
    elif service_code is not None:
        code = f"serviceErrorCode {service_code}"
    message = str(data.get("message") or data.get("description") or "")
    details = [
        f"{detail.get('field') or detail.get('in') or detail.get('code')}: {detail.get('description')}"
        for detail in data.get("details") or []
        if isinstance(detail, dict)
    ]
    if details:
        message += f" ({'; '.join(details)})"
    return (str(code) if code else None), message


class ApiClient:
    """GETs JSON from one vendor's API: `get(path, params)` → `ApiResponse`; `api_calls` counts requests sent."""

    def __init__(
        self,
        source: str,
        config: ApiConfig,
        *,
        rate_limit: RateLimitPolicy,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self.source = source
        self.api_calls = 0
        self._base_url = config.base_url.rstrip("/")
        self._secrets = (config.token,)
        self._rate_limit, self._retry, self._timeouts = rate_limit, retry, timeouts
        self._session = requests.Session()
        self._session.headers.update(headers or {})
        self._session.headers["Authorization"] = f"Bearer {config.token}"

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, params: Sequence[tuple[str, object]] = ()) -> ApiResponse:
        query = encode_query(params)
        target = path + (f"?{query}" if query else "")
        url = self._base_url + target
        endpoint = redact(target, self._secrets)
        transient_failures = rate_limited = 0
        while True:
            try:
                response = self._send(url)
            except TRANSIENT_EXCEPTIONS as exc:
                status, code, message = None, None, redact(f"{type(exc).__name__}: {exc}", self._secrets)
            else:
                if response.status_code < 400:
                    return ApiResponse(self._json(response, endpoint), redact(url, self._secrets), datetime.now(UTC))
                status = response.status_code
                code, message = vendor_error(response.content)
                message = redact(message, self._secrets)
                if status == 429:
                    rate_limited += 1
                    if rate_limited > self._rate_limit.retries:
                        raise RateLimitExceeded(self.source, endpoint, status, code, message, self._rate_limit.advice)
                    self._back_off(endpoint, f"HTTP 429 {code or ''}", rate_limited, self._rate_limit.retries + 1)
                    continue
                if status < 500:
                    raise ApiError(self.source, endpoint, status, code, message)
            transient_failures += 1
            if transient_failures >= self._retry.attempts:
                raise ApiError(
                    self.source, endpoint, status, code, message, f"gave up after {transient_failures} attempts"
                )
            outcome = f"HTTP {status} {code or ''}" if status is not None else message
            self._back_off(endpoint, outcome, transient_failures, self._retry.attempts)

    def _send(self, url: str) -> requests.Response:
        prepared = self._session.prepare_request(requests.Request("GET", url))
        prepared.url = url  # requests re-quotes URLs; a Rest.li literal must go out byte for byte
        environment = self._session.merge_environment_settings(url, {}, None, None, None)
        self.api_calls += 1
        return self._session.send(prepared, timeout=(self._timeouts.connect, self._timeouts.read), **environment)

    def _back_off(self, endpoint: str, outcome: str, retry: int, attempts: int) -> None:
        delay = self._retry.delay(retry)
        log.warning(
            "%s: GET %s: %s; attempt %d of %d, retrying in %.2f s",
            self.source,
            endpoint,
            outcome,
            retry,
            attempts,
            delay,
        )
        time.sleep(delay)

    def _json(self, response: requests.Response, endpoint: str) -> Any:
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            problem = f"response is not JSON ({exc})"
            raise ApiError(self.source, endpoint, response.status_code, None, problem) from None
