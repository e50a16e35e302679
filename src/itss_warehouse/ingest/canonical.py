"""The canonical entities and their fields (SPEC §2): what a source mapping may produce.

Raw tables get every field of their entity, so staging can rely on the columns existing
whichever sources feed them; a mapping naming a field not listed here is an error
(a typo such as ``opend_at`` would otherwise become a silently empty column).
"""

from __future__ import annotations

ENTITIES: dict[str, tuple[str, ...]] = {
    "departments": ("dept_id", "name", "in_management_system"),
    "customers": ("customer_id", "name", "industry", "contact_email"),
    "projects": (
        "project_id", "customer_id", "dept_id", "name", "kind", "manager", "start_date", "end_date",
        "service_mode", "sla_policy_id", "report_frequency", "plan_reviewed_at",
    ),
    "sla_policies": (
        "policy_id", "priority", "response_minutes", "onsite_minutes", "resolution_minutes", "calendar", "timezone",
        "valid_from", "valid_to",
    ),
    "tickets": (
        "ticket_id", "ticket_type", "project_id", "priority", "impact", "urgency", "category", "title", "opened_at",
        "responded_at", "onsite_arrived_at", "resolved_at", "closed_at", "status", "assignee", "assignment_group",
        "reassignment_count", "reopen_count", "is_major", "delivery_mode", "outcome", "related_problem_id",
        "updated_at", "update_sequence", "tool_sla_met", "closed_without_resolution",
    ),
    "ticket_status_changes": ("ticket_id", "status", "changed_at"),
    "ticket_assignment_changes": ("ticket_id", "assignment_group", "changed_at"),
    "incident_callbacks": ("callback_id", "ticket_id", "called_at", "rating", "comment"),
    "service_reports": ("project_id", "period", "report_type", "due_date", "delivered_at"),
    "acceptances": ("project_id", "kind", "applied_at", "decided_at", "result"),
    "survey_responses": (
        "survey_id", "level", "customer_id", "project_id", "ticket_id", "responded_at", "item", "score", "scale",
        "comment",
    ),
    "complaints": (
        "complaint_id", "customer_id", "project_id", "received_at", "is_major", "escalated_at", "closed_at",
        "description",
    ),
    "audits": ("audit_id", "year", "dept_id", "audited_at"),
    "audit_findings": ("finding_id", "audit_id", "severity", "opened_at", "closed_at"),
    "management_reviews": ("review_id", "held_at", "scope"),
    "process_assessments": ("assessment_id", "held_at", "scope"),
    "process_reviews": ("review_id", "held_at", "scope"),
    "customer_visits": ("visit_id", "customer_id", "visited_at", "scope"),
    "emergency_drills": ("drill_id", "held_at", "scope"),
    "improvement_register": (
        "item_id", "origin", "description", "raised_date", "cause_category", "cause_analysis", "corrective_action",
        "preventive_action", "owner", "planned_date", "status", "completed_date", "verified_by", "verified_date",
        "verification_note",
    ),
    "sla_exemptions": (
        "exemption_id", "ticket_id", "metric", "reason_category", "reason", "approved_by_role", "approved_at",
        "attachment_ref",
    ),
    "tool_sla_records": (
        "ticket_id", "metric", "stage", "started_at", "stopped_at", "breach_at", "has_breached",
        "business_elapsed_minutes", "paused_minutes", "remaining_minutes", "sla_clock",
    ),
}  # fmt: skip

# Fields a source's setting fills in on every row it loads (sources.py), never a column: the entity's setting.
SOURCE_SETTINGS = {"closed_without_resolution": "tickets", "sla_clock": "tool_sla_records"}

# The canonical codes, written once: the GX suites check raw values against them, the reports
# lay their tables out by them, and a test holds dbt's check constraints and accepted values to
# them (tests/ingest/test_vocabulary.py). docs/sources.md lists them per field.
TICKET_TYPES = ("incident", "service_request", "problem", "change", "release", "leftover_issue")
PRIORITIES = ("P1", "P2", "P3", "P4")
TICKET_STATUSES = ("new", "in_progress", "on_hold", "pending_customer", "resolved", "closed", "reopened")
DELIVERY_MODES = ("onsite", "remote")
CLOSED_WITHOUT_RESOLUTION = ("closed_at", "unmeasured")  # how the SLA judges a ticket closed unresolved
BOOLEANS = ("true", "false")
PROJECT_KINDS = ("new", "renewal")
SERVICE_MODES = ("resident", "remote_onsite")
REPORT_FREQUENCIES = ("monthly", "quarterly")
ACCEPTANCE_KINDS = ("internal", "customer_initial", "customer_final")
ACCEPTANCE_RESULTS = ("passed", "failed")
SURVEY_LEVELS = ("callback", "project", "annual")
FINDING_SEVERITIES = ("minor", "major")
# Satisfaction answers: a rating, or a number on one of the numeric scales (lowest and
# highest score); a survey row without a scale is on DEFAULT_SCALE.
RATINGS = ("satisfied", "partly_satisfied", "dissatisfied")
RATING_SCALE = "rating"
NUMERIC_SCALES = {"0-100": (0, 100), "1-5": (1, 5), "1-10": (1, 10)}
DEFAULT_SCALE = "0-100"
# The improvement register (itss improvements export, read back as a source): where an item
# came from (the warehouse's generated kinds, or raised by hand) and its status, in the order
# an item moves through them; verified and not_effective are both the verifier's verdict.
GENERATED_IMPROVEMENT_ORIGINS = ("kpi_missed", "sla_review", "major_complaint")
HAND_RAISED_IMPROVEMENT_ORIGINS = ("audit", "management_review", "customer_visit", "other")
IMPROVEMENT_STATUSES = ("open", "in_progress", "done", "verified", "not_effective")
IMPROVEMENT_STATUS_RANKS = {"open": 0, "in_progress": 1, "done": 2, "verified": 3, "not_effective": 3}
SLA_METRICS = ("response", "onsite", "resolution")
# SLA exemptions (SLA 豁免登记表): the metric a breach is exempted on, or all of the ticket's.
SLA_EXEMPTION_METRICS = (*SLA_METRICS, "all")
# The ticket tool's own SLA records (ServiceNow task_sla): the stage of a record, and whose
# clock judges a metric the tool has a record of (DECISIONS.md, "The tool's SLA records").
TOOL_SLA_STAGES = ("in_progress", "paused", "completed", "cancelled")
SLA_CLOCKS = ("ours", "tool")
