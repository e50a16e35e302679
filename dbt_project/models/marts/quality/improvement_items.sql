{#
  The improvement register (SPEC §3, [001 §6.3(4), §9]): one row per KPI missed in its
  tracking period (the first period its catalogue row lists: month for month-tracked
  KPIs, year for annual ones), and one per project month whose SLA attainment is below
  var('sla_review_threshold') and one per major complaint, flagged for an ad-hoc review
  [004 §6.4.3]. Each has an
  owner (the project manager's pseudonym, the department, or var('organisation_owner')) and a due
  date var('improvement_due_days') days after the period ends.

  The quality department fills the items in through the improvement register (`itss
  improvements export`, read back as source improvement_register): each item carries its
  latest entry (int_improvement_register_latest), and items raised there by hand (audits,
  management reviews, customer visits) join the generated ones. state and days_open are
  judged on the as-of day (macro as_of_date), so a back-fill reproduces that day's answer.
  It reads the scorecard of every KPI but the loop's own (int_kpi_scorecard_except_loop):
  IMPROVEMENT_ON_TIME and IMPROVEMENT_EFFECTIVE are computed from these items, so a miss
  of theirs opens no item here (the quality department raises one by hand if it wants).
#}
with scorecard as (
    select
        scorecard.*,
        (scorecard.period_start + {{ period_interval('scorecard.period_type') }})::date as period_end
    from {{ ref('int_kpi_scorecard_except_loop') }} as scorecard
),

missed as (
    select
        'kpi_missed' as kind,
        scorecard.*,
        null as complaint_id
    from scorecard
    inner join {{ ref('kpi_catalogue') }} as catalogue
        on scorecard.kpi_code = catalogue.kpi_code
        and scorecard.period_type = split_part(catalogue.periods, '|', 1)
    where scorecard.status = 'missed'
),

sla_reviews as (
    select
        'sla_review' as kind,
        *,
        null as complaint_id
    from scorecard
    where kpi_code = 'SLA_ATTAINMENT' and grain = 'project' and period_type = 'month'
        and value < {{ var('sla_review_threshold') }}
),

major_complaints as (
    select
        'major_complaint' as kind,
        'COMPLAINT_CLOSURE' as kpi_code,
        case when project_id is null then 'organisation' else 'project' end as grain,
        coalesce(project_id, '{{ var("organisation_id") }}') as grain_id,
        'month' as period_type,
        received_month as period_start,
        (received_month + interval '1 month')::date as period_end,
        null::numeric as value,
        null::numeric as target,
        null::numeric as gap,
        complaint_id
    from {{ ref('fct_complaints') }}
    where is_major
),

items as (
    {% for relation in ['missed', 'sla_reviews', 'major_complaints'] %}
    select
        kind,
        kpi_code,
        grain,
        grain_id,
        period_type,
        period_start,
        period_end,
        value,
        target,
        gap,
        complaint_id
    from {{ relation }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

generated as (
    select
        md5(concat_ws(
            '|', items.kind, items.kpi_code, items.grain, items.grain_id, items.period_type,
            items.period_start, items.complaint_id
        )) as item_id,
        items.kind,
        items.complaint_id,
        items.kpi_code,
        items.grain,
        items.grain_id,
        items.period_type,
        items.period_start,
        items.value,
        items.target,
        items.gap,
        case items.grain
            when 'project' then projects.project_manager_key
            when 'department' then departments.department_name
            else '{{ var("organisation_owner") }}'
        end as owner,
        items.period_end + {{ var('improvement_due_days') }} as due_date,
        items.period_end as raised_date
    from items
    left join {{ ref('dim_projects') }} as projects
        on items.grain = 'project' and items.grain_id = projects.project_id
    left join {{ ref('int_departments_deduplicated') }} as departments
        on items.grain = 'department' and items.grain_id = departments.dept_id
),

register as (
    select * from {{ ref('int_improvement_register_latest') }}
),

-- Raised by hand: the organisation's, dated by the day raised; an entry naming a generated
-- item is that item's, whatever its origin says.
hand_raised as (
    select
        register.item_id,
        register.origin as kind,
        null as complaint_id,
        null as kpi_code,
        'organisation' as grain,
        '{{ var("organisation_id") }}' as grain_id,
        'month' as period_type,
        date_trunc('month', register.raised_date)::date as period_start,
        null::numeric as value,
        null::numeric as target,
        null::numeric as gap,
        '{{ var("organisation_owner") }}' as owner,
        coalesce(register.planned_date, register.raised_date + {{ var('improvement_due_days') }}) as due_date,
        register.raised_date
    from register
    where register.origin in ('audit', 'management_review', 'customer_visit', 'other')
        and register.item_id not in (select generated.item_id from generated)
),

all_items as (
    select * from generated
    union all
    select * from hand_raised
),

-- A KPI missed again opens a new item linked to the one before (recurring), never the same item twice.
linked as (
    select
        all_items.*,
        case
            when all_items.kind in ('kpi_missed', 'sla_review')
                then lag(all_items.item_id) over (
                        partition by
                            all_items.kind,
                            all_items.kpi_code,
                            all_items.grain,
                            all_items.grain_id,
                            all_items.period_type
                        order by all_items.period_start
                    )
        end as previous_item_id
    from all_items
),

-- The effect check a verifier relies on: has the KPI that opened the item been met in a later period?
effects as (
    select
        all_items.item_id,
        bool_or(later.status = 'met') as kpi_met_since
    from all_items
    inner join {{ ref('int_kpi_scorecard_except_loop') }} as later
        on all_items.kpi_code = later.kpi_code
        and all_items.grain = later.grain
        and all_items.grain_id = later.grain_id
        and all_items.period_type = later.period_type
        and all_items.period_start < later.period_start
    where all_items.kind in ('kpi_missed', 'sla_review') and later.status in ('met', 'missed')
    group by all_items.item_id
),

final as (
    select
        all_items.item_id,
        all_items.kind,
        all_items.complaint_id,
        all_items.kpi_code,
        all_items.grain,
        all_items.grain_id,
        all_items.period_type,
        all_items.period_start,
        all_items.value,
        all_items.target,
        all_items.gap,
        all_items.owner,
        all_items.due_date,
        register.cause_analysis,
        register.corrective_action,
        all_items.raised_date,
        register.cause_category,
        register.preventive_action,
        -- The owner the register assigns, as a pseudonym (the name: restricted.improvement_register_people).
        {{ pseudonym('register.owner') }} as assigned_owner_key,
        register.planned_date,
        coalesce(register.status, 'open') as status,
        register.completed_date,
        {{ pseudonym('register.verified_by') }} as verified_by_key,
        register.verified_date,
        register.verification_note,
        case
            when register.status = 'verified' then 'verified_effective'
            when register.status = 'not_effective' then 'not_effective'
            when register.status = 'done' then 'done'
            when coalesce(register.planned_date, all_items.due_date) < {{ as_of_date() }} then 'overdue'
            when register.status = 'in_progress' then 'in_progress'
            else 'open'
        end as state,
        greatest(coalesce(register.completed_date, {{ as_of_date() }}) - all_items.raised_date, 0) as days_open,
        all_items.previous_item_id,
        all_items.previous_item_id is not null as is_recurring,
        effects.kpi_met_since
    from linked as all_items
    left join register on all_items.item_id = register.item_id
    left join effects on all_items.item_id = effects.item_id
)

select * from final
