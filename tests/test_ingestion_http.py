"""The shared HTTP layer against real local servers: retries, timeouts, 429 policies, errors, exact query strings."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Mapping
from pathlib import Path

import pytest
from api_stubs import TOKEN, RecordingApp, Reply, raw_query, serve

from ingestion.http import (
    ApiClient,
    ApiConfig,
    ApiError,
    Encoded,
    RateLimitExceeded,
    RateLimitPolicy,
    RetryPolicy,
    Timeouts,
    error_of,
    redact,
)
from ingestion.paging import OffsetPaging
from ingestion.sources import linkedin, typeform

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
PATIENT_ON_429 = RateLimitPolicy(retries=2, advice="come back tomorrow")


def message_error(data: dict) -> tuple[object, str]:
    """The test vendor's documented error body: `{code, message}` (what the stubs' injected failures send)."""
    return data.get("code"), str(data.get("message") or "")


class Echo(RecordingApp):
    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        return Reply(200, {"path": path})


def client(base_url: str, **options) -> ApiClient:
    options.setdefault("retry", FAST)
    options.setdefault("rate_limit", PATIENT_ON_429)
    options.setdefault("error_body", message_error)
    return ApiClient("vendor", ApiConfig(base_url, TOKEN), **options)


def test_5xx_is_retried_until_success():
    app = Echo(fail_first=(503, 502))
    with serve(app) as base_url, client(base_url) as api:
        response = api.get("/things", [("a", "1")])
    assert response.body == {"path": "/things?a=1"}
    assert api.api_calls == 3
    assert all(headers["Authorization"] == f"Bearer {TOKEN}" for _, headers in app.requests)


def test_persistent_5xx_fails_naming_source_endpoint_status_and_vendor_message():
    app = Echo(fail_first=(503, 503, 503))
    with serve(app) as base_url, client(base_url) as api, pytest.raises(ApiError) as raised:
        api.get("/things", [("a", "1")])
    assert raised.value.status == 503
    assert str(raised.value) == "vendor: GET /things?a=1 failed: HTTP 503: injected failure. gave up after 3 attempts"
    assert api.api_calls == 3


def test_read_timeout_is_retried():
    class StallsOnce(RecordingApp):
        def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
            return Reply(200, {"ok": True}, delay=2.0 if len(self.requests) == 1 else 0)

    with serve(StallsOnce()) as base_url, client(base_url, timeouts=Timeouts(connect=1, read=0.5)) as api:
        assert api.get("/slow").body == {"ok": True}
    assert api.api_calls == 2


def test_connection_refused_fails_after_bounded_attempts():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client(f"http://127.0.0.1:{port}") as api, pytest.raises(ApiError) as raised:
        api.get("/things")
    assert raised.value.status is None
    assert api.api_calls == FAST.attempts
    assert str(raised.value).startswith("vendor: GET /things failed: no HTTP response: ConnectionError")


def test_client_errors_are_not_retried_and_carry_the_code_and_message_the_sources_parser_reads():
    class Refuses(RecordingApp):
        def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
            if path.startswith("/linkedin"):
                body = {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN", "message": "Invalid"}
                return Reply(401, body)
            details = [{"code": "INVALID", "description": "too big", "field": "page_size", "in": "query"}]
            return Reply(400, {"code": "VALIDATION_ERROR", "description": "bad request", "details": details})

    with serve(Refuses()) as base_url:
        with client(base_url, error_body=linkedin.error_body) as linkedin_api:
            with pytest.raises(ApiError) as linkedin_style:
                linkedin_api.get("/linkedin")
        with client(base_url, error_body=typeform.error_body) as typeform_api:
            with pytest.raises(ApiError) as typeform_style:
                typeform_api.get("/typeform", [("page_size", 5000)])
    assert linkedin_api.api_calls == typeform_api.api_calls == 1
    assert str(linkedin_style.value) == (
        "vendor: GET /linkedin failed: HTTP 401 INVALID_ACCESS_TOKEN (serviceErrorCode 65600): Invalid"
    )
    assert str(typeform_style.value) == (
        "vendor: GET /typeform?page_size=5000 failed: HTTP 400 VALIDATION_ERROR: bad request (page_size: too big)"
    )


def test_429_backs_off_then_succeeds():
    app = Echo(fail_first=(429, 429))
    with serve(app) as base_url, client(base_url) as api:
        assert api.get("/things").body == {"path": "/things"}
    assert api.api_calls == 3


def test_429_beyond_the_policy_fails_with_its_advice():
    app = Echo(fail_first=(429,) * 10)
    with serve(app) as base_url, client(base_url) as api, pytest.raises(RateLimitExceeded) as raised:
        api.get("/things")
    assert api.api_calls == PATIENT_ON_429.retries + 1
    assert str(raised.value).endswith("HTTP 429: injected failure. come back tomorrow")


class Answers(RecordingApp):
    """Answers each request with the next of `replies`, then 200."""

    def __init__(self, *replies: Reply) -> None:
        super().__init__()
        self._replies = list(replies)

    def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
        return self._replies.pop(0) if self._replies else Reply(200, {"created": path})


def test_a_post_is_sent_again_when_the_vendor_says_it_was_not_processed():
    app = Answers(Reply(503, {"message": "down for a moment"}, headers={"Retry-After": "0"}))
    with serve(app) as base_url, client(base_url) as api:
        assert api.post("/exports", json={"format": "json"}).body == {"created": "/exports"}
    assert api.api_calls == 2


@pytest.mark.parametrize(
    "reply, outcome",
    [
        (Reply(200, {"created": "/exports"}, delay=2.0), "ReadTimeout"),
        (Reply(502, {"message": "bad gateway"}), "HTTP 502"),
        (Reply(503, {"message": "unavailable"}), "HTTP 503"),
        (Reply(200, b'{"result": {"progr'), "response is not JSON"),
    ],
    ids=["read-timeout", "502", "503-without-retry-after", "cut-off-body"],
)
def test_a_post_the_vendor_may_have_processed_is_not_sent_again(reply, outcome):
    app = Answers(reply)
    with serve(app) as base_url, client(base_url, timeouts=Timeouts(connect=1, read=0.5)) as api:
        with pytest.raises(ApiError) as raised:
            api.post("/exports", json={"format": "json"})
    assert api.api_calls == 1 and len(app.requests) == 1
    message = str(raised.value)
    assert message.startswith("vendor: POST /exports failed: ") and outcome in message
    assert "not sent again" in message


def test_a_post_that_could_not_connect_is_sent_again():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with client(f"http://127.0.0.1:{port}") as api, pytest.raises(ApiError) as raised:
        api.post("/exports", json={})
    assert api.api_calls == FAST.attempts
    assert "gave up after 3 attempts" in str(raised.value)


def test_query_goes_out_exactly_as_built():
    app = Echo()
    params = [
        ("entity", Encoded("(share:urn%3Ali%3Ashare%3A123)")),
        ("since", "2026-11-25T23:00:00Z"),
        ("x", "a b+c/d"),
    ]
    with serve(app) as base_url, client(base_url) as api:
        response = api.get("/q", params)
    wire = "/q?entity=(share:urn%3Ali%3Ashare%3A123)&since=2026-11-25T23:00:00Z&x=a%20b%2Bc%2Fd"
    assert app.paths == [wire]
    assert response.request == base_url + wire


def test_offset_paging_stops_on_the_first_short_page():
    class FiveElements(RecordingApp):
        def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
            query = raw_query(path)
            start, count = int(query["start"]), int(query["count"])
            elements = list(range(5))[start : start + count]
            return Reply(200, {"paging": {"start": start, "count": count}, "elements": elements})

    app = FiveElements()
    with serve(app) as base_url, client(base_url) as api:
        pages = list(OffsetPaging(count=2).pages(api, "/e", [("q", "x")]))
    assert [page.records for page in pages] == [[0, 1], [2, 3], [4]]
    assert app.paths == ["/e?q=x&start=0&count=2", "/e?q=x&start=2&count=2", "/e?q=x&start=4&count=2"]


def test_redact_scrubs_secrets_bearer_credentials_and_url_userinfo():
    text = f"GET http://user:pw@host/x?token={TOKEN} Authorization: Bearer abc.def"
    assert redact(text, [TOKEN]) == "GET http://***@host/x?token=*** Authorization: Bearer ***"


def test_the_token_stays_out_of_repr_and_logs(caplog):
    caplog.set_level(logging.DEBUG)
    config = ApiConfig("http://127.0.0.1:1", TOKEN)
    app = Echo(fail_first=(500,))
    with serve(app) as base_url, client(base_url) as api:
        api.get("/things")
    assert TOKEN not in repr(config)
    assert "retrying" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", (None, "<html><body>502 Bad Gateway</body></html>")),
        (b'{"fault": "not the vendor\'s shape"}', (None, '{"fault": "not the vendor\'s shape"}')),
        (b'["a", "list"]', (None, '["a", "list"]')),
        (b'{"code": 42, "message": "documented"}', ("42", "documented")),
    ],
    ids=["not-json", "another-shape", "not-an-object", "the-sources-shape"],
)
def test_an_error_body_is_read_by_the_sources_parser_else_shown_as_text(body, expected):
    assert error_of(body, message_error) == expected


#: Words only a vendor's own module may know: names, documented error-body keys and rate-limit headers.
VENDOR_KNOWLEDGE = (
    "linkedin",
    "twitter",
    "x's",
    "typeform",
    "surveymonkey",
    "qualtrics",
    "bitly",
    "rest.li",
    "serviceErrorCode",
    "errorCode",
    "errorMessage",
    "error_description",
    "title",
    "detail",
    "description",
    "x-rate-limit",
    "X-Ratelimit",
    "X-API-TOKEN",
    "MONTHLY_LIMIT_EXCEEDED",
    "access_url",
    "/v3",
)


def test_the_http_layer_knows_no_vendor():
    """Every vendor's error body, headers and quotas are declared by its source; ingestion/http.py only calls them."""
    source = (Path(__file__).parents[1] / "ingestion" / "http.py").read_text()
    found = [word for word in VENDOR_KNOWLEDGE if re.search(rf"(?<![\w-]){re.escape(word)}", source, re.IGNORECASE)]
    assert found == []


def test_a_2xx_body_cut_off_midway_is_retried():
    class CutsOffOnce(RecordingApp):
        def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
            return Reply(200, b'{"items": [1, 2' if len(self.requests) == 1 else {"items": [1, 2, 3]})

    with serve(CutsOffOnce()) as base_url, client(base_url) as api:
        assert api.get("/things").body == {"items": [1, 2, 3]}
    assert api.api_calls == 2


def test_a_body_that_never_parses_fails_saying_so():
    class AlwaysCutOff(RecordingApp):
        def answer(self, path: str, headers: Mapping[str, str]) -> Reply:
            return Reply(200, b'{"items": [1, 2')

    with serve(AlwaysCutOff()) as base_url, client(base_url) as api, pytest.raises(ApiError) as raised:
        api.get("/things")
    assert str(raised.value).startswith("vendor: GET /things failed: HTTP 200: response is not JSON")
    assert str(raised.value).endswith("gave up after 3 attempts")
