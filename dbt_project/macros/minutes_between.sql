{% macro minutes_between(start_at, end_at) -%}
    round(extract(epoch from ({{ end_at }} - {{ start_at }})) / 60.0, 2)
{%- endmacro %}
