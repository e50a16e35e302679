{# Register-style sources (projects, policies, ...) arrive as whole exports again and
   again; the current state of a key is its row in the most recent batch. `where`
   narrows the keys looked at (an incremental model's touched keys). #}
{% macro latest_per_key(relation, key_columns, where=none) -%}
    select distinct on ({{ key_columns | join(', ') }}) *
    from {{ relation }}
    {% if where %}where {{ where }}{% endif %}
    order by {{ key_columns | join(', ') }}, batch_id desc, source_row desc
{%- endmacro %}
