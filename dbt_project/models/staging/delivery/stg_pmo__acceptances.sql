with source as (
    select * from {{ source('raw', 'acceptances') }} as acceptances
    where {{ not_quarantined('acceptances', 'acceptances') }}
),

renamed as (
    select
        project_id,
        kind,
        {{ safe_date('applied_at') }} as applied_date,
        {{ safe_date('decided_at') }} as decided_date,
        nullif(result, '') as result,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
