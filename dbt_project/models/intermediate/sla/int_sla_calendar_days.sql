{#
  One row per business calendar (a policy's or an OLA's), time zone and date: the day's working windows as
  instants (a lunch break splits the day in two) and the working minutes accumulated
  before the day starts. Business minutes between two instants are then a difference of
  two lookups by local date (macros/business_minutes.sql), and a due time one indexed
  search for the day where the running total reaches the target. Windows are instants,
  so a day on which daylight saving time starts or ends counts the minutes that really
  pass.

  A day is worked when its weekday has hours in seeds/sla_calendars.csv, except that
  statutory holidays and company days off are not, and adjusted working days (调休) and
  company working days are: with that weekday's hours if the calendar has them, else
  with the hours of the calendar's first weekday. Only the rows in force on the day
  count (valid_from through valid_to): a change of hours from a date changes the days
  from that date, and no earlier total.
#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['calendar_id', 'timezone', 'calendar_date'], 'unique': true},
        {'columns': ['calendar_id', 'timezone', 'minutes_through_day']},
    ],
    post_hook="{{ analyze_if_written() }}"
) }}

with policy_zones as (
    select distinct timezone
    from {{ ref('int_sla_policies_deduplicated') }}
),

policy_calendars as (
    select
        calendar as calendar_id,
        timezone
    from {{ ref('int_sla_policies_deduplicated') }}
    where calendar <> '7x24'
    -- An OLA's own calendar runs in the time zone of the policy of the ticket a group holds.
    union
    select
        ola.calendar_id,
        policy_zones.timezone
    from {{ ref('ola_targets') }} as ola
    cross join policy_zones
    where ola.calendar_id <> '7x24'
),

hours as (
    select
        calendar_id,
        weekday::integer as weekday,
        extract(epoch from start_time::time) / 60 as start_minute,
        extract(epoch from end_time::time) / 60 as end_minute,
        extract(epoch from nullif(lunch_start, '')::time) / 60 as lunch_start_minute,
        extract(epoch from nullif(lunch_end, '')::time) / 60 as lunch_end_minute,
        coalesce(valid_from, '-infinity') as valid_from,
        coalesce(valid_to, 'infinity') as valid_to
    from {{ ref('sla_calendars') }}
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
            else coalesce(day_hours.weekday = calendar.iso_weekday, false)
        end as is_worked,
        day_hours.start_minute,
        day_hours.end_minute,
        day_hours.lunch_start_minute,
        day_hours.lunch_end_minute
    from policy_calendars
    cross join {{ ref('dim_calendar') }} as calendar
    -- Of the calendar's rows in force that day, the weekday's own, else the first weekday's.
    left join lateral (
        select hours.*
        from hours
        where hours.calendar_id = policy_calendars.calendar_id
            and calendar.calendar_date between hours.valid_from and hours.valid_to
        order by hours.weekday <> calendar.iso_weekday, hours.weekday
        limit 1
    ) as day_hours on true
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
