"""Great Expectations validation of new raw batches and of the marts.

The GX context is committed under ``expectations/gx`` (suites, validation definitions,
checkpoints); its datasource reads the warehouse URL from ``ITSS_WAREHOUSE_URL`` at run
time, so no credential is on disk. It is only read: results and data docs go to
``ITSS_HOME/gx`` (``ITSS_GX_RESULTS_DIR`` in its store paths), so an installed image or a
read-only checkout validates alike.

Rules (docs/decisions.md, "The proportionate gate"): every row that fails an expectation
whose ``meta.quarantine`` is true is written to ``raw.quarantined_rows`` with the check and
the reason (the raw row itself stays). Such a row-level check blocks the reports only when
it is critical and fails more rows than it tolerates: its share of the export (``1 -
mostly``), at least ``ITSS_QUARANTINE_TOLERANCE_ROWS``; below that it is a warning. A check
on the export as a whole (uniqueness, volume collapse) that fails, or any check that cannot
run, is critical as its severity says. Each batch's verdict is kept in ``raw.load_batches``
(the gate, :mod:`gate`); a critical failure stops the night with a message naming the file,
the column and the rows.
"""

from __future__ import annotations

import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse.raw import QuarantinedRow, record_quarantined

log = logging.getLogger(__name__)
MAX_ROWS_IN_MESSAGE = 10
# A volume collapse is judged against the median of the source's last seven exports, once it
# has three and they usually hold this many rows (a small register's counts vary too much).
COLLAPSE_HISTORY, COLLAPSE_MIN_ROWS = 3, 100


class ValidationFailed(RuntimeError):
    pass


@dataclass
class ValidationSummary:
    batches: int = 0
    quarantined_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batches": self.batches,
            "quarantined_rows": self.quarantined_rows,
            "warnings": self.warnings,
            "failures": self.failures,
        }


def record_run(conn: psycopg.Connection, scope: str, summary: ValidationSummary) -> None:
    """Log the run in ``raw.validation_runs``: what the reports state and are gated on."""
    conn.execute(
        "insert into raw.validation_runs (scope, checked, quarantined_rows, warnings, failures)"
        " values (%s, %s, %s, %s, %s)",
        (scope, summary.batches, summary.quarantined_rows, summary.warnings, summary.failures),
    )


def open_context(settings: Settings, url: str) -> Any:
    # GX logs hundreds of INFO lines under Airflow's logging set-up.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx.get_context(
        mode="file",
        project_root_dir=settings.expectations_path,
        runtime_environment={
            "ITSS_WAREHOUSE_URL": url,
            "ITSS_GX_RESULTS_DIR": str(settings.validation_results_path),
        },
    )


def _failing_rows(result: Any) -> list[dict[str, Any]]:
    """Failing rows with their _source_file/_source_row, from column checks or custom SQL checks."""
    details = result.result
    return details.get("unexpected_index_list") or (details.get("details") or {}).get("unexpected_rows") or []


def _error(result: Any) -> str | None:
    """The message of a check that could not run (GX reports it per metric, not as an exception)."""
    info = result.exception_info or {}
    messages = [info.get("exception_message")] + [
        entry.get("exception_message") for entry in info.values() if isinstance(entry, dict)
    ]
    return next((message for message in messages if message), None)


def _describe(result: Any) -> tuple[str, str | None, str]:
    config = result.expectation_config
    column = config.kwargs.get("column") or config.kwargs.get("column_A") or (config.meta or {}).get("column")
    check = f"{config.type}:{column}" if column else config.type
    return check, column, config.description or config.type


def _failure_message(file_name: str, column: str | None, description: str, result: Any) -> str:
    details = result.result
    rows = [str(item["_source_row"]) for item in _failing_rows(result) if "_source_row" in item]
    shown = ", ".join(rows[:MAX_ROWS_IN_MESSAGE]) + (" …" if len(rows) > MAX_ROWS_IN_MESSAGE else "")
    count = details.get("unexpected_count", details.get("observed_value", len(rows)))
    error = _error(result)
    if error:
        return f"{file_name}: check '{description}' could not run: {error.splitlines()[0]}"
    if column is None:  # a check on the export as a whole
        return f"{file_name}: check failed: '{description}'"
    return f"{file_name}, column {column}: {count} row(s) fail '{description}' (rows {shown or 'n/a'})"


def _quarantine(
    conn: psycopg.Connection, batch_id: int, entity: str, check: str, column: str | None, description: str, result: Any
) -> int:
    rows = [
        QuarantinedRow(batch_id, entity, row["_source_file"], row["_source_row"], check, column,
                       row.get(column) if column else None, description)
        for row in _failing_rows(result)
    ]  # fmt: skip
    record_quarantined(conn, rows)
    return len(rows)


def _build_data_docs(context: Any, validated: list) -> None:
    """The data docs pages of this run's results and the index, once: a checkpoint action
    rebuilt the site after every checkpoint (0.9 s each, a second or more a night)."""
    if validated:
        context.build_data_docs(resource_identifiers=validated)


@dataclass
class _Batch:
    batch_id: int
    source_name: str
    entity: str
    file_name: str
    rows: int
    failures: list[str] | None  # of its previous validation; None when never validated


def _tolerated(rows: int, mostly: float | None, settings: Settings) -> int:
    """Failing rows a row-level check lets through (quarantined, a warning): its share of the
    export (``1 - mostly``), but never fewer than the floor, so a handful of bad rows in a
    small daily export does not block every report."""
    return max(settings.quarantine_tolerance_rows, int((1 - (mostly or 1.0)) * rows))


def _volume_collapse(conn: psycopg.Connection, batch: _Batch) -> str | None:
    """An export with under a tenth of the rows its source usually sends (truncated, or empty)."""
    recent = [row[0] for row in conn.execute(
        "select row_count from raw.load_batches where source_name = %s and batch_id < %s"
        " and withdrawn_at is null and mapped_at is not null order by batch_id desc limit 7",
        (batch.source_name, batch.batch_id),
    )]  # fmt: skip
    usual = statistics.median(recent) if len(recent) >= COLLAPSE_HISTORY else 0
    if usual >= COLLAPSE_MIN_ROWS and batch.rows < usual / 10:
        return (f"{batch.file_name}: {batch.rows} row(s), under a tenth of the {usual:g} rows the source's last"
                f" {len(recent)} exports had (median): a truncated or partial export?")  # fmt: skip
    return None


def _check_batch(conn: psycopg.Connection, context: Any, batch: _Batch, settings: Settings,
                 summary: ValidationSummary) -> tuple[list[str], list[str], list]:  # fmt: skip
    """Validate one batch, quarantining its bad rows; return its failures, warnings and GX results."""
    failures: list[str] = []
    warnings: list[str] = []
    validated: list = []
    if collapse := _volume_collapse(conn, batch):
        failures.append(collapse)
    if batch.rows == 0:  # nothing for the suite to check
        return failures, warnings, validated
    run = context.checkpoints.get(f"raw_{batch.entity}").run(batch_parameters={"_batch_id": batch.batch_id})
    validated.extend(run.run_results)
    for suite_result in run.run_results.values():
        for result in suite_result.results:
            check, column, description = _describe(result)
            config = result.expectation_config
            message = _failure_message(batch.file_name, column, description, result)
            if (config.meta or {}).get("quarantine") and _error(result) is None:
                # Row-level: the rows are held back; only too many of them block the reports.
                held = _quarantine(conn, batch.batch_id, batch.entity, check, column, description, result)
                summary.quarantined_rows += held
                too_many = held > _tolerated(batch.rows, config.kwargs.get("mostly"), settings)
                if held:
                    (failures if too_many and config.severity == "critical" else warnings).append(message)
                continue
            if result.success:
                continue
            # A check that cannot run is a defect to fix, never a warning to live with.
            is_critical = config.severity == "critical" or _error(result) is not None
            (failures if is_critical else warnings).append(message)
    return failures, warnings, validated


# By entity and batch: the quarantine's primary key serves both.
VALIDATION_QUARANTINE = (
    "from raw.quarantined_rows where entity = %s and batch_id = %s and check_name not like 'mapping:%%'"
)


def _validation_quarantine(conn: psycopg.Connection, batch: _Batch) -> set[tuple]:
    return set(conn.execute(
        "select source_row, check_name " + VALIDATION_QUARANTINE, (batch.entity, batch.batch_id)
    ).fetchall())  # fmt: skip


def _verdict_changes_the_marts(conn: psycopg.Connection, batch: _Batch, failures: list[str], before: set) -> bool:
    """Whether a re-validation changes what builds read: the batch let in or held back, or other rows quarantined."""
    if bool(batch.failures) != bool(failures):
        return True
    return not failures and before != _validation_quarantine(conn, batch)


def validate_raw_batches(url: str, batch_ids: list[int], settings: Settings) -> dict[str, Any]:
    """Validate (or re-validate) the given raw batches: quarantine bad rows, record each batch's
    verdict in ``raw.load_batches`` (what the reports' gate reads) and the run in
    ``raw.validation_runs``; raise ValidationFailed naming every critical failure."""
    from itss_warehouse.ingest.batches import request_rebuild

    summary = ValidationSummary()
    if not batch_ids:
        return summary.as_dict()
    context = open_context(settings, url)
    checkpoints = {checkpoint.name for checkpoint in context.checkpoints.all()}
    validated = []
    with psycopg.connect(url) as conn:
        batches = [_Batch(*row) for row in conn.execute(
            "select batch_id, source_name, entity, file_name, row_count, validation_failures from raw.load_batches"
            " where batch_id = any(%s) and mapped_at is not null and withdrawn_at is null order by batch_id",
            (batch_ids,),
        )]  # fmt: skip
        for batch in batches:
            if f"raw_{batch.entity}" not in checkpoints:
                summary.warnings.append(f"{batch.file_name}: no validation suite for raw.{batch.entity}")
                continue
            summary.batches += 1
            # A re-validation judges the rows afresh: rows that now pass leave the quarantine.
            before = _validation_quarantine(conn, batch)
            conn.execute("delete " + VALIDATION_QUARANTINE, (batch.entity, batch.batch_id))
            failures, warnings, results = _check_batch(conn, context, batch, settings, summary)
            validated.extend(results)
            conn.execute(
                "update raw.load_batches set validated_at = now(), validation_failures = %s, validation_warnings = %s"
                " where batch_id = %s",
                (failures, warnings, batch.batch_id),
            )
            if batch.failures is not None and _verdict_changes_the_marts(conn, batch, failures, before):
                request_rebuild(conn, f"batch {batch.batch_id} ({batch.file_name}) re-validated")
            summary.failures.extend(failures)
            summary.warnings.extend(warnings)
        record_run(conn, "raw", summary)
        conn.commit()
    _build_data_docs(context, validated)
    for warning in summary.warnings:
        log.warning("raw validation warning: %s", warning)
    if summary.failures:
        raise ValidationFailed("raw validation failed (critical):\n  " + "\n  ".join(summary.failures))
    return summary.as_dict()


def batches_to_validate(url: str, failed: bool = True, every: bool = False) -> list[int]:
    """The current batches never validated, and (``failed``) those that failed; ``every``: all current batches."""
    with psycopg.connect(url) as conn:
        return [row[0] for row in conn.execute(
            "select batch_id from raw.load_batches where mapped_at is not null and withdrawn_at is null"
            " and (%(every)s or validated_at is null or (%(failed)s and cardinality(validation_failures) > 0))"
            " order by batch_id",
            {"every": every, "failed": failed},
        )]  # fmt: skip


def validate_marts(url: str, settings: Settings) -> dict[str, Any]:
    """Validate the marts after dbt; a critical failure stops report generation."""
    summary = ValidationSummary()
    context = open_context(settings, url)
    checkpoints = sorted(
        (checkpoint for checkpoint in context.checkpoints.all() if checkpoint.name.startswith("marts_")),
        key=lambda checkpoint: checkpoint.name,
    )
    validated = []
    for checkpoint in checkpoints:
        table = "marts." + checkpoint.name.removeprefix("marts_")
        run = checkpoint.run()
        validated.extend(run.run_results)
        for suite_result in run.run_results.values():
            for result in suite_result.results:
                if result.success:
                    continue
                _, column, description = _describe(result)
                message = _failure_message(table, column, description, result)
                is_critical = result.expectation_config.severity == "critical" or _error(result) is not None
                (summary.failures if is_critical else summary.warnings).append(message)
    summary.batches = len(checkpoints)
    _build_data_docs(context, validated)
    with psycopg.connect(url) as conn:
        record_run(conn, "marts", summary)
    if summary.failures:
        raise ValidationFailed("marts validation failed (critical):\n  " + "\n  ".join(summary.failures))
    return summary.as_dict()


def data_docs_index(settings: Settings) -> Path:
    return settings.validation_results_path / "data_docs" / "local_site" / "index.html"
