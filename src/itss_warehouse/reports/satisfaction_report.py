"""The satisfaction survey summary (满意度调查总结报告) after the year's annual survey [003 §6.2.4].

Response coverage and the customers that did not answer, CSAT by department, the score of
each item of every survey level the year has (incident callbacks, project surveys, the
annual survey) against a year before, the lowest scores with their comments, and the
actions raised for satisfaction KPIs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from itss_warehouse.reports import charts, sections
from itss_warehouse.reports.appendix import COUNT_FORMAT, label
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.summary import Summary, most_missed
from itss_warehouse.reports.summary import build as build_summary

SATISFACTION_KPIS = ("CSAT", "SURVEY_COVERAGE")

# The PDF lists this many of the lowest scores; the appendix lists them all.
LOW_SCORES_SHOWN = 30

LOW_SCORES = f"""
    select answers.level, answers.responded_date, customers.customer_name, answers.project_id, answers.item,
           answers.score, answers.scale, answers.score_100, comments.comment
    from marts.fct_satisfaction_answers as answers
    left join restricted.satisfaction_comments as comments using (answer_source, response_id, item)
    left join (select distinct customer_id, customer_name from marts.dim_projects) as customers
        on answers.customer_id = customers.customer_id
    where answers.is_low_score and answers.responded_date >= %(start)s and answers.responded_date < %(end)s
    order by answers.score_100, array_position(array{sections.SURVEY_LEVELS!r}, answers.level),
        answers.responded_date, customers.customer_name, answers.item
"""


def units(cur: Cursor, year: Period) -> list[Unit]:
    return [Unit("organisation", "organisation", year)]


def content(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    items = sections.satisfaction_items(cur, unit)
    kpis = sections.scorecard(cur, unit, SATISFACTION_KPIS)
    levels = catalogue["satisfaction"]["levels"]
    scores = charts.scores_by_item(
        [f"{levels.get(row['level'], row['level'])} · {row['item']}" for row in items],
        [row["average_score"] for row in items],
        xlabel=catalogue["survey"]["average"],
    )
    return {
        "kpis": kpis,
        "matrix": sections.kpi_matrix(cur, unit, "department", ["CSAT"]),
        "items": items,
        "low_scores": cur.execute(LOW_SCORES, unit.params).fetchall(),
        "low_scores_shown": LOW_SCORES_SHOWN,
        "non_respondents": sections.non_respondents(cur, unit),
        "actions": [row for row in sections.improvement_items(cur, unit) if row["kpi_code"] in SATISFACTION_KPIS],
        "charts": {"items": scores if items else None},
    }


def appendix(cur: Cursor, unit: Unit, content: dict[str, Any], catalogue: dict[str, Any]) -> list[Sheet]:
    t = catalogue["survey"]
    levels = catalogue["satisfaction"]["levels"]
    return [
        sections.kpi_sheet(content["kpis"], catalogue),
        Sheet(
            t["items_sheet"], t["item_headers"],
            [[row["item"], row["answers"], row["average_score"], row["prior_score"], row["low_scores"],
              label(row["level"], levels)] for row in content["items"]],
            {1: COUNT_FORMAT, 2: "0.0", 3: "0.0", 4: COUNT_FORMAT},
        ),
        Sheet(
            t["low_scores_sheet"], t["low_score_headers"],
            [[row["responded_date"], row["customer_name"], row["project_id"], row["item"], row["score"],
              label(row["scale"], catalogue["workbook"]["scales"]),
              row["score_100"], row["comment"], label(row["level"], levels)] for row in content["low_scores"]],
            {0: "yyyy-mm-dd"},
        ),
        sections.improvement_sheet(content["actions"], catalogue),
    ]  # fmt: skip


def summary(content: dict[str, Any], unit: Unit, as_of: datetime | None, catalogue: dict[str, Any]) -> Summary:
    """CSAT and coverage against target and a year before, the departments missing, and the actions."""
    return build_summary(
        unit.period, as_of, catalogue,
        kpis=content["kpis"],
        improvements=content["actions"],
        contributors=most_missed(content["matrix"], catalogue),
    )  # fmt: skip


KIND = ReportKind(
    "satisfaction_report", "year", "satisfaction_report.html.j2", units, content, appendix,
    kpi_codes=SATISFACTION_KPIS, headline_kpis=SATISFACTION_KPIS,
    summary=summary,
)  # fmt: skip
