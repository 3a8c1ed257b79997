"""SurveyMonkey v3: each survey's catalogue (`GET /v3/surveys/{id}/details`) and its responses
(`GET /v3/surveys/{id}/responses/bulk`, completed responses in date_modified order).

A bulk answer names its question by id and its answer by `choice_id` (`simple=true` adds the choice's text, which
need not hold a number): which scale point a choice is, is its `position` in the survey's `/details`, fetched once
per survey and night and landed like any entity (`DETAILS_TARGET`), so dbt resolves answers from raw alone.

The API base is the `access_url` SurveyMonkey answered when the account granted access (accounts live in regional
data centers, so the host is not always api.surveymonkey.com): `exchange_code()` is that one-off step, and the
connection stores its result. Pages are `per_page` ≤ 100 and linked by `links.next`; ids are strings and stay so.

Window per survey: `start_modified_at` = the survey's watermark (latest date_modified landed) − 1 h, `end_modified_at`
= the end of the logical date; the overlap re-delivers a few responses, which the raw table's unique
(survey_id, response_id, date_modified) makes no-ops. Rate limits come as X-Ratelimit-App-Global-{Minute,Day}-*
headers: a spent minute is waited out (its Reset is in seconds from now); a spent day (500 calls for a draft app)
fails at once, saying when it resets (00:00 GMT). A 429 whose headers mark no window spent waits for the minute
window's reset, never for the day's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    RateLimitPolicy,
    RateWindow,
    RetryPolicy,
    SchemaDrift,
    Timeouts,
    under_api_path,
)
from ingestion.oauth import token_endpoint_error
from ingestion.paging import NextLinkPaging, Page
from ingestion.records import Quarantined, Row, Target, as_json_text
from ingestion.timestamps import aware_timestamp

TARGET = Target("surveymonkey", "responses", "surveymonkey__responses", ("survey_id", "response_id", "date_modified"))
#: One row per survey × night (× date_modified: an edit between two fetches of a night lands both versions).
DETAILS_TARGET = Target(
    "surveymonkey", "survey_details", "surveymonkey__survey_details", ("survey_id", "date_modified")
)

API_PATH = "/v3"
OVERLAP = timedelta(hours=1)
PAGING = NextLinkPaging(per_page=100, records_key="data")
_HEADER = "X-Ratelimit-App-Global-{}-{}"

RATE_LIMIT = RateLimitPolicy(
    retries=3,
    advice="SurveyMonkey's rate limit stayed spent (a draft app may make 120 calls a minute and 500 a day; "
    "the day resets at 00:00 GMT); rerun the load after the reset",
    windows=tuple(
        RateWindow(_HEADER.format(period, "Remaining"), _HEADER.format(period, "Reset"), reset_is_epoch=False)
        for period in ("Minute", "Day")
    ),
    max_wait=65.0,
)


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """SurveyMonkey's error body `{error: {id: "1040" (a string), name, message, docs, http_status_code}}`: the
    message is `name: message`."""
    error = data.get("error")
    if not isinstance(error, dict):
        return None, ""
    return error.get("id"), ": ".join(str(part) for part in (error.get("name"), error.get("message")) if part)


def client(api: ApiConfig, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts()) -> ApiClient:
    """A client of the API under `api.base_url`: the account's `access_url`, e.g. https://api.surveymonkey.com
    (`/v3` is added unless it is there already)."""
    api = under_api_path(api, API_PATH)
    return ApiClient("surveymonkey", api, rate_limit=RATE_LIMIT, error_body=error_body, retry=retry, timeouts=timeouts)


def exchange_code(
    token_url: str, client_id: str, client_secret: str, code: str, redirect_uri: str, *, timeouts: Timeouts = Timeouts()
) -> ApiConfig:
    """Trade an authorization code for the long-lived access token; the API base is the `access_url` answered
    with it + `/v3`. The client secret and the token never reach a log or an error."""
    base, _, path = token_url.rpartition("/oauth/")
    form = {
        "client_id": client_id,
        "client_secret": client_secret,
        "code": code,
        "redirect_uri": redirect_uri,
        "grant_type": "authorization_code",
    }
    credentials = ApiConfig(base, client_secret)
    with ApiClient(
        "surveymonkey",
        credentials,
        rate_limit=RATE_LIMIT,
        error_body=token_endpoint_error,
        timeouts=timeouts,
        auth=lambda _: {},
    ) as oauth:
        answer = oauth.post(f"/oauth/{path}", form=form).body
    token = answer.get("access_token") if isinstance(answer, dict) else None
    access_url = answer.get("access_url") if isinstance(answer, dict) else None
    if not isinstance(token, str) or not token or not isinstance(access_url, str) or not access_url.startswith("http"):
        problem = "the token exchange gave no access_token and access_url"
        raise ApiError("surveymonkey", f"/oauth/{path}", 200, None, problem, method="POST")
    return under_api_path(ApiConfig(access_url, token), API_PATH)


def sm_time(moment: datetime) -> str:
    """SurveyMonkey's filter format, UTC: `2026-11-25T23:59:59`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def parse_date_modified(response: dict[str, Any]) -> datetime:
    return aware_timestamp(response.get("date_modified"), "date_modified")


class ResponsesExtraction:
    """Completed responses of each survey, oldest change first. State: `{"watermarks": {survey_id: ISO}}`."""

    def __init__(
        self,
        client: ApiClient,
        survey_ids: Sequence[str],
        logical_date: date,
        previous_state: dict[str, Any] | None,
        paging: NextLinkPaging = PAGING,
    ) -> None:
        self._client, self._survey_ids, self._paging = client, survey_ids, paging
        self._until = datetime.combine(logical_date, time(23, 59, 59), UTC)
        self._watermarks: dict[str, str] = dict((previous_state or {}).get("watermarks", {}))

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def window(self, survey_id: str) -> list[tuple[str, str]]:
        since = []
        if survey_id in self._watermarks:
            since = [("start_modified_at", sm_time(datetime.fromisoformat(self._watermarks[survey_id]) - OVERLAP))]
        return [*since, ("end_modified_at", sm_time(self._until))]

    def records(self) -> Iterator[Row | Quarantined]:
        for survey_id in self._survey_ids:
            yield from self._survey_records(survey_id)

    def state(self) -> dict[str, Any]:
        return {"watermarks": self._watermarks}

    def _survey_records(self, survey_id: str) -> Iterator[Row | Quarantined]:
        params = [
            *self.window(survey_id),
            ("status", "completed"),
            ("sort_by", "date_modified"),
            ("sort_order", "ASC"),
            ("simple", "true"),
        ]
        latest = self._watermarks.get(survey_id)
        path = f"/surveys/{quote(survey_id, safe='')}/responses/bulk"
        for page in self._paging.pages(self._client, path, params):
            for response in page.records:
                record = self._record(survey_id, response, page)
                if isinstance(record, Row):
                    modified = record.keys[2].astimezone(UTC).isoformat()
                    latest = modified if latest is None or modified > latest else latest
                yield record
        if latest is not None:
            self._watermarks[survey_id] = latest

    @staticmethod
    def _record(survey_id: str, response: Any, page: Page) -> Row | Quarantined:
        if not isinstance(response, dict):
            return Quarantined("response is not an object", as_json_text(response))
        response_id = response.get("id")
        if not isinstance(response_id, str) or not response_id:
            return Quarantined(f"response id is not a non-empty string: {response_id!r}", as_json_text(response))
        try:
            modified = parse_date_modified(response)
        except ValueError as exc:
            return Quarantined(str(exc), as_json_text(response))
        return Row((survey_id, response_id, modified), response, page.request, page.extracted_at)


class SurveyDetailsExtraction:
    """Each survey's `/details`, one call per survey. No state: the catalogue is fetched whole every night."""

    def __init__(self, client: ApiClient, survey_ids: Sequence[str]) -> None:
        self._client, self._survey_ids = client, survey_ids

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def records(self) -> Iterator[Row | Quarantined]:
        for survey_id in self._survey_ids:
            path = f"/surveys/{quote(survey_id, safe='')}/details"
            response = self._client.get(path)
            if not isinstance(response.body, dict) or not isinstance(response.body.get("pages"), list):
                # the catalogue the answers resolve in is gone: the contract drifted, nothing to land
                raise SchemaDrift("surveymonkey", path, "the survey details have no `pages` list")
            yield self._record(survey_id, response.body, response.request, response.received_at)

    def state(self) -> dict[str, Any]:
        return {"surveys": len(self._survey_ids)}

    @staticmethod
    def _record(survey_id: str, details: Any, request: str, received_at: datetime) -> Row | Quarantined:
        if not isinstance(details, dict):
            return Quarantined("survey details are not an object", as_json_text(details))
        if details.get("id") != survey_id:
            reason = f"survey details name survey {details.get('id')!r}, not the {survey_id!r} asked for"
            return Quarantined(reason, as_json_text(details))
        try:
            modified = parse_date_modified(details)
        except ValueError as exc:
            return Quarantined(str(exc), as_json_text(details))
        return Row((survey_id, modified), details, request, received_at)
