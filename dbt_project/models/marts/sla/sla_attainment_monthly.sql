{#
  SLA counts and attainment per grain (project, department, organisation) × month ×
  priority × metric. `metric = 'all'` is the ticket meeting every target (the
  SLA_ATTAINMENT basis), `priority = 'all'` the total over priorities. Department and
  organisation rows add up tickets (ticket-weighted); the mean of project rates that
  SLA_ATTAINMENT uses is in kpi_scorecard. rate = met / (met + breached): in-progress
  and no-policy tickets are counted but not judged. The counts are after exemptions (an
  exempted breach is met or left out, per the policy: DECISIONS.md "SLA exemptions");
  rate_before_exemptions is the engine's verdict. The counts per project and month are
  int_sla_month_counts's, recounted there only where tickets changed.
#}
with with_departments as (
    select
        counts.*,
        coalesce(projects.dept_id, 'unknown') as dept_id
    from {{ ref('int_sla_month_counts') }} as counts
    left join {{ ref('dim_projects') }} as projects on counts.project_id = projects.project_id
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
        sum(exempted)::bigint as exempted,
        sum(met_before_exemptions)::bigint as met_before_exemptions,
        sum(breached_before_exemptions)::bigint as breached_before_exemptions,
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
        round(met::numeric / nullif(met + breached, 0), 6) as rate,
        met_before_exemptions + breached_before_exemptions as judged_before_exemptions,
        round(met_before_exemptions::numeric / nullif(met_before_exemptions + breached_before_exemptions, 0), 6)
            as rate_before_exemptions
    from grouped
)

select * from final
