with source as (
    select * from {{ source('raw', 'projects') }} as projects
    where {{ not_quarantined('projects', 'projects') }}
),

renamed as (
    select
        project_id,
        customer_id,
        dept_id,
        name as project_name,
        kind,
        manager,
        {{ safe_date('start_date') }} as start_date,
        {{ safe_date('end_date') }} as end_date,
        service_mode,
        sla_policy_id,
        report_frequency,
        {{ safe_date('plan_reviewed_at') }} as plan_reviewed_date,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
