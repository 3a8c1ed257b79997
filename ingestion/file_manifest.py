"""raw._file_manifest: which version (name, sha256) of each drop file has landed, inside the load's transaction.

A file drop has no cursor an API would give: a file can arrive late (after later nights landed) or be replaced by
a corrected version. So a file-drop load lands every file that is new by name, or whose checksum differs from the
version landed before; and nothing is lost on a correction: the rows the previous version landed move, whole, to
raw._superseded_rows (its manifest row names the load that superseded it), then the corrected rows land as new.
The raw table keeps one row per key either way, so staging reads it unchanged.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from ingestion.records import DropFile, FileDropExtraction, Target


def drop_file(path: Path) -> DropFile:
    """The file's name, checksum and size, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return DropFile(path.name, path, digest.hexdigest(), size)


def choose_files(
    conn: psycopg.Connection, target: Target, load_id: uuid.UUID, extraction: FileDropExtraction
) -> list[DropFile]:
    """Ask the extraction which files to land given the current versions landed, and supersede the versions the
    chosen files replace (their rows leave the raw table for raw._superseded_rows)."""
    current = {
        name: (manifest_id, sha256, landed_by, request)
        for manifest_id, name, sha256, landed_by, request in conn.execute(
            "select manifest_id, file_name, sha256, load_id, request from raw._file_manifest"
            " where source = %s and entity = %s and superseded_at is null",
            (target.source, target.entity),
        )
    }
    chosen = extraction.choose({name: sha256 for name, (_, sha256, _, _) in current.items()})
    for file in chosen:
        if file.name in current:
            manifest_id, _, landed_by, request = current[file.name]
            _supersede(conn, target, load_id, manifest_id, landed_by, request)
    return chosen


def _supersede(
    conn: psycopg.Connection,
    target: Target,
    load_id: uuid.UUID,
    manifest_id: int,
    landed_by: uuid.UUID,
    request: str,
) -> None:
    """Move the rows version `manifest_id` landed (load `landed_by`, read from `request`) to raw._superseded_rows."""
    conn.execute(
        sql.SQL(
            "with moved as (delete from {table} where _load_id = %s and _request = %s returning *)"
            " insert into raw._superseded_rows (manifest_id, source, entity, row, superseded_at)"
            " select %s, %s, %s, to_jsonb(moved), clock_timestamp() from moved"
        ).format(table=sql.Identifier("raw", target.table)),
        (landed_by, request, manifest_id, target.source, target.entity),
    )
    conn.execute(
        "update raw._file_manifest set superseded_by_load = %s, superseded_at = clock_timestamp()"
        " where manifest_id = %s",
        (load_id, manifest_id),
    )


def record_files(
    conn: psycopg.Connection,
    target: Target,
    load_id: uuid.UUID,
    files: list[DropFile],
    extraction: FileDropExtraction,
) -> None:
    """Enter the landed files in the manifest as their current versions."""
    counts = extraction.rows_read()
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into raw._file_manifest (source, entity, file_name, sha256, size_bytes, rows_read,"
            " rows_quarantined, request, load_id, landed_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, clock_timestamp())",
            [
                (
                    target.source,
                    target.entity,
                    file.name,
                    file.sha256,
                    file.size_bytes,
                    *counts.get(file.name, (0, 0)),
                    str(file.path),
                    load_id,
                )
                for file in files
            ],
        )
