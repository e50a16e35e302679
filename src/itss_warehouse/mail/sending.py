"""Sending a period's reports exactly once, with the data-quality gate, a send log and alerts.

``raw.mail_log`` holds one row per report, period, unit, language, recipient and content
checksum, with what happened (sent, failed, written to the outbox, withheld). A recipient
who was sent the same content is not sent it again unless ``resend``; content that changed
since it was sent (data corrected) goes out again only with ``corrections``, marked as a
correction. A send that finally fails is logged, alerts the data owner, and leaves the
report in the archive for the next run. When validation failed, nobody gets a report and
the data owner gets the failed checks. A report whose recipients' group asks for approval
goes out only once its archived file is approved (``reports.approval``); until then it is
logged as awaiting approval and the data owner is reminded, with the commands to approve. A
group with ``improvement_register: true`` gets the improvement register workbook attached as well.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

import jinja2
import psycopg
from psycopg.rows import dict_row

from itss_warehouse.ingest.improvement_workbook import export_register
from itss_warehouse.mail import transport
from itss_warehouse.mail.messages import alert_message, report_message
from itss_warehouse.mail.recipients import Group, Recipients, load_recipients
from itss_warehouse.reports import approval, data_quality
from itss_warehouse.reports.formatting import Period, build_environment, load_catalogue
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import FORMATS, archive_files, plan, render
from itss_warehouse.settings import Settings
from itss_warehouse.warehouse import raw

log = logging.getLogger(__name__)

SENT = """
    select recipient, checksum from raw.mail_log
    where report_kind = %s and period = %s and unit_id = %s and status = 'sent'
"""


@dataclass
class SendSummary:
    sent: list[str] = field(default_factory=list)  # "P001 → a@b" for each recipient sent to
    already_sent: int = 0
    changed: list[str] = field(default_factory=list)  # sent before with other content; needs corrections
    failed: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # .eml files, when no SMTP server is configured
    unaddressed: list[str] = field(default_factory=list)  # units without recipients
    withheld: str | None = None  # the failed checks, when validation failed
    awaiting_approval: list[str] = field(default_factory=list)  # the approve command of each report held back


def ensure_mail_log(url: str) -> None:
    with psycopg.connect(url) as conn:
        raw.ensure_mail_log(conn)


def send_reports(
    settings: Settings,
    url: str,
    kind_name: str,
    period: Period,
    *,
    in_airflow: bool = False,
    resend: bool = False,
    corrections: bool = False,
    workers: int = 1,
) -> SendSummary:
    """E-mail every report of ``kind_name`` for ``period`` to its recipients (see the module docstring)."""
    recipients = load_recipients(settings.recipients_file)
    config = transport.smtp_config(settings, in_airflow=in_airflow)
    kind = KINDS[kind_name]
    summary = SendSummary()
    ensure_mail_log(url)
    try:
        with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
            quality = data_quality.status(cur)
    except data_quality.ReportBlocked as blocked:
        summary.withheld = str(blocked)
        _alert(settings, recipients, config, "withheld", summary, title_of=kind_name, period=period,
               failures=str(blocked))  # fmt: skip
        _log(url, kind_name, period, "*", recipients.data_owner.language, [], "", "withheld", error=str(blocked))
        return summary
    units = plan(kind, url, period)
    groups = {unit.grain_id: recipients.for_report(kind_name, unit.grain_id) for unit in units}
    summary.unaddressed = [unit_id for unit_id, group in groups.items() if group is None]
    needs_approval = recipients.needing_approval(kind_name, groups)
    languages = {unit_id: group.language for unit_id, group in groups.items() if group}
    for language in sorted(set(languages.values())):
        # The archive may hold only the default language: render what a recipient reads.
        missing = [
            unit for unit in units
            if languages.get(unit.grain_id) == language and not _archived(settings, kind_name, unit, language)
        ]  # fmt: skip
        if missing:
            render(kind, url, missing, settings.output_path, settings.templates_path, language=language,
                   breaches_shown=settings.report_breaches_shown, workers=workers,
                   needs_approval=needs_approval)  # fmt: skip
    for unit in units:
        group = groups[unit.grain_id]
        if group is None:
            continue
        if group.approval and not _approved(settings, url, kind_name, period, unit, group.language, summary):
            continue
        _send_unit(settings, url, recipients, config, kind_name, unit, group, quality, summary,
                   resend=resend, corrections=corrections)  # fmt: skip
    if summary.awaiting_approval:
        _alert(settings, recipients, config, "awaiting", summary, title_of=kind_name, period=period,
               reports="\n".join(summary.awaiting_approval),
               send=approval.send_command(kind_name, period.slug))  # fmt: skip
    return summary


def _approved(settings: Settings, url: str, kind_name: str, period: Period, unit, language: str,
              summary: SendSummary) -> bool:  # fmt: skip
    """Whether the archived report was rendered approved; if not, note and log it as awaiting approval."""
    html = archive_files(settings.output_path, kind_name, unit, language)["html"]
    archived = approval.archived_state(html)
    if archived is not None and archived.approval == "approved":
        return True
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        given = (
            approval.approvals(cur, kind_name, unit.period.slug, unit.grain_id, archived.fingerprint)
            if archived
            else {}
        )
    role = "approved" if "reviewed" in given else "reviewed"
    # The period the command takes (a quarterly project's report is approved by its quarter's last month).
    command = approval.approve_command(kind_name, period.slug, unit.grain_id, role)
    log.info("%s %s %s awaits approval: %s", kind_name, unit.period.slug, unit.grain_id, command)
    summary.awaiting_approval.append(command)
    _log(url, kind_name, unit.period, unit.grain_id, language, [], "", "awaiting_approval")
    return False


def _send_unit(settings, url, recipients, config, kind_name, unit, group: Group, quality, summary, *,
               resend, corrections) -> None:  # fmt: skip
    files = archive_files(settings.output_path, kind_name, unit, group.language)
    checksum = _checksum(files)
    with psycopg.connect(url) as conn:
        sent = conn.execute(SENT, (kind_name, unit.period.slug, unit.grain_id)).fetchall()
    same = {recipient for recipient, digest in sent if digest == checksum}
    other = {recipient for recipient, digest in sent if digest != checksum} - same
    pending, is_correction = [], False
    for address in group.envelope:
        if resend or address not in same | other:
            pending.append(address)
        elif address in other and corrections:
            pending.append(address)
            is_correction = True
        elif address in other:
            summary.changed.append(f"{unit.grain_id} → {address}")
        else:
            summary.already_sent += 1
    if not pending:
        return
    catalogue, env = _templates(settings.templates_path, group.language)
    sender = sender_for(settings, config, group.language)
    with tempfile.TemporaryDirectory() as folder:
        # The register as it is now, not part of the checksum: its workbook changes with every export.
        register = (
            export_register(url, settings.templates_path, Path(folder) / "register.xlsx", group.language,
                            unit.period, department=unit.grain_id if unit.grain == "department" else None).path
            if group.improvement_register
            else None
        )  # fmt: skip
        with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
            message = report_message(cur, env, catalogue, kind_name, unit, files, group, sender,
                                     correction=is_correction, data_quality=quality,
                                     data_owner=recipients.data_owner, register=register)  # fmt: skip
    stem = f"{kind_name}-{unit.period.slug}-{unit.grain_id}.{group.language}"
    if config is None:
        summary.written.append(transport.write_to_outbox(message, pending, settings.outbox_path, stem))
        _log(url, kind_name, unit.period, unit.grain_id, group.language, pending, checksum, "written")
        return
    try:
        attempts = transport.send(message, pending, config, attempts=settings.mail_attempts,
                                  delay=settings.mail_retry_delay)  # fmt: skip
    except transport.DeliveryFailed as error:
        log.error("%s %s %s not sent: %s", kind_name, unit.period.slug, unit.grain_id, error)
        summary.failed.append(f"{unit.grain_id}: {error}")
        _log(url, kind_name, unit.period, unit.grain_id, group.language, pending, checksum, "failed",
             attempts=settings.mail_attempts, error=str(error))  # fmt: skip
        _alert(settings, recipients, config, "failed", summary, title_of=kind_name, period=unit.period,
               name=unit.grain_id, addresses=", ".join(pending), error=str(error), path=files["pdf"])  # fmt: skip
        return
    _log(url, kind_name, unit.period, unit.grain_id, group.language, pending, checksum, "sent",
         attempts=attempts, correction=is_correction)  # fmt: skip
    summary.sent += [f"{unit.grain_id} → {address}" for address in pending]


def sender_for(settings: Settings, config: transport.SmtpConfig | None, language: str) -> str:
    """The From of a message in ``language``: mail_from (or the Airflow connection's ``from``) in Chinese;
    in English mail_from_en, or else that address under the English catalogue's sender name."""
    sender = config.sender if config else settings.mail_from
    if language != "en":
        return sender
    name = _templates(settings.templates_path, language)[0]["workbook"]["sender_name"]
    return settings.mail_from_en or formataddr((name, parseaddr(sender)[1]))


@functools.cache
def _templates(templates_dir: Path, language: str) -> tuple[dict[str, Any], jinja2.Environment]:
    """The catalogue and Jinja environment of a language, read once per process, not once per message."""
    catalogue = load_catalogue(templates_dir, language)
    return catalogue, build_environment(templates_dir, catalogue)


def _archived(settings: Settings, kind_name: str, unit, language: str) -> bool:
    return all(path.exists() for path in archive_files(settings.output_path, kind_name, unit, language).values())


def _checksum(files: dict[str, Path]) -> str:
    digest = hashlib.sha256()
    for fmt in FORMATS:
        digest.update(files[fmt].read_bytes())
    return digest.hexdigest()


def _log(url, kind_name, period: Period, unit_id, language, recipients, checksum, status, *,
         attempts=0, correction=False, error=None) -> None:  # fmt: skip
    with psycopg.connect(url) as conn:
        for recipient in recipients or [""]:
            conn.execute(
                "insert into raw.mail_log (report_kind, period, unit_id, language, recipient, checksum, status,"
                " is_correction, attempts, error) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (kind_name, period.slug, unit_id, language, recipient, checksum, status, correction, attempts, error),
            )


def _alert(settings: Settings, recipients: Recipients, config, reason: str, summary: SendSummary, *,
           title_of: str, period: Period, **values: Any) -> None:  # fmt: skip
    """Tell the data owner, by mail if possible, else into the outbox; an alert is never lost silently."""
    owner = recipients.data_owner
    t = load_catalogue(settings.templates_path, owner.language)
    names = {"title": t["titles"][title_of], "period": period.label(t), "name": "", **values}
    texts = t["approval"] if reason == "awaiting" else t["mail"]  # the approval step's texts are in their own section
    subject, text = texts[f"{reason}_subject"].format(**names), texts[reason].format(**names)
    message = alert_message(sender_for(settings, config, owner.language), owner, subject, text)
    deliver_alert(settings, config, message, owner, f"alert-{reason}-{title_of}-{period.slug}", summary.written)


def deliver_alert(settings: Settings, config, message: EmailMessage, owner: Group, stem: str, written: list[Path]):
    if config is not None:
        try:
            transport.send(message, owner.envelope, config, attempts=settings.mail_attempts,
                           delay=settings.mail_retry_delay)  # fmt: skip
            return
        except transport.DeliveryFailed as error:
            log.error("alert to the data owner not sent (%s); written to the outbox", error)
    written.append(transport.write_to_outbox(message, owner.envelope, settings.outbox_path, stem))
