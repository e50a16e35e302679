"""An event-style export (one row per update of a ticket) from file to marts."""

from __future__ import annotations

import psycopg
import pytest
from support.dbt_build import NIGHTLY_BUILD
from support.ingest import ingest

from itss_warehouse.ingest import sources
from itss_warehouse.settings import PACKAGE_DIR
from itss_warehouse.transform import dbt
from itss_warehouse.validate import runner

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AUDIT_SOURCE = sources.Source(
    name="itsm_audit_export",
    entity="tickets",
    pattern="ticket_audit*.csv",
    columns={
        "Ticket": "ticket_id", "Project": "project_id", "Priority": "priority", "State": "status",
        "Opened": "opened_at", "Responded": "responded_at", "Resolved": "resolved_at", "Closed": "closed_at",
        "Updated": "updated_at", "Update no": "update_sequence",
    },
    constants={"ticket_type": "incident", "delivery_mode": "remote"},
    values={"status": {"Open": "new", "Work in progress": "in_progress", "Resolved": "resolved", "Closed": "closed",
                       "Reopened": "reopened"}},
    timestamps=["opened_at", "responded_at", "resolved_at", "closed_at", "updated_at"],
)  # fmt: skip

# EV-1: opened, answered in 10 min, resolved, closed; two rows share an update time and
# the counter orders them. EV-2: closed on 10-03, then reopened on 10-20 (a late update).
AUDIT_ROWS = """Ticket,Project,Priority,State,Opened,Responded,Resolved,Closed,Updated,Update no
EV-1,P1,P2,Open,2026-10-02 09:00:00,,,,2026-10-02 09:00:00,0
EV-1,P1,P2,Work in progress,2026-10-02 09:00:00,2026-10-02 09:10:00,,,2026-10-02 09:10:00,1
EV-1,P1,P2,Resolved,2026-10-02 09:00:00,2026-10-02 09:10:00,2026-10-02 11:00:00,,2026-10-02 11:00:00,2
EV-1,P1,P2,Closed,2026-10-02 09:00:00,2026-10-02 09:10:00,2026-10-02 11:00:00,2026-10-02 11:00:00,2026-10-02 11:00:00,3
EV-2,P2,P3,Open,2026-10-02 10:00:00,,,,2026-10-02 10:00:00,0
EV-2,P2,P3,Closed,2026-10-02 10:00:00,2026-10-02 10:30:00,2026-10-02 12:00:00,2026-10-03 12:00:00,2026-10-03 12:00:00,1
EV-2,P2,P3,Reopened,2026-10-02 10:00:00,2026-10-02 10:30:00,,,2026-10-20 08:00:00,2
"""


@pytest.fixture(scope="module")
def built(tool_environment: str, pipeline_settings) -> str:
    (pipeline_settings.landing_path / "ticket_audit_2026-10.csv").write_text(AUDIT_ROWS, encoding="utf-8")
    demo = sources.load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    definitions = sources.SourceSet(timezone=demo.timezone, sources=[*demo.sources, AUDIT_SOURCE])
    batches = ingest(tool_environment, pipeline_settings.landing_path, definitions)
    runner.validate_raw_batches(tool_environment, [batch.batch_id for batch in batches], pipeline_settings)
    dbt.run_dbt(pipeline_settings, "--quiet", *NIGHTLY_BUILD, "--vars", "{run_date: '2026-11-21'}")
    return tool_environment


def test_the_latest_version_is_the_ticket_and_a_late_reopen_wins(built: str):
    with psycopg.connect(built) as conn:
        tickets = conn.execute(
            "select ticket_id, status, update_sequence, sla_status from marts.fct_tickets"
            " where ticket_id like 'EV-%' order by ticket_id"
        ).fetchall()
    assert tickets == [("EV-1", "closed", 3, "met"), ("EV-2", "reopened", 2, "breached")]


def test_status_history_is_derived_from_the_versions(built: str):
    with psycopg.connect(built) as conn:
        transitions = conn.execute(
            "select ticket_id, previous_status, status, to_char(changed_at at time zone 'Asia/Shanghai', 'MM-DD HH24:MI')"
            " from intermediate.int_ticket_status_history_derived where ticket_id like 'EV-%'"
        ).fetchall()
    # resolved and closed share 11:00; the update counter puts resolved first
    assert sorted(transitions, key=str) == sorted(
        [
            ("EV-1", None, "new", "10-02 09:00"),
            ("EV-1", "new", "in_progress", "10-02 09:10"),
            ("EV-1", "in_progress", "resolved", "10-02 11:00"),
            ("EV-1", "resolved", "closed", "10-02 11:00"),
            ("EV-2", None, "new", "10-02 10:00"),
            ("EV-2", "new", "closed", "10-03 12:00"),
            ("EV-2", "closed", "reopened", "10-20 08:00"),
        ],
        key=str,
    )
