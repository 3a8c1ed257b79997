"""Land the HR roster export (a nightly file drop) into `raw.hr__roster`.

HR exports the full roster every night as `hr/roster_<date>.csv` in the drop folder (`SHAREWHY_DROP_DIR`); the
night of a logical date lands that date's file. The nightly rosters are the history the warehouse derives team
membership over time from (slowly changing), so a missing file fails the task rather than skipping the night.
A rerun of a night lands nothing twice: rows are keyed on employee × logical date.
"""

from dataclasses import asdict

from airflow.sdk import task

from pipeline.assets import RAW_HR_ROSTER
from pipeline.defaults import nightly, nightly_dag


@nightly_dag(nightly("0 0 * * *"), tags=["ingestion", "hr"], doc_md=__doc__)
def ingest_hr():
    @task(outlets=[RAW_HR_ROSTER])
    def land_roster(logical_date=None) -> dict:
        from ingestion.run import land_hr_roster
        from sharewhy import settings

        report = land_hr_roster(settings.warehouse_url(), logical_date.date(), settings.drop_dir())
        return asdict(report)

    land_roster()


ingest_hr()
