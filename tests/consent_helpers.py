"""Member tokens for tests: enrol the simulator's members (its consent export) or give stub employees a token."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from ingestion.members import MemberAccess, member_access
from ingestion.oauth import OAuthApp
from ingestion.tokens import MemberToken, Secret, import_records


def enrol_simulated_members(url: str, simulator, **access_options) -> dict[str, MemberAccess]:
    """Import the simulator's consent export into the warehouse's token store; a MemberAccess per network that
    refreshes through the simulator's OAuth endpoints."""
    accesses = {network: simulator_access(url, simulator, network, **access_options) for network in ("linkedin", "x")}
    import_records(accesses["linkedin"].store, enumerate(simulator.consent.export(), 1), "simulator")
    return accesses


def simulator_access(url: str, simulator, network: str, **options) -> MemberAccess:
    app = OAuthApp(
        network,
        simulator.oauth[network]["client_id"],
        Secret(simulator.consent.secret),
        token_url=simulator.oauth[network]["token_url"],
        authorize_url=simulator.oauth[network]["authorize_url"],
    )
    return member_access(url, network, oauth_app=app, **options)


def give_tokens(url: str, network: str, employee_ids: Iterable[str], token: str) -> MemberAccess:
    """Every employee holds `token` (a stub server accepting one token) for the next 30 days."""
    access = member_access(url, network)
    expires = datetime.now(UTC) + timedelta(days=30)
    access.store.save([MemberToken(e, network, Secret(token), expires, scopes=()) for e in employee_ids], "test", None)
    return access
