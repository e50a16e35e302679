with source as (
    select * from {{ source('raw', 'service_reports') }} as service_reports
    where {{ not_quarantined('service_reports', 'service_reports') }}
),

renamed as (
    select
        project_id,
        period,
        report_type,
        {{ safe_date('due_date') }} as due_date,
        {{ safe_timestamptz('delivered_at') }} as delivered_at,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
