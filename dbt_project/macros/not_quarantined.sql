{# Rows that raw validation quarantined stay in raw (nothing is lost) but go no further. #}
{% macro not_quarantined(entity, alias) -%}
    not exists (
        select 1
        from {{ source('raw', 'quarantined_rows') }} as quarantined
        where quarantined.entity = '{{ entity }}'
            and quarantined.batch_id = {{ alias }}._batch_id
            and quarantined.source_row = {{ alias }}._source_row
    )
{%- endmacro %}
