"""Land SurveyMonkey motivation-survey responses: each survey's catalogue (`GET /v3/surveys/{id}/details`: pages,
questions, choices with their positions) into `raw.surveymonkey__survey_details`, once a night, then the responses
(`/responses/bulk`) into `raw.surveymonkey__responses`. Answers name only the question id and the choice id: the
catalogue says which scale point a choice is (its position), the seed `survey_instrument` which construct a question
measures; the employee id travels as the custom variable `employee_id`.

The `surveymonkey_api` connection holds the access token and, as base URL, the `access_url` SurveyMonkey answered
at the OAuth code exchange + `/v3` (`ingestion.sources.surveymonkey.exchange_code`), and the survey ids in
`extra.survey_ids`. Response windows overlap by an hour and are deduplicated on (survey, response, date_modified);
the catalogue lands once per survey and night (a rerun of the night adds nothing).
"""

from airflow.sdk import task

from pipeline.api_loads import land_survey_responses
from pipeline.assets import RAW_SURVEYMONKEY_RESPONSES, RAW_SURVEYMONKEY_SURVEY_DETAILS
from pipeline.defaults import nightly, nightly_dag
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(nightly("0 0 * * *"), tags=["ingestion", "surveymonkey", "survey"], doc_md=__doc__)
def ingest_surveymonkey():
    @task(outlets=[RAW_SURVEYMONKEY_SURVEY_DETAILS], pool=api_pool(settings.SURVEYMONKEY_CONN_ID))
    def land_survey_details() -> dict:
        from ingestion.run import land_surveymonkey_survey_details

        return land_survey_responses(land_surveymonkey_survey_details, settings.SURVEYMONKEY_CONN_ID)

    @task(outlets=[RAW_SURVEYMONKEY_RESPONSES], pool=api_pool(settings.SURVEYMONKEY_CONN_ID))
    def land_responses() -> dict:
        from ingestion.run import land_surveymonkey_responses

        return land_survey_responses(land_surveymonkey_responses, settings.SURVEYMONKEY_CONN_ID)

    land_survey_details() >> land_responses()


ingest_surveymonkey()
