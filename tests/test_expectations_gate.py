"""The quality gate end to end on real PostgreSQL and GX: audit `bi_build`, publish `bi`, readers never see a mix."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import psycopg
import pytest

from expectations.audit import AuditFailed, run_audit
from expectations.publish import KEEP_RELEASES, PublishRefused, publish
from expectations.suites import ATTRIBUTION_COLUMNS
from expectations.thresholds import Thresholds
from sharewhy import settings

#: Share of each month × network total per motivation; sums to exactly 1, as the dbt weights do.
WEIGHTS = {
    "obligated": Decimal("0.125"),
    "good_news": Decimal("0.375"),
    "proud": Decimal("0.25"),
    "educate": Decimal("0.125"),
    "unattributed": Decimal("0.125"),
}
METRICS = ("shares", "impressions", "engagements", "clicks")
#: The spec's columns as dbt types them.
COLUMN_TYPES = {
    "month": "date",
    "network": "text",
    "motivation": "text",
    "respondents": "integer",
    **{metric: "bigint" for metric in METRICS},
    **{f"attributed_{metric}": "numeric" for metric in METRICS},
}
SMALL_GROUP_MONTH = date(2026, 9, 1)

CHECKSUM = "select md5(string_agg(t::text, ',' order by t::text)) from {} t"


@pytest.fixture(autouse=True)
def data_docs_in_tmp(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "DATA_DOCS_DIR", tmp_path / "data_docs")


def attribution_rows(scale: int = 1) -> list[dict]:
    """Clean rows: two groups with enough respondents, one small group whose values all go to `unattributed`."""
    rows = []
    for month, respondents in ((date(2026, 10, 1), 12), (date(2026, 11, 1), 7)):
        totals = dict(zip(METRICS, (40 * scale, 12_000 * scale, 360 * scale, 90 * scale)))
        for motivation, weight in WEIGHTS.items():
            attributed = {f"attributed_{m}": totals[m] * weight for m in METRICS}
            keys = dict(month=month, network="linkedin", motivation=motivation, respondents=respondents)
            rows.append({**keys, **totals, **attributed})
    small = dict(zip(METRICS, (3, 500, 20, 4)))
    for motivation in WEIGHTS:
        attributed = {f"attributed_{m}": Decimal(small[m] if motivation == "unattributed" else 0) for m in METRICS}
        keys = dict(month=SMALL_GROUP_MONTH, network="linkedin", motivation=motivation, respondents=3)
        rows.append({**keys, **small, **attributed})
    return rows


def poisoned_rows() -> list[dict]:
    rows = attribution_rows()

    def row(month: date, motivation: str) -> dict:
        return next(r for r in rows if r["month"] == month and r["motivation"] == motivation)

    row(date(2026, 10, 1), "proud")["attributed_clicks"] += 1  # parts no longer sum to the total
    row(date(2026, 11, 1), "educate")["impressions"] = -5  # a negative count
    rows.append(dict(row(SMALL_GROUP_MONTH, "obligated")))  # a duplicated key (zero parts: sums unaffected)
    # a group of fewer than k respondents shown under a motivation (parts still sum)
    small_proud, small_rest = row(SMALL_GROUP_MONTH, "proud"), row(SMALL_GROUP_MONTH, "unattributed")
    small_proud["attributed_shares"], small_rest["attributed_shares"] = small_rest["attributed_shares"], 0
    return rows


POISON_FAILURES = {
    "Σ attributed_clicks over motivations == clicks per month × network",
    "expect_column_values_to_be_between(impressions)",
    "expect_compound_columns_to_be_unique(month,network,motivation)",
    "k-anonymity: no motivation row carries attributed values for fewer than 5 respondents",
}


def write_build(url: str, rows: list[dict], version: int | None = None) -> None:
    """What dbt leaves behind: `bi_build.motivation_attribution` (and, with a version, a second table `build_info`)."""
    columns = ", ".join(f"{column} {COLUMN_TYPES[column]}" for column in ATTRIBUTION_COLUMNS)
    with psycopg.connect(url) as conn:
        conn.execute("create schema bi_build")
        conn.execute(f"create table bi_build.motivation_attribution ({columns})")
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into bi_build.motivation_attribution values ({', '.join(['%s'] * len(ATTRIBUTION_COLUMNS))})",
                [tuple(r[c] for c in ATTRIBUTION_COLUMNS) for r in rows],
            )
        if version is not None:
            conn.execute("create table bi_build.build_info (version integer)")
            conn.execute("insert into bi_build.build_info values (%s)", (version,))


def checksum(url: str, relation: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(CHECKSUM.format(relation)).fetchone()[0]


def audit_and_publish(url: str, run_id: str) -> str:
    run_audit(url, run_id).raise_if_failed()
    return publish(url, run_id)


def test_clean_build_passes_records_results_and_writes_data_docs(fresh_db):
    write_build(fresh_db, attribution_rows())

    result = run_audit(fresh_db, "scheduled__2026-11-26T02:00:00+00:00")

    assert result.success, result.summary()
    assert (result.failed, result.failures) == (0, [])
    assert result.passed >= 30
    with psycopg.connect(fresh_db) as conn:
        rows = conn.execute(
            "select suite, bool_and(success), count(*) from audit.validation_runs where run_id = %s group by suite",
            (result.run_id,),
        ).fetchall()
    assert rows == [("bi_build.motivation_attribution", True, result.passed)]
    assert result.data_docs_path == settings.DATA_DOCS_DIR / "scheduled__2026-11-26T02_00_00_00_00" / "index.html"
    assert "motivation_attribution" in result.data_docs_path.read_text()
    assert list(result.data_docs_path.parent.glob("validations/**/*.html"))


def test_poisoned_build_fails_naming_each_broken_rule(fresh_db):
    write_build(fresh_db, poisoned_rows())

    result = run_audit(fresh_db, "poisoned")

    assert not result.success
    failing = {f.name for f in result.failures}
    assert POISON_FAILURES <= failing, result.summary()
    sum_failure = next(f for f in result.failures if f.name.startswith("Σ attributed_clicks"))
    assert sum_failure.observed["details"]["unexpected_rows"] == [
        {"month": "2026-10-01", "network": "linkedin", "min_total": 90, "max_total": 90, "attributed_sum": "91.000"}
    ]
    with psycopg.connect(fresh_db) as conn:
        recorded = conn.execute(
            "select coalesce(description, expectation_type || '(' || column_name || ')') from audit.validation_runs"
            " where run_id = 'poisoned' and not success"
        ).fetchall()
    assert {name for (name,) in recorded} == failing
    validation_page = next(result.data_docs_path.parent.glob("validations/**/*.html")).read_text()
    assert "k-anonymity" in validation_page
    with pytest.raises(AuditFailed, match="k-anonymity"):
        result.raise_if_failed()


def test_build_missing_a_column_fails_naming_it(fresh_db):
    write_build(fresh_db, attribution_rows())
    with psycopg.connect(fresh_db) as conn:
        conn.execute("alter table bi_build.motivation_attribution drop column respondents")

    result = run_audit(fresh_db, "missing-column")

    failing = {f.name: f.observed for f in result.failures}
    assert failing["expect_table_columns_to_match_set"]["details"]["mismatched"] == {"missing": ["respondents"]}
    assert "respondents" in failing["expect_column_values_to_not_be_null(respondents)"]["exception"]


def test_k_anonymity_threshold_comes_from_configuration(fresh_db):
    rows = attribution_rows()
    for row in rows:
        if row["month"] == SMALL_GROUP_MONTH:
            row["attributed_shares"] = row["shares"] * WEIGHTS[row["motivation"]]  # the 3-respondent group shown
    write_build(fresh_db, rows)

    assert not run_audit(fresh_db, "k5").success
    assert run_audit(fresh_db, "k3", Thresholds(k_anonymity=3)).success


def test_publish_makes_the_audited_build_readable_in_bi(fresh_db):
    write_build(fresh_db, attribution_rows())
    built = checksum(fresh_db, "bi_build.motivation_attribution")

    release = audit_and_publish(fresh_db, "manual__2026-11-26T08:15:00+00:00")

    assert release == "bi_release_manual__2026_11_26t08_15_00_00_00"
    assert checksum(fresh_db, "bi.motivation_attribution") == built
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("select to_regnamespace('bi_build')").fetchone()[0] is None
        assert conn.execute("select count(*) from bi.motivation_attribution").fetchone()[0] == len(attribution_rows())


def test_failed_audit_leaves_bi_on_the_last_good_build(fresh_db):
    write_build(fresh_db, attribution_rows())
    audit_and_publish(fresh_db, "good")
    published = checksum(fresh_db, "bi.motivation_attribution")
    write_build(fresh_db, poisoned_rows())

    with pytest.raises(AuditFailed):
        run_audit(fresh_db, "bad").raise_if_failed()

    assert checksum(fresh_db, "bi.motivation_attribution") == published
    with pytest.raises(PublishRefused, match="failed"):
        publish(fresh_db, "bad")  # the gate holds even when a caller ignores the audit result
    assert checksum(fresh_db, "bi.motivation_attribution") == published


def test_publish_refuses_an_unaudited_build(fresh_db):
    write_build(fresh_db, attribution_rows())

    with pytest.raises(PublishRefused, match="no audit"):
        publish(fresh_db, "never-audited")


def test_readers_see_old_or_new_release_never_a_mix(fresh_db):
    """Readers query two `bi` views in one statement while builds 2…5 are published."""
    expected: dict[int, str] = {}

    def build(version: int) -> None:
        write_build(fresh_db, attribution_rows(scale=version), version=version)
        expected[version] = checksum(fresh_db, "bi_build.motivation_attribution")

    build(1)
    audit_and_publish(fresh_db, "v1")
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    reading = f"select (select version from bi.build_info), ({CHECKSUM.format('bi.motivation_attribution')})"

    def read() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            while not stop.is_set():
                try:
                    seen.append(conn.execute(reading).fetchone())
                except psycopg.errors.DeadlockDetected:
                    continue  # PostgreSQL resolved a lock cycle with the switch by aborting this read: no data seen

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for version in range(2, 6):
            build(version)
            audit_and_publish(fresh_db, f"v{version}")
    finally:
        stop.set()
        reader.join()

    assert seen
    assert all(expected[version] == digest for version, digest in seen), "a reader saw a mix of two builds"
    assert {version for version, _ in seen} >= {1, 5}
    assert checksum(fresh_db, "bi.motivation_attribution") == expected[5]


def test_publish_follows_changed_tables_and_keeps_the_newest_releases(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for run in ("r1", "r2", "r3", "r4"):
            write_build(fresh_db, attribution_rows(), version=int(run[1]))
            if run == "r2":  # build_info changes shape: the view has to be dropped and recreated
                conn.execute("alter table bi_build.build_info rename column version to build")
            if run == "r4":  # build_info is no longer built: its view goes
                conn.execute("drop table bi_build.build_info")
            if run == "r3":
                assert conn.execute("select build from bi.build_info").fetchone() == (2,)
            audit_and_publish(fresh_db, run)

        write_build(fresh_db, attribution_rows(scale=9))
        rebuilt = checksum(fresh_db, "bi_build.motivation_attribution")
        audit_and_publish(fresh_db, "r4")  # the same run re-run: its release is replaced

        views = conn.execute("select table_name from information_schema.views where table_schema = 'bi'").fetchall()
        releases = conn.execute("select release_schema from audit.bi_releases order by seq").fetchall()
        schemas = conn.execute("select nspname from pg_namespace where nspname ~ '^bi_release_' order by 1").fetchall()
    assert views == [("motivation_attribution",)]
    assert checksum(fresh_db, "bi.motivation_attribution") == rebuilt
    assert [r for (r,) in releases] == ["bi_release_r2", "bi_release_r3", "bi_release_r4"]
    assert len(releases) == KEEP_RELEASES
    assert schemas == releases
