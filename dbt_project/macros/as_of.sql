{# The moment open tickets are judged at: var('as_of') when given, else the run's start. #}
{% macro as_of() -%}
    {%- if var('as_of') -%} '{{ var("as_of") }}'::timestamptz {%- else -%} '{{ run_started_at }}'::timestamptz {%- endif -%}
{%- endmacro %}
