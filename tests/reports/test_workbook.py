"""The XLSX appendix as a reader opens it: a cover sheet first, whole numbers and rates in their formats,
codes in the workbook's language, durations in hours and minutes, and the KPIs the PDF shows."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from openpyxl import load_workbook
from support.report_fixture import FIXTURE

from itss_warehouse.reports.appendix import cover_sheet, duration, hours_duration, quantity
from itss_warehouse.reports.base import Unit
from itss_warehouse.reports.formatting import Period, load_catalogue
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.quality_statement import quality_statement
from itss_warehouse.reports.rendering import render_period
from itss_warehouse.reports.sections import kpi_sheet
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE, table_workbook

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period.parse("2026-10")
ZH, EN = (load_catalogue(TEMPLATES_DIR, language) for language in ("zh-CN", "en"))
STAMP = datetime(2026, 11, 1)


def sheet_of(sheet):
    """A Sheet written and read back as Excel would open it."""
    return load_workbook(io.BytesIO(table_workbook([sheet], STAMP)))[sheet.title]


def kpi(code: str, unit: str, numerator, denominator, value, target, status: str) -> dict:
    return {"kpi_code": code, "name_zh": code, "name_en": code, "unit": unit, "comparator": ">=",
            "numerator": numerator, "denominator": denominator, "value": value, "target": target,
            "status": status, "prior_value": None}  # fmt: skip


def test_kpi_cells_are_formatted_by_the_kpis_unit_and_statuses_translated():
    rows = [
        kpi("SLA_ATTAINMENT", "ratio", Decimal(21), Decimal(22), Decimal("0.954545"), Decimal("0.95"), "met"),
        # A department's attainment is the mean of its projects' rates: a sum of rates over a count.
        kpi("SLA_MEAN", "ratio", Decimal("1.750000"), Decimal(2), Decimal("0.875"), Decimal(1), "missed"),
        kpi("MAJOR_INCIDENTS", "count", Decimal(1234), None, Decimal(1234), Decimal(0), "not_applicable"),
        kpi("CSAT", "score", Decimal("86.25"), Decimal(1), Decimal("86.25"), Decimal(96), "no_target"),
        kpi("AUDIT_IN_APRIL", "flag", Decimal(1), None, Decimal(1), Decimal(1), "a_new_status"),
    ]
    sheet = sheet_of(kpi_sheet(rows, ZH))
    formats = [[cell.number_format for cell in row[2:7]] for row in sheet.iter_rows(min_row=2)]
    assert formats == [
        ["#,##0", "#,##0", "0.0%", "0.0%", "General"],  # no prior value: an empty cell
        ["#,##0.00", "#,##0", "0.0%", "0.0%", "General"],
        ["#,##0", "General", "#,##0", "#,##0", "General"],
        ["#,##0.00", "#,##0", "0.0", "0.0", "General"],
        ["#,##0", "General", "0", "0", "General"],
    ]
    # Whole numbers no longer show as "21." (the old 0.## format).
    assert all(".##" not in cell.number_format for row in sheet.iter_rows() for cell in row)
    assert [row[7].value for row in sheet.iter_rows(min_row=2)] == [
        "达标",
        "未达标",
        "不适用",
        "未设目标",
        "a_new_status",
    ]
    assert [cell.value for cell in sheet_of(kpi_sheet(rows[:1], EN))[2]][7] == "Met"


def test_durations_are_whole_minutes_as_hours_and_minutes_that_stay_numbers():
    breach = duration(Decimal("3114.65"))
    assert breach is not None and breach.number_format == "[h]:mm"
    # 3114.65 minutes: 51 h 55 min, rounded half up to the minute as the PDF rounds it.
    assert round(breach.value * 24 * 60, 6) == 3115  # type: ignore[operator]
    assert round(duration(Decimal("45.5")).value * 1440, 6) == 46  # type: ignore[union-attr]
    assert round(hours_duration(Decimal("2.25")).value * 1440, 6) == 135  # type: ignore[union-attr]
    assert duration(None) is None and quantity(None) is None


def test_the_data_quality_statement_follows_the_audience():
    status = {"warnings": ["tickets: 3 rows fail 'category mapped' (warning)"]}
    quarantine, withdrawals = {"count": 2}, [{"records": 5}]
    internal = quality_statement(ZH, internal=True, status=status, quarantine=quarantine, withdrawals=withdrawals)
    assert internal == [
        "校验通过，1 条警告",
        "2 行数据被隔离",
        "本期有 5 条源记录所在的导出文件因数据问题已撤回，未计入本报告",
    ]
    customer = quality_statement(EN, internal=False, status=status, quarantine=quarantine, withdrawals=[])
    assert customer[0] == EN["dq"]["passed"] and "category" not in " ".join(customer)
    assert customer[1] == EN["dq"]["held_back"].format(count=2)
    assert quality_statement(ZH, internal=True, status={"warnings": []}, quarantine={"count": 0}, withdrawals=[]) == [
        "数据校验通过"
    ]


PROJECT = {"project_name": "华东数据中心运维", "customer_name": "华东银行", "department_name": "运维一部"}


def test_the_cover_names_the_report_and_its_document_when_it_has_one():
    unit = Unit("project", "PRJ-A", OCTOBER, PROJECT)
    as_of = datetime(2026, 11, 1, 2, 0, tzinfo=LOCAL_TIMEZONE)
    document = {"number": "ITSS-SR-PRJ-A-202610", "version": "V2"}
    sheet = sheet_of(cover_sheet(ZH, "service_report", unit, as_of=as_of, data_quality=["数据校验通过"],
                                 document=document))  # fmt: skip
    assert sheet.title == "封面"
    assert [[cell.value for cell in row] for row in sheet.iter_rows()][:9] == [
        ["项目", "内容"],
        ["报告", "服务报告"],
        ["文件编号", "ITSS-SR-PRJ-A-202610"],
        ["版本", "V2"],
        ["项目", "华东数据中心运维 (PRJ-A)"],
        ["客户", "华东银行"],
        ["所属部门", "运维一部"],
        ["报告周期", "2026年10月"],
        ["数据截至", "2026-11-01 02:00（北京时间）"],
    ]
    without = sheet_of(cover_sheet(EN, "annual_report", Unit("organisation", "organisation", Period.parse("2026")),
                                   as_of=None, data_quality=["Data validation passed"]))  # fmt: skip
    values = [[cell.value for cell in row] for row in without.iter_rows()]
    assert "Document number" not in {row[0] for row in values}
    assert ["Scope", "Organisation"] in values and ["Data as of", "—"] in values


def test_every_kinds_email_headline_is_among_the_kpis_its_report_shows():
    for kind in KINDS.values():
        assert kind.headline_kpis, kind.name
        assert kind.kpi_codes is None or set(kind.headline_kpis) <= set(kind.kpi_codes)
    with pytest.raises(ValueError, match="would show KPIs its report does not"):
        KINDS["service_report"].__class__(**{**KINDS["service_report"].__dict__, "headline_kpis": ("CSAT",)})


# --- The appendices as rendered from the warehouse (the hand-written fixture) ---------------------------

ORGANISATION_KPIS = """
    insert into marts.kpi_catalogue values ('MAJOR_INCIDENTS', '重大事件数', 'Major incidents', 'count', '<='),
        ('CALLBACK_COVERAGE', '事件回访率', 'Incident callback coverage', 'ratio', '>=');
    insert into marts.kpi_scorecard values
        ('SLA_ATTAINMENT', 'organisation', 'organisation', 'month', '2026-10-01', 1.75, 2, 0.875, 0.95, false,
         'missed'),
        ('MAJOR_INCIDENTS', 'organisation', 'organisation', 'month', '2026-10-01', 1234, null, 1234, 0, false,
         'missed');
"""


@pytest.fixture(scope="module")
def url(create_database) -> str:
    url = create_database("workbook")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute(ORGANISATION_KPIS)
    return url


@pytest.fixture(scope="module")
def service_workbooks(url, tmp_path_factory) -> dict[str, object]:
    output = tmp_path_factory.mktemp("workbooks")
    books = {}
    for language in ("zh-CN", "en"):
        [report] = render_period(KINDS["service_report"], url, OCTOBER, output, TEMPLATES_DIR, unit_ids=["PRJ-A"],
                                 language=language, formats=("xlsx",))  # fmt: skip
        books[language] = load_workbook(report.files["xlsx"])
    return books


def test_the_cover_sheet_comes_first_with_period_as_of_and_the_customers_data_quality(service_workbooks):
    zh = service_workbooks["zh-CN"]
    assert zh.sheetnames == ["封面", "指标", "SLA违约", "处理组超时", "工单明细", "改进事项"]
    rows = {row[0].value: row[1].value for row in zh["封面"].iter_rows(min_row=2) if row[0].value}
    assert rows["报告"] == "服务报告" and rows["项目"] == "华东数据中心运维 (PRJ-A)" and rows["客户"] == "华东银行"
    assert rows["报告周期"] == "2026年10月"
    assert rows["数据截至"] == "2026-11-01 02:00（北京时间）"  # the newest batch carrying PRJ-A's October tickets
    # The customer's statement: PRJ-A's two held-back October records, no file, row or check text.
    lines = [row[1].value for row in zh["封面"].iter_rows(min_row=2) if row[0].value in ("数据质量", None)]
    assert lines[:2] == ["数据校验通过", "本期有 2 条源记录因数据质量问题暂未计入本报告，已通知数据负责人核实"]
    texts = " ".join(str(cell.value) for row in zh["封面"].iter_rows() for cell in row)
    assert "tickets_2026-10.xlsx" not in texts and "not a timestamp" not in texts
    assert service_workbooks["en"].sheetnames == [
        "Cover",
        "KPIs",
        "SLA breaches",
        "Breaches by team",
        "Tickets",
        "Improvement items",
    ]


def test_codes_are_translated_in_a_chinese_workbook(service_workbooks):
    tickets = service_workbooks["zh-CN"]["工单明细"]
    assert [(row[0].value, row[1].value, row[5].value, row[6].value) for row in tickets.iter_rows(min_row=2)] == [
        ("INC-1001", "事件", "处理中", "违约"),
        ("INC-1002", "事件", "已关闭", "达标"),
        ("INC-1003", "事件", "已关闭", "达标"),
        ("SR-1001", "服务请求", "已解决", "达标"),
        ("CHG-1001", "变更", "新建", "不考核"),
    ]
    english = service_workbooks["en"]["Tickets"]
    assert [row[6].value for row in english.iter_rows(min_row=2)][:2] == ["Breached", "Met"]


def test_breach_durations_are_hours_and_minutes(service_workbooks):
    breaches = service_workbooks["zh-CN"]["SLA违约"]
    assert [cell.value for cell in breaches[1]][7:] == ["目标（时:分）", "用时（时:分）", "超时（时:分）"]
    # INC-1001: response 30 min target, 45.5 taken (46 to the minute), 15.5 over (16); resolution 240, 300, 60.
    # A reader's Excel (and openpyxl) reads them as durations.
    minutes = [[round(cell.value.total_seconds() / 60, 3) for cell in row[7:]] for row in breaches.iter_rows(min_row=2)]
    assert minutes == [[30, 46, 16], [240, 300, 60]]
    assert {cell.number_format for row in breaches.iter_rows(min_row=2) for cell in row[7:]} == {"[h]:mm"}
    assert [row[3].value for row in breaches.iter_rows(min_row=2)] == ["响应", "解决"]


def test_the_breaches_by_team_sheet_has_the_reports_rows(service_workbooks):
    teams = service_workbooks["zh-CN"]["处理组超时"]
    rows = [[cell.value for cell in row] for row in teams.iter_rows(min_row=2)]
    # INC-1001's resolution breach: the vendor (a name that is HTML, kept as text) 0.75, the desk 0.25.
    assert [row[:4] for row in rows] == [["<b>Vendor</b>", 1, 0.75, 1], ["Service Desk", 0, 0.25, 1]]
    assert [round(row[4].total_seconds() / 60) for row in rows] == [225, 75]


def test_the_service_workbook_and_email_show_the_kpis_of_the_pdf(service_workbooks):
    kpis = service_workbooks["zh-CN"]["指标"]
    rows = [[cell.value for cell in row] for row in kpis.iter_rows(min_row=2)]
    # The two the PDF states (SLA attainment 3/4, callbacks 2 of 3), not CHANGE_SUCCESS from the scorecard.
    assert [row[:4] for row in rows] == [
        ["CALLBACK_COVERAGE", "事件回访率", 2, 3],
        ["SLA_ATTAINMENT", "SLA达成率", 3, 4],
    ]
    assert [kpis.cell(row, 3).number_format for row in (2, 3)] == ["#,##0", "#,##0"]


def test_the_organisation_workbook_lists_the_kpis_of_its_pdf(url, tmp_path):
    [report] = render_period(KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html", "xlsx"))
    workbook = load_workbook(report.files["xlsx"])
    assert workbook.sheetnames[0] == "封面"
    sheet = workbook["指标"]
    names = [row[1].value for row in sheet.iter_rows(min_row=2)]
    assert names == ["重大事件数", "SLA达成率"]
    html = report.path.read_text(encoding="utf-8")
    kpi_table = html.split('<table class="kpis">', 1)[1].split("</table>", 1)[0]
    assert [name for name in names if f"<td>{name}</td>" in kpi_table] == names
    major = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "MAJOR_INCIDENTS")
    assert (major[2].value, major[2].number_format, major[4].number_format) == (1234, "#,##0", "#,##0")
    sla = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "SLA_ATTAINMENT")
    assert (sla[2].value, sla[2].number_format) == (1.75, "#,##0.00")
    # Internal: the organisation's statement counts quarantined rows (PRJ-A's two and the one without a project).
    cover = {row[0].value: row[1].value for row in workbook["封面"].iter_rows(min_row=2) if row[0].value}
    assert cover["范围"] == "公司" and cover["数据质量"] == "数据校验通过"
    assert "3 行数据被隔离" in [row[1].value for row in workbook["封面"].iter_rows(min_row=2)]
    assert workbook["工单积压"]["B2"].number_format == "#,##0"
    assert date(2026, 10, 1) == workbook["工单积压"]["A2"].value.date()
