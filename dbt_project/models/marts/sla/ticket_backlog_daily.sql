{#
  One row per project and day, from the project's first ticket to the as-of day
  (macros/as_of.sql): tickets open at the end of the day (opened, not yet resolved) and,
  of those, the ones past their resolution due time. Days without open tickets show 0.

  Counted as running sums of the days tickets start and stop being open (or overdue),
  not by listing every ticket on every day it was open: at a million tickets that list
  had 4.5 million rows and took 13 s a night (docs/performance.md).
#}
{% set tz = var('timezone') %}

with as_of_day as (
    select {{ as_of_date() }} - 1 as day
),

-- A ticket is open at the end of each day from the day it was opened through the day
-- before it was resolved (resolved at midnight: open at the end of the day before), and
-- overdue at the end of each of those days from the day its resolution was due.
tickets as (
    select
        project_id,
        (opened_at at time zone '{{ tz }}')::date as opened_day,
        case
            when resolved_at is null or resolved_at >= {{ as_of() }} then (select day from as_of_day)
            else (resolved_at at time zone '{{ tz }}')::date - 1
        end as last_open_day,
        (resolution_due_at at time zone '{{ tz }}')::date as due_day
    from {{ ref('fct_tickets') }}
    where project_id is not null and opened_at < {{ as_of() }}
),

open_spans as (
    select project_id, opened_day, last_open_day,
           case when due_day is not null then greatest(opened_day, due_day) end as first_overdue_day
    from tickets
    where last_open_day >= opened_day
),

changes as (
    select project_id, opened_day as day, 1 as opened, 0 as overdue from open_spans
    union all
    select project_id, last_open_day + 1, -1, 0 from open_spans
    union all
    select project_id, first_overdue_day, 0, 1 from open_spans where first_overdue_day <= last_open_day
    union all
    select project_id, last_open_day + 1, 0, -1 from open_spans where first_overdue_day <= last_open_day
),

daily_changes as (
    select project_id, day, sum(opened) as opened, sum(overdue) as overdue
    from changes
    group by project_id, day
),

project_days as (
    select projects.project_id, days.moment::date as day
    from (select project_id, min(opened_day) as first_day from tickets group by project_id) as projects
    cross join lateral generate_series(projects.first_day, (select day from as_of_day), interval '1 day') as days (moment)
),

final as (
    select
        project_days.project_id,
        project_days.day,
        (sum(coalesce(daily_changes.opened, 0)) over project_history)::bigint as open_tickets,
        (sum(coalesce(daily_changes.overdue, 0)) over project_history)::bigint as open_overdue_tickets
    from project_days
    left join daily_changes on project_days.project_id = daily_changes.project_id and project_days.day = daily_changes.day
    window project_history as (partition by project_days.project_id order by project_days.day)
)

select * from final
