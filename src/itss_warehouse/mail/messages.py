"""A report e-mail: a summary in HTML (headline KPIs against targets), the PDF and XLSX attached.

Subjects and file names are in the recipient's language; Python's e-mail package encodes
Chinese subjects as RFC 2047 encoded words and Chinese file names as RFC 2231 parameters.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

import jinja2

from itss_warehouse.mail.recipients import Group
from itss_warehouse.reports import sections
from itss_warehouse.reports.base import Cursor, Unit
from itss_warehouse.reports.data_quality import quarantined
from itss_warehouse.reports.kinds import KINDS

TEMPLATE = "mail.html.j2"
ATTACHED = {
    "pdf": ("application", "pdf"),
    "xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
# The few KPIs a reader should see before opening the attachment.
HEADLINE_KPIS = {
    "service_report": ["SLA_ATTAINMENT", "RESPONSE_ON_TIME", "RESOLUTION_ON_TIME", "CALLBACK_COVERAGE"],
    "process_report": ["SLA_ATTAINMENT", "RESOLUTION_ON_TIME", "CALLBACK_COVERAGE", "MAJOR_INCIDENTS"],
    "quality_report": ["SLA_ATTAINMENT", "RESOLUTION_ON_TIME", "REPORT_DELIVERY", "COMPLAINT_CLOSURE"],
    "annual_report": ["SLA_ATTAINMENT", "CSAT", "AUDIT_COVERAGE", "FINDING_CLOSURE", "COMPLAINT_CLOSURE"],
    "satisfaction_report": ["CSAT", "SURVEY_COVERAGE"],
}


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
) -> EmailMessage:
    t = catalogue["mail"]
    title = catalogue["titles"][kind]
    name = unit.facts.get("project_name") or unit.facts.get("department_name") or t["organisation"]
    period = unit.period.label(catalogue)
    subject = t["subject"].format(title=title, name=name, period=period)
    attachments = {fmt: f"{title}-{unit.grain_id}-{unit.period.slug}.{fmt}" for fmt in ATTACHED if fmt in files}
    kpis = [row for row in sections.scorecard(cur, unit) if row["kpi_code"] in HEADLINE_KPIS[kind]]
    html = env.get_template(TEMPLATE).render(
        t=catalogue, title=title, name=name, period=period, kpis=kpis, attachments=attachments.values(),
        correction=correction, data_quality=data_quality, quarantine=quarantined(cur, unit.params),
        internal=KINDS[kind].audience == "internal",
    )  # fmt: skip
    message = _envelope(sender, group, (t["correction"] if correction else "") + subject)
    message.set_content(t["plain_text"].format(title=title, name=name, period=period))
    message.add_alternative(html, subtype="html")
    for fmt, filename in attachments.items():
        maintype, subtype = ATTACHED[fmt]
        message.add_attachment(files[fmt].read_bytes(), maintype=maintype, subtype=subtype, filename=filename)
    return message


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
