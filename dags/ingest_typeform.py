"""Land Typeform motivation-survey responses into `raw.typeform__responses`: nightly, and on every survey submission.

Two ways in, one DAG (so `max_active_runs=1` and the `typeform_api` pool serialise them):
- nightly at 00:00 UTC for the night of the data interval; backfills work the same way, night by night;
- event-driven: `sharewhy webhooks serve` turns each accepted Typeform webhook into an event of the
  `typeform.submissions` Asset, and the run lands up to the end of the latest submission's day without waiting for
  the night. It then checks that every submitted response landed; Typeform's Responses API can lag ~30 minutes
  behind a submission, so a miss fails the try and the retries (10 minutes apart, growing) pick it up later.

The forms (one per survey wave) are listed in the `typeform_api` connection's `extra.form_ids`. Windows overlap by
an hour; the overlap (and any redelivered webhook) is deduplicated on the response token. Events carry only ids and
times, never answers: individual survey answers do not enter Airflow's metadata.
"""

from dataclasses import asdict
from datetime import timedelta

from airflow.sdk import AssetOrTimeSchedule, get_current_context, task

from pipeline.assets import RAW_TYPEFORM_RESPONSES, TYPEFORM_SUBMISSIONS
from pipeline.defaults import nightly, nightly_dag
from pipeline.pools import api_pool
from sharewhy import settings


@nightly_dag(
    AssetOrTimeSchedule(timetable=nightly("0 0 * * *"), assets=TYPEFORM_SUBMISSIONS),
    tags=["ingestion", "typeform", "survey", "event-driven"],
    doc_md=__doc__,
)
def ingest_typeform():
    @task(
        outlets=[RAW_TYPEFORM_RESPONSES],
        pool=api_pool(settings.TYPEFORM_CONN_ID),
        retry_delay=timedelta(minutes=10),  # with exponential backoff: outlasts Typeform's ~30 min response lag
    )
    def land_responses() -> dict:
        from ingestion.run import land_typeform_responses
        from pipeline.connections import api_config, typeform_form_ids
        from pipeline.landings import missing_typeform_responses
        from pipeline.runs import night_of, submission_night, triggering_extras

        context = get_current_context()
        submissions = triggering_extras(context, TYPEFORM_SUBMISSIONS)
        night = submission_night(submissions, default=night_of(context))
        url = settings.warehouse_url()
        report = land_typeform_responses(
            url,
            night,
            api_config(settings.TYPEFORM_CONN_ID),
            typeform_form_ids(settings.TYPEFORM_CONN_ID),
        )
        submitted = [(s["form_id"], s["response"]) for s in submissions if s.get("form_id") and s.get("response")]
        missing = missing_typeform_responses(url, submitted)
        if missing:
            raise RuntimeError(
                f"{len(missing)} submitted response(s) not returned by the Responses API yet (it lags up to ~30 min"
                f" behind a submission); a retry will look again: {missing}"
            )
        return {**asdict(report), "night": night.isoformat(), "submissions": len(submitted)}

    land_responses()


ingest_typeform()
