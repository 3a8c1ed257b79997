"""Land the advocacy platform's shares export (a nightly file drop) into `raw.advocacy__shares`.

Every share made that night arrives as `shares_<date>.csv` in the drop folder (`SHAREWHY_DROP_DIR`); the night is
the run's data interval (logical date = the night). A run lands every export up to its night that is new or changed
since it landed (`raw._file_manifest`): a late file, or a corrected one (which replaces its previous version's rows).
A night without its own export fails, so the sources measuring its shares keep waiting; a night in the future is
refused. A rerun or backfill of a night lands nothing twice: the rows are keyed on `share_id`. A file drop has no
rate limit, so no pool.
"""

from dataclasses import asdict

from airflow.sdk import get_current_context, task

from pipeline.assets import RAW_ADVOCACY_SHARES
from pipeline.defaults import nightly, nightly_dag


@nightly_dag(nightly("0 0 * * *"), tags=["ingestion", "advocacy"], doc_md=__doc__)
def ingest_advocacy():
    @task(outlets=[RAW_ADVOCACY_SHARES])
    def land_shares() -> dict:
        from ingestion.run import land_advocacy_shares
        from pipeline.runs import night_of
        from sharewhy import settings

        report = land_advocacy_shares(settings.warehouse_url(), night_of(get_current_context()), settings.drop_dir())
        return asdict(report)

    land_shares()


ingest_advocacy()
