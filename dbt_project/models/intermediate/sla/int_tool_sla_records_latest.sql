{#
  One row per ticket and metric the ticket tool keeps an SLA record of (ServiceNow task_sla,
  Jira's SLA columns): the record that counts (not cancelled before cancelled, then the
  latest started, then the latest loaded), the time it says the metric was done (its stop
  time once completed), and whether it says the metric breached (its flag, else time left
  below zero, else a stop after the breach time). Rules: DECISIONS.md, "The tool's SLA records".
  Incremental, keyed by ticket: a run chooses again for the tickets with new records only.
#}
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['ticket_id', 'metric'], 'unique': True}, {'columns': ['last_batch_id']}],
    post_hook="{{ analyze_if_written() }}"
) }}

with
{% if is_incremental() %}
touched as (
    select ticket_id from {{ ref('stg_ticket_tool__sla_records') }}
    where batch_id > (select coalesce(max(last_batch_id), 0) from {{ this }})
),
{% endif %}

records as (
    select
        *,
        max(batch_id) over (partition by ticket_id) as last_batch_id
    from {{ ref('stg_ticket_tool__sla_records') }}
    {% if is_incremental() %}
    where {{ among('ticket_id', 'select ticket_id from touched') }}
    {% endif %}
),

counting as (
    select distinct on (ticket_id, metric) *
    from records
    order by
        ticket_id asc, metric asc, stage = 'cancelled' asc, started_at desc nulls last, batch_id desc, source_row desc
),

final as (
    select
        ticket_id,
        metric,
        stage,
        started_at,
        case when stage = 'completed' then stopped_at end as done_at,
        breach_at,
        coalesce(has_breached, remaining_minutes < 0, stopped_at > breach_at) as is_breached,
        business_elapsed_minutes,
        paused_minutes,
        remaining_minutes,
        sla_clock,
        last_batch_id
    from counting
)

select * from final
