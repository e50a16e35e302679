"""Every report for the demo organisation, both languages, every format, from a real pipeline build.

The demo covers January 2025 to June 2026, so the periods reported on are June 2026
(service, process), the first half of 2026 (quality), and 2025 (annual, satisfaction).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.demo_build import build
from support.report_pages import pdf_pages, save_pages

from itss_warehouse.reports.formatting import Period, format_percent
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import FORMATS, RenderedReport, render_period
from itss_warehouse.tools import demo

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
END_DATE = date(2026, 6, 30)
REPORTS = [
    ("service_report", "2026-06", ["P001", "P003"]),  # P003 reports quarterly: its Q2 report
    ("process_report", "2026-06", None),
    ("quality_report", "2026-H1", None),
    ("annual_report", "2025", None),
    ("satisfaction_report", "2025", None),
]


@pytest.fixture(scope="module")
def built(create_warehouse, tmp_path_factory) -> str:
    home = tmp_path_factory.mktemp("demo_reports")
    landing = home / "landing"
    demo.generate(landing, end_date=END_DATE, months=18)
    url = create_warehouse("demo_reports")
    build(url, landing, home, END_DATE)
    return url


@pytest.fixture(scope="module")
def rendered(built, tmp_path_factory) -> dict[tuple[str, str], list[RenderedReport]]:
    output = tmp_path_factory.mktemp("archive")
    return {
        (kind, language): render_period(
            KINDS[kind], built, Period.parse(period), output, TEMPLATES_DIR,
            unit_ids=units, language=language, formats=FORMATS, workers=2,
        )
        for kind, period, units in REPORTS
        for language in ("zh-CN", "en")
    }  # fmt: skip


def _pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def _compact(path: Path) -> str:
    return re.sub(r">\s+<", "><", path.read_text(encoding="utf-8"))


def test_every_report_renders_in_both_languages_and_every_format(rendered):
    for (kind, language), reports in rendered.items():
        assert reports, kind
        for report in reports:
            assert sorted(report.files) == sorted(FORMATS)
            assert report.files["pdf"].read_bytes().startswith(b"%PDF")
            assert report.files["html"].parent.parent.name == kind
            assert report.files["html"].name == f"{report.unit_id}.{language}.html"
    assert [(r.unit_id, r.period.slug) for r in rendered["service_report", "en"]] == [
        ("P001", "2026-06"),
        ("P003", "2026-Q2"),
    ]
    assert [r.unit_id for r in rendered["quality_report", "zh-CN"]] == ["D01", "D02", "D03"]


def test_the_annual_sla_attainment_is_the_same_in_html_pdf_and_xlsx(built, rendered):
    with psycopg.connect(built) as conn:
        value, target = conn.execute(
            "select value, target from marts.kpi_scorecard where kpi_code = 'SLA_ATTAINMENT'"
            " and grain = 'organisation' and period_type = 'year' and period_start = '2025-01-01'"
        ).fetchone()
    shown = format_percent(value)
    [report] = rendered["annual_report", "en"]
    kpi_table = _compact(report.files["html"]).split('<table class="kpis">', 1)[1]  # not the summary naming it
    row = next(row for row in kpi_table.split("<tr>") if "SLA attainment (mean of project rates)" in row)
    assert f'<td class="num">{shown}</td>' in row
    words = " ".join(_pdf_text(report.files["pdf"]).split())  # cells wrap their text onto several lines
    assert f"SLA attainment (mean of project rates) {shown}" in words
    sheet = load_workbook(report.files["xlsx"])["KPIs"]
    cells = next(row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] == "SLA_ATTAINMENT")
    assert Decimal(str(cells[4])) == value and Decimal(str(cells[5])) == target


def test_the_pdfs_read_in_chinese(rendered):
    titles = {
        "service_report": "服务报告",
        "process_report": "过程运行监控报告",
        "quality_report": "质量报告",
        "annual_report": "运维服务质量管理报告",
        "satisfaction_report": "满意度调查总结报告",
    }
    for kind, title in titles.items():
        text = _pdf_text(rendered[kind, "zh-CN"][0].files["pdf"])
        assert title in text and "第 1 页 / 共" in text and "数据质量" in text, kind


def test_every_report_opens_with_its_cover(rendered):
    numbers = {
        ("service_report", "P001"): "DEMO-ITSS-SR-P001-202606",
        ("service_report", "P003"): "DEMO-ITSS-SR-P003-2026Q2",  # quarterly
        ("process_report", "organisation"): "DEMO-ITSS-PR-202606",
        ("quality_report", "D01"): "DEMO-ITSS-QR-D01-2026H1",
        ("annual_report", "organisation"): "DEMO-ITSS-AR-2025",
        ("satisfaction_report", "organisation"): "DEMO-ITSS-SS-2025",
    }
    for (kind, unit_id), number in numbers.items():
        for language, labels in (
            ("zh-CN", ("文件编号", "版本", "客户确认")),
            ("en", ("Document number", "Version", "Customer confirmation")),
        ):
            report = next(report for report in rendered[kind, language] if report.unit_id == unit_id)
            cover = _compact(report.files["html"]).split("<!-- end of cover -->")[0]
            assert f"<th>{labels[0]}</th><td>{number}</td>" in cover, (kind, language)
            assert f"<th>{labels[1]}</th><td>V1.0</td>" in cover, (kind, language)
            assert (labels[2] in cover) == (kind == "service_report"), (kind, language)


def test_reports_of_five_pages_or_more_have_contents(rendered):
    # Every demo report runs to five pages or more; tests/reports/test_document_control.py has a short one.
    for reports in rendered.values():
        for report in reports:
            pages = len(PdfReader(report.files["pdf"]).pages)
            has_contents = '<nav class="contents">' in report.files["html"].read_text(encoding="utf-8")
            assert has_contents == (pages >= 5), (report.kind, report.unit_id, report.language, pages)


def test_the_satisfaction_summary_covers_every_survey_level_and_names_who_did_not_answer(built, rendered):
    with psycopg.connect(built) as conn:
        items = conn.execute(
            "select level, item, answers, round(average_score, 1), low_scores from marts.satisfaction_by_item"
            " where grain = 'organisation' and year_start = '2025-01-01'"
            " order by array_position(array['callback', 'project', 'annual'], level), item"
        ).fetchall()
        low_scores = conn.execute(
            "select count(*) from marts.fct_satisfaction_answers where is_low_score"
            " and responded_date >= '2025-01-01' and responded_date < '2026-01-01'"
        ).fetchone()[0]
        silent = [row[0] for row in conn.execute(
            "select distinct customer_name from marts.dim_projects as projects"
            " where start_date < '2026-01-01' and (end_date is null or end_date >= '2025-01-01')"
            " and customer_id not in (select customer_id from marts.fct_satisfaction_answers"
            " where level = 'annual' and responded_year = '2025-01-01' and score_100 is not null)"
            " order by customer_name"
        )]  # fmt: skip
    levels = {level for level, *_ in items}
    assert {"callback", "annual"} <= levels and sum(row[4] for row in items if row[0] == "callback") > 0
    [report] = rendered["satisfaction_report", "zh-CN"]
    html = _compact(report.files["html"])
    names = {"callback": "事件回访", "project": "项目满意度调查", "annual": "年度满意度调查"}
    rows = [row.split("</tr>", 1)[0] for row in html.split("<tr>")]
    for level, item, answers, average, low in items:
        start = f'<td>{names[level]}</td><td>{item}</td><td class="num">{answers:,}</td><td class="num">{average}</td>'
        [row] = [row for row in rows if row.startswith(start)]
        assert row.endswith(f'<td class="num{" bad" if low else ""}">{low:,}</td>'), row
    assert html.index(f"<td>{names['callback']}</td>") < html.index(f"<td>{names['annual']}</td>")
    sheet = load_workbook(report.files["xlsx"])["低分明细"]
    assert len(list(sheet.iter_rows(min_row=2))) == low_scores  # every level's, the PDF the lowest
    assert {row[8] for row in sheet.iter_rows(min_row=2, values_only=True)} <= set(names.values())
    if silent:
        assert f"未回复年度满意度调查的客户 {len(silent)} 家：{'、'.join(silent)}。" in html
    else:
        assert "本年度有项目在运行的客户均已回复年度满意度调查。" in html


def test_every_kinds_pages_are_kept_as_images_and_stay_within_the_margins(rendered):
    for (kind, language), reports in rendered.items():
        for report in reports:
            images = save_pages(report)
            assert images and all(image.stat().st_size > 0 for image in images), (kind, language, report.unit_id)
            for number, page in enumerate(pdf_pages(report.files["pdf"]), start=1):
                assert not page.beyond_the_right_margin(), (kind, language, report.unit_id, number)
                assert not page.holds_a_line_or_two, (kind, language, report.unit_id, number, page.text)


def test_the_process_report_lists_every_deviation_of_the_month(built, rendered):
    with psycopg.connect(built) as conn:
        missed = conn.execute(
            "select count(*) from marts.kpi_scorecard where status = 'missed' and grain in ('department', 'project')"
            " and period_type = 'month' and period_start = '2026-06-01'"
        ).fetchone()[0]
    [report] = rendered["process_report", "en"]
    assert missed > 0
    assert len(list(load_workbook(report.files["xlsx"])["Process deviations"].iter_rows(min_row=2))) == missed


def test_a_period_without_data_says_so(built, tmp_path):
    [report] = render_period(KINDS["process_report"], built, Period.parse("2024-06"), tmp_path, TEMPLATES_DIR)
    html = _compact(report.path)
    assert "本期无指标数据" in html and "本期各部门、各项目指标均达标" in html
    # Contracts begun before the exports start: departments to report on, without tickets or complaints.
    quality = render_period(KINDS["quality_report"], built, Period.parse("2024-H1"), tmp_path, TEMPLATES_DIR)
    assert quality and all("本期无客户投诉" in _compact(report.path) for report in quality)


def test_marts_name_managers_by_a_keyed_hash_and_keep_no_free_text(built):
    with psycopg.connect(built) as conn:
        inner, outer = conn.execute("select inner_pad, outer_pad from raw.pseudonym_key").fetchone()
        managers = conn.execute(
            "select project_manager, project_manager_key from restricted.project_managers"
        ).fetchall()
        keys = dict(conn.execute("select project_id, project_manager_key from marts.dim_projects"))
        columns = {
            row[0]
            for row in conn.execute("select column_name from information_schema.columns where table_schema = 'marts'")
        }
    key = bytes(byte ^ 0x36 for byte in inner)
    assert bytes(byte ^ 0x5C for byte in key) == outer  # the standard HMAC pads of one key
    assert len(managers) >= 10 and len({name for name, _ in managers}) > 1
    for name, pseudonym in managers:
        assert pseudonym == hmac.new(key, name.encode(), hashlib.sha256).hexdigest()[:16]
    assert {pseudonym for _, pseudonym in managers} <= set(keys.values())
    assert not columns & {"project_manager", "manager", "description", "comment", "assignee", "title", "contact_email"}


def test_the_demos_exemptions_are_applied_and_reported(built, rendered):
    """The demo exempts breaches it made sure of: each accepted and applied, none quarantined, and listed."""
    with psycopg.connect(built) as conn:
        effects = dict(conn.execute("select effect, count(*) from marts.sla_exemptions group by effect").fetchall())
        quarantined = conn.execute("select count(*) from raw.quarantined_rows where entity = 'sla_exemptions'")
        exempted = conn.execute(
            "select ticket_id from marts.sla_breaches where is_exempted and project_id = 'P001'"
            " and opened_month = '2026-06-01'"
        ).fetchall()
        assert quarantined.fetchone()[0] == 0
    assert set(effects) == {"applied"} and effects["applied"] > 10
    html = _compact(next(r for r in rendered["service_report", "zh-CN"] if r.unit_id == "P001").files["html"])
    listed = html.split("SLA 豁免工单", 1)[1].split("</table>", 1)[0] if exempted else ""
    assert all(f"<td>{ticket_id}</td>" in listed for (ticket_id,) in exempted)


def test_the_demos_register_loads_without_quarantine_and_closes_the_loop(built, rendered):
    with psycopg.connect(built) as conn:
        quarantined = conn.execute(
            "select source_row, reason from raw.quarantined_rows where entity = 'improvement_register'"
        ).fetchall()
        states = dict(
            conn.execute(
                "select state, count(*) from marts.improvement_items"
                " where kind in ('audit', 'management_review', 'customer_visit') group by state"
            ).fetchall()
        )
        recurring = conn.execute("select count(*) from marts.improvement_items where is_recurring").fetchone()[0]
    assert quarantined == []  # on the first night, with no generated item known yet
    assert set(states) == {"open", "in_progress", "overdue", "done", "verified_effective", "not_effective"}
    assert recurring > 0  # from the generated KPI items
    [report] = rendered["annual_report", "zh-CN"]
    loop = re.split(r"<h2[^>]*>改进事项</h2>", _compact(report.path), maxsplit=1)[1]
    assert "本年提出改进事项" in loop and '<figure class="chart"><svg' in loop
    # The loop's rates are the scorecard's rows, as dbt built them.
    assert "<td>改进措施按期完成率</td>" in loop and "<td>改进措施验证有效率</td>" in loop
