"""The Great Expectations suites, defined once here and written to ``expectations/gx``.

Run ``python expectations/build_suites.py`` after changing a suite (it needs a warehouse
whose raw tables and marts exist, e.g. after ``make run``), then commit the regenerated
JSON; ``tests/validate/test_suite_definitions.py`` fails when the committed suites and
these definitions differ. The codes checked are the canonical vocabulary
(``ingest.canonical``).

Conventions: ``meta.quarantine`` marks row-level checks whose failing rows go to
``raw.quarantined_rows``; ``severity`` critical stops the run when a check fails beyond
its ``mostly`` tolerance, warning is reported. Suites are named after the table they guard.
"""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

logging.getLogger("great_expectations").setLevel(logging.WARNING)

import great_expectations as gx  # noqa: E402
import great_expectations.expectations as gxe  # noqa: E402
from great_expectations.core.partitioners import PartitionerColumnValue  # noqa: E402
from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: E402
from great_expectations.expectations.metadata_types import FailureSeverity  # noqa: E402
from great_expectations.expectations.row_conditions import Column  # noqa: E402

from itss_warehouse.ingest.canonical import (  # noqa: E402
    ACCEPTANCE_KINDS,
    ACCEPTANCE_RESULTS,
    BOOLEANS,
    DEFAULT_SCALE,
    DELIVERY_MODES,
    FINDING_SEVERITIES,
    GENERATED_IMPROVEMENT_ORIGINS,
    HAND_RAISED_IMPROVEMENT_ORIGINS,
    IMPROVEMENT_STATUSES,
    NUMERIC_SCALES,
    PRIORITIES,
    PROJECT_KINDS,
    RATING_SCALE,
    RATINGS,
    REPORT_FREQUENCIES,
    SERVICE_MODES,
    SLA_CLOCKS,
    SLA_EXEMPTION_METRICS,
    SLA_METRICS,
    SURVEY_LEVELS,
    TICKET_STATUSES,
    TICKET_TYPES,
    TOOL_SLA_STAGES,
)

# Substituted by GX from the runtime environment itss_warehouse.validate.runner passes.
RESULTS_DIR = "${ITSS_GX_RESULTS_DIR}"
TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}$"
DATE = r"^\d{4}-\d{2}-\d{2}$"
WHOLE_NUMBER = r"^\d{1,9}$"
QUARANTINE = {"quarantine": True}
CRITICAL, WARNING = FailureSeverity.CRITICAL, FailureSeverity.WARNING
ROW_IDENTITY = ["_source_file", "_source_row"]
# Rates bounded by 0 and 1 (MTTR_TREND, a relative change, is not).
RATIO_KPIS = [
    "SLA_ATTAINMENT", "SLA_ATTAINMENT_TICKET_WEIGHTED", "RESPONSE_ON_TIME", "ONSITE_ON_TIME", "RESOLUTION_ON_TIME",
    "PROBLEM_CLOSURE", "CHANGE_SUCCESS", "RELEASE_SUCCESS", "REOPEN_RATE", "FIRST_TIME_FIX", "COMPLAINT_CLOSURE",
    "CALLBACK_COVERAGE", "REPORT_DELIVERY", "ACCEPTANCE_PASS", "INTERNAL_ACCEPTANCE_ON_TIME", "SURVEY_COVERAGE",
    "AUDIT_COVERAGE", "FINDING_CLOSURE", "CUSTOMER_VISIT", "IMPROVEMENT_ON_TIME", "IMPROVEMENT_EFFECTIVE",
]  # fmt: skip


def required(column: str, mostly: float = 1.0) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToNotBeNull(
        column=column, mostly=mostly, meta=QUARANTINE, severity=CRITICAL, description=f"{column} is present"
    )


def timestamp(column: str, mostly: float = 0.99) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToMatchRegex(
        column=column, regex=TIMESTAMP, mostly=mostly, meta=QUARANTINE, severity=CRITICAL,
        description=f"{column} is a timestamp",
    )  # fmt: skip


def date(column: str, mostly: float = 1.0) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToMatchRegex(
        column=column,
        regex=DATE,
        mostly=mostly,
        meta=QUARANTINE,
        severity=CRITICAL,
        description=f"{column} is a date",
    )


def whole_number(column: str, mostly: float = 1.0, what: str = "a whole number") -> gxe.Expectation:
    return gxe.ExpectColumnValuesToMatchRegex(
        column=column, regex=WHOLE_NUMBER, mostly=mostly, meta=QUARANTINE, severity=CRITICAL,
        description=f"{column} is {what}",
    )  # fmt: skip


def one_of(column: str, values: Sequence[str], mostly: float = 1.0) -> gxe.Expectation:
    return gxe.ExpectColumnValuesToBeInSet(
        column=column, value_set=list(values), mostly=mostly, meta=QUARANTINE, severity=CRITICAL,
        description=f"{column} is one of {', '.join(values)}",
    )  # fmt: skip


def not_before(later: str, earlier: str, mostly: float = 0.99) -> gxe.Expectation:
    # Timestamps are stored in one canonical ISO form, so text order is time order.
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A=later, column_B=earlier, or_equal=True, ignore_row_if="either_value_is_missing", mostly=mostly,
        meta=QUARANTINE, severity=CRITICAL, description=f"{later} is not before {earlier}",
    )  # fmt: skip


def unique_in_export(columns: list[str], severity: FailureSeverity = CRITICAL) -> gxe.Expectation:
    if len(columns) == 1:
        return gxe.ExpectColumnValuesToBeUnique(
            column=columns[0], severity=severity, description=f"{columns[0]} appears once per export"
        )
    return gxe.ExpectCompoundColumnsToBeUnique(
        column_list=columns, severity=severity, description=f"{' + '.join(columns)} appear once per export"
    )


def resolvable(column: str, table: str, key: str) -> gxe.Expectation:
    # Warning, not quarantine: registers (projects, tickets) often arrive after the facts.
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            # GX aliases {batch} itself in a query without a join, hence the extra select.
            f"select _source_file, _source_row, {column} from (select * from {{batch}}) as facts"
            f" where {column} is not null"
            f" and not exists (select 1 from raw.{table} as known where known.{key} = facts.{column})"
        ),
        meta={"column": column},
        severity=WARNING,
        description=f"{column} refers to a known {key}",
    )


def policy_versions_apart() -> gxe.Expectation:
    # Critical: which of two versions in force on one day judges a ticket would be a guess.
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select earlier._source_file, earlier._source_row, earlier.valid_to"
            " from (select * from {batch} as batch_rows) as earlier"
            " join (select * from {batch} as batch_rows) as later"
            " on later.policy_id = earlier.policy_id and later.priority is not distinct from earlier.priority"
            # Canonical dates are YYYY-MM-DD text, so text order is date order; no valid_from sorts first.
            " where coalesce(earlier.valid_from, '') < coalesce(later.valid_from, '')"
            " and later.valid_from <= earlier.valid_to"
        ),
        meta={"column": "valid_to"},
        severity=CRITICAL,
        description="a policy version's valid_to is before the valid_from of the next version of its priority",
    )


def volume_like_recent_batches() -> gxe.Expectation:
    return gxe.UnexpectedRowsExpectation(
        # GX leaves {batch} unaliased in a query with a join; PostgreSQL 15 requires the alias.
        unexpected_rows_query=(
            "select this_batch.batch_id, this_batch.row_count"
            " from (select max(_batch_id) as batch_id, count(*) as row_count from {batch} as batch_rows)"
            " as this_batch"
            " where this_batch.row_count < 0.5 * (select avg(recent.row_count) from ("
            " select earlier.row_count from raw.load_batches as earlier"
            " join raw.load_batches as current_batch on current_batch.source_name = earlier.source_name"
            " where current_batch.batch_id = this_batch.batch_id and earlier.batch_id < this_batch.batch_id"
            " order by earlier.batch_id desc limit 7) as recent)"
        ),
        severity=WARNING,
        description="the export has at least half the rows of the source's last seven exports on average",
    )


def score_in_scale() -> gxe.Expectation:
    ratings = ", ".join(f"'{rating}'" for rating in RATINGS)
    ranges = "".join(
        f" when '{scale}' then score::numeric between {lowest} and {highest}"
        for scale, (lowest, highest) in NUMERIC_SCALES.items()
    )
    return gxe.UnexpectedRowsExpectation(
        unexpected_rows_query=(
            "select _source_file, _source_row, score from {batch} where score is not null and not coalesce("
            f" case when coalesce(scale, '{DEFAULT_SCALE}') = '{RATING_SCALE}' then score in ({ratings})"
            f" when score ~ '^\\d+(\\.\\d+)?$' then case coalesce(scale, '{DEFAULT_SCALE}'){ranges} end end, false)"
        ),
        meta={**QUARANTINE, "column": "score"},
        severity=WARNING,
        description=f"score is within its scale: a number ({', '.join(NUMERIC_SCALES)}) or a {RATING_SCALE}"
        f" ({', '.join(RATINGS)})",
    )


RAW_SUITES: dict[str, list[gxe.Expectation]] = {
    "tickets": [
        required("ticket_id", 0.99), required("opened_at", 0.99),
        *(timestamp(c) for c in ("opened_at", "responded_at", "onsite_arrived_at", "resolved_at", "closed_at",
                                  "updated_at")),
        one_of("ticket_type", TICKET_TYPES, 0.99),
        one_of("priority", PRIORITIES, 0.95),
        one_of("status", TICKET_STATUSES, 0.99),
        one_of("is_major", BOOLEANS, 0.99),
        one_of("delivery_mode", DELIVERY_MODES, 0.99),
        whole_number("reassignment_count", 0.99), whole_number("reopen_count", 0.99),
        whole_number("update_sequence", 0.99),
        not_before("responded_at", "opened_at"), not_before("resolved_at", "opened_at"),
        not_before("closed_at", "opened_at"),
        unique_in_export(["ticket_id", "updated_at", "update_sequence"], severity=WARNING),
        resolvable("project_id", "projects", "project_id"),
        volume_like_recent_batches(),
    ],
    "ticket_status_changes": [
        required("ticket_id", 0.99), required("status", 0.99), required("changed_at", 0.99), timestamp("changed_at"),
        one_of("status", TICKET_STATUSES, 0.99), resolvable("ticket_id", "tickets", "ticket_id"),
    ],
    "ticket_assignment_changes": [
        required("ticket_id", 0.99), required("assignment_group", 0.99), required("changed_at", 0.99),
        timestamp("changed_at"), resolvable("ticket_id", "tickets", "ticket_id"),
    ],
    "projects": [
        required("project_id"), required("sla_policy_id"), date("start_date"), date("end_date"),
        date("plan_reviewed_at"), one_of("kind", PROJECT_KINDS),
        one_of("service_mode", SERVICE_MODES), one_of("report_frequency", REPORT_FREQUENCIES),
        not_before("end_date", "start_date", 1.0), unique_in_export(["project_id"]),
        resolvable("customer_id", "customers", "customer_id"), resolvable("dept_id", "departments", "dept_id"),
    ],
    "sla_policies": [
        required("policy_id"), one_of("priority", PRIORITIES),
        whole_number("response_minutes", what="a whole number of minutes"),
        whole_number("onsite_minutes", what="a whole number of minutes"),
        whole_number("resolution_minutes", what="a whole number of minutes"),
        # Any calendar id: dbt checks it names 7x24 or a calendar of seeds/sla_calendars.csv.
        required("calendar"), date("valid_from"), date("valid_to"), not_before("valid_to", "valid_from", 1.0),
        unique_in_export(["policy_id", "priority", "valid_from"]), policy_versions_apart(),
    ],
    "departments": [required("dept_id"), one_of("in_management_system", BOOLEANS),
                    unique_in_export(["dept_id"])],
    "customers": [required("customer_id"), unique_in_export(["customer_id"])],
    "incident_callbacks": [
        required("callback_id"), required("ticket_id", 0.99), required("called_at", 0.99), timestamp("called_at"),
        # An empty rating is no answer: quarantined here, or the marts' check on every answer's score fails.
        required("rating", 0.99), one_of("rating", RATINGS, 0.99),
        resolvable("ticket_id", "tickets", "ticket_id"),
    ],
    "service_reports": [
        required("project_id"), required("period"),
        gxe.ExpectColumnValuesToMatchRegex(column="period", regex=r"^\d{4}-\d{2}$", meta=QUARANTINE,
                                           severity=CRITICAL, description="period is YYYY-MM"),
        date("due_date"), timestamp("delivered_at", 1.0), resolvable("project_id", "projects", "project_id"),
    ],
    "acceptances": [
        required("project_id"), one_of("kind", ACCEPTANCE_KINDS),
        date("applied_at"), date("decided_at"), one_of("result", ACCEPTANCE_RESULTS),
        not_before("decided_at", "applied_at", 1.0), resolvable("project_id", "projects", "project_id"),
    ],
    "survey_responses": [
        required("survey_id"), required("item"), required("score"), one_of("level", SURVEY_LEVELS),
        date("responded_at"), score_in_scale(), resolvable("customer_id", "customers", "customer_id"),
    ],
    "complaints": [
        required("complaint_id"), timestamp("received_at", 1.0), timestamp("escalated_at", 1.0),
        timestamp("closed_at", 1.0), one_of("is_major", BOOLEANS),
        not_before("closed_at", "received_at", 1.0), unique_in_export(["complaint_id"]),
    ],
    "audits": [
        required("audit_id"), whole_number("year", what="a year"), date("audited_at"), unique_in_export(["audit_id"]),
        resolvable("dept_id", "departments", "dept_id"),
    ],
    "audit_findings": [
        required("finding_id"), one_of("severity", FINDING_SEVERITIES), date("opened_at"), date("closed_at"),
        not_before("closed_at", "opened_at", 1.0), unique_in_export(["finding_id"]),
        resolvable("audit_id", "audits", "audit_id"),
    ],
    "management_reviews": [required("review_id"), date("held_at"), unique_in_export(["review_id"])],
    "process_assessments": [required("assessment_id"), date("held_at"), unique_in_export(["assessment_id"])],
    "process_reviews": [required("review_id"), date("held_at"), unique_in_export(["review_id"])],
    "customer_visits": [
        required("visit_id"), date("visited_at"), unique_in_export(["visit_id"]),
        resolvable("customer_id", "customers", "customer_id"),
    ],
    "emergency_drills": [required("drill_id"), date("held_at"), unique_in_export(["drill_id"])],
    # The rules of an item's life (known id, status order, owner) are checked as it is mapped
    # (itss_warehouse.ingest.improvement_register); these are the fields'.
    "improvement_register": [
        required("item_id"), required("status"), one_of("status", IMPROVEMENT_STATUSES),
        one_of("origin", GENERATED_IMPROVEMENT_ORIGINS + HAND_RAISED_IMPROVEMENT_ORIGINS),
        *(date(c) for c in ("raised_date", "planned_date", "completed_date", "verified_date")),
        unique_in_export(["item_id"], severity=WARNING),
    ],
    # Whether the ticket is known and its metric breached is checked as it is mapped
    # (itss_warehouse.ingest.sla_exemptions); these are the fields'.
    "sla_exemptions": [
        required("exemption_id"), required("ticket_id"), required("metric"), one_of("metric", SLA_EXEMPTION_METRICS),
        required("reason_category"), required("approved_by_role"), required("approved_at"), date("approved_at"),
        unique_in_export(["exemption_id"], severity=WARNING),
    ],
    "tool_sla_records": [
        required("ticket_id"), required("metric"), one_of("metric", SLA_METRICS), one_of("stage", TOOL_SLA_STAGES),
        *(timestamp(c, 1.0) for c in ("started_at", "stopped_at", "breach_at")),
        one_of("has_breached", BOOLEANS), not_before("stopped_at", "started_at", 1.0), one_of("sla_clock", SLA_CLOCKS),
        resolvable("ticket_id", "tickets", "ticket_id"),
    ],
}  # fmt: skip

MART_SUITES: dict[str, list[gxe.Expectation]] = {
    "kpi_scorecard": [
        gxe.ExpectColumnValuesToNotBeNull(
            column="value", row_condition=Column("status").is_not_in(["not_applicable"]), severity=CRITICAL,
            description="every applicable KPI has a value",
        ),
        gxe.ExpectColumnValuesToBeNull(
            column="value", row_condition=Column("status").is_in(["not_applicable"]), severity=CRITICAL,
            description="a KPI over an empty population has no value, neither 0 % nor 100 %",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value", min_value=0, max_value=1, row_condition=Column("kpi_code").is_in(RATIO_KPIS),
            severity=CRITICAL, description="rates are ratios between 0 and 1",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="value", min_value=0, max_value=100, row_condition=Column("kpi_code").is_in(["CSAT"]),
            severity=CRITICAL, description="CSAT is on the 0-100 scale",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="denominator", min_value=0, severity=CRITICAL, description="no population is negative",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="status", value_set=["met", "missed", "no_target", "not_applicable"], severity=CRITICAL,
            description="status is met, missed, no_target or not_applicable",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="grain", value_set=["organisation", "department", "project"], severity=CRITICAL,
            description="grain is organisation, department or project",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="period_type", value_set=["month", "quarter", "half_year", "year"], severity=CRITICAL,
            description="period type is month, quarter, half_year or year",
        ),
    ],
    "fct_satisfaction_answers": [
        gxe.ExpectColumnValuesToNotBeNull(
            column="score_100", severity=CRITICAL, description="every answer has a score on the 0-100 scale",
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="score_100", min_value=0, max_value=100, severity=CRITICAL,
            description="scores are normalised to 0-100",
        ),
    ],
}  # fmt: skip

RAW_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ROW_IDENTITY,
    "return_unexpected_index_query": False,
}


def _results_under_home(variables) -> None:
    """Results and data docs are state: the context names a folder given at run time
    (ITSS_HOME/gx, by itss_warehouse.validate.runner), never one inside the code."""
    stores, sites = copy.deepcopy(variables.stores), copy.deepcopy(variables.data_docs_sites)
    stores["validation_results_store"]["store_backend"]["base_directory"] = f"{RESULTS_DIR}/validations/"
    sites["local_site"]["store_backend"]["base_directory"] = f"{RESULTS_DIR}/data_docs/local_site/"
    variables.stores, variables.data_docs_sites = stores, sites
    variables.config_variables_file_path = None


def build(root: Path) -> None:
    """Write the context (datasource, assets, suites, validation definitions, checkpoints) under root/gx."""
    shutil.rmtree(root / "gx", ignore_errors=True)
    context = gx.get_context(mode="file", project_root_dir=root)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    _results_under_home(context.variables)
    context.variables.save()
    # Stored literally: the URL is substituted from the environment at run time.
    warehouse = context.data_sources.add_postgres("warehouse", connection_string="${ITSS_WAREHOUSE_URL}")
    for schema, suites in (("raw", RAW_SUITES), ("marts", MART_SUITES)):
        for table, expectations in suites.items():
            name = f"{schema}_{table}"
            asset = warehouse.add_table_asset(name, table_name=table, schema_name=schema)
            if schema == "raw":  # raw is validated one new batch at a time
                batches = asset.add_batch_definition(
                    "by_batch", partitioner=PartitionerColumnValue(column_name="_batch_id"), validate_partitioner=False
                )
            else:
                batches = asset.add_batch_definition_whole_table("whole_table")
            suite = context.suites.add(gx.ExpectationSuite(name))
            for expectation in expectations:
                suite.add_expectation(expectation)
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=name, data=batches, suite=suite)
            )
            result_format = RAW_RESULT_FORMAT if schema == "raw" else {"result_format": "SUMMARY"}
            # No data docs action: itss_warehouse.validate.runner builds the docs once per run, not per checkpoint.
            context.checkpoints.add(
                gx.Checkpoint(name=name, validation_definitions=[definition], actions=[], result_format=result_format)
            )
    # What GX scaffolds for a new project and this context never writes to.
    shutil.rmtree(root / "gx" / "uncommitted")
    (root / "gx" / ".gitignore").unlink()
