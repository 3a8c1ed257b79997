"""Member consent through the demo's night (Airflow `dag.test()` per DAG, the simulator issuing member tokens): no
token anywhere in the warehouse or the demo's state folder (logs, Airflow home, Data Docs), and consent coverage in
`bi`."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from test_member_consent import assert_no_secret_in_warehouse

from ingestion.tokens import TokenCipher, TokenStore

pytestmark = pytest.mark.e2e


def _stored_tokens(demo_night) -> set[str]:
    home = Path(demo_night["env"]["SHAREWHY_HOME"])
    # the demo's keys: the environment's (the test session's), else the ones it generated into its state folder
    keys = demo_night["env"].get("SHAREWHY_TOKEN_KEYS") or (home / "secrets" / "token_keys").read_text().strip()
    store = TokenStore(demo_night["url"], TokenCipher(keys))
    tokens = set()
    for network in ("linkedin", "x"):
        for token in store.tokens(network).values():
            tokens.add(token.access_token.reveal())
            if token.refresh_token is not None:
                tokens.add(token.refresh_token.reveal())
    return tokens


def test_the_demo_night_reads_members_with_their_own_tokens_and_publishes_consent_coverage(demo_night):
    out = demo_night["first"].stdout
    assert "member tokens from the advocacy platform's consent export, stored encrypted" in out, out
    assert "bi.consent_coverage" in out
    with psycopg.connect(demo_night["url"]) as conn:
        coverage = conn.execute(
            "select network, sharers, sharers_with_valid_token, sharers_revoked, consent_coverage"
            " from bi.consent_coverage where consent_coverage is not null"
        ).fetchall()
        revoked = conn.execute(
            "select count(*) from consent.member_tokens where network = 'linkedin' and status = 'revoked'"
        ).fetchone()[0]
        quarantined = conn.execute(
            "select count(*) from raw._quarantine where source = 'linkedin' and reason like 'member token revoked%'"
        ).fetchone()[0]
    assert {network for network, *_ in coverage} == {"linkedin", "x"}
    assert all(0 < valid <= sharers and 0 < share <= 1 for _, sharers, valid, _, share in coverage)
    assert revoked > 0 and quarantined > 0  # 5 % of the simulated members revoked their grant


def test_no_token_in_the_warehouse_or_the_demo_state_folder(demo_night):
    tokens = _stored_tokens(demo_night)
    assert len(tokens) > 50
    assert_no_secret_in_warehouse(demo_night["url"], tokens)
    home = Path(demo_night["env"]["SHAREWHY_HOME"])
    leaked = []
    for path in home.rglob("*"):
        if path.is_file() and "pgdata" not in path.parts and path.stat().st_size < 200_000_000:
            content = path.read_bytes()
            leaked += [str(path) for token in tokens if token.encode() in content]
    assert not leaked, leaked
