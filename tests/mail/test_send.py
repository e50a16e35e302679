"""Report e-mails against a real SMTP server on loopback (aiosmtpd, STARTTLS and AUTH required)."""

from __future__ import annotations

import email
import re
from email import policy
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import unquote

import psycopg
import pytest
from support.report_fixture import FIXTURE
from support.smtp_server import PASSWORD, USER
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.mail.recipients import RecipientsError, load_recipients
from itss_warehouse.mail.sending import send_reports
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import render_period
from itss_warehouse.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period.parse("2026-10")
OWNER = "data-owner@itss.example.cn"
RECIPIENTS = f"""
data_owner: {{to: [数据负责人 <{OWNER}>]}}
projects:
  PRJ-A: {{to: [张三 <ops@bank.example.cn>], cc: [pm@itss.example.cn], bcc: [audit@itss.example.cn]}}
  PRJ-B: {{to: [desk@acme.example.com], language: en}}
"""


@pytest.fixture()
def url(create_database) -> str:
    url = create_database("mail")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURE)
    return url


def _settings(tmp_path: Path, port: int | None, certificate, **overrides) -> Settings:
    recipients = tmp_path / "recipients.yml"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_user": USER, "smtp_password": PASSWORD,
            "smtp_ca_file": str(certificate[0])} if port else {}  # fmt: skip
    return Settings(_env_file=None, home=tmp_path / "home", recipients_file=recipients, mail_retry_delay=0.01,
                    mail_attempts=3, **smtp, **overrides)  # fmt: skip


def _parsed(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=policy.default)


def _mail_log(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select unit_id, recipient, status, is_correction from raw.mail_log order by mail_id"
        ).fetchall()


def test_messages_arrive_with_recipients_subject_body_and_attachments(smtp, url, tmp_path, certificate):
    handler, port = smtp
    settings = _settings(tmp_path, port, certificate)
    summary = send_reports(settings, url, "service_report", OCTOBER)
    assert summary.failed == [] and summary.written == []
    assert sorted(rcpts for rcpts, _ in handler.messages) == [
        ["desk@acme.example.com"],
        ["ops@bank.example.cn", "pm@itss.example.cn", "audit@itss.example.cn"],
    ]
    raw = next(raw for rcpts, raw in handler.messages if "ops@bank.example.cn" in rcpts)
    assert b"=?utf-8?" in raw.split(b"\r\n\r\n")[0]  # the Chinese subject as RFC 2047 encoded words
    assert b"filename*=utf-8''" in raw  # the Chinese file names as RFC 2231 parameters
    message = _parsed(raw)
    assert message["Subject"] == "服务报告：华东数据中心运维（2026年10月）"
    assert message["To"] == "张三 <ops@bank.example.cn>" and message["Cc"] == "pm@itss.example.cn"
    assert message["Bcc"] is None
    body = message.get_body(("html",)).get_content()
    assert "SLA达成率" in body and "75.0%" in body  # the headline KPI against its target
    archive = tmp_path / "home" / "output" / "service_report" / "2026-10"
    attachments = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attachments == {
        "服务报告-PRJ-A-2026-10.pdf": (archive / "PRJ-A.zh-CN.pdf").read_bytes(),
        "服务报告-PRJ-A-2026-10.xlsx": (archive / "PRJ-A.zh-CN.xlsx").read_bytes(),
    }
    english = _parsed(next(raw for rcpts, raw in handler.messages if rcpts == ["desk@acme.example.com"]))
    assert english["Subject"] == "Service report: Desk <Support> (October 2026)"
    assert (archive / "PRJ-B.en.pdf").exists()  # rendered in the recipient's language for the mail


def test_the_html_body_has_inline_styles_the_reports_kpis_and_whom_to_ask(smtp, url, tmp_path, certificate):
    handler, port = smtp
    send_reports(_settings(tmp_path, port, certificate), url, "service_report", OCTOBER)
    raw = next(raw for rcpts, raw in handler.messages if "ops@bank.example.cn" in rcpts)
    body = _parsed(raw).get_body(("html",)).get_content()
    # Many mail clients drop a <style> element: every rule is in the tags' style attributes.
    assert "<style" not in body and "{" not in body
    assert re.search(r'<td class="num" style="[^"]*text-align: right', body)
    assert re.search(r'<th style="[^"]*background: #f0f0f0', body)
    assert re.search(r'<span class="ok" style="color: #1a7f37">数据校验通过</span>', body)
    # The KPIs the report states, not the scorecard's others (CHANGE_SUCCESS is not in the PDF).
    assert "SLA达成率" in body and "变更成功率" not in body
    # The body asks for no reply: it names the project manager and the data owner's address instead.
    assert f"如有疑问，请联系项目经理李四，或数据负责人（{OWNER}）。" in body
    # A customer reads how many records are held back, never the quarantined rows.
    assert "本期有 2 条源记录因数据质量问题暂未计入本报告" in body and "tickets_2026-10.xlsx" not in body


def test_an_english_report_has_an_english_sender_and_subject(smtp, url, tmp_path, certificate):
    handler, port = smtp
    send_reports(_settings(tmp_path, port, certificate), url, "service_report", OCTOBER)
    chinese, english = (
        _parsed(next(raw for rcpts, raw in handler.messages if address in rcpts))
        for address in ("ops@bank.example.cn", "desk@acme.example.com")
    )
    assert chinese["From"] == "ITSS 运维质量报告 <reports@itss.example.cn>"
    assert english["From"] == "ITSS O&M quality reports <reports@itss.example.cn>"
    assert english["Subject"] == "Service report: Desk <Support> (October 2026)"
    body = english.get_body(("html",)).get_content()
    assert f"Questions? Contact the project manager, 李四, or the data owner ({OWNER})." in body
    assert not re.search(r"[\u4e00-\u9fff]", body.replace("李四", ""))  # English but for the data's values


def test_an_english_sender_can_be_configured(smtp, url, tmp_path, certificate):
    handler, port = smtp
    settings = _settings(tmp_path, port, certificate, mail_from_en="Acme IT reports <it-reports@acme.example.com>")
    send_reports(settings, url, "service_report", OCTOBER)
    english = _parsed(next(raw for rcpts, raw in handler.messages if rcpts == ["desk@acme.example.com"]))
    assert english["From"] == "Acme IT reports <it-reports@acme.example.com>"


def _parameters(raw: bytes, header: str) -> dict[str, str]:
    """The parameters of each ``header`` of the raw message, as written (unfolded, not decoded)."""
    found: dict[str, list[str]] = {}
    for match in re.finditer(
        rb"^" + header.encode() + rb": ([^\r\n]*(?:\r\n[ \t][^\r\n]*)*)", raw, re.MULTILINE | re.IGNORECASE
    ):
        value = re.sub(rb"\r\n[ \t]", b" ", match[1]).decode("ascii")
        for parameter in value.split(";")[1:]:
            key, _, text = parameter.strip().partition("=")
            found.setdefault(key, []).append(text.strip('"'))
    return found


def test_attachment_names_are_rfc_2047_encoded_words_and_rfc_2231_parameters(smtp, url, tmp_path, certificate):
    handler, port = smtp
    send_reports(_settings(tmp_path, port, certificate), url, "service_report", OCTOBER)
    raw = next(raw for rcpts, raw in handler.messages if "ops@bank.example.cn" in rcpts)  # as the server received it
    expected = ["服务报告-PRJ-A-2026-10.pdf", "服务报告-PRJ-A-2026-10.xlsx"]
    disposition = _parameters(raw, "Content-Disposition")
    # Outlook reads only name/filename: RFC 2047 encoded words; the others read filename* (RFC 2231).
    assert all(value.startswith("=?utf-8?b?") for value in disposition["filename"])
    assert [str(make_header(decode_header(value))) for value in disposition["filename"]] == expected
    assert [unquote(value.removeprefix("utf-8''")) for value in disposition["filename*"]] == expected
    names = _parameters(raw, "Content-Type")["name"]
    assert [str(make_header(decode_header(value))) for value in names] == expected
    assert [part.get_filename() for part in _parsed(raw).iter_attachments()] == expected


def test_a_second_run_sends_nothing_and_resend_sends_again(smtp, url, tmp_path, certificate):
    handler, port = smtp
    settings = _settings(tmp_path, port, certificate)
    send_reports(settings, url, "service_report", OCTOBER)
    again = send_reports(settings, url, "service_report", OCTOBER)
    assert (len(handler.messages), again.sent, again.already_sent) == (2, [], 4)
    forced = send_reports(settings, url, "service_report", OCTOBER, resend=True)
    assert len(handler.messages) == 4 and len(forced.sent) == 4


def test_corrected_data_is_sent_again_only_when_asked_and_marked(smtp, url, tmp_path, certificate):
    handler, port = smtp
    settings = _settings(tmp_path, port, certificate)
    send_reports(settings, url, "service_report", OCTOBER)
    with psycopg.connect(url) as conn:
        conn.execute("update marts.kpi_scorecard set value = 0.8, numerator = 4, denominator = 5"
                     " where grain_id = 'PRJ-A' and kpi_code = 'SLA_ATTAINMENT' and period_start = '2026-10-01'")  # fmt: skip
    render_period(KINDS["service_report"], url, OCTOBER, settings.output_path, TEMPLATES_DIR, unit_ids=["PRJ-A"])
    quiet = send_reports(settings, url, "service_report", OCTOBER)
    assert len(handler.messages) == 2 and len(quiet.changed) == 3
    send_reports(settings, url, "service_report", OCTOBER, corrections=True)
    assert len(handler.messages) == 3
    assert _parsed(handler.messages[-1][1])["Subject"].startswith("【更正】服务报告")
    assert [row for row in _mail_log(url) if row[3]] == [
        ("PRJ-A", address, "sent", True)
        for address in ("ops@bank.example.cn", "pm@itss.example.cn", "audit@itss.example.cn")
    ]


def test_a_refusing_server_is_retried_to_success(smtp, url, tmp_path, certificate):
    handler, port = smtp
    handler.refusals = 2
    summary = send_reports(
        _settings(tmp_path, port, certificate),
        url,
        "service_report",
        OCTOBER,
    )
    assert summary.failed == [] and len(handler.messages) == 2
    with psycopg.connect(url) as conn:
        attempts = dict(conn.execute("select unit_id, max(attempts) from raw.mail_log group by unit_id").fetchall())
    assert attempts == {"PRJ-A": 3, "PRJ-B": 1}


def test_a_server_that_keeps_refusing_ends_logged_alerted_and_archived(smtp, url, tmp_path, certificate):
    handler, port = smtp
    handler.refused = {"desk@acme.example.com"}
    settings = _settings(tmp_path, port, certificate)
    summary = send_reports(settings, url, "service_report", OCTOBER)
    assert len(summary.failed) == 1 and summary.failed[0].startswith("PRJ-B: ")
    assert ("PRJ-B", "desk@acme.example.com", "failed", False) in _mail_log(url)
    alert = _parsed(next(raw for rcpts, raw in handler.messages if rcpts == [OWNER]))
    assert alert["Subject"] == "报告发送失败：服务报告（PRJ-B，2026年10月）"
    assert "451" in alert.get_content() and "PRJ-B.en.pdf" in alert.get_content()
    assert (settings.output_path / "service_report" / "2026-10" / "PRJ-B.en.pdf").exists()
    handler.refused = set()
    retried = send_reports(settings, url, "service_report", OCTOBER)
    assert retried.sent == ["PRJ-B → desk@acme.example.com"]  # the next run sends what failed


def test_failed_validation_withholds_every_report_and_alerts_the_data_owner(smtp, url, tmp_path, certificate):
    handler, port = smtp
    with psycopg.connect(url) as conn:
        conn.execute(
            "update raw.load_batches set validation_failures = array['tickets.csv, column priority: 5 row(s)"
            " fail ''priority mapped'''] where batch_id = 2"
        )
    summary = send_reports(_settings(tmp_path, port, certificate), url, "service_report", OCTOBER)
    assert summary.withheld and summary.sent == []
    [(rcpts, raw)] = handler.messages
    assert rcpts == [OWNER]
    assert "tickets.csv, column priority: 5 row(s) fail" in _parsed(raw).get_content()


def test_without_smtp_the_messages_go_to_the_outbox(url, tmp_path, certificate):
    settings = _settings(tmp_path, None, certificate)
    summary = send_reports(settings, url, "service_report", OCTOBER)
    assert sorted(path.parent for path in summary.written) == [settings.outbox_path] * 2
    message = _parsed(next(path for path in summary.written if "PRJ-A" in path.name).read_bytes())
    assert message["Subject"] == "服务报告：华东数据中心运维（2026年10月）"
    assert {status for _, _, status, _ in _mail_log(url)} == {"written"}


def test_an_invalid_address_names_its_entry(tmp_path):
    path = tmp_path / "recipients.yml"
    path.write_text("data_owner: {to: [ok@itss.example.cn]}\nprojects:\n  P001: {to: [a@b.cn], cc: [a@b.cn, 'pm@']}\n")
    with pytest.raises(RecipientsError, match=r"projects\.P001\.cc: \[1\] 'pm@' is not an e-mail address"):
        load_recipients(path)


def test_the_command_line_sends_once_and_says_so(smtp, url, tmp_path, certificate):
    handler, port = smtp
    recipients = tmp_path / "recipients.yml"
    recipients.write_text(RECIPIENTS, encoding="utf-8")
    env = {
        "ITSS_WAREHOUSE_URL": url, "ITSS_HOME": str(tmp_path), "ITSS_RECIPIENTS_FILE": str(recipients),
        "ITSS_SMTP_HOST": "127.0.0.1", "ITSS_SMTP_PORT": str(port), "ITSS_SMTP_USER": USER,
        "ITSS_SMTP_PASSWORD": PASSWORD, "ITSS_SMTP_CA_FILE": str(certificate[0]),
    }  # fmt: skip
    first = CliRunner().invoke(app, ["mail", "service", "--period", "2026-10"], env=env)
    assert first.exit_code == 0, first.output
    assert "Sent to 4 recipient(s); 0 already had this report." in first.output
    assert PASSWORD not in first.output
    second = CliRunner().invoke(app, ["mail", "service", "--period", "2026-10"], env=env)
    assert "Sent to 0 recipient(s); 4 already had this report." in second.output
    assert len(handler.messages) == 2
