"""Names derived from a run id (an Airflow run id such as `scheduled__2026-11-26T02:00:00+00:00`, or anything else),
and where an audited `bi` candidate is read."""

from __future__ import annotations

import hashlib
import re

from sharewhy import settings

#: Prefix of the schemas `publish` keeps released builds in.
RELEASE_PREFIX = "bi_release_"

_POSTGRES_MAX_IDENTIFIER = 63


def docs_dirname(run_id: str) -> str:
    """A folder name for the run's Data Docs: the run id with anything but `[A-Za-z0-9._-]` replaced by `_`."""
    if not run_id:
        raise ValueError("run_id must not be empty")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", run_id)
    return name if name.strip(".") else name.replace(".", "_")


def release_schema(run_id: str) -> str:
    """`bi_release_<run id>` as a plain lower-case PostgreSQL identifier (no quoting needed, ≤ 63 bytes).

    A run id too long for the limit keeps its head plus a hash of the whole, so distinct run ids stay distinct.
    """
    if not run_id:
        raise ValueError("run_id must not be empty")
    name = RELEASE_PREFIX + re.sub(r"[^a-z0-9_]", "_", run_id.lower())
    if len(name) > _POSTGRES_MAX_IDENTIFIER:
        digest = hashlib.sha256(run_id.encode()).hexdigest()[:10]
        name = f"{name[: _POSTGRES_MAX_IDENTIFIER - len(digest) - 1]}_{digest}"
    return name


_CANDIDATE_PREFIX = f"{settings.BI_BUILD_SCHEMA}."


def is_candidate(relation: str) -> bool:
    """Whether an audited relation is a `bi` candidate (`bi_build.<table>`)."""
    return relation.startswith(_CANDIDATE_PREFIX)


def candidate_relation(relation: str, candidates: str) -> str:
    """Where an audited relation is read: a candidate `bi_build.<table>` in schema `candidates`, others as named."""
    return f"{candidates}.{relation.removeprefix(_CANDIDATE_PREFIX)}" if is_candidate(relation) else relation
