"""The service report (服务报告) per project: monthly, or quarterly for projects reporting quarterly.

Every number shown is a mart column or a plain count; this module selects and formats,
it computes no KPI. Labels come from the locale catalogues in ``reports/locales``.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from itss_warehouse.reports import charts, sections
from itss_warehouse.reports.appendix import duration, label
from itss_warehouse.reports.base import Cursor, ReportKind, Sheet, Unit
from itss_warehouse.reports.formatting import PERIOD_END, TICKET_TYPE_ORDER, Period, priority_counts
from itss_warehouse.reports.summary import Summary, breach_contributors, count_risk
from itss_warehouse.reports.summary import build as build_summary

# The scorecard KPIs the report states (SLA attainment, callback coverage): its workbook and e-mail the same.
KPIS = ("SLA_ATTAINMENT", "CALLBACK_COVERAGE")

# Projects running in the month; a quarterly project is reported on once its quarter closes.
PROJECTS = """
    select project_id, project_name, customer_name, dept_id, department_name, report_frequency
    from marts.dim_projects
    where start_date < %(end)s and (end_date is null or end_date >= %(start)s)
    order by project_id
"""

SLA_ATTAINMENT = """
    select numerator, denominator, value, target, is_met
    from marts.kpi_scorecard
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and grain_id = %(project_id)s
      and period_type = %(period_type)s and period_start = %(start)s
"""

# January to the period's last month: the same figure whenever the report is rendered.
SLA_YEAR_TO_DATE = """
    select numerator, denominator, value, target, is_met
    from marts.sla_attainment_year_to_date
    where project_id = %(project_id)s and month = (%(end)s::date - interval '1 month')::date
"""

# Attainment by priority (and by metric) for each month of the period, as the mart states it.
SLA_BY_PRIORITY = """
    select month, priority,
        max(met) filter (where metric = 'all') as met,
        max(judged) filter (where metric = 'all') as judged,
        max(rate) filter (where metric = 'all') as rate,
        max(rate) filter (where metric = 'response') as response_rate,
        max(rate) filter (where metric = 'onsite') as onsite_rate,
        max(rate) filter (where metric = 'resolution') as resolution_rate
    from marts.sla_attainment_monthly
    where grain = 'project' and grain_id = %(project_id)s and month >= %(start)s and month < %(end)s
      and priority <> 'all'
    group by month, priority
    order by month, priority
"""

TICKET_VOLUME = f"""
    select
        ticket_type,
        grouping(ticket_type) = 1 as is_total,
        {priority_counts("priority")},
        count(*) as total
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month >= %(start)s and opened_month < %(end)s
    group by rollup (ticket_type)
    order by
        grouping(ticket_type),
        array_position({TICKET_TYPE_ORDER}, ticket_type),
        ticket_type
"""

# The SLA attainment before exemptions per month of the period, beside the scorecard's after them
# (marts.sla_attainment_monthly; a month without exempted breaches has the same figure).
SLA_BEFORE_EXEMPTIONS = """
    select month, met_before_exemptions, judged_before_exemptions, rate_before_exemptions, exempted
    from marts.sla_attainment_monthly
    where grain = 'project' and grain_id = %(project_id)s and month >= %(start)s and month < %(end)s
      and priority = 'all' and metric = 'all'
    order by month
"""

# One row per breached metric (marts.sla_breaches) not exempted, so a ticket late on two metrics shows
# twice; the report shows the largest overruns, the appendix every row. Exempted ones are listed apart.
BREACHED_TICKETS = """
    select breaches.ticket_id, tickets.ticket_type, breaches.priority_applied as priority, breaches.metric,
           breaches.opened_at, breaches.due_at, breaches.done_at, breaches.target_minutes, breaches.net_minutes,
           breaches.breach_minutes
    from marts.sla_breaches as breaches
    inner join marts.fct_tickets as tickets on breaches.ticket_id = tickets.ticket_id
    where breaches.project_id = %(project_id)s and not breaches.is_exempted
      and breaches.opened_month >= %(start)s and breaches.opened_month < %(end)s
    order by breaches.opened_at, breaches.ticket_id,
        array_position(array['response', 'onsite', 'resolution'], breaches.metric)
"""

# The exempted breaches (SLA 豁免) with what the customer's representative agreed to: the reason
# category (its labels from the seed), the reason as written (restricted, printed for the customer
# whose document this is), the approving role and the attachment.
EXEMPTED_BREACHES = """
    select breaches.ticket_id, breaches.metric, breaches.breach_minutes,
           breaches.exemption_counting, categories.name_zh, categories.name_en, reasons.reason,
           exemptions.approved_by_role, exemptions.approved_at, exemptions.attachment_ref
    from marts.sla_breaches as breaches
    inner join marts.sla_exemptions as exemptions on breaches.exemption_id = exemptions.exemption_id
    left join marts.sla_exemption_reason_categories as categories
        on breaches.exemption_reason_category = categories.category_code
    left join restricted.sla_exemption_reasons as reasons on breaches.exemption_id = reasons.exemption_id
    where breaches.project_id = %(project_id)s and breaches.is_exempted
      and breaches.opened_month >= %(start)s and breaches.opened_month < %(end)s
    order by breaches.opened_at, breaches.ticket_id,
        array_position(array['response', 'onsite', 'resolution'], breaches.metric)
"""

# Breaches by ticket category and metric: the causes we can name until the improvement register
# records cause categories.
BREACH_CAUSES = """
    select tickets.category,
        count(*) filter (where breaches.metric = 'response') as response,
        count(*) filter (where breaches.metric = 'onsite') as onsite,
        count(*) filter (where breaches.metric = 'resolution') as resolution,
        count(*) as total
    from marts.sla_breaches as breaches
    inner join marts.fct_tickets as tickets on breaches.ticket_id = tickets.ticket_id
    where breaches.project_id = %(project_id)s and not breaches.is_exempted
      and breaches.opened_month >= %(start)s and breaches.opened_month < %(end)s
    group by tickets.category
    order by total desc, tickets.category nulls last
"""

MAJOR_INCIDENTS = """
    select ticket_id, priority, category, opened_at, resolved_at, status
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month >= %(start)s and opened_month < %(end)s
      and ticket_type = 'incident' and is_major
    order by opened_at, ticket_id
"""

# Changes and releases implemented (with an outcome) among those opened in the month.
CHANGES_AND_RELEASES = """
    select ticket_type,
        count(*) filter (where outcome is not null) as implemented,
        count(*) filter (where outcome = 'success') as succeeded,
        count(*) filter (where outcome = 'failed') as failed,
        count(*) filter (where outcome = 'rolled_back') as rolled_back
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month >= %(start)s and opened_month < %(end)s
      and ticket_type in ('change', 'release')
    group by ticket_type
    order by ticket_type
"""

DELIVERY_MODES = """
    select count(*) filter (where delivery_mode = 'onsite') as onsite,
           count(*) filter (where delivery_mode = 'remote') as remote
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month >= %(start)s and opened_month < %(end)s
"""

CALLBACK_COVERAGE = """
    select numerator, denominator, value, target, status
    from marts.kpi_scorecard
    where kpi_code = 'CALLBACK_COVERAGE' and grain = 'project' and grain_id = %(project_id)s
      and period_type = %(period_type)s and period_start = %(start)s
"""

SATISFACTION = """
    select level, count(*) as answers, round(avg(score_100), 1) as average_score,
           count(*) filter (where is_low_score) as low_scores
    from marts.fct_satisfaction_answers
    where project_id = %(project_id)s and responded_date >= %(start)s and responded_date < %(end)s
    group by level
    order by array_position(array['callback', 'project', 'annual'], level)
"""

# Leftover issues open at the period's end, whenever they were raised.
LEFTOVER_ISSUES = f"""
    select ticket_id, category, opened_at
    from marts.fct_tickets
    where project_id = %(project_id)s and ticket_type = 'leftover_issue'
      and opened_at < {PERIOD_END} and (resolved_at is null or resolved_at >= {PERIOD_END})
    order by opened_at, ticket_id
"""

PROJECT_TICKETS = """
    select ticket_id, ticket_type, priority, opened_at, resolved_at, status, sla_status
    from marts.fct_tickets
    where project_id = %(project_id)s and opened_month >= %(start)s and opened_month < %(end)s
    order by opened_at, ticket_id
"""


def units(cur: Cursor, month: Period) -> list[Unit]:
    """One report per project: for its month, or for its quarter when the month closes one."""
    quarter = Period.containing("quarter", month.start)
    closes_quarter = quarter.end == month.end
    reports = []
    for project in cur.execute(PROJECTS, {"start": month.start, "end": month.end}).fetchall():
        if project["report_frequency"] == "quarterly":
            if closes_quarter:
                reports.append(Unit("project", project["project_id"], quarter, project))
        else:
            reports.append(Unit("project", project["project_id"], month, project))
    return reports


def content(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, Any]:
    params = unit.params
    breaches = cur.execute(BREACHED_TICKETS, params).fetchall()
    sla_period = cur.execute(SLA_ATTAINMENT, params).fetchone()
    by_priority = cur.execute(SLA_BY_PRIORITY, params).fetchall()
    return {
        "project": unit.facts,
        "kpis": sections.scorecard(cur, unit, KPIS),
        "breach_causes": cur.execute(BREACH_CAUSES, params).fetchall(),
        "major_incidents": cur.execute(MAJOR_INCIDENTS, params).fetchall(),
        "changes_and_releases": cur.execute(CHANGES_AND_RELEASES, params).fetchall(),
        "delivery_modes": cur.execute(DELIVERY_MODES, params).fetchone(),
        "callbacks": cur.execute(CALLBACK_COVERAGE, params).fetchone(),
        "satisfaction": cur.execute(SATISFACTION, params).fetchall(),
        "leftover_issues": cur.execute(LEFTOVER_ISSUES, params).fetchall(),
        "improvements": sections.improvement_items(cur, unit),
        "sla": {"period": sla_period, "year": cur.execute(SLA_YEAR_TO_DATE, params).fetchone()},
        "sla_before_exemptions": cur.execute(SLA_BEFORE_EXEMPTIONS, params).fetchall(),
        "exempted_breaches": cur.execute(EXEMPTED_BREACHES, params).fetchall(),
        "sla_by_priority": by_priority,
        "volume": cur.execute(TICKET_VOLUME, params).fetchall(),
        "breaches": breaches,
        "largest_breaches": sorted(breaches, key=lambda row: -row["breach_minutes"]),
        "breaches_by_metric": _count_by_metric(breaches, catalogue),
        "breaches_by_team": sections.breaches_by_team(cur, unit),
        "charts": {
            **sections.trend_charts(cur, unit, catalogue),
            "priority": _priority_chart(by_priority, sla_period, unit, catalogue) if by_priority else None,
        },
    }


def _priority_chart(by_priority: list[dict[str, Any]], sla_period: dict[str, Any] | None, unit: Unit,
                    catalogue: dict[str, Any]) -> str:  # fmt: skip
    """Attainment per priority against the project's SLA attainment target (the scorecard's)."""
    several_months = unit.period.type != "month"
    return charts.rates_by_label(
        [f"{row['month']:%Y-%m} {row['priority']}" if several_months else row["priority"] for row in by_priority],
        [row["rate"] for row in by_priority],
        sla_period["target"] if sla_period else None,
        rate_label=catalogue["charts"]["sla_attainment"],
        target_label=catalogue["charts"]["target"],
    )


def summary(content: dict[str, Any], unit: Unit, as_of: datetime | None, catalogue: dict[str, Any]) -> Summary:
    """Targets, changes, where the breaches come from, and what is still open for the customer."""
    open_major = [row for row in content["major_incidents"] if row["resolved_at"] is None]
    return build_summary(
        unit.period, as_of, catalogue,
        kpis=content["kpis"],
        improvements=content["improvements"],
        contributors=breach_contributors(content["breaches"], content["sla_by_priority"], catalogue),
        risks=[*count_risk("open_major_incidents", len(open_major)),
               *count_risk("open_leftover_issues", len(content["leftover_issues"]))],
        breach_causes=content["breach_causes"],
    )  # fmt: skip


def _count_by_metric(breaches: list[dict[str, Any]], catalogue: dict[str, Any]) -> str:
    """``响应 2、解决 1``: the breaches per metric, in the metrics' order."""
    counts = Counter(row["metric"] for row in breaches)
    return catalogue["list_separator"].join(
        f"{label} {counts[metric]}" for metric, label in catalogue["metrics"].items() if counts[metric]
    )


def appendix(cur: Cursor, unit: Unit, content: dict[str, Any], catalogue: dict[str, Any]) -> list[Sheet]:
    """The project's KPIs for the period, its SLA breaches, its tickets (priorities are P1–P4 in every language)
    and its improvement register."""
    t = catalogue["appendix"]
    types = catalogue["ticket_types"]
    sla_statuses = {**catalogue["workbook"]["sla_statuses"], "exempted": catalogue["exemptions"]["sla_status"]}
    moment = "yyyy-mm-dd hh:mm"
    return [
        sections.kpi_sheet(content["kpis"], catalogue),
        Sheet(
            t["breaches"], t["breach_headers"],
            [[row["ticket_id"], label(row["ticket_type"], types), row["priority"],
              label(row["metric"], catalogue["metrics"]), row["opened_at"], row["due_at"], row["done_at"],
              duration(row["target_minutes"]), duration(row["net_minutes"]), duration(row["breach_minutes"])]
             for row in content["breaches"]],
            {4: moment, 5: moment, 6: moment},
        ),
        sections.team_sheet(content["breaches_by_team"], catalogue),
        Sheet(
            t["tickets"], t["ticket_headers"],
            [[row["ticket_id"], label(row["ticket_type"], types), row["priority"], row["opened_at"],
              row["resolved_at"], label(row["status"], catalogue["statuses"]),
              label(row["sla_status"], sla_statuses)]
             for row in cur.execute(PROJECT_TICKETS, unit.params).fetchall()],
            {3: moment, 4: moment},
        ),
        sections.improvement_sheet(content["improvements"], catalogue, internal=False),
    ]  # fmt: skip


KIND = ReportKind(
    "service_report", "month", "service_report.html.j2", units, content, appendix, audience="customer",
    kpi_codes=KPIS, headline_kpis=KPIS, summary=summary,
)  # fmt: skip
