"""Member consent end to end against the simulator: the encrypted token store, the consent export's import, refresh
with rotation, per-member failures that never fail the night, X's public fallback, and no token anywhere it must
not be."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
import requests
from consent_helpers import enrol_simulated_members, simulator_access

from ingestion import oauth
from ingestion.http import ApiConfig
from ingestion.run import land_advocacy_shares, land_linkedin_post_analytics, land_x_tweet_metrics
from ingestion.tokens import MemberToken, Secret, TokenCipher, TokenKeyError, TokenStore, import_file
from sharewhy_dev.processes import free_port
from simulator import server
from simulator.consent import member_access_token

NIGHT = date(2026, 11, 25)
AS_OF = datetime.combine(NIGHT + timedelta(days=1), time(), UTC)
TOKEN = "member-consent-test-app-token"


def _night_posts(url: str, network: str) -> dict[str, str]:
    """post id → employee id of the posts the night measures (LinkedIn: the window's)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select payload->>'post_id', payload->>'employee_id' from raw.advocacy__shares"
            " where payload->>'network' = %s",
            (network,),
        ).fetchall()
    return dict(rows)


@pytest.fixture
def revoked_night(fresh_db, tmp_path):
    """A simulated night where 10 % of the members have revoked their grant (and some tokens are expiring)."""
    with server.start(
        AS_OF, drop_dir=tmp_path, token=TOKEN, consent_revoked_share=0.1, consent_expiring_share=0.1
    ) as sim:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        access = enrol_simulated_members(fresh_db, sim, workers=8)
        yield fresh_db, sim, access


def test_a_night_with_10_percent_revoked_lands_every_other_member_and_quarantines_exactly_the_revoked(revoked_night):
    url, sim, access = revoked_night
    revoked = sim.consent.revoked_members()
    authors = _night_posts(url, "linkedin")
    assert 0 < len(revoked & set(authors.values())) < len(set(authors.values()))

    report = land_linkedin_post_analytics(
        url, NIGHT, ApiConfig(sim.linkedin_base_url, TOKEN), members=access["linkedin"]
    )

    with psycopg.connect(url) as conn:
        landed = dict(
            conn.execute("select post_urn, count(*) from raw.linkedin__member_post_analytics group by 1").fetchall()
        )
        quarantined = conn.execute(
            "select record::jsonb->>'post_urn', record::jsonb->>'employee_id', reason from raw._quarantine"
            " where source = 'linkedin'"
        ).fetchall()
        statuses = dict(
            conn.execute("select employee_id, status from consent.member_tokens where network = 'linkedin'").fetchall()
        )
    expected_landed = {post for post, author in authors.items() if author not in revoked}
    expected_quarantined = {post for post, author in authors.items() if author in revoked}
    assert set(landed) == expected_landed and all(n == 6 for n in landed.values())
    assert {post for post, _, _ in quarantined} == expected_quarantined
    assert all("revoked" in reason and "65601" in reason for *_, reason in quarantined)
    assert report.rows_quarantined == len(expected_quarantined) and report.rows_inserted == 6 * len(expected_landed)
    assert {e for e, s in statuses.items() if s == "revoked"} == revoked & set(authors.values())
    # LinkedIn answered nothing but the members' own posts: the app token never read a member's analytics
    assert report.api_calls >= 6 * len(expected_landed)


def test_the_app_token_and_another_members_token_get_403_on_a_members_post(revoked_night):
    _, sim, _ = revoked_night
    share = sim.company.network_shares("linkedin")[-1]
    other = next(e.employee_id for e in sim.company.employees if e.employee_id != share.employee_id)
    _, _, kind, number = share.post_id.split(":")
    entity = f"({'share' if kind == 'share' else 'ugc'}:urn%3Ali%3A{kind}%3A{number})"
    url = (
        f"{sim.linkedin_base_url}/memberCreatorPostAnalytics?q=entity&entity={entity}&queryType=IMPRESSION"
        "&aggregation=TOTAL"
    )
    headers = {"LinkedIn-Version": "202606", "X-Restli-Protocol-Version": "2.0.0"}
    statuses = {}
    for who, token in (
        ("app", TOKEN),
        ("other", member_access_token(TOKEN, "linkedin", other)),
        ("author", member_access_token(TOKEN, "linkedin", share.employee_id)),
    ):
        response = requests.get(url, headers={**headers, "Authorization": f"Bearer {token}"}, timeout=5)
        statuses[who] = (response.status_code, response.json().get("code"))
    assert statuses["app"] == statuses["other"] == (403, "ACCESS_DENIED")
    expected_author = (
        (401, "REVOKED_ACCESS_TOKEN") if share.employee_id in sim.consent.revoked_members() else (200, None)
    )
    assert statuses["author"] == expected_author


def test_an_expiring_token_is_refreshed_and_the_rotated_refresh_token_kept_even_if_the_load_then_fails(
    fresh_db, tmp_path
):
    with server.start(AS_OF, drop_dir=tmp_path, token=TOKEN, consent_expiring_share=1.0) as sim:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        access = enrol_simulated_members(fresh_db, sim, workers=4)
        store = access["x"].store
        before = store.tokens("x")
        young_authors = {e for e in _night_posts(fresh_db, "x").values()}
        assert young_authors and all(before[e].needs_refresh(datetime.now(UTC)) for e in young_authors & set(before))
        # the warehouse refuses the landing after the tokens were refreshed: the load fails
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute(
                "create or replace function raw.refuse() returns trigger language plpgsql as"
                " $$ begin raise exception 'disk full (simulated)'; end $$"
            )
            conn.execute(
                "create trigger refuse before insert on raw.x__tweet_metrics"
                " for each statement execute function raw.refuse()"
            )
        with pytest.raises(psycopg.Error, match="disk full"):
            land_x_tweet_metrics(fresh_db, NIGHT, ApiConfig(sim.x_base_url, TOKEN), members=access["x"])
        after = store.tokens("x")
        refreshed = [e for e in young_authors & set(after) if after[e].last_refreshed_at is not None]
        assert refreshed
        for employee in refreshed:
            assert after[employee].refresh_token != before[employee].refresh_token  # X rotated it, and we kept it
            assert after[employee].access_expires_at > datetime.now(UTC) + timedelta(minutes=100)
            # the old refresh token is spent at X; the kept one works
            with pytest.raises(oauth.GrantRefused):
                oauth.refresh(access["x"].oauth_app, before[employee].refresh_token)
        grant = oauth.refresh(access["x"].oauth_app, after[refreshed[0]].refresh_token)
        assert grant.refresh_token is not None


def test_linkedin_expired_access_token_is_refreshed_keeping_the_refresh_tokens_end(fresh_db, tmp_path):
    with server.start(AS_OF, drop_dir=tmp_path, token=TOKEN, consent_expired_share=1.0) as sim:
        land_advocacy_shares(fresh_db, NIGHT, tmp_path)
        access = enrol_simulated_members(fresh_db, sim, workers=4)
        before = access["linkedin"].store.tokens("linkedin")
        report = land_linkedin_post_analytics(
            fresh_db, NIGHT, ApiConfig(sim.linkedin_base_url, TOKEN), members=access["linkedin"]
        )
        after = access["linkedin"].store.tokens("linkedin")
    authors = set(_night_posts(fresh_db, "linkedin").values())
    assert report.rows_quarantined == 0 and report.rows_inserted > 0
    for employee in authors:
        assert after[employee].access_token != before[employee].access_token
        assert after[employee].refresh_token == before[employee].refresh_token  # LinkedIn does not rotate it
        assert abs(after[employee].refresh_expires_at - before[employee].refresh_expires_at) < timedelta(minutes=1)
        assert after[employee].access_expires_at > datetime.now(UTC) + timedelta(days=59)


def test_x_reads_authors_with_a_token_in_user_context_and_falls_back_to_public_metrics_for_the_others(revoked_night):
    url, sim, access = revoked_night
    revoked = sim.consent.revoked_members()
    report = land_x_tweet_metrics(url, NIGHT, ApiConfig(sim.x_base_url, TOKEN), members=access["x"])
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select m.tweet_id, m.metrics_access, m.payload ? 'non_public_metrics', s.payload->>'employee_id'"
            " from raw.x__tweet_metrics m join raw.advocacy__shares s on s.payload->>'post_id' = m.tweet_id"
        ).fetchall()
    assert report.rows_inserted == len(rows) > 0
    young = {t for t, *_ in rows if sim.company.as_of - sim.company.find_tweet(t).shared_at < timedelta(days=29)}
    for tweet_id, read_as, non_public, author in rows:
        if tweet_id in young and author not in revoked:
            assert (read_as, non_public) == ("user_context", True), tweet_id
        else:
            assert (read_as, non_public) == ("app_public", False), tweet_id
    assert {r[3] for r in rows if r[1] == "app_public" and r[0] in young} <= revoked


def test_consent_export_import_validates_every_line_and_quarantines_without_tokens(fresh_db, tmp_path):
    future = (datetime.now(UTC) + timedelta(days=50)).isoformat()
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    good_token, bad_token = "AQVgoodtoken-1234567890abcdef", "AQVleaked-short-but-long-enough-x"
    lines = [
        "employee_id,network,access_token,refresh_token,expires_at,refresh_token_expires_at,scopes,member_id",
        f"e-0001,linkedin,{good_token},,{future},,r_member_postAnalytics,urn:li:person:abc",
        f"e-0002,facebook,{bad_token},,{future},,,",
        f"e-0003,linkedin,{bad_token},,not-a-date,,,",
        f"e-0004,linkedin,{bad_token},,{past},,,",
        f"e-0005,x,{bad_token},,{future},,r_member_postAnalytics,",
        f",linkedin,{bad_token},,{future},,,",
    ]
    export = tmp_path / "consents.csv"
    export.write_text("\n".join(lines) + "\n")
    store = TokenStore(fresh_db, TokenCipher(TokenCipher.new_key()))
    result = import_file(store, export)
    assert result.imported == 1
    assert [(r.line, r.reason) for r in result.rejected] == [
        (3, "network 'facebook' is not one of linkedin, x"),
        (4, "expires_at 'not-a-date' is not an ISO 8601 date-time"),
        (
            5,
            "expired with no way to refresh it (no refresh token, or the refresh token has expired too): the member "
            "must consent again",
        ),
        (6, "scopes lack tweet.read, users.read, which x needs for member post metrics"),
        (7, "missing employee_id"),
    ]
    with psycopg.connect(fresh_db) as conn:
        quarantined = conn.execute("select reason, record from raw._quarantine order by quarantine_id").fetchall()
    assert len(quarantined) == 5 and all(bad_token not in reason + record for reason, record in quarantined)
    assert json.loads(quarantined[0][1])["access_token"] == "<present>"
    assert store.tokens("linkedin")["e-0001"].access_token == Secret(good_token)


def test_a_bad_export_file_is_refused_with_a_clear_error(fresh_db, tmp_path):
    export = tmp_path / "consents.csv"
    export.write_text("employee,token\ne-1,abc\n")
    store = TokenStore(fresh_db, TokenCipher(TokenCipher.new_key()))
    with pytest.raises(ValueError, match="the CSV header lacks employee_id, network, access_token, expires_at"):
        import_file(store, export)


def test_tokens_are_encrypted_at_rest_and_keys_rotate(fresh_db):
    old_key, new_key = TokenCipher.new_key(), TokenCipher.new_key()
    token = MemberToken(
        "e-0001",
        "linkedin",
        Secret("AQVplaintext-access-token-0001"),
        datetime.now(UTC) + timedelta(days=30),
        Secret("AQVplaintext-refresh-token-0001"),
        datetime.now(UTC) + timedelta(days=300),
    )
    TokenStore(fresh_db, TokenCipher([old_key])).save([token], "test")
    with psycopg.connect(fresh_db) as conn:
        (raw_access,) = conn.execute("select access_token from consent.member_tokens").fetchone()
    assert b"plaintext" not in bytes(raw_access)

    assert TokenStore(fresh_db, TokenCipher([new_key, old_key])).rotate_keys() == 1
    rotated = TokenStore(fresh_db, TokenCipher([new_key])).tokens("linkedin")["e-0001"]
    assert rotated.access_token == token.access_token and rotated.refresh_token == token.refresh_token
    with pytest.raises(TokenKeyError, match="cannot be decrypted"):
        TokenStore(fresh_db, TokenCipher([old_key])).tokens("linkedin")
    assert repr(rotated).count("plaintext") == 0 and "plaintext" not in f"{rotated.access_token}"


def test_tokens_expiring_within_14_days_are_reported(fresh_db):
    now = datetime.now(UTC)
    store = TokenStore(fresh_db, TokenCipher(TokenCipher.new_key()))
    store.save(
        [
            MemberToken("e-1", "linkedin", Secret("AQVaccess-token-expiring-soon"), now + timedelta(days=10)),
            MemberToken(
                "e-2",
                "linkedin",
                Secret("AQVaccess-token-with-refresh"),
                now + timedelta(days=10),
                Secret("AQVrefresh-token-for-a-year"),
                now + timedelta(days=200),
            ),
            MemberToken(
                "e-3",
                "linkedin",
                Secret("AQVaccess-token-refresh-ends"),
                now + timedelta(days=40),
                Secret("AQVrefresh-token-ending-soon"),
                now + timedelta(days=5),
            ),
        ],
        "test",
    )
    store.mark("e-2", "linkedin", "revoked", "401 REVOKED_ACCESS_TOKEN")
    report = {row["employee_id"]: row["status"] for row in store.report()}
    assert report == {"e-1": "expiring", "e-2": "revoked", "e-3": "expiring"}


def test_bi_reader_cannot_read_the_token_store(fresh_db):
    from sharewhy import warehouse_access

    TokenStore(fresh_db, TokenCipher(TokenCipher.new_key()))
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        warehouse_access.ensure_role(conn)
        conn.execute("create schema if not exists bi")
        warehouse_access.grant_read_on_bi(conn)
        conn.execute("set role bi_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select * from consent.member_tokens")
        conn.execute("reset role")
        readable = conn.execute(
            "select has_schema_privilege('bi_reader', 'consent', 'usage'),"
            " has_table_privilege('bi_reader', 'consent.member_tokens', 'select')"
        ).fetchone()
    assert readable == (False, False)


def test_the_oauth_consent_flow_onboards_one_employee_with_pkce_on_x(fresh_db, tmp_path):
    with server.start(AS_OF, drop_dir=tmp_path, token=TOKEN) as sim:
        access = simulator_access(fresh_db, sim, "x")
        employee = next(iter(sim.company.x_accounts))
        app = oauth.OAuthApp(
            "x",
            access.oauth_app.client_id,
            access.oauth_app.client_secret,
            token_url=access.oauth_app.token_url,
            authorize_url=access.oauth_app.authorize_url,
            redirect_uri="http://127.0.0.1:0/callback".replace(":0", f":{free_port()}"),
        )
        seen = []

        def browser(url: str) -> None:  # the member clicks "Allow"
            seen.append(url)
            requests.get(url + f"&sim_employee_id={employee}", timeout=5)

        grant = oauth.consent(app, browser, timeout=10)
    assert "code_challenge_method=S256" in seen[0] and "code_challenge=" in seen[0]
    assert grant.refresh_token is not None and grant.expires_in == 7200
    assert sim.consent.identify("x", grant.access_token.reveal()).employee_id == employee


def test_no_token_reaches_any_table_or_log(revoked_night, caplog):
    url, sim, access = revoked_night
    caplog.set_level(logging.DEBUG)
    land_linkedin_post_analytics(url, NIGHT, ApiConfig(sim.linkedin_base_url, TOKEN), members=access["linkedin"])
    land_x_tweet_metrics(url, NIGHT, ApiConfig(sim.x_base_url, TOKEN), members=access["x"])
    secrets = {r["access_token"] for r in sim.consent.export()} | {r["refresh_token"] for r in sim.consent.export()}
    for store in access.values():  # the refreshed ones too
        for network in ("linkedin", "x"):
            for token in store.store.tokens(network).values():
                secrets |= {token.access_token.reveal()} | (
                    {token.refresh_token.reveal()} if token.refresh_token else set()
                )
    assert_no_secret_in_warehouse(url, secrets)
    logged = caplog.text
    assert not [s for s in secrets if s in logged]


def assert_no_secret_in_warehouse(url: str, secrets: set[str]) -> None:
    """Search every text-like column of every table of every schema for any of `secrets`."""
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns"
            " where table_schema not in ('pg_catalog', 'information_schema')"
            " and data_type in ('text', 'character varying', 'jsonb', 'json', 'bytea', 'ARRAY')"
        ).fetchall()
        assert columns
        found = []
        for schema, table, column in columns:
            rows = conn.execute(f'select "{column}"::text from "{schema}"."{table}"').fetchall()
            blob = "\n".join(value for (value,) in rows if value)
            found += [(schema, table, column) for secret in secrets if secret in blob]
    assert not found, found


def test_a_nights_token_statuses_are_taken_once_and_a_rerun_lands_nothing(fresh_db):
    from ingestion.run import land_member_token_status

    night = date(2026, 11, 20)
    store = TokenStore(fresh_db, TokenCipher(TokenCipher.new_key()))

    def token(expires_in_days: int) -> MemberToken:
        return MemberToken(
            "e-1", "linkedin", Secret("AQVaccess-token"), datetime.now(UTC) + timedelta(days=expires_in_days)
        )

    store.save([token(30)], "test")
    first = land_member_token_status(fresh_db, night, "linkedin")
    store.save([token(60)], "test")  # refreshed since: a new expiry
    rerun = land_member_token_status(fresh_db, night, "linkedin")
    with psycopg.connect(fresh_db) as conn:
        state = conn.execute(
            "select state from raw._ingestion_state where source = 'consent' and entity = 'linkedin_token_status'"
        ).fetchone()
    next_night = land_member_token_status(fresh_db, night + timedelta(days=1), "linkedin")

    assert (first.rows_inserted, rerun.rows_received, rerun.rows_quarantined, next_night.rows_inserted) == (1, 0, 0, 1)
    with psycopg.connect(fresh_db) as conn:
        expiries = dict(
            conn.execute(
                "select _logical_date, (payload ->> 'access_expires_at')::timestamptz"
                " from raw.consent__member_token_status order by 1"
            ).fetchall()
        )
    assert (expiries[night + timedelta(days=1)] - expiries[night]).days == 30  # the rerun kept the night's own picture
    assert state is not None and state[0].get("snapshot_taken_by_load") == first.load_id
