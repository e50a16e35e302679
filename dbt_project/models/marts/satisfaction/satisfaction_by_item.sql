{#
  One row per survey level, year, grain (organisation, department, project) and item:
  how many answered, the item's average on the 0–100 scale, and how many answers were
  low. An answer naming no project (an annual survey of the customer) counts for every
  project the customer had running that year and their departments, once per grain.
#}
with answers as (
    select * from {{ ref('fct_satisfaction_answers') }} where score_100 is not null
),

attributed as (
    select
        answers.*,
        coalesce(answers.project_id, project_years.project_id) as attributed_project_id,
        coalesce(answers.dept_id, project_years.dept_id) as attributed_dept_id
    from answers
    left join {{ ref('int_project_years') }} as project_years
        on answers.project_id is null
        and answers.customer_id = project_years.customer_id
        and answers.responded_year = project_years.year_start
),

in_grains as (
    select distinct 'organisation' as grain, '{{ var("organisation_id") }}' as grain_id,
           answer_source, response_id, item, level, responded_year, score_100, is_low_score
    from attributed
    union all
    select distinct 'department', attributed_dept_id,
           answer_source, response_id, item, level, responded_year, score_100, is_low_score
    from attributed where attributed_dept_id is not null
    union all
    select distinct 'project', attributed_project_id,
           answer_source, response_id, item, level, responded_year, score_100, is_low_score
    from attributed where attributed_project_id is not null
),

final as (
    select
        level,
        responded_year as year_start,
        grain,
        grain_id,
        item,
        count(*) as answers,
        round(avg(score_100), 2) as average_score,
        count(*) filter (where is_low_score) as low_scores
    from in_grains
    group by level, responded_year, grain, grain_id, item
)

select * from final
