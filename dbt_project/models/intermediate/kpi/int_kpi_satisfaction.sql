{#
  CSAT and SURVEY_COVERAGE per year, at their own grains [001 §10, 000 §2]:
  CSAT is the annual survey's Σ item averages / number of items on the 0–100 scale,
  per grain as satisfaction_by_item attributes the answers; SURVEY_COVERAGE is the
  customers answering the annual survey / the customers with a project running that
  year. Rules: DECISIONS.md "Satisfaction".
#}
with years as (
    select period_start from {{ ref('int_kpi_periods') }}
    where period_type = 'year'
),

annual_items as (
    select * from {{ ref('satisfaction_by_item') }}
    where level = 'annual'
),

respondents as (
    select distinct
        responded_year,
        customer_id
    from {{ ref('fct_satisfaction_answers') }}
    where level = 'annual' and score_100 is not null
),

active_customers as (
    select distinct
        year_start,
        customer_id
    from {{ ref('int_project_years') }}
),

results as (
    -- A year without an annual survey: not applicable for the organisation, not absent.
    select
        'CSAT' as kpi_code,
        'organisation' as grain,
        '{{ var("organisation_id") }}' as grain_id,
        'year' as period_type,
        years.period_start,
        coalesce(sum(annual_items.average_score), 0) as numerator,
        count(annual_items.item)::numeric as denominator
    from years
    left join annual_items on annual_items.grain = 'organisation' and years.period_start = annual_items.year_start
    group by years.period_start

    union all
    select
        'CSAT',
        grain,
        grain_id,
        'year',
        year_start,
        sum(average_score),
        count(*)::numeric
    from annual_items
    where grain <> 'organisation'
    group by grain, grain_id, year_start

    union all
    select
        'SURVEY_COVERAGE',
        'organisation',
        '{{ var("organisation_id") }}',
        'year',
        years.period_start,
        count(respondents.customer_id)::numeric,
        count(active_customers.customer_id)::numeric
    from years
    left join active_customers on years.period_start = active_customers.year_start
    left join respondents
        on years.period_start = respondents.responded_year
        and active_customers.customer_id = respondents.customer_id
    group by years.period_start
)

select * from results
