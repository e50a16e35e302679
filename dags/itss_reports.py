"""
### itss_monthly_reports, itss_half_year_reports, itss_yearly_reports

The periodic reports, rendered from the marts into the output archive in HTML, PDF and
XLSX (SPEC §5), each DAG for the period that closed just before its run:

- `itss_monthly_reports` (1st of the month, 06:00 Asia/Shanghai): the service report of
  every project (quarterly projects once their quarter closes) and the process
  monitoring report;
- `itss_half_year_reports` (1 January and 1 July, 07:00): the quality report of each
  department;
- `itss_yearly_reports` (1 January, 08:00): the annual quality report and the
  satisfaction survey summary.

Each DAG first asks the reports' gate (`pipeline.reports_ready`): ready once the nightly
run after the period closed has rebuilt and validated the marts (`raw.validation_runs`);
not yet, then it checks again every ten minutes for up to six hours (not sleeping a fixed
delay); blocked when a validation since then failed critically: the run fails at once with
the failed checks and how to unblock them, which the data owner receives as the failure
alert, and the run is recorded for the nightly run that validates again to re-trigger.
Re-running a past date renders the same files again.

Then each report is e-mailed to its recipients (`ITSS_RECIPIENTS_FILE`) through the
Airflow connection `itss_smtp`, exactly once per recipient and content (`raw.mail_log`).
A report whose recipients ask for approval (`approval: true`) is not sent until approved
(`itss report approve`): the send task ends without waiting, its log lists the reports
awaiting approval, and the data owner is reminded; once approved, `itss mail` (or this run's send
task cleared) sends it.
Every task that fails for good notifies the data owner.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from itss_warehouse.orchestration.dag_defaults import DEFAULT_ARGS, START_DATE, TIMEZONE
from itss_warehouse.orchestration.steps import run_step

SCHEDULES = {
    "itss_monthly_reports": ("0 6 1 * *", "month", ["service_report", "process_report"]),
    "itss_half_year_reports": ("0 7 1 1,7 *", "half_year", ["quality_report"]),
    "itss_yearly_reports": ("0 8 1 1 *", "year", ["annual_report", "satisfaction_report"]),
}


def reports_dag(dag_id: str, cron: str, period_type: str, kinds: list[str]):
    @dag(
        dag_id=dag_id,
        schedule=CronTriggerTimetable(cron, timezone=TIMEZONE),
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["itss", "reports"],
        doc_md=__doc__,
    )
    def reports():
        # Reschedule mode frees the worker slot between checks. The nightly run (01:00) has
        # validated the marts by this run's time (06:00 at the earliest) on a normal night;
        # six more hours cover a slow or re-run night, then the data owner hears of it.
        # Blocked fails at once (AirflowFailException from run_step: no retry, no waiting).
        @task.sensor(poke_interval=600, timeout=6 * 3600, mode="reschedule")
        def wait_for_validated_marts(ds=None, run_id=None) -> bool:
            return run_step("reports_ready", dag_id, run_id, period_type, pendulum.parse(ds).date())

        @task
        def render(kind: str, ds=None) -> list[str]:
            return run_step("render_reports", kind, pendulum.parse(ds).date())

        @task
        def send(kind: str, ds=None) -> dict:
            return run_step("send_reports", kind, pendulum.parse(ds).date())

        ready = wait_for_validated_marts()
        for kind in kinds:
            rendered = render.override(task_id=f"render_{kind}", outlets=[Asset(f"itss://reports/{kind}")])(kind)
            ready >> rendered >> send.override(task_id=f"send_{kind}")(kind)

    return reports()


for _dag_id, (_cron, _period_type, _kinds) in SCHEDULES.items():
    reports_dag(_dag_id, _cron, _period_type, _kinds)
