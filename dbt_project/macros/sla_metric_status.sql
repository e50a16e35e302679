{# met / breached / in_progress for one SLA metric: a ticket still open past its due
   time is already breached (SPEC §4). A metric without a target is not_applicable. #}
{% macro sla_metric_status(done_at, due_at) -%}
    case
        when {{ due_at }} is null then 'not_applicable'
        when {{ done_at }} is not null and {{ done_at }} <= {{ due_at }} then 'met'
        when {{ done_at }} is not null then 'breached'
        when {{ as_of() }} > {{ due_at }} then 'breached'
        else 'in_progress'
    end
{%- endmacro %}
