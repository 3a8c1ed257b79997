"""SurveyMonkey v3: the OAuth code exchange, `GET /v3/surveys/{id}/details` and
`GET /v3/surveys/{id}/responses/bulk`, as documented, failures included.

The motivation survey of each wave run on SurveyMonkey (`Company.survey_waves_for("surveymonkey")`, any number):
the survey id, its question ids and their choice ids are derived from the wave's `form_id` (never hard-coded), and
the instrument's items are single-choice questions whose choices read `Strongly disagree` … `Strongly agree` (plain
labels: nothing numbers them). Clients learn which question is which item and which choice is which scale point
from `/details` only — as with a real account, whose question ids the survey owner cannot choose; the seed
`survey_instrument.csv` maps (survey id, question id) to the construct (`simulator.instrument` writes it).

`/details` (public_api_docs includes/_surveys.md, _questions.md): the survey (`id`, `title`, `date_created`,
`date_modified`, `question_count`, `page_count`, `custom_variables`, `pages[]`), each page with its `questions[]`
(`id`, `position`, `family` single_choice, `subtype` vertical, `headings[{heading}]`, `answers.choices[]` with `id`,
`position`, `text`, `visible`, `is_na`). The doc's example holds `//` placeholders where the page and question
objects go: their members here follow the doc's question-formatting section; `visible`/`is_na` on a choice and
`custom_variables` as a name → label object (the /details example shows a list, /surveys an object) are guesses.

`/responses/bulk` (includes/_responses.md): each response's `pages[].questions[]` are `{"id": <question id>,
"answers": [{"choice_id": <id>}]}` — no `variable_id` (that belongs to survey authoring, not to answers) — and
`simple=true` adds the choice's text as `simple_text` (e.g. `Agree`) and the question's `heading`. The respondent's
employee id travels as the custom variable `employee_id`: appended to the collector link (`?employee_id=…`), it comes
back in the response's `custom_variables` object.

Rules (reference/api-contracts.md §6):
- `POST /oauth/token` (form: client_id, client_secret, code, redirect_uri, grant_type=authorization_code) answers the
  access token and the `access_url` the account's data center is reached at: clients must use it as the API base;
- `Authorization: Bearer` → else 401 error id "1011"; ids are strings everywhere, error ids too;
- `per_page` at most 100 on /bulk (default 50), `page` from 1; `links.next` (an absolute URL) while more pages exist;
- `start_modified_at`/`end_modified_at` (`YYYY-MM-DDTHH:MM:SS`, UTC), `status`, `sort_by=date_modified`,
  `sort_order=ASC|DESC` (default DESC);
- every answer (/details too) carries `X-Ratelimit-App-Global-{Minute,Day}-{Limit,Remaining,Reset}` (Reset in
  seconds from now); over either limit, 429 with error id "1040". Draft apps: 120 calls a minute, 500 a day (the day
  resets at 00:00 GMT of the real clock).
"""

from __future__ import annotations

import hashlib
import math
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode

from simulator.company import SURVEY_ITEMS, Company, SurveyResponse, SurveyWave
from simulator.messages import ApiRequest, ApiResponse

CLIENT_ID = "sharewhy-simulator"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
MINUTE_LIMIT, DAY_LIMIT = 120, 500
#: The 1–5 scale's choices, by position: plain labels, no digits (a client must not read numbers from them).
CHOICE_TEXTS = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")
#: The question each instrument item asks (its heading on the survey page).
HEADINGS = {
    "obligated": "I share company content because I feel I am expected to.",
    "good_news": "I share company content to spread the company's good news.",
    "proud": "I share company content because I am proud to work here.",
    "educate": "I share company content to help customers learn.",
}
_BULK_PATH = re.compile(r"/v3/surveys/([^/]+)/responses/bulk/?")
_DETAILS_PATH = re.compile(r"/v3/surveys/([^/]+)/details/?")
_DOCS = "https://developer.surveymonkey.com/api/v3/#error-codes"
_ERROR_NAMES = {
    "1002": "Bad Request",
    "1011": "Authorization Error",
    "1012": "Authorization Error",
    "1020": "Resource Not Found",
    "1040": "Rate limit reached",
}


def _digits(length: int, *parts: object) -> str:
    number = int.from_bytes(hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest(), "big")
    return str(10 ** (length - 1) + number % (9 * 10 ** (length - 1)))


def survey_id(wave: SurveyWave) -> str:
    return _digits(9, "surveymonkey", wave.form_id)


def question_ids(wave: SurveyWave) -> dict[str, str]:
    """The survey's question id → the instrument item's ref, in the survey's question order."""
    sid = survey_id(wave)
    return {_digits(9, "question", sid, item.ref): item.ref for item in SURVEY_ITEMS}


def response_id(response: SurveyResponse) -> str:
    return _digits(11, "response", response.token)


def choice_id(question_id: str, position: int) -> str:
    return _digits(10, "choice", question_id, position)


def _error(http_status: int, error_id: str, message: str, headers=None) -> ApiResponse:
    body = {
        "error": {
            "id": error_id,
            "name": _ERROR_NAMES.get(error_id, "Error"),
            "docs": _DOCS,
            "message": message,
            "http_status_code": http_status,
        }
    }
    return ApiResponse(http_status, body, headers or {})


def _parse_time(name: str, value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Invalid value for {name}: {value!r} (expected YYYY-MM-DDTHH:MM:SS)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class SurveyMonkeyApi:
    def __init__(self, company: Company, token: str, prefix: str, limits: tuple[int, int] | None = None) -> None:
        self._company = company
        self._token = token
        self._prefix = prefix  # where the server mounts this API, to build absolute `links`
        self._minute_limit, self._day_limit = limits or (MINUTE_LIMIT, DAY_LIMIT)
        self._waves = {survey_id(wave): wave for wave in company.survey_waves_for("surveymonkey")}
        self._minute: tuple[float, int] = (0.0, 0)
        self._day: tuple[float, int] = (0.0, 0)
        self._lock = threading.Lock()

    @property
    def survey_ids(self) -> list[str]:
        return list(self._waves)

    def handle(self, request: ApiRequest) -> ApiResponse:
        if request.path.rstrip("/") == "/oauth/token":
            return self._token_exchange(request)
        if not request.has_bearer_token(self._token):
            return _error(401, "1011", "The authorization token provided was invalid.")
        allowed, headers = self._take()
        if not allowed:
            return _error(429, "1040", "Too many requests were made, try again later.", headers)
        details = _DETAILS_PATH.fullmatch(request.path)
        route = details or _BULK_PATH.fullmatch(request.path)
        if route is None or route[1] not in self._waves:
            return _error(404, "1020", f"Resource not found: {request.path}", headers)
        if request.method != "GET":
            return _error(405, "1002", f"{request.method} is not allowed on {request.path}", headers)
        if details is not None:
            return ApiResponse(200, self._details(route[1]), headers)
        params = {name: values[-1] for name, values in parse_qs(request.raw_query, keep_blank_values=True).items()}
        try:
            body = self._bulk(route[1], params, request.header("host") or "")
        except ValueError as invalid:
            return _error(400, "1002", str(invalid), headers)
        return ApiResponse(200, body, headers)

    def _token_exchange(self, request: ApiRequest) -> ApiResponse:
        """Any authorization code is good; the client must prove itself with the simulator's id and secret (the
        token), and gets back the token and the `access_url` of the account's data center."""
        form = {name: values[-1] for name, values in parse_qs(request.body.decode(), keep_blank_values=True).items()}
        if form.get("grant_type") != "authorization_code" or not form.get("code") or not form.get("redirect_uri"):
            return ApiResponse(400, {"error": "invalid_request", "error_description": "Missing or invalid parameters"})
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self._token:
            return ApiResponse(401, {"error": "invalid_client", "error_description": "Invalid client credentials"})
        access_url = f"http://{request.header('host')}{self._prefix}"
        return ApiResponse(200, {"access_token": self._token, "access_url": access_url, "token_type": "bearer"})

    def _take(self) -> tuple[bool, dict[str, str]]:
        """Count the call in the minute and day windows; the rate-limit headers either way."""
        with self._lock:
            now = time.time()
            day_start = math.floor(now / 86_400) * 86_400  # 00:00 GMT
            minute_start, minute_used = self._minute if now < self._minute[0] + 60 else (now, 0)
            day_used = self._day[1] if self._day[0] == day_start else 0
            allowed = minute_used < self._minute_limit and day_used < self._day_limit
            if allowed:
                minute_used, day_used = minute_used + 1, day_used + 1
            self._minute, self._day = (minute_start, minute_used), (day_start, day_used)
            headers = {
                "X-Ratelimit-App-Global-Minute-Limit": str(self._minute_limit),
                "X-Ratelimit-App-Global-Minute-Remaining": str(self._minute_limit - minute_used),
                "X-Ratelimit-App-Global-Minute-Reset": str(math.ceil(minute_start + 60 - now)),
                "X-Ratelimit-App-Global-Day-Limit": str(self._day_limit),
                "X-Ratelimit-App-Global-Day-Remaining": str(self._day_limit - day_used),
                "X-Ratelimit-App-Global-Day-Reset": str(math.ceil(day_start + 86_400 - now)),
            }
        return allowed, headers

    def _bulk(self, sid: str, params: dict[str, str], host: str) -> dict:
        per_page_text, page_text = params.get("per_page", str(DEFAULT_PER_PAGE)), params.get("page", "1")
        if not per_page_text.isdigit() or not 1 <= int(per_page_text) <= MAX_PER_PAGE:
            raise ValueError(f"Invalid value for per_page: {per_page_text!r} (1 to {MAX_PER_PAGE} on /bulk)")
        if not page_text.isdigit() or int(page_text) < 1:
            raise ValueError(f"Invalid value for page: {page_text!r}")
        per_page, page = int(per_page_text), int(page_text)
        if params.get("status", "completed") not in ("completed", "partial", "overquota", "disqualified"):
            raise ValueError(f"Invalid value for status: {params['status']!r}")
        if params.get("sort_by", "date_modified") != "date_modified":
            raise ValueError("The simulator sorts by date_modified only")
        order = params.get("sort_order", "DESC").upper()
        if order not in ("ASC", "DESC"):
            raise ValueError(f"Invalid value for sort_order: {params['sort_order']!r}")

        wave = self._waves[sid]
        responses = [r for r in wave.responses if r.submitted_at < self._company.as_of]
        if params.get("status", "completed") != "completed":
            responses = []  # every simulated response is completed
        if "start_modified_at" in params:
            since = _parse_time("start_modified_at", params["start_modified_at"])
            responses = [r for r in responses if r.submitted_at >= since]
        if "end_modified_at" in params:
            until = _parse_time("end_modified_at", params["end_modified_at"])
            responses = [r for r in responses if r.submitted_at <= until]
        responses.sort(key=lambda r: (r.submitted_at, r.token), reverse=order == "DESC")
        total = len(responses)
        chunk = responses[(page - 1) * per_page : page * per_page]

        def link(to_page: int) -> str:
            query = urlencode({**params, "page": to_page, "per_page": per_page})
            return f"http://{host}{self._prefix}/v3/surveys/{sid}/responses/bulk?{query}"

        links = {"self": link(page)}
        if page * per_page < total:
            links["next"] = link(page + 1)
        if page > 1:
            links["prev"] = link(page - 1)
        if total:
            links["last"] = link(math.ceil(total / per_page))
        simple = params.get("simple", "false").lower() == "true"
        return {
            "data": [self._response(sid, wave, r, simple) for r in chunk],
            "per_page": per_page,
            "page": page,
            "total": total,
            "links": links,
        }

    def _details(self, sid: str) -> dict:
        """The survey with its pages, questions and choices (see the module docstring for what is a guess)."""
        wave = self._waves[sid]
        refs = question_ids(wave)
        constructs = {item.ref: item.construct for item in SURVEY_ITEMS}
        questions = [
            {
                "id": qid,
                "position": position,
                "family": "single_choice",
                "subtype": "vertical",
                "headings": [{"heading": HEADINGS[constructs[ref]]}],
                "href": f"https://api.surveymonkey.com/v3/surveys/{sid}/pages/{_digits(9, 'page', sid)}/questions/{qid}",
                "answers": {
                    "choices": [
                        {"id": choice_id(qid, n), "position": n, "text": text, "visible": True, "is_na": False}
                        for n, text in enumerate(CHOICE_TEXTS, start=1)
                    ]
                },
            }
            for position, (qid, ref) in enumerate(refs.items(), start=1)
        ]
        created = wave.opens_at - timedelta(days=3)
        return {
            "id": sid,
            "title": f"Why we share ({wave.form_id})",
            "nickname": wave.form_id,
            "language": "en",
            "custom_variables": {"employee_id": "Employee id"},
            "question_count": len(questions),
            "page_count": 1,
            "response_count": sum(r.submitted_at < self._company.as_of for r in wave.responses),
            "date_created": created.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            # the survey is not edited once it opens: its last change is the day before
            "date_modified": (wave.opens_at - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "href": f"https://api.surveymonkey.com/v3/surveys/{sid}",
            "preview": f"https://www.surveymonkey.com/r/Preview/?sm={sid}",
            "pages": [
                {
                    "id": _digits(9, "page", sid),
                    "title": "",
                    "description": "",
                    "position": 1,
                    "question_count": len(questions),
                    "questions": questions,
                }
            ],
        }

    @staticmethod
    def _response(sid: str, wave: SurveyWave, response: SurveyResponse, simple: bool) -> dict:
        rid = response_id(response)
        constructs = {item.ref: item.construct for item in SURVEY_ITEMS}
        questions = []
        for question_id, ref in question_ids(wave).items():
            if ref not in response.answers:
                continue  # a skipped question is left out of the response
            value = response.answers[ref]
            answer = {"choice_id": choice_id(question_id, value)}
            if simple:
                answer["simple_text"] = CHOICE_TEXTS[value - 1]
            question = {"id": question_id, "answers": [answer]}
            if simple:
                question["heading"] = HEADINGS[constructs[ref]]
            questions.append(question)
        return {
            "id": rid,
            "recipient_id": "",
            "collection_mode": "default",
            "response_status": "completed",
            "custom_value": "",
            "first_name": "",
            "last_name": "",
            "email_address": "",
            "ip_address": "",
            "logic_path": {},
            "metadata": {"contact": {}},
            "page_path": [],
            "collector_id": _digits(9, "collector", sid),
            "survey_id": sid,
            "custom_variables": {"employee_id": response.employee_id},
            "edit_url": f"https://www.surveymonkey.com/r/?sm={rid}",
            "analyze_url": f"https://www.surveymonkey.com/analyze/browse/{sid}?respondent_id={rid}",
            "total_time": int((response.submitted_at - response.landed_at).total_seconds()),
            "date_modified": response.submitted_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "date_created": response.landed_at.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "href": f"https://api.surveymonkey.com/v3/surveys/{sid}/responses/{rid}",
            "pages": [{"id": _digits(9, "page", sid), "questions": questions}],
        }
