"""Helpers for the dbt tests that run on simulated nights: land a night from the real simulator through the real
ingestion entry points, run dbt, read `bi_build`, and check survey confidentiality (k-anonymity) over it."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import psycopg
from consent_helpers import enrol_simulated_members
from psycopg import sql
from psycopg.rows import dict_row

from ingestion.run import (
    ApiConfig,
    land_advocacy_shares,
    land_bitly_link_clicks,
    land_hr_roster,
    land_linkedin_organization_statistics,
    land_linkedin_post_analytics,
    land_member_token_status,
    land_qualtrics_responses,
    land_surveymonkey_responses,
    land_surveymonkey_survey_details,
    land_typeform_responses,
    land_x_tweet_metrics,
)
from sharewhy import settings
from simulator import server
from simulator.company import DEFAULT_WORLD, World

TOKEN = "simulated-nights-token"


def land_night(
    url: str, drop_dir: Path, night: date, seed: int = 7, world: World = DEFAULT_WORLD, lift_inputs_only: bool = False
) -> Path:
    """Land the night of `night` (the simulator observed at the end of it, in `world`) from every source (or, with
    `lift_inputs_only`, from those motivation_lift reads: not the company page's statistics nor Bitly); returns the
    truth file.

    The shares come first: the social and link sources are asked about the shares landed. The survey waves run one
    on each vendor (simulator.company.Company.survey_waves)."""
    as_of = datetime.combine(night + timedelta(days=1), time(), UTC)
    with server.start(
        as_of, seed, drop_dir=drop_dir, token=TOKEN, qualtrics_polls_to_complete=1, world=world
    ) as simulator:
        land_advocacy_shares(url, night, drop_dir)
        land_hr_roster(url, night, drop_dir)
        enrol_simulated_members(url, simulator)  # every member's own token (member-scoped post metrics)
        linkedin = ApiConfig(simulator.linkedin_base_url, TOKEN)
        land_linkedin_post_analytics(url, night, linkedin)
        land_x_tweet_metrics(url, night, ApiConfig(simulator.x_base_url, TOKEN))
        if not lift_inputs_only:
            organization = simulator.connections[settings.LINKEDIN_CONN_ID]["extra"]["organization_urn"]
            land_linkedin_organization_statistics(url, night, linkedin, organization)
            land_bitly_link_clicks(url, night, ApiConfig(simulator.bitly_base_url, TOKEN), now=as_of)
            for network in ("linkedin", "x"):
                land_member_token_status(url, night, network)  # what consent coverage is built from
        land_typeform_responses(url, night, ApiConfig(simulator.typeform_base_url, TOKEN), simulator.form_ids)
        surveymonkey = ApiConfig(simulator.surveymonkey_base_url, TOKEN)
        land_surveymonkey_survey_details(url, night, surveymonkey, simulator.surveymonkey_survey_ids)
        land_surveymonkey_responses(url, night, surveymonkey, simulator.surveymonkey_survey_ids)
        qualtrics = ApiConfig(simulator.qualtrics_base_url, TOKEN)
        land_qualtrics_responses(url, night, qualtrics, simulator.qualtrics_survey_ids, poll_interval=0.01)
        return simulator.truth_path


def dbt(url: str, work_dir: Path, *args: str) -> None:
    """Run `dbt <args>` on the database; fail the test with dbt's output when it fails."""
    result = dbt_result(url, work_dir, *args)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def dbt_result(url: str, work_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `dbt <args>` on the database; its exit code and output."""
    project = settings.DBT_PROJECT_DIR
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--project-dir",
            str(project),
            "--profiles-dir",
            str(project),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        env={**os.environ, **settings.libpq_env(url), "DO_NOT_TRACK": "1"},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=900,
    )


def rows_by_key(url: str, table: str, key: tuple[str, ...]) -> dict[tuple, dict]:
    """The rows of a table by `key`, without their build time (if they have one)."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(f"select * from {table}").fetchall()
    return {tuple(row[column] for column in key): {k: v for k, v in row.items() if k != "built_at"} for row in rows}


def built_rows(url: str, table: str, key: tuple[str, ...]) -> dict:
    """The rows of an incremental table without their build time, by `key`; and how many rows the last build wrote."""
    with psycopg.connect(url) as conn:
        (rebuilt,) = conn.execute(
            f"select count(*) from {table} where built_at = (select max(built_at) from {table})"
        ).fetchone()
    return {"rows": rows_by_key(url, table, key), "rebuilt": rebuilt}


def written_by_last_build(url: str, table: str, *columns: str) -> set:
    """The values of `columns` (one column: its values; several: tuples) in the rows of the incremental `table` that
    its last build wrote."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            f"select distinct {', '.join(columns)} from {table} where built_at = (select max(built_at) from {table})"
        ).fetchall()
    return {row[0] if len(columns) == 1 else row for row in rows}


def month_builds(url: str, tables) -> dict[str, list]:
    """Each month mart's (month, build time) pairs."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"select distinct month, built_at from {table} order by 1").fetchall()
            for table in tables
        }


def rebuilt_and_kept(pairs: list) -> tuple[set, set]:
    """The months of a mart's (month, build time) pairs that its last build wrote, and those it kept."""
    newest = max(built_at for _, built_at in pairs)
    return {month for month, built in pairs if built == newest}, {month for month, built in pairs if built < newest}


def bi_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select table_name from information_schema.tables where table_schema = %s order by 1",
            (settings.BI_BUILD_SCHEMA,),
        ).fetchall()
    return [name for (name,) in rows]


def bi_contents(url: str) -> dict[str, list[tuple]]:
    """Every `bi_build` table's rows, sorted, for comparing two builds."""
    contents = {}
    with psycopg.connect(url) as conn:
        for table in bi_tables(url):
            query = sql.SQL("select * from {}").format(sql.Identifier(settings.BI_BUILD_SCHEMA, table))
            contents[table] = sorted(conn.execute(query).fetchall(), key=repr)
    return contents


@dataclass(frozen=True)
class SurveyValues:
    """Which columns of a `bi` table carry survey-derived values, and what they must show below k respondents."""

    columns: tuple[str, ...]
    hidden: str = "is null"  # the predicate every column of a suppressed row satisfies
    exempt: str = "false"  # rows that carry no survey-derived value by construction


#: Every `bi` table: its survey-derived columns (a table absent here must be listed in SURVEY_FREE).
SURVEY_DERIVED = {
    # a small group shows no motivation split: its construct rows are 0 and everything sits on `unattributed`
    "motivation_attribution": SurveyValues(
        tuple(f"attributed_{m}" for m in ("shares", "impressions", "engagements", "clicks")),
        hidden="= 0",
        exempt="motivation = 'unattributed'",
    ),
    "motivation_lift": SurveyValues(
        (
            "motivation_sharers",
            "motivation_shares",
            *(
                f"{rate}_lift{end}"
                for rate in ("engagement_rate", "click_through_rate")
                for end in ("", "_lower", "_upper")
            ),
        )
    ),
    "team_morale": SurveyValues(
        tuple(f"mean_{m}_score" for m in ("obligated", "good_news", "proud", "educate"))
        + ("intrinsic_share", "obligated_share", "intrinsic_share_change", "obligated_share_change")
    ),
    "obligation_signals": SurveyValues(("obligated_share", "high_obligated_share")),
    "salesy_risk": SurveyValues(("educate_share", "high_educate_share")),
    # groups under k are not shown at all: no row may have fewer than k respondents
    "team_motivation_clicks": SurveyValues(("attributed_shares", "attributed_clicks", "clicks_per_share")),
    "content_obligation": SurveyValues(("obligated_share", "is_mostly_obligated")),
    "content_type_obligation": SurveyValues(("obligated_share", "is_mostly_obligated")),
}
#: `bi` tables without any survey-derived value (monthly_totals: counts of shares; respondents is a head count).
SURVEY_FREE = {"advocacy_kpis", "consent_coverage", "monthly_totals"}


def k_anonymity_report(url: str, k: int) -> tuple[dict[str, int], int]:
    """(table → rows showing survey-derived values for fewer than k respondents, rows below k in all)."""
    violations, below_k = {}, 0
    with psycopg.connect(url) as conn:
        for table, survey in SURVEY_DERIVED.items():
            hidden = " and ".join(f"{column} {survey.hidden}" for column in survey.columns)
            violations[table], small = conn.execute(
                f"select count(*) filter (where not ({survey.exempt}) and not ({hidden})), count(*)"
                f" from {settings.BI_BUILD_SCHEMA}.{table} where respondents < %s",
                (k,),
            ).fetchone()
            below_k += small
    return violations, below_k


def assert_k_anonymous(url: str, k: int) -> int:
    """Fail when a `bi` row shows survey-derived values for fewer than k respondents, or a `bi` table is not
    classified; returns how many rows were below k (so a caller can check suppression was exercised)."""
    assert set(bi_tables(url)) == set(SURVEY_DERIVED) | SURVEY_FREE, "classify every bi table's survey columns"
    violations, below_k = k_anonymity_report(url, k)
    assert violations == dict.fromkeys(SURVEY_DERIVED, 0)
    return below_k


#: Values that identify a person: an e-mail address, an HR employee id.
PERSONAL_DATA = r"(^[^@\s]+@[^@\s]+$)|(^e-[0-9]{4}$)"


def personal_data_in_bi(url: str) -> list[tuple[str, str]]:
    """(table, column) of `bi_build` text columns holding an e-mail address or an HR employee id anywhere."""
    found = []
    with psycopg.connect(url) as conn:
        columns = conn.execute(
            "select table_name, column_name from information_schema.columns"
            " where table_schema = %s and data_type = 'text' order by 1, 2",
            (settings.BI_BUILD_SCHEMA,),
        ).fetchall()
        for table, column in columns:
            query = sql.SQL("select exists (select from {} where {} ~ %s)").format(
                sql.Identifier(settings.BI_BUILD_SCHEMA, table), sql.Identifier(column)
            )
            if conn.execute(query, (PERSONAL_DATA,)).fetchone()[0]:
                found.append((table, column))
    return found
