"""The executive summary's rules (pure, both languages) and the summary and improvement sections as rendered."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from support.report_fixture import FIXTURE

from itss_warehouse.reports import summary
from itss_warehouse.reports.formatting import Period, load_catalogue
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import render_period

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period("month", date(2026, 10, 1))
BEIJING = ZoneInfo("Asia/Shanghai")
ZH, EN = (load_catalogue(TEMPLATES_DIR, language) for language in ("zh-CN", "en"))


def kpi(code="SLA_ATTAINMENT", value="0.75", target="0.95", status="missed", previous=None, prior=None,
        unit="ratio", comparator=">=", previous_status=None):  # fmt: skip
    """A scorecard row as sections.scorecard selects it."""
    number = lambda text: None if text is None else Decimal(text)  # noqa: E731
    return {
        "kpi_code": code, "name_zh": {"SLA_ATTAINMENT": "SLA达成率"}.get(code, code), "name_en": code.title(),
        "unit": unit, "comparator": comparator, "value": number(value), "target": number(target), "status": status,
        "previous_value": number(previous), "previous_status": previous_status, "prior_value": number(prior),
    }  # fmt: skip


def texts(sentences, catalogue=ZH) -> list[str]:
    return [sentence.text(catalogue) for sentence in sentences]


# The rules, without a database.


def test_all_met_and_improved_against_both_periods():
    rows = [kpi(value="0.98", status="met", previous="0.90", prior="0.85")]
    assert texts(summary.kpi_sentences(rows, ZH, provisional=False)) == [
        "设有目标的 1 项指标全部达标。",
        "较上期改善：SLA达成率 90.0% → 98.0%（+8.0 个百分点）。",
        "较去年同期改善：SLA达成率 85.0% → 98.0%（+13.0 个百分点）。",
    ]
    assert texts(summary.kpi_sentences(rows, EN, provisional=False), EN) == [
        "All 1 KPIs with a target met it.",
        "Better than the previous period: Sla_Attainment 90.0% → 98.0% (+8.0 pp).",
        "Better than a year before: Sla_Attainment 85.0% → 98.0% (+13.0 pp).",
    ]


def test_missed_worsened_and_unchanged():
    rows = [
        kpi(value="0.75", previous="1.0", prior="0.75"),
        kpi("CALLBACK_COVERAGE", value="1.0", target="1.0", status="met", previous="1.0"),
    ]
    sentences = summary.kpi_sentences(rows, ZH, provisional=False)
    assert texts(sentences) == [
        "设有目标的 2 项指标中 1 项未达标。",
        "SLA达成率为 75.0%，未达到目标 ≥\u00a095.0%。",
        "较上期下降：SLA达成率 100.0% → 75.0%（-25.0 个百分点）。",
        "与上期持平：CALLBACK_COVERAGE 100.0% → 100.0%（+0.0 个百分点）。",
        "与去年同期持平：SLA达成率 75.0% → 75.0%（+0.0 个百分点）。",
    ]
    assert [sentence.tone for sentence in sentences] == ["bad", "bad", "bad", "plain", "plain"]
    assert (
        texts(summary.kpi_sentences(rows, EN, provisional=False), EN)[1]
        == "Sla_Attainment was 75.0%, short of its target ≥\u00a095.0%."
    )


def test_a_lower_is_better_kpi_improves_when_it_falls():
    rows = [kpi("REOPEN_RATE", value="0.02", target="0.05", status="met", comparator="<=", previous="0.04")]
    assert texts(summary.kpi_sentences(rows, EN, provisional=False), EN)[1:] == [
        "Better than the previous period: Reopen_Rate 4.0% → 2.0% (-2.0 pp).",
        "No figures of a year before to compare with.",
    ]


def test_a_change_shown_rounded_as_unchanged_is_unchanged_and_scores_change_in_points():
    assert summary.direction(kpi(value="0.750001", previous="0.75"), Decimal("0.75")) == "unchanged"
    assert summary.change(Decimal("86.25"), Decimal("88"), "score", EN) == "-1.8"
    assert summary.direction(kpi(value="86.25", unit="score", previous="88"), Decimal("88")) == "worsened"
    assert summary.direction(kpi(comparator=None), Decimal("1")) is None  # no target, no better or worse


def test_no_kpi_with_a_target():
    rows = [kpi("CHANGE_SUCCESS", value=None, target=None, status="not_applicable")]
    assert texts(summary.kpi_sentences(rows, ZH, provisional=False)) == [
        "本期无设有目标的指标可判定。", "无上期数据可比较。", "无去年同期数据可比较。"
    ]  # fmt: skip


def test_an_unfinished_period_is_provisional_and_its_comparison_with_last_year_says_so():
    year = Period("year", date(2026, 1, 1))
    in_november = datetime(2026, 11, 30, 23, 0, tzinfo=BEIJING)
    assert summary.is_provisional(year, in_november)
    assert not summary.is_provisional(year, datetime(2027, 1, 1, 2, 0, tzinfo=BEIJING))
    # 2026-12-31 16:30 UTC is already 2027 in Beijing: the year is over there.
    assert not summary.is_provisional(year, datetime(2026, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")))
    assert not summary.is_provisional(year, None)
    built = summary.build(year, in_november, EN, kpis=[kpi(value="0.9", prior="0.8")], improvements=[])
    assert built.provisional
    assert texts(built.conclusions, EN)[0] == (
        "This period is not over yet (data as of 2026-11-30): figures are provisional, and a comparison with"
        " last year sets a partial period against a whole one."
    )
    assert "较去年同期改善（本期未结束，暂定）：SLA达成率 80.0% → 90.0%（+10.0 个百分点）。" in texts(
        summary.build(year, in_november, ZH, kpis=[kpi(value="0.9", prior="0.8")], improvements=[]).conclusions
    )


def item(due: str, state: str = "open", owner: str = "李四", code: str = "SLA_ATTAINMENT") -> dict:
    """An item as sections.improvement_items selects it, with the state the mart judged."""
    return {"kpi_code": code, "name_zh": code, "name_en": code, "grain_id": "PRJ-A", "owner": owner,
            "due_date": date.fromisoformat(due), "state": state}  # fmt: skip


def test_improvements_are_counted_by_the_marts_state_and_owner_overdue_first_and_at_most_n():
    items = [
        item("2026-12-20"),
        item("2026-11-05", state="done"),
        item("2026-11-30", state="in_progress", owner="王五"),
        item("2026-10-01", state="verified_effective", owner="王五"),
        item("2026-10-02", state="not_effective"),
        *(item(f"2026-10-{day:02d}", state="overdue") for day in range(10, 22)),  # twelve overdue
    ]
    overview = summary.improvement_overview(items, shown=10)
    assert overview.total == 17
    assert overview.by_state == {
        "overdue": 12, "not_effective": 1, "open": 1, "in_progress": 1, "done": 1, "verified_effective": 1
    }  # fmt: skip
    assert len(overview.shown) == 10
    assert [row["state"] for row in overview.shown] == ["overdue"] * 10
    assert [row["due_date"].day for row in overview.shown] == list(range(10, 20))  # the longest overdue first
    assert [
        (row["owner"], row["overdue"], row["open"], row["in_progress"], row["total"]) for row in overview.by_owner
    ] == [
        ("李四", 12, 1, 0, 15),
        ("王五", 0, 0, 1, 2),
    ]
    assert texts(summary.improvement_sentences(overview)) == [
        "改进事项 17 项：已逾期 12 项，待处理 1 项，进行中 1 项，已完成 1 项，验证有效 1 项，验证无效 1 项。"
    ]
    few = summary.improvement_overview(items[:5])
    assert [row["state"] for row in few.shown] == ["not_effective", "open", "in_progress", "done", "verified_effective"]
    assert texts(summary.improvement_sentences(summary.improvement_overview([])), EN) == [
        "No improvement items this period."
    ]


def test_the_next_periods_plan_is_the_items_not_done_due_in_it():
    items = [
        item("2026-11-30"), item("2026-11-20", state="in_progress"), item("2026-11-10", state="done"),
        item("2026-12-01"), item("2026-10-31", state="overdue"),
    ]  # fmt: skip
    plan = summary.next_period_plan(items, OCTOBER)
    assert [row["due_date"] for row in plan] == [date(2026, 11, 20), date(2026, 11, 30)]


def test_contributors_to_misses_and_risks():
    breaches = [{"priority": "P1"}, {"priority": "P1"}, {"priority": "P3"}]
    by_priority = [
        {"priority": "P1", "rate": Decimal("0.666667"), "met": 2, "judged": 3},
        {"priority": "P3", "rate": Decimal("0"), "met": 0, "judged": 1},
        {"priority": "P4", "rate": None, "met": 0, "judged": 0},
    ]
    assert texts(summary.breach_contributors(breaches, by_priority, ZH)) == [
        "本期违约 3 项，按优先级：P1 2、P3 1。",
        "达成率最低的优先级为 P3：0.0%（0 / 1）。",
    ]
    matrix = {"rows": [
        {"grain_id": "P1", "name": "甲", "kpis": {"A": {"status": "missed"}, "B": {"status": "missed"}}},
        {"grain_id": "P2", "name": None, "kpis": {"A": {"status": "missed"}}},
        {"grain_id": "P3", "name": "丙", "kpis": {"A": {"status": "met"}}},
    ]}  # fmt: skip
    assert texts(summary.most_missed(matrix, EN), EN) == ["Most KPIs missed: 甲 (2), P2 (1)."]
    rows = [kpi(previous_status="missed"), kpi("CSAT", previous_status="met")]
    assert texts(summary.missed_twice(rows, ZH)) == ["连续两期未达标的指标 1 项：SLA达成率。"]
    assert summary.count_risk("open_complaints", 0) == []
    causes = [{"category": None, "total": 2}, {"category": "网络", "total": 2}, {"category": "存储", "total": 1}]
    assert texts(summary.breach_cause_sentences(causes, EN), EN) == [
        "Most breaches in ticket category Uncategorised, 网络 (2)."
    ]


def test_a_long_list_of_names_is_cut():
    assert summary.names([f"K{n}" for n in range(8)], ZH) == "K0、K1、K2、K3、K4 等 3 项"


def test_every_sentence_exists_in_both_languages():
    assert set(ZH["summary"]["sentences"]) == set(EN["summary"]["sentences"])
    assert set(ZH["summary"]) == set(EN["summary"])


# As rendered, on the report fixture.


@pytest.fixture(scope="module")
def url(create_database) -> str:
    return create_database("summary")


@pytest.fixture(scope="module")
def conn(url):
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(FIXTURE)
        yield connection


def compact(path: Path) -> str:
    return re.sub(r">\s+<", "><", path.read_text(encoding="utf-8"))


def service(url: str, folder: Path, **options):
    reports = render_period(
        KINDS["service_report"], url, OCTOBER, folder, TEMPLATES_DIR, **{"formats": ("html",), **options}
    )
    return next(report for report in reports if report.unit_id == "PRJ-A")


def test_the_service_report_opens_with_its_conclusions_in_both_languages(conn, url, tmp_path):
    html = compact(service(url, tmp_path).path)
    conclusions = html.split('<section class="summary">', 1)[1].split("</section>", 1)[0]
    for sentence in (
        "设有目标的 1 项指标中 1 项未达标。",
        "SLA达成率为 75.0%，未达到目标 ≥\u00a095.0%。",
        "较上期下降：SLA达成率 100.0% → 75.0%（-25.0 个百分点）。",  # September's 100.0% (mart row)
        "无去年同期数据可比较。",
        "本期违约 2 项，按优先级：P1 2。",
        "达成率最低的优先级为 P3：0.0%（0 / 1）。",
        "违约最多的工单类别：网络（2 项）。",
        '<li class="bad">未解决的重大事件 1 个。</li>',  # INC-1001
        "期末未关闭的遗留问题 2 个。",  # LI-0901, LI-0903
        '<td>网络</td><td class="num">1</td><td class="num">0</td><td class="num">1</td><td class="num">2</td>',
        "指标未达标·SLA达成率（PRJ-A）：责任人 李四，2026-11-30 前完成原因分析与改进措施",  # due in November
    ):
        assert sentence in conclusions, sentence
    assert "暂定" not in html  # October was over at the data's as-of time (2026-11-01)
    assert re.search(r"<h2[^>]*>结论摘要</h2>.*<h2[^>]*>SLA 达成情况</h2>", html)
    english = compact(service(url, tmp_path, language="en").path)
    assert "Worse than the previous period: SLA attainment 100.0% → 75.0% (-25.0 pp)." in english
    assert "1 major incident(s) not resolved." in english


def test_the_service_report_compares_with_a_year_before_and_shows_targets_by_priority(conn, url, tmp_path):
    conn.execute(
        "insert into marts.kpi_scorecard values ('SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2025-10-01',"
        " 7, 10, 0.700000, 0.950000, false, 'missed')"
    )
    try:
        html = compact(service(url, tmp_path).path)
    finally:
        conn.execute("delete from marts.kpi_scorecard where period_start = '2025-10-01'")
    assert "较去年同期改善：SLA达成率 70.0% → 75.0%（+5.0 个百分点）。" in html
    # The KPI table: value, basis, target, previous period, a year before.
    assert (
        '<td>SLA达成率</td><td class="num">75.0%</td><td class="num">3 / 4</td><td class="num target">≥\u00a095.0%</td>'
        '<td class="num">100.0%</td><td class="num">70.0%</td>'
    ) in html
    assert "<td>2026-10</td><td>P1</td>" in html and '<td class="num">66.7%</td><td class="num">95.0%</td></tr>' in html
    assert "<figcaption>本期各优先级 SLA 达成率与目标</figcaption>" in html


def test_the_summary_is_on_the_first_page_before_the_detail(conn, url, tmp_path):
    report = service(url, tmp_path, formats=("pdf",))
    pages = [page.extract_text() for page in PdfReader(report.files["pdf"]).pages]
    # Page 1 is the cover; the summary follows the contents list (which names the sections) on the next page.
    assert "结论摘要" not in pages[0] and "文件编号" in pages[0]
    body = pages[1][pages[1].rindex("结论摘要") :]
    assert "1 项未达标" in body and "-25.0 个百分点" in body
    assert "SLA 达成情况" not in body or body.index("-25.0 个百分点") < body.index("SLA 达成情况")


@pytest.fixture
def fourteen_items(conn):
    """Twelve overdue items (due in late October), one in progress, with PRJ-A's open one."""
    rows = [(f"2026-10-{day:02d}", "overdue") for day in range(10, 22)] + [("2026-11-20", "in_progress")]
    for number, (due, state) in enumerate(rows):
        conn.execute(
            "insert into marts.improvement_items (item_id, kind, kpi_code, grain, grain_id, period_type,"
            " period_start, value, target, gap, owner, due_date, status, state) values (%s, 'sla_review',"
            " 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-09-01', 0.8, 0.95, -0.15, 'x', %s, %s, %s)",
            (f"review-{number}", due, "in_progress" if state == "in_progress" else "open", state),
        )
    yield
    conn.execute("delete from marts.improvement_items where kind = 'sla_review'")


def test_the_improvement_section_lists_overdue_first_and_at_most_ten(url, fourteen_items, tmp_path):
    report = service(url, tmp_path, formats=("html", "xlsx"))
    html = compact(report.path)
    section = re.split(r"<h2[^>]*>改进计划</h2>", html, maxsplit=1)[1]
    assert (
        "改进事项 14 项：已逾期 12 项，待处理 1 项，进行中 1 项，已完成 0 项，验证有效 0 项，验证无效 0 项。" in section
    )
    states = re.findall(r"<td(?: class=\"bad\")?>(已逾期|待处理|进行中)</td>", section)
    assert states == ["已逾期"] * 10
    dues = re.findall(r'<td class="date">(2026-1\d-\d\d)</td>', section)
    assert dues == [f"2026-10-{day:02d}" for day in range(10, 20)]
    assert "以下列出 14 项中的 10 项（逾期优先）；全部改进事项见 XLSX 附件「改进事项」工作表。" in section
    summary = html.split('<section class="summary">', 1)[1].split("</section>", 1)[0]
    assert "超过计划完成日期仍未完成的改进事项 12 项。" in summary  # a risk in the summary
    sheet = load_workbook(report.files["xlsx"])["改进事项"]
    assert sheet.max_row == 1 + 14  # the whole register


def test_a_month_not_over_at_the_as_of_time_is_provisional(conn, url, tmp_path):
    as_of = datetime(2026, 10, 20, 9, 0, tzinfo=BEIJING)
    [report] = render_period(
        KINDS["process_report"], url, OCTOBER, tmp_path, TEMPLATES_DIR, formats=("html",), as_of=as_of
    )
    html = compact(report.path)
    assert "<h1>过程运行监控报告（暂定）</h1>" in html
    assert "本期尚未结束（数据截至 2026-10-20），以下数字为暂定" in html
    assert re.search(r'<h2[^>]* class="summary-heading">结论摘要（暂定）</h2>', html)
