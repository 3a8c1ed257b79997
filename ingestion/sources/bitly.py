"""Bitly v4: clicks per tracking link per day, `GET /v4/bitlinks/{bitlink}/clicks?unit=day&units=N&unit_reference=…`.

A tracking link counts clicks from every source (the posts, but also e-mail, chat, dark social), so its clicks are
at least the platforms' link clicks. Only complete days up to the logical date land, each once: per link, the
state keeps the last day landed, and the next night asks for the days after it in ONE call (`units` = their count,
`unit_reference` = the end of the last one, URL-encoded as Bitly requires: `+` → %2B, `:` → %3A). `{bitlink}` is
`domain/hash` without a scheme.

Bitly's 429 means the monthly quota is spent (`MONTHLY_LIMIT_EXCEEDED`): no wait helps, the load fails at once.
A 403 with `X-Ratelimit-Reason` is a per-minute/hour limit: it is backed off a few times, naming the reason.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    Encoded,
    RateLimitPolicy,
    RetryPolicy,
    SchemaDrift,
    Timeouts,
    encode_query,
)
from ingestion.raw_queries import TrackedLink
from ingestion.records import Quarantined, Row, Target, as_json_text
from ingestion.refresh import DEFAULT as DEFAULT_REFRESH
from ingestion.refresh import RefreshPolicy
from ingestion.timestamps import aware_timestamp

log = logging.getLogger(__name__)

TARGET = Target("bitly", "link_clicks", "bitly__link_clicks", ("bitlink", "click_date"))

UNIT = "day"
_BITLINK = re.compile(r"[a-z0-9.-]+\.[a-z]+/[A-Za-z0-9_-]+")

RATE_LIMIT = RateLimitPolicy(
    retries=3,
    advice="Bitly kept refusing with a rate-limit reason (its per-minute or per-hour limit); rerun the load later",
    reason_header="X-Ratelimit-Reason",
    exhausted={
        "MONTHLY_LIMIT_EXCEEDED": "Bitly's monthly API quota is spent: retrying will not help before the plan's "
        "month resets, so the load stops here; raise the plan's limit or rerun after the reset"
    },
)


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """Bitly's error body `{message: "MONTHLY_LIMIT_EXCEEDED", description, resource, errors: [{field, error_code,
    message}]}`: `message` is the code; the description is followed by each field's error."""
    fields = [
        f"{e.get('field')}: {e.get('message') or e.get('error_code')}"
        for e in data.get("errors") or []
        if isinstance(e, dict)
    ]
    description = str(data.get("description") or "")
    return data.get("message"), description + (f" ({'; '.join(fields)})" if fields else "")


def client(api: ApiConfig, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts()) -> ApiClient:
    return ApiClient("bitly", api, rate_limit=RATE_LIMIT, error_body=error_body, retry=retry, timeouts=timeouts)


def unit_reference(day: date) -> Encoded:
    """The end of `day` (midnight UTC after it) as Bitly takes it: `2026-11-26T00%3A00%3A00%2B0000`."""
    moment = datetime.combine(day + timedelta(days=1), time(), UTC)
    return Encoded(quote(moment.strftime("%Y-%m-%dT%H:%M:%S+0000"), safe=""))


def bucket_day(bucket: Any) -> date:
    """The UTC day of a `{clicks, date}` bucket; ValueError with the quarantine reason if it is not one."""
    if not isinstance(bucket, dict):
        raise ValueError("bucket is not an object")
    clicks = bucket.get("clicks")
    if not isinstance(clicks, int) or isinstance(clicks, bool) or clicks < 0:
        raise ValueError(f"clicks is not a non-negative integer: {clicks!r}")
    return aware_timestamp(bucket.get("date"), "date").astimezone(UTC).date()


class LinkClicksExtraction:
    """The complete days not landed yet of each tracking link, one call per link.
    State: `{"last_day": {bitlink: "YYYY-MM-DD"}}` — the last day landed per link."""

    def __init__(
        self,
        client: ApiClient,
        links: Sequence[TrackedLink],
        logical_date: date,
        previous_state: dict[str, Any] | None,
        now: datetime,
        refresh: RefreshPolicy = DEFAULT_REFRESH,
    ) -> None:
        self._client, self._links, self._refresh, self._logical_date = client, links, refresh, logical_date
        self._window_start = logical_date - refresh.horizon + timedelta(days=1)
        # A day is complete once it has ended; never past the logical date.
        self._last_complete = min(logical_date, now.astimezone(UTC).date() - timedelta(days=1))
        self._last_day: dict[str, str] = dict((previous_state or {}).get("last_day", {}))

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def due(self, link: TrackedLink) -> tuple[date, date] | None:
        """The days [first, last] to ask for this link, or None when every complete day has landed or the refresh
        schedule (counted from the link's latest share and its last day landed) says not tonight."""
        first = max(link.first_shared_at.astimezone(UTC).date(), self._window_start)
        landed = self._last_day.get(link.bitlink)
        if landed is not None:
            first = max(first, date.fromisoformat(landed) + timedelta(days=1))
            if not self._refresh.is_due(link.last_shared_at, self._logical_date, date.fromisoformat(landed)):
                return None
        return (first, self._last_complete) if first <= self._last_complete else None

    def records(self) -> Iterator[Row | Quarantined]:
        asked = 0
        for link in self._links:
            if not _BITLINK.fullmatch(link.bitlink):
                reason = f"not a bitlink (domain/hash, no scheme): {link.bitlink!r}"
                yield Quarantined(reason, as_json_text({"bitlink": link.bitlink}))
                continue
            days = self.due(link)
            if days is not None:
                asked += 1
                yield from self._link_records(link.bitlink, *days)
        log.info("bitly: refresh schedule: %d of %d links due on %s", asked, len(self._links), self._logical_date)

    def state(self) -> dict[str, Any]:
        return {"last_day": self._last_day}

    def _link_records(self, bitlink: str, first: date, last: date) -> Iterator[Row | Quarantined]:
        path = f"/bitlinks/{bitlink}/clicks"
        params = [("unit", UNIT), ("units", (last - first).days + 1), ("unit_reference", unit_reference(last))]
        try:
            response = self._client.get(path, params)
        except ApiError as error:
            if error.status == 404:
                reason = f"tracking link unknown to Bitly: {error}"
                yield Quarantined(reason, as_json_text({"bitlink": bitlink, "request": error.endpoint}))
                return
            raise
        body = response.body
        buckets = body.get("link_clicks") if isinstance(body, dict) else None
        if not isinstance(buckets, list):
            raise SchemaDrift("bitly", f"{path}?{encode_query(params)}", "the answer has no `link_clicks` list")
        landed = set()
        for bucket in buckets:
            try:
                day = bucket_day(bucket)
            except ValueError as exc:
                yield Quarantined(str(exc), as_json_text(bucket))
                continue
            if first <= day <= last:
                landed.add(day)
                yield Row((bitlink, day), bucket, response.request, response.received_at)
        reached = first - timedelta(days=1)
        while reached + timedelta(days=1) in landed:  # only a gapless run of days moves the state on
            reached += timedelta(days=1)
        if reached >= first:
            self._last_day[bitlink] = reached.isoformat()
