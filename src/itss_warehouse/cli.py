"""The ``itss`` command line."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from collections.abc import Hashable
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from itss_warehouse.orchestration import environment
from itss_warehouse.settings import Settings, get_settings
from itss_warehouse.warehouse import embedded
from itss_warehouse.warehouse.connection import ensure_schemas, warehouse_url, without_password

app = typer.Typer(help="ITSS O&M quality warehouse: nightly pipeline, KPI marts and reports.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo source exports.", no_args_is_help=True)
warehouse_app = typer.Typer(help="The PostgreSQL warehouse.", no_args_is_help=True)
source_app = typer.Typer(help="Source exports and their mappings.", no_args_is_help=True)
app.add_typer(demo_app, name="demo")
app.add_typer(warehouse_app, name="warehouse")
app.add_typer(source_app, name="source")
calendar_app = typer.Typer(help="Working-day calendars for SLA measurement.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
batch_app = typer.Typer(help="Loaded exports (batches): list, withdraw, restore.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
improvements_app = typer.Typer(help="The improvement register (改进措施登记表).", no_args_is_help=True)
app.add_typer(improvements_app, name="improvements")


class _ReportGroup(TyperGroup):
    """`itss report KIND …` renders (the hidden command ``render``); `itss report approve …` approves."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            return "", self.commands["render"], args  # no name of its own: usage reads `itss report KIND`
        return super().resolve_command(ctx, args)


report_app = typer.Typer(
    cls=_ReportGroup, no_args_is_help=True,
    help="Reports: `itss report KIND --period P` renders (see `itss report KIND --help`);"
    " `itss report approve KIND …` records a review or approval.",
)  # fmt: skip
app.add_typer(report_app, name="report")

Day = Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Day to run for (default: yesterday).")]


def main() -> None:
    """Entry point: known failures print their message, not a traceback."""
    from itss_warehouse.orchestration.airflow_runner import DagRunFailed
    from itss_warehouse.reports.data_quality import ReportBlocked
    from itss_warehouse.tools.bench.measure import StepFailed
    from itss_warehouse.transform.dbt import DbtError
    from itss_warehouse.warehouse.embedded import EmbeddedServerError

    try:
        app()
    except (
        DagRunFailed,
        DbtError,
        EmbeddedServerError,
        ReportBlocked,
        StepFailed,
        ValueError,
    ) as error:  # RecipientsError too
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:  # a DAG run stops its Airflow child itself (DagRunFailed above)
        typer.secho("Interrupted.", fg=typer.colors.RED, err=True)
        raise SystemExit(130) from None


# What a command reads before it can do anything: loaded exports, validated and built marts.
LOADED = ("raw.load_batches",)
BUILT = (*LOADED, "raw.validation_runs", "marts.dim_projects", "marts.kpi_scorecard")


def _warehouse_with(settings: Settings, tables: tuple[str, ...]) -> str:
    """The warehouse URL, or exit 1 saying what to run when it lacks ``tables`` (never a traceback)."""
    from itss_warehouse.warehouse.connection import missing_tables

    url = warehouse_url(settings)
    if missing := missing_tables(url, tables):
        typer.secho(f"{without_password(url)} has no {', '.join(missing)} yet: run `itss run` (or"
                    " `itss run --date YYYY-MM-DD` for a day of your data) to load the exports and build the marts.",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise SystemExit(1)
    return url


def _yesterday() -> dt.date:
    return dt.date.today() - dt.timedelta(days=1)


@app.callback()
def _logging(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


@app.command()
def run(date: Day = None, seed: Annotated[int, typer.Option(help="Seed for demo data.")] = 42) -> None:
    """The main job: demo data if the landing folder is empty, then the nightly DAG through Airflow."""
    from itss_warehouse import pipeline
    from itss_warehouse.ingest import landing
    from itss_warehouse.orchestration import airflow_runner
    from itss_warehouse.orchestration.dag_defaults import START_DATE
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.tools import demo
    from itss_warehouse.validate import runner

    settings = get_settings()
    day = date.date() if date else _yesterday()
    if day < START_DATE.date():
        # Airflow would run no task for it and still report success.
        raise typer.BadParameter(f"{day} is before the DAGs' start date {START_DATE.date()}", param_hint="--date")
    url = warehouse_url(settings)
    ensure_schemas(url)
    environment.export(settings, url)
    folder = settings.landing_path
    if not folder.exists() or not any(folder.iterdir()):
        written = demo.generate(folder, seed=seed, end_date=day)
        typer.echo(f"Generated {len(written)} demo exports in {folder}")
    typer.echo(f"Running itss_nightly for {day} through Airflow …")
    before = landing.last_batch_id(url)
    log_file = airflow_runner.run_dag(settings, "itss_nightly", day)
    loaded = landing.batch_summaries(url, before)
    typer.echo(f"Loaded {len(loaded)} new file(s)" + (":" if loaded else " (all files were loaded before)."))
    for batch in loaded:
        # Quarantined rows are among the rows read: kept in raw with their reasons, out of the marts.
        held_back = f"{batch.quarantined_rows} of them quarantined"
        typer.echo(f"  {batch.file_name} → raw.{batch.entity}: {batch.rows} rows ({held_back})")
    typer.echo(f"itss_nightly succeeded (log: {log_file})")
    typer.echo(f"Warehouse: {without_password(url)}")
    typer.echo(f"Validation data docs: {runner.data_docs_index(settings)}")
    month = Period.last_closed("month", day)
    gate = pipeline.report_gate("month", day)
    if gate.state != "ready":  # the report DAG could only wait (or fail at its gate): not started
        typer.secho(f"The reports of {month.slug} are {gate.state}, itss_monthly_reports not started: {gate.reason}",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise SystemExit(1)
    typer.echo(f"Running itss_monthly_reports for {month.slug} through Airflow …")
    airflow_runner.run_dag(settings, "itss_monthly_reports", day)
    quarter = Period.last_closed("quarter", day)  # quarterly projects' service reports, when it just closed
    periods = [month.slug] + ([quarter.slug] if quarter.end == month.end else [])
    for kind in ("service_report", "process_report"):
        reports = sorted(path for slug in periods for path in (settings.output_path / kind / slug).glob("*.zh-CN.html"))
        typer.echo(f"{kind} ({len(reports)}):")
        for path in reports:
            typer.echo(f"  {path}")
    if not settings.smtp_host:
        messages = sorted(settings.outbox_path.glob("*.eml")) if settings.outbox_path.exists() else []
        typer.echo(f"No SMTP server configured (ITSS_SMTP_HOST): {len(messages)} e-mail(s) in {settings.outbox_path}")


@demo_app.command("generate")
def demo_generate(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same files.")] = 42,
    end_date: Day = None,
) -> None:
    """Write deterministic demo source exports into the landing folder."""
    from itss_warehouse.tools import demo

    settings = get_settings()
    written = demo.generate(settings.landing_path, seed=seed, end_date=end_date.date() if end_date else _yesterday())
    for path in written:
        typer.echo(str(path))


@source_app.command("check")
def source_check(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="An export file.")],
    mapping: Annotated[Path | None, typer.Option(help="Source definition file (default: ITSS_SOURCES_FILE).")] = None,
    rows: Annotated[int, typer.Option(help="How many mapped rows to show.")] = 5,
) -> None:
    """Preview how a file maps to canonical fields and list the problems found, without loading."""
    from itss_warehouse.ingest import mapping as mapping_module
    from itss_warehouse.ingest.sources import load_sources

    definitions = load_sources(mapping or get_settings().sources_file)
    source = definitions.source_for(file.name)
    total = 0
    problems: list[mapping_module.Problem] = []
    preview: list[dict[Hashable, Any]] = []
    try:
        for chunk in mapping_module.read_mapped(file, source, definitions.timezone):
            total += len(chunk.frame)
            problems.extend(chunk.problems)
            if len(preview) < rows:
                preview.extend(chunk.frame.head(rows - len(preview)).to_dict("records"))
    except mapping_module.HeaderError as error:
        typer.secho(f"{file.name}: {len(error.problems)} header problem(s) for source '{source.name}':",
                    fg=typer.colors.RED, err=True)  # fmt: skip
        for message in error.problems:
            typer.secho(f"  {message}", fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    typer.echo(f"{file.name}: source '{source.name}' → raw.{source.entity}, {total} rows, {len(problems)} problem(s)")
    for record in preview:
        typer.echo("  " + ", ".join(f"{key}={value}" for key, value in record.items() if value == value))
    for problem in sorted(problems, key=lambda problem: problem.row)[:50]:
        typer.echo(f"  row {problem.row}, {problem.field}: {problem.value!r}: {problem.reason}")
    if len(problems) > 50:
        typer.echo(f"  … and {len(problems) - 50} more")


@source_app.command("init")
def source_init(
    file: Annotated[Path, typer.Argument(help="A ticket export: CSV (utf-8 or gb18030) or XLSX.")],
    tool: Annotated[
        str | None,
        typer.Option(
            help="Match only this tool's names: servicenow, jira, excel or chinese (default: every"
            " tool's, preferring the one that knows most headers)."
        ),
    ] = None,  # fmt: skip
    output: Annotated[Path | None, typer.Option(help="Write the definition here instead of printing it.")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --output when it exists.")] = False,
) -> None:
    """Propose a source definition (mapping YAML) for a ticket export nobody has mapped yet.

    For ticket exports (entity tickets) only. Reads a sample of FILE
    (encoding, delimiter, the header row below any title rows), maps the
    headers through the field dictionary of known tools, and proposes null
    markers, timestamp formats, event style and value maps, with TODO
    comments for what it could not decide. Review the result, then check
    it with `itss source check FILE --mapping PATH`.
    """
    import shlex
    from typing import NoReturn

    from itss_warehouse.ingest.source_init import SourceInitError, propose

    def fail(message: str) -> NoReturn:
        typer.secho(message, fg=typer.colors.RED, err=True)
        raise SystemExit(1)

    if output and output.exists() and not force:
        fail(f"{output}: exists; pass --force to overwrite it")
    try:
        text = propose(file, tool)
    except SourceInitError as error:
        fail(str(error))
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as error:
            fail(f"{output}: cannot be written: {error.strerror or error}")
    else:
        typer.echo(text, nl=False)
    target = shlex.quote(str(output)) if output else "PATH"
    review = f"Review {target}" if output else "Save it as PATH, review it"
    typer.echo(f"{review} (the TODOs first), then run: itss source check {shlex.quote(str(file))} --mapping {target}",
               err=output is None)  # fmt: skip


@source_app.command("template")
def source_template(
    path: Annotated[Path, typer.Argument(help="File or folder to write the Excel template to.")] = Path("."),
) -> None:
    """Write the Chinese Excel ticket template (with its 填写说明 sheet) for companies without a ticket tool."""
    from itss_warehouse.ingest.excel_template import write_template

    typer.echo(str(write_template(path)))


@improvements_app.command("export")
def improvements_export(
    period: Annotated[
        str | None, typer.Option(help="Only items of this period: 2026-10, 2026-Q3, 2026-H1, 2026.")
    ] = None,
    owner: Annotated[str | None, typer.Option(help="Only this owner's items (as the export names them).")] = None,
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    output: Annotated[Path | None, typer.Option(help="File or folder to write; default: the current folder.")] = None,
) -> None:
    """Write the improvement register to fill in and drop in the landing folder; the next night reads it back."""
    from itss_warehouse.ingest.improvement_workbook import REGISTER_TABLES, export_register
    from itss_warehouse.reports.formatting import Period

    settings = get_settings()
    url = _warehouse_with(settings, (*BUILT, *REGISTER_TABLES))
    export = export_register(url, settings.templates_path, output, lang, Period.parse(period) if period else None,
                             owner)  # fmt: skip
    typer.echo(f"{export.items} improvement item(s) in {export.path}")


@calendar_app.command("seed")
def calendar_seed() -> None:
    """Rewrite the dbt seed of Chinese statutory holidays and adjusted workdays from chinesecalendar."""
    from itss_warehouse.transform.statutory_calendar import SEED_NAME, write_seed

    typer.echo(str(write_seed(get_settings().dbt_project_path / "seeds" / SEED_NAME)))


@app.command()
def bench(
    tickets: Annotated[
        list[int] | None, typer.Option(help="Tickets of history (repeatable; default: 1,000,000 and 100,000).")
    ] = None,
    project_month_only: Annotated[
        bool, typer.Option(help="Only the service report of one project's 10,000-ticket month.")
    ] = False,
) -> None:
    """Benchmark every pipeline step on a generated organisation of 50 projects, and the service report of one
    project's 10,000-ticket month; results in $ITSS_HOME/bench."""
    from itss_warehouse.tools.bench import results as figures
    from itss_warehouse.tools.bench.suite import run_project_month, run_size

    if project_month_only and tickets:
        raise typer.BadParameter("--tickets sizes the organisation, which --project-month-only leaves out")
    settings = get_settings()
    server = warehouse_url(settings)
    out_dir = settings.home_path / "bench"
    measured = []
    for count in [] if project_month_only else tickets or [1_000_000, 100_000]:
        typer.echo(f"Benchmarking {count:,} tickets (scratch database itss_bench_{count}) …")
        result = run_size(server, out_dir, count)
        measured.append(result)
        typer.echo(figures.describe(result))
        typer.echo(figures.text_table(figures.rows(result)))
        typer.echo(figures.night_floor(result) + ".\n")
    typer.echo("Benchmarking one project's month of 10,000 tickets (scratch database itss_bench_project_month) …")
    month = run_project_month(server, out_dir)
    typer.echo(figures.describe_month(month))
    typer.echo(figures.text_table(figures.month_rows(month)) + "\n")
    json_path, markdown = figures.write(measured, month, out_dir)
    typer.echo(f"Results: {json_path}, {markdown}")
    if any(result.differences for result in measured):
        typer.secho("The incremental marts differ from a full rebuild.", fg=typer.colors.RED, err=True)
        raise SystemExit(1)
    tables = [*(figures.rows(result) for result in measured), figures.month_rows(month)]
    if missing := sorted({step for table in tables for step in figures.missed(table)}):
        typer.secho(f"Targets missed: {', '.join(missing)}", fg=typer.colors.YELLOW, err=True)


@report_app.command("render", hidden=True)
def report(
    kind: Annotated[str, typer.Argument(help="service, process, quality, annual or satisfaction.")],
    period: Annotated[
        str, typer.Option(help="2026-10 (service, process), 2026-H1 (quality), 2026 (annual, satisfaction).")
    ],
    project: Annotated[list[str] | None, typer.Option(help="service: only this project (repeatable).")] = None,
    department: Annotated[list[str] | None, typer.Option(help="quality: only this department (repeatable).")] = None,
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    format: Annotated[str, typer.Option(help="Comma-separated: html, pdf, xlsx.")] = "html,pdf,xlsx",  # noqa: A002
    workers: Annotated[int, typer.Option(help="Processes rendering in parallel.")] = os.cpu_count() or 1,
) -> None:
    """Render the reports of one kind for a period into the output archive."""
    from itss_warehouse.mail.recipients import load_recipients
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import COMMANDS, KINDS
    from itss_warehouse.reports.rendering import plan, render

    if kind not in COMMANDS:
        raise typer.BadParameter(f"unknown report {kind!r} (known: {', '.join(COMMANDS)})", param_hint="KIND")
    report_kind = KINDS[COMMANDS[kind]]
    only = {"service_report": project, "quality_report": department}.get(report_kind.name)
    if (project or department) and not only:
        raise typer.BadParameter(f"--project applies to service, --department to quality, not to {kind}")
    settings = get_settings()
    url = _warehouse_with(settings, BUILT)
    units = plan(report_kind, url, Period.parse(period), only)
    if not units:
        typer.echo(f"Nothing to report for {period}: no {report_kind.name} is due.")
        return
    recipients = load_recipients(settings.recipients_file)  # which reports are drafts until approved
    needs_approval = recipients.needing_approval(report_kind.name, [unit.grain_id for unit in units])
    formats = tuple(name.strip() for name in format.split(",") if name.strip())
    with typer.progressbar(length=len(units), label=f"{report_kind.name} {period}", file=sys.stderr) as bar:
        rendered = render(
            report_kind, url, units, settings.output_path, settings.templates_path,
            language=lang, formats=formats, breaches_shown=settings.report_breaches_shown, workers=workers,
            on_rendered=lambda _: bar.update(1), needs_approval=needs_approval,
        )  # fmt: skip
    typer.echo(f"{len(rendered)} {report_kind.name}(s) for {period} in {settings.output_path / report_kind.name}")
    if needs_approval:
        typer.echo(f"Drafts until approved (itss report approve {kind} --period {period} …):"
                   f" {', '.join(sorted(needs_approval))}")  # fmt: skip


@report_app.command("approve")
def report_approve(
    kind: Annotated[str, typer.Argument(help="service, process, quality, annual or satisfaction.")],
    period: Annotated[str, typer.Option(help="The period, as for `itss report`.")],
    role: Annotated[str, typer.Option("--as", help="reviewed (审核), then approved (批准).")],
    project: Annotated[str | None, typer.Option(help="service: the project.")] = None,
    department: Annotated[str | None, typer.Option(help="quality: the department.")] = None,
    by: Annotated[
        str | None, typer.Option(help="Who, as the report shows it (default: the operating-system user).")
    ] = None,
) -> None:
    """Record who reviewed or approved an archived report and when, and render it again showing it.

    Only reports whose recipients' group has `approval: true` need (and take) approval;
    once approved, `itss mail KIND --period P` sends them (exactly once, as always).
    """
    import getpass

    from itss_warehouse.mail.recipients import load_recipients
    from itss_warehouse.reports.approval import ROLES, UNIT_OPTIONS, approve_command, send_command
    from itss_warehouse.reports.approving import approve
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import COMMANDS, KINDS
    from itss_warehouse.reports.rendering import plan

    if kind not in COMMANDS:
        raise typer.BadParameter(f"unknown report {kind!r} (known: {', '.join(COMMANDS)})", param_hint="KIND")
    if role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not one of {', '.join(ROLES)}", param_hint="--as")
    report_kind = KINDS[COMMANDS[kind]]
    option = UNIT_OPTIONS.get(report_kind.name)
    unit_id = {"--project": project, "--department": department}.get(option or "")
    if (project or department) and not unit_id:
        raise typer.BadParameter(f"--project applies to service, --department to quality, not to {kind}")
    if option and not unit_id:
        raise typer.BadParameter(f"which {kind} report? Name it with {option}", param_hint=option)
    settings = get_settings()
    url = _warehouse_with(settings, BUILT)
    unit_part = f" {option} {unit_id}" if option else ""
    try:
        [unit] = plan(report_kind, url, Period.parse(period), [unit_id] if unit_id else None)
        needs_approval = load_recipients(settings.recipients_file).needing_approval(report_kind.name, [unit.grain_id])
        approved = approve(report_kind, url, unit, role, by or getpass.getuser(), settings.output_path,
                           settings.templates_path, needs_approval=needs_approval,
                           render_command=f"itss report {kind} --period {period}{unit_part}",
                           breaches_shown=settings.report_breaches_shown)  # fmt: skip
    except ValueError as error:  # unknown period or project, approval not required, nothing rendered, order
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    typer.echo(f"{report_kind.name} {unit.grain_id} {unit.period.slug}: {role} by {by or getpass.getuser()}"
               f" at {approved.at:%Y-%m-%d %H:%M %Z}; rendered again:")  # fmt: skip
    for path in approved.files:
        typer.echo(f"  {path}")
    if approved.changed:
        typer.secho("The data changed since the report you approved was rendered: the new rendering is a draft"
                    " again. Read it, then record the review and approval again: "
                    + approve_command(report_kind.name, period, unit.grain_id, "reviewed"),
                    fg=typer.colors.RED, err=True)  # fmt: skip
        raise SystemExit(1)
    if role == "reviewed":
        typer.echo("Next: " + approve_command(report_kind.name, period, unit.grain_id, "approved"))
    else:
        typer.echo(f"Approved: `{send_command(report_kind.name, period)}` sends it.")


@app.command("mail")
def mail(
    kind: Annotated[str, typer.Argument(help="service, process, quality, annual or satisfaction.")],
    period: Annotated[str, typer.Option(help="The period, as for `itss report`.")],
    resend: Annotated[bool, typer.Option(help="Send again what was already sent.")] = False,
    corrections: Annotated[bool, typer.Option(help="Send reports changed since sent, marked as corrections.")] = False,
) -> None:
    """E-mail the archived reports of a period to their recipients, once (rendering any language missing)."""
    from itss_warehouse.mail.sending import send_reports
    from itss_warehouse.reports.formatting import Period
    from itss_warehouse.reports.kinds import COMMANDS

    if kind not in COMMANDS:
        raise typer.BadParameter(f"unknown report {kind!r} (known: {', '.join(COMMANDS)})", param_hint="KIND")
    settings = get_settings()
    summary = send_reports(settings, _warehouse_with(settings, BUILT), COMMANDS[kind], Period.parse(period),
                           resend=resend, corrections=corrections, workers=os.cpu_count() or 1)  # fmt: skip
    if summary.withheld:
        typer.secho(f"Nothing sent, the data owner was alerted: {summary.withheld}", fg=typer.colors.RED, err=True)
        raise SystemExit(1)
    typer.echo(f"Sent to {len(summary.sent)} recipient(s); {summary.already_sent} already had this report.")
    for line in summary.changed:
        typer.echo(f"  changed since sent (use --corrections): {line}")
    for unit_id in summary.unaddressed:
        typer.echo(f"  no recipients configured for {unit_id}")
    for path in summary.written:
        typer.echo(f"  no SMTP server configured, written: {path}")
    for line in summary.failed:
        typer.secho(f"  not sent (the data owner was alerted): {line}", fg=typer.colors.RED, err=True)
    if summary.failed:
        raise SystemExit(1)


@app.command()
def doctor() -> None:
    """Check configuration, warehouse, fonts, SMTP and calendar coverage; say what to fix."""
    from itss_warehouse.tools.doctor import run_checks

    checks = run_checks(get_settings(), dt.date.today())
    marks = {"ok": "✓", "warn": "!", "fail": "✗"}
    for check in checks:
        typer.echo(f"{marks[check.status]} {check.name}: {check.detail}")
        if check.fix:
            typer.echo(f"    fix: {check.fix}")
    if any(check.status == "fail" for check in checks):
        raise SystemExit(1)


@app.command("setup-roles")
def setup_roles_command(
    login: Annotated[
        list[str] | None,
        typer.Option(
            help="NAME=ROLE: create or update the login NAME as a member of ROLE; its password is read from"
            " the environment variable NAME_PASSWORD (e.g. BI_PASSWORD). Repeatable."
        ),
    ] = None,
) -> None:
    """Create the analyst, loader and transformer roles and apply their grants (safe to re-run)."""
    from itss_warehouse.warehouse.roles import ANALYST, LOADER, TRANSFORMER, LoginError, parse_login, setup_roles

    url = warehouse_url(get_settings())
    try:
        logins = [parse_login(text) for text in login or []]
        ensure_schemas(url)
        statements = setup_roles(url, logins)
    except LoginError as error:
        raise typer.BadParameter(str(error), param_hint="--login") from None
    typer.echo(f"{len(statements)} statements applied: roles {ANALYST} (marts, read only), {LOADER} (raw; reads"
               f" marts, restricted),"
               f" {TRANSFORMER} (dbt).")  # fmt: skip
    for name, role in logins:
        typer.echo(f"Login {name}: member of {role}, its sessions start as {role}.")
    if not logins:
        typer.echo(f"Add a login: BI_PASSWORD=… itss setup-roles --login bi={ANALYST}")


@warehouse_app.command("url")
def warehouse_url_command() -> None:
    """Print the warehouse URL (starts the embedded server if needed) for psql or a BI tool."""
    typer.echo(warehouse_url(get_settings()))


@warehouse_app.command("docs")
def warehouse_docs(
    serve: Annotated[bool, typer.Option(help="Serve the site after generating it.")] = False,
    port: Annotated[int, typer.Option(help="Port for --serve.")] = 8080,
) -> None:
    """Generate the dbt docs site of the marts (every model and column described) and print where it is."""
    from itss_warehouse.transform import dbt

    settings = get_settings()
    environment.export(settings, warehouse_url(settings))
    target = dbt.generate_docs(settings)
    typer.echo(f"dbt docs: {target / 'index.html'}")
    if serve:
        dbt.run_dbt(settings, "docs", "serve", "--target-path", str(target), "--port", str(port))


@warehouse_app.command("rebuild")
def warehouse_rebuild(date: Day = None) -> None:
    """Rebuild every model from raw as of a day (dbt build --full-refresh), then validate the marts.

    The nightly run updates the incremental tables with what changed; a change of SLA
    policies, calendars, seeds or business vars, or an upgrade that changes an incremental
    table, needs this once (DECISIONS.md).
    """
    from itss_warehouse.transform import dbt
    from itss_warehouse.transform.build_plan import plan_build, record_build
    from itss_warehouse.validate import runner

    settings = get_settings()
    day = date.date() if date else _yesterday()
    url = _warehouse_with(settings, LOADED)
    environment.export(settings, url)
    typer.echo(f"Rebuilding the warehouse as of {day} …")
    plan = plan_build(url)
    dbt.run_dbt(settings, "--quiet", "build", "--full-refresh", "--vars", f"{{run_date: '{day}'}}")
    record_build(url, plan)
    try:
        warnings = runner.validate_marts(url, settings)["warnings"]
    except runner.ValidationFailed as error:  # recorded: the reports stay blocked until fixed
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    typer.echo(f"Rebuilt and validated{f' ({len(warnings)} warning(s))' if warnings else ''}: {without_password(url)}")


@batch_app.command("list")
def batch_list(
    source: Annotated[str | None, typer.Option(help="Only this source's batches.")] = None,
    since: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only batches loaded since.")] = None,
) -> None:
    """Every loaded export: file, source, load time, rows loaded and quarantined, validation status."""
    import psycopg

    from itss_warehouse.ingest.batches import list_batches

    with psycopg.connect(_warehouse_with(get_settings(), LOADED)) as conn:
        batches = list_batches(conn, source, since.date() if since else None)
    headers = ["batch", "source", "file", "loaded at", "rows", "quarantined", "status"]
    table = [headers, *(batch.as_row() for batch in batches)]
    widths = [max(len(row[column]) for row in table) for column in range(len(headers))]
    for row in table:
        typer.echo("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip())
    for batch in batches:
        if batch.status == "failed":
            typer.echo(f"batch {batch.batch_id} failed: " + "; ".join(batch.failures))
        elif batch.status == "withdrawn":
            typer.echo(f"batch {batch.batch_id} withdrawn by {batch.withdrawal}")


def _change_batch(action: str, file_or_id: str, reason: str, by: str | None) -> None:
    import getpass

    from itss_warehouse.ingest import batches

    url = _warehouse_with(get_settings(), LOADED)
    change = batches.withdraw if action == "withdraw" else batches.restore
    try:
        batch, rebuild = change(url, file_or_id, reason, by or getpass.getuser())
    except batches.BatchError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise SystemExit(1) from None
    done = "withdrawn: its rows leave" if action == "withdraw" else "restored: its rows return to"
    typer.echo(f"Batch {batch.batch_id} ({batch.file_name}, {batch.rows} rows) {done} the marts at the next build.")
    if rebuild:
        typer.echo("The marts hold it: the next build is a full one, and reports wait for it. Run"
                   " `itss warehouse rebuild` to make it now, or let the nightly run do it.")  # fmt: skip
    typer.echo("`itss doctor` shows whether the reports' gate is now open.")


Batch = Annotated[str, typer.Argument(help="A batch id (itss batch list) or an export's file name.")]
Reason = Annotated[str, typer.Option(help="Why; recorded and shown in the affected reports.")]
By = Annotated[str | None, typer.Option(help="Who (default: the operating-system user).")]


@batch_app.command("withdraw")
def batch_withdraw(batch: Batch, reason: Reason, by: By = None) -> None:
    """Withdraw a bad export: its rows stay in raw, marked, and leave everything downstream at the next build."""
    _change_batch("withdraw", batch, reason, by)


@batch_app.command("restore")
def batch_restore(batch: Batch, reason: Reason, by: By = None) -> None:
    """Let a withdrawn export in again (dropping the same file again does not: it is loaded already)."""
    _change_batch("restore", batch, reason, by)


@app.command()
def validate(
    raw: Annotated[bool, typer.Option("--raw", help="Only the raw batches.")] = False,
    marts: Annotated[bool, typer.Option("--marts", help="Only the marts.")] = False,
    all_batches: Annotated[
        bool, typer.Option("--all", help="Every current batch, not only those failed or never validated.")
    ] = False,
) -> None:
    """Re-judge without a new export: validate the current batches (failed or never validated) and the marts.

    Records the runs, so a fixed cause or a withdrawal opens the reports' gate the same day.
    """
    import psycopg

    from itss_warehouse.validate import gate, runner

    settings = get_settings()
    url = _warehouse_with(settings, LOADED)
    environment.export(settings, url)
    for scope in [name for name, chosen in (("raw", raw), ("marts", marts)) if chosen] or ["raw", "marts"]:
        try:
            if scope == "raw":
                batch_ids = runner.batches_to_validate(url, every=all_batches)
                summary = runner.validate_raw_batches(url, batch_ids, settings)
                typer.echo(f"Raw: {summary['batches']} batch(es) validated, {summary['quarantined_rows']} rows"
                           f" quarantined, {len(summary['warnings'])} warning(s).")  # fmt: skip
            else:
                summary = runner.validate_marts(url, settings)
                typer.echo(f"Marts: {summary['batches']} table(s) validated, {len(summary['warnings'])} warning(s).")
        except runner.ValidationFailed as error:  # recorded; the gate below says what it blocks
            typer.secho(str(error), fg=typer.colors.RED, err=True)
    with psycopg.connect(url) as conn:
        reasons = gate.blockers(conn)
    if reasons:
        typer.secho("The reports' gate is closed:\n  " + "\n  ".join(reasons), fg=typer.colors.RED, err=True)
        raise SystemExit(1)
    typer.echo("The reports' gate is open.")


@warehouse_app.command("stop")
def warehouse_stop() -> None:
    """Stop the embedded PostgreSQL server."""
    stopped = embedded.stop(get_settings().embedded_data_path)
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
