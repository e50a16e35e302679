{# How versions of one ticket are ranked, newest first: the source's update time, then
   its update counter (event-style exports with several rows per ticket), then the
   later batch and row. version_key() is the comparable form of the same ranking. #}
{% macro version_order() -%}
    updated_at desc nulls last, update_sequence desc nulls last, batch_id desc, source_row desc
{%- endmacro %}

{% macro version_key(alias) -%}
    (coalesce({{ alias }}.updated_at, '-infinity'::timestamptz), coalesce({{ alias }}.update_sequence, -1))
{%- endmacro %}
