"""Typeform responses: `GET /forms/{form_id}/responses`, completed responses in submitted_at order.

Window per form: `since` = the form's watermark (latest submitted_at landed) − 1 h, because responses from about the
last 30 minutes may not be returned yet; `until` = the end of the logical date. The overlap re-delivers some
responses; the raw table's unique (form_id, response_token) makes them no-ops.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.http import ApiClient, ApiConfig, RateLimitPolicy, RetryPolicy, Timeouts
from ingestion.paging import CursorPaging, Page
from ingestion.records import Quarantined, Row, Target, as_json_text
from ingestion.timestamps import aware_timestamp

TARGET = Target("typeform", "responses", "typeform__responses", ("form_id", "response_token", "submitted_at"))

OVERLAP = timedelta(hours=1)
PAGING = CursorPaging(page_size=1000, records_key="items", cursor_param="after", cursor_field="token")
#: What Typeform puts in submitted_at for a response that was never submitted.
ZERO_TIMESTAMP = datetime(1, 1, 1, tzinfo=UTC)

RATE_LIMIT = RateLimitPolicy(retries=5, advice="Typeform kept answering 429 Too Many Requests; rerun the load later")


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """Typeform's error body `{code, description, details: [{code, description, field, in}], help}`: the
    description, followed by each detail's field (or `in`, or code) and description."""
    details = [
        f"{detail.get('field') or detail.get('in') or detail.get('code')}: {detail.get('description')}"
        for detail in data.get("details") or []
        if isinstance(detail, dict)
    ]
    description = str(data.get("description") or "")
    return data.get("code"), description + (f" ({'; '.join(details)})" if details else "")


def client(api: ApiConfig, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts()) -> ApiClient:
    return ApiClient("typeform", api, rate_limit=RATE_LIMIT, error_body=error_body, retry=retry, timeouts=timeouts)


def iso_second(moment: datetime) -> str:
    """ISO 8601 UTC to the second, as Typeform takes it: `2026-11-25T23:59:59Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), UTC)


def parse_submitted_at(item: dict[str, Any]) -> datetime:
    """The response's submission time; ValueError with the quarantine reason when it has none worth landing."""
    value = item.get("submitted_at")
    if not isinstance(value, str) or not value:
        raise ValueError("response has no submitted_at")
    moment = aware_timestamp(value, "submitted_at")
    if moment == ZERO_TIMESTAMP:
        raise ValueError(f"submitted_at is the zero timestamp {value!r}: the response was never submitted")
    return moment


class ResponsesExtraction:
    """Completed responses of each form, oldest first. State: `{"watermarks": {form_id: latest submitted_at}}`."""

    def __init__(
        self, client: ApiClient, form_ids: Sequence[str], logical_date: date, previous_state: dict[str, Any] | None
    ) -> None:
        self._client, self._form_ids = client, form_ids
        self._until = end_of_day(logical_date)
        self._watermarks: dict[str, str] = dict((previous_state or {}).get("watermarks", {}))

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def records(self) -> Iterator[Row | Quarantined]:
        for form_id in self._form_ids:
            yield from self._form_records(form_id)

    def state(self) -> dict[str, Any]:
        return {"watermarks": self._watermarks}

    def window(self, form_id: str) -> list[tuple[str, str]]:
        """since/until query parameters for a form: no `since` until the form has a watermark."""
        since = []
        if form_id in self._watermarks:
            since = [("since", iso_second(datetime.fromisoformat(self._watermarks[form_id]) - OVERLAP))]
        return [*since, ("until", iso_second(self._until))]

    def _form_records(self, form_id: str) -> Iterator[Row | Quarantined]:
        params = [*self.window(form_id), ("sort", "submitted_at,asc")]
        latest = self._watermarks.get(form_id)
        for page in PAGING.pages(self._client, f"/forms/{quote(form_id, safe='')}/responses", params):
            for item in page.records:
                record = self._record(form_id, item, page)
                if isinstance(record, Row):
                    submitted = iso_second(record.keys[2])
                    latest = submitted if latest is None or submitted > latest else latest
                yield record
        if latest is not None:
            self._watermarks[form_id] = latest

    @staticmethod
    def _record(form_id: str, item: Any, page: Page) -> Row | Quarantined:
        if not isinstance(item, dict):
            return Quarantined("response item is not an object", as_json_text(item))
        token = item.get("token")
        if not isinstance(token, str) or not token:
            return Quarantined("response has no token", as_json_text(item))
        try:
            submitted_at = parse_submitted_at(item)
        except ValueError as exc:
            return Quarantined(str(exc), as_json_text(item))
        return Row((form_id, token, submitted_at), item, page.request, page.extracted_at)
