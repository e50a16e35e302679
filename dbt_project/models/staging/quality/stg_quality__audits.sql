with source as (
    select * from {{ source('raw', 'audits') }} as audits
    where {{ not_quarantined('audits', 'audits') }}
),

renamed as (
    select
        audit_id,
        {{ safe_integer('year') }} as audit_year,
        dept_id,
        {{ safe_date('audited_at') }} as audited_date,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
