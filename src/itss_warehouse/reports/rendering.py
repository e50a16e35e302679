"""Rendering any report kind into the output archive, in HTML, PDF and an XLSX appendix.

A report kind (one module per report) says which units it reports on in a period (the
projects, the departments, or the organisation) and, for one unit, what its template
shows and which tables its appendix holds. This module does the rest, the same for
every kind: the data-quality gate, the shared header facts, the three formats, the
archive's file names and atomic writes, and rendering units in parallel processes.

Archive: ``<output>/<kind>/<period>/<unit>.<language>.<format>``, e.g.
``service_report/2026-10/P001.zh-CN.pdf`` or ``quality_report/2026-H1/D01.en.xlsx``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from itss_warehouse.ingest.canonical import PRIORITIES
from itss_warehouse.reports import approval, data_quality, issue_register, sections
from itss_warehouse.reports.appendix import cover_sheet
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.contents import with_contents
from itss_warehouse.reports.document_control import DocumentSettings
from itss_warehouse.reports.formatting import IN_SCOPE, Period, build_environment, load_catalogue
from itss_warehouse.reports.pdf import html_to_pdf
from itss_warehouse.reports.quality_statement import quality_statement
from itss_warehouse.reports.summary import as_of_date
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE, table_workbook
from itss_warehouse.settings import get_settings
from itss_warehouse.warehouse.connection import one_row
from itss_warehouse.warehouse.raw import ensure_issued_documents

log = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "xlsx")

# The data a report is as of: the newest load batch carrying its projects' tickets of the
# period. Later exports that do not touch them leave it, and the report, unchanged.
DATA_AS_OF = f"""
    select max(batches.loaded_at) as loaded_at
    from marts.fct_tickets as tickets
    inner join marts.dim_projects as projects on tickets.project_id = projects.project_id
    inner join raw.load_batches as batches on tickets.last_batch_id = batches.batch_id
    where tickets.opened_month >= %(start)s and tickets.opened_month < %(end)s
      and {IN_SCOPE.format(projects="projects")}
"""

# The moment metrics still not done were judged at (the run date's end), when there are any.
JUDGED_AS_OF = f"""
    select max(sla.as_of) as as_of
    from marts.fct_ticket_sla as sla
    inner join marts.dim_projects as projects on sla.project_id = projects.project_id
    where sla.opened_month >= %(start)s and sla.opened_month < %(end)s and sla.done_at is null
      and {IN_SCOPE.format(projects="projects")}
"""

USES_FALLBACK_CALENDAR = f"""
    select coalesce(bool_or(sla.uses_fallback_calendar), false) as uses_fallback_calendar
    from marts.fct_ticket_sla as sla
    inner join marts.dim_projects as projects on sla.project_id = projects.project_id
    where sla.opened_month >= %(start)s and sla.opened_month < %(end)s and {IN_SCOPE.format(projects="projects")}
"""


@dataclass(frozen=True)
class RenderedReport:
    kind: str
    unit_id: str
    period: Period
    language: str
    files: dict[str, Path]

    @property
    def path(self) -> Path:
        """The HTML report, also the e-mail body."""
        return self.files["html"]


@dataclass(frozen=True)
class Job:
    """Everything a worker process needs besides the unit: picklable."""

    kind: ReportKind  # picklable: its functions are module-level
    url: str
    output_dir: Path
    templates_dir: Path
    language: str
    formats: tuple[str, ...]
    shared: dict[str, Any]  # data-quality status and display settings, the same for every unit
    as_of: datetime | None  # given by the caller instead of each unit's data as-of time
    document: DocumentSettings  # company, numbering and sign-off of the covers
    needs_approval: frozenset[str] = frozenset()  # units rendered as drafts until approved (reports.approval)


def check_formats(formats: Sequence[str]) -> tuple[str, ...]:
    if not formats:
        raise ValueError(f"no report format given (known: {', '.join(FORMATS)})")
    if unknown := sorted(set(formats) - set(FORMATS)):
        raise ValueError(f"unknown report format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    return tuple(formats)


def plan(kind: ReportKind, url: str, period: Period, unit_ids: Sequence[str] | None = None) -> list[Unit]:
    """The units ``kind`` reports on in ``period`` (all, or those named; naming another is an error)."""
    if period.type != kind.period_type:
        raise ValueError(f"the {kind.name} takes a {kind.period_type} period, got {period.slug}")
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        units = kind.units(cur, period)
    if unit_ids is None:
        return units
    if unknown := sorted(set(unit_ids) - {unit.grain_id for unit in units}):
        raise ValueError(f"no {kind.name} for {', '.join(unknown)} in {period.slug}")
    return [unit for unit in units if unit.grain_id in unit_ids]


def render(
    kind: ReportKind,
    url: str,
    units: Sequence[Unit],
    output_dir: Path,
    templates_dir: Path,
    *,
    language: str = "zh-CN",
    formats: Sequence[str] = FORMATS,
    as_of: datetime | None = None,
    breaches_shown: int = 20,
    workers: int = 1,
    on_rendered: Callable[[RenderedReport], None] | None = None,
    document: DocumentSettings | None = None,
    needs_approval: Collection[str] = (),
) -> list[RenderedReport]:
    """Render ``units`` into the archive, replacing earlier files; in ``workers`` processes if more than one.

    Each report is issued in the register of documents (``issue_register``): a version of its own
    when its figures differ from the last issue's. ``document`` defaults to the settings'. The units
    in ``needs_approval`` are drafts until approved (see ``reports.approval``).

    Raises ReportBlocked, before writing anything, when the inputs failed validation.
    """
    formats = check_formats(formats)
    load_catalogue(templates_dir, language)  # an unknown language fails here, not in a worker
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        shared = {"data_quality": data_quality.status(cur), "breaches_shown": breaches_shown}
        ensure_issued_documents(conn)
    document = document or DocumentSettings.from_settings(get_settings())
    job = Job(
        kind, url, output_dir, templates_dir, language, formats, shared, as_of, document, frozenset(needs_approval)
    )
    rendered = []
    if workers > 1 and multiprocessing.current_process().daemon:
        # A Celery worker's task process may not start processes of its own; there, more
        # Celery workers are what renders in parallel.
        log.info("Rendering %s in this process: a daemonic process (a Celery worker's) cannot start others", kind.name)
        workers = 1
    if workers > 1 and len(units) > 1:
        # spawn, not fork: the caller may be an Airflow task with threads holding locks.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(min(workers, len(units)), context, initializer=_start_worker, initargs=(job,)) as pool:
            for future in as_completed([pool.submit(_render_in_worker, unit) for unit in units]):
                rendered.append(future.result())
                if on_rendered:
                    on_rendered(rendered[-1])
    else:
        with Renderer(job) as renderer:
            for unit in units:
                rendered.append(renderer.render(unit))
                if on_rendered:
                    on_rendered(rendered[-1])
    return sorted(rendered, key=lambda report: (report.period, report.unit_id))


class Renderer:
    """Renders units of one job over one connection."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.kind = job.kind
        self.catalogue = load_catalogue(job.templates_dir, job.language)
        self.template = build_environment(job.templates_dir, self.catalogue).get_template(self.kind.template)
        self.conn = psycopg.connect(job.url)

    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.conn.close()

    def render(self, unit: Unit) -> RenderedReport:
        job, catalogue = self.job, self.catalogue
        with approval.FingerprintingCursor(self.conn) as cur:
            as_of = job.as_of or one_row(cur.execute(DATA_AS_OF, unit.params))["loaded_at"]
            unit = replace(unit, judged_on=as_of_date(as_of, unit.period))
            content = self.kind.content(cur, unit, catalogue)
            fallback = one_row(cur.execute(USES_FALLBACK_CALENDAR, unit.params))["uses_fallback_calendar"]
            internal = self.kind.audience == "internal"
            judged_as_of = one_row(cur.execute(JUDGED_AS_OF, unit.params))["as_of"]
            quarantine = data_quality.quarantined(cur, unit.params)
            withdrawals = data_quality.withdrawals(cur, unit.params)
            fingerprint = cur.seal()  # the rows read so far are the report's content
            required = unit.grain_id in job.needs_approval
            approvals = (
                approval.approvals(cur, self.kind.name, unit.period.slug, unit.grain_id, fingerprint)
                if required
                else {}
            )
            issue = self._issue(cur, unit, content)
            document = job.document.cover(self.kind.audience, issue, job.language)
            html = self.template.render(
                job.shared,
                t=catalogue,
                unit=unit,
                period=unit.period.label(catalogue),
                priorities=PRIORITIES,
                uses_fallback_calendar=fallback,
                internal=internal,
                as_of=as_of,
                judged_as_of=judged_as_of,
                quarantine=quarantine,
                withdrawals=withdrawals,
                fingerprint=fingerprint,
                approvals=approvals,
                approval_state=approval.state(required, approvals),
                draft=required and "approved" not in approvals,
                summary=self.kind.summary(content, unit, as_of, catalogue),
                document=document,
                **content,
            )
            html = with_contents(html, catalogue)
            paths = archive_files(job.output_dir, self.kind.name, unit, job.language)
            files = {}
            for kind in job.formats:
                if kind == "html":
                    data = html.encode("utf-8")
                elif kind == "pdf":
                    data = html_to_pdf(html)
                else:
                    statement = quality_statement(catalogue, internal=internal, status=job.shared["data_quality"],
                                                  quarantine=quarantine, withdrawals=withdrawals)  # fmt: skip
                    number = {"number": document["number"], "version": document["version"].label}
                    cover = cover_sheet(catalogue, self.kind.name, unit, as_of=as_of, data_quality=statement,
                                        document=number)  # fmt: skip
                    data = _workbook([cover, *self.kind.appendix(cur, unit, content, catalogue)], as_of)
                files[kind] = paths[kind]
                write_atomically(files[kind], data)
        # The issue is recorded once its files are written; the next unit sees no stale snapshot.
        self.conn.commit()
        return RenderedReport(self.kind.name, unit.grain_id, unit.period, job.language, files)

    def _issue(self, cur: Cursor, unit: Unit, content: dict[str, Any]) -> issue_register.Issue:
        scorecard = sections.scorecard(cur, unit)
        figures = (issue_register.fingerprint(content, scorecard), issue_register.kpi_figures(scorecard))
        number = self.job.document.document_number(self.kind.name, unit)
        return issue_register.issue(cur, self.kind.name, unit, self.job.language, number, figures, self.catalogue)


def archive_files(output_dir: Path, kind_name: str, unit: Unit, language: str) -> dict[str, Path]:
    """Where the unit's report is archived, by format (see the module docstring)."""
    folder = output_dir / kind_name / unit.period.slug
    return {kind: folder / f"{unit.grain_id}.{language}.{kind}" for kind in FORMATS}


_worker: Renderer | None = None


def _start_worker(job: Job) -> None:
    global _worker
    _worker = Renderer(job)


def _render_in_worker(unit: Unit) -> RenderedReport:
    if _worker is None:
        raise RuntimeError("no renderer in this process: the pool's initializer _start_worker did not run")
    return _worker.render(unit)


def _workbook(sheets: list[Sheet], as_of: datetime | None) -> bytes:
    stamp = (as_of or datetime(2000, 1, 1, tzinfo=LOCAL_TIMEZONE)).astimezone(LOCAL_TIMEZONE).replace(tzinfo=None)
    return table_workbook(sheets, stamp)


def write_atomically(path: Path, data: bytes) -> None:
    """Write via a temp file in the same folder so readers never see a partial report."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            # mkstemp creates 0600; the report is meant to be read by others (web server, mailer).
            os.fchmod(handle.fileno(), 0o644)
            handle.write(data)
        os.replace(temp_name, path)
    except BaseException:
        os.unlink(temp_name)
        raise


def render_period(
    kind: ReportKind, url: str, period: Period, output_dir: Path, templates_dir: Path, *,
    unit_ids: Sequence[str] | None = None, **options: Any,
) -> list[RenderedReport]:  # fmt: skip
    """Plan and render the reports of one kind for ``period``: see ``plan`` and ``render``."""
    return render(kind, url, plan(kind, url, period, unit_ids), output_dir, templates_dir, **options)
