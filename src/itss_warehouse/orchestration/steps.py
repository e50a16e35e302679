"""How the DAGs' tasks call the pipeline: an error that cannot fix itself fails the task at once.

Airflow retries a failed task (``DEFAULT_ARGS``): right for a refused connection or an SMTP
server that is down, pointless for a header that does not match its mapping, a file that
cannot be decoded, a failed validation, blocked reports or a configuration error, which fail
the same way until a person acts. Those are raised as ``AirflowFailException``, which Airflow
does not retry, with the product's message.
"""

from __future__ import annotations

from typing import Any


def _permanent() -> tuple[type[BaseException], ...]:
    from itss_warehouse.reports.data_quality import ReportBlocked
    from itss_warehouse.validate.runner import ValidationFailed

    # ValueError covers ingest.mapping's HeaderError and SourceFileError, UnicodeDecodeError and
    # the configuration errors of loading sources and recipients (RecipientsError).
    return ValueError, ValidationFailed, ReportBlocked


def run_step(name: str, *args: Any) -> Any:
    """Call ``pipeline.<name>(*args)``; a permanent error fails the task with no retry."""
    from itss_warehouse import pipeline

    try:
        return getattr(pipeline, name)(*args)
    except Exception as error:
        if not isinstance(error, _permanent()):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(error).__name__}: {error}") from error
