{# The first day of the scorecard period of period_type ('month', 'quarter', 'half_year'
   or 'year') that the date `day` falls in; half-years are January–June and July–December. #}
{% macro period_start(period_type, day) -%}
    {%- if period_type == 'month' -%}
        date_trunc('month', {{ day }})::date
    {%- elif period_type == 'quarter' -%}
        date_trunc('quarter', {{ day }})::date
    {%- elif period_type == 'half_year' -%}
        (date_trunc('year', {{ day }}) + case when extract(month from {{ day }}) > 6 then interval '6 months' else interval '0 months' end)::date
    {%- elif period_type == 'year' -%}
        date_trunc('year', {{ day }})::date
    {%- else -%}
        {{ exceptions.raise_compiler_error('unknown period type ' ~ period_type) }}
    {%- endif -%}
{%- endmacro %}
