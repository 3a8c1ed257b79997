"""The advocacy platform's shares export: `<drop_dir>/advocacy/shares_<YYYY-MM-DD>.csv`, one file per UTC day.

Each row is checked against a declared schema and landed as an object of typed values; a row that does not fit
goes to quarantine with the reason and its raw line. A file whose header lacks a declared column is refused whole.

A night lands every shares file dated up to it that is new by name or changed by checksum since it landed
(raw._file_manifest; see ingestion/file_manifest.py): a late file lands on the next run or a rerun of any night
after its date, a corrected file replaces the rows its previous version landed. A night whose own file is missing
fails loudly, as the HR roster does (the export is late: the task's retries wait for it, and the sources that
measure the shares keep waiting), and a night in the future is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ingestion.file_manifest import drop_file
from ingestion.records import DropFile, Quarantined, Row, Target
from ingestion.sources.csv_export import (
    Column,
    Schema,
    boolean,
    non_negative_int,
    one_of,
    read_records,
    text,
    timestamp,
)

TARGET = Target("advocacy", "shares", "advocacy__shares", ("share_id",))

FOLDER = "advocacy"
FILE_NAME = re.compile(r"shares_(\d{4}-\d{2}-\d{2})\.csv")


class SharesFileError(ValueError):
    """A shares file that cannot be read as the declared export at all."""


#: The export's columns, in file order: how each value is parsed, and whether it may be empty (→ null).
SCHEMA: Schema = {
    "share_id": Column(text),
    "employee_id": Column(text),
    "content_id": Column(text),
    "network": Column(text),
    "post_id": Column(text),
    "shared_at": Column(timestamp),
    "tracking_link": Column(text),
    "share_mode": Column(one_of("manual", "scheduled")),
    "copy_edited": Column(boolean),
    "campaign": Column(text, required=False),
    "audience_size": Column(non_negative_int),
    # added by a later version of the export: older files lack them and still land (the views say `unknown`)
    "content_title": Column(text, required=False, may_be_absent=True),
    "content_type": Column(text, required=False, may_be_absent=True),
}


def read_shares_file(path: Path) -> Iterator[Row | Quarantined]:
    extracted_at = datetime.now(UTC)
    for record in read_records(path, SCHEMA, SharesFileError):
        if isinstance(record, Quarantined):
            yield record
        else:
            yield Row((record["share_id"],), record, str(path), extracted_at)


class FutureNight(ValueError):
    """A night that has not happened yet: its export cannot exist."""


def shares_file_name(day: date) -> str:
    return f"shares_{day.isoformat()}.csv"


def drop_files(folder: Path, until: date) -> list[tuple[date, Path]]:
    """The shares files dated up to `until` inclusive, oldest first."""
    if not folder.is_dir():
        raise FileNotFoundError(f"the advocacy file drop folder {folder} does not exist")
    files = []
    for path in folder.iterdir():
        match = FILE_NAME.fullmatch(path.name)
        if match:
            day = date.fromisoformat(match.group(1))
            if day <= until:
                files.append((day, path))
    return sorted(files)


class SharesExtraction:
    """Every shares file up to the logical date that is new or changed (a FileDropExtraction: the loader keeps the
    versions landed in raw._file_manifest). No state: what has landed is the manifest."""

    api_calls = 0

    def __init__(self, drop_dir: Path, logical_date: date) -> None:
        today = datetime.now(UTC).date()
        if logical_date > today:
            raise FutureNight(
                f"the night {logical_date.isoformat()} is in the future (today is {today.isoformat()}, UTC):"
                " refusing to land it"
            )
        self._folder = Path(drop_dir) / FOLDER
        self._logical_date = logical_date
        self._files: list[DropFile] = []
        self._rows_read: dict[str, tuple[int, int]] = {}

    def choose(self, landed: Mapping[str, str]) -> list[DropFile]:
        present = drop_files(self._folder, self._logical_date)
        night_file = shares_file_name(self._logical_date)
        if night_file not in landed and not any(path.name == night_file for _, path in present):
            raise FileNotFoundError(
                f"no advocacy shares export for {self._logical_date.isoformat()}: {self._folder / night_file}"
                " does not exist"
            )
        versions = [drop_file(path) for _, path in present]
        self._files = [file for file in versions if landed.get(file.name) != file.sha256]
        return self._files

    def records(self) -> Iterator[Row | Quarantined]:
        for file in self._files:
            rows = quarantined = 0
            for record in read_shares_file(file.path):
                if isinstance(record, Quarantined):
                    quarantined += 1
                else:
                    rows += 1
                yield record
            if drop_file(file.path).sha256 != file.sha256:
                raise SharesFileError(
                    f"{file.path} changed while it was being read (still being written?): nothing of it landed,"
                    " the next run lands the version then in place"
                )
            self._rows_read[file.name] = (rows, quarantined)

    def rows_read(self) -> Mapping[str, tuple[int, int]]:
        return self._rows_read

    def state(self) -> dict[str, Any]:
        return {}
