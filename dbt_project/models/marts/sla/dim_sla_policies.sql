{#
  The contract's SLA terms as they were and are: one row per policy, priority and
  version, with the days it is in force (DECISIONS.md, "Dated policies and calendars").
  fct_ticket_sla.policy_id and priority_applied, with the ticket's opening day, find the
  version that judged a ticket.
#}
with versions as (
    select * from {{ ref('int_sla_policies_deduplicated') }}
),

final as (
    select
        versions.policy_id,
        versions.priority,
        row_number() over (
            partition by versions.policy_id, versions.priority order by versions.valid_from nulls first
        ) as version_number,
        versions.valid_from,
        versions.valid_to,
        versions.valid_through,
        versions.response_target_minutes,
        versions.onsite_target_minutes,
        versions.resolution_target_minutes,
        versions.calendar as calendar_id,
        versions.timezone,
        versions.changed_in_batch
    from versions
)

select * from final
