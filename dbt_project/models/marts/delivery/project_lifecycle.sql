{#
  One row per project and where it stands in its lifecycle [002 §5]: new or renewal,
  plan reviewed before the start, service reports due and delivered, on-site and remote
  services, leftover issues still open, internal acceptance within one month of the
  end, and the customer acceptance's latest decision. Rules: DECISIONS.md "Project lifecycle".
#}
with projects as (
    select * from {{ ref('dim_projects') }}
),

acceptances as (
    select * from {{ ref('fct_acceptances') }}
),

internal_acceptance as (
    select
        project_id,
        min(applied_date) as applied_date
    from acceptances
    where kind = 'internal'
    group by project_id
),

-- The customer's latest decision (initial or final acceptance) is where the project stands.
customer_acceptance as (
    select distinct on (project_id)
        project_id,
        result,
        decided_date,
        count(*) filter (where result = 'failed') over (partition by project_id) as failed_attempts
    from acceptances
    where kind in ('customer_initial', 'customer_final') and result is not null
    order by project_id asc, decided_date desc, kind = 'customer_final' desc, applied_date desc
),

reports as (
    select
        project_id,
        count(*) filter (where is_due) as reports_due,
        count(*) filter (where is_due and is_delivered) as reports_delivered
    from {{ ref('fct_service_reports') }}
    group by project_id
),

tickets as (
    select
        project_id,
        count(*) filter (where delivery_mode = 'onsite') as onsite_services,
        count(*) filter (where delivery_mode = 'remote') as remote_services,
        count(*) filter (where ticket_type = 'leftover_issue' and status not in ('resolved', 'closed'))
            as leftover_issues_open
    from {{ ref('fct_tickets') }}
    group by project_id
),

final as (
    select
        projects.project_id,
        projects.dept_id,
        projects.customer_id,
        projects.kind,
        projects.start_date,
        projects.end_date,
        projects.plan_reviewed_date,
        coalesce(projects.plan_reviewed_date <= projects.start_date, false) as plan_reviewed_before_start,
        coalesce(reports.reports_due, 0) as reports_due,
        coalesce(reports.reports_delivered, 0) as reports_delivered,
        coalesce(tickets.onsite_services, 0) as onsite_services,
        coalesce(tickets.remote_services, 0) as remote_services,
        coalesce(tickets.leftover_issues_open, 0) as leftover_issues_open,
        coalesce(projects.end_date < {{ as_of_date() }}, false) as has_ended,
        (projects.end_date + interval '1 month')::date as internal_acceptance_due_date,
        internal_acceptance.applied_date as internal_acceptance_applied_date,
        -- Judged once the project applied or its month ran out; open until then.
        case
            when internal_acceptance.applied_date is not null
                then internal_acceptance.applied_date <= (projects.end_date + interval '1 month')::date
            when (projects.end_date + interval '1 month')::date < {{ as_of_date() }} then false
        end as internal_acceptance_on_time,
        customer_acceptance.result as customer_acceptance_result,
        customer_acceptance.decided_date as customer_acceptance_decided_date,
        coalesce(customer_acceptance.failed_attempts, 0) as customer_acceptance_failed_attempts
    from projects
    left join internal_acceptance on projects.project_id = internal_acceptance.project_id
    left join customer_acceptance on projects.project_id = customer_acceptance.project_id
    left join reports on projects.project_id = reports.project_id
    left join tickets on projects.project_id = tickets.project_id
)

select * from final
