{# The SLA exemptions' reasons as written (free text), kept out of marts: for the service
   report, which lists each exempted ticket with its reason for the customer. #}
select
    exemption_id,
    ticket_id,
    reason
from {{ ref('int_sla_exemptions_latest') }}
where reason is not null
