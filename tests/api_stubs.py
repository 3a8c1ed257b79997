"""Test doubles shared by the ingestion tests (no tests here): real HTTP servers on 127.0.0.1 that speak the
LinkedIn and Typeform contracts (api-contracts.md §1d, §5 and the skeleton spec), and shares-file writers."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import orjson

TOKEN = "s3cr3t-T0KEN-never-to-be-seen"


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON-serialisable, or bytes sent as they are
    delay: float = 0.0  # seconds to stall before answering (to trip read timeouts)
    headers: Mapping[str, str] = field(default_factory=dict)


App = Callable[[str, Mapping[str, str]], Reply]


@contextmanager
def serve(app: App) -> Iterator[str]:
    """Serve `app(raw request path, headers)` on 127.0.0.1 at a free port; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply = app(self.path, self.headers)
            if reply.delay:
                threading.Event().wait(reply.delay)
            body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out and went away

        def do_POST(self) -> None:  # the body is read and dropped: the apps answer by path and headers
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class RecordingApp:
    """Keeps every request (raw path, headers) and answers `fail_first` statuses before the real answer."""

    def __init__(self, fail_first: tuple[int, ...] = ()) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._fail_first = list(fail_first)
        self._lock = threading.Lock()

    def __call__(self, path: str, headers: Mapping[str, str]) -> Reply:
        with self._lock:
            self.requests.append((path, dict(headers)))
            injected = self._fail_first.pop(0) if self._fail_first else None
        if injected is not None:
            return Reply(injected, {"status": injected, "message": "injected failure"})
        return self.answer(path, headers)

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        raise NotImplementedError

    @property
    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


# --- LinkedIn memberCreatorPostAnalytics -------------------------------------------------------------------------

METRIC_TYPE_UNION_KEY = "com.linkedin.adsexternalapi.memberanalytics.v1.CreatorPostAnalyticsMetricTypeV1"
LINKEDIN_ENTITY = re.compile(r"\((share|ugc):(urn%3Ali%3A(share|ugcPost)%3A\d+)\)")
LINKEDIN_QUERY_TYPES = {"IMPRESSION", "MEMBERS_REACHED", "REACTION", "COMMENT", "RESHARE", "LINK_CLICKS"}


def linkedin_error(status: int, code: str, message: str, service_code: int | None = None) -> Reply:
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    return Reply(status, body)


def raw_query(path: str) -> dict[str, str]:
    """Query parameters exactly as they came over the wire (not decoded)."""
    query = path.partition("?")[2]
    return dict(pair.partition("=")[::2] for pair in query.split("&") if pair)


class LinkedInStub(RecordingApp):
    """`counts[post_urn][queryType]` served the documented way; `daily_quota` calls before 429s without headers."""

    PREFIX = "/linkedin/rest"

    def __init__(
        self,
        counts: dict[str, dict[str, int]],
        *,
        oldest_version: str = "202512",
        daily_quota: int | None = None,
        fail_first: tuple[int, ...] = (),
    ) -> None:
        super().__init__(fail_first)
        self.counts, self.oldest_version, self.daily_quota = counts, oldest_version, daily_quota

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return linkedin_error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
        version = headers.get("LinkedIn-Version")
        if not version:
            return linkedin_error(400, "VERSION_MISSING", "A version must be present")
        if not re.fullmatch(r"\d{6}", version) or version < self.oldest_version:
            return linkedin_error(426, "NONEXISTENT_VERSION", f"Requested version {version} is not active")
        if headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version must be 2.0.0")
        if self.daily_quota is not None and len(self.requests) > self.daily_quota:
            return linkedin_error(429, "TOO_MANY_REQUESTS", "Resource level throttle DAY limit reached", 101)
        if path.partition("?")[0] != f"{self.PREFIX}/memberCreatorPostAnalytics":
            return linkedin_error(404, "NOT_FOUND", "No such resource")
        query = raw_query(path)
        entity = LINKEDIN_ENTITY.fullmatch(query.get("entity", ""))
        if query.get("q") != "entity" or query.get("aggregation") != "TOTAL" or entity is None:
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "Invalid query parameters")
        member, urn, urn_type = entity.group(1), unquote(entity.group(2)), entity.group(3)
        if (member, urn_type) not in (("share", "share"), ("ugc", "ugcPost")):
            return linkedin_error(400, "ILLEGAL_ARGUMENT", "Entity union member does not match the URN")
        query_type = query.get("queryType")
        if query_type not in LINKEDIN_QUERY_TYPES or (query_type == "LINK_CLICKS" and version < "202604"):
            return linkedin_error(400, "ILLEGAL_ARGUMENT", f"Invalid queryType {query_type}")
        if urn not in self.counts:
            return linkedin_error(404, "NOT_FOUND", f"Entity {urn} not found")
        metric = query_type if version >= "202605" else {METRIC_TYPE_UNION_KEY: query_type}
        element = {
            "count": self.counts[urn][query_type],
            "metricType": metric,
            "targetEntity": {member: urn},
            "dateRange": {},
        }
        start, count = int(query.get("start", "0")), int(query.get("count", "10"))
        return Reply(
            200, {"paging": {"start": start, "count": count, "links": []}, "elements": [element][start : start + count]}
        )


# --- Typeform responses ------------------------------------------------------------------------------------------


def typeform_time(value: str) -> datetime:
    return datetime.fromtimestamp(int(value), UTC) if value.isdigit() else datetime.fromisoformat(value)


def typeform_response(token: str | None, submitted_at: str, employee_id: str = "e-0001") -> dict[str, Any]:
    item: dict[str, Any] = {
        "landing_id": f"landing-{token}",
        "token": token,
        "response_id": token,
        "landed_at": submitted_at,
        "submitted_at": submitted_at,
        "metadata": {"platform": "other", "browser": "default"},
        "hidden": {"employee_id": employee_id},
        "calculated": {"score": 0},
        "answers": [{"field": {"id": "f1", "ref": "proud_1", "type": "opinion_scale"}, "type": "number", "number": 4}],
    }
    if token is None:
        del item["token"]
    return item


def typeform_error(status: int, code: str, description: str, field: str | None = None) -> Reply:
    body: dict[str, Any] = {"code": code, "description": description}
    if field:
        body["details"] = [{"code": "INVALID", "description": description, "field": field, "in": "query"}]
    return Reply(status, body)


class TypeformStub(RecordingApp):
    """`forms[form_id]` = response items; since/until (inclusive), sort, exclusive `after` token cursor, page_size."""

    PREFIX = "/typeform"

    def __init__(self, forms: dict[str, list[dict[str, Any]]], fail_first: tuple[int, ...] = ()) -> None:
        super().__init__(fail_first)
        self.forms = forms

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return typeform_error(401, "AUTHENTICATION_FAILED", "Authentication credentials not found")
        route = re.fullmatch(rf"{self.PREFIX}/forms/([^/?]+)/responses(?:\?(.*))?", path)
        if route is None:
            return typeform_error(404, "NOT_FOUND", "No such endpoint")
        form_id = unquote(route.group(1))
        params = {name: values[0] for name, values in parse_qs(route.group(2) or "").items()}
        if form_id not in self.forms:
            return typeform_error(404, "FORM_NOT_FOUND", f"Form {form_id} not found")
        page_size = params.get("page_size", "25")
        if not page_size.isdigit() or not 1 <= int(page_size) <= 1000:
            return typeform_error(400, "VALIDATION_ERROR", "page_size must be between 1 and 1000", "page_size")
        items = self.forms[form_id]
        if "since" in params:
            items = [i for i in items if typeform_time(i["submitted_at"]) >= typeform_time(params["since"])]
        if "until" in params:
            items = [i for i in items if typeform_time(i["submitted_at"]) <= typeform_time(params["until"])]
        descending = params.get("sort", "submitted_at,desc") == "submitted_at,desc"
        items = sorted(
            items, key=lambda item: (typeform_time(item["submitted_at"]), item.get("token", "")), reverse=descending
        )
        total = len(items)
        if "after" in params:
            tokens = [i.get("token") for i in items]
            if params["after"] not in tokens:
                return typeform_error(400, "VALIDATION_ERROR", "unknown response token", "after")
            items = items[tokens.index(params["after"]) + 1 :]
        size = int(page_size)
        return Reply(200, {"total_items": total, "page_count": math.ceil(total / size), "items": items[:size]})


# --- Advocacy shares export --------------------------------------------------------------------------------------

SHARES_HEADER = (
    "share_id,employee_id,content_id,network,post_id,shared_at,"
    "tracking_link,share_mode,copy_edited,campaign,audience_size"
)


def share_line(share_id: str, post_id: str, shared_at: str, **overrides: str) -> str:
    values = {
        "share_id": share_id,
        "employee_id": "e-0001",
        "content_id": "c-001",
        "network": "linkedin",
        "post_id": post_id,
        "shared_at": shared_at,
        "tracking_link": "bit.ly/abc1234",
        "share_mode": "manual",
        "copy_edited": "true",
        "campaign": "",
        "audience_size": "1200",
    } | overrides
    return ",".join(values[name] for name in SHARES_HEADER.split(","))


def write_shares_file(drop_dir: Path, day: str, lines: list[str], header: str = SHARES_HEADER) -> Path:
    folder = drop_dir / "advocacy"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"shares_{day}.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


# --- X API v2 post lookup ----------------------------------------------------------------------------------------


def x_tweet(tweet_id: str, likes: int = 3, impressions: int = 100, non_public: bool = True) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": tweet_id,
        "text": "Worth a read https://bit.ly/abc1234",
        "edit_history_tweet_ids": [tweet_id],
        "created_at": "2026-11-24T09:00:00.000Z",
        "public_metrics": {
            "retweet_count": 1,
            "reply_count": 0,
            "like_count": likes,
            "quote_count": 0,
            "bookmark_count": 0,
            "impression_count": impressions,
        },
    }
    if non_public:
        tweet["non_public_metrics"] = {"impression_count": impressions, "url_link_clicks": 2, "user_profile_clicks": 0}
        tweet["organic_metrics"] = {"impression_count": impressions, "like_count": likes, "url_link_clicks": 2}
    return tweet


def x_not_found(tweet_id: str) -> dict[str, Any]:
    return {
        "value": tweet_id,
        "detail": f"Could not find tweet with ids: [{tweet_id}].",
        "title": "Not Found Error",
        "resource_type": "tweet",
        "parameter": "ids",
        "resource_id": tweet_id,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


class XStub(RecordingApp):
    """`GET /x/2/tweets?ids=…&tweet.fields=…` over `tweets[id]`; ids not in it are partial not-found errors.
    `limit` calls per window of `window` seconds, with X's rate-limit headers on every answer."""

    PREFIX = "/x/2"

    def __init__(
        self, tweets: dict[str, dict[str, Any]], *, limit: int = 3500, window: float = 900.0, tell_remaining=True
    ) -> None:
        super().__init__()
        self.tweets, self.limit, self.window, self.tell_remaining = tweets, limit, window, tell_remaining
        self._opened_at, self._used = 0.0, 0
        self.answered: list[tuple[float, int, int]] = []  # (when, status, the reset announced)

    def _take(self) -> tuple[bool, dict[str, str]]:
        now = time.time()
        if now >= self._opened_at + self.window:
            self._opened_at, self._used = now, 0
        allowed = self._used < self.limit
        self._used += allowed
        headers = {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - self._used),
            "x-rate-limit-reset": str(math.ceil(self._opened_at + self.window)),  # epoch seconds
        }
        if not self.tell_remaining:
            del headers["x-rate-limit-remaining"]
        return allowed, headers

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return Reply(401, {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401})
        allowed, limit_headers = self._take()
        self.answered.append((time.time(), 200 if allowed else 429, int(limit_headers["x-rate-limit-reset"])))
        if not allowed:
            return Reply(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers=limit_headers)
        route, _, query = path.partition("?")
        params = {name: values[0] for name, values in parse_qs(query).items()}
        ids = params.get("ids", "").split(",")
        if route != f"{self.PREFIX}/tweets" or not 1 <= len(ids) <= 100:
            problem = "https://api.twitter.com/2/problems/invalid-request"
            return Reply(400, {"title": "Invalid Request", "detail": "bad ids", "type": problem}, headers=limit_headers)
        fields = params.get("tweet.fields", "").split(",")
        data, errors = [], []
        for tweet_id in ids:
            if tweet_id not in self.tweets:
                errors.append(x_not_found(tweet_id))
                continue
            tweet = dict(self.tweets[tweet_id])
            for name in ("non_public_metrics", "organic_metrics"):
                if name not in fields:
                    tweet.pop(name, None)
            data.append(tweet)
        body: dict[str, Any] = ({"data": data} if data else {}) | ({"errors": errors} if errors else {})
        return Reply(200, body, headers=limit_headers)


# --- Bitly v4 clicks ---------------------------------------------------------------------------------------------


def bitly_buckets(*days_and_clicks: tuple[str, int]) -> dict[str, Any]:
    link_clicks = [{"clicks": clicks, "date": f"{day}T00:00:00+0000"} for day, clicks in days_and_clicks]
    return {"link_clicks": link_clicks, "units": len(link_clicks), "unit": "day", "unit_reference": "…"}


class BitlyStub(RecordingApp):
    """Answers every clicks call with `body(path)`; after `monthly_quota` calls, 429 MONTHLY_LIMIT_EXCEEDED."""

    def __init__(self, body: Callable[[str], Any], monthly_quota: int | None = None) -> None:
        super().__init__()
        self.body, self.monthly_quota = body, monthly_quota

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        if self.monthly_quota is not None and len(self.requests) > self.monthly_quota:
            body = {"message": "MONTHLY_LIMIT_EXCEEDED", "description": "Monthly limit reached", "resource": "bitlinks"}
            return Reply(429, body)
        return Reply(200, self.body(path))
