"""The monthly process monitoring report (过程运行监控报告) of the organisation, for the PMO [004 §6.4.2].

Process KPIs across all projects, the deviations (every KPI missed at department or
project grain), the ad-hoc review flags of the month [004 §6.4.3], and the backlog.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itss_warehouse.reports import charts, sections
from itss_warehouse.reports.appendix import COUNT_FORMAT, label
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.formatting import Period, kpi_number_format
from itss_warehouse.reports.summary import Summary, count_risk, most_missed
from itss_warehouse.reports.summary import build as build_summary
from itss_warehouse.reports.xlsx import Formatted

PROJECT_KPIS = [
    "SLA_ATTAINMENT", "RESPONSE_ON_TIME", "RESOLUTION_ON_TIME", "CALLBACK_COVERAGE",
    "FIRST_TIME_FIX", "REOPEN_RATE", "MAJOR_INCIDENTS",
]  # fmt: skip
AD_HOC_REVIEWS = ("sla_review", "major_complaint")

# KPIs missed below the organisation: the departments' and the projects'.
DEVIATIONS = """
    with names as (
        select distinct 'project' as grain, project_id as grain_id, project_name as name from marts.dim_projects
        union all
        select distinct 'department', dept_id, department_name from marts.dim_projects where dept_id is not null
    )
    select scorecard.grain, scorecard.grain_id, names.name, scorecard.kpi_code, catalogue.name_zh,
           catalogue.name_en, catalogue.unit, catalogue.comparator, scorecard.value, scorecard.target
    from marts.kpi_scorecard as scorecard
    inner join marts.kpi_catalogue as catalogue on scorecard.kpi_code = catalogue.kpi_code
    left join names on scorecard.grain = names.grain and scorecard.grain_id = names.grain_id
    where scorecard.status = 'missed' and scorecard.grain in ('department', 'project')
      and scorecard.period_type = 'month' and scorecard.period_start = %(start)s
    order by array_position(array['department', 'project'], scorecard.grain), scorecard.grain_id, scorecard.kpi_code
"""

BACKLOG = """
    select days.day::date as day, coalesce(sum(backlog.open_tickets), 0) as open_tickets,
           coalesce(sum(backlog.open_overdue_tickets), 0) as open_overdue_tickets
    from generate_series(%(start)s::date, %(end)s::date - 1, interval '1 day') as days (day)
    left join marts.ticket_backlog_daily as backlog on backlog.day = days.day::date
    group by days.day
    order by days.day
"""


def units(cur: Cursor, month: Period) -> list[Unit]:
    return [Unit("organisation", "organisation", month)]


def content(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    backlog = cur.execute(BACKLOG, unit.params).fetchall()
    t = catalogue["process"]
    items = sections.improvement_items(cur, unit)
    return {
        "kpis": sections.scorecard(cur, unit),
        "matrix": sections.kpi_matrix(cur, unit, "project", PROJECT_KPIS),
        "deviations": cur.execute(DEVIATIONS, unit.params).fetchall(),
        "breaches_by_team": sections.breaches_by_team(cur, unit),
        # Raised for this month: the improvement query also lists earlier items not yet due.
        "reviews": [
            item for item in items if item["kind"] in AD_HOC_REVIEWS and item["period_start"] >= unit.period.start
        ],
        "backlog": backlog,
        "improvements": items,
        "charts": {
            **sections.trend_charts(cur, unit, catalogue),
            "backlog": charts.lines(
                [f"{row['day']:%m-%d}" for row in backlog],
                {t["open"]: [row["open_tickets"] for row in backlog],
                 t["overdue"]: [row["open_overdue_tickets"] for row in backlog]},
                ylabel=catalogue["charts"]["tickets"],
            ),
        },
    }  # fmt: skip


def appendix(cur: Cursor, unit: Unit, content: dict[str, Any], catalogue: dict[str, Any]) -> list[Sheet]:
    t = catalogue["process"]
    name = catalogue["kpi_name_column"]
    return [
        sections.kpi_sheet(content["kpis"], catalogue),
        sections.matrix_sheet(t["projects"], content["matrix"], catalogue),
        Sheet(
            t["deviations"], t["deviation_headers"],
            [[label(row["grain"], catalogue["grains"]), row["grain_id"], row["name"], row[name],
              Formatted(row["value"], kpi_number_format(row["unit"])),
              Formatted(row["target"], kpi_number_format(row["unit"]))] for row in content["deviations"]],
        ),
        sections.team_sheet(content["breaches_by_team"], catalogue),
        sections.improvement_sheet(content["improvements"], catalogue),
        Sheet(
            t["backlog"], t["backlog_headers"],
            [[row["day"], row["open_tickets"], row["open_overdue_tickets"]] for row in content["backlog"]],
            {0: "yyyy-mm-dd", 1: COUNT_FORMAT, 2: COUNT_FORMAT},
        ),
    ]  # fmt: skip


def summary(content: dict[str, Any], unit: Unit, as_of: datetime | None, catalogue: dict[str, Any]) -> Summary:
    """The organisation's KPIs, the projects missing most, and the month's ad-hoc reviews."""
    return build_summary(
        unit.period, as_of, catalogue,
        kpis=content["kpis"],
        improvements=content["improvements"],
        contributors=most_missed(content["matrix"], catalogue),
        risks=count_risk("ad_hoc_reviews", len(content["reviews"])),
    )  # fmt: skip


KIND = ReportKind(
    "process_report", "month", "process_report.html.j2", units, content, appendix,
    headline_kpis=("SLA_ATTAINMENT", "RESOLUTION_ON_TIME", "CALLBACK_COVERAGE", "MAJOR_INCIDENTS"),
    summary=summary,
)  # fmt: skip
