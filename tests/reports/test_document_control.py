"""Document control: the cover (number, version, company, sign-off, customer confirmation), the
register of issued versions, the table of contents of a long report, the numbering settings."""

from __future__ import annotations

import re
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import jinja2
import psycopg
import pytest
from pydantic import ValidationError
from support.report_fixture import FIXTURE

from itss_warehouse.reports.base import Unit
from itss_warehouse.reports.contents import PAGES_WITHOUT_CONTENTS, estimated_pages
from itss_warehouse.reports.document_control import DocumentSettings, LogoError
from itss_warehouse.reports.formatting import Period, build_environment, load_catalogue
from itss_warehouse.reports.issue_register import Issue, Version, change_note
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import RenderedReport, render_period
from itss_warehouse.settings import Settings

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period("month", date(2026, 10, 1))
BEIJING = ZoneInfo("Asia/Shanghai")

# A project with a long list of leftover issues: a report of many pages.
LONG_REPORT = """
insert into marts.dim_projects values
    ('PRJ-L', '遗留问题多的项目', 'C1', '华东银行', 'D1', '运维一部', 'om', 'onsite', 'POL1', 'monthly', '2026-01-01', null);
insert into marts.fct_tickets (ticket_id, ticket_type, project_id, priority, opened_at, opened_month, status)
select 'LI-L' || n, 'leftover_issue', 'PRJ-L', 'P3', '2026-09-01 02:00+00'::timestamptz + n * interval '1 hour',
       '2026-09-01', 'in_progress'
from generate_series(1, 150) as n;
"""


@pytest.fixture(scope="module")
def url(create_database) -> str:
    return create_database("document")


@pytest.fixture(scope="module")
def conn(url):
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(FIXTURE)
        connection.execute(LONG_REPORT)
        yield connection


HUAXIN = DocumentSettings.from_settings(
    Settings(
        company_name="华信运维服务有限公司",
        company_name_en="Huaxin IT Services Ltd.",
        company_code="HX",
        document_prepared_by="王五（数据管理员）",
        document_reviewed_by="赵六",
    )
)


def render(url: str, folder: Path, kind: str = "service_report", **options) -> dict[str, RenderedReport]:
    reports = render_period(
        KINDS[kind], url, OCTOBER, folder, TEMPLATES_DIR, **{"formats": ("html",), "document": HUAXIN, **options}
    )
    return {report.unit_id: report for report in reports}


def compact(path: Path) -> str:
    return re.sub(r">\s+<", "><", path.read_text(encoding="utf-8"))


def cover_of(path: Path) -> str:
    return compact(path).split("<!-- end of cover -->")[0]


def pdf_pages(path: Path) -> list[str]:
    """The PDF's text page by page, as poppler's pdftotext reads it."""
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")[:-1]


def issued(conn, unit_id: str, language: str, kind: str = "service_report") -> list[tuple]:
    return conn.execute(
        "select version, document_number, change_note, issued_at from raw.issued_documents"
        " where report_kind = %s and period = '2026-10' and unit_id = %s and language = %s order by version",
        (kind, unit_id, language),
    ).fetchall()


def issue_day(conn, unit_id: str, language: str, kind: str = "service_report") -> str:
    return issued(conn, unit_id, language, kind)[-1][3].astimezone(BEIJING).date().isoformat()


@pytest.fixture(scope="module")
def zh(conn, url, tmp_path_factory) -> dict[str, RenderedReport]:
    return render(url, tmp_path_factory.mktemp("zh"), formats=("html", "pdf"))


def test_the_cover_states_number_version_company_and_unit(zh, conn):
    cover = cover_of(zh["PRJ-A"].path)
    day = issue_day(conn, "PRJ-A", "zh-CN")
    assert '<div class="cover-company"><span>华信运维服务有限公司</span></div>' in cover
    assert '<p class="cover-title">服务报告 — 华东数据中心运维（华东银行）</p>' in cover
    assert "<th>文件编号</th><td>HX-ITSS-SR-PRJ-A-202610</td>" in cover
    assert "<th>版本</th><td>V1.0</td>" in cover
    assert f"<th>发布日期</th><td>{day}</td>" in cover
    assert "<th>项目</th><td>华东数据中心运维 (PRJ-A)</td><th>客户</th>" not in cover  # one row each
    assert "<th>项目</th><td>华东数据中心运维 (PRJ-A)</td></tr><tr><th>客户</th><td>华东银行</td>" in cover
    assert f"<tr><td>V1.0</td><td>{day}</td><td>首次发布</td></tr>" in cover
    assert "草稿" not in cover
    # The cover is the first page in print; the report's own heading follows it.
    assert compact(zh["PRJ-A"].path).index("<!-- end of cover -->") < compact(zh["PRJ-A"].path).index("<h1>")


def test_automatic_issue_signs_with_the_configured_names_and_the_issue_date(zh, conn):
    cover = cover_of(zh["PRJ-A"].path)
    day = issue_day(conn, "PRJ-A", "zh-CN")
    assert f'<th>编制</th><td>王五（数据管理员）</td><td>{day}</td><td class="sign-line"></td>' in cover
    assert f'<th>审核</th><td>赵六</td><td>{day}</td><td class="sign-line"></td>' in cover
    # Not configured: the catalogue's role.
    assert f'<th>批准</th><td>运维服务负责人</td><td>{day}</td><td class="sign-line"></td>' in cover


def test_the_customer_confirms_the_service_report_only(zh, url, conn, tmp_path):
    assert '<p class="cover-heading">客户确认</p>' in cover_of(zh["PRJ-A"].path)
    assert '<th>客户代表签字</th><td class="sign-line"></td><th>日期</th><td class="sign-line"></td>' in cover_of(
        zh["PRJ-A"].path
    )
    process = render(url, tmp_path, "process_report")["organisation"].path
    cover = cover_of(process)
    assert "客户确认" not in cover and "客户代表签字" not in cover
    assert "<th>文件编号</th><td>HX-ITSS-PR-202610</td>" in cover
    assert "<th>单位</th><td>华信运维服务有限公司</td>" in cover


def test_the_pdf_cover_page_holds_the_document_control(zh, conn):
    pages = pdf_pages(zh["PRJ-A"].files["pdf"])
    cover = pages[0]
    for text in ("华信运维服务有限公司", "文件编号", "HX-ITSS-SR-PRJ-A-202610", "V1.0", "客户确认", "客户代表签字"):
        assert text in cover, text
    day = issue_day(conn, "PRJ-A", "zh-CN")
    assert re.search(rf"编制\s+王五（数据管理员）\s+{day}", cover)
    assert re.search(rf"审核\s+赵六\s+{day}", cover)
    assert re.search(rf"批准\s+运维服务负责人\s+{day}", cover)
    assert "SLA 达成情况" not in cover  # the body starts on the next page
    assert "SLA 达成情况" in pages[1] and re.search(rf"第\s*1\s*页\s*/\s*共\s*{len(pages)}\s*页", cover)


def test_an_english_cover_is_in_english(conn, url, tmp_path):
    cover = cover_of(render(url, tmp_path, language="en")["PRJ-B"].path)
    assert "<span>Huaxin IT Services Ltd.</span>" in cover
    assert "<th>Document number</th><td>HX-ITSS-SR-PRJ-B-202610</td>" in cover
    assert "<th>Approved by</th><td>Head of IT service management</td>" in cover
    assert '<p class="cover-heading">Customer confirmation</p>' in cover
    assert "First issue" in cover
    assert "Desk &lt;Support&gt; (PRJ-B)" in cover and "Acme &amp; Co" in cover


def test_a_rerender_with_the_same_figures_keeps_the_version_and_the_bytes(zh, url, conn, tmp_path):
    again = render(url, tmp_path, formats=("html", "pdf"))
    for unit_id in ("PRJ-A", "PRJ-B"):
        for kind in ("html", "pdf"):
            assert again[unit_id].files[kind].read_bytes() == zh[unit_id].files[kind].read_bytes(), (unit_id, kind)
    assert [row[0] for row in issued(conn, "PRJ-A", "zh-CN")] == [1]


def test_a_correction_issues_the_next_version_saying_what_changed(conn, url, tmp_path):
    first = render(url, tmp_path / "first", language="en")["PRJ-A"]
    assert "<th>Version</th><td>V1.0</td>" in cover_of(first.path)
    # A corrected export: one more of PRJ-A's October tickets met its SLA.
    correction = (
        "update marts.kpi_scorecard set numerator = {0}, value = {1} where kpi_code = 'SLA_ATTAINMENT'"
        " and grain = 'project' and grain_id = 'PRJ-A' and period_type = 'month' and period_start = '2026-10-01'"
    )
    conn.execute(correction.format(4, 1.0))
    try:
        corrected = render(url, tmp_path / "corrected", language="en")["PRJ-A"]
        again = render(url, tmp_path / "again", language="en")["PRJ-A"]
    finally:
        conn.execute(correction.format(3, 0.75))
    rows = issued(conn, "PRJ-A", "en")
    assert [(version, number) for version, number, *_ in rows] == [
        (1, "HX-ITSS-SR-PRJ-A-202610"),
        (2, "HX-ITSS-SR-PRJ-A-202610"),
    ]
    assert rows[1][2] == "Corrected: SLA attainment 75.0% → 100.0%"
    cover = cover_of(corrected.path)
    day = rows[1][3].astimezone(BEIJING).date().isoformat()
    assert "<th>Version</th><td>V1.1</td>" in cover
    assert f"<tr><td>V1.1</td><td>{day}</td><td>Corrected: SLA attainment 75.0% → 100.0%</td></tr>" in cover
    assert "<tr><td>V1.0</td>" in cover and "First issue" in cover
    assert again.path.read_bytes() == corrected.path.read_bytes()  # the corrected figures again: still V1.1
    assert "100.0%" in compact(corrected.path).split("<!-- end of cover -->")[1]  # the body shows the new value


def test_other_figures_changing_say_so_without_naming_a_kpi(conn, url, tmp_path):
    render(url, tmp_path / "first", language="en")
    conn.execute("update marts.fct_tickets set category = '存储' where ticket_id = 'INC-1001'")
    try:
        corrected = render(url, tmp_path / "corrected", language="en")["PRJ-A"]
    finally:
        conn.execute("update marts.fct_tickets set category = '网络' where ticket_id = 'INC-1001'")
    assert issued(conn, "PRJ-A", "en")[-1][2] == "Details corrected; KPI values unchanged"
    assert "Details corrected; KPI values unchanged" in cover_of(corrected.path)


def test_a_long_report_has_a_table_of_contents_with_page_numbers(zh, conn, url, tmp_path):
    html = compact(zh["PRJ-L"].path)
    contents = html.split('<nav class="contents">')[1].split("</nav>")[0]
    assert (
        '<li><a href="#section-1">报告信息</a></li><li><a href="#section-2">结论摘要</a></li>'
        '<li><a href="#section-3">SLA 达成情况</a></li>'
    ) in contents
    assert '<h2 id="section-3">SLA 达成情况</h2>' in html
    assert contents.count("<li>") == html.count("<h2 id=") == 12 and '<a href="#section-12">改进计划</a>' in contents
    pages = pdf_pages(zh["PRJ-L"].files["pdf"])
    # Each section's page number in the contents is the page its heading is on.
    assert "目录" in pages[1] and "目录" not in pages[0]
    for title in ("SLA 达成情况", "遗留问题", "改进计划"):
        listed = re.search(rf"{title}\s*[.…]*\s*(\d+)\s*$", pages[1], re.M)
        assert listed, (title, pages[1][:600])
        on_page = next(number for number, page in enumerate(pages, 1) if re.search(rf"^{title}$", page, re.M))
        assert int(listed[1]) == on_page, title


def test_a_short_report_has_none(zh):
    assert estimated_pages(compact(zh["PRJ-B"].path).split("<!-- end of cover -->")[1]) <= PAGES_WITHOUT_CONTENTS
    assert len(pdf_pages(zh["PRJ-B"].files["pdf"])) == 4  # the cover and three pages
    assert '<nav class="contents">' not in compact(zh["PRJ-B"].path)
    assert "目录" not in pdf_pages(zh["PRJ-B"].files["pdf"])[1]


def test_a_draft_shows_the_marker_and_recorded_approvals_fill_the_block():
    catalogue = load_catalogue(TEMPLATES_DIR, "zh-CN")
    env = build_environment(TEMPLATES_DIR, catalogue)
    env.loader = jinja2.ChoiceLoader(
        [
            jinja2.DictLoader(
                {"cover_only.html.j2": '{% with title = "服务报告" %}{% include "cover.html.j2" %}{% endwith %}'}
            ),
            env.loader,
        ]
    )
    unit = Unit("project", "PRJ-A", OCTOBER, {"project_name": "华东数据中心运维", "customer_name": "华东银行"})
    issue = Issue("HX-ITSS-SR-PRJ-A-202610", [Version(1, date(2026, 11, 2), "首次发布")])
    context = {
        "t": catalogue,
        "unit": unit,
        "period": "2026年10月",
        "document": HUAXIN.cover("customer", issue, "zh-CN"),
    }
    template = env.get_template("cover_only.html.j2")

    draft = re.sub(r">\s+<", "><", template.render(context, draft=True, approvals={}))
    assert '<p class="draft-mark">草稿</p>' in draft
    assert "<th>编制</th><td>王五（数据管理员）</td><td>2026-11-02</td>" in draft
    assert "<th>审核</th><td>赵六</td><td></td>" in draft  # not reviewed yet: left to sign
    assert "<th>批准</th><td>运维服务负责人</td><td></td>" in draft

    reviewed_at = datetime(2026, 11, 3, 17, 30, tzinfo=ZoneInfo("UTC"))  # 01:30 on the 4th in Beijing
    approvals = {
        "reviewed": {"by": "质量经理 钱七", "at": reviewed_at},
        "approved": {"by": "总经理 孙八", "at": reviewed_at},
    }
    approved = re.sub(r">\s+<", "><", template.render(context, draft=False, approvals=approvals))
    assert "草稿" not in approved
    assert "<th>审核</th><td>质量经理 钱七</td><td>2026-11-04</td>" in approved
    assert "<th>批准</th><td>总经理 孙八</td><td>2026-11-04</td>" in approved


def test_the_logo_is_embedded_in_the_report(tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    document = DocumentSettings.from_settings(Settings(company_logo=logo))
    assert document.logo is not None and document.logo.startswith("data:image/svg+xml;base64,")
    with pytest.raises(LogoError, match="no file .*missing.png"):
        DocumentSettings.from_settings(Settings(company_logo=tmp_path / "missing.png"))
    with pytest.raises(ValidationError, match="not a PNG, JPEG or SVG"):
        Settings(company_logo=tmp_path / "logo.bmp")


def test_a_logo_shows_on_the_cover(conn, url, tmp_path):
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    document = DocumentSettings.from_settings(Settings(company_logo=logo, company_name="华信"))
    cover = cover_of(render(url, tmp_path / "out", document=document)["PRJ-B"].path)
    assert '<div class="cover-company"><img class="logo" src="data:image/svg+xml;base64,' in cover


def test_english_covers_name_the_company_in_english():
    assert DocumentSettings.from_settings(Settings()).company_name_en == "Example IT Services Co., Ltd."  # the demo's
    assert DocumentSettings.from_settings(Settings(company_name="华信")).company_name_en == "华信"  # as configured


def test_document_number_patterns_are_checked_when_the_settings_are_read(monkeypatch):
    assert Settings().document_number_service_report == "{company}-ITSS-SR-{project}-{period}"
    for field, pattern, message in [
        ("document_number_service_report", "{company}-{customer}", r"unknown placeholder \{customer\}"),
        ("document_number_service_report", "{company}-{department}", r"unknown placeholder \{department\}"),
        ("document_number_process_report", "{company}-{project}", r"unknown placeholder \{project\}"),
        ("document_number_annual_report", "{company}-{period:>8}", r"unknown placeholder \{period:>8\}"),
        ("document_number_quality_report", "{company", "is not a pattern"),
    ]:
        with pytest.raises(ValidationError, match=message):
            Settings(**{field: pattern})
    monkeypatch.setenv("ITSS_DOCUMENT_NUMBER_SATISFACTION_REPORT", "{company}-SS-{yyyy}")
    with pytest.raises(
        ValidationError, match=r"unknown placeholder \{yyyy\} .*known: \{company\}, \{period\}, \{year\}"
    ):
        Settings()
    monkeypatch.setenv("ITSS_DOCUMENT_NUMBER_SATISFACTION_REPORT", "{company}/SS/{year}")
    document = DocumentSettings.from_settings(Settings(company_code="HX"))
    assert (
        document.document_number("satisfaction_report", Unit("organisation", "organisation", Period.parse("2026")))
        == "HX/SS/2026"
    )
    assert (
        document.document_number("quality_report", Unit("department", "D1", Period.parse("2026-H1")))
        == "HX-ITSS-QR-D1-2026H1"
    )


def test_the_change_note_is_in_the_reports_language_and_stays_short():
    zh = load_catalogue(TEMPLATES_DIR, "zh-CN")
    names = {"unit": "ratio", "name_zh": "SLA达成率", "name_en": "SLA attainment"}
    before = {"SLA_ATTAINMENT": {"value": "0.75", **names}}
    after = {"SLA_ATTAINMENT": {"value": "1", **names}}
    assert change_note(before, after, zh) == "更正：SLA达成率 75.0% → 100.0%"
    # A KPI the corrected figures no longer have, and one they newly have.
    assert change_note(before, {}, zh) == "更正：SLA达成率 75.0% → —"
    counts = {
        f"K{n}": {"value": str(n), "unit": "count", "name_zh": f"指标{n}", "name_en": f"KPI {n}"} for n in range(8)
    }
    more = change_note({}, counts, zh)
    assert more.startswith("更正：指标0 — → 0、指标1 — → 1") and more.endswith("，另有 2 项指标变化")
    assert change_note(after, after, zh) == "明细数据更正，指标值未变"
