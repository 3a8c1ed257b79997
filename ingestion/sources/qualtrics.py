"""Qualtrics v3 responses, exported asynchronously: start an export, poll it until `status == "complete"`, download
the ZIP.

1. `POST /API/v3/surveys/{surveyId}/export-responses` with `{"format": "json", "startDate", "endDate"}` (keys are
   case-sensitive); a refused start is an error — no polling starts.
2. `GET …/export-responses/{progressId}` every `poll_interval` seconds until `result.status` is `complete` (with a
   `fileId`). `percentComplete` is a convenience: a `failed` export can show 100 % with no file, and fails the load.
   An export not done within `poll_timeout` fails the load too.
3. `GET …/export-responses/{fileId}/file`: a ZIP holding one `.json` file, `{"responses": [...]}`.

The host is the account's data center (the connection's base URL). The token goes in `X-API-TOKEN`. Window per
survey: `startDate` = the watermark (latest recordedDate landed) − 1 h (inclusive), `endDate` = the end of the
logical date (exclusive); the overlap is deduplicated on (survey_id, response_id).
"""

from __future__ import annotations

import io
import time as clock
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    RateLimitPolicy,
    RetryPolicy,
    SchemaDrift,
    Timeouts,
    under_api_path,
)
from ingestion.records import Quarantined, Row, Target, as_json_text
from ingestion.timestamps import aware_timestamp

TARGET = Target("qualtrics", "responses", "qualtrics__responses", ("survey_id", "response_id", "recorded_date"))

API_PATH = "/API/v3"
OVERLAP = timedelta(hours=1)
POLL_INTERVAL = 2.0
POLL_TIMEOUT = 600.0

RATE_LIMIT = RateLimitPolicy(retries=5, advice="Qualtrics kept answering 429 Too Many Requests; rerun the load later")


def error_body(data: dict[str, Any]) -> tuple[object, str]:
    """Qualtrics' error body `{meta: {httpStatus, requestId, error: {errorCode, errorMessage}}}`."""
    meta = data.get("meta")
    error = meta.get("error") if isinstance(meta, dict) else None
    if not isinstance(error, dict):
        return None, ""
    return error.get("errorCode"), str(error.get("errorMessage") or "")


class ExportFailed(ApiError):
    """Qualtrics reported the export as failed, or it did not complete in time."""


def client(api: ApiConfig, *, retry: RetryPolicy = RetryPolicy(), timeouts: Timeouts = Timeouts()) -> ApiClient:
    """A client of the API under `api.base_url`: the data-center host, e.g. https://{datacenter}.qualtrics.com
    (`/API/v3` is added unless it is there already)."""
    api = under_api_path(api, API_PATH)
    return ApiClient(
        "qualtrics", api, rate_limit=RATE_LIMIT, error_body=error_body, retry=retry, timeouts=timeouts, auth=api_token
    )


def api_token(token: str) -> dict[str, str]:
    return {"X-API-TOKEN": token}


def iso_second(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_export_file(content: bytes, endpoint: str) -> list[Any]:
    """The `responses` of an export file: a ZIP with one `.json` member."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [name for name in archive.namelist() if name.endswith(".json")]
            if len(members) != 1:
                raise SchemaDrift("qualtrics", endpoint, f"the export ZIP holds {len(members)} .json files, not 1")
            data = orjson.loads(archive.read(members[0]))
    except zipfile.BadZipFile:
        raise SchemaDrift("qualtrics", endpoint, "the export file is not a ZIP") from None
    except orjson.JSONDecodeError as exc:
        raise SchemaDrift("qualtrics", endpoint, f"the exported .json is not JSON ({exc})") from None
    responses = data.get("responses") if isinstance(data, dict) else None
    if not isinstance(responses, list):
        raise SchemaDrift("qualtrics", endpoint, "the exported .json has no `responses` list")
    return responses


def parse_recorded_date(response: dict[str, Any]) -> datetime:
    values = response.get("values")
    return aware_timestamp(values.get("recordedDate") if isinstance(values, dict) else None, "values.recordedDate")


class ResponsesExtraction:
    """Each survey's responses recorded in its window, one export per survey.
    State: `{"watermarks": {survey_id: latest recordedDate landed}}`."""

    def __init__(
        self,
        client: ApiClient,
        survey_ids: Sequence[str],
        logical_date: date,
        previous_state: dict[str, Any] | None,
        *,
        poll_interval: float = POLL_INTERVAL,
        poll_timeout: float = POLL_TIMEOUT,
    ) -> None:
        self._client, self._survey_ids = client, survey_ids
        self._end = datetime.combine(logical_date + timedelta(days=1), time(), UTC)
        self._watermarks: dict[str, str] = dict((previous_state or {}).get("watermarks", {}))
        self._poll_interval, self._poll_timeout = poll_interval, poll_timeout

    @property
    def api_calls(self) -> int:
        return self._client.api_calls

    def export_request(self, survey_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {"format": "json", "endDate": iso_second(self._end)}
        if survey_id in self._watermarks:
            body["startDate"] = iso_second(datetime.fromisoformat(self._watermarks[survey_id]) - OVERLAP)
        return body

    def records(self) -> Iterator[Row | Quarantined]:
        for survey_id in self._survey_ids:
            yield from self._survey_records(survey_id)

    def state(self) -> dict[str, Any]:
        return {"watermarks": self._watermarks}

    def _survey_records(self, survey_id: str) -> Iterator[Row | Quarantined]:
        exports = f"/surveys/{quote(survey_id, safe='')}/export-responses"
        started = self._client.post(exports, json=self.export_request(survey_id))
        progress_id = _result(started.body).get("progressId")
        if not isinstance(progress_id, str) or not progress_id:
            raise SchemaDrift("qualtrics", exports, "the started export has no `result.progressId`")
        file_id = self._wait_for_file(f"{exports}/{quote(progress_id, safe='')}")
        download = self._client.get_bytes(f"{exports}/{quote(file_id, safe='')}/file")
        latest = self._watermarks.get(survey_id)
        for response in read_export_file(download.body, f"{exports}/{file_id}/file"):
            record = self._record(survey_id, response, download.request, download.received_at)
            if isinstance(record, Row):
                recorded = iso_second(record.keys[2])
                latest = recorded if latest is None or recorded > latest else latest
            yield record
        if latest is not None:
            self._watermarks[survey_id] = latest

    def _wait_for_file(self, progress_path: str) -> str:
        """Poll until the export is `complete` and return its fileId; a failed or overdue export is an error."""
        deadline = clock.monotonic() + self._poll_timeout
        while True:
            result = _result(self._client.get(progress_path).body)
            status, percent = result.get("status"), result.get("percentComplete")
            if status == "complete":
                file_id = result.get("fileId")
                if not isinstance(file_id, str) or not file_id:
                    raise SchemaDrift("qualtrics", progress_path, "a complete export has no `fileId`")
                return file_id
            if status == "failed":
                message = f"the export failed (status failed, percentComplete {percent}, fileId {result.get('fileId')})"
                advice = "a failed export is not retried by polling: rerun the load to start a new one"
                raise ExportFailed("qualtrics", progress_path, 200, "EXPORT_FAILED", message, advice)
            if status != "inProgress":
                raise SchemaDrift("qualtrics", progress_path, f"unknown export status {status!r}")
            if clock.monotonic() + self._poll_interval > deadline:
                message = f"the export was still inProgress at {percent} % after {self._poll_timeout:.0f} s"
                raise ExportFailed("qualtrics", progress_path, 200, "EXPORT_TIMEOUT", message, "rerun the load later")
            clock.sleep(self._poll_interval)

    @staticmethod
    def _record(survey_id: str, response: Any, request: str, received_at: datetime) -> Row | Quarantined:
        if not isinstance(response, dict):
            return Quarantined("response is not an object", as_json_text(response))
        response_id = response.get("responseId")
        if not isinstance(response_id, str) or not response_id:
            return Quarantined(f"responseId is not a non-empty string: {response_id!r}", as_json_text(response))
        try:
            recorded = parse_recorded_date(response)
        except ValueError as exc:
            return Quarantined(str(exc), as_json_text(response))
        return Row((survey_id, response_id, recorded), response, request, received_at)


def _result(body: Any) -> dict[str, Any]:
    result = body.get("result") if isinstance(body, dict) else None
    return result if isinstance(result, dict) else {}
