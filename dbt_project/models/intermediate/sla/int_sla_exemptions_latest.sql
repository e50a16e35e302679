{#
  Each SLA exemption's current register entry: its row in the latest batch (a register
  exported again supersedes the earlier entry), the reason category read as its code
  whether the file wrote the code or either label of seed sla_exemption_reason_categories.
#}
with entries as (
    select * from {{ ref('stg_sla__exemptions') }}
),

categories as (
    select * from {{ ref('sla_exemption_reason_categories') }}
),

latest as (
    {{ latest_per_key('entries', ['exemption_id']) }}
),

final as (
    select
        latest.exemption_id,
        latest.ticket_id,
        latest.metric,
        categories.category_code as reason_category,
        latest.reason,
        latest.approved_by_role,
        latest.approved_at,
        latest.attachment_ref,
        latest.batch_id,
        latest.source_row
    from latest
    left join categories
        on latest.reason_category in (categories.category_code, categories.name_zh, categories.name_en)
)

select * from final
