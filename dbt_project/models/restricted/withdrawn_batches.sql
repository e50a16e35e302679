{#
  The withdrawn exports (itss batch withdraw) and where their records belonged: one row per
  batch, project and month its records are dated in (macro placed_rows), so a report states
  the withdrawals that touch its own projects and period. A view: a withdrawal shows in the
  next report at once, and only withdrawn batches' rows are read (the raw tables' batch index).
#}
{{ config(materialized='view') }}

with withdrawn as (
    select
        batch_id,
        entity,
        file_name,
        withdrawn_at,
        withdrawn_by,
        withdrawal_reason,
        loaded_at
    from {{ source('raw', 'load_batches') }}
    where withdrawn_at is not null
),

placed as (
    {% for entity, placement in record_placement().items() %}
    {{ placed_rows(entity, placement) }}
    where raw_rows._batch_id in (
            select batch_id from withdrawn
            where entity = '{{ entity }}'
        )
    {{ 'union all' if not loop.last }}
    {% endfor %}
)

select
    withdrawn.batch_id,
    withdrawn.file_name,
    withdrawn.withdrawn_at,
    withdrawn.withdrawn_by,
    withdrawn.withdrawal_reason,
    placed.project_id,
    date_trunc(
        'month', coalesce(placed.event_date, (withdrawn.loaded_at at time zone '{{ var("timezone") }}')::date)
    )::date as month_start,
    count(*) as records
from withdrawn
inner join placed on withdrawn.batch_id = placed.batch_id
group by 1, 2, 3, 4, 5, 6, 7
