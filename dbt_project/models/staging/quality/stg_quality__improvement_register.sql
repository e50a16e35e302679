{# Every accepted entry of every register export: the item's history (latest wins downstream). #}
with source as (
    select * from {{ source('raw', 'improvement_register') }} as improvement_register
    where {{ not_quarantined('improvement_register', 'improvement_register') }}
),

renamed as (
    select
        item_id,
        origin,
        description,
        {{ safe_date('raised_date') }} as raised_date,
        cause_category,
        cause_analysis,
        corrective_action,
        preventive_action,
        owner,
        {{ safe_date('planned_date') }} as planned_date,
        status,
        {{ safe_date('completed_date') }} as completed_date,
        verified_by,
        {{ safe_date('verified_date') }} as verified_date,
        verification_note,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
