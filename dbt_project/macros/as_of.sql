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

{# Where an SLA metric's clock stops: when it was done, if that was by the as-of moment (done
   later means not done yet on the day measured, as in a back-fill), else at the as-of moment;
   never before the ticket was opened. #}
{% macro done_by_as_of(done_at) -%}
    case when {{ done_at }} <= {{ as_of() }} then {{ done_at }} end
{%- endmacro %}

{% macro clock_stopped_at(done_at, opened_at) -%}
    greatest(coalesce({{ done_by_as_of(done_at) }}, {{ as_of() }}), {{ opened_at }})
{%- endmacro %}
