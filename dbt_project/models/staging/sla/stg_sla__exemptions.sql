{# Every accepted entry of every SLA exemption register export (latest wins downstream). #}
with source as (
    select * from {{ source('raw', 'sla_exemptions') }} as exemptions
    where {{ not_quarantined('sla_exemptions', 'exemptions') }}
),

renamed as (
    select
        exemption_id,
        ticket_id,
        metric,
        reason_category,
        reason,
        approved_by_role,
        {{ safe_date('approved_at') }} as approved_at,
        attachment_ref,
        _batch_id as batch_id,
        _source_row as source_row
    from source
)

select * from renamed
