"""Build the warehouse with dbt, audit the build with Great Expectations, and publish `bi` only when it passes.

Write–audit–publish: dbt builds staging, marts and the `bi` candidates (into the run's own release schema,
`bi_release_<run>`); the GX suites audit them; on a pass `bi` switches to exactly the audited relations in one
transaction (publish checks their fingerprint). On a failure the run fails naming the failing expectations, `bi`
keeps the last good data, and the results stay in `audit.validation_runs` and the Data Docs.

One transform run at a time, from dbt build to publish: a setup task takes the transform lease (a row in
`audit.transform_lease`; a run finding it held waits, then is refused naming the holder) and a teardown task gives it
back, even when a step failed (sharewhy.transform_lease). `max_active_runs=1` (pipeline.defaults) keeps this DAG's
own runs apart; the lease also keeps apart `dag.test()` runs, the benchmark, another Airflow on the same warehouse.

Runs when every raw table has landed since its last run (the ingestion DAGs' Asset events) — of the survey
responses, any one vendor's: Typeform, SurveyMonkey and Qualtrics are alternatives a tenant picks among, so a tenant
does not wait for vendors it does not use — or at 04:00 UTC at the latest. dbt and publish retry like every task (a lost connection); the audit never does: a failed audit must not be
retried into a pass. A backfill (`sharewhy airflow backfill`) pauses this DAG while the ingestion DAGs replay their
nights and runs it once at the end, so the build happens once, over every replayed night.
"""

from airflow.sdk import AssetAll, AssetAny, AssetOrTimeSchedule, CronTriggerTimetable, task

from pipeline.assets import BI, RAW_SURVEY_CATALOGUES, RAW_SURVEY_RESPONSES, RAW_TABLES
from pipeline.defaults import nightly_dag

#: What a night has landed: every raw table, and the survey responses of any one vendor (a vendor's survey
#: catalogue lands before its responses, in the same DAG run).
NIGHT_LANDED = AssetAll(
    AssetAny(*RAW_SURVEY_RESPONSES),
    *(table for table in RAW_TABLES if table not in RAW_SURVEY_RESPONSES + RAW_SURVEY_CATALOGUES),
)


@nightly_dag(
    AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("0 4 * * *", timezone="UTC"),
        assets=NIGHT_LANDED,
    ),
    tags=["dbt", "quality-gate", "publish"],
    doc_md=__doc__,
)
def transform_audit_publish():
    @task
    def take_transform_lease(run_id=None) -> None:
        from sharewhy import settings, transform_lease

        transform_lease.acquire(settings.warehouse_url(), run_id)

    @task
    def release_transform_lease(run_id=None) -> None:
        from sharewhy import settings, transform_lease

        transform_lease.release(settings.warehouse_url(), run_id)

    @task
    def dbt_build(run_id=None) -> str:
        from airflow.sdk import get_current_context

        from pipeline.runs import named_night
        from sharewhy import settings, transform

        # the night covered, when the run names it: months are complete or partial against it (marts.dim_month)
        night = named_night(get_current_context())
        return transform.build_release(settings.warehouse_url(), run_id, data_through=night)

    @task(retries=0)  # a failed audit must not be retried into a pass
    def audit(run_id=None) -> dict:
        from expectations.audit import run_audit
        from sharewhy import settings

        result = run_audit(settings.warehouse_url(), run_id)
        print(result.summary())
        result.raise_if_failed()  # `bi` keeps the last good data; the failing expectations are in the message
        return {"passed": result.passed, "failed": result.failed, "data_docs": str(result.data_docs_path)}

    @task(outlets=[BI])
    def publish(run_id=None) -> str:
        from expectations.publish import publish
        from sharewhy import settings

        return publish(settings.warehouse_url(), run_id)

    lease = take_transform_lease()
    with release_transform_lease().as_teardown(setups=lease):
        dbt_build() >> audit() >> publish()


transform_audit_publish()
