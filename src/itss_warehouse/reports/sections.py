"""Sections several reports share: the unit's scorecard, its improvement items, twelve-month charts."""

from __future__ import annotations

from typing import Any

from itss_warehouse.ingest.canonical import PRIORITIES
from itss_warehouse.reports import charts
from itss_warehouse.reports.appendix import duration, label, quantity
from itss_warehouse.reports.base import Cursor, Sheet, Unit
from itss_warehouse.reports.formatting import IN_SCOPE, MONTHS_IN, add_months, kpi_number_format, priority_counts
from itss_warehouse.reports.xlsx import Formatted

# The unit's KPIs for its period, with the period before and the same period a year before for the trend.
SCORECARD = """
    select scorecard.kpi_code, catalogue.name_zh, catalogue.name_en, catalogue.unit, catalogue.comparator,
           scorecard.numerator, scorecard.denominator, scorecard.value, scorecard.target, scorecard.status,
           previous.value as previous_value, previous.status as previous_status, prior.value as prior_value
    from marts.kpi_scorecard as scorecard
    inner join marts.kpi_catalogue as catalogue on scorecard.kpi_code = catalogue.kpi_code
    left join marts.kpi_scorecard as previous
        on previous.kpi_code = scorecard.kpi_code and previous.grain = scorecard.grain
        and previous.grain_id = scorecard.grain_id and previous.period_type = scorecard.period_type
        and previous.period_start = %(previous_start)s
    left join marts.kpi_scorecard as prior
        on prior.kpi_code = scorecard.kpi_code and prior.grain = scorecard.grain
        and prior.grain_id = scorecard.grain_id and prior.period_type = scorecard.period_type
        and prior.period_start = (scorecard.period_start - interval '1 year')::date
    where scorecard.grain = %(grain)s and (%(grain)s = 'organisation' or scorecard.grain_id = %(grain_id)s)
      and scorecard.period_type = %(period_type)s and scorecard.period_start = %(start)s
      and (%(kpi_codes)s::text[] is null or scorecard.kpi_code = any(%(kpi_codes)s::text[]))
    order by scorecard.kpi_code
"""


# The day after a later scorecard period ends (its start plus its length), for IMPROVEMENT_ITEMS' effect.
LATER_PERIOD_END = (
    "later.period_start + case later.period_type when 'month' then interval '1 month'"
    " when 'quarter' then interval '3 months' when 'half_year' then interval '6 months' else interval '1 year' end"
)


def state_on_judged_day(items: str) -> str:
    """The mart's state rule (improvement_items.state) on the report's judged day instead of the last
    build's: a past period's report reads the same after later nights."""
    return f"""case
               when {items}.state in ('verified_effective', 'not_effective', 'done') then {items}.state
               when coalesce({items}.planned_date, {items}.due_date) < %(judged_on)s then 'overdue'
               when {items}.status = 'in_progress' then 'in_progress'
               else 'open'
           end"""


# Items of the unit (or of its projects) raised for a period overlapping this one, with the register's
# entry: state on the judged day, the owner by name, the due day overdue is judged on, the effect (the
# mart's kpi_met_since, counting only the later periods over by the judged day and within the report's
# period: the data a later night loads for later periods never changes a report already issued).
IMPROVEMENT_ITEMS = f"""
    select items.item_id, items.kind, items.kpi_code, catalogue.name_zh, catalogue.name_en, catalogue.unit,
           items.grain, items.grain_id, items.period_type, items.period_start, items.value, items.target,
           -- marts name people by pseudonym only; the report names them: the register's owner, else today's
           coalesce(people.owner, managers.project_manager, items.owner) as owner,
           coalesce(items.planned_date, items.due_date) as due_date, {state_on_judged_day("items")} as state,
           (
               select bool_or(later.status = 'met') from marts.kpi_scorecard as later
               where later.kpi_code = items.kpi_code and later.grain = items.grain
                 and later.grain_id = items.grain_id and later.period_type = items.period_type
                 and later.period_start > items.period_start and later.status in ('met', 'missed')
                 and {LATER_PERIOD_END} <= least(%(judged_on)s, %(end)s)
           ) as kpi_met_since,
           items.kind in ('kpi_missed', 'sla_review') as has_effect_check,
           items.cause_category, categories.name_zh as cause_name_zh, categories.name_en as cause_name_en,
           items.cause_analysis, items.corrective_action, items.preventive_action, items.completed_date,
           items.verified_date, items.verification_note, items.is_recurring,
           previous.period_start as previous_period_start, {state_on_judged_day("previous")} as previous_state
    from marts.improvement_items as items
    left join restricted.improvement_register_people as people on items.item_id = people.item_id
    left join restricted.project_managers as managers
        on items.grain = 'project' and items.grain_id = managers.project_id
    left join marts.kpi_catalogue as catalogue on items.kpi_code = catalogue.kpi_code
    left join marts.improvement_cause_categories as categories on items.cause_category = categories.category_code
    left join marts.improvement_items as previous on items.previous_item_id = previous.item_id
    left join marts.dim_projects as projects on items.grain = 'project' and items.grain_id = projects.project_id
    where items.period_start < %(end)s and items.due_date >= %(start)s
      and (items.grain = %(grain)s and (%(grain)s = 'organisation' or items.grain_id = %(grain_id)s)
        or items.grain = 'project' and {IN_SCOPE.format(projects="projects")}
        or %(grain)s = 'organisation')
    order by items.due_date, items.kind, items.kpi_code, items.grain_id, items.item_id
"""

# SLA attainment of the unit and tickets opened in its scope, by month.
MONTHLY_TREND = f"""
    select months.month::date as month, scorecard.value, scorecard.target,
        {priority_counts("tickets.priority", "tickets.ticket_id")}
    from generate_series(%(first_month)s::date, %(last_month)s::date, interval '1 month') as months (month)
    left join marts.kpi_scorecard as scorecard
        on scorecard.kpi_code = 'SLA_ATTAINMENT' and scorecard.grain = %(grain)s
        and (%(grain)s = 'organisation' or scorecard.grain_id = %(grain_id)s)
        and scorecard.period_type = 'month' and scorecard.period_start = months.month::date
    left join (
        marts.fct_tickets as tickets
        inner join marts.dim_projects as projects
            on tickets.project_id = projects.project_id and {IN_SCOPE.format(projects="projects")}
    -- The range again inside the join: the planner cannot take it from generate_series, and
    -- without it read the unit's whole history (the organisation's: every ticket).
    ) on tickets.opened_month = months.month::date
        and tickets.opened_month between %(first_month)s::date and %(last_month)s::date
    group by months.month, scorecard.value, scorecard.target
    order by months.month
"""


def scorecard(cur: Cursor, unit: Unit, kpi_codes: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """The unit's scorecard rows of its period: those of ``kpi_codes`` (a kind's ``kpi_codes``), or all."""
    codes = None if kpi_codes is None else list(kpi_codes)
    previous_start = add_months(unit.period.start, -MONTHS_IN[unit.period.type])
    return cur.execute(SCORECARD, {**unit.params, "kpi_codes": codes, "previous_start": previous_start}).fetchall()


# The period's resolution breaches (not exempted) by the assignment groups that held the tickets
# (marts.sla_breach_attribution): how many each held when they fell due, its share of them (its share of
# each ticket's held minutes, summed), the tickets it touched and its minutes on them. {scope} narrows
# to the unit's project.
BREACHES_BY_TEAM = """
    select attribution.assignment_group, count(*) filter (where attribution.is_holder_at_due) as held_at_due,
           sum(attribution.share) as share, count(*) as tickets, sum(attribution.held_minutes) as held_minutes
    from marts.sla_breach_attribution as attribution
    where not attribution.is_exempted {scope}
      and attribution.opened_month >= %(start)s and attribution.opened_month < %(end)s
    group by attribution.assignment_group
    order by share desc nulls last, held_at_due desc, attribution.assignment_group
"""


def breaches_by_team(cur: Cursor, unit: Unit) -> list[dict[str, Any]]:
    """The unit's resolution breaches by team: of its project, or of every project for the organisation."""
    scope = "and attribution.project_id = %(grain_id)s" if unit.grain == "project" else ""
    return cur.execute(BREACHES_BY_TEAM.format(scope=scope), unit.params).fetchall()


def team_sheet(rows: list[dict[str, Any]], catalogue: dict[str, Any]) -> Sheet:
    """The breaches by team as an appendix sheet (macros.html.j2 breaches_by_team)."""
    t = catalogue["teams"]
    return Sheet(
        t["sheet"], t["sheet_headers"],
        [[row["assignment_group"], row["held_at_due"], quantity(row["share"]), row["tickets"],
          duration(row["held_minutes"])] for row in rows],
    )  # fmt: skip


def improvement_items(cur: Cursor, unit: Unit) -> list[dict[str, Any]]:
    """The unit's items, each with ``met_since``: the effect check of an item a KPI opened (yes, no or
    not_judged: has the KPI been met in a later period?), None for the others."""
    return [{**row, "met_since": _met_since(row)} for row in cur.execute(IMPROVEMENT_ITEMS, unit.params).fetchall()]


def _met_since(row: dict[str, Any]) -> str | None:
    if not row["has_effect_check"]:
        return None
    return {True: "yes", False: "no", None: "not_judged"}[row["kpi_met_since"]]


def trend_charts(cur: Cursor, unit: Unit, catalogue: dict[str, Any]) -> dict[str, str]:
    """SLA attainment against its target and tickets by priority, the twelve months up to the period's end."""
    last_month = add_months(unit.period.end, -1)
    params = {**unit.params, "first_month": add_months(last_month, -11), "last_month": last_month}
    months = cur.execute(MONTHLY_TREND, params).fetchall()
    labels = [f"{row['month']:%Y-%m}" for row in months]
    target = next((row["target"] for row in reversed(months) if row["target"] is not None), None)
    charts_t = catalogue["charts"]
    return {
        "sla": charts.rate_against_target(
            labels, [row["value"] for row in months], target,
            rate_label=charts_t["sla_attainment"], target_label=charts_t["target"],
        ),
        "volume": charts.stacked_counts(
            labels, {priority: [row[priority] for row in months] for priority in PRIORITIES},
            ylabel=charts_t["tickets"],
        ),
    }  # fmt: skip


def kpi_sheet(rows: list[dict[str, Any]], catalogue: dict[str, Any]) -> Sheet:
    """The scorecard rows as an appendix sheet, values formatted in their unit."""
    t = catalogue["appendix"]
    name = catalogue["kpi_name_column"]
    return Sheet(
        t["kpis"],
        t["kpi_headers"],
        [
            [
                row["kpi_code"],
                row[name],
                quantity(row["numerator"]),
                quantity(row["denominator"]),
                Formatted(row["value"], kpi_number_format(row["unit"])),
                Formatted(row["target"], kpi_number_format(row["unit"])),
                Formatted(row.get("prior_value"), kpi_number_format(row["unit"])),
                label(row["status"], t["statuses"]),
            ]
            for row in rows
        ],
    )


# The improvement sheet's columns (headers: the catalogue's loop.sheet_headers); a customer's lacks CUSTOMER_HIDDEN.
IMPROVEMENT_COLUMNS = (
    "kind", "kpi", "scope", "period", "value", "target", "owner", "due_date", "state", "met_since", "recurring",
    "cause_category", "cause_analysis", "corrective_action", "preventive_action", "completed_date",
    "verified_date", "verification_note",
)  # fmt: skip
# The quality department's own free text: internal documents only.
CUSTOMER_HIDDEN = ("cause_analysis", "verification_note")


def improvement_sheet(rows: list[dict[str, Any]], catalogue: dict[str, Any], *, internal: bool = True) -> Sheet:
    """The items as an appendix sheet; a customer's (``internal`` false) without the cause analysis and
    the verification note, as its report (macros.html.j2 improvement_table)."""
    t = catalogue["improvement"]
    loop = catalogue["loop"]
    name = catalogue["kpi_name_column"]
    columns = [column for column in IMPROVEMENT_COLUMNS if internal or column not in CUSTOMER_HIDDEN]

    def cells(row: dict[str, Any]) -> dict[str, Any]:
        recurring = loop["recurring"].format(
            previous=row["previous_period_start"], state=label(row["previous_state"], catalogue["summary"]["states"])
        )
        return {
            "kind": label(row["kind"], t["kinds"]),
            "kpi": row[name] or row["kpi_code"],
            "scope": row["grain_id"],
            "period": f"{row['period_start']} ({label(row['period_type'], t['periods'])})",
            "value": Formatted(row["value"], kpi_number_format(row["unit"])),
            "target": Formatted(row["target"], kpi_number_format(row["unit"])),
            "owner": row["owner"],
            "due_date": row["due_date"],
            "state": label(row["state"], catalogue["summary"]["states"]),
            "met_since": label(row["met_since"], loop["met_since"]),
            "recurring": recurring if row["is_recurring"] else None,
            "cause_category": row[loop["cause_name_column"]],
            "cause_analysis": row["cause_analysis"],
            "corrective_action": row["corrective_action"],
            "preventive_action": row["preventive_action"],
            "completed_date": row["completed_date"],
            "verified_date": row["verified_date"],
            "verification_note": row["verification_note"],
        }

    dates = ("due_date", "completed_date", "verified_date")
    return Sheet(
        catalogue["appendix"]["improvements"],
        [loop["sheet_headers"][column] for column in columns],
        [[values[column] for column in columns] for values in map(cells, rows)],
        number_formats={columns.index(column): "yyyy-mm-dd" for column in dates},
    )


# Selected KPIs of each project (or department) of the unit in its period, for a comparison table.
KPI_MATRIX = f"""
    with names as (
        select distinct 'project' as grain, project_id as grain_id, project_name as name
        from marts.dim_projects as projects where {IN_SCOPE.format(projects="projects")}
        union all
        select distinct 'department', dept_id, department_name
        from marts.dim_projects as projects where dept_id is not null and {IN_SCOPE.format(projects="projects")}
    )
    select names.grain_id, names.name, scorecard.kpi_code, scorecard.value, scorecard.status, catalogue.unit
    from names
    inner join marts.kpi_scorecard as scorecard on scorecard.grain = names.grain and scorecard.grain_id = names.grain_id
    inner join marts.kpi_catalogue as catalogue on scorecard.kpi_code = catalogue.kpi_code
    where names.grain = %(row_grain)s and scorecard.kpi_code = any(%(kpi_codes)s)
      and scorecard.period_type = %(period_type)s and scorecard.period_start = %(start)s
    order by names.grain_id
"""

# Survey levels in the order reports list them: per incident, per project, the company's annual survey.
SURVEY_LEVELS = ["callback", "project", "annual"]

# The organisation's survey items of the year at every level it has, with the year before's
# average (annual and satisfaction reports).
SATISFACTION_ITEMS = f"""
    select items.level, items.item, items.answers, items.average_score, items.low_scores,
           prior.average_score as prior_score
    from marts.satisfaction_by_item as items
    left join marts.satisfaction_by_item as prior
        on prior.level = items.level and prior.grain = items.grain and prior.item = items.item
        and prior.year_start = (items.year_start - interval '1 year')::date
    where items.grain = 'organisation' and items.year_start = %(start)s
    order by array_position(array{SURVEY_LEVELS!r}, items.level), items.item
"""

# The customers with a project running in the year (as marts.dim_projects dates it, the rule of
# SURVEY_COVERAGE's population) that gave no annual-survey answer that year.
NON_RESPONDENTS = """
    select distinct projects.customer_id, projects.customer_name
    from marts.dim_projects as projects
    where projects.start_date < %(end)s and (projects.end_date is null or projects.end_date >= %(start)s)
      and not exists (
        select 1 from marts.fct_satisfaction_answers as answers
        where answers.level = 'annual' and answers.customer_id = projects.customer_id
          and answers.responded_year = %(start)s and answers.score_100 is not null
      )
    order by projects.customer_name, projects.customer_id
"""


def satisfaction_items(cur: Cursor, unit: Unit) -> list[dict[str, Any]]:
    return cur.execute(SATISFACTION_ITEMS, unit.params).fetchall()


def non_respondents(cur: Cursor, unit: Unit) -> list[dict[str, Any]]:
    return cur.execute(NON_RESPONDENTS, unit.params).fetchall()


KPI_NAMES = "select kpi_code, name_zh, name_en from marts.kpi_catalogue where kpi_code = any(%(kpi_codes)s)"


def kpi_matrix(cur: Cursor, unit: Unit, row_grain: str, kpi_codes: list[str]) -> dict[str, Any]:
    """Rows of the unit's projects or departments, each with the scorecard rows of ``kpi_codes`` by code."""
    params = {**unit.params, "row_grain": row_grain, "kpi_codes": kpi_codes}
    rows: dict[str, dict[str, Any]] = {}
    for row in cur.execute(KPI_MATRIX, params).fetchall():
        rows.setdefault(row["grain_id"], {"grain_id": row["grain_id"], "name": row["name"], "kpis": {}})
        rows[row["grain_id"]]["kpis"][row["kpi_code"]] = row
    names = {row["kpi_code"]: row for row in cur.execute(KPI_NAMES, params).fetchall()}
    return {"columns": [names[code] for code in kpi_codes if code in names], "rows": list(rows.values())}


def matrix_sheet(title: str, matrix: dict[str, Any], catalogue: dict[str, Any]) -> Sheet:
    name = catalogue["kpi_name_column"]
    columns = matrix["columns"]
    return Sheet(
        title,
        [catalogue["appendix"]["grain_id"], catalogue["appendix"]["name"], *(column[name] for column in columns)],
        [
            [row["grain_id"], row["name"], *(_kpi_cell(row["kpis"].get(column["kpi_code"])) for column in columns)]
            for row in matrix["rows"]
        ],
    )


def _kpi_cell(row: dict[str, Any] | None) -> Formatted | None:
    return None if row is None else Formatted(row["value"], kpi_number_format(row["unit"]))
