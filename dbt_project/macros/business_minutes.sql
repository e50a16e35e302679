{#
  Business time as a running total: cumulative_minutes(t) is the number of working
  minutes from the start of the calendar's first day to instant t; a duration is the
  difference of two totals. `day` is the row of int_sla_calendar_days for t's local
  date (joined by the caller); a 7x24 calendar counts every minute since the epoch.
#}
{% macro cumulative_minutes(instant, calendar_id, timezone, day) -%}
    case
        when {{ calendar_id }} = '7x24' then extract(epoch from {{ instant }}) / 60
        else {{ day }}.minutes_before_day
            + coalesce(greatest(0, least({{ local_minute(instant, timezone) }}, {{ day }}.first_end)
                - {{ day }}.first_start), 0)
            + coalesce(greatest(0, least({{ local_minute(instant, timezone) }}, {{ day }}.second_end)
                - {{ day }}.second_start), 0)
    end
{%- endmacro %}

{% macro local_minute(instant, timezone) -%}
    (extract(epoch from ({{ instant }} at time zone {{ timezone }})::time) / 60)
{%- endmacro %}

{# The instant at which the running total reaches `total`, on `day`: the first working
   day whose total through its end is at least `total` (found by the caller). #}
{% macro instant_at_cumulative(total, calendar_id, timezone, day) -%}
    case
        when {{ calendar_id }} = '7x24' then to_timestamp({{ total }} * 60)
        else (
            {{ day }}.calendar_date + interval '1 minute' * case
                when {{ total }} - {{ day }}.minutes_before_day <= {{ day }}.first_end - {{ day }}.first_start
                    then {{ day }}.first_start + ({{ total }} - {{ day }}.minutes_before_day)
                else {{ day }}.second_start
                    + ({{ total }} - {{ day }}.minutes_before_day - ({{ day }}.first_end - {{ day }}.first_start))
            end
        ) at time zone {{ timezone }}
    end
{%- endmacro %}
