{#
  One row per KPI, grain (organisation | department | project), grain id, period type
  and period start. Column names are a contract with BI users: keep them stable.
  SLA_ATTAINMENT at department and organisation grain is the mean of the project
  rates (SPEC §3, [001 §10]); the ticket-weighted rate is its own KPI code.
#}
with judged_tickets as (
    select
        tickets.project_id,
        projects.dept_id,
        tickets.opened_month,
        tickets.sla_status = 'met' as is_met
    from {{ ref('fct_tickets') }} as tickets
    inner join {{ ref('dim_projects') }} as projects on tickets.project_id = projects.project_id
    -- In-progress and unmeasured tickets are not part of attainment (DECISIONS.md).
    where tickets.sla_status in ('met', 'breached')
),

periods as (
    select project_id, dept_id, 'month' as period_type, opened_month as period_start, is_met
    from judged_tickets
    union all
    select project_id, dept_id, 'year', date_trunc('year', opened_month)::date, is_met
    from judged_tickets
),

project_rates as (
    select
        'SLA_ATTAINMENT' as kpi_code,
        'project' as grain,
        project_id as grain_id,
        dept_id,
        period_type,
        period_start,
        count(*) filter (where is_met)::numeric as numerator,
        count(*)::numeric as denominator
    from periods
    group by project_id, dept_id, period_type, period_start
),

department_rates as (
    select
        'SLA_ATTAINMENT' as kpi_code,
        'department' as grain,
        dept_id as grain_id,
        period_type,
        period_start,
        round(sum(numerator / denominator), 6) as numerator,
        count(*)::numeric as denominator
    from project_rates
    group by dept_id, period_type, period_start
),

organisation_rates as (
    select
        'SLA_ATTAINMENT' as kpi_code,
        'organisation' as grain,
        '{{ var("organisation_id") }}' as grain_id,
        period_type,
        period_start,
        round(sum(numerator / denominator), 6) as numerator,
        count(*)::numeric as denominator
    from project_rates
    group by period_type, period_start
),

organisation_weighted as (
    select
        'SLA_ATTAINMENT_TICKET_WEIGHTED' as kpi_code,
        'organisation' as grain,
        '{{ var("organisation_id") }}' as grain_id,
        period_type,
        period_start,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from project_rates
    group by period_type, period_start
),

{# Per-metric punctuality: ticket-weighted at every grain (DECISIONS.md). #}
metric_months as (
    select
        case metric
            when 'response' then 'RESPONSE_ON_TIME'
            when 'onsite' then 'ONSITE_ON_TIME'
            when 'resolution' then 'RESOLUTION_ON_TIME'
        end as kpi_code,
        grain,
        grain_id,
        month,
        met,
        judged
    from {{ ref('sla_attainment_monthly') }}
    where priority = 'all' and metric <> 'all' and judged > 0
),

metric_rates as (
    select kpi_code, grain, grain_id, 'month' as period_type, month as period_start,
           met::numeric as numerator, judged::numeric as denominator
    from metric_months
    union all
    select kpi_code, grain, grain_id, 'year', date_trunc('year', month)::date,
           sum(met)::numeric, sum(judged)::numeric
    from metric_months
    group by kpi_code, grain, grain_id, date_trunc('year', month)
),

results as (
    select kpi_code, grain, grain_id, period_type, period_start, numerator, denominator
    from project_rates
    union all
    select * from department_rates
    union all
    select * from organisation_rates
    union all
    select * from organisation_weighted
    union all
    select * from metric_rates
),

-- The most specific target set: the project's own, its department's, the organisation's,
-- else the catalogue default (seeds kpi_target_overrides, kpi_catalogue).
targeted as (
    select
        results.*,
        catalogue.comparator,
        coalesce(project_target.target, department_target.target, organisation_target.target, catalogue.target)
            as target,
        case
            when project_target.target is not null then 'project'
            when department_target.target is not null then 'department'
            when organisation_target.target is not null then 'organisation'
            when catalogue.target is not null then 'catalogue'
        end as target_source
    from results
    inner join {{ ref('kpi_catalogue') }} as catalogue on results.kpi_code = catalogue.kpi_code
    left join {{ ref('dim_projects') }} as projects
        on results.grain = 'project' and results.grain_id = projects.project_id
    left join {{ ref('kpi_target_overrides') }} as project_target
        on results.kpi_code = project_target.kpi_code
        and project_target.grain = 'project'
        and results.grain = 'project'
        and results.grain_id = project_target.grain_id
    left join {{ ref('kpi_target_overrides') }} as department_target
        on results.kpi_code = department_target.kpi_code
        and department_target.grain = 'department'
        and department_target.grain_id = case results.grain
            when 'project' then projects.dept_id
            when 'department' then results.grain_id
        end
    left join {{ ref('kpi_target_overrides') }} as organisation_target
        on results.kpi_code = organisation_target.kpi_code
        and organisation_target.grain = 'organisation'
        and organisation_target.grain_id = '{{ var("organisation_id") }}'
),

final as (
    select
        kpi_code,
        grain,
        grain_id,
        period_type,
        period_start,
        numerator,
        denominator,
        round(numerator / denominator, 6) as value,
        target,
        case comparator
            when '>=' then numerator / denominator >= target
            when '<=' then numerator / denominator <= target
        end as is_met,
        target_source,
        -- Signed distance to the target: negative is short of a ">=" target.
        round(numerator / denominator - target, 6) as gap
    from targeted
)

select * from final
