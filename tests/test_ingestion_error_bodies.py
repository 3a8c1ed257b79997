"""Each source's error-body parser on its vendor's documented error body (reference/api-contracts.md), and the
error message an `ApiError` then carries."""

from __future__ import annotations

import orjson
import pytest

from ingestion import oauth
from ingestion.http import ApiError, error_of
from ingestion.sources import bitly, linkedin, qualtrics, surveymonkey, typeform, x


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"message": "Not enough permissions", "serviceErrorCode": 100, "status": 403},
            "serviceErrorCode 100",
            "Not enough permissions",
        ),
        (
            {"status": 401, "serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN", "message": "expired"},
            "EXPIRED_ACCESS_TOKEN (serviceErrorCode 65602)",
            "expired",
        ),
        (
            {"status": 426, "code": "NONEXISTENT_VERSION", "message": "Requested version 202401 is not active"},
            "NONEXISTENT_VERSION",
            "Requested version 202401 is not active",
        ),
    ],
    ids=["service-code", "code-and-service-code", "code-only"],
)
def test_linkedin(body, code, message):
    assert error_of(orjson.dumps(body), linkedin.error_body) == (code, message)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (
            {"title": "Unauthorized", "detail": "Unauthorized", "type": "about:blank", "status": 401},
            "Unauthorized",
            "Unauthorized",
        ),
        (
            {
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": "https://api.x.com/2/problems/invalid-request",
            },
            "Invalid Request",
            "One or more parameters to your request was invalid.",
        ),
        ({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, "88", "Rate limit exceeded"),
    ],
    ids=["problem-401", "problem-400", "429"],
)
def test_x(body, code, message):
    assert error_of(orjson.dumps(body), x.error_body) == (code, message)


def test_typeform():
    body = {
        "code": "VALIDATION_ERROR",
        "description": "bad request",
        "details": [
            {"code": "INVALID", "description": "too big", "field": "page_size", "in": "query"},
            {"code": "MISSING", "description": "required", "in": "header"},
        ],
        "help": "https://www.typeform.com/developers/",
    }
    assert error_of(orjson.dumps(body), typeform.error_body) == (
        "VALIDATION_ERROR",
        "bad request (page_size: too big; header: required)",
    )


def test_surveymonkey():
    body = {
        "error": {
            "id": "1040",
            "name": "Rate limit reached",
            "message": "Too many requests.",
            "docs": "…",
            "http_status_code": 429,
        }
    }
    assert error_of(orjson.dumps(body), surveymonkey.error_body) == ("1040", "Rate limit reached: Too many requests.")


def test_qualtrics():
    body = {
        "meta": {
            "httpStatus": "400 - Bad Request",
            "requestId": "r-1",
            "error": {"errorCode": "RP_0.1", "errorMessage": "bad"},
        }
    }
    assert error_of(orjson.dumps(body), qualtrics.error_body) == ("RP_0.1", "bad")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"message": "MONTHLY_LIMIT_EXCEEDED", "description": "monthly limit", "resource": "bitlinks"},
            "monthly limit",
        ),
        (
            {
                "message": "INVALID_ARG_UNIT",
                "description": "unit=day only",
                "resource": "bitlinks",
                "errors": [{"field": "unit", "error_code": "invalid", "message": "unit=day only"}],
            },
            "unit=day only (unit: unit=day only)",
        ),
    ],
    ids=["quota", "field-errors"],
)
def test_bitly(body, message):
    assert error_of(orjson.dumps(body), bitly.error_body) == (body["message"], message)


def test_an_oauth_token_endpoint():
    body = {"error": "invalid_client", "error_description": "Invalid client credentials"}
    assert error_of(orjson.dumps(body), oauth.token_endpoint_error) == ("invalid_client", "Invalid client credentials")


@pytest.mark.parametrize(
    "parse",
    [
        linkedin.error_body,
        x.error_body,
        typeform.error_body,
        surveymonkey.error_body,
        qualtrics.error_body,
        bitly.error_body,
        oauth.token_endpoint_error,
    ],
    ids=["linkedin", "x", "typeform", "surveymonkey", "qualtrics", "bitly", "oauth"],
)
def test_a_body_outside_the_sources_shape_is_shown_as_it_came(parse):
    body = b'{"upstream": "gateway timeout"}'
    assert error_of(body, parse) == (None, body.decode())


def test_the_parsed_code_and_message_make_the_error_message():
    code, message = error_of(
        orjson.dumps({"meta": {"error": {"errorCode": "AUTH_0.1", "errorMessage": "no"}}}), qualtrics.error_body
    )
    error = ApiError("qualtrics", "/surveys/SV_1/export-responses", 401, code, message, method="POST")
    assert str(error) == "qualtrics: POST /surveys/SV_1/export-responses failed: HTTP 401 AUTH_0.1: no"
