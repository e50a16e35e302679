{#
  One row per business calendar, time zone and date: the day's working windows as
  instants (a lunch break splits the day in two) and the working minutes accumulated
  before the day starts. Business minutes between two instants are then a difference of
  two lookups by local date (macros/business_minutes.sql), and a due time one indexed
  search for the day where the running total reaches the target. Windows are instants,
  so a day on which daylight saving time starts or ends counts the minutes that really
  pass.

  A day is worked when its weekday has hours in seeds/sla_calendars.csv, except that
  statutory holidays and company days off are not, and adjusted working days (调休) and
  company working days are: with that weekday's hours if the calendar has them, else
  with the hours of the calendar's first weekday.
#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['calendar_id', 'timezone', 'calendar_date'], 'unique': true},
        {'columns': ['calendar_id', 'timezone', 'minutes_through_day']},
    ],
    post_hook="{{ analyze_if_written() }}"
) }}

with policy_calendars as (
    select distinct
        calendar as calendar_id,
        timezone
    from {{ ref('int_sla_policies_deduplicated') }}
    where calendar <> '7x24'
),

hours as (
    select
        calendar_id,
        weekday::integer as weekday,
        extract(epoch from start_time::time) / 60 as start_minute,
        extract(epoch from end_time::time) / 60 as end_minute,
        extract(epoch from nullif(lunch_start, '')::time) / 60 as lunch_start_minute,
        extract(epoch from nullif(lunch_end, '')::time) / 60 as lunch_end_minute
    from {{ ref('sla_calendars') }}
),

first_weekday_hours as (
    select distinct on (calendar_id) *
    from hours
    order by calendar_id, weekday
),

days as (
    select
        policy_calendars.calendar_id,
        policy_calendars.timezone,
        calendar.calendar_date,
        calendar.calendar_source,
        case
            when calendar.is_company_override or calendar.is_statutory_holiday or calendar.is_adjusted_workday
                then calendar.is_workday
            else weekday_hours.calendar_id is not null
        end as is_worked,
        -- A weekday's own row, lunch included; the first weekday's only for days without one.
        case when weekday_hours.calendar_id is null then first_weekday_hours.start_minute
            else weekday_hours.start_minute
        end as start_minute,
        case when weekday_hours.calendar_id is null then first_weekday_hours.end_minute
            else weekday_hours.end_minute
        end as end_minute,
        case when weekday_hours.calendar_id is null then first_weekday_hours.lunch_start_minute
            else weekday_hours.lunch_start_minute
        end as lunch_start_minute,
        case when weekday_hours.calendar_id is null then first_weekday_hours.lunch_end_minute
            else weekday_hours.lunch_end_minute
        end as lunch_end_minute
    from policy_calendars
    inner join first_weekday_hours on policy_calendars.calendar_id = first_weekday_hours.calendar_id
    cross join {{ ref('dim_calendar') }} as calendar
    left join hours as weekday_hours
        on policy_calendars.calendar_id = weekday_hours.calendar_id
        and calendar.iso_weekday = weekday_hours.weekday
),

window_minutes as (
    select
        calendar_id,
        timezone,
        calendar_date,
        calendar_source,
        case when is_worked then start_minute end as first_start_minute,
        case when is_worked then coalesce(lunch_start_minute, end_minute) end as first_end_minute,
        case when is_worked then lunch_end_minute end as second_start_minute,
        case when is_worked and lunch_end_minute is not null then end_minute end as second_end_minute
    from days
),

windows as (
    -- Local wall-clock times as instants, read in the calendar's zone.
    select
        calendar_id,
        timezone,
        calendar_date,
        calendar_source,
        {{ local_instant('calendar_date', 'first_start_minute', 'timezone') }} as first_start,
        {{ local_instant('calendar_date', 'first_end_minute', 'timezone') }} as first_end,
        {{ local_instant('calendar_date', 'second_start_minute', 'timezone') }} as second_start,
        {{ local_instant('calendar_date', 'second_end_minute', 'timezone') }} as second_end
    from window_minutes
),

totalled as (
    select
        *,
        coalesce(extract(epoch from first_end - first_start) / 60, 0)
        + coalesce(extract(epoch from second_end - second_start) / 60, 0) as working_minutes
    from windows
),

final as (
    select
        *,
        sum(working_minutes) over calendar_order - working_minutes as minutes_before_day,
        sum(working_minutes) over calendar_order as minutes_through_day
    from totalled
    window calendar_order as (partition by calendar_id, timezone order by calendar_date)
)

select * from final
