{#
  The ticket tool's own SLA verdict (e.g. ServiceNow's made_sla) beside the warehouse's,
  one row per ticket that has both a tool verdict and a judged status (met or breached).
  Disagreeing rows (agrees = false) are the list to look into: a differing calendar,
  pause rule or target between the tool and the contract as configured here.
  is_resolved_at_closing marks the verdicts that depend on the rule for tickets closed
  without a resolution time (DECISIONS.md): the tool may judge those differently.
  The tool knows no exemption: its verdict is compared with the one before exemptions.
#}
select
    tickets.ticket_id,
    tickets.project_id,
    tickets.opened_month,
    tickets.sla_policy_id,
    tickets.sla_priority,
    tickets.tool_sla_met,
    tickets.sla_status_before_exemptions = 'met' as warehouse_sla_met,
    tickets.tool_sla_met = (tickets.sla_status_before_exemptions = 'met') as agrees,
    tickets.response_status,
    tickets.onsite_status,
    tickets.resolution_status,
    tickets.is_resolved_at_closing,
    tickets.closed_without_resolution
from {{ ref('fct_tickets') }} as tickets
where tickets.tool_sla_met is not null
    and tickets.sla_status_before_exemptions in ('met', 'breached')
