"""What every report kind is made of: the unit a report file is about, the appendix sheets,
and the kind itself (its units, its content, its appendix). Kinds import this module and
``sections``; the renderer is given a kind; ``kinds`` is the registry by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeAlias

import psycopg
from psycopg.rows import DictRow

from itss_warehouse.reports.formatting import Period
from itss_warehouse.reports.summary import Summary
from itss_warehouse.reports.xlsx import Sheet  # an appendix sheet, as the workbook writer takes it

# Reports read columns by name: their cursors are opened with ``row_factory=dict_row``.
Cursor: TypeAlias = psycopg.Cursor[DictRow]


@dataclass(frozen=True)
class Unit:
    """What one report file is about: a project, a department or the organisation, in a period."""

    grain: str  # as marts.kpi_scorecard: project, department, organisation
    grain_id: str  # file stem: the project or department id, or "organisation"
    period: Period
    facts: dict[str, Any] = field(default_factory=dict)  # e.g. the dim_projects row
    judged_on: date | None = None  # the day improvement items are judged on; rendering sets the data's as-of day

    @property
    def params(self) -> dict[str, Any]:
        """Query parameters: the unit and its period (``end`` is the first day after it)."""
        return {
            "grain": self.grain,
            "grain_id": self.grain_id,
            "period_type": self.period.type,
            "start": self.period.start,
            "end": self.period.end,
            "judged_on": self.judged_on or self.period.end,
            **self.facts,
        }


@dataclass(frozen=True)
class ReportKind:
    name: str  # the archive folder, e.g. service_report
    period_type: str  # the period the command line and the DAG give
    template: str
    units: Callable[[Cursor, Period], list[Unit]]
    content: Callable[[Cursor, Unit, dict[str, Any]], dict[str, Any]]
    appendix: Callable[[Cursor, Unit, dict[str, Any], dict[str, Any]], list[Sheet]]
    # The executive summary from the content and the data's as-of time (see reports/summary.py).
    summary: Callable[[dict[str, Any], Unit, datetime | None, dict[str, Any]], Summary]
    # A customer's report shows no internal data (source rows, check texts); internal ones do.
    audience: str = "internal"
    # The KPIs the report shows, in its PDF, its workbook and its e-mail alike (None: the unit's whole
    # scorecard); the e-mail's headline is a few of them, for a reader who has not opened the attachment.
    kpi_codes: tuple[str, ...] | None = None
    headline_kpis: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kpi_codes is not None and (hidden := set(self.headline_kpis) - set(self.kpi_codes)):
            raise ValueError(f"the {self.name}'s e-mail would show KPIs its report does not: {sorted(hidden)}")
