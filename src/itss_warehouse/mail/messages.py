"""A report e-mail: a summary in HTML (headline KPIs against targets), the PDF and XLSX attached.

Subjects, sender names and file names are in the recipient's language. Python's e-mail package
encodes Chinese subjects as RFC 2047 encoded words; attachment names are written both ways
(``attachment_headers``). The body's styles are inlined (``inline_styles``) and it names whom to
ask, since it asks for no reply: the project's manager (restricted.project_managers holds their
name only, no address or phone) and the data owner's address from the recipients file.
"""

from __future__ import annotations

from base64 import b64encode
from email.message import EmailMessage
from email.policy import Policy
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2

from itss_warehouse.mail.inline_styles import inline_styles
from itss_warehouse.mail.recipients import Group
from itss_warehouse.reports import sections
from itss_warehouse.reports.base import Cursor, Unit
from itss_warehouse.reports.data_quality import quarantined, withdrawals
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.quality_statement import quality_statement

TEMPLATE = "mail.html.j2"
STYLESHEET = "mail.css"
ATTACHED = {
    "pdf": ("application", "pdf"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
PROJECT_MANAGER = "select project_manager from restricted.project_managers where project_id = %(grain_id)s"


def report_message(
    cur: Cursor,
    env: jinja2.Environment,
    catalogue: dict[str, Any],
    kind: str,
    unit: Unit,
    files: dict[str, Path],
    group: Group,
    sender: str,
    *,
    correction: bool,
    data_quality: dict[str, Any],
    data_owner: Group,
    register: Path | None = None,
) -> EmailMessage:
    """The report's message; ``register``, the improvement register workbook, attached too when given."""
    t = catalogue["mail"]
    title = catalogue["titles"][kind]
    name = unit.facts.get("project_name") or unit.facts.get("department_name") or t["organisation"]
    period = unit.period.label(catalogue)
    subject = t["subject"].format(title=title, name=name, period=period)
    attachments = {fmt: f"{title}-{unit.grain_id}-{unit.period.slug}.{fmt}" for fmt in ATTACHED if fmt in files}
    files = dict(files)
    if register is not None:
        files["register"] = register
        attachments["register"] = f"{catalogue['register']['title']}-{unit.grain_id}-{unit.period.slug}.xlsx"
    report = KINDS[kind]
    # The report's own KPI rows (the PDF's and the workbook's), of them the headline.
    kpis = [row for row in sections.scorecard(cur, unit, report.kpi_codes) if row["kpi_code"] in report.headline_kpis]
    internal = report.audience == "internal"
    statement = quality_statement(
        catalogue,
        internal=internal,
        status=data_quality,
        quarantine=quarantined(cur, unit.params),
        withdrawals=withdrawals(cur, unit.params),
    )
    manager = cur.execute(PROJECT_MANAGER, unit.params).fetchone() if unit.grain == "project" else None
    html = env.get_template(TEMPLATE).render(
        t=catalogue, title=title, name=name, period=period, kpis=kpis, attachments=attachments.values(),
        correction=correction, data_quality=data_quality, quality_statement=statement, internal=internal,
        manager=manager and manager["project_manager"], data_owner=parseaddr(data_owner.to[0])[1],
    )  # fmt: skip
    stylesheet = env.get_template(STYLESHEET).render()
    message = _envelope(sender, group, (t["correction"] if correction else "") + subject)
    message.set_content(t["plain_text"].format(title=title, name=name, period=period))
    message.add_alternative(inline_styles(html, stylesheet), subtype="html")
    for fmt, filename in attachments.items():
        maintype, subtype = ATTACHED["xlsx" if fmt == "register" else fmt]
        message.add_attachment(files[fmt].read_bytes(), maintype=maintype, subtype=subtype)
        part = list(message.iter_attachments())[-1]
        content_type, disposition = attachment_headers(f"{maintype}/{subtype}", filename)
        part.replace_header("Content-Type", content_type)
        part.replace_header("Content-Disposition", disposition)
    return message


class _Written(str):
    """A header value written as it is, one parameter a line: the e-mail policy would refold it and
    rewrite an RFC 2047 file name as an RFC 2231 one (the only form Python writes for non-ASCII names)."""

    name: str
    parameters: list[str]

    def __new__(cls, name: str, parameters: list[str]) -> _Written:
        value = super().__new__(cls, "; ".join(parameters))
        value.name, value.parameters = name, parameters
        return value

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: " + f";{policy.linesep} ".join(self.parameters) + policy.linesep


def attachment_headers(content_type: str, filename: str) -> tuple[_Written, _Written]:
    """Content-Type with ``name`` and Content-Disposition with ``filename`` as RFC 2047 encoded words
    (Outlook reads only these), and ``filename*`` as RFC 2231 (the standard, which other clients prefer)."""
    # Whole characters per encoded word, each word within RFC 2047's 75 characters.
    words = " ".join(
        f"=?utf-8?b?{b64encode(filename[start : start + 12].encode()).decode()}?="
        for start in range(0, len(filename), 12)
    )
    encoded = f"utf-8''{quote(filename, safe='')}"
    return (
        _Written("Content-Type", [content_type, f'name="{words}"']),
        _Written("Content-Disposition", ["attachment", f'filename="{words}"', f"filename*={encoded}"]),
    )


def alert_message(sender: str, group: Group, subject: str, text: str) -> EmailMessage:
    """A plain-text alert for the data owner."""
    message = _envelope(sender, group, subject)
    message.set_content(text)
    return message


def _envelope(sender: str, group: Group, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(group.to)
    if group.cc:
        message["Cc"] = ", ".join(group.cc)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].rstrip(">") or None)
    return message  # Bcc stays out of the headers: it is only in the SMTP envelope
