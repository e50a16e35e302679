"""Hand-written raw and mart rows of a small organisation, for the report and mail tests."""

FIXTURE = """
create schema raw;
create schema marts;
create schema restricted;
create table restricted.project_managers (project_id text, project_manager text, project_manager_key text);
create table restricted.complaint_texts (complaint_id text, description text);
create table restricted.satisfaction_comments (answer_source text, response_id text, item text, comment text);
create table restricted.quarantined_records (
    entity text, batch_id bigint, source_row integer, source_file text, problems jsonb, project_id text,
    event_date date, day date not null
);
insert into restricted.project_managers values
    ('PRJ-A', '李四', '9c0ffee5d00d1e57'), ('PRJ-B', '李四', '9c0ffee5d00d1e57');
create table raw.load_batches (
    batch_id bigint primary key, source_name text, loaded_at timestamptz not null, entity text default 'tickets',
    file_name text default 'tickets_2026-10.xlsx', mapped_at timestamptz default now(),
    validated_at timestamptz default now(), validation_failures text[] default '{}', withdrawn_at timestamptz
);
create table raw.rebuild_requests (request_id bigserial primary key, reason text, built_at timestamptz);
create table restricted.withdrawn_batches (
    batch_id bigint, file_name text, withdrawn_at timestamptz, withdrawn_by text, withdrawal_reason text,
    project_id text, month_start date, records integer
);
create table raw.validation_runs (
    run_id bigserial primary key, scope text, validated_at timestamptz not null default now(), checked integer,
    quarantined_rows integer, warnings text[] not null default '{}', failures text[] not null default '{}'
);
create table raw.quarantined_rows (
    batch_id bigint, entity text, source_file text, source_row integer,
    check_name text, column_name text, raw_value text, reason text
);
create table marts.dim_projects (
    project_id text, project_name text, customer_id text, customer_name text, dept_id text,
    department_name text, kind text, service_mode text, sla_policy_id text, report_frequency text,
    start_date date, end_date date
);
create table marts.kpi_scorecard (
    kpi_code text, grain text, grain_id text, period_type text, period_start date,
    numerator numeric, denominator numeric, value numeric, target numeric, is_met boolean, status text
);
create table marts.sla_attainment_monthly (
    grain text, grain_id text, month date, priority text, metric text, met integer, judged integer, rate numeric,
    met_before_exemptions integer, judged_before_exemptions integer, rate_before_exemptions numeric,
    exempted integer default 0
);
create table marts.kpi_catalogue (kpi_code text, name_zh text, name_en text, unit text, comparator text);
create table marts.fct_tickets (
    ticket_id text, ticket_type text, project_id text, priority text, opened_at timestamptz, opened_month date,
    resolved_at timestamptz, status text, sla_status text,
    is_major boolean default false, delivery_mode text default 'remote', outcome text, category text,
    last_batch_id bigint default 1
);
create table marts.sla_attainment_year_to_date (
    project_id text, month date, numerator numeric, denominator numeric, value numeric, target numeric, is_met boolean
);
create table marts.ticket_backlog_daily (project_id text, day date, open_tickets integer, open_overdue_tickets integer);
create table marts.fct_satisfaction_answers (
    project_id text, level text, responded_date date, score_100 numeric, is_low_score boolean, customer_id text,
    responded_year date
);
-- Read by the annual report; empty here (its tests add the rows they need).
create table marts.fct_audit_findings (
    audit_id text, audited_on date, department_name text, finding_id text, severity text, is_closed boolean,
    programme_year integer, raised_on date, closed_on date
);
create table marts.satisfaction_by_item (
    level text, grain text, item text, answers integer, average_score numeric, low_scores integer, year_start date
);
create table marts.fct_complaints (complaint_id text, received_month date, is_major boolean, is_closed boolean,
    is_major_not_escalated boolean);
-- The columns of dbt_project/models/marts/quality/improvement_items.sql, in its order.
create table marts.improvement_items (
    item_id text, kind text, complaint_id text, kpi_code text, grain text, grain_id text, period_type text,
    period_start date, value numeric, target numeric, gap numeric, owner text, due_date date,
    cause_analysis text, corrective_action text, raised_date date, cause_category text, preventive_action text,
    assigned_owner_key text, planned_date date, status text not null default 'open', completed_date date,
    verified_by_key text, verified_date date, verification_note text, state text not null default 'open',
    days_open integer, previous_item_id text, is_recurring boolean not null default false, kpi_met_since boolean
);
create table marts.improvement_cause_categories (category_code text, name_zh text, name_en text, sort_order integer);
insert into marts.improvement_cause_categories values
    ('people', '人员', 'People', 1), ('process', '过程', 'Process', 2), ('tools_technology', '工具/技术', 'Tools/technology', 3),
    ('resources', '资源', 'Resources', 4), ('supplier', '供应商', 'Supplier', 5), ('customer', '客户', 'Customer', 6),
    ('other', '其他', 'Other', 7);
create table restricted.improvement_register_people (
    item_id text, owner text, assigned_owner_key text, verified_by text, description text, verified_by_key text
);
create table marts.fct_ticket_sla (
    project_id text, opened_month date, uses_fallback_calendar boolean, done_at timestamptz, as_of timestamptz
);
create table marts.sla_breaches (
    ticket_id text, metric text, project_id text, opened_month date, priority_applied text,
    opened_at timestamptz, due_at timestamptz, done_at timestamptz, target_minutes integer,
    net_minutes numeric, breach_minutes numeric, is_exempted boolean default false, exemption_id text,
    exemption_reason_category text, exemption_counting text
);
create table marts.sla_breach_attribution (
    ticket_id text, project_id text, opened_month date, is_exempted boolean, assignment_group text, holds bigint,
    held_minutes numeric, is_holder_at_due boolean, share numeric
);
create table marts.sla_exemptions (
    exemption_id text, ticket_id text, approved_by_role text, approved_at date, attachment_ref text
);
create table marts.sla_exemption_reason_categories (category_code text, name_zh text, name_en text);
create table restricted.sla_exemption_reasons (exemption_id text, ticket_id text, reason text);

insert into raw.validation_runs (scope, validated_at, checked, quarantined_rows) values
    ('raw', '2026-11-01 02:10+08', 2, 2),
    ('marts', '2026-11-01 02:30+08', 2, 0);
insert into raw.load_batches values
    (1, 'itsm', '2026-10-31 23:00+08'),
    (2, 'pmo', '2026-11-01 02:00+08');
insert into raw.quarantined_rows values
    (2, 'tickets', 'tickets_2026-10.xlsx', 17, 'not_null', 'priority', null, 'priority is empty'),
    (2, 'tickets', 'tickets_2026-10.xlsx', 42, 'timestamp', 'opened_at', '2026-13-01', 'not a timestamp'),
    (2, 'tickets', 'tickets_2026-10.xlsx', 42, 'in_order', 'opened_at', '2026-13-01', 'opened before resolved');
-- As restricted.quarantined_records places them: two of PRJ-A's October records (the second with
-- two problems, its day unreadable so the load day), one of June, one without a project.
insert into restricted.quarantined_records values
    ('tickets', 2, 17, 'tickets_2026-10.xlsx', '[{"column": "priority", "value": null, "reason": "priority is empty"}]',
     'PRJ-A', '2026-10-12', '2026-10-12'),
    ('tickets', 2, 42, 'tickets_2026-10.xlsx', '[{"column": "opened_at", "value": "2026-13-01", "reason": "not a timestamp"},
      {"column": "opened_at", "value": "2026-13-01", "reason": "opened before resolved"}]', 'PRJ-A', null, '2026-10-31'),
    ('tickets', 1, 9, 'tickets_2026-06.xlsx', '[{"column": "category", "value": "=1+1", "reason": "value not in the mapping''s value map"}]',
     'PRJ-A', '2026-06-03', '2026-06-03'),
    ('tickets', 2, 50, 'tickets_2026-10.xlsx', '[{"column": "project_id", "value": "PRJ-X", "reason": "unknown project"}]',
     'PRJ-X', '2026-10-20', '2026-10-20');

insert into marts.dim_projects values
    ('PRJ-A', '华东数据中心运维', 'C1', '华东银行', 'D1', '运维一部', 'om', 'onsite', 'POL1', 'monthly',
     '2026-01-01', null),
    ('PRJ-B', 'Desk <Support>', 'C2', 'Acme & Co', 'D2', '运维二部', 'om', 'remote', 'POL1', 'monthly',
     '2026-10-15', null),
    ('PRJ-OLD', '已结束项目', 'C1', '华东银行', 'D1', '运维一部', 'om', 'onsite', 'POL1', 'monthly',
     '2025-01-01', '2026-09-30'),
    ('PRJ-Q', '季度报告项目', 'C1', '华东银行', 'D1', '运维一部', 'om', 'onsite', 'POL1', 'quarterly',
     '2026-01-01', null);

insert into marts.kpi_scorecard values
    ('SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-10-01', 3, 4, 0.750000, 0.950000, false, 'missed'),
    ('SLA_ATTAINMENT', 'project', 'PRJ-A', 'year', '2026-01-01', 19, 20, 0.950000, 0.950000, true, 'met'),
    ('SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-09-01', 5, 5, 1.000000, 0.950000, true, 'met'),
    ('SLA_ATTAINMENT', 'department', 'D1', 'month', '2026-10-01', 0.5, 1, 0.500000, 0.950000, false, 'missed'),
    ('CHANGE_SUCCESS', 'project', 'PRJ-A', 'month', '2026-10-01', 0, 0, null, null, null, 'not_applicable');
insert into marts.sla_attainment_monthly values
    ('project', 'PRJ-A', '2026-10-01', 'all', 'all', 3, 4, 0.750000),
    ('project', 'PRJ-A', '2026-10-01', 'P1', 'all', 2, 3, 0.666667),
    ('project', 'PRJ-A', '2026-10-01', 'P1', 'response', 1, 3, 0.333333),
    ('project', 'PRJ-A', '2026-10-01', 'P1', 'resolution', 2, 3, 0.666667),
    ('project', 'PRJ-A', '2026-10-01', 'P3', 'all', 0, 1, 0.000000),
    ('project', 'PRJ-A', '2026-09-01', 'P1', 'all', 1, 1, 1.000000);
insert into marts.kpi_catalogue values
    ('SLA_ATTAINMENT', 'SLA达成率', 'SLA attainment', 'ratio', '>='),
    ('CHANGE_SUCCESS', '变更成功率', 'Change success', 'ratio', '>=');

insert into marts.fct_tickets values
    ('INC-0901', 'incident', 'PRJ-A', 'P1', '2026-09-30 15:00+00', '2026-09-01', '2026-09-30 18:00+00', 'closed', 'breached'),
    ('INC-1001', 'incident', 'PRJ-A', 'P1', '2026-10-05 01:30+00', '2026-10-01', null, 'in_progress', 'breached'),
    ('INC-1002', 'incident', 'PRJ-A', 'P2', '2026-10-06 02:00+00', '2026-10-01', '2026-10-06 04:00+00', 'closed', 'met'),
    ('INC-1003', 'incident', 'PRJ-A', 'P1', '2026-10-07 03:00+00', '2026-10-01', '2026-10-07 05:00+00', 'closed', 'met'),
    ('SR-1001', 'service_request', 'PRJ-A', 'P3', '2026-10-08 04:00+00', '2026-10-01', '2026-10-08 09:00+00', 'resolved', 'met'),
    ('CHG-1001', 'change', 'PRJ-A', 'P4', '2026-10-30 20:00+00', '2026-10-01', null, 'new', 'not_measured'),
    ('SR-2001', 'service_request', 'PRJ-B', 'P3', '2026-10-20 04:00+00', '2026-10-01', null, 'new', 'in_progress');
update marts.fct_tickets set is_major = true, delivery_mode = 'onsite', category = '网络' where ticket_id = 'INC-1001';
update marts.fct_tickets set outcome = 'success' where ticket_id = 'CHG-1001';
update marts.fct_tickets set last_batch_id = 2 where ticket_id = 'INC-1003';
insert into marts.fct_tickets (ticket_id, ticket_type, project_id, priority, opened_at, opened_month, status) values
    ('LI-0901', 'leftover_issue', 'PRJ-A', 'P3', '2026-09-10 02:00+00', '2026-09-01', 'in_progress'),
    ('LI-1101', 'leftover_issue', 'PRJ-A', 'P3', '2026-11-02 02:00+00', '2026-11-01', 'new');
-- Leftover issues resolved within October (not open at its end) and after it (open at its end).
insert into marts.fct_tickets (ticket_id, ticket_type, project_id, priority, opened_at, opened_month, resolved_at, status) values
    ('LI-0902', 'leftover_issue', 'PRJ-A', 'P3', '2026-09-12 02:00+00', '2026-09-01', '2026-10-10 02:00+00', 'closed'),
    ('LI-0903', 'leftover_issue', 'PRJ-A', 'P3', '2026-09-15 02:00+00', '2026-09-01', '2026-11-10 02:00+00', 'closed');
insert into marts.kpi_scorecard values
    ('CALLBACK_COVERAGE', 'project', 'PRJ-A', 'month', '2026-10-01', 2, 3, 0.666667, 1.0, false, 'missed');
insert into marts.fct_satisfaction_answers values
    ('PRJ-A', 'callback', '2026-10-10', 100, false),
    ('PRJ-A', 'project', '2026-10-20', 60, true),
    ('PRJ-A', 'project', '2026-10-20', 80, false),
    ('PRJ-A', 'annual', '2025-12-10', 90, false);
-- October's miss repeats August's (verified effective); its owner is still the project manager's.
insert into marts.improvement_items (item_id, kind, kpi_code, grain, grain_id, period_type, period_start, value,
    target, gap, owner, due_date, raised_date, state, previous_item_id, is_recurring, status, cause_category,
    corrective_action, completed_date, verified_date, verification_note, kpi_met_since) values
    ('i-a-10', 'kpi_missed', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-10-01', 0.75, 0.95, -0.2,
     '9c0ffee5d00d1e57', '2026-11-30', '2026-11-01', 'open', 'i-a-08', true, 'open', null, null, null, null, null, null),
    ('i-a-08', 'kpi_missed', 'SLA_ATTAINMENT', 'project', 'PRJ-A', 'month', '2026-08-01', 0.8, 0.95, -0.15,
     '9c0ffee5d00d1e57', '2026-09-30', '2026-09-01', 'verified_effective', null, false, 'verified', 'people',
     '加强值班', '2026-09-20', '2026-10-20', '九月达标', true);
insert into marts.fct_ticket_sla values
    ('PRJ-A', '2026-10-01', false, '2026-10-05 02:15:30+00', '2026-10-31 16:00+00'),
    ('PRJ-A', '2026-10-01', false, null, '2026-10-31 16:00+00'),
    ('PRJ-B', '2026-10-01', true, '2026-10-20 05:00+00', '2026-10-31 16:00+00');
insert into marts.sla_attainment_year_to_date values
    ('PRJ-A', '2026-09-01', 15, 15, 1.000000, 0.950000, true),
    ('PRJ-A', '2026-10-01', 18, 19, 0.947368, 0.950000, false);
insert into marts.sla_breaches values
    ('INC-0901', 'response', 'PRJ-A', '2026-09-01', 'P1', '2026-09-30 15:00+00', '2026-09-30 15:30+00',
     '2026-09-30 16:30+00', 30, 90, 60),
    ('INC-1001', 'resolution', 'PRJ-A', '2026-10-01', 'P1', '2026-10-05 01:30+00', '2026-10-05 05:30+00',
     null, 240, 300, 60),
    ('INC-1001', 'response', 'PRJ-A', '2026-10-01', 'P1', '2026-10-05 01:30+00', '2026-10-05 02:00+00',
     '2026-10-05 02:15:30+00', 30, 45.5, 15.5);
-- INC-1003's resolution was late while the customer's machine room was closed: exempted, counted as met.
insert into marts.sla_breaches values
    ('INC-1003', 'resolution', 'PRJ-A', '2026-10-01', 'P1', '2026-10-07 03:00+00', '2026-10-07 04:00+00',
     '2026-10-07 05:00+00', 60, 120, 60, true, 'EX-1', 'customer_site_closed', 'counted_met');
-- INC-1001's resolution breach: the service desk then a vendor whose name is hostile HTML; INC-1003's is
-- exempted (left out), INC-0901's of September; INC-9001 of a project without a service report.
insert into marts.sla_breach_attribution values
    ('INC-1001', 'PRJ-A', '2026-10-01', false, 'Service Desk', 1, 75, false, 0.25),
    ('INC-1001', 'PRJ-A', '2026-10-01', false, '<b>Vendor</b>', 1, 225, true, 0.75),
    ('INC-1003', 'PRJ-A', '2026-10-01', true, 'Service Desk', 1, 60, true, 1),
    ('INC-0901', 'PRJ-A', '2026-09-01', false, 'Service Desk', 1, 60, true, 1),
    ('INC-9001', 'PRJ-Z', '2026-10-01', false, 'Network', 2, 120, true, 1);
insert into marts.sla_exemptions values ('EX-1', 'INC-1003', '客户代表', '2026-10-20', 'ATT-<7>');
insert into marts.sla_exemption_reason_categories values
    ('customer_site_closed', '客户现场关闭', 'Customer site closed');
insert into restricted.sla_exemption_reasons values ('EX-1', 'INC-1003', '客户机房<关闭>，=1+1 无法进场');
-- Before the exemption, INC-1003 was breached: 2 of 4 instead of 3 of 4.
update marts.sla_attainment_monthly
    set met_before_exemptions = 2, judged_before_exemptions = 4, rate_before_exemptions = 0.5
    where grain_id = 'PRJ-A' and month = '2026-10-01' and priority = 'all' and metric = 'all';
"""
