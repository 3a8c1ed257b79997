"""When a post's metrics are fetched again: a schedule that follows engagement decay.

A post gathers most of its engagement in its first days (the simulated counters reach 99 % of their total in a
week), so it is fetched every night while young and less and less often afterwards, and never after the last step.
The schedule is a list of steps "up to N days old: every M days" — by default every night for the first 7 days,
then weekly up to 90 days (`"7:1,90:7"`, configurable with SHAREWHY_REFRESH_SCHEDULE). Within a step a post is due
on the nights its age in days is a multiple of M — so the weekly refreshes of posts shared on different days spread
over the week instead of coming due together, e.g. after a backfill — and also whenever it has gone more than M
days unfetched (a post never fetched, a missed night). Only fetches *before* the night count, so a rerun of a night
asks for exactly the same posts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from ingestion.raw_queries import end_of

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class RefreshStep:
    up_to_age: timedelta
    every: timedelta


@dataclass(frozen=True)
class RefreshPolicy:
    steps: tuple[RefreshStep, ...]

    @classmethod
    def parse(cls, spec: str) -> RefreshPolicy:
        """`"7:1,90:7"` → up to 7 days old every day, then up to 90 days old every 7 days."""
        steps = []
        for part in spec.split(","):
            age, _, every = part.strip().partition(":")
            if not age.isdigit() or not every.isdigit() or int(every) < 1:
                raise ValueError(f"refresh schedule step {part!r} is not '<max age days>:<every n days>'")
            steps.append(RefreshStep(timedelta(days=int(age)), timedelta(days=int(every))))
        if not steps or [s.up_to_age for s in steps] != sorted({s.up_to_age for s in steps}):
            raise ValueError(f"refresh schedule {spec!r} needs steps of strictly increasing age")
        return cls(tuple(steps))

    @property
    def horizon(self) -> timedelta:
        """Posts older than this are not fetched any more."""
        return self.steps[-1].up_to_age

    def is_due(self, shared_at: datetime, logical_date: date, last_fetched: date | None) -> bool:
        age = end_of(logical_date) - shared_at
        step = next((s for s in self.steps if age <= s.up_to_age), None)
        if step is None:
            return False
        if last_fetched is None or logical_date - last_fetched > step.every:
            return True
        age_in_days = (logical_date - shared_at.date()).days
        return age_in_days % step.every.days == 0

    def select(
        self,
        items: Iterable[T],
        shared_at: Callable[[T], datetime],
        key: Callable[[T], str],
        logical_date: date,
        last_fetched: Mapping[str, date],
        source: str,
    ) -> list[T]:
        """The items due tonight; logs how many calls' worth of posts the schedule skips."""
        items = list(items)
        due = [i for i in items if self.is_due(shared_at(i), logical_date, last_fetched.get(key(i)))]
        log.info("%s: refresh schedule: %d of %d posts due on %s", source, len(due), len(items), logical_date)
        return due


DEFAULT_SCHEDULE = "7:1,90:7"
DEFAULT = RefreshPolicy.parse(DEFAULT_SCHEDULE)
