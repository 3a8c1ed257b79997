"""`dbt build` of dbt_project/ on a real PostgreSQL, from a small handcrafted raw layer.

One build over a fixture whose numbers are worked out by hand: shares in October (5 surveyed sharers, so the
motivation split is shown) and November (2 surveyed sharers, so it is suppressed), LinkedIn counters over two
nights (the latest must win), survey answers with a reverse-coded item and an all-zero respondent. Besides: an X
share (its link clicks come from non-public metrics, carried over a public-only night), Bitly clicks of tracking
links several shares use, the same survey wave relayed by SurveyMonkey and Qualtrics (duplicates must count once;
an edited SurveyMonkey response counts in its latest version), and the company page's statistics. A second build
over poisoned raw rows must fail on the data tests that guard staging, and build nothing downstream.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from bench.common import scratch_database
from sharewhy import settings
from simulator import qualtrics as qualtrics_simulator
from simulator import surveymonkey as sm_simulator
from simulator.company import Company

RAW_SCHEMA_SQL = settings.REPO_ROOT / "ingestion" / "raw_schema.sql"
FORM_ID = "motivation-2026w36"
LOGICAL_DATE = date(2026, 11, 5)
OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)
MOTIVATIONS = ("obligated", "good_news", "proud", "educate", "unattributed")
METRICS = ("shares", "impressions", "engagements", "clicks")

# Answers per employee, by question ref. obligated_2 is reverse coded (6 − answer).
# e-0001: obligated (2, 6−5=1) → 1.5 → 0.125; good_news (5, 4) → 0.875; proud (3, 4) → 0.625; educate (1, 2) → 0.125.
#   Σ = 1.75 → 0.0714285…, 0.5, 0.3571428…, 0.0714285… → rounded 0.071429 + 0.5 + 0.357143 + 0.071429 = 1.000001,
#   so good_news, the largest, absorbs −0.000001.
E1_WEIGHTS = {
    "obligated": Decimal("0.071429"),
    "good_news": Decimal("0.499999"),
    "proud": Decimal("0.357143"),
    "educate": Decimal("0.071429"),
}
ANSWERS = {
    "e-0001": {
        "obligated_1": 2,
        "obligated_2": 5,
        "good_news_1": 5,
        "good_news_2": 4,
        "proud_1": 3,
        "proud_2": 4,
        "educate_1": 1,
        "educate_2": 2,
    },
    # every construct at the scale's middle → 0.5 each → 0.25 each
    "e-0002": {
        "obligated_1": 3,
        "obligated_2": 3,
        "good_news_1": 3,
        "good_news_2": 3,
        "proud_1": 3,
        "proud_2": 3,
        "educate_1": 3,
        "educate_2": 3,
    },
    # every construct at the bottom (obligated_2 = 5 reversed) → all 0 → equal weights 0.25
    "e-0003": {
        "obligated_1": 1,
        "obligated_2": 5,
        "good_news_1": 1,
        "good_news_2": 1,
        "proud_1": 1,
        "proud_2": 1,
        "educate_1": 1,
        "educate_2": 1,
    },
    # only proud → weight 1 on proud
    "e-0004": {
        "obligated_1": 1,
        "obligated_2": 5,
        "good_news_1": 1,
        "good_news_2": 1,
        "proud_1": 5,
        "proud_2": 5,
        "educate_1": 1,
        "educate_2": 1,
    },
    "e-0005": {
        "obligated_1": 1,
        "obligated_2": 5,
        "good_news_1": 1,
        "good_news_2": 1,
        "proud_1": 5,
        "proud_2": 5,
        "educate_1": 1,
        "educate_2": 1,
    },
    # answers only 34 days after sharing: the October share predates the profile by more than
    # first_profile_lookback_days (30), so it stays unattributed
    "e-0006": {
        "obligated_1": 1,
        "obligated_2": 5,
        "good_news_1": 1,
        "good_news_2": 1,
        "proud_1": 1,
        "proud_2": 1,
        "educate_1": 5,
        "educate_2": 5,
    },
}
SUBMITTED_AT = {
    "e-0001": "2026-09-01T10:00:00Z",
    "e-0002": "2026-09-02T10:00:00Z",
    "e-0003": "2026-09-03T10:00:00Z",
    "e-0004": "2026-09-04T10:00:00Z",
    "e-0005": "2026-09-05T10:00:00Z",
    "e-0006": "2026-11-08T10:00:00Z",
}


@dataclass(frozen=True)
class Share:
    share_id: str
    employee_id: str
    post_id: str
    shared_at: str
    #: night (logical date) → metric type → cumulative count; no nights = not observed yet
    nights: dict[date, dict[str, int]]
    network: str = "linkedin"

    @property
    def tracking_link(self) -> str:
        """One tracking link per employee × content piece (every share here is of c-001)."""
        return f"bit.ly/{self.employee_id.replace('-', '')}"


def _post(n: int, kind: str = "share") -> str:
    return f"urn:li:{kind}:{7_000_000_000_000_000_000 + n}"


NIGHT_1, NIGHT_2 = date(2026, 11, 3), date(2026, 11, 4)
SHARES = [
    # October: e-0001…e-0005 have profiles, e-0009 never answered, e-0006 answered after sharing.
    Share(
        "s-01",
        "e-0001",
        _post(1),
        "2026-10-05T09:00:00Z",
        {
            NIGHT_1: {
                "IMPRESSION": 500,
                "MEMBERS_REACHED": 400,
                "REACTION": 20,
                "COMMENT": 5,
                "RESHARE": 1,
                "LINK_CLICKS": 4,
            },
            NIGHT_2: {
                "IMPRESSION": 1000,
                "MEMBERS_REACHED": 800,
                "REACTION": 30,
                "COMMENT": 8,
                "RESHARE": 2,
                "LINK_CLICKS": 10,
            },
        },
    ),
    Share(
        "s-02",
        "e-0002",
        _post(2, "ugcPost"),
        "2026-10-06T09:00:00Z",
        {NIGHT_2: {"IMPRESSION": 200, "REACTION": 10, "LINK_CLICKS": 4}},
    ),
    Share(
        "s-03",
        "e-0003",
        _post(3),
        "2026-10-07T09:00:00Z",
        {NIGHT_2: {"IMPRESSION": 400, "REACTION": 14, "COMMENT": 4, "RESHARE": 2}},
    ),
    Share(
        "s-04",
        "e-0004",
        _post(4),
        "2026-10-08T09:00:00Z",
        {NIGHT_2: {"IMPRESSION": 300, "REACTION": 6, "LINK_CLICKS": 3}},
    ),
    Share(
        "s-05",
        "e-0005",
        _post(5),
        "2026-10-09T09:00:00Z",
        {NIGHT_2: {"IMPRESSION": 100, "REACTION": 2, "LINK_CLICKS": 1}},
    ),
    Share(
        "s-06",
        "e-0009",
        _post(6),
        "2026-10-09T12:00:00Z",
        {NIGHT_2: {"IMPRESSION": 600, "REACTION": 12, "LINK_CLICKS": 6}},
    ),
    Share("s-07", "e-0006", _post(7), "2026-10-05T12:00:00Z", {NIGHT_2: {"IMPRESSION": 100, "REACTION": 1}}),
    # November: only two surveyed sharers → below k = 5 → suppressed. s-09 not observed yet → zeros.
    Share(
        "s-08",
        "e-0001",
        _post(8),
        "2026-11-02T09:00:00Z",
        {NIGHT_2: {"IMPRESSION": 50, "REACTION": 5, "LINK_CLICKS": 1}},
    ),
    Share("s-09", "e-0002", _post(9), "2026-11-03T09:00:00Z", {}),
]


# An X share of e-0001's (the same content, so the same tracking link as s-01 and s-08): night 1 with non-public
# metrics (12 link clicks), night 2 public only (the link clicks carry over). Engagements: likes + replies + retweets
# + quotes = 28, then 30.
X_SHARE = Share("s-10", "e-0001", "1850000000000000001", "2026-10-10T09:00:00Z", {}, network="x")
X_NIGHTS = {
    NIGHT_1: {
        "public_metrics": {
            "like_count": 20,
            "reply_count": 4,
            "retweet_count": 3,
            "quote_count": 1,
            "bookmark_count": 2,
            "impression_count": 900,
        },
        "non_public_metrics": {"impression_count": 900, "url_link_clicks": 12, "user_profile_clicks": 1},
    },
    NIGHT_2: {
        "public_metrics": {
            "like_count": 22,
            "reply_count": 4,
            "retweet_count": 3,
            "quote_count": 1,
            "bookmark_count": 2,
            "impression_count": 1000,
        },
    },
}

# Bitly clicks per tracking link and day. e-0001's link serves s-01 (5 Oct), s-10 (10 Oct) and s-08 (2 Nov): each
# day's clicks go to the latest share made that day or before → s-01: 7 + 5 = 12, s-10: 9 + 4 = 13, s-08: 2 + 4 = 6.
# e-0002's link serves s-02 (6 Oct) and s-09 (3 Nov): s-02 gets 3, s-09 0 (no click since its day).
LINK_CLICKS = {
    "bit.ly/e0001": {
        date(2026, 10, 5): 7,
        date(2026, 10, 6): 5,
        date(2026, 10, 10): 9,
        date(2026, 10, 12): 4,
        date(2026, 11, 2): 2,
        date(2026, 11, 3): 4,
    },
    "bit.ly/e0002": {date(2026, 10, 6): 3},
}


def _share_payload(share: Share, share_mode: str = "manual") -> dict:
    return {
        "share_id": share.share_id,
        "employee_id": share.employee_id,
        "content_id": "c-001",
        "network": share.network,
        "post_id": share.post_id,
        "shared_at": share.shared_at,
        "tracking_link": share.tracking_link,
        "share_mode": share_mode,
        "copy_edited": False,
        "campaign": None,
        "audience_size": 1000,
    }


def _response_payload(token: str, employee_id: str, submitted_at: str, answers: list[tuple[str, int]]) -> dict:
    return {
        "landing_id": token,
        "token": token,
        "response_id": token,
        "landed_at": submitted_at,
        "submitted_at": submitted_at,
        "metadata": {},
        "hidden": {"employee_id": employee_id},
        "calculated": {"score": 0},
        "answers": [
            {"field": {"id": f"id-{ref}", "ref": ref, "type": "opinion_scale"}, "type": "number", "number": number}
            for ref, number in answers
        ],
    }


#: The vendor surveys of the simulated company's wave of 2026-11-25, which the committed instrument
#: (seeds/survey_instrument.csv) maps: SurveyMonkey question ids and Qualtrics QIDs of their own, per survey.
_COMPANY = Company(7, datetime(2026, 11, 26, tzinfo=UTC))
_SM_WAVE, _Q_WAVE = _COMPANY.survey_waves_for("surveymonkey")[-1], _COMPANY.survey_waves_for("qualtrics")[-1]
SURVEYMONKEY_SURVEY, QUALTRICS_SURVEY = sm_simulator.survey_id(_SM_WAVE), qualtrics_simulator.survey_id(_Q_WAVE)
SURVEYMONKEY_QUESTIONS = {ref: qid for qid, ref in sm_simulator.question_ids(_SM_WAVE).items()}
QUALTRICS_QUESTIONS = {ref: qid for qid, ref in qualtrics_simulator.question_ids(_Q_WAVE).items()}
#: Choice labels without digits, listed in /details in an order other than their positions: only the position says
#: which scale point a choice is.
CHOICE_TEXTS = ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree")


def _surveymonkey_details() -> dict:
    questions = [
        {
            "id": qid,
            "position": n,
            "family": "single_choice",
            "subtype": "vertical",
            "headings": [{"heading": ref}],
            "answers": {
                "choices": [
                    {
                        "id": sm_simulator.choice_id(qid, position),
                        "position": position,
                        "text": CHOICE_TEXTS[position - 1],
                    }
                    for position in (3, 1, 5, 2, 4)
                ]
            },
        }
        for n, (ref, qid) in enumerate(SURVEYMONKEY_QUESTIONS.items(), start=1)
    ]
    return {
        "id": SURVEYMONKEY_SURVEY,
        "title": "Why we share",
        "date_created": "2026-08-30T00:00:00+00:00",
        "date_modified": "2026-08-31T00:00:00+00:00",
        "pages": [{"id": "p-1", "position": 1, "questions": questions}],
    }


def _surveymonkey_payload(response_id: str, employee_id: str, modified_at: str, answers: dict[str, int]) -> dict:
    questions = [
        {
            "id": SURVEYMONKEY_QUESTIONS[ref],
            "answers": [
                {
                    "choice_id": sm_simulator.choice_id(SURVEYMONKEY_QUESTIONS[ref], number),
                    "simple_text": CHOICE_TEXTS[number - 1],
                }
            ],
        }
        for ref, number in answers.items()
    ]
    return {
        "id": response_id,
        "survey_id": SURVEYMONKEY_SURVEY,
        "collector_id": "400000001",
        "response_status": "completed",
        "custom_variables": {"employee_id": employee_id},
        "first_name": "",
        "last_name": "",
        "email_address": "",
        "ip_address": "",
        "date_created": modified_at,
        "date_modified": modified_at,
        "pages": [{"id": "p-1", "questions": questions}],
    }


def _qualtrics_payload(response_id: str, employee_id: str, recorded_at: str, answers: dict[str, int]) -> dict:
    values = {QUALTRICS_QUESTIONS[ref]: number for ref, number in answers.items()}
    return {
        "responseId": response_id,
        "values": {
            "startDate": recorded_at,
            "endDate": recorded_at,
            "recordedDate": recorded_at,
            "finished": 1,
            "progress": 100,
            "ipAddress": "",
            **values,
            "externalDataReference": employee_id,
            "recipientEmail": "",
        },
        "labels": {},
        "displayedFields": list(values),
    }


#: (response id, employee, submitted, answers): e-0002 relays its Typeform response (same second, same answers:
#: Typeform wins the tie); e-0007 answered only here, edited once (the latest version counts).
SURVEYMONKEY_RESPONSES = [
    ("90000000002", "e-0002", "2026-09-02T10:00:00+00:00", ANSWERS["e-0002"]),
    ("90000000007", "e-0007", "2026-09-02T12:00:00+00:00", ANSWERS["e-0003"]),
    ("90000000007", "e-0007", "2026-09-04T12:00:00+00:00", ANSWERS["e-0001"]),
]
#: e-0003 answered again a week after their Typeform response (the later one counts); e-0008 answered only here.
QUALTRICS_RESPONSES = [
    ("R_fixture0000003", "e-0003", "2026-09-10T10:00:00Z", ANSWERS["e-0003"]),
    ("R_fixture0000008", "e-0008", "2026-09-03T10:00:00Z", ANSWERS["e-0001"]),
]
ORGANIZATION = "urn:li:organization:99295745"
PAGE_STATISTICS = {
    "uniqueImpressionsCount": 617,
    "impressionCount": 883,
    "clickCount": 10,
    "likeCount": 12,
    "commentCount": 1,
    "shareCount": 2,
    "shareMentionsCount": 0,
    "commentMentionsCount": 0,
    "engagement": 0.028312570781426953,
}


def _load_other_sources(conn: psycopg.Connection, meta: tuple) -> None:
    """The X readings, Bitly clicks, SurveyMonkey and Qualtrics responses and page statistics of the fixture."""
    load_id, extracted_at, _, request = meta
    for night, metrics in X_NIGHTS.items():
        tweet = {
            "id": X_SHARE.post_id,
            "text": "Worth a read",
            "created_at": "2026-10-10T09:00:00.000Z",
            "edit_history_tweet_ids": [X_SHARE.post_id],
            **metrics,
        }
        conn.execute(
            "insert into raw.x__tweet_metrics values (%s, %s, %s, %s, %s, %s)",
            (X_SHARE.post_id, Jsonb(tweet), load_id, extracted_at, night, request),
        )
    for bitlink, days in LINK_CLICKS.items():
        for day, clicks in days.items():
            bucket = {"clicks": clicks, "date": f"{day.isoformat()}T00:00:00+0000"}
            conn.execute(
                "insert into raw.bitly__link_clicks values (%s, %s, %s, %s, %s, %s, %s)",
                (bitlink, day, Jsonb(bucket), *meta),
            )
    details = _surveymonkey_details()
    conn.execute(
        "insert into raw.surveymonkey__survey_details values (%s, %s, %s, %s, %s, %s, %s)",
        (SURVEYMONKEY_SURVEY, details["date_modified"], Jsonb(details), *meta),
    )
    for response_id, employee_id, modified_at, answers in SURVEYMONKEY_RESPONSES:
        payload = _surveymonkey_payload(response_id, employee_id, modified_at, answers)
        conn.execute(
            "insert into raw.surveymonkey__responses values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (SURVEYMONKEY_SURVEY, response_id, modified_at, Jsonb(payload), *meta),
        )
    for response_id, employee_id, recorded_at, answers in QUALTRICS_RESPONSES:
        payload = _qualtrics_payload(response_id, employee_id, recorded_at, answers)
        conn.execute(
            "insert into raw.qualtrics__responses values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (QUALTRICS_SURVEY, response_id, recorded_at, Jsonb(payload), *meta),
        )
    day = {
        "timeRange": {"start": 1793232000000, "end": 1793318400000},
        "organizationalEntity": ORGANIZATION,
        "totalShareStatistics": PAGE_STATISTICS,
    }
    conn.execute(
        "insert into raw.linkedin__organization_daily_statistics values (%s, %s, %s, %s, %s, %s, %s)",
        (ORGANIZATION, date(2026, 10, 29), Jsonb(day), *meta),
    )
    post = {"share": _post(99), "organizationalEntity": ORGANIZATION, "totalShareStatistics": PAGE_STATISTICS}
    conn.execute(
        "insert into raw.linkedin__organization_post_statistics values (%s, %s, %s, %s, %s, %s)",
        (_post(99), Jsonb(post), load_id, extracted_at, NIGHT_2, request),
    )


def _load(url: str, shares: list[tuple[Share, str]], responses: list[dict], others: bool = False) -> None:
    """Create the raw layer and land the given shares (with their LinkedIn nights) and survey responses, and with
    `others` the fixture's rows of the other sources."""
    load_id, extracted_at = uuid.uuid4(), datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
    meta = (load_id, extracted_at, LOGICAL_DATE, "test fixture")
    with psycopg.connect(url) as conn:
        conn.execute(RAW_SCHEMA_SQL.read_text())
        for share, share_mode in shares:
            conn.execute(
                "insert into raw.advocacy__shares values (%s, %s, %s, %s, %s, %s)",
                (share.share_id, Jsonb(_share_payload(share, share_mode)), *meta),
            )
            for night, counts in share.nights.items():
                for metric, count in counts.items():
                    element = {
                        "count": count,
                        "metricType": metric,
                        "targetEntity": {"share": share.post_id},
                        "dateRange": {},
                    }
                    conn.execute(
                        "insert into raw.linkedin__member_post_analytics values (%s, %s, %s, %s, %s, %s, %s)",
                        (share.post_id, metric, Jsonb(element), load_id, extracted_at, night, "test fixture"),
                    )
        for payload in responses:
            conn.execute(
                "insert into raw.typeform__responses values (%s, %s, %s, %s, %s, %s, %s, %s)",
                (FORM_ID, payload["token"], payload["submitted_at"], Jsonb(payload), *meta),
            )
        if others:
            _load_other_sources(conn, meta)


def _dbt_build(url: str, work_dir: Path) -> subprocess.CompletedProcess:
    dbt = Path(sys.executable).with_name("dbt")
    project = settings.DBT_PROJECT_DIR
    return subprocess.run(
        [
            str(dbt),
            "build",
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
        timeout=600,
    )


@pytest.fixture(scope="module")
def built(module_db: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The handcrafted raw layer, built by `dbt build`; yields the database's conninfo."""
    responses = [
        _response_payload(f"t-{employee_id}", employee_id, SUBMITTED_AT[employee_id], list(answers.items()))
        for employee_id, answers in ANSWERS.items()
    ]
    _load(module_db, [(share, "manual") for share in [*SHARES, X_SHARE]], responses, others=True)
    result = _dbt_build(module_db, tmp_path_factory.mktemp("dbt"))
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    return module_db


def _attribution(url: str, month: date) -> dict[str, dict]:
    """motivation → its bi_build.motivation_attribution row (column → value) for one month on LinkedIn."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "select * from bi_build.motivation_attribution where month = %s and network = 'linkedin'", (month,)
        ).fetchall()
    return {row["motivation"]: row for row in rows}


def _totals(url: str, month: date, network: str = "linkedin") -> dict:
    """The bi_build.monthly_totals row (column → value) of one month × network."""
    (row,) = _rows(url, "select * from bi_build.monthly_totals where month = %s and network = %s", month, network)
    return row


def test_every_group_has_every_motivation_and_its_parts_sum_exactly_to_its_totals(built: str) -> None:
    for month in (OCTOBER, NOVEMBER):
        rows = _attribution(built, month)
        assert set(rows) == set(MOTIVATIONS)
        assert not set(METRICS) & set(next(iter(rows.values()))), "totals are not repeated on the motivation rows"
        totals = _totals(built, month)
        for metric in METRICS:
            total = totals[metric]
            parts = [row[f"attributed_{metric}"] for row in rows.values()]
            assert all(isinstance(part, Decimal) for part in parts)
            assert sum(parts) == total, (month, metric)


def _dbt_test(url: str, work_dir: Path, select: str) -> subprocess.CompletedProcess:
    """`dbt test --select <select>` on the built warehouse, as `dbt build` runs those tests."""
    return _dbt(url, work_dir, "test", select)


def _dbt(url: str, work_dir: Path, command_name: str, select: str, *options: str) -> subprocess.CompletedProcess:
    """`dbt <command_name> --select <select> <options…>` on the built warehouse."""
    dbt = Path(sys.executable).with_name("dbt")
    project = settings.DBT_PROJECT_DIR
    command = [
        str(dbt),
        command_name,
        "--select",
        select,
        *options,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
    ]
    env = {**os.environ, **settings.libpq_env(url), "DO_NOT_TRACK": "1"}
    return subprocess.run(command, env=env, cwd=project, capture_output=True, text=True, timeout=600)


def test_parts_sum_to_totals_fails_on_a_group_whose_parts_miss_its_total(built: str, tmp_path: Path) -> None:
    """The generic test `parts_sum_to_totals` (data-tests/generic/) on motivation_attribution × monthly_totals."""
    shifted = "update bi_build.monthly_totals set clicks = clicks + %s where month = %s and network = 'linkedin'"
    with psycopg.connect(built, autocommit=True) as conn:
        conn.execute(shifted, (1, OCTOBER))
        try:
            failed = _dbt_test(built, tmp_path, "test_name:parts_sum_to_totals")
        finally:
            conn.execute(shifted, (-1, OCTOBER))
    passed = _dbt_test(built, tmp_path, "test_name:parts_sum_to_totals")

    assert failed.returncode != 0 and "FAIL 1 parts_sum_to_totals_motivation_attribution" in failed.stdout, (
        failed.stdout
    )
    assert passed.returncode == 0, passed.stdout[-3000:]


def _incremental_keys() -> dict[str, tuple[str, ...]]:
    """Incremental model → its row key: the columns of the unique index its config block declares, which hold its
    `unique_key` (the grain a build replaces: the key itself, or a part of it, like fct_share_motivation_attribution's
    share of a share × motivation)."""
    keys = {}
    for path in (settings.DBT_PROJECT_DIR / "models").rglob("*.sql"):
        text = path.read_text()
        if "materialized='incremental'" not in text:
            continue
        match = re.search(r"unique_key=(\[[^\]]*\]|'[^']*')", text)
        assert match, f"{path.name}: an incremental model without a unique_key"
        replaced = ast.literal_eval(match.group(1))
        declared = re.findall(r"\{'columns': (\[[^\]]*\]), 'unique': true\}", text)
        assert len(declared) == 1, f"{path.name}: declares {len(declared)} unique indexes, not its key's one"
        keys[path.stem] = tuple(ast.literal_eval(declared[0]))
        assert set(replaced if isinstance(replaced, list) else [replaced]) <= set(keys[path.stem]), path.name
    return keys


def test_every_incremental_models_key_is_held_by_a_unique_index_that_refuses_a_duplicate(built: str) -> None:
    """The keys of the incremental tables are their unique indexes' to hold, not nightly dbt tests': a uniqueness
    test reads the whole table every night, and these tables grow with history (bench/night.py's "cost growth").
    A duplicate fails `dbt build` where it is written, so the night never reaches the audit or the publish; the GX
    gate still catches a duplicate's effect on the totals it reconciles (the poisoned night in
    tests/test_expectations_gate.py)."""
    keys = _incremental_keys()
    assert {
        "fct_shares",
        "fct_share_motivation_attribution",
        "fct_post_engagement_daily",
        "int_linkedin__post_metrics_nightly",
    } <= set(keys)
    empty: set[str] = set()
    with psycopg.connect(built, autocommit=True) as conn:
        for model, key in keys.items():
            (schema,) = conn.execute(
                "select table_schema from information_schema.tables where table_name = %s", (model,)
            ).fetchone()
            unique_indexes = conn.execute(
                "select array_agg(attribute.attname order by array_position(index.indkey, attribute.attnum))"
                " from pg_index as index join pg_attribute as attribute"
                "  on attribute.attrelid = index.indrelid and attribute.attnum = any(index.indkey)"
                " where index.indrelid = %s::regclass and index.indisunique group by index.indexrelid",
                (f"{schema}.{model}",),
            ).fetchall()
            assert [list(key)] in [list(row) for row in unique_indexes], (model, key, unique_indexes)
            if conn.execute(f"select not exists (select from {schema}.{model})").fetchone()[0]:
                empty.add(model)
                continue
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(f"insert into {schema}.{model} select * from {schema}.{model} limit 1")
    # the handcrafted raw layer has no HR roster, so no team spans to digest: the only table with no row to double
    assert empty == {"int_hr__team_span_digests"}


def test_a_table_built_before_its_key_index_fails_held_by_unique_index_until_its_next_build_adds_it(
    built: str, tmp_path: Path
) -> None:
    """A warehouse whose fct_post_engagement_daily was built before the key's unique index was declared (dbt creates
    an incremental table's indexes with the table only) fails the model's `held_by_unique_index` test, which names
    the key; the model's next (incremental) build adds the index (post-hook `ensure_indexes`) and passes."""
    test = "held_by_unique_index_fct_post_engagement_daily_post_urn__activity_date"
    unique_indexes = (
        "select indexrelid::regclass::text from pg_index"
        " where indrelid = 'marts.fct_post_engagement_daily'::regclass and indisunique"
    )
    with psycopg.connect(built, autocommit=True) as conn:
        ((index,),) = conn.execute(unique_indexes).fetchall()
        conn.execute(f"drop index {index}")
        failed = _dbt(built, tmp_path, "test", test)
        rebuilt = _dbt(built, tmp_path, "build", "fct_post_engagement_daily")
        after_rebuild = conn.execute(unique_indexes).fetchall()
        again = _dbt(built, tmp_path, "build", "fct_post_engagement_daily")
        after_another = conn.execute(unique_indexes).fetchall()

    assert failed.returncode != 0 and f"FAIL 1 {test}" in failed.stdout, failed.stdout[-3000:]
    assert "key_without_a_unique_index" not in rebuilt.stdout and rebuilt.returncode == 0, rebuilt.stdout[-3000:]
    assert f"PASS {test}" in rebuilt.stdout, rebuilt.stdout[-3000:]
    assert again.returncode == 0 and len(after_rebuild) == 1 and after_another == after_rebuild  # once, not per build


def _attribution_rows(url: str) -> dict[tuple[str, str], dict]:
    """fct_share_motivation_attribution by (share, motivation), without its build time."""
    with psycopg.connect(url, row_factory=dict_row) as conn:
        rows = conn.execute("select * from marts.fct_share_motivation_attribution").fetchall()
    return {(row["share_id"], row["motivation"]): {k: v for k, v in row.items() if k != "built_at"} for row in rows}


def _built_at(url: str) -> dict[str, set]:
    """share → the build times of its attribution rows."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("select share_id, built_at from marts.fct_share_motivation_attribution").fetchall()
    times: dict[str, set] = {}
    for share_id, built_at in rows:
        times.setdefault(share_id, set()).add(built_at)
    return times


def test_a_first_survey_response_re_splits_its_sharers_earlier_share_and_no_other(built: str, tmp_path: Path) -> None:
    """e-0009 never answered, so s-06 (shared 2026-10-09) is `unattributed`. A response of theirs lands, submitted
    within the lookback after s-06: the next incremental build splits s-06 over its first profile — found by the
    sharer's profiles changing (int_survey__profile_digests rebuilds their row), since fct_shares did not rebuild
    s-06 — leaves every other share's rows as they were built, and gives what a full rebuild gives."""
    answers = list(ANSWERS["e-0001"].items())
    with scratch_database("attribution", template=built) as url:
        before, built_before = _attribution_rows(url), _built_at(url)
        with psycopg.connect(url) as conn:
            payload = _response_payload("t-e-0009", "e-0009", "2026-10-20T10:00:00Z", answers)
            conn.execute(
                "insert into raw.typeform__responses values (%s, %s, %s, %s, gen_random_uuid(), now(), %s, %s)",
                (FORM_ID, payload["token"], payload["submitted_at"], Jsonb(payload), LOGICAL_DATE, "test"),
            )
        incremental = _dbt(url, tmp_path, "run", "int_survey__profile_digests fct_share_motivation_attribution")
        after, built_after = _attribution_rows(url), _built_at(url)
        full = _dbt(url, tmp_path, "run", "fct_share_motivation_attribution", "--full-refresh")
        rebuilt = _attribution_rows(url)

    assert incremental.returncode == 0 and full.returncode == 0, incremental.stdout[-3000:] + full.stdout[-3000:]
    assert [key for key in before if key[0] == "s-06"] == [("s-06", "unattributed")]
    s06 = {motivation: row for (share, motivation), row in after.items() if share == "s-06"}
    assert set(s06) == {"obligated", "good_news", "proud", "educate"}
    assert {row["attribution_basis"] for row in s06.values()} == {"first_profile_after_share"}
    assert sum(row["weight"] for row in s06.values()) == 1
    assert built_after["s-06"] != built_before["s-06"]
    assert {share: times for share, times in built_after.items() if share != "s-06"} == {
        share: times for share, times in built_before.items() if share != "s-06"
    }
    assert after == rebuilt


def test_an_attribution_table_built_before_it_was_incremental_is_split_whole_on_its_next_build(
    built: str, tmp_path: Path
) -> None:
    """A warehouse upgraded from when fct_share_motivation_attribution was a plain table (no `built_at`, no
    indexes) needs nothing by hand: its next build gains the column, splits every share again and adds the
    indexes; the rows are what they were."""
    with scratch_database("attribution", template=built) as url:
        before = _attribution_rows(url)
        with psycopg.connect(url, autocommit=True) as conn:
            for (index,) in conn.execute(
                "select indexrelid::regclass::text from pg_index"
                " where indrelid = 'marts.fct_share_motivation_attribution'::regclass"
            ).fetchall():
                conn.execute(f"drop index {index}")
            conn.execute("alter table marts.fct_share_motivation_attribution drop column built_at")
        result = _dbt(url, tmp_path, "build", "fct_share_motivation_attribution")
        after = _attribution_rows(url)
        with psycopg.connect(url) as conn:
            (builds,) = conn.execute(
                "select count(distinct built_at) from marts.fct_share_motivation_attribution where built_at is not null"
            ).fetchone()
            (indexes,) = conn.execute(
                "select count(*) from pg_index where indrelid = 'marts.fct_share_motivation_attribution'::regclass"
            ).fetchone()

    assert result.returncode == 0, result.stdout[-3000:]
    assert "PASS held_by_unique_index_fct_share_motivation_attribution_share_id__motivation" in result.stdout
    assert after == before and builds == 1 and indexes == 3


@pytest.mark.parametrize(
    "dropped",
    [
        # a plain table, until 2026-12-05 (no build time, no index)
        ("built_at",),
        # incremental without each pair's first and last share, until 2026-12-05 (dim_content pools them now)
        ("first_shared_at", "last_shared_at"),
    ],
)
def test_a_content_sharers_table_built_before_its_columns_is_rebuilt_whole_on_its_next_build(
    built: str, tmp_path: Path, dropped: tuple[str, ...]
) -> None:
    """A warehouse upgraded from an earlier mart_content_sharers (without the `dropped` columns, nor the index)
    needs nothing by hand: its next build gains the columns, rebuilds every pair and adds the unique index; the
    rows are what they were."""
    query = (
        "select content_id, employee_id, shares, first_shared_at, last_shared_at, is_respondent, attributed_shares"
        " from marts.mart_content_sharers"
    )
    with scratch_database("content_sharers", template=built) as url:
        before = _rows(url, query + " order by 1, 2")
        with psycopg.connect(url, autocommit=True) as conn:
            for (index,) in conn.execute(
                "select indexrelid::regclass::text from pg_index where indrelid = 'marts.mart_content_sharers'::regclass"
            ).fetchall():
                conn.execute(f"drop index {index}")
            for column in dropped:
                conn.execute(f"alter table marts.mart_content_sharers drop column {column}")
        result = _dbt(url, tmp_path, "build", "mart_content_sharers")
        after = _rows(url, query + " order by 1, 2")
        with psycopg.connect(url) as conn:
            (builds,) = conn.execute(
                "select count(distinct built_at) from marts.mart_content_sharers where built_at is not null"
            ).fetchone()
            (unique_indexes,) = conn.execute(
                "select count(*) from pg_index where indrelid = 'marts.mart_content_sharers'::regclass and indisunique"
            ).fetchone()

    assert result.returncode == 0, result.stdout[-3000:]
    assert after == before and builds == 1 and unique_indexes == 1


@pytest.mark.parametrize(
    ("table", "key", "retired"),
    [
        # each tracking link's share count on every share row, until 2026-12-05 (now fct_tracking_links')
        ("fct_shares", "share_id", "tracking_link_shares integer default 1"),
        # the sharer's profile digest on every attribution row, until 2026-12-05 (now int_survey__profile_digests)
        ("fct_share_motivation_attribution", "share_id, motivation", "profile_digest text default 'x'"),
    ],
)
def test_a_table_built_with_a_retired_column_loses_it_on_its_next_build(
    built: str, tmp_path: Path, table: str, key: str, retired: str
) -> None:
    """A table built before a model stopped building a column has it; the next build drops it by itself (pre-hook
    drop_retired_columns), and every row comes out as built, so none is rewritten."""
    query = f"select * from marts.{table} order by {key}"
    with scratch_database("retired", template=built) as url:
        before = _rows(url, query)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"alter table marts.{table} add column {retired}")
        result = _dbt(url, tmp_path, "build", table)
        after = _rows(url, query)

    assert result.returncode == 0, result.stdout[-3000:]
    assert after == before


def test_october_is_split_by_the_sharers_weights_at_share_time(built: str) -> None:
    rows = _attribution(built, OCTOBER)
    proud, totals = rows["proud"], _totals(built, OCTOBER)
    # e-0001…e-0005; e-0009 never answered and e-0006 answered after sharing
    assert proud["respondents"] == totals["respondents"] == 5
    assert totals["shares"] == 7
    # s-01 counts from the latest night (1000 impressions, 30 + 8 + 2 engagements, 10 clicks), not the first
    assert totals["impressions"] == 1000 + 200 + 400 + 300 + 100 + 600 + 100
    assert totals["engagements"] == 40 + 10 + 20 + 6 + 2 + 12 + 1
    assert totals["clicks"] == 10 + 4 + 3 + 1 + 6
    assert {motivation: row["attributed_impressions"] for motivation, row in rows.items()} == {
        # 1000 × e-0001's weight + 200 × 0.25 (e-0002) + 400 × 0.25 (e-0003, all zero) [+ 300 + 100 (e-0004/5)]
        "obligated": Decimal("221.429"),
        "good_news": Decimal("649.999"),
        "proud": Decimal("907.143"),
        "educate": Decimal("221.429"),
        # s-06 (e-0009, no response) + s-07 (e-0006, response after the share)
        "unattributed": Decimal("700"),
    }
    good_news, quarter = rows["good_news"], Decimal("0.25")
    assert good_news["attributed_shares"] == E1_WEIGHTS["good_news"] + quarter + quarter
    assert good_news["attributed_engagements"] == 40 * E1_WEIGHTS["good_news"] + 10 * quarter + 20 * quarter


def test_a_group_below_k_respondents_is_all_unattributed(built: str) -> None:
    rows = _attribution(built, NOVEMBER)
    unattributed = rows["unattributed"]
    assert unattributed["respondents"] == 2
    # s-09 not observed yet: it counts as a share with zero outcomes
    assert [_totals(built, NOVEMBER)[metric] for metric in METRICS] == [2, 50, 5, 1]
    assert [unattributed[f"attributed_{metric}"] for metric in METRICS] == [2, 50, 5, 1]
    for motivation in ("obligated", "good_news", "proud", "educate"):
        assert [rows[motivation][f"attributed_{metric}"] for metric in METRICS] == [0, 0, 0, 0]


def test_weights_of_a_respondent_are_rounded_and_sum_to_one(built: str) -> None:
    with psycopg.connect(built) as conn:
        weights = dict(
            conn.execute(
                "select construct, weight from intermediate.int_survey__motivation_weights where employee_id = 'e-0001'"
            ).fetchall()
        )
        all_zero = conn.execute(
            "select array_agg(distinct weight) from intermediate.int_survey__motivation_weights"
            " where employee_id = 'e-0003'"
        ).fetchone()[0]
    assert weights == E1_WEIGHTS
    assert sum(weights.values()) == 1
    assert all_zero == [Decimal("0.25")]


def _rows(url: str, query: str, *params) -> list[dict]:
    with psycopg.connect(url, row_factory=dict_row) as conn:
        return conn.execute(query, params).fetchall()


def test_an_x_share_takes_its_metrics_with_link_clicks_carried_over_a_public_only_night(built: str) -> None:
    (share,) = _rows(built, "select * from marts.fct_shares where share_id = 's-10'")
    assert {
        column: share[column]
        for column in (
            "network",
            "impressions",
            "members_reached",
            "engagements",
            "clicks",
            "click_source",
            "is_matured",
            "horizon_impressions",
            "horizon_engagements",
            "horizon_clicks",
        )
    } == {
        "network": "x",
        "impressions": 1000,
        "members_reached": None,
        "engagements": 22 + 4 + 3 + 1,
        "clicks": 12,
        "click_source": "x.url_link_clicks",
        "is_matured": True,
        # shared 10 Oct: the horizon (17 Oct) is first reached by night 1's reading
        "horizon_impressions": 900,
        "horizon_engagements": 20 + 4 + 3 + 1,
        "horizon_clicks": 12,
    }
    # one surveyed sharer on X in October: below k, everything on `unattributed`
    rows = _rows(built, "select * from bi_build.motivation_attribution where month = %s and network = 'x'", OCTOBER)
    assert {row["motivation"]: [row[f"attributed_{m}"] for m in METRICS] for row in rows} == {
        "obligated": [0, 0, 0, 0],
        "good_news": [0, 0, 0, 0],
        "proud": [0, 0, 0, 0],
        "educate": [0, 0, 0, 0],
        "unattributed": [1, 1000, 30, 12],
    }
    (kpis,) = _rows(built, "select * from bi_build.advocacy_kpis where month = %s and network = 'x'", OCTOBER)
    assert [kpis[c] for c in ("shares", "impressions", "members_reached", "engagements", "clicks")] == [
        1,
        1000,
        None,
        30,
        12,
    ]
    # EMV 2026.1 for X: 1000 × 0.004 + 30 × 0.25 + 12 × 2.50
    assert kpis["earned_media_value"] == Decimal("41.50")


def test_tracking_link_clicks_are_split_over_the_links_shares_beside_the_platform_clicks(built: str) -> None:
    rows = _rows(
        built, "select * from marts.fct_shares where share_id in ('s-01', 's-10', 's-08', 's-02', 's-09', 's-03')"
    )
    columns = ("tracking_link_clicks", "clicks", "click_gap", "click_gap_source")
    assert {row["share_id"]: tuple(row[c] for c in columns) for row in rows} == {
        "s-01": (12, 10, 2, "tracking_link_counts_all_sources"),
        "s-10": (13, 12, 1, "tracking_link_counts_all_sources"),
        "s-08": (6, 1, 5, "tracking_link_counts_all_sources"),
        # s-09 (3 Nov) takes e-0002's link from its day on; s-02's platform counted more than the link kept for it
        "s-02": (3, 4, -1, "later_share_of_the_link_took_its_clicks"),
        # not observed yet: no platform count to set the link's against
        "s-09": (0, 0, None, None),
        # no click of e-0003's link landed: not collected
        "s-03": (None, 0, None, None),
    }
    # the shares of a link split its clicks without loss, and the link counts its shares
    links = _rows(
        built,
        "select tracking_link, shares, tracking_link_clicks from marts.fct_tracking_links"
        " where tracking_link in ('bit.ly/e0001', 'bit.ly/e0002', 'bit.ly/e0003')",
    )
    assert {row["tracking_link"]: (row["shares"], row["tracking_link_clicks"]) for row in links} == {
        "bit.ly/e0001": (3, sum(LINK_CLICKS["bit.ly/e0001"].values())),
        "bit.ly/e0002": (2, 3 + 0),
        "bit.ly/e0003": (1, None),
    }
    kpis = _rows(
        built,
        "select month, network, tracking_link_clicks, click_gap, click_gap_source"
        " from bi_build.advocacy_kpis where team = 'unknown'",
    )
    assert {(row["month"], row["network"]): tuple(list(row.values())[2:]) for row in kpis} == {
        (OCTOBER, "linkedin"): (12 + 3, 2 - 1, "tracking_link_counts_all_sources"),
        (OCTOBER, "x"): (13, 1, "tracking_link_counts_all_sources"),
        (NOVEMBER, "linkedin"): (6 + 0, 5, "tracking_link_counts_all_sources"),
    }


def test_a_wave_relayed_by_three_vendors_counts_each_respondent_once(built: str) -> None:
    (wave,) = _rows(built, "select * from marts.dim_survey_wave")
    assert [wave[c] for c in ("wave", "wave_number", "responses", "respondents", "sources")] == [
        FORM_ID,
        1,
        6 + 2 + 2,
        8,
        "qualtrics, surveymonkey, typeform",
    ]
    profiles = _rows(
        built,
        "select employee_id, source, response_id, min(valid_from) as valid_from, count(*)"
        " from intermediate.int_survey__motivation_weights group by 1, 2, 3",
    )
    assert {row["employee_id"]: (row["source"], row["valid_from"].isoformat(), row["count"]) for row in profiles} == {
        "e-0001": ("typeform", "2026-09-01T10:00:00+00:00", 4),
        # relayed by SurveyMonkey at the same second: Typeform first
        "e-0002": ("typeform", "2026-09-02T10:00:00+00:00", 4),
        # answered again on Qualtrics a week later: the later response
        "e-0003": ("qualtrics", "2026-09-10T10:00:00+00:00", 4),
        "e-0004": ("typeform", "2026-09-04T10:00:00+00:00", 4),
        "e-0005": ("typeform", "2026-09-05T10:00:00+00:00", 4),
        "e-0006": ("typeform", "2026-11-08T10:00:00+00:00", 4),
        # edited on SurveyMonkey: the latest version
        "e-0007": ("surveymonkey", "2026-09-04T12:00:00+00:00", 4),
        "e-0008": ("qualtrics", "2026-09-03T10:00:00+00:00", 4),
    }
    with psycopg.connect(built) as conn:
        for employee_id in ("e-0007", "e-0008"):  # e-0001's answers: by choice position / by the survey's QIDs
            weights = dict(
                conn.execute(
                    "select construct, weight from intermediate.int_survey__motivation_weights where employee_id = %s",
                    (employee_id,),
                ).fetchall()
            )
            assert weights == E1_WEIGHTS, employee_id
        counted = conn.execute(
            "select count(*) filter (where is_counted), count(distinct (source, response_id))"
            " from marts.fct_survey_responses"
        ).fetchone()
        morale = conn.execute("select team, wave, respondents from bi_build.team_morale").fetchall()
    assert counted == (8 * 4, 10)
    assert morale == [("unknown", FORM_ID, 8)]


def test_the_company_page_statistics_are_typed(built: str) -> None:
    (day,) = _rows(built, "select * from staging.stg_linkedin__organization_daily_statistics")
    assert [
        day[c]
        for c in (
            "organization_urn",
            "activity_date",
            "impressions",
            "unique_impressions",
            "clicks",
            "likes",
            "comments",
            "shares",
            "engagement_rate",
        )
    ] == [ORGANIZATION, date(2026, 10, 29), 883, 617, 10, 12, 1, 2, Decimal("0.028312570781426953")]
    (post,) = _rows(built, "select * from staging.stg_linkedin__organization_post_statistics")
    assert [post[c] for c in ("post_urn", "organization_urn", "logical_date", "impressions", "clicks")] == [
        _post(99),
        ORGANIZATION,
        NIGHT_2,
        883,
        10,
    ]


def test_poisoned_staging_fails_its_data_tests_and_builds_nothing_downstream(fresh_db: str, tmp_path: Path) -> None:
    share = SHARES[0]
    duplicated_answer = _response_payload(
        "t-dup", "e-0001", SUBMITTED_AT["e-0001"], [*ANSWERS["e-0001"].items(), ("proud_1", 5)]
    )
    _load(fresh_db, [(share, "carrier_pigeon")], [duplicated_answer])

    result = _dbt_build(fresh_db, tmp_path)

    assert result.returncode != 0
    assert "FAIL 1 unique_combination_stg_typeform__answers_form_id__response_token__question_ref" in result.stdout
    assert "FAIL 1 accepted_values_stg_advocacy__shares_share_mode__manual__scheduled" in result.stdout
    with psycopg.connect(fresh_db) as conn:
        downstream = conn.execute(
            "select to_regclass('marts.fct_shares'), to_regclass('intermediate.int_survey__construct_scores'),"
            " to_regclass('bi_build.motivation_attribution')"
        ).fetchone()
    assert downstream == (None, None, None)
