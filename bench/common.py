"""What every benchmark shares: the server and its throwaway databases, psql, timing, alternating repetitions, the
figures table.

Every figure the benchmarks print is a same-run ratio or a median with its min–max over alternating repetitions:
the machine is small (2 cores) and shared, so absolute times are noisy, while two methods measured back to back in
the same round see the same noise.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import psycopg.conninfo

from sharewhy import settings

REPO_ROOT = settings.REPO_ROOT
BENCH_HOME = settings.STATE_DIR / "bench"
#: The pgserver wheel's own psql, so the baseline works on a fresh machine with no PostgreSQL client installed.
PSQL = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info.major}.{sys.version_info.minor}"
    / "site-packages"
    / ("pgserver/pginstall/bin/psql")
)
#: The bench-only venv (dlt, py-spy), created by `make bench` from bench/requirements.lock.
BENCH_VENV = REPO_ROOT / ".venv-bench"


def server_url() -> str:
    """The server the benchmarks use: SHAREWHY_WAREHOUSE_URL, else the embedded warehouse (started if needed)."""
    url = settings.external_warehouse_url()
    if url:
        return url
    from sharewhy_dev import warehouse

    return warehouse.start()


@contextmanager
def scratch_database(label: str, template: str | None = None) -> Iterator[str]:
    """A new database on the server — empty, or a copy of the database `template` (a conninfo) — dropped afterwards
    whatever happens; yields its conninfo."""
    admin = server_url()
    name = f"sharewhy_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        if template is None:
            conn.execute(f'create database "{name}"')
        else:
            source = psycopg.conninfo.conninfo_to_dict(template)["dbname"]
            # a copy needs the template idle: end what is left connected to it (pooled GX connections, …)
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s and pid <> pg_backend_pid()",
                (source,),
            )
            conn.execute(f'create database "{name}" template "{source}"')
    try:
        yield settings.with_database(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')


def psql(url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """Run the bundled psql against `url` (conninfo), failing on the first error."""
    env = {**os.environ, **settings.libpq_env(url)}
    command = [str(PSQL), "-X", "-q", "-v", "ON_ERROR_STOP=1", *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True, input=stdin)


def clock() -> float:
    return time.perf_counter()


@dataclass
class Samples:
    """Repeated measurements of one quantity."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def spread(self, digits: int = 2, unit: str = "") -> str:
        """`median (min–max)`."""
        if not self.values:
            return "n/a"
        fmt = f"{{:.{digits}f}}{unit}"
        if len(self.values) == 1:
            return fmt.format(self.values[0])
        return f"{fmt.format(self.median)} ({fmt.format(min(self.values))}–{fmt.format(max(self.values))})"


def alternate(reps: int, variants: Sequence[str], run: Callable[[str, int], float]) -> dict[str, Samples]:
    """Run each variant once per round, `reps` rounds, in an order that alternates between rounds (ABC, CBA, …), so
    no variant always goes first or last; returns each variant's samples."""
    samples = {variant: Samples() for variant in variants}
    for rep in range(reps):
        order = list(variants) if rep % 2 == 0 else list(reversed(variants))
        for variant in order:
            samples[variant].add(run(variant, rep))
    return samples


def ratios(numerator: Samples, denominator: Samples) -> Samples:
    """Per-round ratios (the same round's two measurements): what the figures compare."""
    return Samples([a / b for a, b in zip(numerator.values, denominator.values, strict=True)])


@dataclass
class Figure:
    section: str
    what: str
    value: str
    target: str = ""
    verdict: str = ""  # "met", "MISSED", or "" when there is no target


@dataclass
class Report:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, section: str, what: str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("met" if met else "MISSED")
        self.figures.append(Figure(section, what, value, target, verdict))
        print(f"  [{section}] {what}: {value}" + (f"  (target {target}: {verdict})" if target else ""), flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def markdown(self, title: str) -> str:
        lines = [
            title,
            "",
            machine_line(),
            "",
            "| section | figure | median (min–max) | target | |",
            "|---|---|---|---|---|",
        ]
        for f in self.figures:
            lines.append(f"| {f.section} | {f.what} | {f.value} | {f.target} | {f.verdict} |")
        if self.notes:
            lines.append("")
            lines += [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"


def machine_line() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        meminfo = Path("/proc/meminfo").read_text().splitlines()
        kib = int(next(line for line in meminfo if line.startswith("MemTotal")).split()[1])
        ram = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        ram = "RAM unknown"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with psycopg.connect(server_url()) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    return (
        f"Machine: {os.cpu_count()} cores (nproc), {cpu}, {ram}; PostgreSQL {version}; Python "
        f"{platform.python_version()}; load average at the end {load}."
    )


class RoundCopies:
    """A bench warehouse whose rounds run on copies (`CREATE DATABASE … TEMPLATE`) of its database."""

    url: str

    @contextmanager
    def using(self, url: str) -> Iterator[None]:
        """Run on another database (a copy of this one) for a while."""
        own, self.url = self.url, url
        try:
            yield
        finally:
            self.url = own
