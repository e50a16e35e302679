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
{% set tz = var('timezone') %}

with tickets as (
    select
        ticket_id,
        project_id,
        ticket_type,
        status,
        outcome,
        is_major,
        reassignment_count,
        opened_at,
        resolved_at,
        opened_month,
        date_trunc('month', resolved_at at time zone '{{ tz }}')::date as resolved_month,
        date_trunc('month', coalesce(resolved_at, closed_at, opened_at) at time zone '{{ tz }}')::date
            as implemented_month,
        coalesce(reopen_count, 0) > 0 or status = 'reopened' as is_reopened
    from {{ ref('fct_tickets') }}
    where project_id is not null
),

-- Incidents called back on the day of their resolution or up to 7 days later.
called_back as (
    select distinct tickets.ticket_id
    from tickets
    inner join {{ ref('int_satisfaction_answers') }} as callbacks
        on callbacks.level = 'callback'
        and callbacks.ticket_id = tickets.ticket_id
        and callbacks.responded_date - (tickets.resolved_at at time zone '{{ tz }}')::date between 0 and 7
),

lifecycle as (
    select * from {{ ref('project_lifecycle') }}
),

{# Each source counted per project and month where it has rows, so a month has a row for a
   KPI only when something counted in it; a flag that is null counts in neither part. Grouped branch by branch: one row per ticket and
   KPI (3.6 million at a million tickets) sorted for one grouping took 15 s a night. #}
events as (
    select 'PROBLEM_CLOSURE' as kpi_code, project_id, opened_month as month,
           sum((status in ('resolved', 'closed'))::int) as numerator, count(*) as denominator
    from tickets where ticket_type = 'problem'
    group by project_id, opened_month
    union all
    select case ticket_type when 'change' then 'CHANGE_SUCCESS' else 'RELEASE_SUCCESS' end,
           project_id, implemented_month, sum((outcome = 'success')::int), count(*)
    from tickets where ticket_type in ('change', 'release') and outcome is not null
    group by ticket_type, project_id, implemented_month
    union all
    select 'REOPEN_RATE', project_id, resolved_month, sum(is_reopened::int), count(*)
    from tickets where ticket_type = 'incident' and resolved_at is not null
    group by project_id, resolved_month
    union all
    -- A ticket whose tool exports no reassignment count cannot be judged first-time fixed.
    select 'FIRST_TIME_FIX', project_id, resolved_month,
           sum((reassignment_count = 0 and not is_reopened)::int), count(*)
    from tickets where ticket_type = 'incident' and resolved_at is not null and reassignment_count is not null
    group by project_id, resolved_month
    union all
    select 'MTTR', project_id, resolved_month, sum(round(extract(epoch from resolved_at - opened_at) / 3600, 2)),
           count(*)
    from tickets where ticket_type = 'incident' and resolved_at >= opened_at
    group by project_id, resolved_month
    union all
    select 'MAJOR_INCIDENTS', project_id, opened_month, sum(is_major::int), null
    from tickets where ticket_type = 'incident'
    group by project_id, opened_month
    union all
    select 'COMPLAINT_CLOSURE', project_id, received_month, sum(is_closed::int), count(*)
    from {{ ref('fct_complaints') }} where project_id is not null
    group by project_id, received_month
    union all
    select 'CALLBACK_COVERAGE', project_id, resolved_month,
           sum((ticket_id in (select ticket_id from called_back))::int), count(*)
    from tickets where ticket_type = 'incident' and resolved_at is not null
    group by project_id, resolved_month
    union all
    select 'REPORT_DELIVERY', project_id, due_month, sum(is_delivered::int), count(*)
    from {{ ref('fct_service_reports') }} where is_due
    group by project_id, due_month
    union all
    -- Counted in the month of the customer's latest decision (project_lifecycle).
    select 'ACCEPTANCE_PASS', project_id, date_trunc('month', customer_acceptance_decided_date)::date,
           sum((customer_acceptance_result = 'passed')::int), count(*)
    from lifecycle where customer_acceptance_decided_date is not null
    group by project_id, date_trunc('month', customer_acceptance_decided_date)::date
    union all
    select 'INTERNAL_ACCEPTANCE_ON_TIME', project_id, date_trunc('month', end_date)::date,
           sum(internal_acceptance_on_time::int), count(*)
    from lifecycle where internal_acceptance_on_time is not null
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
    select kpi_code, project_id, month, numerator::numeric, denominator::numeric
    from events
    union all
    select kpi_code, project_id, month, numerator::numeric, denominator::numeric
    from metrics
),

active_months as (
    select distinct project_id, opened_month as month from tickets
    union
    select distinct project_id, month from counted where month is not null
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
