{#
  The exemption register as accepted: one row per exemption (its latest entry) with its
  ticket's project and month and what it did. An exemption accepted at mapping time for a
  ticket not yet measured is applied to breached metrics only (DECISIONS.md "SLA
  exemptions"), so each row says how it came out: applied (the metrics it exempts),
  not_breached (the ticket's metric met or still open: nothing to exempt), superseded
  (another exemption of the same metric applies) or ticket_not_measured (no SLA row for
  the ticket: not an incident or service request, or not loaded). Nothing is silent.
#}
with exemptions as (
    select * from {{ ref('int_sla_exemptions_latest') }}
),

measured as (
    select
        sla.ticket_id,
        sla.metric,
        sla.project_id,
        sla.opened_month,
        sla.status,
        sla.exemption_id
    from {{ ref('fct_ticket_sla') }} as sla
    where sla.ticket_id in (select ticket_id from exemptions)
),

effects as (
    select
        exemptions.exemption_id,
        max(measured.project_id) as project_id,
        max(measured.opened_month) as opened_month,
        string_agg(measured.metric, ',' order by measured.metric)
        filter (where measured.exemption_id = exemptions.exemption_id) as applied_metrics,
        count(*) filter (where measured.status = 'breached') as breached_metrics
    from exemptions
    left join measured
        on exemptions.ticket_id = measured.ticket_id
        and exemptions.metric in (measured.metric, 'all')
    group by exemptions.exemption_id
),

final as (
    select
        exemptions.exemption_id,
        exemptions.ticket_id,
        exemptions.metric,
        exemptions.reason_category,
        exemptions.approved_by_role,
        exemptions.approved_at,
        exemptions.attachment_ref,
        coalesce(effects.project_id, tickets.project_id) as project_id,
        coalesce(effects.opened_month, tickets.opened_month) as opened_month,
        case
            when effects.applied_metrics is not null then 'applied'
            when effects.breached_metrics > 0 then 'superseded'
            when exemptions.ticket_id in (select measured.ticket_id from measured) then 'not_breached'
            else 'ticket_not_measured'
        end as effect,
        effects.applied_metrics
    from exemptions
    inner join effects on exemptions.exemption_id = effects.exemption_id
    left join {{ ref('fct_tickets') }} as tickets on exemptions.ticket_id = tickets.ticket_id
)

select * from final
