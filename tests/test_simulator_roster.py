"""The simulated HR roster: the full roster every night, from the company's employees and teams, with team moves."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

from simulator.company import ROSTER_CSV_COLUMNS, TEAM_DEPARTMENTS, Company

AS_OF = datetime(2026, 11, 26, tzinfo=UTC)
COMPANY = Company(7, AS_OF)


def test_every_night_lists_every_employee_with_a_team_lead_as_manager():
    for day in COMPANY.share_days:
        roster = COMPANY.roster_on(day)
        assert [entry.employee_id for entry in roster] == [e.employee_id for e in COMPANY.employees]
        assert len({entry.email for entry in roster}) == len(roster)
        leads = {entry.team: entry.employee_id for entry in roster if entry.manager is None}
        assert set(leads) == set(TEAM_DEPARTMENTS)
        for entry in roster:
            assert entry.department == TEAM_DEPARTMENTS[entry.team]
            assert entry.manager in (None, leads[entry.team])
            assert entry.start_date < day


def test_team_moves_make_the_roster_slowly_changing():
    """Two moves a month: the 28-day window sees a few, each employee's other fields never change."""
    days = COMPANY.share_days
    moves = []
    for before, after in pairwise(days):
        teams_before = {entry.employee_id: entry for entry in COMPANY.roster_on(before)}
        for entry in COMPANY.roster_on(after):
            previous = teams_before[entry.employee_id]
            assert (entry.email, entry.location, entry.start_date) == (
                previous.email,
                previous.location,
                previous.start_date,
            )
            if entry.team != previous.team:
                moves.append((after, entry.employee_id))
    assert 1 <= len(moves) <= 4
    first_team = {e.employee_id: e.team for e in COMPANY.employees}
    a_year_later = COMPANY.roster_on(date(2026, 1, 1))
    assert sum(entry.team != first_team[entry.employee_id] for entry in a_year_later) >= 10


def test_a_day_has_the_same_roster_whenever_the_company_is_observed():
    day = AS_OF.date() - timedelta(days=3)
    assert Company(7, AS_OF + timedelta(days=40)).roster_on(day) == COMPANY.roster_on(day)


def test_the_drop_holds_one_roster_file_per_night_of_the_window(tmp_path):
    written = COMPANY.write_roster_drop(tmp_path)
    assert [path.name for path in written] == [f"roster_{day.isoformat()}.csv" for day in COMPANY.share_days]
    with written[-1].open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert tuple(reader.fieldnames) == ROSTER_CSV_COLUMNS
    assert rows == [entry.csv_row() for entry in COMPANY.roster_on(COMPANY.share_days[-1])]
    assert not list((tmp_path / "hr").glob(".*"))  # no partial file left behind
