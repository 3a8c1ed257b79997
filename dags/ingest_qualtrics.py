"""Land Qualtrics motivation-survey responses into `raw.qualtrics__responses` (an alternative to Typeform for the
same instrument: answers by question id, the employee id as embedded data `employee_id`).

One asynchronous export per survey: started, polled until its status is `complete` (a failed export fails the task,
whatever its percentComplete says), then the ZIP downloaded. The `qualtrics_api` connection holds the API token,
the data center's base URL (`https://<datacenter>.qualtrics.com/API/v3`) and the survey ids in `extra.survey_ids`.
"""

from dataclasses import asdict

from airflow.sdk import dag, get_current_context, task
from pipeline.assets import RAW_QUALTRICS_RESPONSES
from pipeline.defaults import DEFAULT_ARGS, START_DATE, nightly
from pipeline.pools import api_pool

from sharewhy import settings


@dag(
    schedule=nightly("0 0 * * *"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingestion", "qualtrics", "survey"],
    doc_md=__doc__,
)
def ingest_qualtrics():
    @task(outlets=[RAW_QUALTRICS_RESPONSES], pool=api_pool(settings.QUALTRICS_CONN_ID))
    def land_responses() -> dict:
        from ingestion.run import land_qualtrics_responses
        from pipeline.connections import api_config, survey_ids
        from pipeline.runs import night_of

        report = land_qualtrics_responses(
            settings.warehouse_url(),
            night_of(get_current_context()),
            api_config(settings.QUALTRICS_CONN_ID),
            survey_ids(settings.QUALTRICS_CONN_ID),
        )
        return asdict(report)

    land_responses()


ingest_qualtrics()
