"""The improvement loop in the reports (issue 28): each item's state, owner, due day, overdue flag and effect
in the service, process and annual reports, what a customer's report leaves out, and the annual loop summary."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from support.report_fixture import FIXTURE
from support.report_pages import pdf_pages

from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import render_period

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period("month", date(2026, 10, 1))
YEAR = Period("year", date(2026, 1, 1))

# PRJ-A's items of October (with the fixture's i-a-10, open and recurring on August's i-a-08) in every state,
# and two the organisation raised by hand. Columns: item_id, kind, kpi_code, grain, grain_id, period_start,
# due_date, raised_date, owner, status, state, planned_date, cause_category, cause_analysis, corrective_action,
# preventive_action, verification_note, kpi_met_since.
LOOP_ITEMS = """
insert into marts.improvement_items (item_id, kind, kpi_code, grain, grain_id, period_type, period_start, due_date,
    raised_date, owner, status, state, planned_date, cause_category, cause_analysis, corrective_action, preventive_action,
    verification_note, kpi_met_since) values
    ('L-OPEN', 'kpi_missed', 'CALLBACK_COVERAGE', 'project', 'PRJ-A', 'month', '2026-10-01', '2026-11-30',
     '2026-11-01', '9c0ffee5d00d1e57', 'open', 'open', null, null, null, null, null, null, null),
    ('L-PROG', 'sla_review', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-10-01', '2026-11-30',
     '2026-11-01', '9c0ffee5d00d1e57', 'in_progress', 'in_progress', '2026-11-15', 'process', '夜班交接遗漏', '增加交接清单',
     '每月抽查交接记录', null, null),
    ('L-LATE', 'kpi_missed', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-09-01', '2026-10-31',
     '2026-10-01', '9c0ffee5d00d1e57', 'open', 'overdue', '2026-10-20', 'process', null, null, null, null, null),
    ('L-DONE', 'kpi_missed', 'CALLBACK_COVERAGE', 'project', 'PRJ-A', 'month', '2026-10-01', '2026-11-30',
     '2026-11-01', '9c0ffee5d00d1e57', 'done', 'done', null, 'tools_technology', null, '回访系统提醒', null, null, null),
    ('L-VER', 'kpi_missed', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-10-01', '2026-11-30',
     '2026-11-01', '9c0ffee5d00d1e57', 'verified', 'verified_effective', null, 'tools_technology', null, '监控告警升级', null,
     '十一月起达标', true),
    ('L-NOT', 'kpi_missed', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-10-01', '2026-11-30',
     '2026-11-01', '9c0ffee5d00d1e57', 'not_effective', 'not_effective', null, 'people', null, '二线支援', null, '仍未达标', false),
    ('H-AUDIT', 'audit', null, 'organisation', 'ORG', 'month', '2026-03-01', '2026-04-10',
     '2026-03-10', '管理者代表', 'verified', 'verified_effective', null, 'people', null, '补充培训', null, null, null),
    ('H-MR', 'management_review', null, 'organisation', 'ORG', 'month', '2026-06-01', '2026-10-15',
     '2026-06-01', '管理者代表', 'open', 'overdue', '2026-10-15', null, null, null, null, null, null);
insert into restricted.improvement_register_people (item_id, owner, description) values
    ('L-PROG', '王五', null), ('H-MR', null, '管理评审：供应商考核');
insert into marts.kpi_catalogue values
    ('IMPROVEMENT_ON_TIME', '改进措施按期完成率', 'Improvement items closed on time', 'ratio', '>='),
    ('IMPROVEMENT_EFFECTIVE', '改进措施验证有效率', 'Improvement items verified effective', 'ratio', '>=');
-- The loop's rates are the scorecard's (another model computes them); the report only reads them.
insert into marts.kpi_scorecard values
    ('IMPROVEMENT_ON_TIME', 'organisation', 'ORG', 'year', '2026-01-01', 3, 5, 0.600000, 0.900000, false, 'missed'),
    ('IMPROVEMENT_EFFECTIVE', 'organisation', 'ORG', 'year', '2026-01-01', 3, 4, 0.750000, 0.900000, false, 'missed');
"""


@pytest.fixture(scope="module")
def url(create_database) -> str:
    database = create_database("loop")
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute(LOOP_ITEMS)
    return database


def compact(path: Path) -> str:
    return re.sub(r">\s+<", "><", path.read_text(encoding="utf-8"))


def numbers(*values: int) -> str:
    return "".join(f'<td class="num">{value}</td>' for value in values)


def row_with(html: str, text: str) -> str:
    """The one row of the first improvement table in ``html`` that contains ``text``."""
    body = html.split('<table class="improvements">', 1)[1].split("</table>", 1)[0]
    [row] = [row for row in re.findall(r"<tr><td>.*?</tr>", body) if text in row]
    return row


def test_the_customers_service_report_shows_each_state_owner_due_day_and_effect(url, tmp_path):
    [report] = render_period(KINDS["service_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR,
                             unit_ids=["PRJ-A"], formats=("html", "xlsx"))  # fmt: skip
    html = compact(report.path)
    section = re.split(r"<h2[^>]*>改进计划</h2>", html, maxsplit=1)[1]
    assert (
        "改进事项 7 项：已逾期 1 项，待处理 2 项，进行中 1 项，已完成 1 项，验证有效 1 项，验证无效 1 项。" in section
    )
    # Overdue first, then by due day; overdue and not effective flagged.
    states = re.findall(r"<td(?: class=\"bad\")?>(已逾期|验证无效|待处理|进行中|已完成|验证有效)</td>", section)
    assert states == ["已逾期", "验证无效", "待处理", "待处理", "进行中", "已完成", "验证有效"]
    assert '<td class="bad">已逾期</td>' in section and '<td class="bad">验证无效</td>' in section
    late = row_with(section, "已逾期")
    assert '<td>李四</td><td class="date">2026-10-20</td>' in late  # the planned day, not the due day 2026-10-31
    in_progress = row_with(section, "增加交接清单")
    # The register's owner by name, its planned day; the cause category and the actions.
    assert '<td>王五</td><td class="date">2026-11-15</td><td>进行中</td>' in in_progress
    assert '<span class="field">原因类别：</span>过程' in in_progress
    assert '<span class="field">纠正措施：</span>增加交接清单' in in_progress
    assert '<span class="field">预防措施：</span>每月抽查交接记录' in in_progress
    # The effect counts the later periods over within the report's period: none for October's items.
    assert "<td>验证有效</td><td>尚未判定</td>" in row_with(section, "监控告警升级")
    assert '<td class="bad">验证无效</td><td>尚未判定</td>' in row_with(section, "二线支援")
    recurring = row_with(section, "重复发生")
    assert "重复发生（上次：2026-08-01，验证有效）" in recurring and "<td>待处理</td><td>尚未判定</td>" in recurring
    # A customer's report: no cause analysis or verification note, no items of the organisation's.
    for internal in ("夜班交接遗漏", "十一月起达标", "仍未达标", "原因分析：", "验证说明：", "管理评审", "补充培训"):
        assert internal not in html, internal
    sheet = load_workbook(report.files["xlsx"])["改进事项"]
    header = [cell.value for cell in sheet[1]]
    assert "原因分析" not in header and "验证说明" not in header
    assert header[:11] == [
        "类型",
        "指标",
        "对象",
        "周期",
        "实际值",
        "目标",
        "责任人",
        "完成期限",
        "状态",
        "此后指标达标",
        "重复发生",
    ]
    assert sheet.max_row == 1 + 7


def test_the_process_report_is_internal_and_shows_the_cause_analysis_and_the_organisations_items(url, tmp_path):
    [report] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",))
    section = re.split(r"<h2[^>]*>改进计划</h2>", compact(report.path), maxsplit=1)[1]
    assert (
        "改进事项 8 项：已逾期 2 项，待处理 2 项，进行中 1 项，已完成 1 项，验证有效 1 项，验证无效 1 项。" in section
    )
    assert '<span class="field">原因分析：</span>夜班交接遗漏' in section
    assert '<span class="field">验证说明：</span>仍未达标' in section
    review = row_with(section, "管理评审")
    assert '<td>管理者代表</td><td class="date">2026-10-15</td><td class="bad">已逾期</td>' in review
    # Two owners: counted by state, the one with overdue items first.
    owners = section.split('<table class="owners">', 1)[1].split("</table>", 1)[0]
    # 李四: overdue 1, not effective 1, open 2, in progress 0, done 1, verified effective 1, total 6.
    assert '<tr><td>李四</td><td class="num bad">1</td>' + numbers(1, 2, 0, 1, 1, 6) in owners
    assert owners.index("李四") < owners.index("管理者代表") < owners.index("王五")


def test_the_annual_report_summarises_the_years_loop(url, tmp_path):
    [report] = render_period(KINDS["annual_report"], url, YEAR, tmp_path, TEMPLATES_DIR, language="en",
                             formats=("html", "xlsx"))  # fmt: skip
    html = compact(report.path)
    section = re.split(r"<h2[^>]*>Improvement items</h2>", html, maxsplit=1)[1]
    # The rates as the scorecard has them.
    assert (
        '<td>Improvement items closed on time</td><td class="num">60.0%</td><td class="num">3 / 5</td>'
        '<td class="num target">≥\u00a090.0%</td>'
    ) in section
    assert (
        '<td>Improvement items verified effective</td><td class="num">75.0%</td><td class="num">3 / 4</td>' in section
    )
    # Counted by hand: ten items raised in 2026 (the fixture's two, LOOP_ITEMS' eight).
    assert (
        "10 improvement item(s) raised this year, 1 of them recurring: 5 not done yet (2 overdue), 1 done awaiting"
        " verification, 3 verified effective, 1 not effective."
    ) in section

    loop = section.split('<table class="loop">', 1)[1].split("</table>", 1)[0]
    assert "<td>People</td>" + numbers(3, 0, 0, 0, 0, 2) + '<td class="num bad">1</td></tr>' in loop
    assert "<td>Process</td>" + numbers(2, 0, 2) + '<td class="num bad">1</td>' + numbers(0, 0, 0) in loop
    assert "<td>Tools/technology</td>" + numbers(2, 0, 0, 0, 1, 1, 0) in loop
    assert "<td>No cause category yet</td>" + numbers(3, 1, 3) + '<td class="num bad">1</td>' + numbers(0, 0, 0) in loop
    assert '<tr class="total"><td>Total</td>' + numbers(10, 1, 5, 2, 1, 3, 1) in loop
    assert re.search(r'<figure class="chart"><svg[^>]*>.*</svg><figcaption>Improvement items raised this year, by'
                     r" cause category and current state</figcaption></figure>", section, re.S)  # fmt: skip
    assert (
        "10 improvement item(s): 2 overdue, 2 open, 1 in progress, 1 done, 3 verified effective, 1 not effective."
        in (section)
    )
    assert '<span class="field">Cause analysis: </span>夜班交接遗漏' in section  # internal
    # The effect from the scorecard's later periods over by 2026-11-01: August's item, September met;
    # September's, October missed; October's, not yet.
    assert "<td>Verified effective</td><td>yes</td>" in row_with(section, "九月达标")
    assert '<td class="bad">Overdue</td><td>no</td>' in row_with(section, "2026-10-20")
    assert "<td>not yet judged</td>" in row_with(section, "监控告警升级")
    sheet = load_workbook(report.files["xlsx"])["Improvement items"]
    header = [cell.value for cell in sheet[1]]
    assert "Cause analysis" in header and "Verification note" in header
    assert sheet.max_row == 1 + 10


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_the_improvement_table_stays_within_the_pages_margins(url, tmp_path, language):
    [report] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, language=language,
                             formats=("pdf",))  # fmt: skip
    for number, page in enumerate(pdf_pages(report.files["pdf"]), start=1):
        assert not page.beyond_the_right_margin(), (language, number)
