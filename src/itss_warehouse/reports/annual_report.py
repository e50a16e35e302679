"""The annual quality report (运维服务质量管理报告) of the organisation, the management-review input.

[001 §6.2(3), §7.3.2(3), 003 §6.2.5]: the scorecard against targets and a year before,
the departments side by side, the internal audits and their findings, satisfaction,
complaints, and the improvement register of the year.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from itss_warehouse.reports import charts, sections
from itss_warehouse.reports.appendix import COUNT_FORMAT, label
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.summary import Summary, count_risk, most_missed
from itss_warehouse.reports.summary import build as build_summary

DEPARTMENT_KPIS = [
    "SLA_ATTAINMENT", "RESOLUTION_ON_TIME", "CSAT", "REPORT_DELIVERY", "COMPLAINT_CLOSURE", "FINDING_CLOSURE",
]  # fmt: skip

AUDITS = """
    select audit_id, audited_on, department_name, count(finding_id) as findings,
           count(finding_id) filter (where severity = 'major') as major_findings,
           count(finding_id) filter (where not is_closed) as open_findings
    from marts.fct_audit_findings
    where programme_year = extract(year from %(start)s::date)
    group by audit_id, audited_on, department_name
    order by audited_on, audit_id
"""

FINDINGS = """
    select audit_id, finding_id, department_name, severity, raised_on, closed_on
    from marts.fct_audit_findings
    where programme_year = extract(year from %(start)s::date) and finding_id is not null
    order by raised_on, finding_id
"""

COMPLAINT_SUMMARY = """
    select count(*) as received, count(*) filter (where is_major) as major,
           count(*) filter (where is_closed) as closed, count(*) filter (where is_major_not_escalated) as not_escalated
    from marts.fct_complaints
    where received_month >= %(start)s and received_month < %(end)s
"""

# The year's improvement loop (the management review's input [001 §7.3.2]): the items raised in the
# year by cause category, counted by their state on the judged day (disjoint but for recurring and
# overdue); the rates (closed on time, verified effective) are the scorecard's LOOP_KPIS, not computed here.
LOOP_BY_CAUSE = f"""
    with judged as (
        select items.cause_category, items.is_recurring, {sections.state_on_judged_day("items")} as state
        from marts.improvement_items as items
        where items.raised_date >= %(start)s and items.raised_date < %(end)s
    )
    select judged.cause_category, categories.name_zh, categories.name_en, count(*) as raised,
           count(*) filter (where judged.is_recurring) as recurring,
           count(*) filter (where judged.state in ('open', 'in_progress', 'overdue')) as pending,
           count(*) filter (where judged.state = 'overdue') as overdue,
           count(*) filter (where judged.state = 'done') as done,
           count(*) filter (where judged.state = 'verified_effective') as verified_effective,
           count(*) filter (where judged.state = 'not_effective') as not_effective
    from judged
    left join marts.improvement_cause_categories as categories on judged.cause_category = categories.category_code
    group by judged.cause_category, categories.name_zh, categories.name_en, categories.sort_order
    order by categories.sort_order nulls last
"""
LOOP_KPIS = ("IMPROVEMENT_ON_TIME", "IMPROVEMENT_EFFECTIVE")
LOOP_COUNTS = ("raised", "recurring", "pending", "overdue", "done", "verified_effective", "not_effective")


def units(cur: Cursor, year: Period) -> list[Unit]:
    return [Unit("organisation", "organisation", year)]


def content(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    params = unit.params
    return {
        "kpis": sections.scorecard(cur, unit),
        "matrix": sections.kpi_matrix(cur, unit, "department", DEPARTMENT_KPIS),
        "audits": cur.execute(AUDITS, params).fetchall(),
        "findings": cur.execute(FINDINGS, params).fetchall(),
        "satisfaction_items": sections.satisfaction_items(cur, unit),
        "non_respondents": sections.non_respondents(cur, unit),
        "complaints": cur.execute(COMPLAINT_SUMMARY, params).fetchone(),
        "improvement_loop": improvement_loop(cur, unit, catalogue),
        "improvements": sections.improvement_items(cur, unit),
        "charts": sections.trend_charts(cur, unit, catalogue),
    }


def improvement_loop(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    """The year's loop: the scorecard's loop KPIs, the items raised by cause category with their total, a chart."""
    t = catalogue["loop"]
    by_cause = [
        {**row, "name": row[catalogue["kpi_name_column"]] or t["uncategorised"]}
        for row in cur.execute(LOOP_BY_CAUSE, unit.params).fetchall()
    ]
    total = {count: sum(row[count] for row in by_cause) for count in LOOP_COUNTS}
    # The chart's stacks: the states, disjoint, so each bar is the category's items raised.
    outcomes: dict[str, Sequence[int]] = {
        t["outcomes"][outcome]: [row[outcome] for row in by_cause]
        for outcome in ("pending", "done", "verified_effective", "not_effective")
    }
    return {
        "kpis": sections.scorecard(cur, unit, LOOP_KPIS),
        "by_cause": by_cause,
        "total": total,
        "chart": charts.stacked_counts([row["name"] for row in by_cause], outcomes, ylabel=t["items"])
        if by_cause
        else None,
    }


def appendix(cur: Cursor, unit: Unit, content: dict[str, Any], catalogue: dict[str, Any]) -> list[Sheet]:
    t = catalogue["annual"]
    return [
        sections.kpi_sheet(content["kpis"], catalogue),
        sections.matrix_sheet(t["departments"], content["matrix"], catalogue),
        Sheet(
            t["findings"], t["finding_headers"],
            [[row["audit_id"], row["finding_id"], row["department_name"],
              label(row["severity"], catalogue["workbook"]["severities"]), row["raised_on"], row["closed_on"]]
             for row in content["findings"]],
            {4: "yyyy-mm-dd", 5: "yyyy-mm-dd"},
        ),
        Sheet(
            t["satisfaction"], t["satisfaction_headers"],
            [[row["item"], row["answers"], row["average_score"], row["prior_score"], row["low_scores"],
              catalogue["satisfaction"]["levels"].get(row["level"], row["level"])]
             for row in content["satisfaction_items"]],
            {1: COUNT_FORMAT, 2: "0.0", 3: "0.0", 4: COUNT_FORMAT},
        ),
        sections.improvement_sheet(content["improvements"], catalogue),
    ]  # fmt: skip


def summary(content: dict[str, Any], unit: Unit, as_of: datetime | None, catalogue: dict[str, Any]) -> Summary:
    """The year's scorecard, the departments missing most, open audit findings and complaints."""
    complaints = content["complaints"]
    return build_summary(
        unit.period, as_of, catalogue,
        kpis=content["kpis"],
        improvements=content["improvements"],
        contributors=most_missed(content["matrix"], catalogue),
        risks=[*count_risk("open_findings", sum(row["open_findings"] for row in content["audits"])),
               *count_risk("open_complaints", complaints["received"] - complaints["closed"])],
    )  # fmt: skip


KIND = ReportKind(
    "annual_report", "year", "annual_report.html.j2", units, content, appendix,
    headline_kpis=("SLA_ATTAINMENT", "CSAT", "AUDIT_COVERAGE", "FINDING_CLOSURE", "COMPLAINT_CLOSURE"),
    summary=summary,
)  # fmt: skip
