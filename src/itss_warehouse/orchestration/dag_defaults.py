"""What every DAG shares: its owner, retries of transient failures, the failure notification, its start."""

from datetime import timedelta

import pendulum

from itss_warehouse.mail.alerts import notify_failure

TIMEZONE = "Asia/Shanghai"
# Early enough for any history a company loads: Airflow runs no task for a date before a DAG's
# start, so `itss run --date` and back-fills work from here on. The same day as dbt's
# calendar_start (dbt_project.yml), before which no SLA duration can be measured.
START_DATE = pendulum.datetime(2000, 1, 1, tz=TIMEZONE)
DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "on_failure_callback": notify_failure,
}
