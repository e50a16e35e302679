with source as (
    select * from {{ source('raw', 'tool_sla_records') }} as records
    where {{ not_quarantined('tool_sla_records', 'records') }}
        {% if is_incremental() %}
        and records._batch_id > (select coalesce(max(batch_id), 0) from {{ this }})
        {% endif %}
),

renamed as (
    select
        ticket_id,
        metric,
        stage,
        {{ safe_timestamptz('started_at') }} as started_at,
        {{ safe_timestamptz('stopped_at') }} as stopped_at,
        {{ safe_timestamptz('breach_at') }} as breach_at,
        {{ safe_boolean('has_breached') }} as has_breached,
        {{ safe_numeric('business_elapsed_minutes') }} as business_elapsed_minutes,
        {{ safe_numeric('paused_minutes') }} as paused_minutes,
        {{ safe_numeric('remaining_minutes') }} as remaining_minutes,
        sla_clock,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
