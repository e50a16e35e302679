"""The steps of the nightly pipeline, as plain functions the DAG's tasks call.

Each step reads the settings when it runs (never at DAG parse time) and returns
something small and serialisable for the next task.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from itss_warehouse.ingest import landing, sources
from itss_warehouse.settings import get_settings
from itss_warehouse.warehouse.connection import ensure_schemas, warehouse_url

if TYPE_CHECKING:
    from itss_warehouse.reports.data_quality import Gate

log = logging.getLogger(__name__)


def extract_sources() -> list[str]:
    """Land the changes of database and API sources as files; return their names."""
    from itss_warehouse.ingest import extract

    settings = get_settings()
    url = warehouse_url(settings)
    ensure_schemas(url)
    definitions = sources.load_sources(settings.sources_file)
    return [path.name for path in extract.extract_all(definitions, settings.landing_path, url)]


def load_raw() -> list[int]:
    """Land new landing files in the warehouse as they are; return the new batch ids."""
    settings = get_settings()
    url = warehouse_url(settings)
    ensure_schemas(url)
    batches = landing.load_landing(url, settings.landing_path, sources.load_sources(settings.sources_file))
    return [batch.batch_id for batch in batches]


def map_raw() -> list[int]:
    """Map every landed batch not yet mapped to canonical fields; return their batch ids."""
    from itss_warehouse.ingest import map_batches

    settings = get_settings()
    batches = map_batches.map_landed(warehouse_url(settings), sources.load_sources(settings.sources_file))
    return [batch.batch_id for batch in batches]


def validate_raw(batch_ids: list[int]) -> dict:
    """Validate the new batches (and any an earlier night left unvalidated); quarantine bad rows,
    stop on critical failures; then plan the build (full when withdrawals or restorations wait)."""
    from itss_warehouse.transform.build_plan import plan_build
    from itss_warehouse.validate import runner

    settings = get_settings()
    url = warehouse_url(settings)
    unvalidated = runner.batches_to_validate(url, failed=False)
    summary = runner.validate_raw_batches(url, sorted(set(batch_ids) | set(unvalidated)), settings)
    return {"validation": summary, "build": plan_build(url).as_dict()}


def validate_marts(build: dict) -> dict[str, int]:
    """Record what the build took in, then validate the marts it built."""
    from itss_warehouse.transform.build_plan import BuildPlan, record_build
    from itss_warehouse.validate import runner

    settings = get_settings()
    url = warehouse_url(settings)
    record_build(url, BuildPlan(**build))
    return runner.validate_marts(url, settings)


def report_gate(period_type: str, day: dt.date) -> Gate:
    """The reports' gate for the last ``period_type`` closed on ``day``: ready, waiting or blocked, and why."""
    from itss_warehouse.reports.data_quality import report_gate as gate
    from itss_warehouse.reports.formatting import Period

    return gate(warehouse_url(get_settings()), Period.last_closed(period_type, day).end)


def reports_ready(dag_id: str, run_id: str, period_type: str, day: dt.date) -> bool:
    """The report DAGs' sensor: True when ready, False while waiting for the nightly run after the
    period closed; blocked raises ReportBlocked, once the run is recorded for the nightly to re-trigger."""
    from itss_warehouse.orchestration import blocked_reports
    from itss_warehouse.reports.data_quality import ReportBlocked
    from itss_warehouse.reports.formatting import Period

    gate = report_gate(period_type, day)
    url = warehouse_url(get_settings())
    period = Period.last_closed(period_type, day).slug
    if gate.state == "blocked":
        blocked_reports.record(url, dag_id, period, run_id, period_type, day, gate.reason)
        raise ReportBlocked(gate.reason)
    if gate.state == "ready":
        blocked_reports.clear(url, dag_id, period)
    log.info("%s", gate.reason)
    return gate.state == "ready"


def blocked_reports_to_retrigger() -> list[dict[str, str]]:
    """The report runs the gate blocked whose gate is open now, as ``TriggerDagRunOperator`` arguments."""
    from itss_warehouse.orchestration import blocked_reports

    runs = blocked_reports.recorded(warehouse_url(get_settings()))
    return [{"trigger_dag_id": dag_id, "trigger_run_id": run_id}
            for dag_id, run_id, period_type, day in runs if report_gate(period_type, day).state == "ready"]  # fmt: skip


def send_reports(kind_name: str, day: dt.date) -> dict:
    """E-mail the reports of ``kind_name`` for its last period closed on ``day`` (exactly once; see mail.sending)."""
    import dataclasses
    import os

    from itss_warehouse.mail.sending import send_reports as send
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import KINDS

    settings = get_settings()
    period = Period.last_closed(KINDS[kind_name].period_type, day)
    summary = send(settings, warehouse_url(settings), kind_name, period, in_airflow=True, workers=os.cpu_count() or 1)
    log.info("%s %s: %s", kind_name, period.slug, summary)
    if summary.awaiting_approval:  # not sent, and not waited for: `itss mail` sends them once approved
        waiting = summary.awaiting_approval
        log.warning("%s %s: %d report(s) await approval and were not sent; the data owner was reminded: %s",
                    kind_name, period.slug, len(waiting), "; ".join(waiting))  # fmt: skip
    return {key: [str(item) for item in value] if isinstance(value, list) else value
            for key, value in dataclasses.asdict(summary).items()}  # fmt: skip


def render_reports(kind_name: str, day: dt.date) -> list[str]:
    """Render every report of ``kind_name`` (HTML, PDF, XLSX) for its last period closed on ``day``."""
    import os

    from itss_warehouse.mail.recipients import load_recipients
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import KINDS
    from itss_warehouse.reports.rendering import plan, render

    settings = get_settings()
    kind = KINDS[kind_name]
    url = warehouse_url(settings)
    units = plan(kind, url, Period.last_closed(kind.period_type, day))
    needs_approval = load_recipients(settings.recipients_file).needing_approval(kind_name, [u.grain_id for u in units])
    rendered = render(kind, url, units, settings.output_path, settings.templates_path,
                      breaches_shown=settings.report_breaches_shown, workers=os.cpu_count() or 1,
                      needs_approval=needs_approval)  # fmt: skip
    return [str(path) for report in rendered for path in report.files.values()]
