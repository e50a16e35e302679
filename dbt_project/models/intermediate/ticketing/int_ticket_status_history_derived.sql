{#
  One row per status a ticket entered, with when. Two kinds of evidence are merged:
  the ticket tool's status-history export, and the ticket versions themselves (each
  version row says "status was S at updated_at"; event-style exports carry one row per
  update). Repeated observations of the same status collapse into the first.
#}
with recorded as (
    select ticket_id, status, changed_at, null::integer as update_sequence
    from {{ ref('stg_ticket_tool__status_changes') }}
    where status is not null and changed_at is not null
),

observed as (
    select ticket_id, status, updated_at as changed_at, update_sequence
    from {{ ref('stg_ticket_tool__tickets') }}
    where status is not null and updated_at is not null
),

evidence as (
    select * from recorded
    union
    select * from observed
),

sequenced as (
    select
        *,
        -- Updates stamped with the same time keep the order of the export's update counter.
        lag(status) over (
            partition by ticket_id order by changed_at, update_sequence nulls first, status
        ) as previous_status
    from evidence
),

final as (
    select
        ticket_id,
        status,
        changed_at,
        previous_status
    from sequenced
    where previous_status is distinct from status
)

select * from final
