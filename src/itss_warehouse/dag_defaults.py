"""What every DAG shares: its owner, retries of transient failures, the failure notification, its start."""

from datetime import timedelta

import pendulum

from itss_warehouse.mail.alerts import notify_failure

TIMEZONE = "Asia/Shanghai"
START_DATE = pendulum.datetime(2024, 1, 1, tz=TIMEZONE)
DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "on_failure_callback": notify_failure,
}
