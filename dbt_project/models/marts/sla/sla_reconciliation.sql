{#
  The ticket tool's own SLA verdict (e.g. ServiceNow's made_sla) beside the warehouse's,
  one row per ticket that has both a tool verdict and a judged status (met or breached).
  Disagreeing rows (agrees = false) are the list to look into: a differing calendar,
  pause rule or target between the tool and the contract as configured here.
#}
select
    tickets.ticket_id,
    tickets.project_id,
    tickets.opened_month,
    tickets.sla_policy_id,
    tickets.sla_priority,
    tickets.tool_sla_met,
    tickets.sla_status = 'met' as warehouse_sla_met,
    tickets.tool_sla_met = (tickets.sla_status = 'met') as agrees,
    tickets.response_status,
    tickets.onsite_status,
    tickets.resolution_status
from {{ ref('fct_tickets') }} as tickets
where tickets.tool_sla_met is not null
    and tickets.sla_status in ('met', 'breached')
