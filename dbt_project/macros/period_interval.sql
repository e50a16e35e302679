{# The length of a scorecard period, from its period_type column. #}
{% macro period_interval(period_type) -%}
    case {{ period_type }}
        when 'month' then interval '1 month'
        when 'quarter' then interval '3 months'
        when 'half_year' then interval '6 months'
        when 'year' then interval '1 year'
    end
{%- endmacro %}
