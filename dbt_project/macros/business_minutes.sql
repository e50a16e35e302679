{#
  Business time as a running total: cumulative_minutes(t) is the number of working
  minutes from the start of the calendar's first day to instant t; a duration is the
  difference of two totals. `day` is the row of int_sla_calendar_days for t's local
  date (joined by the caller), whose working windows are instants; a 7x24 calendar
  counts every minute since the epoch.
#}
{% macro cumulative_minutes(instant, calendar_id, day) -%}
    case
        when {{ calendar_id }} = '7x24' then extract(epoch from {{ instant }}) / 60
        else {{ day }}.minutes_before_day
            + {{ minutes_into_window(instant, day ~ '.first_start', day ~ '.first_end') }}
            + {{ minutes_into_window(instant, day ~ '.second_start', day ~ '.second_end') }}
    end
{%- endmacro %}

{% macro minutes_into_window(instant, window_start, window_end) -%}
    coalesce(greatest(0, extract(epoch from least({{ instant }}, {{ window_end }}) - {{ window_start }}) / 60), 0)
{%- endmacro %}

{# The instant at which the running total reaches `total`, on `day`: the first working
   day whose total through its end is at least `total` (working_day_reaching). #}
{% macro instant_at_cumulative(total, calendar_id, day) -%}
    case
        when {{ calendar_id }} = '7x24' then to_timestamp({{ total }} * 60)
        when {{ total }} - {{ day }}.minutes_before_day
            <= extract(epoch from {{ day }}.first_end - {{ day }}.first_start) / 60
            then {{ day }}.first_start + interval '1 minute' * ({{ total }} - {{ day }}.minutes_before_day)
        else {{ day }}.second_start + interval '1 minute' * (
            {{ total }} - {{ day }}.minutes_before_day - extract(epoch from {{ day }}.first_end - {{ day }}.first_start) / 60
        )
    end
{%- endmacro %}

{# The row of int_sla_calendar_days as `alias` for the local date of `instant` in the
   calendar and time zone of `owner` (a join target; none for 7x24). #}
{% macro calendar_day_of(alias, owner, instant) -%}
    {{ ref('int_sla_calendar_days') }} as {{ alias }}
        on {{ alias }}.calendar_id = {{ owner }}.calendar_id
        and {{ alias }}.timezone = {{ owner }}.timezone
        and {{ alias }}.calendar_date = ({{ instant }} at time zone {{ owner }}.timezone)::date
{%- endmacro %}

{# The instant of a wall-clock time on `day` in `timezone`. A time skipped when daylight
   saving time starts is the moment of the skip, where PostgreSQL would read it an hour
   late (transitions fall on whole UTC hours in the zones this is meant for). #}
{% macro local_instant(day, minute, timezone) -%}
    {%- set wall = "(" ~ day ~ " + " ~ minute ~ " * interval '1 minute')" -%}
    case
        when ({{ wall }} at time zone {{ timezone }}) at time zone {{ timezone }} = {{ wall }}
            then {{ wall }} at time zone {{ timezone }}
        else date_trunc('hour', {{ wall }} at time zone {{ timezone }}, 'UTC')
    end
{%- endmacro %}

{# The first working day of `owner`'s calendar and time zone by whose end the running
   total reaches `total`, as `alias` (a lateral join target; one indexed search). #}
{% macro working_day_reaching(alias, owner, total) -%}
    lateral (
        select *
        from {{ ref('int_sla_calendar_days') }} as day
        where day.calendar_id = {{ owner }}.calendar_id
            and day.timezone = {{ owner }}.timezone
            and day.working_minutes > 0
            and day.minutes_through_day >= {{ total }}
        order by day.minutes_through_day
        limit 1
    ) as {{ alias }}
{%- endmacro %}
