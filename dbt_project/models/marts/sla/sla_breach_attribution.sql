{#
  Grain: resolution breach × assignment group, for every group that held the breached
  ticket (fct_ticket_assignments): its held_minutes on the ticket, its share of the minutes
  all groups held it (the share of the breach it carries; null when they held it for no
  business minute), and whether it held the ticket when the resolution fell due
  (is_holder_at_due; none for a ticket whose due time precedes any known hold). Exempted
  breaches are listed, marked, as in sla_breaches. Rules: DECISIONS.md, "Assignment holds
  and OLA".
#}
{# A view: the reports read one project's month through the two tables' (project_id,
   opened_month) indexes. #}
{{ config(materialized='view') }}

with breaches as (
    select
        ticket_id,
        project_id,
        opened_month,
        due_at,
        is_exempted
    from {{ ref('fct_ticket_sla') }}
    where metric = 'resolution' and status = 'breached'
),

by_group as (
    select
        breaches.ticket_id,
        breaches.project_id,
        breaches.opened_month,
        breaches.is_exempted,
        holds.assignment_group,
        count(*) as holds,
        sum(holds.held_minutes) as held_minutes,
        bool_or(
            breaches.due_at >= holds.held_from and breaches.due_at < coalesce(holds.held_until, 'infinity')
        ) as is_holder_at_due
    from breaches
    inner join {{ ref('fct_ticket_assignments') }} as holds
        on breaches.ticket_id = holds.ticket_id
        and breaches.project_id = holds.project_id
        and breaches.opened_month = holds.opened_month
    group by
        breaches.ticket_id, breaches.project_id, breaches.opened_month, breaches.is_exempted, holds.assignment_group
),

final as (
    select
        *,
        -- Partitioned by the whole ticket key, so a report's project and month filter reaches the indexes.
        round(
            held_minutes / nullif(sum(held_minutes) over (partition by ticket_id, project_id, opened_month), 0), 4
        ) as share  -- noqa: RF04
    from by_group
)

select * from final
