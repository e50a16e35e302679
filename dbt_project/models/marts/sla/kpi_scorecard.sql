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

targets as (
    select * from {{ ref('kpi_targets') }}
),

final as (
    select
        results.kpi_code,
        results.grain,
        results.grain_id,
        results.period_type,
        results.period_start,
        results.numerator,
        results.denominator,
        round(results.numerator / results.denominator, 6) as value,
        targets.target,
        case targets.comparator
            when '>=' then results.numerator / results.denominator >= targets.target
            when '<=' then results.numerator / results.denominator <= targets.target
        end as is_met
    from results
    inner join targets on results.kpi_code = targets.kpi_code
)

select * from final
