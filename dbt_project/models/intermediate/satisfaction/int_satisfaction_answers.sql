{#
  One row per answered survey item, from the survey files (levels callback, project,
  annual) and the incident callback register (level callback, item 回访满意度), with the
  answer on the 0–100 scale (macros/satisfaction_score.sql). A callback names only its
  ticket: its project and customer come from the ticket.

  Incremental, like fct_ticket_sla: at a million tickets the register holds hundreds of
  thousands of callbacks, and deduplicating all of them every night took seconds
  (docs/performance.md). A run recomputes the answers with a row in a batch newer than
  the table's inputs, the answers about a ticket with a new version (its project may
  have changed), and the answers whose project now belongs to another customer; every
  version of those answers is re-read, so the result is what a full rebuild gives.
#}
{# Indexed by level and answer date too: int_kpi_management_system looks up each year's last
   annual survey answer, which read every callback (0.4 s at 1M) without it. #}
{{ config(
    materialized='incremental',
    unique_key=['answer_source', 'response_id', 'item'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    indexes=[
        {'columns': ['ticket_id']}, {'columns': ['response_id', 'answer_source', 'item'], 'unique': True},
        {'columns': ['level', 'responded_date']}
    ],
    post_hook='{{ analyze_if_written() }}'
) }}

{% set touched_surveys, touched_callbacks = none, none %}
{% if is_incremental() %}
{% set touched_surveys = "survey_id in (select response_id from touched where answer_source = 'survey')" %}
{% set touched_callbacks =
    "callback_id in (select response_id from touched where answer_source = 'callback_register')" %}
{% endif %}

with inputs_through as (
    {{ inputs_through([
        [ref('stg_quality__survey_responses'), 'batch_id'],
        [ref('stg_quality__incident_callbacks'), 'batch_id'],
        [ref('int_tickets_latest'), 'last_batch_id']
    ]) }}
),

{% if is_incremental() %}
watermark as (
    {{ previous_inputs_through() }}
),

touched_tickets as (
    select ticket_id from {{ ref('int_tickets_latest') }}
    where last_batch_id > (select batch_id from watermark)
),

touched as (
    select
        'survey' as answer_source,
        survey_id as response_id
    from {{ ref('stg_quality__survey_responses') }}
    where batch_id > (select batch_id from watermark)
    union
    select
        'callback_register',
        callback_id
    from {{ ref('stg_quality__incident_callbacks') }}
    where batch_id > (select batch_id from watermark)
    union
    select
        answer_source,
        response_id
    from {{ this }}
    where {{ among('ticket_id', 'select ticket_id from touched_tickets') }}
    union
    select
        answers.answer_source,
        answers.response_id
    from {{ this }} as answers
    inner join {{ ref('int_projects_deduplicated') }} as projects on answers.project_id = projects.project_id
    where answers.customer_id is distinct from projects.customer_id
),
{% endif %}

responses as (
    {{ latest_per_key(ref('stg_quality__survey_responses'), ['survey_id', 'item'], where=touched_surveys) }}
),

callbacks as (
    {{ latest_per_key(ref('stg_quality__incident_callbacks'), ['callback_id'], where=touched_callbacks) }}
),

answers as (
    select
        'survey' as answer_source,
        survey_id as response_id,
        level,
        item,
        customer_id,
        project_id,
        ticket_id,
        responded_date,
        score,
        scale,
        comment,
        batch_id,
        source_row
    from responses
    union all
    select
        'callback_register',
        callback_id,
        'callback',
        '回访满意度',
        null,
        null,
        ticket_id,
        (called_at at time zone '{{ var("timezone") }}')::date,
        rating,
        'rating',
        comment,
        batch_id,
        source_row
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
        answers.source_row,
        (select batch_id from inputs_through) as measured_through_batch
    from answers
    left join {{ ref('int_tickets_latest') }} as tickets on answers.ticket_id = tickets.ticket_id
    left join {{ ref('int_projects_deduplicated') }} as projects
        on coalesce(answers.project_id, tickets.project_id) = projects.project_id
)

select * from final
