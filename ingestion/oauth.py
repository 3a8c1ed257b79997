"""OAuth 2.0 for member tokens: the authorization URL, the code exchange, the refresh, and a one-employee consent
flow with a callback on 127.0.0.1.

Vendors (reference/api-contracts.md §1 "Auth / refresh", §2; LinkedIn "Programmatic refresh tokens"; X "OAuth 2.0
Authorization Code Flow with PKCE"):
- LinkedIn: `GET https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id&redirect_uri&state
  &scope` (space-separated scopes); `POST https://www.linkedin.com/oauth/v2/accessToken` form
  `grant_type=authorization_code&code&redirect_uri&client_id&client_secret`, or `grant_type=refresh_token
  &refresh_token&client_id&client_secret`. Answers `{access_token, expires_in (60 days), refresh_token,
  refresh_token_expires_in, scope}`; a refresh keeps the refresh token's original end (365 days from consent).
- X: `GET https://x.com/i/oauth2/authorize?response_type=code&client_id&redirect_uri&scope&state&code_challenge
  &code_challenge_method=S256`; `POST https://api.x.com/2/oauth2/token` form `grant_type=authorization_code&code
  &redirect_uri&code_verifier` (+ `client_id` for a public client; a confidential client authenticates with HTTP
  Basic client_id:client_secret), or `grant_type=refresh_token&refresh_token`. Answers `{token_type, expires_in
  (7200), access_token, scope, refresh_token}` — the refresh token rotates: the old one is spent.
- Errors are RFC 6749 JSON `{error, error_description}`; `invalid_grant` means revoked or expired: the member has
  to consent again (`GrantRefused`).

Nothing here logs or raises with a token, a code, a verifier or a client secret in it.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from ingestion.http import redact
from ingestion.tokens import Secret

DEFAULTS = {
    "linkedin": {
        "authorize_url": "https://www.linkedin.com/oauth/v2/authorization",
        "token_url": "https://www.linkedin.com/oauth/v2/accessToken",
        "scopes": ("r_member_postAnalytics",),
    },
    "x": {
        "authorize_url": "https://x.com/i/oauth2/authorize",
        "token_url": "https://api.x.com/2/oauth2/token",
        "scopes": ("tweet.read", "users.read", "offline.access"),
    },
}
TIMEOUT = (5.0, 30.0)


class OAuthError(RuntimeError):
    """A token endpoint failed (not a refusal of the grant): transient or a configuration problem."""


class GrantRefused(OAuthError):
    """The vendor refused the grant (`invalid_grant`: revoked, expired, already used): the member must consent again."""


@dataclass(frozen=True)
class OAuthApp:
    """One vendor app's OAuth settings (from its Airflow connection: `login` = client id, `extra.client_secret`)."""

    network: str
    client_id: str
    client_secret: Secret | None = field(default=None, repr=False)
    token_url: str = ""
    authorize_url: str = ""
    redirect_uri: str = "http://127.0.0.1:8765/callback"
    scopes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        defaults = DEFAULTS[self.network]
        object.__setattr__(self, "token_url", self.token_url or defaults["token_url"])
        object.__setattr__(self, "authorize_url", self.authorize_url or defaults["authorize_url"])
        object.__setattr__(self, "scopes", tuple(self.scopes) or defaults["scopes"])


@dataclass(frozen=True)
class Grant:
    access_token: Secret = field(repr=False)
    expires_in: int
    refresh_token: Secret | None = field(default=None, repr=False)
    refresh_expires_in: int | None = None
    scopes: tuple[str, ...] = ()


def pkce_pair() -> tuple[Secret, str]:
    """(code_verifier, S256 code_challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return Secret(verifier), challenge


def authorization_url(app: OAuthApp, state: str, code_challenge: str | None = None) -> str:
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uri,
        "state": state,
        "scope": " ".join(app.scopes),
    }
    if app.network == "x":
        if not code_challenge:
            raise ValueError("X's OAuth 2.0 needs PKCE: pass the code challenge")
        params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    return f"{app.authorize_url}?{urlencode(params)}"


def exchange_code(app: OAuthApp, code: Secret, code_verifier: Secret | None = None) -> Grant:
    form = {"grant_type": "authorization_code", "code": code.reveal(), "redirect_uri": app.redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier.reveal()
    return _token_call(app, form, (code, code_verifier))


def refresh(app: OAuthApp, refresh_token: Secret) -> Grant:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token.reveal()}
    return _token_call(app, form, (refresh_token,), refreshing=True)


def token_endpoint_error(data: dict[str, Any]) -> tuple[object, str]:
    """An OAuth 2.0 token endpoint's error body (RFC 6749 §5.2): `{error: "invalid_client", error_description}`."""
    return data.get("error"), str(data.get("error_description") or "")


def _token_call(
    app: OAuthApp, form: dict[str, str], secrets_sent: tuple[Secret | None, ...], *, refreshing: bool = False
) -> Grant:
    auth = None
    if app.network == "linkedin":
        form = {**form, "client_id": app.client_id}
        if app.client_secret is not None:
            form["client_secret"] = app.client_secret.reveal()
    elif app.client_secret is not None:  # X confidential client: HTTP Basic
        auth = (app.client_id, app.client_secret.reveal())
    else:  # X public client
        form = {**form, "client_id": app.client_id}
    hidden = [s.reveal() for s in (*secrets_sent, app.client_secret) if s is not None]
    try:
        response = requests.post(app.token_url, data=form, auth=auth, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise OAuthError(redact(f"{app.network} token endpoint unreachable: {type(error).__name__}", hidden)) from None
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if response.status_code >= 400 or not isinstance(body, dict) or "access_token" not in body:
        code, description = token_endpoint_error(body) if isinstance(body, dict) else (None, "")
        message = redact(
            f"{app.network} token endpoint: HTTP {response.status_code} {code or ''} {description}", hidden
        )
        # invalid_grant: revoked, expired or spent. X answers a spent or revoked refresh token with
        # invalid_request "Value passed for the token was invalid." instead (observed, not documented).
        if code == "invalid_grant" or (refreshing and response.status_code == 400 and code == "invalid_request"):
            raise GrantRefused(message.strip())
        raise OAuthError(message.strip())
    refresh_token = body.get("refresh_token")
    scope = body.get("scope") or ""
    return Grant(
        access_token=Secret(str(body["access_token"])),
        expires_in=int(body.get("expires_in") or 0),
        refresh_token=Secret(str(refresh_token)) if refresh_token else None,
        refresh_expires_in=int(body["refresh_token_expires_in"]) if body.get("refresh_token_expires_in") else None,
        scopes=tuple(str(scope).replace(",", " ").split()),
    )


# --- one employee's consent --------------------------------------------------------------------------------------


@dataclass
class _Callback:
    state: str
    path: str
    code: Secret | None = None
    error: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _handler(callback: _Callback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            path, _, query = self.path.partition("?")
            if path != callback.path:
                self._answer(404, "Not the consent callback.")
                return
            params = {k: v[-1] for k, v in parse_qs(query).items()}
            if params.get("state") != callback.state:
                self._answer(400, "The state does not match this consent request: ignored.")
                return
            if "error" in params:
                callback.error = f"{params['error']}: {params.get('error_description', '')}".strip(": ")
                self._answer(200, "Consent was not given. You can close this window.")
            elif params.get("code"):
                callback.code = Secret(params["code"])
                self._answer(200, "Thank you: access granted. You can close this window.")
            else:
                self._answer(400, "No authorization code in the callback.")
                return
            callback.done.set()

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # the query carries the code: never log it
            pass

    return Handler


def consent(app: OAuthApp, show_url, *, timeout: float = 600.0) -> Grant:
    """Run the authorization-code flow for one member: start the callback server on the redirect URI (which must be
    http://127.0.0.1:<port>/<path>), hand the authorization URL to `show_url` (print it, open a browser), wait for
    the vendor's redirect, check `state`, and exchange the code (with the PKCE verifier on X)."""
    redirect = urlsplit(app.redirect_uri)
    if redirect.scheme != "http" or redirect.hostname != "127.0.0.1" or not redirect.port:
        raise ValueError("the consent callback listens on http://127.0.0.1:<port>/<path> only: set redirect_uri so")
    state = secrets.token_urlsafe(24)
    verifier, challenge = pkce_pair() if app.network == "x" else (None, None)
    callback = _Callback(state, redirect.path or "/")
    server = HTTPServer(("127.0.0.1", redirect.port), _handler(callback))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        show_url(authorization_url(app, state, challenge))
        if not callback.done.wait(timeout):
            raise OAuthError(f"no consent callback within {timeout:.0f} s")
    finally:
        server.shutdown()
        server.server_close()
    if callback.error or callback.code is None:
        raise GrantRefused(f"{app.network}: the member did not grant access ({callback.error})")
    return exchange_code(app, callback.code, verifier)
