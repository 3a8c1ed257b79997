"""A short readable account of one night: rows landed per source, models built, the audit, the headline `bi` rows."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import psycopg


def render(conn: psycopg.Connection, night: date, dbt_run_results: Path) -> str:
    parts = [_landed(conn, night), _built(dbt_run_results), _audited(conn), _survey_waves(conn), _attribution(conn)]
    return "\n\n".join([*parts, _lift(conn)])


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    cells = [tuple(str(c) for c in header)] + [tuple("" if c is None else str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        for row in cells
    ]
    return "\n".join("  " + line for line in lines)


def _landed(conn: psycopg.Connection, night: date) -> str:
    rows = conn.execute(
        """
        select source || '.' || entity, sum(rows_received), sum(rows_inserted), sum(rows_duplicate),
               sum(rows_quarantined), sum(api_calls), string_agg(distinct status, ',')
        from raw._loads where logical_date = %s
        group by source, entity order by 1
        """,
        (night,),
    ).fetchall()
    return f"Rows landed for the night of {night} (all attempts):\n" + _table(
        ("source.entity", "received", "new", "duplicate", "quarantined", "api calls", "status"), rows
    )


def _built(run_results: Path) -> str:
    if not run_results.exists():
        return "dbt: no run results found"
    results = json.loads(run_results.read_text())["results"]
    counts = Counter((r["unique_id"].split(".")[0], r["status"]) for r in results)
    parts = ", ".join(f"{n} {kind} {status}" for (kind, status), n in sorted(counts.items()))
    elapsed = json.loads(run_results.read_text()).get("elapsed_time", 0)
    return f"dbt build ({elapsed:.1f} s): {parts}"


def _audited(conn: psycopg.Connection) -> str:
    row = conn.execute(
        """
        select run_id, count(*) filter (where success),
               count(*) filter (where not success and severity <> 'warning'),
               count(*) filter (where not success and severity = 'warning'), max(validated_at)
        from audit.validation_runs
        where run_id = (select run_id from audit.validation_runs order by validated_at desc, id desc limit 1)
        group by run_id
        """
    ).fetchone()
    if row is None:
        return "Great Expectations audit: no results recorded"
    run_id, passed, failed, warned = row[:4]
    return (
        f"Great Expectations audit {run_id}: {passed} expectations passed, {failed} failed, {warned} warnings"
        f" (failed warnings record, never block; {row[4]:%Y-%m-%d %H:%M} UTC)"
    )


def _attribution(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        """
        select month, network, motivation, respondents, attributed_shares, attributed_impressions,
               attributed_engagements, attributed_clicks,
               round(100.0 * attributed_engagements / nullif(attributed_impressions, 0), 2)
        from bi.motivation_attribution
        where month = (select max(month) from bi.motivation_attribution)
        order by network, attributed_engagements desc
        """
    ).fetchall()
    rounded = [(m, n, mot, r, round(s, 1), round(i), round(e), round(c), er) for m, n, mot, r, s, i, e, c, er in rows]
    coverage = conn.execute(
        "select is_complete, days_covered, extract(day from month + interval '1 month' - interval '1 day')::int"
        " from bi.motivation_attribution where month = (select max(month) from bi.motivation_attribution) limit 1"
    ).fetchone()
    period = "" if coverage is None or coverage[0] else f", partial: {coverage[1]} of {coverage[2]} days"
    return (
        f"bi.motivation_attribution, latest month{period} (parts attributed by the sharers' motivation weights):\n"
    ) + _table(
        ("month", "network", "motivation", "respondents", "shares", "impressions", "engagements", "clicks", "eng. %"),
        rounded,
    )


def _survey_waves(conn: psycopg.Connection) -> str:
    """Per wave and vendor: responses landed and respondents who got a complete motivation profile (an operator's
    view from the marts; nothing here reaches `bi`)."""
    rows = conn.execute(
        """
        select waves.wave_number, responses.wave, responses.source, count(*),
               count(distinct profiles.employee_id)
        from intermediate.int_survey__responses as responses
        inner join marts.dim_survey_wave as waves on responses.wave = waves.wave
        left join (select distinct source, response_id, employee_id from intermediate.int_survey__motivation_weights)
            as profiles on responses.source = profiles.source and responses.response_id = profiles.response_id
        group by 1, 2, 3 order by 1, 3
        """
    ).fetchall()
    return "Survey waves (responses landed, respondents with a complete motivation profile):\n" + _table(
        ("wave", "survey", "vendor", "responses", "profiles"), rows
    )


def _lift(conn: psycopg.Connection) -> str:
    rows = conn.execute(
        """
        select motivation, motivation_sharers, motivation_shares,
               engagement_rate_lift || ' (' || engagement_rate_lift_lower || '–' || engagement_rate_lift_upper || ')',
               click_through_rate_lift || ' (' || click_through_rate_lift_lower || '–' || click_through_rate_lift_upper
                   || ')',
               lift_note
        from bi.motivation_lift where network = 'all' and share_segment = 'all'
        order by engagement_rate_lift desc nulls last
        """
    ).fetchall()
    return (
        "bi.motivation_lift, every network and share (1.0 = the content's rate from its average surveyed share):\n"
        + (
            _table(
                ("motivation", "sharers", "shares", "engagement rate (95 %)", "click-through rate (95 %)", "note"), rows
            )
        )
    )
