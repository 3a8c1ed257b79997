"""Paginators: how an endpoint's pages are walked. Each yields one `Page` at a time, so nothing above it ever holds
more than one page of records."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingestion.http import ApiClient, ApiError, ApiResponse, SchemaDrift


@dataclass(frozen=True)
class Page:
    records: list[Any]
    request: str  # credential-free request URL
    extracted_at: datetime


def _page(client: ApiClient, response: ApiResponse, path: str, records_key: str) -> Page:
    """The page's records; a page without its records list is the vendor's contract drifting, not an empty page."""
    records = response.body.get(records_key) if isinstance(response.body, dict) else None
    if not isinstance(records, list):
        raise SchemaDrift(client.source, path, f"the answer has no `{records_key}` list")
    return Page(records, response.request, response.received_at)


@dataclass(frozen=True)
class OffsetPaging:
    """`start`/`count` offsets (LinkedIn). `paging.total` is often absent, so the last page is the first one with
    fewer than `count` records."""

    count: int = 10
    records_key: str = "elements"

    def pages(self, client: ApiClient, path: str, params: Sequence[tuple[str, object]]) -> Iterator[Page]:
        start = 0
        while True:
            response = client.get(path, [*params, ("start", start), ("count", self.count)])
            page = _page(client, response, path, self.records_key)
            yield page
            if len(page.records) < self.count:
                return
            start += len(page.records)


@dataclass(frozen=True)
class CursorPaging:
    """A record-token cursor (Typeform): `after=<token of the last record>`, exclusive, until an empty or short
    page."""

    page_size: int = 1000
    records_key: str = "items"
    size_param: str = "page_size"
    cursor_param: str = "after"
    cursor_field: str = "token"

    def pages(self, client: ApiClient, path: str, params: Sequence[tuple[str, object]]) -> Iterator[Page]:
        cursor = None
        while True:
            cursor_params: list[tuple[str, object]] = [(self.cursor_param, cursor)] if cursor else []
            response = client.get(path, [*params, (self.size_param, self.page_size), *cursor_params])
            page = _page(client, response, path, self.records_key)
            yield page
            if len(page.records) < self.page_size:
                return
            next_cursor = self._last_cursor(page.records)
            if next_cursor is None or next_cursor == cursor:
                raise ApiError(
                    client.source, path, 200, None, f"a full page gives no new `{self.cursor_field}` to continue after"
                )
            cursor = next_cursor

    def _last_cursor(self, records: list[Any]) -> str | None:
        for record in reversed(records):
            if isinstance(record, dict) and record.get(self.cursor_field):
                return str(record[self.cursor_field])
        return None


@dataclass(frozen=True)
class NextLinkPaging:
    """`page`/`per_page` pages linked by the vendor's absolute `links.next` URL (SurveyMonkey): follow it until it
    is missing."""

    per_page: int = 100
    records_key: str = "data"

    def pages(self, client: ApiClient, path: str, params: Sequence[tuple[str, object]]) -> Iterator[Page]:
        response = client.get(path, [*params, ("per_page", self.per_page)])
        seen = {response.request}
        while True:
            yield _page(client, response, path, self.records_key)
            links = response.body.get("links") if isinstance(response.body, dict) else None
            next_url = links.get("next") if isinstance(links, dict) else None
            if not next_url:
                return
            response = client.get_link(next_url)
            if response.request in seen:
                raise ApiError(client.source, path, 200, None, "`links.next` leads back to a page already read")
            seen.add(response.request)
