{#
  One row per quarantined source record (a file row held out of the marts), with every
  problem found in it, and where it belongs: the project and the day its entity dates it
  by (a ticket's opening, a callback's call, …). A report lists only the records of its
  own projects and period; a record whose project or day cannot be read (often why it was
  quarantined) belongs to the day its file was loaded and to no project, so only the
  organisation's reports show it. Raw values are source text: reports only.

  Incremental: a run reads the records with a problem recorded since its last run, and
  only the raw rows of their batches.
#}
{{ config(
    materialized='incremental',
    unique_key=['entity', 'batch_id', 'source_row'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['entity', 'batch_id', 'source_row'], 'unique': True}, {'columns': ['day']}]
) }}

{% set tz = var('timezone') %}

with new_records as (
    select distinct
        entity,
        batch_id,
        source_row
    from {{ source('raw', 'quarantined_rows') }}
    {% if is_incremental() %}
    where quarantined_at > (select coalesce(max(last_quarantined_at), '-infinity') from {{ this }})
    {% endif %}
),

records as (
    select
        quarantined.entity,
        quarantined.batch_id,
        quarantined.source_row,
        min(quarantined.source_file) as source_file,
        jsonb_agg(
            jsonb_build_object(
                'column', quarantined.column_name, 'value', quarantined.raw_value, 'reason', quarantined.reason
            )
            order by quarantined.check_name
        ) as problems,
        max(quarantined.quarantined_at) as last_quarantined_at
    from {{ source('raw', 'quarantined_rows') }} as quarantined
    inner join new_records using (entity, batch_id, source_row)
    group by quarantined.entity, quarantined.batch_id, quarantined.source_row
),

placed as (
    {% for entity, placement in record_placement().items() %}
    {{ placed_rows(entity, placement) }}
    -- Only the batches with new records: the raw tables' batch index serves this.
    where raw_rows._batch_id in (
            select batch_id from new_records
            where entity = '{{ entity }}'
        )
        and (raw_rows._batch_id, raw_rows._source_row) in (
            select
                batch_id,
                source_row
            from new_records
            where entity = '{{ entity }}'
        )
    {{ 'union all' if not loop.last }}
    {% endfor %}
),

final as (
    select
        records.entity,
        records.batch_id,
        records.source_row,
        records.source_file,
        records.problems,
        placed.project_id,
        placed.event_date,
        coalesce(placed.event_date, (batches.loaded_at at time zone '{{ tz }}')::date) as day,
        records.last_quarantined_at
    from records
    inner join {{ source('raw', 'load_batches') }} as batches on records.batch_id = batches.batch_id
    left join placed
        on records.entity = placed.entity
        and records.batch_id = placed.batch_id
        and records.source_row = placed.source_row
)

select * from final
