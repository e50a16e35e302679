{#
  The ticket tool's SLA records (ServiceNow task_sla) beside our engine, metric by metric:
  one row per ticket and metric where both have judged it (met or breached). Where they
  disagree, the due times show why: a tool's breach time differing from ours points at a
  calendar, pause rule or target configured differently. Our engine's verdict is compared
  whichever clock judges the metric (sla_clock), before exemptions (the tool knows none).
  A view: a table would be rebuilt from every judged metric each night, a cost growing with
  history; analysts' queries filter fct_ticket_sla instead.
#}
{{ config(materialized='view') }}

select
    ticket_id,
    metric,
    project_id,
    opened_month,
    policy_id,
    priority_applied,
    sla_clock,
    engine_status,
    tool_status,
    engine_status = tool_status as agrees,
    done_at,
    done_at_source,
    case when sla_clock = 'ours' then due_at end as engine_due_at,
    tool_due_at,
    case
        when sla_clock = 'ours' then round(extract(epoch from tool_due_at - due_at) / 60, 2)
    end as due_difference_minutes
from {{ ref('fct_ticket_sla') }}
where tool_status in ('met', 'breached')
    and engine_status in ('met', 'breached')
