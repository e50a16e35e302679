with source as (
    select * from {{ source('raw', 'emergency_drills') }} as emergency_drills
    where {{ not_quarantined('emergency_drills', 'emergency_drills') }}
),

renamed as (
    select
        drill_id,
        {{ safe_date('held_at') }} as held_date,
        scope,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
