"""The approval step: drafts until reviewed and approved, the customer's e-mail held until then (real
loopback SMTP), the data owner reminded, approvals recorded by the command line, and changed figures
making an approved report a draft again."""

from __future__ import annotations

import datetime as dt
import email
import getpass
import re
import subprocess
from email import policy
from pathlib import Path

import psycopg
import pytest
from support.report_fixture import FIXTURE
from support.smtp_server import PASSWORD, USER
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.mail.recipients import RecipientsError, load_recipients
from itss_warehouse.mail.sending import send_reports
from itss_warehouse.reports.approval import archived_state
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import render_period
from itss_warehouse.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period.parse("2026-10")
OWNER = "data-owner@itss.example.cn"
CUSTOMER = "ops@bank.example.cn"
# PRJ-A's customer receives its service report only once approved; PRJ-B's as soon as it is rendered.
RECIPIENTS = f"""
data_owner: {{to: [数据负责人 <{OWNER}>]}}
projects:
  PRJ-A: {{to: [{CUSTOMER}], cc: [pm@itss.example.cn], approval: true}}
  PRJ-B: {{to: [desk@acme.example.com], language: en}}
"""
APPROVE_A = ["report", "approve", "service", "--period", "2026-10", "--project", "PRJ-A"]


@pytest.fixture()
def url(create_database) -> str:
    url = create_database("approval")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURE)
    return url


@pytest.fixture()
def settings(tmp_path, smtp, certificate) -> Settings:
    recipients = tmp_path / "recipients.yml"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    return Settings(_env_file=None, home=tmp_path / "home", recipients_file=recipients, mail_retry_delay=0.01,
                    mail_attempts=2, smtp_host="127.0.0.1", smtp_port=smtp[1], smtp_user=USER,
                    smtp_password=PASSWORD, smtp_ca_file=str(certificate[0]))  # fmt: skip


def _itss(settings: Settings, url: str, *args: str):
    env = {
        "ITSS_WAREHOUSE_URL": url, "ITSS_HOME": str(settings.home), "ITSS_RECIPIENTS_FILE": str(settings.recipients_file),
        "ITSS_SMTP_HOST": settings.smtp_host, "ITSS_SMTP_PORT": str(settings.smtp_port), "ITSS_SMTP_USER": USER,
        "ITSS_SMTP_PASSWORD": PASSWORD, "ITSS_SMTP_CA_FILE": settings.smtp_ca_file,
    }  # fmt: skip
    return CliRunner().invoke(app, list(args), env=env)


def _html(settings: Settings, unit_id: str = "PRJ-A", language: str = "zh-CN") -> Path:
    return settings.output_path / "service_report" / "2026-10" / f"{unit_id}.{language}.html"


def _pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _to(handler, address: str) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(raw, policy=policy.default) for rcpts, raw in handler.messages if address in rcpts]


def test_a_report_needing_approval_waits_for_review_and_approval_then_goes_out_once(smtp, url, settings):
    handler, _ = smtp
    first = send_reports(settings, url, "service_report", OCTOBER)
    # PRJ-B goes out as before; PRJ-A is a draft, held back, and the data owner told how to approve it.
    assert first.sent == ["PRJ-B → desk@acme.example.com"]
    assert first.awaiting_approval == ["itss report approve service --period 2026-10 --project PRJ-A --as reviewed"]
    assert _to(handler, CUSTOMER) == []
    [reminder] = _to(handler, OWNER)
    assert reminder["Subject"] == "报告待批准：服务报告（2026年10月）"
    text = reminder.get_content()
    assert "itss report approve service --period 2026-10 --project PRJ-A --as reviewed" in text
    assert "批准后运行 itss mail service --period 2026-10 发送" in text
    draft = _html(settings).read_text(encoding="utf-8")
    assert '<p class="draft-mark">草稿</p>' in draft
    assert "DRAFT" not in _html(settings, "PRJ-B", "en").read_text(encoding="utf-8")
    with psycopg.connect(url) as conn:
        assert conn.execute(
            "select unit_id, status from raw.mail_log where status = 'awaiting_approval'"
        ).fetchall() == [("PRJ-A", "awaiting_approval")]

    reviewed = _itss(settings, url, *APPROVE_A, "--as", "reviewed", "--by", "张三")
    assert reviewed.exit_code == 0, reviewed.output
    assert "Next: itss report approve service --period 2026-10 --project PRJ-A --as approved" in reviewed.output
    second = send_reports(settings, url, "service_report", OCTOBER)  # reviewed is not approved
    assert second.sent == [] and second.awaiting_approval == [
        "itss report approve service --period 2026-10 --project PRJ-A --as approved"
    ]
    assert _to(handler, CUSTOMER) == [] and len(_to(handler, OWNER)) == 2

    approved = _itss(settings, url, *APPROVE_A, "--as", "approved", "--by", "王五")
    assert approved.exit_code == 0, approved.output
    assert "Approved: `itss mail service --period 2026-10` sends it." in approved.output
    html = _html(settings).read_text(encoding="utf-8")
    assert "草稿" not in html and re.search(r"<th>审核</th>\s*<td>张三</td>\s*<td>2\d{3}-\d\d-\d\d</td>", html)
    assert re.search(r"<th>批准</th>\s*<td>王五</td>\s*<td>2\d{3}-\d\d-\d\d</td>", html)
    pdf = _pdf_text(settings.output_path / "service_report" / "2026-10" / "PRJ-A.zh-CN.pdf")
    assert re.search(r"批准\s+王五", pdf) and "草稿" not in pdf  # the archived PDF shows the approval too
    third = send_reports(settings, url, "service_report", OCTOBER)
    assert third.sent == [f"PRJ-A → {CUSTOMER}", "PRJ-A → pm@itss.example.cn"] and third.awaiting_approval == []
    [sent] = _to(handler, CUSTOMER)
    attached = {part.get_filename(): part.get_content() for part in sent.iter_attachments()}
    assert attached["服务报告-PRJ-A-2026-10.pdf"] == (_html(settings).with_suffix(".pdf")).read_bytes()
    fourth = send_reports(settings, url, "service_report", OCTOBER)  # exactly once
    assert fourth.sent == [] and fourth.already_sent == 3 and len(_to(handler, CUSTOMER)) == 1


def test_the_approvals_are_recorded_with_who_when_and_the_content_they_were_given_for(smtp, url, settings):
    send_reports(settings, url, "service_report", OCTOBER)  # renders PRJ-A's draft
    english = _itss(settings, url, "report", "service", "--period", "2026-10", "--project", "PRJ-A", "--lang", "en",
                    "--workers", "1")  # fmt: skip
    assert english.exit_code == 0, english.output
    before = dt.datetime.now(dt.UTC)
    assert _itss(settings, url, *APPROVE_A, "--as", "reviewed", "--by", "张三").exit_code == 0
    assert _itss(settings, url, *APPROVE_A, "--as", "approved").exit_code == 0  # by the OS user
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select report_kind, period, unit_id, role, approved_by, approved_at, fingerprint"
            " from raw.report_approvals order by approval_id"
        ).fetchall()
    assert [row[:5] for row in rows] == [
        ("service_report", "2026-10", "PRJ-A", "reviewed", "张三"),
        ("service_report", "2026-10", "PRJ-A", "approved", getpass.getuser()),
    ]
    assert all(before <= row[5] <= dt.datetime.now(dt.UTC) for row in rows)
    # One approval for the content, whatever its language: both archived languages show it.
    states = {archived_state(_html(settings, language=language)) for language in ("zh-CN", "en")}
    assert len(states) == 1
    [state] = states
    assert state is not None and state.approval == "approved" and {row[6] for row in rows} == {state.fingerprint}
    english = _html(settings, language="en").read_text(encoding="utf-8")
    assert re.search(r"<th>Reviewed by</th>\s*<td>张三</td>", english)
    assert re.search(rf"<th>Approved by</th>\s*<td>{re.escape(getpass.getuser())}</td>", english)


def test_changed_figures_after_approval_make_the_report_a_draft_again(smtp, url, settings):
    handler, _ = smtp
    send_reports(settings, url, "service_report", OCTOBER)
    _itss(settings, url, *APPROVE_A, "--as", "reviewed", "--by", "张三")
    _itss(settings, url, *APPROVE_A, "--as", "approved", "--by", "王五")
    approved = archived_state(_html(settings))
    # Rendering again with the same data keeps the approval (the fingerprint is the data's) …
    render_period(KINDS["service_report"], url, OCTOBER, settings.output_path, TEMPLATES_DIR, unit_ids=["PRJ-A"],
                  needs_approval={"PRJ-A"})  # fmt: skip
    assert archived_state(_html(settings)) == approved
    # … corrected figures do not: the report is a draft again, and is not sent.
    with psycopg.connect(url) as conn:
        conn.execute("update marts.kpi_scorecard set value = 0.8, numerator = 4, denominator = 5"
                     " where grain_id = 'PRJ-A' and kpi_code = 'SLA_ATTAINMENT' and period_start = '2026-10-01'")  # fmt: skip
    render_period(KINDS["service_report"], url, OCTOBER, settings.output_path, TEMPLATES_DIR, unit_ids=["PRJ-A"],
                  needs_approval={"PRJ-A"})  # fmt: skip
    changed = archived_state(_html(settings))
    assert changed is not None and changed.approval == "draft" and changed.fingerprint != approved.fingerprint
    html = _html(settings).read_text(encoding="utf-8")
    assert "草稿" in html and "王五" not in html
    summary = send_reports(settings, url, "service_report", OCTOBER)
    assert summary.sent == [] and summary.awaiting_approval[0].endswith("--as reviewed")
    assert _to(handler, CUSTOMER) == []


def test_approving_says_what_is_wrong(smtp, url, settings):
    nothing = _itss(settings, url, *APPROVE_A, "--as", "reviewed")
    assert nothing.exit_code == 1
    assert (
        "nothing rendered to approve for the service_report PRJ-A 2026-10: run `itss report service" in nothing.output
    )
    send_reports(settings, url, "service_report", OCTOBER)
    early = _itss(settings, url, *APPROVE_A, "--as", "approved")
    assert early.exit_code == 1 and "has not been reviewed in its current content" in early.output
    not_required = _itss(settings, url, "report", "approve", "service", "--period", "2026-10", "--project", "PRJ-B",
                         "--as", "reviewed")  # fmt: skip
    assert not_required.exit_code == 1 and "needs no approval: set `approval: true`" in not_required.output
    unknown = _itss(settings, url, "report", "approve", "service", "--period", "2026-10", "--project", "PRJ-X",
                    "--as", "reviewed")  # fmt: skip
    assert unknown.exit_code == 1 and "no service_report for PRJ-X in 2026-10" in unknown.output
    wrong_period = _itss(settings, url, "report", "approve", "service", "--period", "2026", "--project", "PRJ-A",
                         "--as", "reviewed")  # fmt: skip
    assert wrong_period.exit_code == 1 and "takes a month period" in wrong_period.output
    unnamed = _itss(settings, url, "report", "approve", "service", "--period", "2026-10", "--as", "reviewed")
    assert unnamed.exit_code == 2 and "--project" in unnamed.output
    role = _itss(settings, url, *APPROVE_A, "--as", "signed")
    assert role.exit_code == 2 and "reviewed, approved" in role.output
    with psycopg.connect(url) as conn:
        # Nothing recorded: the failed attempts rolled back even the table's creation.
        assert conn.execute("select to_regclass('raw.report_approvals')").fetchone() == (None,)


def test_rendering_by_the_command_line_marks_drafts(url, settings):
    rendered = _itss(settings, url, "report", "service", "--period", "2026-10", "--format", "html", "--workers", "1")
    assert rendered.exit_code == 0, rendered.output
    assert "Drafts until approved (itss report approve service --period 2026-10 …): PRJ-A" in rendered.output
    assert archived_state(_html(settings)).approval == "draft"
    assert archived_state(_html(settings, "PRJ-B")).approval == "not_required"


def test_approval_is_for_report_groups_only(tmp_path):
    path = tmp_path / "recipients.yml"
    path.write_text("data_owner: {to: [ok@itss.example.cn], approval: true}\n", encoding="utf-8")
    with pytest.raises(RecipientsError, match=r"data_owner: approval applies to the groups of projects"):
        load_recipients(path)
    path.write_text("data_owner: {to: [ok@itss.example.cn]}\nprojects:\n  P001: {to: [a@b.cn], approval: maybe}\n")
    with pytest.raises(RecipientsError, match=r"projects\.P001\.approval"):
        load_recipients(path)


def test_the_dags_send_step_ends_with_approvals_pending_and_says_so(smtp, url, settings, monkeypatch, caplog, capfd):
    import json

    from itss_warehouse import pipeline

    handler, port = smtp
    connection = {"conn_type": "smtp", "host": "127.0.0.1", "port": port, "login": USER, "password": PASSWORD,
                  "extra": {"ca_file": settings.smtp_ca_file}}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_ITSS_SMTP", json.dumps(connection))
    for name, value in {"WAREHOUSE_URL": url, "HOME": str(settings.home),
                        "RECIPIENTS_FILE": str(settings.recipients_file)}.items():  # fmt: skip
        monkeypatch.setenv(f"ITSS_{name}", value)
    with caplog.at_level("INFO"):
        result = pipeline.send_reports("service_report", dt.date(2026, 11, 1))  # returns: nothing waits
    assert result["sent"] == ["PRJ-B → desk@acme.example.com"]
    assert result["awaiting_approval"] == ["itss report approve service --period 2026-10 --project PRJ-A --as reviewed"]
    # The task's log: captured by pytest, or written to the output once Airflow's logging has taken over.
    logged = caplog.text + "".join(capfd.readouterr())
    assert "service_report 2026-10: 1 report(s) await approval and were not sent; the data owner was reminded" in logged
    assert len(_to(handler, OWNER)) == 1  # the reminder went through the Airflow connection's server


def test_a_mail_log_from_before_the_approval_step_takes_its_status(url):
    from itss_warehouse.mail.sending import ensure_mail_log

    with psycopg.connect(url) as conn:
        conn.execute(
            "create table raw.mail_log (mail_id bigserial primary key, report_kind text not null, period text not null,"
            " unit_id text not null, language text not null, recipient text not null, checksum text not null,"
            " status text not null check (status in ('sent', 'failed', 'written', 'withheld')),"
            " is_correction boolean not null default false, attempts integer not null default 0, error text,"
            " logged_at timestamptz not null default now())"
        )
    ensure_mail_log(url)
    ensure_mail_log(url)  # once brought up to date, left alone
    with psycopg.connect(url) as conn:
        insert = "insert into raw.mail_log (report_kind, period, unit_id, language, recipient, checksum, status)"
        conn.execute(insert + " values ('service_report', '2026-10', 'PRJ-A', 'zh-CN', '', '', 'awaiting_approval')")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(insert + " values ('service_report', '2026-10', 'PRJ-A', 'zh-CN', '', '', 'lost')")
