{#
  One row per project and day, from the project's first ticket to the as-of day
  (macros/as_of.sql): tickets open at the end of the day (opened, not yet resolved) and,
  of those, the ones past their resolution due time. Days without open tickets show 0.

  Counted as running sums of the days tickets start and stop being open (or overdue),
  not by listing every ticket on every day it was open: at a million tickets that list
  had 4.5 million rows and took 13 s a night (docs/performance.md).

  Incremental: recounting five years of days took seconds every night. A run recounts,
  per project, the days from the earliest opening among the versions of its tickets
  with a new version or SLA measurement since the last run (a ticket that moved
  recounts its old project too), else from the first day not yet counted; only tickets
  still open by then are read. A day recounted that is no longer the project's (before
  its new first ticket, or after the as-of day of a re-run of a past day) is written
  with null counts and then deleted (post-hook).
#}
-- depends_on: {{ ref('stg_ticket_tool__tickets') }} (read by incremental runs only)
{{ config(
    materialized='incremental',
    unique_key=['project_id', 'day'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['project_id', 'day'], 'unique': True}],
    post_hook=['delete from {{ this }} where open_tickets is null', '{{ analyze_if_written() }}']
) }}
{% set tz = var('timezone') %}

{% set as_of_day %}
as_of_day as (
    select {{ as_of_date() }} - 1 as day
)
{% endset %}

with {{ as_of_day }},

inputs_through as (
    {{ fct_tickets_through() }}
),

{% if is_incremental() %}
{% set recount_ctes %}
watermark as (
    {{ previous_fct_tickets_through() }}
),

{# Every project ends on the same day, the as-of day of the last run. #}
first_new_day as (
    select least(coalesce(max(day), '-infinity'), (select day from as_of_day)) + 1 as day
    from {{ this }}
),

changed_tickets as (
    {{ fct_tickets_changed_since('watermark', 'ticket_id, project_id, opened_at') }}
),

{# Every day a changed ticket is or was open or overdue comes after one of its openings. #}
changed_from as (
    select project_id, min((opened_at at time zone '{{ tz }}')::date) as day
    from (
        select project_id, opened_at from changed_tickets
        union all
        select project_id, opened_at from {{ ref('stg_ticket_tool__tickets') }}
        where {{ among('ticket_id', 'select ticket_id from changed_tickets') }}
    ) as openings
    where project_id is not null
    group by project_id
)
{% endset %}
{# The first day any project recounts, read before the model runs: as a literal the planner
   can tell how few tickets were resolved since, and reads them through the resolved_at
   index; as a sub-query it assumed a third of the table and scanned all of it. #}
{% set recount_start = run_query(
    'with ' ~ as_of_day ~ ', ' ~ recount_ctes
    ~ ' select least((select day from first_new_day), (select min(day) from changed_from))::text'
).columns[0].values()[0] %}
{{ recount_ctes }},
{% endif %}

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
    {% if is_incremental() %}
        {# Resolved after the recount starts, or not at all (indexed): a ticket resolved before
           was neither open nor opened on a recounted day. #}
    and (
        resolved_at is null
        or resolved_at >= '{{ recount_start }}'::date::timestamp at time zone '{{ tz }}'
    )
    {% endif %}
),

{# Per project: the first day recounted and the first day of its rows. #}
projects as (
    {% if is_incremental() %}
    {# Days before the recount are kept when the project has rows there: no ticket opened
       before it has changed. Otherwise the rows start at its first ticket. #}
    select
        project_id,
        recount_from,
        case when stored_first_day < recount_from then recount_from else first_ticket_day end as first_day
    from (
        select
            ids.project_id,
            least((select day from first_new_day), changed_from.day) as recount_from,
            stored_rows.first_day as stored_first_day,
            opened.first_day as first_ticket_day
        from (
            select project_id from {{ this }}
            union
            select project_id from tickets
            union
            select project_id from changed_from
        ) as ids
        left join changed_from on ids.project_id = changed_from.project_id
        left join (
            select
                project_id,
                min(day) as first_day
            from {{ this }}
            group by project_id
        ) as stored_rows
            on ids.project_id = stored_rows.project_id
        left join (
            select
                project_id,
                min(opened_day) as first_day
            from tickets
            group by project_id
        ) as opened
            on ids.project_id = opened.project_id
    ) as project_starts
    {% else %}
    select project_id, null::date as recount_from, min(opened_day) as first_day
    from tickets
    group by project_id
    {% endif %}
),

{# Spans start no earlier than the recount (all of history in a full build). #}
open_spans as (
    select *
    from (
        select
            tickets.project_id,
            greatest(tickets.opened_day, projects.recount_from) as opened_day,
            tickets.last_open_day,
            case
                when tickets.due_day is not null
                    then greatest(tickets.opened_day, tickets.due_day, projects.recount_from)
            end as first_overdue_day
        from tickets
        inner join projects on tickets.project_id = projects.project_id
    ) as spans
    where last_open_day >= opened_day
),

changes as (
    select
        project_id,
        opened_day as day,
        1 as opened,
        0 as overdue
    from open_spans
    union all
    select
        project_id,
        last_open_day + 1,
        -1,
        0
    from open_spans
    union all
    select
        project_id,
        first_overdue_day,
        0,
        1
    from open_spans
    where first_overdue_day <= last_open_day
    union all
    select
        project_id,
        last_open_day + 1,
        0,
        -1
    from open_spans
    where first_overdue_day <= last_open_day
),

daily_changes as (
    select
        project_id,
        day,
        sum(opened) as opened,
        sum(overdue) as overdue
    from changes
    group by project_id, day
),

project_days as (
    select
        projects.project_id,
        series.moment::date as day
    from projects
    cross join
        lateral generate_series(projects.first_day, (select day from as_of_day), interval '1 day') as series (moment)
),

counted as (
    select
        project_days.project_id,
        project_days.day,
        (sum(coalesce(daily_changes.opened, 0)) over project_history)::bigint as open_tickets,
        (sum(coalesce(daily_changes.overdue, 0)) over project_history)::bigint as open_overdue_tickets
    from project_days
    left join daily_changes
        on project_days.project_id = daily_changes.project_id and project_days.day = daily_changes.day
    window project_history as (partition by project_days.project_id order by project_days.day)
),

final as (
    select * from counted
    {% if is_incremental() %}
    {# The days recounted that are no longer the project's: null counts replace their rows. #}
    union all
    select
        stale.project_id,
        stale.day,
        null,
        null
    from {{ this }} as stale
    inner join projects on stale.project_id = projects.project_id
    where stale.day >= projects.recount_from
        and not exists (
            select 1 from counted
            where counted.project_id = stale.project_id and counted.day = stale.day
        )
    {% endif %}
)

select
    final.*,
    {{ fct_tickets_stamps('inputs_through') }}
from final
