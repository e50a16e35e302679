{#
  The internal audit programme [001 §7.3.1, §8(4)]: one row per audit, and one per
  finding it raised, with the audited department. An audit without findings has one row
  whose finding columns are null, so audits held and findings raised both come from here.
#}
with records as (
    select * from {{ ref('int_quality_records_deduplicated') }}
),

audits as (
    select * from records
    where record_type = 'audit'
),

findings as (
    select * from records
    where record_type = 'audit_finding'
),

departments as (
    select * from {{ ref('int_departments_deduplicated') }}
),

final as (
    select
        audits.record_id as audit_id,
        audits.held_on as audited_on,
        coalesce(audits.audit_year, extract(year from audits.held_on)::integer) as programme_year,
        audits.dept_id,
        departments.department_name,
        findings.record_id as finding_id,
        findings.severity,
        findings.held_on as raised_on,
        findings.closed_on,
        findings.record_id is not null and findings.closed_on is not null as is_closed
    from audits
    left join findings on audits.record_id = findings.audit_id
    left join departments on audits.dept_id = departments.dept_id
)

select * from final
