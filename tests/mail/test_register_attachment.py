"""The quality department's report e-mail carries the improvement register workbook (issue 28, item 5),
sent through the real loopback SMTP server; a customer's group cannot ask for it."""

from __future__ import annotations

import email
import io
from email import policy
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from support.report_fixture import FIXTURE
from support.smtp_server import PASSWORD, USER

from itss_warehouse.ingest.improvement_workbook import export_register
from itss_warehouse.mail.recipients import RecipientsError, load_recipients
from itss_warehouse.mail.sending import send_reports
from itss_warehouse.reports.formatting import Period
from itss_warehouse.settings import Settings

RECIPIENTS = """
data_owner: {to: [owner@itss.example.cn]}
organisation:
  annual_report: {to: [质量部 <quality@itss.example.cn>], language: en, improvement_register: true}
  process_report: {to: [pmo@itss.example.cn]}
"""


@pytest.fixture()
def url(create_database) -> str:
    url = create_database("mail_register")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURE)
        # An item of 2025: outside the 2026 report's period, so not in its register.
        conn.execute(
            "insert into marts.improvement_items (item_id, kind, grain, grain_id, period_type, period_start,"
            " owner, due_date, raised_date, state) values ('H-2025', 'audit', 'organisation', 'ORG', 'month',"
            " '2025-05-01', '管理者代表', '2025-06-30', '2025-05-10', 'overdue')"
        )
    return url


def _settings(tmp_path: Path, port: int, certificate) -> Settings:
    recipients = tmp_path / "recipients.yml"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    return Settings(_env_file=None, home=tmp_path / "home", recipients_file=recipients, smtp_host="127.0.0.1",
                    smtp_port=port, smtp_user=USER, smtp_password=PASSWORD, smtp_ca_file=str(certificate[0]))  # fmt: skip


def test_the_quality_departments_mail_has_the_register_of_the_reports_period(smtp, url, tmp_path, certificate):
    handler, port = smtp
    settings = _settings(tmp_path, port, certificate)
    summary = send_reports(settings, url, "annual_report", Period.parse("2026"))
    assert summary.failed == [] and summary.sent == ["organisation → quality@itss.example.cn"]
    [(recipients, raw)] = handler.messages
    message = email.message_from_bytes(raw, policy=policy.default)
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert sorted(attachments) == [
        "Annual service quality management report-organisation-2026.pdf",
        "Annual service quality management report-organisation-2026.xlsx",
        "Improvement register-organisation-2026.xlsx",
    ]
    workbook = load_workbook(io.BytesIO(attachments["Improvement register-organisation-2026.xlsx"]))
    sheet = workbook["Improvements"]  # the English register, as the group reads
    header = [cell.value for cell in sheet[1]]
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert ids == ["i-a-08", "i-a-10"]  # 2026's items, by due date; not H-2025
    states = dict(
        zip(
            ids,
            [row[header.index("Status")] for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)],
            strict=True,
        )
    )
    assert states == {"i-a-08": "Verified effective", "i-a-10": "Open"}
    # The owner by name (the project manager's), never the marts' pseudonym.
    assert {row[header.index("Owner")] for row in sheet.iter_rows(min_row=2, max_row=3, values_only=True)} == {"李四"}


def test_a_group_without_the_flag_gets_no_register(smtp, url, tmp_path, certificate):
    handler, port = smtp
    send_reports(_settings(tmp_path, port, certificate), url, "process_report", Period.parse("2026-10"))
    [(_, raw)] = handler.messages
    names = [part.get_filename() for part in email.message_from_bytes(raw, policy=policy.default).iter_attachments()]
    assert names == ["过程运行监控报告-organisation-2026-10.pdf", "过程运行监控报告-organisation-2026-10.xlsx"]


def test_a_customers_group_cannot_ask_for_the_register(tmp_path):
    path = tmp_path / "recipients.yml"
    path.write_text(
        "data_owner: {to: [ok@itss.example.cn]}\nprojects:\n  P001: {to: [a@b.cn], improvement_register: true}\n"
    )
    with pytest.raises(RecipientsError, match=r"projects: .*the improvement register is internal"):
        load_recipients(path)
    path.write_text("data_owner: {to: [ok@itss.example.cn], improvement_register: true}\n")
    with pytest.raises(RecipientsError, match=r"data_owner: .*attached to organisation reports, not to alerts"):
        load_recipients(path)


def test_a_departments_register_holds_its_projects_items_only(url, tmp_path):
    templates = Path(__file__).resolve().parents[2] / "reports"
    half_year = Period.parse("2026-H2")
    d1 = export_register(url, templates, tmp_path / "d1.xlsx", "en", half_year, department="D1")
    d2 = export_register(url, templates, tmp_path / "d2.xlsx", "en", half_year, department="D2")
    assert (d1.items, d2.items) == (2, 0)  # PRJ-A (D1)'s August and October misses; D2's PRJ-B has none
    ids = [row[0] for row in load_workbook(d1.path)["Improvements"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert ids == ["i-a-08", "i-a-10"]
