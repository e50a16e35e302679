{#
  SLA counts and attainment per grain (project, department, organisation) × month ×
  priority × metric. `metric = 'all'` is the ticket meeting every target (the
  SLA_ATTAINMENT basis), `priority = 'all'` the total over priorities. Department and
  organisation rows add up tickets (ticket-weighted); the mean of project rates that
  SLA_ATTAINMENT uses is in kpi_scorecard. rate = met / (met + breached): in-progress
  and no-policy tickets are counted but not judged.
#}
with metric_rows as (
    select project_id, opened_month, priority_applied as priority, metric, status, is_reopened,
           uses_fallback_calendar
    from {{ ref('fct_ticket_sla') }}
    union all
    select project_id, opened_month, coalesce(sla_priority, priority), 'all', sla_status,
           coalesce(reopen_count, 0) > 0 or status = 'reopened', uses_fallback_calendar
    from {{ ref('fct_tickets') }}
    where sla_status <> 'not_measured'
),

-- Counted once at the finest grain; the roll-ups then add up a few thousand rows.
project_counts as (
    select
        project_id,
        opened_month,
        coalesce(priority, 'unknown') as priority_group,
        metric,
        count(*) filter (where status = 'met') as met,
        count(*) filter (where status = 'breached') as breached,
        count(*) filter (where status = 'in_progress') as in_progress,
        count(*) filter (where status = 'no_policy') as no_policy,
        count(*) filter (where is_reopened) as reopened,
        bool_or(uses_fallback_calendar) as uses_fallback_calendar
    from metric_rows
    group by project_id, opened_month, coalesce(priority, 'unknown'), metric
),

with_departments as (
    select
        project_counts.*,
        coalesce(projects.dept_id, 'unknown') as dept_id
    from project_counts
    left join {{ ref('dim_projects') }} as projects on project_counts.project_id = projects.project_id
),

grouped as (
    select
        {{ grouping_grain() }},
        opened_month as month,
        case when grouping(priority_group) = 0 then priority_group else 'all' end as priority,
        metric,
        sum(met)::bigint as met,
        sum(breached)::bigint as breached,
        sum(in_progress)::bigint as in_progress,
        sum(no_policy)::bigint as no_policy,
        sum(reopened)::bigint as reopened,
        bool_or(uses_fallback_calendar) as uses_fallback_calendar
    from with_departments
    group by grouping sets (
        (project_id, dept_id, opened_month, priority_group, metric),
        (project_id, dept_id, opened_month, metric),
        (dept_id, opened_month, priority_group, metric),
        (dept_id, opened_month, metric),
        (opened_month, priority_group, metric),
        (opened_month, metric)
    )
),

final as (
    select
        *,
        met + breached as judged,
        round(met::numeric / nullif(met + breached, 0), 6) as rate
    from grouped
)

select * from final
