"""A warehouse from before dated SLA policies asks for one full build (DECISIONS.md, "Dated
policies and calendars"): its seed tables lack the seeds' new columns."""

from __future__ import annotations

import psycopg
import pytest

from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = pytest.mark.integration
REASON = "the SLA seeds gained valid_from and valid_to (dated policies and calendars)"


def _requests(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute("select reason from raw.rebuild_requests order by request_id").fetchall()


def test_an_undated_policies_table_asks_for_one_full_build(create_warehouse):
    with psycopg.connect(create_warehouse("raw_upgrade")) as conn:
        ensure_raw_tables(conn)
        assert _requests(conn) == []  # a new warehouse: its first build creates the seeds
        conn.execute("alter table raw.sla_policies drop column valid_from, drop column valid_to")
        ensure_raw_tables(conn)
        ensure_raw_tables(conn)  # brought up to date once: asked once
        assert _requests(conn) == [(REASON,)]
