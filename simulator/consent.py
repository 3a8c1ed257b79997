"""Member consent as the vendors run it: per-member OAuth tokens, their OAuth endpoints, and member scope.

Every employee of the roster is a LinkedIn member (`urn:li:person:<code>`); the ones with an X account are X users.
The simulator issues each of them an access token and a refresh token per network, as if they had consented
through the advocacy platform, and hands the set out as the platform's consent export (`export()`; served to the
demo at `/advocacy/v1/consents`). A configurable share of members has revoked the grant (every call with their token
is 401, their refresh is `invalid_grant`), a share holds an access token that has already expired (the refresh
works), and a share one that expires soon (refresh before use).

Token values derive from the simulator's own secret (HMAC), so a test that knows it can name any member's first
token (`member_access_token`); a refresh mints the next generation. The app's OAuth client is `CLIENT_ID` with the
simulator's secret as client secret.

Contract details (reference/api-contracts.md §1 "Auth / refresh", §2; LinkedIn "Programmatic refresh tokens";
X "OAuth 2.0 Authorization Code Flow with PKCE"):
- LinkedIn `POST /oauth/v2/accessToken` (form, client_id + client_secret in the body): `authorization_code` or
  `refresh_token`; answers `{access_token, expires_in: 5184000, refresh_token, refresh_token_expires_in, scope}`; a
  refresh hands back the same refresh token with what is left of its 365 days. Errors `{error, error_description}`:
  `invalid_grant` "The provided authorization grant or refresh token is invalid, expired or revoked" (guess at the
  exact wording), `invalid_client` 401.
- X `POST /2/oauth2/token` (form; confidential client by HTTP Basic, public client by `client_id`): answers
  `{token_type: "bearer", expires_in: 7200, access_token, scope, refresh_token}`; the refresh token rotates (the old
  one is spent). A spent or revoked refresh token: 400 `{"error": "invalid_request", "error_description": "Value
  passed for the token was invalid."}` (observed in public issue threads, not in the docs).
- Authorization endpoints (`/oauth/v2/authorization`, X `/i/oauth2/authorize`) validate client_id, redirect_uri,
  state, scope (and X's S256 code_challenge) and redirect straight back with a code, as if the member clicked
  "Allow": which member is named by the simulator-only parameter `sim_employee_id` (a real vendor knows who is
  logged in). `sim_deny=1` redirects with `error=access_denied`.
- Member scope: a member token reads that member's posts only (LinkedIn 403 ACCESS_DENIED on another member's post,
  X leaves out another author's non-public metrics with a field authorization error).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode

from simulator.messages import ApiRequest, ApiResponse

CLIENT_ID = "sharewhy-simulator-app"
LINKEDIN_ACCESS_SECONDS = 60 * 86_400
LINKEDIN_REFRESH_SECONDS = 365 * 86_400
X_ACCESS_SECONDS = 2 * 3_600
#: X refresh tokens have no published lifetime; 180 days here (a guess).
X_REFRESH_SECONDS = 180 * 86_400
SCOPES = {"linkedin": ("r_member_postAnalytics",), "x": ("tweet.read", "users.read", "offline.access")}
#: Categories of members (by a stable draw per member): revoked, access token already expired, expiring soon.
CATEGORIES = ("revoked", "expired", "expiring", "valid")


def member_access_token(secret: str, network: str, employee_id: str, generation: int = 0) -> str:
    return _derive(secret, network, employee_id, "access", generation)


def member_refresh_token(secret: str, network: str, employee_id: str, generation: int = 0) -> str:
    return _derive(secret, network, employee_id, "refresh", generation)


def _derive(secret: str, *parts: object) -> str:
    digest = hmac.new(secret.encode(), ":".join(map(str, parts)).encode(), hashlib.sha256).digest()
    prefix = "AQV" if parts[0] == "linkedin" else "X2"  # LinkedIn's tokens start with "AQ…" (observed); X's do not
    return prefix + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def linkedin_member_urn(employee_id: str) -> str:
    return "urn:li:person:" + hashlib.sha256(f"person:{employee_id}".encode()).hexdigest()[:10]


def _draw(seed: int, employee_id: str) -> float:
    """The member's stable draw: which members revoked or hold an expired token depends on the company (its seed),
    not on the run's secret, so every run of the same company has the same revoked members."""
    digest = hashlib.sha256(f"category:{seed}:{employee_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass
class _Access:
    employee_id: str
    network: str
    expires_at: float


@dataclass
class _Refresh:
    employee_id: str
    network: str
    expires_at: float
    generation: int
    spent: bool = False


@dataclass(frozen=True)
class Principal:
    """Who a bearer token stands for: the app (`employee_id` None) or one member; `error` when refused."""

    employee_id: str | None = None
    error: str | None = None  # "invalid", "revoked", "expired"


class ConsentRegistry:
    def __init__(
        self,
        secret: str,
        members: Mapping[str, Mapping[str, str]],
        *,
        revoked_share: float = 0.0,
        expired_share: float = 0.0,
        expiring_share: float = 0.0,
        clock: Callable[[], float] = time.time,
        seed: int = 0,
    ) -> None:
        """`members`: employee id → network → member id (LinkedIn person URN, X user id); `seed` picks which members
        fall in each category."""
        self.secret, self.members, self._clock = secret, members, clock
        self._lock = threading.Lock()
        self._access: dict[str, _Access] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._revoked: set[str] = set()
        self._codes: dict[str, tuple[str, str, str, str | None]] = {}  # code → employee, network, redirect, challenge
        self.category: dict[str, str] = {}
        now = clock()
        for employee_id, networks in members.items():
            draw = _draw(seed, employee_id)
            if draw < revoked_share:
                category = "revoked"
            elif draw < revoked_share + expired_share:
                category = "expired"
            elif draw < revoked_share + expired_share + expiring_share:
                category = "expiring"
            else:
                category = "valid"
            self.category[employee_id] = category
            if category == "revoked":
                self._revoked.add(employee_id)
            for network in networks:
                lifetime = LINKEDIN_ACCESS_SECONDS if network == "linkedin" else X_ACCESS_SECONDS
                soon = 3 * 86_400 if network == "linkedin" else 600  # inside the client's refresh margin
                expires = {"expired": now - 3_600, "expiring": now + soon}.get(category, now + lifetime)
                refresh_lifetime = LINKEDIN_REFRESH_SECONDS if network == "linkedin" else X_REFRESH_SECONDS
                self._access[member_access_token(secret, network, employee_id)] = _Access(employee_id, network, expires)
                self._refresh[member_refresh_token(secret, network, employee_id)] = _Refresh(
                    employee_id, network, now + refresh_lifetime, 0
                )

    @classmethod
    def for_company(cls, company, secret: str, **shares: float) -> ConsentRegistry:
        """Every roster employee on LinkedIn, and on X those with an account."""
        x_accounts = company.x_accounts
        members: dict[str, dict[str, str]] = {}
        for employee in company.employees:
            members[employee.employee_id] = {"linkedin": linkedin_member_urn(employee.employee_id)}
            if employee.employee_id in x_accounts:
                members[employee.employee_id]["x"] = x_accounts[employee.employee_id].user_id
        return cls(secret, members, seed=company.seed, **shares)

    def revoked_members(self) -> set[str]:
        return set(self._revoked)

    def revoke(self, employee_id: str) -> None:
        with self._lock:
            self._revoked.add(employee_id)

    # --- the advocacy platform's consent export --------------------------------------------------------------

    def export(self) -> list[dict[str, str]]:
        """One record per member × network, as the advocacy platform exports what its members granted."""
        records = []
        with self._lock:
            for employee_id, networks in self.members.items():
                for network, member_id in networks.items():
                    access_token = member_access_token(self.secret, network, employee_id)
                    refresh_token = member_refresh_token(self.secret, network, employee_id)
                    records.append(
                        {
                            "employee_id": employee_id,
                            "network": network,
                            "member_id": member_id,
                            "access_token": access_token,
                            "refresh_token": refresh_token,
                            "expires_at": _iso(self._access[access_token].expires_at),
                            "refresh_token_expires_at": _iso(self._refresh[refresh_token].expires_at),
                            "scopes": " ".join(SCOPES[network]),
                        }
                    )
        return sorted(records, key=lambda r: (r["employee_id"], r["network"]))

    # --- bearer tokens --------------------------------------------------------------------------------------

    def identify(self, network: str, bearer: str | None) -> Principal | None:
        """The member a bearer token of `network` belongs to, or an error; None when it is no member token."""
        if not bearer:
            return None
        with self._lock:
            access = self._access.get(bearer)
            if access is None or access.network != network:
                return None
            if access.employee_id in self._revoked:
                return Principal(access.employee_id, "revoked")
            if access.expires_at <= self._clock():
                return Principal(access.employee_id, "expired")
            return Principal(access.employee_id)

    # --- OAuth endpoints -------------------------------------------------------------------------------------

    def authorize(self, network: str, request: ApiRequest) -> ApiResponse:
        params = {k: v[-1] for k, v in parse_qs(request.raw_query, keep_blank_values=True).items()}
        redirect = params.get("redirect_uri", "")
        if params.get("client_id") != CLIENT_ID or not redirect.startswith(("http://127.0.0.1", "http://localhost")):
            return ApiResponse(
                400, {"error": "invalid_request", "error_description": "unknown client_id or redirect_uri"}
            )
        if params.get("response_type") != "code" or not params.get("state"):
            return ApiResponse(
                400, {"error": "invalid_request", "error_description": "response_type=code and state are required"}
            )
        scopes = set(params.get("scope", "").split())
        if not scopes or not scopes <= set(SCOPES[network]) | {"openid", "profile"}:
            return _redirect(redirect, {"error": "invalid_scope", "state": params["state"]})
        challenge = None
        if network == "x":
            if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
                return ApiResponse(
                    400, {"error": "invalid_request", "error_description": "PKCE S256 code_challenge is required"}
                )
            challenge = params["code_challenge"]
        employee_id = params.get("sim_employee_id", "")
        if params.get("sim_deny") == "1":
            return _redirect(redirect, {"error": "access_denied", "state": params["state"]})
        if network not in self.members.get(employee_id, {}):
            return ApiResponse(
                400, {"error": "invalid_request", "error_description": "sim_employee_id names no member"}
            )
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (employee_id, network, redirect, challenge)
            self._revoked.discard(employee_id)  # consenting again lifts a revocation
        return _redirect(redirect, {"code": code, "state": params["state"]})

    def token(self, network: str, request: ApiRequest) -> ApiResponse:
        if request.method != "POST":
            return ApiResponse(405, {"error": "invalid_request", "error_description": "POST only"})
        form = {k: v[-1] for k, v in parse_qs(request.body.decode(errors="replace"), keep_blank_values=True).items()}
        if not self._client_ok(network, request, form):
            return ApiResponse(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        grant_type = form.get("grant_type")
        if grant_type == "refresh_token":
            return self._refresh_grant(network, form.get("refresh_token", ""))
        if grant_type == "authorization_code":
            return self._code_grant(network, form)
        return ApiResponse(400, {"error": "unsupported_grant_type", "error_description": f"{grant_type!r}"})

    def _client_ok(self, network: str, request: ApiRequest, form: Mapping[str, str]) -> bool:
        if network == "linkedin":
            return form.get("client_id") == CLIENT_ID and hmac.compare_digest(
                form.get("client_secret", "").encode(), self.secret.encode()
            )
        scheme, _, value = (request.header("authorization") or "").partition(" ")
        if scheme.lower() == "basic":
            try:
                client_id, _, client_secret = base64.b64decode(value).decode().partition(":")
            except ValueError:
                return False
            return client_id == CLIENT_ID and hmac.compare_digest(client_secret.encode(), self.secret.encode())
        return form.get("client_id") == CLIENT_ID  # a public client (PKCE only)

    def _refused(self, network: str) -> ApiResponse:
        if network == "x":
            return ApiResponse(
                400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
            )
        return ApiResponse(
            400,
            {
                "error": "invalid_grant",
                "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked",
            },
        )

    def _refresh_grant(self, network: str, refresh_token: str) -> ApiResponse:
        now = self._clock()
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if (
                grant is None
                or grant.network != network
                or grant.spent
                or grant.expires_at <= now
                or grant.employee_id in self._revoked
            ):
                return self._refused(network)
            generation = grant.generation + 1
            access_token = member_access_token(self.secret, network, grant.employee_id, generation)
            if network == "x":
                grant.spent = True  # rotating refresh tokens: the old one is spent
                new_refresh = member_refresh_token(self.secret, network, grant.employee_id, generation)
                self._refresh[new_refresh] = _Refresh(grant.employee_id, network, now + X_REFRESH_SECONDS, generation)
                self._access[access_token] = _Access(grant.employee_id, network, now + X_ACCESS_SECONDS)
                body = {
                    "token_type": "bearer",
                    "expires_in": X_ACCESS_SECONDS,
                    "access_token": access_token,
                    "scope": " ".join(SCOPES[network]),
                    "refresh_token": new_refresh,
                }
            else:
                grant.generation = generation  # same refresh token, its end unchanged
                self._access[access_token] = _Access(grant.employee_id, network, now + LINKEDIN_ACCESS_SECONDS)
                body = {
                    "access_token": access_token,
                    "expires_in": LINKEDIN_ACCESS_SECONDS,
                    "refresh_token": refresh_token,
                    "refresh_token_expires_in": int(grant.expires_at - now),
                    "scope": " ".join(SCOPES[network]),
                }
        return ApiResponse(200, body)

    def _code_grant(self, network: str, form: Mapping[str, str]) -> ApiResponse:
        now = self._clock()
        with self._lock:
            issued = self._codes.pop(form.get("code", ""), None)
            if issued is None or issued[1] != network or issued[2] != form.get("redirect_uri"):
                return ApiResponse(
                    400, {"error": "invalid_grant", "error_description": "authorization code is invalid"}
                )
            employee_id, _, _, challenge = issued
            if challenge is not None:
                verifier = form.get("code_verifier", "")
                computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                if not hmac.compare_digest(computed, challenge):
                    return ApiResponse(
                        400, {"error": "invalid_grant", "error_description": "code_verifier does not match"}
                    )
            generation = 1000 + len(self._refresh)  # a fresh pair, unrelated to earlier grants
            access_token = member_access_token(self.secret, network, employee_id, generation)
            refresh_token = member_refresh_token(self.secret, network, employee_id, generation)
            access_seconds = LINKEDIN_ACCESS_SECONDS if network == "linkedin" else X_ACCESS_SECONDS
            refresh_seconds = LINKEDIN_REFRESH_SECONDS if network == "linkedin" else X_REFRESH_SECONDS
            self._access[access_token] = _Access(employee_id, network, now + access_seconds)
            self._refresh[refresh_token] = _Refresh(employee_id, network, now + refresh_seconds, generation)
        body = {
            "access_token": access_token,
            "expires_in": access_seconds,
            "refresh_token": refresh_token,
            "scope": " ".join(SCOPES[network]),
        }
        if network == "linkedin":
            body["refresh_token_expires_in"] = refresh_seconds
        else:
            body["token_type"] = "bearer"
        return ApiResponse(200, body)


def _redirect(redirect_uri: str, params: dict[str, str]) -> ApiResponse:
    separator = "&" if "?" in redirect_uri else "?"
    return ApiResponse(302, {}, {"Location": f"{redirect_uri}{separator}{urlencode(params)}"})


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class OAuthEndpoints:
    """One vendor's OAuth paths, served under their own prefix (`/linkedin/oauth`, `/x/2/oauth2`, `/x/i/oauth2`)."""

    def __init__(self, registry: ConsentRegistry, network: str, routes: Mapping[str, str]) -> None:
        self._registry, self._network, self._routes = registry, network, routes

    def handle(self, request: ApiRequest) -> ApiResponse:
        route = self._routes.get(request.path.rstrip("/"))
        if route == "token":
            return self._registry.token(self._network, request)
        if route == "authorize":
            return self._registry.authorize(self._network, request)
        return ApiResponse(404, {"error": "not_found", "error_description": request.path})


class ConsentExport:
    """The advocacy platform's consent export as an API (`GET /advocacy/v1/consents`, the simulator's app token)."""

    def __init__(self, registry: ConsentRegistry, token: str) -> None:
        self._registry, self._token = registry, token

    def handle(self, request: ApiRequest) -> ApiResponse:
        if not request.has_bearer_token(self._token):
            return ApiResponse(401, {"message": "Unauthorized"})
        if request.path.rstrip("/") != "/v1/consents" or request.method != "GET":
            return ApiResponse(404, {"message": f"no endpoint {request.path}"})
        return ApiResponse(200, {"consents": self._registry.export()})


def members_of(employee_ids: Iterable[str]) -> dict[str, dict[str, str]]:
    """LinkedIn-only members for a list of employee ids (the bench tenant)."""
    return {e: {"linkedin": linkedin_member_urn(e)} for e in employee_ids}
