{#
  The breach list: every breached metric of every ticket, with its due time and overrun,
  so that each SLA figure can be traced to its tickets (SPEC §4). Open tickets already
  past due are listed too; their overrun grows until they are done. An exempted breach
  stays listed, marked exempted with its reason category.
#}
{# A view: the reports read one project's month at a time through fct_ticket_sla's
   (project_id, opened_month) index, and as a table it re-read every breach of history
   each night (docs/performance.md). #}
{{ config(materialized='view') }}

select
    sla.ticket_id,
    sla.metric,
    sla.project_id,
    projects.dept_id,
    sla.opened_month,
    sla.policy_id,
    sla.priority_applied,
    sla.opened_at,
    sla.due_at,
    sla.done_at,
    sla.done_at is null as is_open,
    sla.target_minutes,
    sla.net_minutes,
    sla.breach_minutes,
    sla.uses_fallback_calendar,
    sla.is_exempted,
    sla.exemption_id,
    sla.exemption_reason_category,
    sla.exemption_counting
from {{ ref('fct_ticket_sla') }} as sla
left join {{ ref('dim_projects') }} as projects on sla.project_id = projects.project_id
where sla.status = 'breached'
