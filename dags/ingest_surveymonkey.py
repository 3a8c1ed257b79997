"""Land SurveyMonkey motivation-survey responses into `raw.surveymonkey__responses` (an alternative to Typeform for
the same instrument: answers keyed by each question's variable id = the instrument's ref, the employee id in the
custom variable `employee_id`).

The `surveymonkey_api` connection holds the access token and, as base URL, the `access_url` SurveyMonkey answered
at the OAuth code exchange + `/v3` (`ingestion.sources.surveymonkey.exchange_code`), and the survey ids in
`extra.survey_ids`. Windows overlap by an hour and are deduplicated on (survey, response, date_modified).
"""

from dataclasses import asdict

from airflow.sdk import dag, get_current_context, task
from pipeline.assets import RAW_SURVEYMONKEY_RESPONSES
from pipeline.defaults import DEFAULT_ARGS, START_DATE, nightly
from pipeline.pools import api_pool

from sharewhy import settings


@dag(
    schedule=nightly("0 0 * * *"),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["ingestion", "surveymonkey", "survey"],
    doc_md=__doc__,
)
def ingest_surveymonkey():
    @task(outlets=[RAW_SURVEYMONKEY_RESPONSES], pool=api_pool(settings.SURVEYMONKEY_CONN_ID))
    def land_responses() -> dict:
        from ingestion.run import land_surveymonkey_responses
        from pipeline.connections import api_config, survey_ids
        from pipeline.runs import night_of

        report = land_surveymonkey_responses(
            settings.warehouse_url(),
            night_of(get_current_context()),
            api_config(settings.SURVEYMONKEY_CONN_ID),
            survey_ids(settings.SURVEYMONKEY_CONN_ID),
        )
        return asdict(report)

    land_responses()


ingest_surveymonkey()
