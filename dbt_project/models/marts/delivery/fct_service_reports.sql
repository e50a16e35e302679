{#
  One row per service report the schedule says a project owes [002 §8]: its period,
  type, due date and delivery. A report is due once its due date has come (as of the
  run); delivered whenever it arrived, late when after the due date.
#}
with reports as (
    select * from {{ ref('int_service_reports_deduplicated') }}
),

final as (
    select
        reports.project_id,
        projects.dept_id,
        reports.period,
        reports.report_type,
        reports.due_date,
        date_trunc('month', reports.due_date)::date as due_month,
        reports.delivered_at,
        reports.due_date <= {{ as_of_date() }} as is_due,
        reports.delivered_at is not null as is_delivered,
        coalesce(
            (reports.delivered_at at time zone '{{ var("timezone") }}')::date, {{ as_of_date() }}
        ) > reports.due_date as is_late
    from reports
    left join {{ ref('dim_projects') }} as projects on reports.project_id = projects.project_id
)

select * from final
