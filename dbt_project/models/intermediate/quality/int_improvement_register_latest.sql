{#
  Each improvement item's current register entry: its row in the latest batch (an export
  filled in later supersedes the earlier one), the cause category read as its code whether
  the file wrote the code or either label of seed improvement_cause_categories.
#}
with entries as (
    select * from {{ ref('stg_quality__improvement_register') }}
),

categories as (
    select * from {{ ref('improvement_cause_categories') }}
),

latest as (
    {{ latest_per_key('entries', ['item_id']) }}
),

final as (
    select
        latest.item_id,
        latest.origin,
        latest.description,
        latest.raised_date,
        categories.category_code as cause_category,
        latest.cause_analysis,
        latest.corrective_action,
        latest.preventive_action,
        latest.owner,
        latest.planned_date,
        latest.status,
        latest.completed_date,
        latest.verified_by,
        latest.verified_date,
        latest.verification_note,
        latest.batch_id,
        latest.source_row
    from latest
    left join categories
        on latest.cause_category in (categories.category_code, categories.name_zh, categories.name_en)
)

select * from final
