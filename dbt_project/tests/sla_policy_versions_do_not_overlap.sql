{#
  Two versions of one policy and priority in force on the same day: which one judges a
  ticket would be a guess, so the build fails and names them (DECISIONS.md, "Dated
  policies"). The versions of one export are checked at load already (GX suite); this
  catches a version of an older export that a newer one overlaps.
#}
with versions as (
    select
        policy_id,
        priority,
        valid_from,
        valid_to,
        lead(valid_from) over (partition by policy_id, priority order by valid_from nulls first) as next_valid_from
    from {{ ref('int_sla_policies_deduplicated') }}
)

select
    policy_id,
    priority,
    valid_from,
    valid_to,
    next_valid_from,
    'valid_to ' || valid_to || ' is on or after the next version''s valid_from ' || next_valid_from as reason
from versions
where valid_to >= next_valid_from
