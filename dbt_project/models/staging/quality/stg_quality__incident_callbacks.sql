with source as (
    select * from {{ source('raw', 'incident_callbacks') }} as incident_callbacks
    where {{ not_quarantined('incident_callbacks', 'incident_callbacks') }}
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
