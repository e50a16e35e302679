with source as (
    select * from {{ source('raw', 'complaints') }} as complaints
    where {{ not_quarantined('complaints', 'complaints') }}
),

renamed as (
    select
        complaint_id,
        customer_id,
        project_id,
        {{ safe_timestamptz('received_at') }} as received_at,
        coalesce({{ safe_boolean('is_major') }}, false) as is_major,
        {{ safe_timestamptz('escalated_at') }} as escalated_at,
        {{ safe_timestamptz('closed_at') }} as closed_at,
        description,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
