"""The request and response the vendor handlers exchange with the HTTP server (no HTTP machinery in the handlers)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str  # below the vendor prefix, e.g. "/memberCreatorPostAnalytics"
    raw_query: str  # exactly as sent, still percent-encoded
    headers: Mapping[str, str]  # header names lower-cased
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def has_bearer_token(self, token: str) -> bool:
        scheme, _, presented = (self.header("authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: object  # JSON-serialisable, or bytes sent as they are
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds the server stalls before answering (an injected timeout)


class VendorApi(Protocol):
    """One vendor's simulated API: answers a request below its path prefix."""

    def handle(self, request: ApiRequest) -> ApiResponse: ...
