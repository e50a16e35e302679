{#
  One row per survey level, year, grain (organisation, department, project) and item:
  how many answered, the item's average on the 0–100 scale, and how many answers were
  low. An answer naming no project (an annual survey of the customer) counts for every
  project the customer had running that year and their departments, once per grain.
#}
with answers as (
    select * from {{ ref('fct_satisfaction_answers') }}
    where score_100 is not null
),

-- Annual answers naming no project, once per project the customer had running that year.
unnamed_attributed as (
    select
        answers.*,
        project_years.project_id as attributed_project_id,
        coalesce(answers.dept_id, project_years.dept_id) as attributed_dept_id
    from answers
    left join {{ ref('int_project_years') }} as project_years
        on answers.customer_id = project_years.customer_id
        and answers.responded_year = project_years.year_start
    where answers.project_id is null
),

-- Answers naming their project, summed per project and item once: the grains add up these
-- few thousand sums instead of reading every answer once per grain (a million tickets bring
-- 600,000 answers, read three times and grouped each night; docs/performance.md). Sums of
-- numeric scores are exact, so sum / count is the average of the answers themselves.
named as (
    select
        level,
        responded_year,
        dept_id,
        project_id,
        item,
        count(*) as answers,
        sum(score_100) as score_sum,
        count(*) filter (where is_low_score) as low_scores
    from answers
    where project_id is not null
    group by level, responded_year, dept_id, project_id, item
),

-- Each answer once per grain. Only the attributed ones need distinct: an answer naming no
-- project may reach the same department through several of the customer's projects.
in_grains as (
    select
        '{{ var("organisation_id") }}' as grain_id,
        'organisation' as grain,
        item,
        level,
        responded_year,
        answers,
        score_sum,
        low_scores
    from named
    union all
    select
        '{{ var("organisation_id") }}',
        'organisation',
        item,
        level,
        responded_year,
        1,
        score_100,
        is_low_score::integer
    from answers
    where project_id is null
    union all
    select
        dept_id,
        'department',
        item,
        level,
        responded_year,
        answers,
        score_sum,
        low_scores
    from named
    where dept_id is not null
    union all
    select
        project_id,
        'project',
        item,
        level,
        responded_year,
        answers,
        score_sum,
        low_scores
    from named
    union all
    select
        grain_id,
        grain,
        item,
        level,
        responded_year,
        1,
        score_100,
        is_low_score::integer
    from (
        select distinct
            'department' as grain,
            attributed_dept_id as grain_id,
            answer_source,
            response_id,
            item,
            level,
            responded_year,
            score_100,
            is_low_score
        from unnamed_attributed
        where attributed_dept_id is not null
        union all
        select distinct
            'project',
            attributed_project_id,
            answer_source,
            response_id,
            item,
            level,
            responded_year,
            score_100,
            is_low_score
        from unnamed_attributed
        where attributed_project_id is not null
    ) as attributed
),

final as (
    select
        level,
        responded_year as year_start,
        grain,
        grain_id,
        item,
        sum(answers)::bigint as answers,
        round(sum(score_sum) / sum(answers), 2) as average_score,
        sum(low_scores)::bigint as low_scores
    from in_grains
    group by level, responded_year, grain, grain_id, item
)

select * from final
