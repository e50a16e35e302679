{#
  The additive KPIs counted per project and month: numerator and denominator of each
  KPI code, summed by kpi_scorecard into quarters, half-years, years, departments and
  the organisation. Every KPI gets a row for every month a project has any counted
  activity, so a month without, say, any change shows CHANGE_SUCCESS 0 / 0 (not
  applicable) rather than no row. Which month a ticket counts in, per KPI: DECISIONS.md
  "Process KPIs"; reports, acceptances and callbacks: "Project lifecycle",
  "Satisfaction". MAJOR_INCIDENTS is a count: its denominator is null. MTTR's
  numerator is hours.
#}
with ticket_months as (
    select * from {{ ref('int_kpi_ticket_months') }}
),

lifecycle as (
    select * from {{ ref('project_lifecycle') }}
),

{# Each source counted per project and month where it has rows, so a month has a row for a
   KPI only when something counted in it. The tickets are counted by int_kpi_ticket_months. #}
events as (
    select
        kpi.kpi_code,
        ticket_months.project_id,
        ticket_months.month,
        kpi.numerator,
        kpi.denominator
    from ticket_months
    cross join
        lateral (
            -- These values can only read ticket_months: no qualifier needed.
            -- noqa: disable=RF02
            values
            ('PROBLEM_CLOSURE', 'opened', problems_closed, problem_rows, problem_rows),
            ('MAJOR_INCIDENTS', 'opened', major_incidents, null, incident_rows),
            ('CHANGE_SUCCESS', 'implemented', changes_succeeded, change_rows, change_rows),
            ('RELEASE_SUCCESS', 'implemented', releases_succeeded, release_rows, release_rows),
            ('REOPEN_RATE', 'resolved', reopened, resolved_rows, resolved_rows),
            ('FIRST_TIME_FIX', 'resolved', fixed_first_time, fix_rows, fix_rows),
            ('MTTR', 'resolved', repair_hours, repair_rows, repair_rows),
            ('CALLBACK_COVERAGE', 'resolved', called_back, resolved_rows, resolved_rows)
            -- noqa: enable=RF02
        ) as kpi (kpi_code, counted_by, numerator, denominator, counted_rows)
    where kpi.counted_by = ticket_months.counted_by and kpi.counted_rows > 0
    union all
    select
        'COMPLAINT_CLOSURE',
        project_id,
        received_month,
        sum(is_closed::int),
        count(*)
    from {{ ref('fct_complaints') }}
    where project_id is not null
    group by project_id, received_month
    union all
    select
        'REPORT_DELIVERY',
        project_id,
        due_month,
        sum(is_delivered::int),
        count(*)
    from {{ ref('fct_service_reports') }}
    where is_due
    group by project_id, due_month
    union all
    -- Counted in the month of the customer's latest decision (project_lifecycle).
    select
        'ACCEPTANCE_PASS',
        project_id,
        date_trunc('month', customer_acceptance_decided_date)::date,
        sum((customer_acceptance_result = 'passed')::int),
        count(*)
    from lifecycle
    where customer_acceptance_decided_date is not null
    group by project_id, date_trunc('month', customer_acceptance_decided_date)::date
    union all
    select
        'INTERNAL_ACCEPTANCE_ON_TIME',
        project_id,
        date_trunc('month', end_date)::date,
        sum(internal_acceptance_on_time::int),
        count(*)
    from lifecycle
    where internal_acceptance_on_time is not null
    group by project_id, date_trunc('month', end_date)::date
),

{# SLA attainment (metric 'all': every target met) and per-metric punctuality, counted
   by sla_attainment_monthly; in-progress tickets are not judged (DECISIONS.md). #}
metrics as (
    select
        case metric
            when 'all' then 'SLA_ATTAINMENT'
            when 'response' then 'RESPONSE_ON_TIME'
            when 'onsite' then 'ONSITE_ON_TIME'
            when 'resolution' then 'RESOLUTION_ON_TIME'
        end as kpi_code,
        grain_id as project_id,
        month,
        met as numerator,
        judged as denominator
    from {{ ref('sla_attainment_monthly') }}
    where grain = 'project' and priority = 'all'
),

counted as (
    select
        kpi_code,
        project_id,
        month,
        numerator::numeric,
        denominator::numeric
    from events
    union all
    select
        kpi_code,
        project_id,
        month,
        numerator::numeric,
        denominator::numeric
    from metrics
),

active_months as (
    select
        project_id,
        month
    from ticket_months
    where counted_by = 'opened'
    union
    select distinct
        project_id,
        month
    from counted
    where month is not null
),

kpi_codes as (
    select unnest(array[
        'SLA_ATTAINMENT', 'RESPONSE_ON_TIME', 'ONSITE_ON_TIME', 'RESOLUTION_ON_TIME', 'PROBLEM_CLOSURE',
        'CHANGE_SUCCESS', 'RELEASE_SUCCESS', 'REOPEN_RATE', 'FIRST_TIME_FIX', 'MTTR', 'MAJOR_INCIDENTS',
        'COMPLAINT_CLOSURE', 'CALLBACK_COVERAGE', 'REPORT_DELIVERY', 'ACCEPTANCE_PASS', 'INTERNAL_ACCEPTANCE_ON_TIME'
    ]) as kpi_code
),

final as (
    select
        kpi_codes.kpi_code,
        active_months.project_id,
        active_months.month,
        coalesce(counted.numerator, 0) as numerator,
        case when kpi_codes.kpi_code = 'MAJOR_INCIDENTS' then null else coalesce(counted.denominator, 0) end
            as denominator
    from active_months
    cross join kpi_codes
    left join counted
        on kpi_codes.kpi_code = counted.kpi_code
        and active_months.project_id = counted.project_id
        and active_months.month = counted.month
)

select * from final
