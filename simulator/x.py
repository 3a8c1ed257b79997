"""X API v2: post lookup `GET /2/tweets?ids=` and user timelines `GET /2/users/{id}/tweets`, as documented.

Rules (reference/api-contracts.md §2):
- `Authorization: Bearer` → else 401 problem JSON. The app's token is app-only auth: public metrics only. A
  member's user-context token (simulator.consent, OAuth 2.0 with PKCE) reads non-public and organic metrics of
  that member's own posts only: for anyone else's posts, and for every post under the app token, those fields are
  left out with a `not-authorized-for-field` partial error ("Field Authorization Error"; the wording is a guess
  after X's field errors). A revoked or expired user token is 401 "Unauthorized";
- `tweet.fields` picks the fields beyond the defaults (id, text, edit_history_tweet_ids); `non_public_metrics` and
  `organic_metrics` exist only for posts younger than 30 days — for older ones the post comes back without them and
  a `not-authorized-for-field` partial error says why;
- lookup: 1–100 numeric ids, else 400 problem JSON; deleted or unknown ids are partial `errors[]` inside the 200;
- timeline: `max_results` 5–100 (default 10), newest first, `pagination_token` = the previous `meta.next_token`,
  `start_time`/`end_time`; no `data` key when a page is empty; with non-public fields asked, posts older than
  30 days are left out of their page but paging goes on (a page can carry `result_count: 0` and a `next_token`);
- rate limits per endpoint in fixed windows of real time (the client sleeps on real time), per app for the app's
  token and per user for each user token (lookup: 3,500 per app, 5,000 per user per 15 minutes): every answer carries
  `x-rate-limit-limit`, `-remaining` and `-reset` (epoch seconds); over the limit, 429 `{"errors":[{"code":88}]}`.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from simulator.company import Company, Share
from simulator.consent import ConsentRegistry
from simulator.messages import ApiRequest, ApiResponse

LOOKUP_PATH = "/2/tweets"
MAX_IDS = 100
TIMELINE_DEFAULT_RESULTS = 10
TIMELINE_RESULTS_RANGE = (5, 100)
TIMELINE_MAX_POSTS = 3200
NON_PUBLIC_MAX_AGE = timedelta(days=30)
NON_PUBLIC_FIELDS = ("non_public_metrics", "organic_metrics")
TWEET_FIELDS = ("created_at", "author_id", "public_metrics", *NON_PUBLIC_FIELDS)
#: Documented limits per 15-minute window (per user for the timeline, per app for the lookup).
WINDOW_SECONDS = 15 * 60
DEFAULT_LIMITS = {"timeline": 900, "lookup": 3500}
USER_LIMITS = {"timeline": 900, "lookup": 5000}

_TIMELINE_PATH = re.compile(r"/2/users/([^/]+)/tweets/?")
_PROBLEMS = "https://api.twitter.com/2/problems/"


class RateWindow:
    """A fixed window of real time with a call budget; the window opens at the first call."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit, self.seconds = limit, seconds
        self._opened_at = 0.0
        self._used = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[bool, dict[str, str]]:
        """Spend one call if the window has one left; the rate-limit headers of the answer either way."""
        with self._lock:
            now = time.time()
            if now >= self._opened_at + self.seconds:
                self._opened_at, self._used = now, 0
            allowed = self._used < self.limit
            if allowed:
                self._used += 1
            headers = {
                "x-rate-limit-limit": str(self.limit),
                "x-rate-limit-remaining": str(self.limit - self._used),
                "x-rate-limit-reset": str(math.ceil(self._opened_at + self.seconds)),
            }
        return allowed, headers


def _problem(http_status: int, title: str, detail: str, kind: str, **extra: object) -> ApiResponse:
    return ApiResponse(http_status, {**extra, "title": title, "detail": detail, "type": kind})


def _invalid(parameter: str, value: object, message: str) -> ApiResponse:
    errors = [{"parameters": {parameter: [value]}, "message": message}]
    detail = "One or more parameters to your request was invalid."
    return _problem(400, "Invalid Request", detail, _PROBLEMS + "invalid-request", errors=errors)


def _iso_millis(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class XApi:
    def __init__(
        self,
        company: Company,
        token: str,
        rate_limit: tuple[int, float] | None = None,
        consent: ConsentRegistry | None = None,
    ) -> None:
        self._company = company
        self._token = token
        self._rate_limit = rate_limit
        self._windows = {
            endpoint: RateWindow(*(rate_limit or (limit, WINDOW_SECONDS))) for endpoint, limit in DEFAULT_LIMITS.items()
        }
        self._user_windows: dict[tuple[str, str], RateWindow] = {}
        self._windows_lock = threading.Lock()
        self.consent = consent if consent is not None else ConsentRegistry.for_company(company, token)

    def _user_window(self, member: str, endpoint: str) -> RateWindow:
        with self._windows_lock:
            key = (member, endpoint)
            if key not in self._user_windows:
                self._user_windows[key] = RateWindow(*(self._rate_limit or (USER_LIMITS[endpoint], WINDOW_SECONDS)))
            return self._user_windows[key]

    def handle(self, request: ApiRequest) -> ApiResponse:
        member: str | None = None
        if not request.has_bearer_token(self._token):
            scheme, _, bearer = (request.header("authorization") or "").partition(" ")
            principal = self.consent.identify("x", bearer.strip() if scheme.lower() == "bearer" else None)
            if principal is None or principal.error:
                return _problem(401, "Unauthorized", "Unauthorized", "about:blank", status=401)
            member = principal.employee_id
        path = request.path.rstrip("/")
        timeline = _TIMELINE_PATH.fullmatch(request.path)
        if path != LOOKUP_PATH and timeline is None:
            return _problem(404, "Not Found Error", f"No route {request.path}", _PROBLEMS + "resource-not-found")
        if request.method != "GET":
            return _problem(405, "Method Not Allowed", f"{request.method} {request.path}", "about:blank")
        endpoint = "lookup" if timeline is None else "timeline"
        window = self._windows[endpoint] if member is None else self._user_window(member, endpoint)
        allowed, headers = window.take()
        if not allowed:
            return ApiResponse(429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers)
        params = {name: values[-1] for name, values in parse_qs(request.raw_query, keep_blank_values=True).items()}
        fields = [f for f in params.get("tweet.fields", "").split(",") if f]
        unknown = [f for f in fields if f not in TWEET_FIELDS]
        if unknown:
            message = f"The `tweet.fields` query parameter value {unknown} is not one of {list(TWEET_FIELDS)}"
            answer = _invalid("tweet.fields", ",".join(unknown), message)
        elif timeline is None:
            answer = self._lookup(params, fields, member)
        else:
            answer = self._timeline(timeline[1], params, fields, member)
        return ApiResponse(answer.status, answer.body, {**answer.headers, **headers})

    def _lookup(self, params: Mapping[str, str], fields: list[str], member: str | None = None) -> ApiResponse:
        ids = params.get("ids", "").split(",") if params.get("ids") else []
        if not 1 <= len(ids) <= MAX_IDS:
            return _invalid("ids", params.get("ids", ""), f"ids must hold between 1 and {MAX_IDS} post ids")
        malformed = next((i for i in ids if not (i.isascii() and i.isdigit() and len(i) <= 19)), None)
        if malformed is not None:
            return _invalid("ids", malformed, f"The `ids` query parameter value [{malformed}] is not valid")
        data, errors = [], []
        for tweet_id in ids:
            share = self._company.find_tweet(tweet_id)
            if share is None or self._company.is_deleted(share):
                errors.append(
                    {
                        "value": tweet_id,
                        "detail": f"Could not find tweet with ids: [{tweet_id}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "ids",
                        "resource_id": tweet_id,
                        "type": _PROBLEMS + "resource-not-found",
                    }
                )
                continue
            data.append(self._tweet(share, fields, member))
            errors += self._field_errors(share, fields, member)
        body: dict[str, object] = {"data": data} if data else {}
        if errors:
            body["errors"] = errors
        return ApiResponse(200, body)

    def _timeline(
        self, user_id: str, params: Mapping[str, str], fields: list[str], member: str | None = None
    ) -> ApiResponse:
        tweets = self._company.x_timeline(user_id)
        if tweets is None:
            error = {
                "value": user_id,
                "detail": f"Could not find user with id: [{user_id}].",
                "title": "Not Found Error",
                "resource_type": "user",
                "parameter": "id",
                "resource_id": user_id,
                "type": _PROBLEMS + "resource-not-found",
            }
            return ApiResponse(200, {"errors": [error]})
        results_text = params.get("max_results", str(TIMELINE_DEFAULT_RESULTS))
        low, high = TIMELINE_RESULTS_RANGE
        if not results_text.isdigit() or not low <= int(results_text) <= high:
            return _invalid("max_results", results_text, f"max_results must be between {low} and {high}")
        max_results = int(results_text)
        for name in ("start_time", "end_time"):
            if name in params:
                try:
                    instant = datetime.fromisoformat(params[name])
                except ValueError:
                    return _invalid(name, params[name], f"{name} must be an ISO 8601 date-time")
                instant = instant if instant.tzinfo else instant.replace(tzinfo=UTC)
                if name == "start_time":
                    tweets = [s for s in tweets if s.shared_at >= instant]
                else:
                    tweets = [s for s in tweets if s.shared_at < instant]
        tweets = tweets[:TIMELINE_MAX_POSTS]
        offset = 0
        if "pagination_token" in params:
            offset = self._offset_of(user_id, params["pagination_token"])
            if offset is None:
                return _invalid("pagination_token", params["pagination_token"], "pagination_token is not valid")
        page = tweets[offset : offset + max_results]
        if any(field in NON_PUBLIC_FIELDS for field in fields):
            page = [s for s in page if self._young(s)]
        meta: dict[str, object] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0].post_id, "oldest_id": page[-1].post_id}
        if offset + max_results < len(tweets):
            meta["next_token"] = self._token_of(user_id, offset + max_results)
        if offset > 0:
            meta["previous_token"] = self._token_of(user_id, max(0, offset - max_results))
        body: dict[str, object] = {"data": [self._tweet(s, fields, member) for s in page]} if page else {}
        return ApiResponse(200, {**body, "meta": meta})

    def _young(self, share: Share) -> bool:
        return self._company.as_of - share.shared_at < NON_PUBLIC_MAX_AGE

    def _authorized(self, share: Share, member: str | None) -> bool:
        """Non-public metrics: the author's own user context, on a post younger than 30 days."""
        return member is not None and share.employee_id == member and self._young(share)

    def _tweet(self, share: Share, fields: list[str], member: str | None = None) -> dict:
        account = self._company.x_accounts[share.employee_id]
        tweet: dict[str, object] = {
            "id": share.post_id,
            "text": f"Worth a read: {share.content_id} https://{share.tracking_link}",
            "edit_history_tweet_ids": [share.post_id],
        }
        if "created_at" in fields:
            tweet["created_at"] = _iso_millis(share.shared_at)
        if "author_id" in fields:
            tweet["author_id"] = account.user_id
        counters = self._company.counters(share)
        if "public_metrics" in fields:
            tweet["public_metrics"] = {
                "retweet_count": counters.reshares,
                "reply_count": counters.comments,
                "like_count": counters.reactions,
                "quote_count": counters.quotes,
                "bookmark_count": counters.bookmarks,
                "impression_count": counters.impressions,
            }
        if self._authorized(share, member):
            if "non_public_metrics" in fields:
                tweet["non_public_metrics"] = {
                    "impression_count": counters.impressions,
                    "url_link_clicks": counters.link_clicks,
                    "user_profile_clicks": counters.profile_clicks,
                }
            if "organic_metrics" in fields:
                tweet["organic_metrics"] = {
                    "impression_count": counters.impressions,
                    "like_count": counters.reactions,
                    "reply_count": counters.comments,
                    "retweet_count": counters.reshares,
                    "url_link_clicks": counters.link_clicks,
                    "user_profile_clicks": counters.profile_clicks,
                }
        return tweet

    def _field_errors(self, share: Share, fields: list[str], member: str | None = None) -> list[dict]:
        if self._authorized(share, member):
            return []
        why = "posts older than 30 days" if not self._young(share) else "user context of the post's author only"
        return [
            {
                "value": share.post_id,
                "detail": f"Sorry, you are not authorized to access '{field}' on the Tweet with ids: [{share.post_id}]"
                f" ({why}).",
                "title": "Field Authorization Error",
                "resource_type": "tweet",
                "parameter": field,
                "resource_id": share.post_id,
                "field": field,
                "type": _PROBLEMS + "not-authorized-for-field",
            }
            for field in fields
            if field in NON_PUBLIC_FIELDS
        ]

    @staticmethod
    def _token_of(user_id: str, offset: int) -> str:
        """An opaque cursor: the offset, tied to the user it pages."""
        return f"{offset:x}g{int(user_id) % 1_000_003:x}"

    @staticmethod
    def _offset_of(user_id: str, token: str) -> int | None:
        offset, _, check = token.partition("g")
        try:
            valid = int(check, 16) == int(user_id) % 1_000_003
            return int(offset, 16) if valid else None
        except ValueError:
            return None
