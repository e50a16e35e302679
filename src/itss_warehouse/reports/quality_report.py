"""The half-year quality report (质量报告) per department, for the quality group [001 §7.2(3)(4)].

The department's indicators against their SLA targets, its projects side by side, the
complaints it received, and the unmet items with their improvement measures.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itss_warehouse.reports import sections
from itss_warehouse.reports.appendix import flag, hours_duration
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.summary import Summary, count_risk, most_missed
from itss_warehouse.reports.summary import build as build_summary

PROJECT_KPIS = [
    "SLA_ATTAINMENT", "RESPONSE_ON_TIME", "ONSITE_ON_TIME", "RESOLUTION_ON_TIME", "REPORT_DELIVERY",
    "CALLBACK_COVERAGE", "COMPLAINT_CLOSURE",
]  # fmt: skip

# Departments with a project running in the half-year.
DEPARTMENTS = """
    select distinct dept_id, department_name
    from marts.dim_projects
    where dept_id is not null and start_date < %(end)s and (end_date is null or end_date >= %(start)s)
    order by dept_id
"""

COMPLAINTS = """
    select complaints.complaint_id, complaints.project_id, complaints.received_at, complaints.is_major,
           complaints.escalated_at, complaints.closed_at, complaints.hours_to_close, texts.description
    from marts.fct_complaints as complaints
    left join restricted.complaint_texts as texts on complaints.complaint_id = texts.complaint_id
    where complaints.dept_id = %(grain_id)s
      and complaints.received_month >= %(start)s and complaints.received_month < %(end)s
    order by complaints.received_at, complaints.complaint_id
"""


def units(cur: Cursor, half_year: Period) -> list[Unit]:
    params = {"start": half_year.start, "end": half_year.end}
    return [Unit("department", row["dept_id"], half_year, row) for row in cur.execute(DEPARTMENTS, params)]


def content(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    kpis = sections.scorecard(cur, unit)
    return {
        "department": unit.facts,
        "kpis": kpis,
        "unmet": [row for row in kpis if row["status"] == "missed"],
        "matrix": sections.kpi_matrix(cur, unit, "project", PROJECT_KPIS),
        "complaints": cur.execute(COMPLAINTS, unit.params).fetchall(),
        "improvements": sections.improvement_items(cur, unit),
        "charts": sections.trend_charts(cur, unit, catalogue),
    }


def appendix(cur: Cursor, unit: Unit, content: dict[str, Any], catalogue: dict[str, Any]) -> list[Sheet]:
    t = catalogue["quality"]
    moment = "yyyy-mm-dd hh:mm"
    return [
        sections.kpi_sheet(content["kpis"], catalogue),
        sections.matrix_sheet(t["projects"], content["matrix"], catalogue),
        Sheet(
            # The time to close in hours and minutes, as the cell shows it.
            t["complaints"], [*t["complaint_headers"][:6], catalogue["workbook"]["time_to_close"],
                              *t["complaint_headers"][7:]],
            [[row["complaint_id"], row["project_id"], row["received_at"], flag(row["is_major"], catalogue),
              row["escalated_at"], row["closed_at"], hours_duration(row["hours_to_close"]), row["description"]]
             for row in content["complaints"]],
            {2: moment, 4: moment, 5: moment},
        ),
        sections.improvement_sheet(content["improvements"], catalogue),
    ]  # fmt: skip


def summary(content: dict[str, Any], unit: Unit, as_of: datetime | None, catalogue: dict[str, Any]) -> Summary:
    """The department's indicators, its projects missing most, and its complaints still open."""
    open_complaints = [row for row in content["complaints"] if row["closed_at"] is None]
    return build_summary(
        unit.period, as_of, catalogue,
        kpis=content["kpis"],
        improvements=content["improvements"],
        contributors=most_missed(content["matrix"], catalogue),
        risks=count_risk("open_complaints", len(open_complaints)),
    )  # fmt: skip


KIND = ReportKind(
    "quality_report", "half_year", "quality_report.html.j2", units, content, appendix,
    headline_kpis=("SLA_ATTAINMENT", "RESOLUTION_ON_TIME", "REPORT_DELIVERY", "COMPLAINT_CLOSURE"),
    summary=summary,
)  # fmt: skip
