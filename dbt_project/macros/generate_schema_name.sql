{# Layers live in fixed schemas (staging, intermediate, marts) that BI users and roles
   can rely on, not in dbt's default "<target>_<custom>" names. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
