"""Qualtrics v3 response export, asynchronous as documented: start an export, poll its progress, download a ZIP.

The motivation survey of each wave run on Qualtrics (`Company.survey_waves_for("qualtrics")`, any number): the
survey id comes from the wave's `form_id`, and the items are questions QID1…QID8 in an order of the survey's own (a
permutation derived from the survey id: two surveys ask the items in different orders, as two waves built by hand
would), their values the 1–5 scale. `question_ids(wave)` maps a survey's QIDs to the instrument's refs; the seed
`survey_instrument.csv` holds the same map per survey (`simulator.instrument` writes it).

Who answered (the response export's `values`): Qualtrics fills `externalDataReference` (the contact's external data
reference: the employee id, for a distribution to a contact list / panel), `recipientEmail` (the contact's e-mail:
the HR roster's address, its case as typed into the panel), or an embedded-data field whose name the survey owner
chooses. Which one a survey carries is configurable per survey (`link_fields`: survey id → `externalDataReference`,
`recipientEmail` or `embedded:<field name>`; default `externalDataReference`); the others stay empty, as in an
anonymous-link distribution.

Rules (reference/api-contracts.md §7):
- `X-API-TOKEN: <token>` (or an OAuth `Authorization: Bearer`) → else 401; errors are
  `{"meta": {"httpStatus", "requestId", "error": {"errorCode", "errorMessage"}}}`;
- `POST /API/v3/surveys/{surveyId}/export-responses` with a JSON body whose keys are case-sensitive (`format`, not
  `Format`; unknown keys are a 400); `format` must be `json` here; `compress` (default true); `startDate`
  (inclusive) / `endDate` (exclusive) filter on `recordedDate`;
- `GET …/export-responses/{progressId}` moves the export on by one step per poll: `inProgress` with a growing
  `percentComplete`, then `complete` with a `fileId` — or, for an export made to fail, `failed` with
  `percentComplete: 100` and `fileId: null` (so 100 % is not "done"); an unknown id is 404;
- `GET …/export-responses/{fileId}/file` is a ZIP holding `<survey>.json` (`{"responses": [...]}`), plain JSON when
  the export asked `compress: false`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import uuid
import zipfile
from dataclasses import dataclass
from datetime import datetime

from simulator.company import SURVEY_ITEMS, Company, SurveyResponse, SurveyWave, iso_utc
from simulator.messages import ApiRequest, ApiResponse

DEFAULT_POLLS_TO_COMPLETE = 2
START_KEYS = {"format", "compress", "startDate", "endDate", "allowContinuation", "continuationToken", "useLabels"}
LABELS = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
_EXPORTS = re.compile(r"/API/v3/surveys/([^/]+)/export-responses/?")
_PROGRESS = re.compile(r"/API/v3/surveys/([^/]+)/export-responses/([^/]+)/?")
_FILE = re.compile(r"/API/v3/surveys/([^/]+)/export-responses/([^/]+)/file/?")
_ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _code(length: int, *parts: object) -> str:
    number = int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest(), "big")
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(_ALPHANUMERIC))
        chars.append(_ALPHANUMERIC[index])
    return "".join(chars)


def survey_id(wave: SurveyWave) -> str:
    return "SV_" + _code(15, "qualtrics", wave.form_id)


LINK_FIELDS = ("externalDataReference", "recipientEmail", "embedded:<field>")
DEFAULT_LINK_FIELD = "externalDataReference"


def question_ids(wave: SurveyWave) -> dict[str, str]:
    """QID → the instrument's question ref, for the wave's survey: QID1…QIDn over the items in an order derived
    from the survey id."""
    sid = survey_id(wave)
    order = sorted(SURVEY_ITEMS, key=lambda item: _code(8, "order", sid, item.ref))
    return {f"QID{n}": item.ref for n, item in enumerate(order, start=1)}


def response_id(response: SurveyResponse) -> str:
    return "R_" + _code(15, "response", response.token)


def check_link_field(link_field: str) -> str:
    if link_field in ("externalDataReference", "recipientEmail") or (
        link_field.startswith("embedded:") and len(link_field) > len("embedded:")
    ):
        return link_field
    raise ValueError(f"unknown respondent link {link_field!r}: one of {', '.join(LINK_FIELDS)}")


def _status_line(status: int) -> str:
    reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed"}
    return f"{status} - {reasons.get(status, 'Error')}"


def _error(status: int, code: str, message: str) -> ApiResponse:
    meta = {
        "httpStatus": _status_line(status),
        "requestId": str(uuid.uuid4()),
        "error": {"errorCode": code, "errorMessage": message},
    }
    return ApiResponse(status, {"meta": meta})


def _ok(result: dict) -> ApiResponse:
    meta = {"requestId": str(uuid.uuid4()), "httpStatus": _status_line(200)}
    return ApiResponse(200, {"result": result, "meta": meta})


@dataclass
class _Export:
    survey_id: str
    responses: list[SurveyResponse]
    compress: bool
    fails: bool
    polls: int = 0


class QualtricsApi:
    def __init__(
        self,
        company: Company,
        token: str,
        polls_to_complete: int = DEFAULT_POLLS_TO_COMPLETE,
        failing_exports: int = 0,
        link_fields: dict[str, str] | None = None,
    ) -> None:
        self._company = company
        self._token = token
        self._polls_to_complete = polls_to_complete
        self._failing_exports = failing_exports  # the first this many exports fail
        self._waves = {survey_id(wave): wave for wave in company.survey_waves_for("qualtrics")}
        #: survey id → where its responses name the respondent (see the module docstring)
        configured = {sid: check_link_field(link) for sid, link in (link_fields or {}).items()}
        self._link_fields = {sid: configured.get(sid, DEFAULT_LINK_FIELD) for sid in self._waves}
        roster = company.roster_on(company.as_of.date())
        self._emails = {entry.employee_id: entry.email for entry in roster}
        self._exports: dict[str, _Export] = {}
        self._files: dict[str, str] = {}  # fileId → progressId
        self._lock = threading.Lock()

    @property
    def survey_ids(self) -> list[str]:
        return list(self._waves)

    @property
    def exports_started(self) -> int:
        """Export jobs created so far (one per accepted export-start POST): a client that sends a start twice
        makes two."""
        with self._lock:
            return len(self._exports)

    def handle(self, request: ApiRequest) -> ApiResponse:
        token = request.header("x-api-token")
        if token != self._token and not request.has_bearer_token(self._token):
            return _error(401, "AUTH_0.1", "Authentication failed: invalid or missing X-API-TOKEN")
        if (route := _FILE.fullmatch(request.path)) is not None:
            return self._file(route[1], route[2]) if request.method == "GET" else self._not_allowed(request)
        if (route := _EXPORTS.fullmatch(request.path)) is not None:
            return self._start(route[1], request.body) if request.method == "POST" else self._not_allowed(request)
        if (route := _PROGRESS.fullmatch(request.path)) is not None:
            return self._progress(route[1], route[2]) if request.method == "GET" else self._not_allowed(request)
        return _error(404, "RP_0.2", f"No route {request.path}")

    @staticmethod
    def _not_allowed(request: ApiRequest) -> ApiResponse:
        return _error(405, "RP_0.3", f"{request.method} is not allowed on {request.path}")

    def _start(self, sid: str, body: bytes) -> ApiResponse:
        wave = self._waves.get(sid)
        if wave is None:
            return _error(404, "RP_0.2", f"Survey {sid} not found")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return _error(400, "RP_0.1", "The request body is not JSON")
        if not isinstance(params, dict):
            return _error(400, "RP_0.1", "The request body must be a JSON object")
        unknown = sorted(set(params) - START_KEYS)
        if unknown:
            return _error(400, "RP_0.1", f"Invalid parameters (names are case-sensitive): {', '.join(unknown)}")
        if params.get("format") != "json":
            given = params.get("format")
            return _error(400, "RP_0.1", f"format must be one of [json] in this simulator, got {given!r}")
        responses = [r for r in wave.responses if r.submitted_at < self._company.as_of]
        bounds = {}
        for name in ("startDate", "endDate"):
            if name in params:
                try:
                    bounds[name] = datetime.fromisoformat(str(params[name]))
                except ValueError:
                    return _error(400, "RP_0.1", f"{name} must be an ISO 8601 date-time")
                if bounds[name].tzinfo is None:
                    return _error(400, "RP_0.1", f"{name} needs a UTC offset")
        if "startDate" in bounds:
            responses = [r for r in responses if r.submitted_at >= bounds["startDate"]]
        if "endDate" in bounds:
            responses = [r for r in responses if r.submitted_at < bounds["endDate"]]
        with self._lock:
            fails = self._failing_exports > 0
            self._failing_exports -= fails
            progress_id = "ES_" + uuid.uuid4().hex[:15]
            self._exports[progress_id] = _Export(sid, responses, bool(params.get("compress", True)), fails)
        return _ok({"progressId": progress_id, "percentComplete": 0.0, "status": "inProgress"})

    def _progress(self, sid: str, progress_id: str) -> ApiResponse:
        with self._lock:
            export = self._exports.get(progress_id)
            if export is None or export.survey_id != sid:
                return _error(404, "RP_0.2", f"Export {progress_id} not found")
            export.polls = min(export.polls + 1, self._polls_to_complete)
            percent = 100.0 * export.polls / self._polls_to_complete
            if percent < 100:
                return _ok({"percentComplete": percent, "status": "inProgress"})
            if export.fails:
                return _ok({"percentComplete": 100.0, "status": "failed", "fileId": None})
            file_id = f"{progress_id}-file"
            self._files[file_id] = progress_id
        return _ok({"percentComplete": 100.0, "status": "complete", "fileId": file_id})

    def _file(self, sid: str, file_id: str) -> ApiResponse:
        with self._lock:
            export = self._exports.get(self._files.get(file_id, ""))
        if export is None or export.survey_id != sid:
            return _error(404, "RP_0.2", f"File {file_id} not found")
        wave = self._waves[sid]
        content = json.dumps({"responses": [self._response(wave, r, self._link_fields[sid]) for r in export.responses]})
        content = content.encode()
        if not export.compress:
            return ApiResponse(200, content, {"Content-Type": "application/json"})
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            zipped.writestr(f"Motivation survey {wave.form_id}.json", content)
        return ApiResponse(200, archive.getvalue(), {"Content-Type": "application/zip"})

    def _response(self, wave: SurveyWave, response: SurveyResponse, link_field: str) -> dict:
        rid = response_id(response)
        # a skipped question has no value
        answers = {qid: response.answers[ref] for qid, ref in question_ids(wave).items() if ref in response.answers}
        email = self._emails.get(response.employee_id, "")
        # A panel's addresses as typed in: the first letter capitalised (e-mails match case-insensitively).
        typed_email = email[:1].upper() + email[1:]
        link = {"externalDataReference": "", "recipientEmail": "", "recipientFirstName": "", "recipientLastName": ""}
        embedded = {}
        if link_field == "externalDataReference":
            link |= {"externalDataReference": response.employee_id, "recipientEmail": typed_email}
        elif link_field == "recipientEmail":
            link |= {"recipientEmail": typed_email}
        else:
            embedded[link_field.removeprefix("embedded:")] = response.employee_id
        return {
            "responseId": rid,
            "values": {
                "startDate": iso_utc(response.landed_at),
                "endDate": iso_utc(response.submitted_at),
                "status": 0,
                "ipAddress": "",
                "progress": 100,
                "duration": int((response.submitted_at - response.landed_at).total_seconds()),
                "finished": 1,
                "recordedDate": iso_utc(response.submitted_at),
                "_recordId": rid,
                "distributionChannel": "anonymous" if link_field.startswith("embedded:") else "email",
                "userLanguage": "EN",
                **link,
                **answers,
                **embedded,
            },
            "labels": {"status": "IP Address", "finished": "True", **{q: LABELS[v - 1] for q, v in answers.items()}},
            "displayedFields": list(answers),
            "displayedValues": {qid: [1, 2, 3, 4, 5] for qid in answers},
        }
