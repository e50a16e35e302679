{#
  Rows that raw validation quarantined stay in raw (nothing is lost) but go no further; so do
  all rows of a withdrawn batch and of a batch that failed validation critically (`itss batch
  withdraw`, `itss validate`: src/itss_warehouse/ingest/batches.py).
#}
{% macro not_quarantined(entity, alias) -%}
    not exists (
        select 1
        from {{ source('raw', 'quarantined_rows') }} as quarantined
        where quarantined.entity = '{{ entity }}'
            and quarantined.batch_id = {{ alias }}._batch_id
            and quarantined.source_row = {{ alias }}._source_row
    )
    and {{ alias }}._batch_id not in ({{ held_back_batches() }})
{%- endmacro %}

{% macro held_back_batches() -%}
    select held_back.batch_id
    from {{ source('raw', 'load_batches') }} as held_back
    where held_back.withdrawn_at is not null or cardinality(held_back.validation_failures) > 0
{%- endmacro %}
