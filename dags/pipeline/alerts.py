"""Tell someone a night failed: the `on_failure_callback` of every sharewhy DAG (an Airflow notifier).

Off by default: it acts only when the Airflow connection `settings.ALERT_CONN_ID` (`sharewhy_alerts`) exists, e.g.
- a webhook: `AIRFLOW_CONN_SHAREWHY_ALERTS='https://hooks.example.com/services/T000/B000/XXXX'` — one JSON POST per
  failed DAG run, `{"text": …, "dag_id", "run_id", "logical_date", "task_id", "try_number", "reason", "log_url"}`
  (`text` is what Slack- and Teams-style incoming webhooks show);
- an SMTP server: `AIRFLOW_CONN_SHAREWHY_ALERTS='smtp://user:password@smtp.example.com:587?to=oncall@example.com&from_email=airflow@example.com'`
  — one mail, through the SMTP provider's own `SmtpNotifier` (its `disable_ssl` / `disable_tls` extras apply).

It runs once per failed DAG run, after the task's retries are spent or when `dagrun_timeout` ends the run — not
once per failed try. The webhook URL and the SMTP password are credentials: neither is ever logged.
"""

from __future__ import annotations

import html
import logging

from airflow.sdk import BaseNotifier

from sharewhy import settings

log = logging.getLogger(__name__)

#: Seconds to wait for the alert target; an alert must never hold the callback for long.
_TIMEOUT = 10


class NightFailedNotifier(BaseNotifier):
    """Send what failed (DAG, run, night, task, reason, log link) to the alert connection, when there is one."""

    template_fields = ()

    def render_template_fields(self, context, jinja_env=None) -> None:
        """Nothing to render (no templated fields); `dag.test()` passes a serialized DAG that has no template env."""

    def notify(self, context) -> None:
        from airflow.sdk import Connection
        from airflow.sdk.exceptions import AirflowNotFoundException

        try:
            connection = Connection.get(settings.ALERT_CONN_ID)
        except AirflowNotFoundException:  # not configured: alerts are off
            log.info("no %s connection: failure alert not sent", settings.ALERT_CONN_ID)
            return
        alert = describe(context)
        if connection.conn_type in ("http", "https"):
            _post(connection, alert)
        elif connection.conn_type in ("smtp", "email"):
            _mail(connection, alert)
        else:
            raise ValueError(
                f"connection {settings.ALERT_CONN_ID} has type {connection.conn_type!r}; alerts go to http(s) or smtp"
            )
        log.info(
            "failure alert for %s %s sent through connection %s",
            alert["dag_id"],
            alert["run_id"],
            settings.ALERT_CONN_ID,
        )


def describe(context) -> dict[str, str | int | None]:
    """The alert's fields from a DAG failure callback's context (which holds the last task instance, if any)."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = context["dag"].dag_id
    logical_date = context.get("logical_date")
    alert = {
        "dag_id": dag_id,
        "run_id": context.get("run_id"),
        "logical_date": logical_date.isoformat() if logical_date else None,
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "reason": context.get("reason"),
        "log_url": getattr(ti, "log_url", None),
    }
    failed = f", task {alert['task_id']} (try {alert['try_number']})" if alert["task_id"] else ""
    alert["text"] = (
        f"sharewhy: DAG {dag_id} failed for the night of {alert['logical_date'] or '?'}"
        f" — run {alert['run_id']}{failed}: {alert['reason']}."
    )
    return alert


def _post(connection, alert: dict) -> None:
    import requests

    port = f":{connection.port}" if connection.port else ""
    path = f"/{connection.schema.lstrip('/')}" if connection.schema else ""
    url = f"{connection.conn_type}://{connection.host}{port}{path}"
    response = requests.post(url, json=alert, timeout=_TIMEOUT)
    if response.status_code >= 300:  # the URL itself is a credential: name the connection, not the URL
        raise RuntimeError(
            f"the alert webhook of connection {settings.ALERT_CONN_ID} answered HTTP {response.status_code}"
        )


def _mail(connection, alert: dict) -> None:
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    extra = connection.extra_dejson
    missing = [key for key in ("to", "from_email") if not extra.get(key)]
    if missing:
        raise ValueError(f"connection {settings.ALERT_CONN_ID}: set {' and '.join(missing)} in its extra")
    SmtpNotifier(
        smtp_conn_id=settings.ALERT_CONN_ID,
        to=extra["to"],
        from_email=extra["from_email"],
        subject=f"[sharewhy] {alert['dag_id']} failed ({alert['logical_date'] or alert['run_id']})",
        html_content="<br>".join(
            f"<b>{key}</b>: {html.escape(str(value))}" for key, value in alert.items() if key != "text"
        ),
    ).notify({})
