{#
  One row per status a ticket entered, with when. Two kinds of evidence are merged:
  the ticket tool's status-history export, and the ticket versions themselves (each
  version row says "status was S at updated_at"; event-style exports carry one row per
  update). Repeated observations of the same status collapse into the first.
#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['ticket_id', 'changed_at', 'status'], 'unique': True}, {'columns': ['last_batch_id']}],
    post_hook="{{ analyze_if_written() }}"
) }}

{# Incremental: the whole history of every ticket with evidence in a newer batch (the newest
   batch read so far is found through the last_batch_id index, not by reading every row). #}
with
{% if is_incremental() %}
touched as (
    select ticket_id from {{ ref('stg_ticket_tool__status_changes') }}
    where batch_id > (select coalesce(max(last_batch_id), 0) from {{ this }})
    union
    select ticket_id from {{ ref('stg_ticket_tool__tickets') }}
    where batch_id > (select coalesce(max(last_batch_id), 0) from {{ this }})
),
{% endif %}

recorded as (
    select
        ticket_id,
        status,
        changed_at,
        null::integer as update_sequence,
        batch_id
    from {{ ref('stg_ticket_tool__status_changes') }}
    where status is not null and changed_at is not null
),

observed as (
    select
        ticket_id,
        status,
        updated_at as changed_at,
        update_sequence,
        batch_id
    from {{ ref('stg_ticket_tool__tickets') }}
    where status is not null and updated_at is not null
),

evidence as (
    select
        ticket_id,
        status,
        changed_at,
        update_sequence,
        max(batch_id) as batch_id
    from (
        select * from recorded
        union all
        select * from observed
    ) as all_evidence
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
    group by ticket_id, status, changed_at, update_sequence
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
        previous_status,
        max(batch_id) over (partition by ticket_id) as last_batch_id
    from sequenced
    where previous_status is distinct from status
)

select * from final
