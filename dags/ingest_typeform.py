"""Land Typeform motivation-survey responses into `raw.typeform__responses`.

The forms (one per survey wave) are listed in the `typeform_api` connection's `extra.form_ids`. Windows overlap by
an hour, because Typeform returns responses up to ~30 minutes late; the overlap is deduplicated on the response token.
"""

from dataclasses import asdict

from airflow.sdk import dag, task
from pipeline.assets import RAW_TYPEFORM_RESPONSES
from pipeline.defaults import DEFAULT_ARGS, START_DATE, nightly


@dag(
    schedule=nightly("0 0 * * *"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingestion", "typeform", "survey"],
    doc_md=__doc__,
)
def ingest_typeform():
    @task(outlets=[RAW_TYPEFORM_RESPONSES])
    def land_responses(logical_date=None) -> dict:
        from ingestion.run import land_typeform_responses
        from pipeline.connections import api_config, typeform_form_ids
        from sharewhy import settings

        report = land_typeform_responses(
            settings.warehouse_url(),
            logical_date.date(),
            api_config(settings.TYPEFORM_CONN_ID),
            typeform_form_ids(settings.TYPEFORM_CONN_ID),
        )
        return asdict(report)

    land_responses()


ingest_typeform()
