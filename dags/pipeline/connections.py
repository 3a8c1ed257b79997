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


# --- member consent (issue 13) ------------------------------------------------------------------------------------

#: The token store's Fernet keys: this connection's `password` (comma-separated, newest first), else the environment
#: variable SHAREWHY_TOKEN_KEYS.
TOKEN_KEYS_CONN_ID = "sharewhy_token_keys"


def token_keys() -> str:
    import os

    try:
        keys = BaseHook.get_connection(TOKEN_KEYS_CONN_ID).password
    except Exception:  # no such connection: the environment
        keys = None
    keys = keys or os.environ.get("SHAREWHY_TOKEN_KEYS", "")
    if not keys:
        raise ValueError(
            f"no token encryption key: set the connection {TOKEN_KEYS_CONN_ID!r} (keys in `password`) or the "
            "environment variable SHAREWHY_TOKEN_KEYS"
        )
    return keys


def member_access(conn_id: str, network: str):
    """The member token store and the network's OAuth app (refresh) from the source's connection: client id in
    `login` or `extra.client_id`, `extra.client_secret`, `extra.token_url`; `extra.workers`,
    `extra.app_daily_quota`, `extra.member_daily_quota` (LinkedIn's daily quotas, as the developer portal shows)."""
    from ingestion.members import member_access as build
    from ingestion.oauth import OAuthApp
    from ingestion.tokens import Secret
    from sharewhy import settings

    conn = BaseHook.get_connection(conn_id)
    extra = conn.extra_dejson
    client_id = conn.login or extra.get("client_id")
    app = None
    if client_id:
        secret = extra.get("client_secret")
        app = OAuthApp(
            network,
            client_id,
            Secret(secret) if secret else None,
            token_url=extra.get("token_url", ""),
            authorize_url=extra.get("authorize_url", ""),
        )

    def number(name: str) -> int | None:
        return int(extra[name]) if extra.get(name) not in (None, "") else None

    return build(
        settings.warehouse_url(),
        network,
        keys=token_keys(),
        oauth_app=app,
        workers=number("workers"),
        app_daily_quota=number("app_daily_quota"),
        member_daily_quota=number("member_daily_quota"),
    )
