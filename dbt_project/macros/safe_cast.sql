{# Casts guarded by the same patterns the raw GX suites check. Rows failing them are
   quarantined and filtered out in staging, but PostgreSQL may evaluate a cast before
   that filter; the guard keeps such a row from aborting the query. #}
{% macro safe_timestamptz(column) -%}
    case when {{ column }} ~ '^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$' then {{ column }}::timestamptz end
{%- endmacro %}

{% macro safe_date(column) -%}
    case when {{ column }} ~ '^\d{4}-\d{2}-\d{2}$' then {{ column }}::date end
{%- endmacro %}

{% macro safe_integer(column) -%}
    case when {{ column }} ~ '^\d{1,9}$' then {{ column }}::integer end
{%- endmacro %}

{% macro safe_boolean(column) -%}
    case when {{ column }} in ('true', 'false') then {{ column }}::boolean end
{%- endmacro %}

{% macro safe_numeric(column) -%}
    case when {{ column }} ~ '^-?\d+(\.\d+)?$' then {{ column }}::numeric end
{%- endmacro %}
