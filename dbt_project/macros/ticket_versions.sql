{# How versions of one ticket are ranked, newest first: the source's update time, then
   its update counter (event-style exports with several rows per ticket), then the
   later batch and row. #}
{% macro version_order() -%}
    updated_at desc nulls last, update_sequence desc nulls last, batch_id desc, source_row desc
{%- endmacro %}
