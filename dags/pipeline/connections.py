"""Airflow connections → the plain-Python API settings ingestion takes. Read inside tasks, never at parse time.

A source's connection is an HTTP connection: the token in `password`, the API base URL in `extra.base_url`
(and for Typeform the form ids in `extra.form_ids`, for LinkedIn an optional pinned `extra.api_version`).
"""

from airflow.sdk import BaseHook

from ingestion.http import ApiConfig


def api_config(conn_id: str) -> ApiConfig:
    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    if not extra.get("base_url") or not conn.password:
        raise ValueError(f"connection {conn_id!r} needs a token in `password` and `extra.base_url`")
    return ApiConfig(base_url=extra["base_url"], token=conn.password, api_version=extra.get("api_version"))


def typeform_form_ids(conn_id: str) -> list[str]:
    form_ids = BaseHook.get_connection(conn_id).extra_dejson.get("form_ids") or []
    if isinstance(form_ids, str):
        form_ids = [f.strip() for f in form_ids.split(",") if f.strip()]
    if not form_ids:
        raise ValueError(f"connection {conn_id!r} lists no survey forms in `extra.form_ids`")
    return form_ids


def survey_ids(conn_id: str) -> list[str]:
    """The surveys listed in a SurveyMonkey or Qualtrics connection's `extra.survey_ids` (string ids, kept as such)."""
    ids = BaseHook.get_connection(conn_id).extra_dejson.get("survey_ids") or []
    if isinstance(ids, str):
        ids = [i.strip() for i in ids.split(",") if i.strip()]
    if not ids:
        raise ValueError(f"connection {conn_id!r} lists no surveys in `extra.survey_ids`")
    return [str(i) for i in ids]


def organization_urn(conn_id: str) -> str:
    """The company page (`urn:li:organization:…`) in a LinkedIn connection's `extra.organization_urn`."""
    urn = BaseHook.get_connection(conn_id).extra_dejson.get("organization_urn") or ""
    if not urn.startswith("urn:li:organization:"):
        raise ValueError(f"connection {conn_id!r} names no company page in `extra.organization_urn`")
    return urn
