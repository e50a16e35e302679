{#
  One row per answered satisfaction item at any level (incident callback, project,
  annual) with the answer as given (score, scale) and on the 0–100 scale (score_100);
  is_low_score below var('low_score_threshold'). Normalisation: DECISIONS.md "Satisfaction".
  Indexed for the reports, which read one project's period at a time (docs/performance.md).

  Incremental: a run takes the answers int_satisfaction_answers recomputed since this
  table's last run, and the answers whose project moved to another department.
#}
{{ config(
    materialized='incremental',
    unique_key=['answer_source', 'response_id', 'item'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[{'columns': ['project_id', 'responded_date']}, {'columns': ['response_id', 'answer_source', 'item'], 'unique': True}]
) }}

with
{% if is_incremental() %}
touched as (
    select response_id
    from {{ ref('int_satisfaction_answers') }}
    where measured_through_batch > (select coalesce(max(measured_through_batch), 0) from {{ this }})
    union
    select answers.response_id
    from {{ this }} as answers
    inner join {{ ref('dim_projects') }} as projects on answers.project_id = projects.project_id
    where answers.dept_id is distinct from projects.dept_id
),
{% endif %}

answers as (
    select * from {{ ref('int_satisfaction_answers') }}
    {% if is_incremental() %}
    {# By id, through its index: the other items of a touched survey come along unchanged. #}
    where {{ among('response_id', 'select response_id from touched') }}
    {% endif %}
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
        answers.comment is not null as has_comment,
        answers.measured_through_batch
    from answers
    left join {{ ref('dim_projects') }} as projects on answers.project_id = projects.project_id
)

select * from final
