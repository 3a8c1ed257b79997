"""Land SurveyMonkey motivation-survey responses into `raw.surveymonkey__responses` (an alternative to Typeform for
the same instrument: answers keyed by each question's variable id = the instrument's ref, the employee id in the
custom variable `employee_id`).

The `surveymonkey_api` connection holds the access token and, as base URL, the `access_url` SurveyMonkey answered
at the OAuth code exchange + `/v3` (`ingestion.sources.surveymonkey.exchange_code`), and the survey ids in
`extra.survey_ids`. Windows overlap by an hour and are deduplicated on (survey, response, date_modified).
"""

from airflow.sdk import task
from pipeline.api_loads import land_survey_responses
from pipeline.assets import RAW_SURVEYMONKEY_RESPONSES
from pipeline.defaults import nightly, nightly_dag
from pipeline.pools import api_pool

from sharewhy import settings


@nightly_dag(nightly("0 0 * * *"), tags=["ingestion", "surveymonkey", "survey"], doc_md=__doc__)
def ingest_surveymonkey():
    @task(outlets=[RAW_SURVEYMONKEY_RESPONSES], pool=api_pool(settings.SURVEYMONKEY_CONN_ID))
    def land_responses() -> dict:
        from ingestion.run import land_surveymonkey_responses

        return land_survey_responses(land_surveymonkey_responses, settings.SURVEYMONKEY_CONN_ID)

    land_responses()


ingest_surveymonkey()
