"""Load the same records with dlt (`dlt[postgres]`) — run by `.venv-bench/bin/python`, never by the project's venv.

`python bench/dlt_load.py <conninfo-as-json> <records.jsonl> <dataset> <file-format> <items>`: reads the records into memory first (not
timed, as the project's loader is handed its rows), then times `pipeline.run(...)` — dlt's extract, normalize and
load, commit included — and prints one JSON line `{"seconds": …, "rows": …}`.

The table mirrors raw.advocacy__shares: the same columns, `payload` as a json column (jsonb, not flattened).
`append` is dlt's cheapest write disposition (`merge`, which would dedupe like the project's loader, only adds
work). Two loader file formats are measured: `insert_values`, dlt's default for postgres (what a team gets without
tuning: multi-row INSERT statements), and `csv`, its COPY-based one (normalize writes CSV files, the load job streams
them into the table with COPY). `items` is `dicts` (Python dicts, which dlt normalizes row by row) or `arrow` (one
pyarrow table, built before the clock starts, `payload` as JSON text: dlt's documented fast path, whose normalize
step writes the table out as it is). dlt with an arrow table and `csv` is its fastest postgres configuration.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="dlt-bench-") as data_dir:  # dlt's working files, removed afterwards
        return load(data_dir)


def load(data_dir: str) -> int:
    conninfo, records_path, dataset, file_format, items = json.loads(sys.argv[1]), *sys.argv[2:6]
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    os.environ["DLT_DATA_DIR"] = data_dir
    os.environ["DLT_PROJECT_DIR"] = data_dir
    import dlt
    from dlt.destinations import postgres

    with open(records_path, "rb") as handle:
        records = [json.loads(line) for line in handle]
    # A URL: a unix-socket host (the embedded warehouse) goes in the query, where psycopg2 takes it as is.
    from urllib.parse import quote

    user = quote(conninfo.get("user", "postgres"), safe="")
    password = quote(conninfo.get("password") or "unused-with-trust-auth", safe="")
    host, port = conninfo.get("host", "localhost"), conninfo.get("port", "5432")
    if host.startswith("/"):
        credentials = f"postgresql://{user}:{password}@localhost:{port}/{conninfo['dbname']}?host={quote(host)}"
    else:
        credentials = f"postgresql://{user}:{password}@{host}:{port}/{conninfo['dbname']}"
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{dataset}",
        destination=postgres(credentials=credentials),
        dataset_name=dataset,
        pipelines_dir=os.environ["DLT_DATA_DIR"],
    )
    if items == "arrow":
        import pyarrow

        records = pyarrow.Table.from_pylist([{**r, "payload": json.dumps(r["payload"])} for r in records])
    resource = dlt.resource(
        records,
        name="advocacy__shares",
        write_disposition="append",
        columns={
            "share_id": {"data_type": "text", "nullable": False},
            "payload": {"data_type": "json", "nullable": False},
            "_load_id": {"data_type": "text"},
            "_extracted_at": {"data_type": "timestamp"},
            "_logical_date": {"data_type": "date"},
            "_request": {"data_type": "text"},
        },
    )
    started = time.perf_counter()
    info = pipeline.run(resource, loader_file_format=file_format)
    seconds = time.perf_counter() - started
    info.raise_on_failed_jobs()
    print(json.dumps({"seconds": seconds, "rows": len(records)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
