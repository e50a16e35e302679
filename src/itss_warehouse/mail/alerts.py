"""The failure notification of every DAG: the data owner gets the failed task and its error.

Airflow calls ``notify_failure`` when a task has failed for good (after its retries). It
sends through the same SMTP settings as the reports, or writes into the outbox, and never
raises: a broken notification must not hide the failure it reports.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def notify_failure(context: dict[str, Any]) -> None:
    try:
        from itss_warehouse.mail.messages import alert_message
        from itss_warehouse.mail.recipients import load_recipients
        from itss_warehouse.mail.sending import deliver_alert, sender_for
        from itss_warehouse.mail.transport import smtp_config
        from itss_warehouse.reports.formatting import load_catalogue
        from itss_warehouse.settings import get_settings

        settings = get_settings()
        owner = load_recipients(settings.recipients_file).data_owner
        config = smtp_config(settings, in_airflow=True)
        task = context["ti"]
        values = {
            "dag_id": task.dag_id,
            "run_id": task.run_id,
            "task_id": task.task_id,
            "error": str(context.get("exception") or context.get("reason") or "unknown"),
            "log_url": getattr(task, "log_url", ""),
        }
        t = load_catalogue(settings.templates_path, owner.language)["mail"]
        subject, text = t["dag_failed_subject"].format(**values), t["dag_failed"].format(**values)
        message = alert_message(sender_for(settings, config, owner.language), owner, subject, text)
        deliver_alert(settings, config, message, owner, f"alert-failed-{task.dag_id}-{task.task_id}", [])
    except Exception:
        log.exception("the failure notification could not be sent")
