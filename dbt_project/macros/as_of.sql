{# The moment open tickets are judged at: the end of var('run_date') in the warehouse
   time zone when given (the nightly DAG passes its day, so back-fills reproduce that
   day's answer), else the moment this dbt run started. #}
{% macro as_of() -%}
    {%- if var('run_date') -%}
        (('{{ var("run_date") }}'::date + 1)::timestamp at time zone '{{ var("timezone") }}')
    {%- else -%}
        '{{ run_started_at }}'::timestamptz
    {%- endif -%}
{%- endmacro %}

{# The day of as_of() in the warehouse time zone. #}
{% macro as_of_date() -%}
    ({{ as_of() }} at time zone '{{ var("timezone") }}')::date
{%- endmacro %}
