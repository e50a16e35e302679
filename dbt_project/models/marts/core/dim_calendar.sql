{#
  One row per date. Working days follow China's statutory calendar (holidays and the
  weekend days worked instead, 调休) for the years chinesecalendar publishes, then the
  company overrides seed; a year nobody has published yet falls back to Monday–Friday
  and says so in calendar_source, so reports can flag it.
#}
with spine as (
    select day::date as calendar_date
    from generate_series(
            '{{ var("calendar_start") }}'::date, '{{ var("calendar_end") }}'::date, interval '1 day'
        ) as day
),

statutory as (
    select
        calendar_date::date as calendar_date,
        day_kind,
        holiday_name,
        holiday_name_zh
    from {{ ref('cn_statutory_days') }}
),

published_years as (
    select distinct extract(year from calendar_date)::integer as year
    from statutory
),

overrides as (
    select
        calendar_date::date as calendar_date,
        is_workday,
        name
    from {{ ref('calendar_overrides') }}
),

final as (
    select
        spine.calendar_date,
        extract(year from spine.calendar_date)::integer as year,
        extract(isodow from spine.calendar_date)::integer as iso_weekday,
        extract(isodow from spine.calendar_date) in (6, 7) as is_weekend,
        coalesce(statutory.day_kind = 'holiday', false) as is_statutory_holiday,
        coalesce(statutory.day_kind = 'adjusted_workday', false) as is_adjusted_workday,
        overrides.calendar_date is not null as is_company_override,
        case
            when overrides.calendar_date is not null then overrides.is_workday
            when statutory.day_kind = 'holiday' then false
            when statutory.day_kind = 'adjusted_workday' then true
            else extract(isodow from spine.calendar_date) < 6
        end as is_workday,
        coalesce(overrides.name, statutory.holiday_name_zh) as holiday_name_zh,
        statutory.holiday_name,
        case
            when overrides.calendar_date is not null then 'company_override'
            when published_years.year is not null then 'chinesecalendar'
            else 'weekday_fallback'
        end as calendar_source
    from spine
    left join statutory on spine.calendar_date = statutory.calendar_date
    left join overrides on spine.calendar_date = overrides.calendar_date
    left join published_years on extract(year from spine.calendar_date) = published_years.year
)

select * from final
