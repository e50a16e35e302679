{#
  One row per SLA policy, priority and version (valid_from), as most recently exported.
  A version is in force from valid_from (empty: from the beginning) through valid_to
  (empty: until the next version of that policy and priority begins, or for good), both
  local dates of the policy's time zone; valid_through is that last day. A ticket is
  judged by the version in force on the day it opened (DECISIONS.md, "Dated policies and
  calendars").

  changed_in_batch is the batch from which the version has read as it does now: the
  exports repeat unchanged rows every night, and only a changed version makes the
  incremental SLA models measure its tickets again.
#}
with exported as (
    select
        *,
        row(
            response_target_minutes, onsite_target_minutes, resolution_target_minutes, calendar, timezone, valid_to
        ) as terms
    from {{ ref('stg_pmo__sla_policies') }}
),

latest as (
    {{ latest_per_key('exported', ['policy_id', 'priority', 'valid_from']) }}
),

changes as (
    select
        latest.policy_id,
        latest.priority,
        latest.valid_from,
        max(exported.batch_id) filter (where exported.terms is distinct from latest.terms) as last_other_batch
    from latest
    inner join exported
        on latest.policy_id = exported.policy_id
        and latest.priority is not distinct from exported.priority
        and latest.valid_from is not distinct from exported.valid_from
    group by latest.policy_id, latest.priority, latest.valid_from
),

final as (
    select
        latest.policy_id,
        latest.priority,
        latest.response_target_minutes,
        latest.onsite_target_minutes,
        latest.resolution_target_minutes,
        latest.calendar,
        latest.timezone,
        latest.valid_from,
        latest.valid_to,
        coalesce(latest.valid_to, lead(latest.valid_from) over version_order - 1) as valid_through,
        (
            select min(exported.batch_id) from exported
            where exported.policy_id = latest.policy_id
                and exported.priority is not distinct from latest.priority
                and exported.valid_from is not distinct from latest.valid_from
                and exported.batch_id > coalesce(changes.last_other_batch, 0)
        ) as changed_in_batch,
        latest.batch_id,
        latest.source_row
    from latest
    inner join changes
        on latest.policy_id = changes.policy_id
        and latest.priority is not distinct from changes.priority
        and latest.valid_from is not distinct from changes.valid_from
    window version_order as (partition by latest.policy_id, latest.priority order by latest.valid_from nulls first)
)

select * from final
