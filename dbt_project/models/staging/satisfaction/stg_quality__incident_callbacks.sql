{#
  The callback register grows with the tickets (one call per resolved incident), so it is
  staged like the ticket exports (dbt_project.yml, staging.ticketing): each raw batch is
  cast once and appended, and int_satisfaction_answers reads a night's callbacks by id.
#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[{'columns': ['callback_id']}, {'columns': ['batch_id']}],
    post_hook='{{ analyze_if_written() }}'
) }}

with source as (
    select * from {{ source('raw', 'incident_callbacks') }} as incident_callbacks
    where {{ not_quarantined('incident_callbacks', 'incident_callbacks') }}
        {% if is_incremental() %}
        and incident_callbacks._batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
        {% endif %}
),

renamed as (
    select
        callback_id,
        ticket_id,
        {{ safe_timestamptz('called_at') }} as called_at,
        rating,
        comment,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
