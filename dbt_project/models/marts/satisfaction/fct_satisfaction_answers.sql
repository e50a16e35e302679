{#
  One row per answered satisfaction item at any level (incident callback, project,
  annual) with the answer as given (score, scale) and on the 0–100 scale (score_100);
  is_low_score below var('low_score_threshold'). Normalisation: DECISIONS.md "Satisfaction".
  Indexed for the reports, which read one project's period at a time (docs/performance.md).
#}
{{ config(indexes=[{'columns': ['project_id', 'responded_date']}]) }}

with answers as (
    select * from {{ ref('int_satisfaction_answers') }}
),

final as (
    select
        answers.answer_source,
        answers.response_id,
        answers.level,
        answers.item,
        answers.customer_id,
        answers.project_id,
        projects.dept_id,
        answers.ticket_id,
        answers.responded_date,
        date_trunc('year', answers.responded_date)::date as responded_year,
        answers.score,
        answers.scale,
        answers.score_100,
        answers.score_100 < {{ var('low_score_threshold') }} as is_low_score,
        answers.comment is not null as has_comment
    from answers
    left join {{ ref('dim_projects') }} as projects on answers.project_id = projects.project_id
)

select * from final
