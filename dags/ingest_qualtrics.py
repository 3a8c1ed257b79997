"""Land Qualtrics motivation-survey responses into `raw.qualtrics__responses` (an alternative to Typeform for the
same instrument: answers by question id, whose meaning the seed `survey_instrument` gives per survey; the respondent
in the field each survey is configured to use, seed `survey_respondent_links`).

One asynchronous export per survey: started, polled until its status is `complete` (a failed export fails the task,
whatever its percentComplete says), then the ZIP downloaded. The `qualtrics_api` connection holds the API token,
the data center's base URL (`https://<datacenter>.qualtrics.com/API/v3`) and the survey ids in `extra.survey_ids`.
"""

from airflow.sdk import task

from pipeline.api_loads import land_survey_responses
from pipeline.assets import RAW_QUALTRICS_RESPONSES
from pipeline.defaults import nightly, nightly_dag
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("0 0 * * *"), tags=["ingestion", "qualtrics", "survey"], doc_md=__doc__)
def ingest_qualtrics():
    @task(outlets=[RAW_QUALTRICS_RESPONSES], pool=api_pool(settings.QUALTRICS_CONN_ID))
    def land_responses() -> dict:
        from ingestion.run import land_qualtrics_responses

        return land_survey_responses(land_qualtrics_responses, settings.QUALTRICS_CONN_ID)

    land_responses()


ingest_qualtrics()
