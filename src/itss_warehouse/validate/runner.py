"""Great Expectations validation of new raw batches and of the marts.

The GX context is committed under ``expectations/gx`` (suites, validation definitions,
checkpoints); its datasource reads the warehouse URL from ``ITSS_WAREHOUSE_URL`` at run
time, so no credential is on disk. It is only read: results and data docs go to
``ITSS_HOME/gx`` (``ITSS_GX_RESULTS_DIR`` in its store paths), so an installed image or a
read-only checkout validates alike.

Rules: every row that fails an expectation whose ``meta.quarantine`` is true is written
to ``raw.quarantined_rows`` with the check and the reason (the raw row itself stays);
an expectation of severity ``critical`` that fails beyond its ``mostly`` threshold stops
the run with a message naming the file, the column and the rows.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from itss_warehouse.settings import Settings
from itss_warehouse.warehouse.raw import QuarantinedRow, record_quarantined

log = logging.getLogger(__name__)
MAX_ROWS_IN_MESSAGE = 10


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


def validate_raw_batches(url: str, batch_ids: list[int], settings: Settings) -> dict[str, Any]:
    """Validate the given raw batches; quarantine bad rows; raise on critical failures."""
    summary = ValidationSummary()
    if not batch_ids:
        return summary.as_dict()
    context = open_context(settings, url)
    checkpoints = {checkpoint.name for checkpoint in context.checkpoints.all()}
    validated = []
    with psycopg.connect(url) as conn:
        batches = conn.execute(
            "select batch_id, entity, file_name from raw.load_batches"
            " where batch_id = any(%s) and row_count > 0 order by batch_id",  # an empty export has nothing to check
            (batch_ids,),
        ).fetchall()
        for batch_id, entity, file_name in batches:
            name = f"raw_{entity}"
            if name not in checkpoints:
                summary.warnings.append(f"{file_name}: no validation suite for raw.{entity}")
                continue
            summary.batches += 1
            run = context.checkpoints.get(name).run(batch_parameters={"_batch_id": batch_id})
            validated.extend(run.run_results)
            for suite_result in run.run_results.values():
                for result in suite_result.results:
                    check, column, description = _describe(result)
                    config = result.expectation_config
                    if (config.meta or {}).get("quarantine"):
                        summary.quarantined_rows += _quarantine(
                            conn, batch_id, entity, check, column, description, result
                        )
                    if result.success:
                        continue
                    message = _failure_message(file_name, column, description, result)
                    # A check that cannot run is a defect to fix, never a warning to live with.
                    is_critical = config.severity == "critical" or _error(result) is not None
                    (summary.failures if is_critical else summary.warnings).append(message)
        record_run(conn, "raw", summary)
        conn.commit()
    _build_data_docs(context, validated)
    for warning in summary.warnings:
        log.warning("raw validation warning: %s", warning)
    if summary.failures:
        raise ValidationFailed("raw validation failed (critical):\n  " + "\n  ".join(summary.failures))
    return summary.as_dict()


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
