{#
  Grain: assignment group × project × month a hold ended (warehouse time zone). OLA
  attainment of the holds ended in the month: judged (holds with an OLA for the ticket's
  priority), met (within it), missed, attainment = met / judged (null when none judged), and
  the business minutes held. A hold still open is judged in the month it ends; open
  holds already past their OLA are in fct_ticket_assignments (within_ola false, is_open).
#}
{# A view: as a table each night would re-read every hold of history; a query for one group reads that
   group's holds through fct_ticket_assignments' (assignment_group, held_until) index. #}
{{ config(materialized='view') }}

with ended as (
    select
        assignment_group,
        project_id,
        within_ola,
        held_minutes,
        date_trunc('month', held_until at time zone '{{ var("timezone") }}')::date as ended_month
    from {{ ref('fct_ticket_assignments') }}
    where not is_open
)

select
    assignment_group,
    project_id,
    ended_month as month,
    count(*) as holds,
    count(within_ola) as judged,
    count(*) filter (where within_ola) as met,
    count(*) filter (where not within_ola) as missed,
    round(count(*) filter (where within_ola)::numeric / nullif(count(within_ola), 0), 6) as attainment,
    sum(held_minutes) as held_minutes
from ended
group by assignment_group, project_id, ended_month
