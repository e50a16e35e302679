"""Deterministic demo source exports for a fictitious ITSS-certified O&M company.

`generate` writes one landing file per source in ``mappings/demo.yml``; headers, sheet
names and coded values follow that file exactly. The same seed and arguments always give
byte-identical files: all randomness comes from one ``random.Random(seed)`` and nothing
depends on the clock.

Deliberate bad rows, all in ``tickets.csv``, on the first four closed incidents in opening
order (so within the first month of data):

1. 工单编号 is empty.
2. 创建时间 is ``2025-02-30 25:61:00`` (not a timestamp).
3. 优先级 is ``未知``.
4. 解决时间 is three hours before 创建时间.

These four tickets get no status history and no callback, so every other file stays
consistent whether the loader rejects them or not.

``SLA豁免登记表.xlsx`` exempts a few breached resolutions a month (``ticketing.exemption_rows``).
The first department's tool also exports its assignment log and its completed SLA records
(``ticketing.assignment_history``, ``ticketing.sla_records``), derived without randomness.
"""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from pathlib import Path

from itss_warehouse.tools.demo import organisation, quality, register
from itss_warehouse.tools.demo.files import BOM_FILES, HEADERS, LAYOUTS, SHEETS, Row, write_csv, write_xlsx
from itss_warehouse.tools.demo.organisation import (
    CUSTOMERS,
    DEPARTMENTS,
    ENDING,
    PROJECT_PLAN,
    SLA_POLICIES,
    service_reports,
)
from itss_warehouse.tools.demo.quality import complaints, management_review, surveys, visits
from itss_warehouse.tools.demo.ticketing import (
    BAD_OPENED_AT,
    BAD_PRIORITY,
    assignment_history,
    callback_rows,
    exemption_rows,
    exports_at,
    sla_records,
    spoil,
    status_history,
    ticket_row,
    ticket_timelines,
    write_night,
)
from itss_warehouse.tools.demo.timeline import Window, shift_month

# What the tests and the benchmark read besides generate.
__all__ = ["BAD_OPENED_AT", "BAD_PRIORITY", "HEADERS", "LAYOUTS", "SHEETS", "generate"]


def generate(
    landing_dir: Path,
    *,
    seed: int = 42,
    end_date: date,
    months: int = 24,
    tickets_per_project_month: float = 25,
    project_count: int = len(PROJECT_PLAN),
    nights: int = 0,
    nights_dir: Path | None = None,
) -> list[Path]:
    """Write the demo exports for the `months` calendar months ending with `end_date`; return the paths sorted.

    ``project_count`` beyond the plan's ten repeat its rows (a larger company's benchmark), with ids P011 on.

    ``nights`` holds the ticketing exports (tickets, status history, assignment log, SLA records, callbacks) back
    by that many days: the landing files show them at the end of ``end_date - nights``, and ``nights_dir/<day>/``
    gets each later day's changes as a ticket tool's nightly export would: the tickets opened or changed that day
    (their whole row), that day's status changes, reassignments and callbacks, and the SLA records of the tickets
    closed that day. The other exports are as of ``end_date``.
    """
    rng = random.Random(seed)
    window = Window(shift_month(end_date.replace(day=1), -(months - 1)), end_date)
    projects = organisation.projects(rng, window, months, project_count)
    timelines = ticket_timelines(rng, projects, window, tickets_per_project_month)
    tickets = [t for t in (timeline.at(window.cutoff) for timeline in timelines) if t]
    ticket_rows = [ticket_row(t) for t in tickets]
    spoiled = spoil(ticket_rows, tickets)
    good = [t for t in tickets if t.ticket_id not in spoiled]
    acceptances = organisation.acceptances(rng, [p for p in projects if p.project_id in ENDING], window)
    reviews = [management_review(rng, year) for year in range(window.first.year - 1, window.last.year + 1)]
    audits, findings = quality.audits(rng, window)
    tables: dict[str, list[Row]] = {
        "departments.csv": [list(department) for department in DEPARTMENTS],
        "customers.csv": [
            [cid, name, industry, f"ops@customer-{cid[1:]}.example.cn"] for cid, (name, industry) in CUSTOMERS.items()
        ],
        "projects.xlsx": [
            [
                p.project_id,
                p.customer_id,
                p.dept_id,
                p.name,
                p.kind,
                p.manager,
                p.start,
                p.end,
                p.mode,
                p.policy,
                p.frequency,
                p.plan_reviewed,
            ]
            for p in projects
        ],
        "sla_policies.csv": [
            [policy, priority, *targets, calendar, "Asia/Shanghai", "", ""]  # undated: always in force
            for policy, (calendar, targets_by_priority) in SLA_POLICIES.items()
            for priority, targets in targets_by_priority.items()
        ],
        "tickets.csv": ticket_rows,
        "ticket_status_history.csv": status_history(good),
        "ticket_assignment_history.csv": assignment_history(good),
        "ticket_sla_records.csv": sla_records(good),
        "incident_callbacks.csv": callback_rows(rng, good, window),
        "service_reports.csv": service_reports(rng, projects, window),
        "acceptances.csv": [[a.project.project_id, a.kind, a.applied, a.decided, a.result] for a in acceptances],
        "surveys.xlsx": surveys(rng, acceptances, window),
        "complaints.csv": complaints(rng, projects, window),
        "audits.csv": audits,
        "audit_findings.csv": findings,
        "management_reviews.csv": [review for review in reviews if review[1] in window],
        "customer_visits.csv": visits(rng, window),
        "SLA豁免登记表.xlsx": exemption_rows(good, window),
        # Its own random stream: the register changes no other file's rows.
        register.FILE: register.register_rows(random.Random(f"improvement-register-{seed}"), window),
    }
    if nights:
        if nights_dir is None:
            raise ValueError("nights needs nights_dir, the folder for each later night's exports")
        cutoffs = [window.cutoff - timedelta(days=nights - night) for night in range(nights + 1)]
        callbacks = tables["incident_callbacks.csv"]
        tables.update(exports_at(timelines, callbacks, cutoffs[0], spoiled))
        for before, after in itertools.pairwise(cutoffs):
            write_night(nights_dir / after.date().isoformat(), timelines, callbacks, before, after, spoiled)
    landing_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if name in SHEETS:
            write_xlsx(landing_dir / name, SHEETS[name], HEADERS[name], rows, window.cutoff)
        else:
            write_csv(landing_dir / name, HEADERS[name], rows, bom=name in BOM_FILES)
    return sorted(landing_dir / name for name in tables)
