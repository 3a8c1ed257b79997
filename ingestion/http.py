"""The one HTTP layer every API source goes through.

One `requests.Session` per source, (connect, read) timeouts, retries with exponential backoff and jitter for
connection errors, timeouts, 5xx and bodies cut off midway, and rate limiting (HTTP 429, or whatever the vendor
signals instead) handed to the vendor's own `RateLimitPolicy`. Every request sent is counted (retries too: they
count against the vendor's quota as well).

This module knows no vendor: each source (`ingestion/sources/<source>.py`) declares beside its connector what is
its own — the `RateLimitPolicy` (headers, windows, epoch or delay resets, quota codes), the error-body parser
(`ErrorBodyParser`), the auth header and fixed headers — and hands them to `ApiClient`.

Credentials: the token only ever travels in a header (`Authorization: Bearer`, or the vendor's own header its
source declares). URLs never carry it, so the request URL can be logged and stored as `_request`;
`redact()` still scrubs every text that leaves this module.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson
import requests
import urllib3

log = logging.getLogger(__name__)

REDACTED = "***"
#: Waiting for a rate-limit reset: this much past the announced second, so the window has surely turned.
RESET_SLACK = 0.05
#: Failures worth another try: the connection, a timeout, or a body cut off midway.
TRANSIENT_EXCEPTIONS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
#: Methods a server applies the same however often they arrive (RFC 9110 §9.2.2): sent again after any transient
#: failure. Any other (a POST that starts an export) only when it surely had no effect: it never left (no
#: connection), a 429, or a 503 with Retry-After; a timeout, a cut-off answer or another 5xx fail at once, since
#: the vendor may have acted on it and a second one would act twice.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NOT_SENT_AGAIN = "not sent again: the vendor may have acted on it, and a second {} could act twice; rerun the load"
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


def under_api_path(config: ApiConfig, api_path: str) -> ApiConfig:
    """`config` with its base URL ending in the vendor's API path exactly once: the host the vendor documents and
    one that already ends in the path both work, with or without a trailing slash."""
    base = config.base_url.rstrip("/")
    return replace(config, base_url=base if base.endswith(api_path) else base + api_path)


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
class RateWindow:
    """A rate-limit window the vendor reports in headers: calls left, and when it resets — an epoch in seconds
    (`reset_is_epoch`) or seconds from now."""

    remaining_header: str
    reset_header: str
    reset_is_epoch: bool = True

    def reset_in(self, headers: Mapping[str, str]) -> float | None:
        value = (headers.get(self.reset_header) or "").strip()
        if not value.isdigit():
            return None
        return max(0.0, int(value) - time.time()) if self.reset_is_epoch else float(value)

    def spent(self, headers: Mapping[str, str]) -> bool | None:
        """Whether the window has no call left; None when the answer does not say."""
        value = (headers.get(self.remaining_header) or "").strip()
        return value == "0" if value else None


@dataclass(frozen=True)
class RateLimitPolicy:
    """What a vendor's rate limiting means: wait up to `retries` times, then fail and tell the user `advice`.

    How long to wait: when the vendor reports `windows`, until the latest reset among the spent ones — or, when none
    says it is spent, until the soonest reset (a 429 that marks no window exhausted backs off on the shortest
    window, a minute, rather than taking its day's reset for an exhausted day) — never longer than
    `max_wait`: a longer wait fails at once, saying when the window resets; else exponential backoff. A success
    that spends a window holds the next call until its reset, so the 429 never comes. A 403 carrying
    `reason_header` is a rate limit too. A vendor code in `exhausted` is a quota no wait can restore (a monthly
    quota): the call fails at once, with that code's advice.
    """

    retries: int
    advice: str
    windows: tuple[RateWindow, ...] = ()
    max_wait: float = 900.0
    reason_header: str | None = None
    exhausted: Mapping[str, str] = field(default_factory=dict)  # vendor code → advice

    def limits(self, status: int, headers: Mapping[str, str]) -> bool:
        """Whether this answer is the vendor saying "slow down"."""
        return status == 429 or (status == 403 and self.reason_header is not None and self.reason_header in headers)

    def reset_in(self, headers: Mapping[str, str], *, spent_only: bool = False) -> float | None:
        """Seconds until the vendor's spent windows reset, as far as its headers say."""
        resets = {window: window.reset_in(headers) for window in self.windows}
        spent = [reset for window, reset in resets.items() if reset is not None and window.spent(headers)]
        if spent or spent_only:
            return max(spent, default=None)
        return min((reset for reset in resets.values() if reset is not None), default=None)


def never_sent(error: Exception) -> bool:
    """Whether a failed request surely never reached the server: it could not even connect."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    reason = getattr(error.args[0], "reason", None) if error.args else None
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Encoded(str):
    """A query value its protocol has already percent-encoded (a protocol literal): sent exactly as is."""


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
        self,
        source: str,
        endpoint: str,
        status: int | None,
        code: str | None,
        message: str,
        advice: str = "",
        *,
        method: str = "GET",
    ) -> None:
        self.source, self.endpoint, self.status, self.code, self.message = source, endpoint, status, code, message
        outcome = f"HTTP {status}" if status is not None else "no HTTP response"
        text = f"{source}: {method} {endpoint} failed: {outcome}"
        if code:
            text += f" {code}"
        if message:
            text += f": {message}"
        if advice:
            text += f". {advice}"
        super().__init__(text)


class RateLimitExceeded(ApiError):
    """The vendor kept rate limiting after the waits its `RateLimitPolicy` allows, or said its quota is spent."""


class SchemaDrift(ApiError):
    """A response that lacks what the vendor's contract guarantees (a renamed or missing field): the vendor changed
    its API, so the load fails rather than land records it cannot read."""

    def __init__(self, source: str, endpoint: str, what: str) -> None:
        advice = "the vendor's response no longer matches its documented contract: check its changelog"
        super().__init__(source, endpoint, 200, "SCHEMA_DRIFT", what, advice)


@dataclass(frozen=True)
class ApiResponse:
    body: Any
    request: str  # the request URL, credential-free: what `_request` stores
    received_at: datetime


#: A source's reader of its own documented error body: the body's JSON object → (vendor code, message), each
#: empty when the object is not in that shape. Declared beside the source's connector and handed to `ApiClient`.
ErrorBodyParser = Callable[[dict[str, Any]], tuple[object, str]]


def error_of(body: bytes, parse: ErrorBodyParser) -> tuple[str | None, str]:
    """(code, message) of an error answer: what the source's `parse` reads from a JSON object; the start of the
    text for anything else (not JSON, or JSON the source's documented shape does not cover)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        code, message = parse(data)
        if code not in (None, "") or message:
            return (str(code) if code not in (None, "") else None), str(message or "")
    return None, body[:200].decode("utf-8", "replace").strip()


class ApiClient:
    """Calls one vendor's API: `get(path, params)` → `ApiResponse` (JSON), `post(...)`, `get_bytes(...)` (a file);
    `api_calls` counts requests sent. What is vendor-specific comes declared by the source: its `rate_limit`
    policy, its `error_body` parser, its `auth` header and any fixed `headers`."""

    def __init__(
        self,
        source: str,
        config: ApiConfig,
        *,
        rate_limit: RateLimitPolicy,
        error_body: ErrorBodyParser,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        auth: Callable[[str], Mapping[str, str]] = bearer,
    ) -> None:
        self.source = source
        self.api_calls = 0
        self._base_url = config.base_url.rstrip("/")
        self._secrets = (config.token,)
        self._rate_limit, self._error_body, self._retry, self._timeouts = rate_limit, error_body, retry, timeouts
        self._not_before = 0.0  # epoch seconds: the vendor said its window is spent until then
        self._session = requests.Session()
        self._session.headers.update(headers or {})
        self._session.headers.update(auth(config.token))

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def get(self, path: str, params: Sequence[tuple[str, object]] = ()) -> ApiResponse:
        return self.request("GET", path, params)

    def post(
        self, path: str, params: Sequence[tuple[str, object]] = (), *, json: Any = None, form: Any = None
    ) -> ApiResponse:
        """POST a JSON body (`json`) or a form (`form`, a mapping or pairs); the answer is JSON."""
        return self.request("POST", path, params, json=json, form=form)

    def get_link(self, url: str) -> ApiResponse:
        """GET a URL the vendor handed out (a `next` page link). It must lie under this client's base URL: the
        token is only ever sent to the API it belongs to."""
        if not url.startswith(self._base_url + "/"):
            raise ApiError(self.source, redact(url, self._secrets), None, None, "refusing a link outside the API base")
        return self.request("GET", url[len(self._base_url) :])

    def get_bytes(self, path: str, params: Sequence[tuple[str, object]] = ()) -> ApiResponse:
        """GET a file: `ApiResponse.body` is the raw bytes."""
        return self.request("GET", path, params, binary=True)

    def request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, object]] = (),
        *,
        json: Any = None,
        form: Any = None,
        binary: bool = False,
    ) -> ApiResponse:
        query = encode_query(params)
        target = path + (f"?{query}" if query else "")
        url = self._base_url + target
        endpoint = redact(target, self._secrets)
        transient_failures = rate_limited = 0
        idempotent = method in IDEMPOTENT_METHODS
        while True:
            try:
                response = self._send(method, url, json, form)
            except TRANSIENT_EXCEPTIONS as exc:
                status, code, message = None, None, redact(f"{type(exc).__name__}: {exc}", self._secrets)
                may_resend = idempotent or never_sent(exc)
            else:
                may_resend = idempotent
                status = response.status_code
                if status < 400:
                    self._note_window(response.headers)
                    try:
                        body = response.content if binary else orjson.loads(response.content)
                    except orjson.JSONDecodeError as exc:  # cut off on the way (a proxy, a dropped stream)
                        code, message = None, f"response is not JSON ({exc})"
                    else:
                        return ApiResponse(body, redact(url, self._secrets), datetime.now(UTC))
                else:
                    code, message = error_of(response.content, self._error_body)
                    message = redact(message, self._secrets)
                    if self._rate_limit.limits(status, response.headers):
                        rate_limited += 1
                        self._wait_out_rate_limit(method, endpoint, response, code, message, rate_limited)
                        continue
                    if status < 500:
                        raise ApiError(self.source, endpoint, status, code, message, method=method)
                    may_resend = idempotent or (status == 503 and "Retry-After" in response.headers)
            if not may_resend:
                advice = NOT_SENT_AGAIN.format(method)
                raise ApiError(self.source, endpoint, status, code, message, advice, method=method)
            transient_failures += 1
            if transient_failures >= self._retry.attempts:
                advice = f"gave up after {transient_failures} attempts"
                raise ApiError(self.source, endpoint, status, code, message, advice, method=method)
            outcome = f"HTTP {status} {code or ''}" if status is not None else message
            delay = self._retry.delay(transient_failures)
            self._back_off(method, endpoint, outcome, transient_failures, self._retry.attempts, delay)

    def _send(self, method: str, url: str, json: Any, form: Any) -> requests.Response:
        if self._not_before:
            wait = min(self._not_before - time.time(), self._rate_limit.max_wait)
            self._not_before = 0.0
            if wait > 0:
                log.info("%s: the rate-limit window is spent; waiting %.2f s for its reset", self.source, wait)
                time.sleep(wait)
        prepared = self._session.prepare_request(requests.Request(method, url, json=json, data=form))
        prepared.url = url  # requests re-quotes URLs; an `Encoded` literal must go out byte for byte
        environment = self._session.merge_environment_settings(url, {}, None, None, None)
        self.api_calls += 1
        return self._session.send(prepared, timeout=(self._timeouts.connect, self._timeouts.read), **environment)

    def _note_window(self, headers: Mapping[str, str]) -> None:
        """A success that spent a window's last call: hold the next call until the window resets."""
        reset_in = self._rate_limit.reset_in(headers, spent_only=True)
        if reset_in is not None:
            self._not_before = time.time() + reset_in + RESET_SLACK

    def _wait_out_rate_limit(
        self, method: str, endpoint: str, response: requests.Response, code: str | None, message: str, attempt: int
    ) -> None:
        """Sleep as the vendor's policy says, or raise RateLimitExceeded when no wait will do."""
        policy = self._rate_limit
        status = response.status_code
        reason = policy.reason_header
        if reason and reason in response.headers:
            message = f"{message} ({reason}: {response.headers[reason]})".lstrip()
        if code is not None and code in policy.exhausted:
            raise RateLimitExceeded(self.source, endpoint, status, code, message, policy.exhausted[code], method=method)
        if attempt > policy.retries:
            raise RateLimitExceeded(self.source, endpoint, status, code, message, policy.advice, method=method)
        reset_in = policy.reset_in(response.headers)
        if reset_in is None:
            delay = self._retry.delay(attempt)
        elif reset_in + RESET_SLACK > policy.max_wait:
            reset_at = datetime.fromtimestamp(time.time() + reset_in, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            waits = f"beyond the {policy.max_wait:.0f} s a load waits"
            advice = f"the window resets at {reset_at}, {waits}. {policy.advice}"
            raise RateLimitExceeded(self.source, endpoint, status, code, message, advice, method=method)
        else:
            delay = reset_in + RESET_SLACK
        self._back_off(method, endpoint, f"HTTP {status} {code or ''}", attempt, policy.retries + 1, delay)

    def _back_off(self, method: str, endpoint: str, outcome: str, retry: int, attempts: int, delay: float) -> None:
        log.warning(
            "%s: %s %s: %s; attempt %d of %d, retrying in %.2f s",
            self.source,
            method,
            endpoint,
            outcome,
            retry,
            attempts,
            delay,
        )
        time.sleep(delay)
