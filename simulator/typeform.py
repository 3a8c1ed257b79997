"""Typeform `GET /forms/{form_id}/responses` as documented, failures included.

Paging semantics (reference/api-contracts.md §5; Typeform: "if you use after/before, the responses are sorted in the
order our system processed them"): the processing order is (submitted_at, token). With `after=T` the page holds the
responses processed after T, oldest first; with `before=T` those processed before T, newest first — so following
`after` from an ascending page, or `before` from the default descending page, visits every response exactly once.
With a cursor the `sort` parameter is ignored. `total_items` and `page_count` count everything the filters
(including the cursors) match. Responses submitted in the 30 minutes before `as_of` are not returned yet.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

from simulator.company import SURVEY_ITEMS, Company, SurveyResponse, SurveyWave, iso_utc
from simulator.messages import ApiRequest, ApiResponse

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
RESPONSE_LAG = timedelta(minutes=30)
RESPONSE_TYPES = ("completed", "partial", "started")
SORT_FIELDS = ("submitted_at", "landed_at")

_RESPONSES_PATH = re.compile(r"/forms/([^/]+)/responses/?")


class ValidationError(Exception):
    def __init__(self, field: str, description: str):
        super().__init__(description)
        self.field = field
        self.description = description


def _error(status: int, code: str, description: str) -> ApiResponse:
    return ApiResponse(status, {"code": code, "description": description})


def _parse_instant(field: str, value: str) -> datetime:
    """ISO 8601 (naive means UTC) or Unix seconds."""
    try:
        if value.isdigit():
            return datetime.fromtimestamp(int(value), UTC)
        instant = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        raise ValidationError(field, f"{field} must be an ISO 8601 date-time or Unix seconds, got {value!r}") from None
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant


def _processing_key(response: SurveyResponse) -> tuple[datetime, str]:
    return response.submitted_at, response.token


class TypeformApi:
    def __init__(self, company: Company, token: str):
        self._company = company
        self._token = token
        self._waves = {wave.form_id: wave for wave in company.survey_waves_for("typeform")}

    def handle(self, request: ApiRequest) -> ApiResponse:
        if not request.has_bearer_token(self._token):
            return _error(401, "AUTHENTICATION_FAILED", "Authentication credentials not found on the Request Headers.")
        route = _RESPONSES_PATH.fullmatch(request.path)
        if route is None:
            return _error(404, "NOT_FOUND", f"No endpoint {request.path}")
        if request.method != "GET":
            return _error(405, "METHOD_NOT_ALLOWED", f"{request.method} is not supported on {request.path}")
        wave = self._waves.get(route[1])
        if wave is None:
            return _error(404, "FORM_NOT_FOUND", f"Form {route[1]!r} was not found.")
        try:
            return ApiResponse(200, self._responses_page(wave, parse_qs(request.raw_query, keep_blank_values=True)))
        except ValidationError as invalid:
            detail = {"code": "INVALID_PARAMETER", "description": invalid.description, "field": invalid.field}
            body = {
                "code": "VALIDATION_ERROR",
                "description": "The request contains invalid parameters.",
                "details": [{**detail, "in": "query"}],
            }
            return ApiResponse(400, body)

    def _responses_page(self, wave: SurveyWave, params: dict[str, list[str]]) -> dict:
        def param(name: str) -> str | None:
            values = params.get(name)
            return values[-1] if values else None

        page_size_text = param("page_size") or str(DEFAULT_PAGE_SIZE)
        if not page_size_text.isdigit() or not 1 <= int(page_size_text) <= MAX_PAGE_SIZE:
            raise ValidationError("page_size", f"page_size must be an integer between 1 and {MAX_PAGE_SIZE}")
        page_size = int(page_size_text)

        response_types = (param("response_type") or "completed").split(",")
        if any(kind not in RESPONSE_TYPES for kind in response_types):
            raise ValidationError("response_type", f"response_type must be a comma-separated list of {RESPONSE_TYPES}")

        sort_field, _, direction = (param("sort") or "submitted_at,desc").partition(",")
        if sort_field not in SORT_FIELDS or direction not in ("asc", "desc"):
            raise ValidationError("sort", "sort must be '{submitted_at|landed_at},{asc|desc}'")

        visible_until = self._company.as_of - RESPONSE_LAG
        # Every simulated response is completed: partial or started responses do not exist.
        responses = [r for r in wave.responses if r.submitted_at <= visible_until and "completed" in response_types]
        if (since := param("since")) is not None:
            since_at = _parse_instant("since", since)
            responses = [r for r in responses if r.submitted_at >= since_at]
        if (until := param("until")) is not None:
            until_at = _parse_instant("until", until)
            responses = [r for r in responses if r.submitted_at <= until_at]

        after, before = param("after"), param("before")
        if after is not None or before is not None:
            responses.sort(key=_processing_key)
            if after is not None:
                cursor = self._cursor(wave, "after", after)
                responses = [r for r in responses if _processing_key(r) > cursor]
            if before is not None:
                cursor = self._cursor(wave, "before", before)
                responses = [r for r in responses if _processing_key(r) < cursor]
            if after is None:
                responses.reverse()
        else:
            responses.sort(key=lambda r: (getattr(r, sort_field), r.token), reverse=direction == "desc")

        return {
            "total_items": len(responses),
            "page_count": math.ceil(len(responses) / page_size),
            "items": [self._item(wave, r) for r in responses[:page_size]],
        }

    def _cursor(self, wave: SurveyWave, field: str, token: str) -> tuple[datetime, str]:
        for response in wave.responses:
            if response.token == token and response.submitted_at < self._company.as_of:
                return _processing_key(response)
        raise ValidationError(field, f"{field} must be the token of a response of this form")

    @staticmethod
    def _item(wave: SurveyWave, response: SurveyResponse) -> dict:
        return {
            "landing_id": response.token,
            "token": response.token,
            "response_id": response.token,
            "landed_at": iso_utc(response.landed_at),
            "submitted_at": iso_utc(response.submitted_at),
            "metadata": {
                "user_agent": response.user_agent,
                "platform": response.platform,
                "referer": f"https://sharewhy-sim.typeform.com/to/{wave.form_id}?employee_id={response.employee_id}",
                "network_id": response.network_id,
                "browser": "touch" if response.platform == "mobile" else "default",
            },
            "hidden": {"employee_id": response.employee_id},
            "calculated": {"score": 0},
            "answers": [
                {
                    "field": {"id": wave.field_ids[item.ref], "ref": item.ref, "type": "opinion_scale"},
                    "type": "number",
                    "number": response.answers[item.ref],
                }
                for item in SURVEY_ITEMS
                if item.ref in response.answers  # a skipped question has no answer
            ],
        }
