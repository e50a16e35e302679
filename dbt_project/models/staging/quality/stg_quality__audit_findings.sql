with source as (
    select * from {{ source('raw', 'audit_findings') }} as audit_findings
    where {{ not_quarantined('audit_findings', 'audit_findings') }}
),

renamed as (
    select
        finding_id,
        audit_id,
        severity,
        {{ safe_date('opened_at') }} as opened_date,
        {{ safe_date('closed_at') }} as closed_date,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
