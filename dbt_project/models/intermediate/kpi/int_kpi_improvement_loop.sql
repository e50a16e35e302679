{#
  The improvement loop's KPIs [001 §8, §9], from marts.improvement_items, in the shape of
  the other KPI results (kpi_code, grain, grain_id, period_type, period_start, numerator,
  denominator) for kpi_scorecard to judge. Rules: DECISIONS.md "Improvement loop KPIs".
  - IMPROVEMENT_ON_TIME: items due in the period (planned date, else due date) that are
    done by it / those done or past due on the as-of day; an item not yet due and not yet
    done is not counted, so a period not yet over shows only what is decided.
  - IMPROVEMENT_EFFECTIVE: items verified effective / items verified (effective or not),
    in the period of the verified date.
  A project's item counts for the project, its department and the organisation; a
  department's for the department and the organisation; the organisation's (hand-raised
  ones too) for the organisation. The organisation has a row for every quarter, half-year and
  year with activity (int_kpi_periods), 0 / 0 (not applicable) when nothing is counted; a
  month has a row only when something is counted in it.
#}
{% set period_types = ['month', 'quarter', 'half_year', 'year'] %}

with items as (
    select * from {{ ref('improvement_items') }}
),

projects as (
    select * from {{ ref('dim_projects') }}
),

kpi_periods as (
    select * from {{ ref('int_kpi_periods') }}
),

placed as (
    select
        case when items.grain = 'project' then items.grain_id end as project_id,
        case items.grain
            when 'project' then projects.dept_id
            when 'department' then items.grain_id
        end as dept_id,
        coalesce(items.planned_date, items.due_date) as due_on,
        items.completed_date,
        items.status,
        items.verified_date
    from items
    left join projects on items.grain = 'project' and items.grain_id = projects.project_id
),

-- One row per item and KPI it counts for: the day that places it in a period, and whether it is met.
counted as (
    select
        'IMPROVEMENT_ON_TIME' as kpi_code,
        project_id,
        dept_id,
        due_on as counted_on,
        coalesce(completed_date <= due_on, false) as is_met
    from placed
    where completed_date is not null or due_on < {{ as_of_date() }}
    union all
    select
        'IMPROVEMENT_EFFECTIVE',
        project_id,
        dept_id,
        verified_date,
        status = 'verified'
    from placed
    where status in ('verified', 'not_effective') and verified_date is not null
),

in_periods as (
    {% for period_type in period_types %}
    select
        kpi_code,
        project_id,
        dept_id,
        '{{ period_type }}' as period_type,
        {{ period_start(period_type, 'counted_on') }} as period_start,
        is_met::int as numerator,
        1 as denominator
    from counted
    union all
    {% endfor %}
    -- The organisation's quarters, half-years and years with nothing counted: 0 / 0.
    {% for period_type in period_types[1:] %}
    select distinct
        codes.kpi_code,
        null,
        null,
        '{{ period_type }}',
        {{ period_start(period_type, 'quarters.period_start') }},
        0,
        0
    from kpi_periods as quarters
    cross join (values ('IMPROVEMENT_ON_TIME'), ('IMPROVEMENT_EFFECTIVE')) as codes (kpi_code)
    where quarters.period_type = 'quarter'
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        kpi_code,
        {{ grouping_grain() }},
        period_type,
        period_start,
        sum(numerator)::numeric as numerator,
        sum(denominator)::numeric as denominator
    from in_periods
    group by
        grouping sets (
            (kpi_code, period_type, period_start, project_id),
            (kpi_code, period_type, period_start, dept_id),
            (kpi_code, period_type, period_start)
        )
    -- An organisation's or department's item has no project (nor the organisation's a department).
    having
        (grouping(project_id) = 1 or project_id is not null)
        and (grouping(dept_id) = 1 or dept_id is not null)
)

select * from final
