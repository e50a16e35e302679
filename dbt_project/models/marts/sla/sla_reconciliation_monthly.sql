{# Agreement rate between the ticket tool's SLA verdicts and the warehouse's, per project
   and for the organisation, by month opened (detail: sla_reconciliation). #}
select
    case when grouping(project_id) = 0 then 'project' else 'organisation' end as grain,
    coalesce(project_id, '{{ var("organisation_id") }}') as grain_id,
    opened_month as month,
    count(*) as compared,
    count(*) filter (where agrees) as agreeing,
    count(*) filter (where not agrees) as disagreeing,
    round(count(*) filter (where agrees)::numeric / count(*), 6) as agreement_rate,
    -- How many verdicts rest on the closed-without-resolution rule, and how many of the
    -- disagreements: what changing the rule could move.
    count(*) filter (where is_resolved_at_closing) as resolved_at_closing,
    count(*) filter (where is_resolved_at_closing and not agrees) as disagreeing_resolved_at_closing
from {{ ref('sla_reconciliation') }}
group by grouping sets ((project_id, opened_month), (opened_month))
