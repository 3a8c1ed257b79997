"""Fault injection: for every fault the simulator can inject, a night of every API source either completes or fails
with an error naming the source and the cause; after a clean rerun, every raw table equals a fault-free night's
(row count and a checksum of the business columns, load metadata left out)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import psycopg
import pytest
from consent_helpers import enrol_simulated_members

from ingestion.http import ApiConfig, ApiError, RetryPolicy, Timeouts
from ingestion.run import (
    land_advocacy_shares,
    land_bitly_link_clicks,
    land_linkedin_organization_statistics,
    land_linkedin_post_analytics,
    land_qualtrics_responses,
    land_surveymonkey_responses,
    land_surveymonkey_survey_details,
    land_typeform_responses,
    land_x_tweet_metrics,
)
from simulator import faults
from simulator.server import start

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
NIGHT = date(2026, 10, 29)  # the shares window's first day: few posts, every source has something
#: the latest survey wave opens on 12 Oct, so each vendor's wave has responses by the night
WAVE = date(2026, 10, 12)
TOKEN = "fault-injection-token"
FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)
SHORT = Timeouts(connect=1.0, read=0.5)  # below the simulator's injected stall
LOAD_METADATA = ("_load_id", "_extracted_at", "_logical_date", "_request")
#: Each load of the night → the source name its errors start with.
SOURCES = {
    "linkedin": "linkedin",
    "linkedin_organization": "linkedin",
    "x": "x",
    "bitly": "bitly",
    "typeform": "typeform",
    "surveymonkey_details": "surveymonkey",
    "surveymonkey": "surveymonkey",
    "qualtrics": "qualtrics",
}


def run_night(url: str, sim) -> dict[str, str | None]:
    """Land the night's shares export, then every API source; load → None if it landed, else its error."""
    land_advocacy_shares(url, NIGHT, sim.truth_path.parent)
    enrol_simulated_members(url, sim)  # the members' own tokens (the same for every simulator with TOKEN)
    options = dict(retry=FAST, timeouts=SHORT)
    loads = {
        "linkedin": lambda: land_linkedin_post_analytics(
            url, NIGHT, ApiConfig(sim.linkedin_base_url, TOKEN), **options
        ),
        "linkedin_organization": lambda: land_linkedin_organization_statistics(
            url, NIGHT, ApiConfig(sim.linkedin_base_url, TOKEN), sim.company.organization_urn, **options
        ),
        "x": lambda: land_x_tweet_metrics(url, NIGHT, ApiConfig(sim.x_base_url, TOKEN), **options),
        "bitly": lambda: land_bitly_link_clicks(url, NIGHT, ApiConfig(sim.bitly_base_url, TOKEN), now=AS_OF, **options),
        "typeform": lambda: land_typeform_responses(
            url, NIGHT, ApiConfig(sim.typeform_base_url, TOKEN), sim.form_ids, **options
        ),
        "surveymonkey_details": lambda: land_surveymonkey_survey_details(
            url, NIGHT, ApiConfig(sim.surveymonkey_base_url, TOKEN), sim.surveymonkey_survey_ids, **options
        ),
        "surveymonkey": lambda: land_surveymonkey_responses(
            url, NIGHT, ApiConfig(sim.surveymonkey_base_url, TOKEN), sim.surveymonkey_survey_ids, **options
        ),
        "qualtrics": lambda: land_qualtrics_responses(
            url,
            NIGHT,
            ApiConfig(sim.qualtrics_base_url, TOKEN),
            sim.qualtrics_survey_ids,
            poll_interval=0.01,
            **options,
        ),
    }
    outcomes: dict[str, str | None] = {}
    for load, run in loads.items():
        try:
            run()
            outcomes[load] = None
        except ApiError as error:
            outcomes[load] = str(error)
    return outcomes


def fingerprint(url: str) -> dict[str, tuple[int, str]]:
    """Raw table → (rows, md5 over each row's business columns): what must not depend on faults."""
    with psycopg.connect(url) as conn:
        columns: dict[str, list[str]] = {}
        for table, column in conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = 'raw' and table_name not like '\\_%' order by table_name, ordinal_position"
        ).fetchall():
            if column not in LOAD_METADATA:
                columns.setdefault(table, []).append(column)
        prints = {}
        for table, business in columns.items():
            row = ", ".join(f'"{c}"' for c in business)
            prints[table] = conn.execute(
                f"select count(*), md5(coalesce(string_agg(h, ',' order by h), ''))"
                f" from (select md5(row({row})::text) as h from raw.{table}) hashed"
            ).fetchone()
    return prints


@pytest.fixture(scope="module")
def clean_sim(tmp_path_factory):
    with start(AS_OF, seed=7, drop_dir=tmp_path_factory.mktemp("clean"), token=TOKEN, survey_opens_on=WAVE) as running:
        yield running


@pytest.fixture(scope="module")
def fault_free(clean_sim, module_db):
    outcomes = run_night(module_db, clean_sim)
    assert outcomes == {load: None for load in SOURCES}
    prints = fingerprint(module_db)
    # (the member token statuses land through the DAG's second step, which this night does not run)
    assert all(
        rows > 0 for table, (rows, _) in prints.items() if table not in ("hr__roster", "consent__member_token_status")
    ), prints
    return prints


@pytest.fixture
def night_db(module_db, fault_free):
    """The module's database emptied: every raw table, load log, quarantine and state (cheaper than a new one)."""
    with psycopg.connect(module_db) as conn:
        tables = conn.execute("select tablename from pg_tables where schemaname = 'raw'").fetchall()
        conn.execute("truncate " + ", ".join(f'raw."{table}"' for (table,) in tables))
    return module_db


FAILS = {"drifted_fields": "SCHEMA_DRIFT", "expired_token": None}
#: Faults one load must not retry through: Qualtrics' export start is a POST that creates an export job, so a
#: timeout, a 5xx without Retry-After or a cut-off answer after it fails the load (a second start could make a
#: second job); the clean rerun below starts one.
NOT_RETRIED = {"5xx": {"qualtrics"}, "timeout": {"qualtrics"}, "truncated_json": {"qualtrics"}}


@pytest.mark.parametrize("fault", faults.KINDS)
def test_a_faulty_night_completes_or_names_source_and_cause_and_a_clean_rerun_equals_a_fault_free_night(
    fault, fault_free, clean_sim, night_db, tmp_path
):
    with start(AS_OF, seed=7, drop_dir=tmp_path, token=TOKEN, faults=[fault], survey_opens_on=WAVE) as faulty:
        outcomes = run_night(night_db, faulty)

    if fault in FAILS:
        for load, error in outcomes.items():
            assert error is not None, f"{load} landed through {fault}"
            assert error.startswith(f"{SOURCES[load]}: "), error
            if fault == "drifted_fields":
                assert "HTTP 200 SCHEMA_DRIFT" in error and "the vendor's response no longer matches" in error
            else:
                assert "HTTP 401" in error or "HTTP 403 FORBIDDEN: The access token is expired" in error, error
        assert TOKEN not in "".join(outcomes.values())
    else:
        refused = NOT_RETRIED.get(fault, set())
        assert {load: error for load, error in outcomes.items() if error is not None and load not in refused} == {}
        for load in refused:
            assert outcomes[load] is not None and "POST" in outcomes[load], outcomes[load]
            assert "not sent again" in outcomes[load]

    assert run_night(night_db, clean_sim) == {load: None for load in SOURCES}
    assert fingerprint(night_db) == fault_free
