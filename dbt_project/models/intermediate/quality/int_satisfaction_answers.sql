{#
  One row per answered survey item, from the survey files (levels callback, project,
  annual) and the incident callback register (level callback, item 回访满意度), with the
  answer on the 0–100 scale (macros/satisfaction_score.sql). A callback names only its
  ticket: its project and customer come from the ticket.

  A table: five models read it, and at a million tickets its hundreds of thousands of
  callbacks took seconds to deduplicate for each reader (docs/performance.md).
#}
{{ config(materialized='table', indexes=[{'columns': ['ticket_id']}], post_hook='analyze {{ this }}') }}

with responses as (
    {{ latest_per_key(ref('stg_quality__survey_responses'), ['survey_id', 'item']) }}
),

callbacks as (
    {{ latest_per_key(ref('stg_quality__incident_callbacks'), ['callback_id']) }}
),

answers as (
    select
        'survey' as answer_source, survey_id as response_id, level, item, customer_id, project_id, ticket_id,
        responded_date, score, scale, comment, batch_id, source_row
    from responses
    union all
    select
        'callback_register', callback_id, 'callback', '回访满意度', null, null, ticket_id,
        (called_at at time zone '{{ var("timezone") }}')::date, rating, 'rating', comment, batch_id, source_row
    from callbacks
),

final as (
    select
        answers.answer_source,
        answers.response_id,
        answers.level,
        answers.item,
        coalesce(answers.customer_id, projects.customer_id) as customer_id,
        coalesce(answers.project_id, tickets.project_id) as project_id,
        answers.ticket_id,
        answers.responded_date,
        answers.score,
        answers.scale,
        {{ satisfaction_score('answers.score', 'answers.scale') }} as score_100,
        answers.comment,
        answers.batch_id,
        answers.source_row
    from answers
    left join {{ ref('int_tickets_latest') }} as tickets on answers.ticket_id = tickets.ticket_id
    left join {{ ref('int_projects_deduplicated') }} as projects
        on coalesce(answers.project_id, tickets.project_id) = projects.project_id
)

select * from final
