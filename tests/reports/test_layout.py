"""The reports' layout and formats, read from the PDF as a reader sees it (pdftotext word boxes).

The hand-written organisation (support.report_fixture) with sixty more breached tickets, so that
the breach table runs over a page; PRJ-A's service report in both languages and the process
report in Chinese. Page images are kept under .itss/pytest/report-pages to look at.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
import yaml
from support.report_fixture import FIXTURE
from support.report_pages import Page, pdf_pages, save_pages

from itss_warehouse.ingest.improvement_register import RegisterEntry, entry_problems
from itss_warehouse.ingest.sla_exemptions import ExemptionEntry, exemption_problem
from itss_warehouse.reports import charts, quarantine_reasons
from itss_warehouse.reports.formatting import Period, build_environment, format_number, load_catalogue
from itss_warehouse.reports.kinds import KINDS
from itss_warehouse.reports.rendering import RenderedReport, render_period
from itss_warehouse.validate.suites import RAW_SUITES

pytestmark = pytest.mark.integration

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "reports"
OCTOBER = Period("month", date(2026, 10, 1))
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# PRJ-A's data values in the fixture that are Chinese whatever the report's language.
# The fixture's values (support/report_fixture.py), the exemption's reason and approving role among them.
CHINESE_DATA = ["华东数据中心运维", "华东银行", "运维一部", "网络", "李四", "客户机房<关闭>，=1+1 无法进场", "客户代表"]

# Sixty more of PRJ-A's October tickets (incidents and service requests, the widest labels) breached
# their resolution or on-site target: the first by 3,114.65
# minutes (51 h 55 min), the second by 74,040 (1,234 h: a thousands separator), the others by 10 to 69.
MANY_BREACHES = """
insert into marts.fct_tickets (ticket_id, ticket_type, project_id, priority, opened_at, opened_month, status)
select 'INC-3' || lpad(n::text, 3, '0'), case when n % 3 = 0 then 'service_request' else 'incident' end, 'PRJ-A', 'P2',
       '2026-10-10 01:00+00'::timestamptz + n * interval '1 hour', '2026-10-01', 'closed'
from generate_series(0, 59) as n;
insert into marts.sla_breaches
select 'INC-3' || lpad(n::text, 3, '0'), case when n % 4 = 2 then 'onsite' else 'resolution' end, 'PRJ-A',
       '2026-10-01', 'P2',
       '2026-10-10 01:00+00'::timestamptz + n * interval '1 hour',
       '2026-10-10 05:00+00'::timestamptz + n * interval '1 hour',
       '2026-10-10 06:00+00'::timestamptz + n * interval '1 hour', 240,
       240 + minutes, minutes
from (select n, case n when 0 then 3114.65 when 1 then 74040 else 8 + n end as minutes
      from generate_series(0, 59) as n) as breaches;
"""
# The organisation's October scorecard: SLA attainment as the mean of two project rates (a sum of
# rates over projects, no count), change success as 3 of 4 changes.
ORGANISATION_KPIS = """
insert into marts.kpi_scorecard values
    ('SLA_ATTAINMENT', 'organisation', 'ORG', 'month', '2026-10-01', 1.5, 2, 0.75, 0.95, false, 'missed'),
    ('CHANGE_SUCCESS', 'organisation', 'ORG', 'month', '2026-10-01', 3, 4, 0.75, 1.0, false, 'missed');
"""


@pytest.fixture(scope="module")
def url(create_database) -> str:
    url = create_database("layout")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(FIXTURE)
        conn.execute(MANY_BREACHES)
        conn.execute(ORGANISATION_KPIS)
    return url


@pytest.fixture(scope="module")
def reports(url, tmp_path_factory) -> dict[tuple[str, str], RenderedReport]:
    """PRJ-A's service report in both languages, the process report in Chinese; their pages saved as images."""
    output = tmp_path_factory.mktemp("layout")
    rendered = {}
    for kind, language, units in [
        ("service_report", "zh-CN", ["PRJ-A"]),
        ("service_report", "en", ["PRJ-A"]),
        ("process_report", "zh-CN", None),
    ]:
        [report] = render_period(
            KINDS[kind], url, OCTOBER, output, TEMPLATES_DIR,
            unit_ids=units, language=language, formats=("html", "pdf"), breaches_shown=100,
        )  # fmt: skip
        assert save_pages(report)
        rendered[kind, language] = report
    return rendered


@pytest.fixture(scope="module")
def pages(reports) -> dict[tuple[str, str], list[Page]]:
    return {key: pdf_pages(report.files["pdf"]) for key, report in reports.items()}


def squeezed(text: str) -> str:
    """Text without whitespace: pdftotext splits CJK runs into words at will."""
    return "".join(text.split())


@pytest.mark.parametrize(
    ("language", "first_header", "last_header"), [("zh-CN", "工单号", "超时"), ("en", "Ticket", "Over")]
)
def test_the_breach_table_repeats_its_header_on_every_page(pages, language, first_header, last_header):
    breach_pages = [
        page for page in pages["service_report", language] if any(w.text.startswith("INC-3") for w in page.words)
    ]
    assert len(breach_pages) >= 2, "the fixture's breach table should run over a page"
    for page in breach_pages:
        first_row = min(word.y_min for word in page.words if word.text.startswith("INC-3"))
        headers = {word.text for word in page.words if word.y_max <= first_row}
        assert first_header in headers and last_header in headers, page.text[:200]


@pytest.mark.parametrize("key", [("service_report", "zh-CN"), ("service_report", "en"), ("process_report", "zh-CN")])
def test_no_word_runs_past_the_right_margin(pages, key):
    for number, page in enumerate(pages[key], start=1):
        assert not page.beyond_the_right_margin(), f"page {number}"


@pytest.mark.parametrize("key", [("service_report", "zh-CN"), ("service_report", "en"), ("process_report", "zh-CN")])
def test_no_page_is_near_empty(pages, key):
    # A page but the last ending above its middle was broken too early; no page, the last
    # included, holds a line or two alone.
    for number, page in enumerate(pages[key], start=1):
        assert not page.holds_a_line_or_two, f"page {number}: {page.text}"
        if number < len(pages[key]):
            assert max(word.y_max for word in page.body) > page.height / 2, f"page {number} ends early"


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("zh-CN", ["51小时55分", "1,234小时0分", "合计超时1,"]),
        ("en", ["51 h 55 min", "1,234 h 0 min", "over target in all"]),
    ],
)
def test_durations_in_hours_and_minutes_with_thousands_separators(pages, reports, language, shown):
    text = " ".join(page.text for page in pages["service_report", language])
    flat = squeezed(text)
    for expected in shown:
        assert squeezed(expected) in flat, expected
    assert "3114.65" not in flat and "3,114.65" not in flat  # no decimal minutes
    html = reports["service_report", language].path.read_text(encoding="utf-8")
    assert "分钟）" not in html and "(min)" not in html  # the unit is in the value, not the header


def test_a_basis_is_shown_for_counted_shares_only(reports):
    html = re.sub(r">\s+<", "><", reports["process_report", "zh-CN"].path.read_text(encoding="utf-8"))
    kpis = html.split('<table class="kpis">', 1)[1].split("</table>", 1)[0]
    assert 'SLA达成率</td><td class="num">75.0%</td><td class="num"></td>' in kpis  # not "1.5 / 2"
    assert '变更成功率</td><td class="num">75.0%</td><td class="num">3 / 4</td>' in kpis


def test_targets_are_a_compact_symbol_on_one_line(pages, reports):
    html = reports["process_report", "zh-CN"].path.read_text(encoding="utf-8")
    assert "&gt;=" not in html  # the comparator as ≥, not >=
    assert '<td class="num target">≥\u00a095.0%</td>' in html  # D01's missed SLA attainment
    # The symbol and its value on one line, in every row.
    symbols = [(page, word) for page in pages["process_report", "zh-CN"] for word in page.words if word.text == "≥"]
    assert symbols
    for page, symbol in symbols:
        assert any(
            re.fullmatch(r"\d+\.\d%[。，]?", other.text)
            and abs(other.y_min - symbol.y_min) < 1
            and other.x_min > symbol.x_max
            for other in page.words
        )


def test_no_italics_for_chinese_text():
    # Every report's text may be Chinese, and CJK fonts have no italic face: no rule or tag slants text.
    for path in (TEMPLATES_DIR / "templates").glob("*"):
        source = path.read_text(encoding="utf-8")
        assert not re.search(r"font-style\s*:\s*(italic|oblique)", source), path.name
        assert not re.search(r"<(i|em)\b", source), path.name


def test_a_score_is_rounded_alike_in_the_chart_and_the_table(monkeypatch):
    # Text as text rather than paths, to read the bar's label.
    monkeypatch.setitem(charts.STYLE, "svg.fonttype", "none")
    svg = charts.scores_by_item(["响应速度"], [Decimal("86.25")], xlabel="score")
    assert ">86.3<" in svg and "86.2" not in svg  # half up, as SQL round; Python's format gives 86.2
    env = build_environment(TEMPLATES_DIR, load_catalogue(TEMPLATES_DIR, "zh-CN"))
    assert env.from_string('{{ value | kpi_value("score") }}').render(value=Decimal("86.25")) == "86.3"


def test_thousands_separators_and_units():
    assert (format_number(1234), format_number(Decimal("1234567.5")), format_number(12)) == (
        "1,234",
        "1,234,567.5",
        "12",
    )
    for language, mean_time in [("zh-CN", "12小时30分"), ("en", "12 h 30 min")]:
        env = build_environment(TEMPLATES_DIR, load_catalogue(TEMPLATES_DIR, language))
        # A mean handling time (unit hours) with its unit; a score without a meaningless "/ 10" basis.
        assert env.from_string('{{ value | kpi_value("hours") }}').render(value=Decimal("12.5")) == mean_time


def test_the_satisfaction_section_names_its_two_populations(reports):
    zh = reports["service_report", "zh-CN"].path.read_text(encoding="utf-8")
    assert "调查项数" not in zh and '<th class="num">评分条数</th>' in zh
    assert "回访数是本期回访的已解决事件数；评分条数是各类调查中逐项给出的评分数" in zh


def _strings(node: object) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in _strings(value)]
    if isinstance(node, list):
        return [text for value in node for text in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_english_reports_are_english_but_for_data_values(pages):
    catalogue = yaml.safe_load((TEMPLATES_DIR / "locales" / "en.yml").read_text(encoding="utf-8"))
    assert not [text for text in _strings(catalogue) if CJK.search(text)]
    text = " ".join(page.text for page in pages["service_report", "en"])
    for value in CHINESE_DATA:
        text = text.replace(value, "")
    assert not CJK.findall(text), text


def test_every_quarantine_reason_of_the_validation_suites_is_translated():
    formats = load_catalogue(TEMPLATES_DIR, "zh-CN")["layout"]["reasons"]
    english = load_catalogue(TEMPLATES_DIR, "en")["layout"]["reasons"]
    descriptions = {
        expectation.description
        for suite in RAW_SUITES.values()
        for expectation in suite
        if (expectation.meta or {}).get("quarantine")
    }
    assert len(descriptions) > 10
    for description in descriptions:
        assert description is not None
        translated = quarantine_reasons.translate(description, formats)
        assert translated != description and CJK.search(translated), description
    assert set(formats) == set(english) == set(quarantine_reasons.REASONS)
    layouts = [load_catalogue(TEMPLATES_DIR, language)["layout"]["warnings"] for language in ("zh-CN", "en")]
    assert all(set(warnings) == set(quarantine_reasons.WARNINGS) for warnings in layouts)
    # The mapping's reasons, joined; an unknown reason as written.
    assert quarantine_reasons.translate("not a date; does not match ^P\\d$", formats) == "不是日期; 不符合格式 ^P\\d$"
    assert quarantine_reasons.translate("something new", formats) == "something new"


def test_every_reason_of_the_registers_rules_is_translated():
    """The improvement and exemption registers' rules, as they write their reasons, read in Chinese and as written in English."""
    zh, en = (load_catalogue(TEMPLATES_DIR, language)["layout"]["reasons"] for language in ("zh-CN", "en"))
    items = [
        RegisterEntry(1, "X", None, None, "in_progress", None, None, None),
        RegisterEntry(2, None, "audit", None, "verified", "王工", None, None),
        RegisterEntry(3, None, "audit", "2026-01-05", "verified", "王工", "2026-03-01", "2026-02-01"),
    ]
    reasons = [reason for entry in items for _, _, reason in entry_problems(entry, set(), "done")]
    exemptions = [
        exemption_problem(ExemptionEntry(1, "T9", "all"), {"T1"}, {}),
        exemption_problem(ExemptionEntry(2, "T1", "all"), {"T1"}, {"T1": {"resolution": "met"}}),
        exemption_problem(ExemptionEntry(3, "T1", "response"), {"T1"}, {"T1": {"response": "met"}}),
    ]
    reasons += [problem[2] for problem in exemptions if problem]
    assert len(reasons) == 9
    for reason in reasons:
        assert CJK.search(quarantine_reasons.translate(reason, zh)), reason
        assert quarantine_reasons.translate(reason, en) == reason
    assert quarantine_reasons.translate(reasons[-1], zh) == "未违约：该工单的 response 指标为 met"


def test_validation_warnings_are_translated_with_their_checks():
    catalogue = load_catalogue(TEMPLATES_DIR, "zh-CN")["layout"]
    warning = "tickets.csv, column closed_at: 1 row(s) fail 'closed_at is not before opened_at' (rows 3, 5)"
    assert quarantine_reasons.translate_warning(warning, catalogue["warnings"], catalogue["reasons"]) == (
        "tickets.csv，closed_at 列：1 行未通过「closed_at 不应早于 opened_at」（行 3, 5）"
    )
    export = "tickets.csv: check failed: 'the export has at least half the rows of the source's last seven exports'"
    assert quarantine_reasons.translate_warning(export, catalogue["warnings"], catalogue["reasons"]).startswith(
        "tickets.csv：未通过校验「the export has"
    )  # a check of no known form keeps its description
    unknown = "marts.kpi_scorecard: 1 row(s) fail 'CSAT within 0–100'"
    assert quarantine_reasons.translate_warning(unknown, catalogue["warnings"], catalogue["reasons"]) == unknown
    english = load_catalogue(TEMPLATES_DIR, "en")["layout"]
    assert quarantine_reasons.translate_warning(warning, english["warnings"], english["reasons"]) == warning


def test_the_internal_report_lists_its_quarantined_rows_translated_as_it_counts_them(reports):
    html = re.sub(r">\s+<", "><", reports["process_report", "zh-CN"].path.read_text(encoding="utf-8"))
    count = int(re.search(r'<span class="bad">(\d+) 行数据被隔离</span>', html)[1])
    body = html.split('<table class="quarantine">', 1)[1].split("</tbody>", 1)[0].split("<tbody>", 1)[1]
    assert body.count("<tr>") == count == 3
    assert "不是时间" in body and "not a timestamp" not in body
