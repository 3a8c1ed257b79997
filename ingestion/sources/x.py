"""X API v2 post lookup: each shared post's public, non-public and organic metrics, up to 100 ids per call.

`GET /2/tweets?ids=<up to 100 ids>&tweet.fields=created_at,public_metrics[,non_public_metrics,organic_metrics]`.
Non-public and organic metrics exist only for posts younger than 30 days (and only with the author's user
context), so posts are asked in two groups: the young ones with every metric field, the older ones with public
metrics only. A 200 can carry partial `errors[]`: a post missing from `data` (deleted, protected) is quarantined
with X's reason and the rest of the page lands. So is a post without `public_metrics`; but a night in which posts
came back and not one had it is X's contract changing, and fails the load (`without_drift`). A 429 waits until
`x-rate-limit-reset` — an epoch in seconds, not a delay — for at most one 15-minute window; a success that spends
the window's last call waits the same way before the next call.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from ingestion import oauth
from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    RateLimitPolicy,
    RateWindow,
    RetryPolicy,
    SchemaDrift,
    Timeouts,
    encode_query,
)
from ingestion.members import MemberAccess, member_pool
from ingestion.raw_queries import SharedPost, end_of
from ingestion.records import Quarantined, Row, Target, as_json_text

log = logging.getLogger(__name__)

TARGET = Target("x", "tweet_metrics", "x__tweet_metrics", ("tweet_id", "metrics_access"))
#: How a post's metrics were read (`raw.x__tweet_metrics.metrics_access`): with its author's user-context token
#: (non-public and organic metrics when younger than 30 days: link clicks, so a click-through rate), or with the
#: app's token, public metrics only (its author has no valid user token, or the post is older than 30 days).
USER_CONTEXT, APP_PUBLIC = "user_context", "app_public"

ENDPOINT = "/tweets"
BATCH_SIZE = 100
PUBLIC_FIELDS = ("created_at", "public_metrics")
ALL_FIELDS = (*PUBLIC_FIELDS, "non_public_metrics", "organic_metrics")
#: Non-public metrics exist for 30 days; a day of slack, since the night runs some hours after its logical date.
NON_PUBLIC_ASKED_FOR = timedelta(days=29)
WINDOW = timedelta(minutes=15)
NO_PUBLIC_METRICS = "has no `public_metrics` object"

RATE_LIMIT = RateLimitPolicy(
    retries=3,
    advice="X's 15-minute rate-limit window stayed spent; rerun the load after the reset",
    windows=(RateWindow("x-rate-limit-remaining", "x-rate-limit-reset", reset_is_epoch=True),),
    max_wait=WINDOW.total_seconds() + 5,
)


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """X's error bodies: problem JSON `{title, detail, type}` for a request-level error, else `{errors: [{code,
    message}]}` (the 429 body, `code` 88): the first error's code and message."""
    if "title" in data or "detail" in data:
        return data.get("title"), str(data.get("detail") or "")
    errors = data.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    return first.get("code"), str(first.get("message") or first.get("detail") or "")


def client(
    api: ApiConfig,
    *,
    retry: RetryPolicy = RetryPolicy(),
    timeouts: Timeouts = Timeouts(),
    rate_limit: RateLimitPolicy = RATE_LIMIT,
) -> ApiClient:
    return ApiClient("x", api, rate_limit=rate_limit, error_body=error_body, retry=retry, timeouts=timeouts)


def without_drift(records: Iterator[Row | Quarantined]) -> Iterator[Row | Quarantined]:
    """The night's records as they come, unless posts came back and not one had `public_metrics`: then X renamed or
    dropped it for everyone, and SchemaDrift fails the load (nothing lands) instead of quarantining the night."""
    landed = without_metrics = 0
    for record in records:
        landed += isinstance(record, Row)
        without_metrics += isinstance(record, Quarantined) and record.reason.endswith(NO_PUBLIC_METRICS)
        yield record
    if without_metrics and not landed:
        what = f"no post of the night has a `public_metrics` object ({without_metrics} posts)"
        raise SchemaDrift("x", ENDPOINT, what)


def is_tweet_id(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 19


class TweetMetricsExtraction:
    """Every post's tweet object with the metrics its age allows, in batches of 100 ids."""

    def __init__(
        self, client: ApiClient, posts: Sequence[SharedPost], logical_date: date, access: str = APP_PUBLIC
    ) -> None:
        self._client, self._posts, self._logical_date, self._access = client, posts, logical_date, access

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def batches(self) -> list[tuple[tuple[str, ...], list[str]]]:
        """(tweet.fields, ids) per call: young posts with every metric, older ones with public metrics only."""
        end = end_of(self._logical_date)
        valid = [post for post in self._posts if is_tweet_id(post.post_id)]
        young = [post.post_id for post in valid if end - post.shared_at < NON_PUBLIC_ASKED_FOR]
        old = [post.post_id for post in valid if end - post.shared_at >= NON_PUBLIC_ASKED_FOR]
        return [
            (fields, ids[start : start + BATCH_SIZE])
            for fields, ids in ((ALL_FIELDS, young), (PUBLIC_FIELDS, old))
            for start in range(0, len(ids), BATCH_SIZE)
        ]

    def records(self) -> Iterator[Row | Quarantined]:
        return without_drift(self._records())

    def _records(self) -> Iterator[Row | Quarantined]:
        for post in self._posts:
            if not is_tweet_id(post.post_id):
                yield Quarantined(f"not an X post id: {post.post_id!r}", as_json_text({"post_id": post.post_id}))
        for fields, ids in self.batches():
            params = [("ids", ",".join(ids)), ("tweet.fields", ",".join(fields))]
            response = self._client.get(ENDPOINT, params)
            endpoint = f"{ENDPOINT}?{encode_query(params)}"
            yield from self.batch_records(ids, response.body, endpoint, response.request, response.received_at)

    def state(self) -> dict[str, Any]:
        return {"logical_date": self._logical_date.isoformat(), "posts": len(self._posts)}

    def records_public(self) -> Iterator[Row | Quarantined]:
        """Every post with public metrics only (app-only auth reads nothing else), 100 ids a call."""
        ids = [post.post_id for post in self._posts]
        for start in range(0, len(ids), BATCH_SIZE):
            batch = ids[start : start + BATCH_SIZE]
            params = [("ids", ",".join(batch)), ("tweet.fields", ",".join(PUBLIC_FIELDS))]
            response = self._client.get(ENDPOINT, params)
            endpoint = f"{ENDPOINT}?{encode_query(params)}"
            yield from self.batch_records(batch, response.body, endpoint, response.request, response.received_at)

    def batch_records(
        self, ids: list[str], body: Any, endpoint: str, request: str, received_at: datetime
    ) -> Iterator[Row | Quarantined]:
        if not isinstance(body, dict):
            raise SchemaDrift(self._client.source, endpoint, "the answer is not a JSON object")
        tweets = body.get("data", [])
        errors = body.get("errors", [])
        if not isinstance(tweets, list) or not isinstance(errors, list):
            raise SchemaDrift(self._client.source, endpoint, "`data` or `errors` is not a list")
        for tweet in tweets:
            if not isinstance(tweet, dict) or not isinstance(tweet.get("id"), str):
                raise SchemaDrift(self._client.source, endpoint, "a post in `data` has no string `id`")
        returned = set()
        for tweet in tweets:
            returned.add(tweet["id"])
            if not isinstance(tweet.get("public_metrics"), dict):
                yield Quarantined(f"post {tweet['id']} {NO_PUBLIC_METRICS}", as_json_text(tweet))
                continue
            yield self._record(tweet, request, received_at, self._access)
        explained = set()
        for error in errors:
            resource = error.get("resource_id") if isinstance(error, dict) else None
            if resource in returned:  # a field X withholds (non-public metrics of an older post): the post landed
                log.info("x: post %s landed without %s: %s", resource, error.get("parameter"), error.get("title"))
                continue
            explained.add(resource)
            reason = f"post not returned by X ({error.get('title')}): {error.get('detail')}" if resource else None
            yield Quarantined(reason or "X reported an error not tied to a post", as_json_text(error))
        for missing in sorted(set(ids) - returned - explained):
            reason = "post neither returned nor explained by X's errors"
            yield Quarantined(reason, as_json_text({"post_id": missing, "request": endpoint}))

    @staticmethod
    def _record(tweet: dict, request: str, received_at: datetime, access: str = APP_PUBLIC) -> Row | Quarantined:
        counts = tweet["public_metrics"]
        bad = {
            name: value
            for name, value in counts.items()
            if not isinstance(value, int) or isinstance(value, bool) or value < 0
        }
        if bad:
            return Quarantined(f"public_metrics not non-negative integers: {bad}", as_json_text(tweet))
        return Row((tweet["id"], access), tweet, request, received_at)


class MemberTweetMetricsExtraction:
    """Every due post, read with the best access there is: posts younger than 30 days whose author holds a usable
    user token are looked up with that token (every metric field, 100 ids a call, authors concurrently on
    `access.workers` threads, each author's calls within their own 15-minute windows); every other post (author
    without a valid token, or older than 30 days) with the app's token and public metrics only, flagged
    `app_public` (no link clicks, so no click-through rate). A 401 on an author's token marks it `revoked` and
    falls back to the app's token for their posts; the night goes on."""

    def __init__(
        self,
        app_client: ApiClient,
        api: ApiConfig,
        posts: Sequence[SharedPost],
        authors: Mapping[str, str],
        logical_date: date,
        access: MemberAccess,
        *,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        self._app, self._api, self._posts, self._authors = app_client, api, posts, authors
        self._logical_date, self._access, self._retry, self._timeouts = logical_date, access, retry, timeouts
        self._member_calls = 0
        self._lock = threading.Lock()
        self.read_as: dict[str, int] = {USER_CONTEXT: 0, APP_PUBLIC: 0}

    @property
    def api_calls(self) -> int:
        return self._app.api_calls + self._member_calls

    def state(self) -> dict[str, Any]:
        return {
            "logical_date": self._logical_date.isoformat(),
            "posts": len(self._posts),
            "posts_by_access": dict(self.read_as),
        }

    def records(self) -> Iterator[Row | Quarantined]:
        return without_drift(self._records())

    def _records(self) -> Iterator[Row | Quarantined]:
        end = end_of(self._logical_date)
        valid: list[SharedPost] = []
        young_by_author: dict[str, list[SharedPost]] = {}
        public: list[SharedPost] = []
        for post in self._posts:
            if not is_tweet_id(post.post_id):
                yield Quarantined(f"not an X post id: {post.post_id!r}", as_json_text({"post_id": post.post_id}))
                continue
            valid.append(post)
            author = self._authors.get(post.post_id)
            if end - post.shared_at < NON_PUBLIC_ASKED_FOR and author:
                young_by_author.setdefault(author, []).append(post)
            else:
                public.append(post)
        tokens = self._access.tokens(young_by_author)
        self._refusals: list[tuple[Any, ApiError]] = []
        fallback: list[SharedPost] = []
        for result in member_pool(
            young_by_author,
            lambda author, posts: self._author(author, posts, tokens.get(author)),
            self._access.workers,
        ):
            records, unread = result
            yield from records
            fallback.extend(unread)
        tried = sum(1 for author in young_by_author if tokens.get(author) is not None and tokens[author].usable)
        if not (len(self._refusals) >= 3 and len(self._refusals) == tried):  # all refused: the app's problem
            for token, error in self._refusals:
                self._access.refused(token, error.status, f"{error.code or ''} {error.message}".strip())
        else:
            log.error(
                "x: every one of the %d user tokens tried was refused: marking none (check the app)",
                len(self._refusals),
            )
        app_posts = public + fallback
        if app_posts:
            self.read_as[APP_PUBLIC] += len(app_posts)
            yield from TweetMetricsExtraction(self._app, app_posts, self._logical_date, APP_PUBLIC).records_public()

    def _author(self, author: str, posts: list[SharedPost], token) -> tuple[list[Row | Quarantined], list[SharedPost]]:
        """(records read with the author's token, posts left for the app's token)."""
        if token is None or not token.usable:
            return [], posts
        try:
            token = self._access.ready(token)
        except oauth.OAuthError as error:
            log.warning("x: employee %s's token could not be refreshed (%s): public metrics only", author, error)
            return [], posts
        if not token.usable:
            return [], posts
        member_client = client(
            ApiConfig(self._api.base_url, token.access_token.reveal()), retry=self._retry, timeouts=self._timeouts
        )
        records: list[Row | Quarantined] = []
        try:
            extraction = TweetMetricsExtraction(member_client, posts, self._logical_date, USER_CONTEXT)
            ids = [post.post_id for post in posts]
            for start in range(0, len(ids), BATCH_SIZE):
                batch = ids[start : start + BATCH_SIZE]
                params = [("ids", ",".join(batch)), ("tweet.fields", ",".join(ALL_FIELDS))]
                try:
                    response = member_client.get(ENDPOINT, params)
                except ApiError as error:
                    if error.status in (401, 403):
                        with self._lock:
                            self._refusals.append((token, error))  # marked once every author was tried
                        done = {r.keys[0] for r in records if isinstance(r, Row)}
                        return records, [p for p in posts if p.post_id not in done]
                    raise
                endpoint = f"{ENDPOINT}?{encode_query(params)}"
                records.extend(
                    extraction.batch_records(batch, response.body, endpoint, response.request, response.received_at)
                )
            with self._lock:
                self.read_as[USER_CONTEXT] += len(posts)
            return records, []
        finally:
            with self._lock:
                self._member_calls += member_client.api_calls
            member_client.close()
