{#
  One row per project and day, from the project's first ticket to the as-of day
  (macros/as_of.sql): tickets open at the end of the day (opened, not yet resolved) and,
  of those, the ones past their resolution due time. Days without open tickets show 0.
#}
{% set tz = var('timezone') %}

with tickets as (
    select
        project_id,
        opened_at,
        resolved_at,
        resolution_due_at,
        (opened_at at time zone '{{ tz }}')::date as opened_day,
        (least(coalesce(resolved_at, {{ as_of() }}), {{ as_of() }}) at time zone '{{ tz }}')::date as last_day
    from {{ ref('fct_tickets') }}
    where project_id is not null and opened_at < {{ as_of() }}
),

as_of_day as (
    select {{ as_of_date() }} - 1 as day
),

-- Each ticket once per day it was open at the day's end.
open_days as (
    select tickets.project_id, days.day, tickets.resolution_due_at < days.day_end as is_overdue
    from tickets
    cross join lateral (
        select series.moment::date as day, (series.moment::date + 1)::timestamp at time zone '{{ tz }}' as day_end
        from generate_series(tickets.opened_day, tickets.last_day, interval '1 day') as series (moment)
    ) as days
    where days.day <= (select day from as_of_day)
      and (tickets.resolved_at is null or tickets.resolved_at >= days.day_end)
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
        count(open_days.project_id) as open_tickets,
        count(*) filter (where open_days.is_overdue) as open_overdue_tickets
    from project_days
    left join open_days on project_days.project_id = open_days.project_id and project_days.day = open_days.day
    group by project_days.project_id, project_days.day
)

select * from final
