"""The improvement loop's KPIs (DECISIONS.md "Improvement loop KPIs"), hand-computed.

The real dbt project builds kpi_scorecard and everything it reads on a warehouse whose
only data are improvement register entries raised by hand (the organisation's), in every
state; the build runs the models' unit tests too, among them the known answers of every
grain and period (int_kpi_improvement_loop_counts_items_in_every_state) and the judging
with target overrides (kpi_scorecard_judges_the_improvement_loop_like_every_kpi).
"""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from support.raw_rows import insert_raw

from itss_warehouse.transform import dbt
from itss_warehouse.warehouse.pseudonym import ensure_key
from itss_warehouse.warehouse.raw import ensure_raw_tables

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN_DATE = "{run_date: '2026-07-15'}"  # as-of day: 16 July 2026
COLUMNS = ["item_id", "origin", "raised_date", "owner", "planned_date", "status", "completed_date", "verified_date"]
ENTRIES = [
    ("H1", "audit", "2026-03-01", "王五", "2026-03-31", "done", "2026-03-20", None),  # on time (Q1)
    ("H2", "management_review", "2026-04-01", "王五", "2026-04-30", "in_progress", None, None),  # overdue: late (Q2)
    ("H3", "customer_visit", "2026-05-01", "王五", "2026-06-15", "verified", "2026-06-20", "2026-07-01"),  # late (Q2), effective (Q3)
    ("H4", "other", "2026-05-10", "王五", "2026-05-31", "not_effective", "2026-05-30", "2026-06-10"),  # on time, not effective (Q2)
    ("H5", "audit", "2026-07-01", "王五", "2026-08-31", "open", None, None),  # not yet due: not counted
]  # fmt: skip
# (kpi_code, period_type, period_start): (numerator, denominator, value, status); the catalogue's target 0.9.
# No ticket, quality record or survey answer: int_kpi_periods is empty, so no 0 / 0 rows.
EXPECTED = {
    ("IMPROVEMENT_ON_TIME", "month", "2026-03-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_ON_TIME", "month", "2026-04-01"): (0, 1, "0.000000", "missed"),
    ("IMPROVEMENT_ON_TIME", "month", "2026-05-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_ON_TIME", "month", "2026-06-01"): (0, 1, "0.000000", "missed"),
    ("IMPROVEMENT_ON_TIME", "quarter", "2026-01-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_ON_TIME", "quarter", "2026-04-01"): (1, 3, "0.333333", "missed"),
    ("IMPROVEMENT_ON_TIME", "half_year", "2026-01-01"): (2, 4, "0.500000", "missed"),
    ("IMPROVEMENT_ON_TIME", "year", "2026-01-01"): (2, 4, "0.500000", "missed"),
    ("IMPROVEMENT_EFFECTIVE", "month", "2026-06-01"): (0, 1, "0.000000", "missed"),
    ("IMPROVEMENT_EFFECTIVE", "month", "2026-07-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_EFFECTIVE", "quarter", "2026-04-01"): (0, 1, "0.000000", "missed"),
    ("IMPROVEMENT_EFFECTIVE", "quarter", "2026-07-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_EFFECTIVE", "half_year", "2026-01-01"): (0, 1, "0.000000", "missed"),
    ("IMPROVEMENT_EFFECTIVE", "half_year", "2026-07-01"): (1, 1, "1.000000", "met"),
    ("IMPROVEMENT_EFFECTIVE", "year", "2026-01-01"): (1, 2, "0.500000", "missed"),
}


def _insert_register(conn: psycopg.Connection) -> None:
    insert_raw(conn, "improvement_register", COLUMNS, ENTRIES, loaded_at="2026-07-15T00:00:00+0800")


@pytest.fixture(scope="module")
def scorecard(tool_environment: str, pipeline_settings) -> dict[tuple[str, str, str], tuple]:
    with psycopg.connect(tool_environment) as conn:
        ensure_raw_tables(conn)
        ensure_key(conn)
        _insert_register(conn)
    # Models, data tests and unit tests of the scorecard and everything it reads.
    dbt.run_dbt(pipeline_settings, "--quiet", "build", "--select", "+kpi_scorecard", "--vars", RUN_DATE)
    with psycopg.connect(tool_environment) as conn:
        rows = conn.execute(
            "select kpi_code, grain, grain_id, period_type, period_start::text, numerator, denominator, value, status"
            " from marts.kpi_scorecard where kpi_code like 'IMPROVEMENT%'"
        ).fetchall()
    return {tuple(row[:5]): tuple(row[5:]) for row in rows}


def test_hand_raised_items_count_for_the_organisation_on_the_as_of_day(scorecard):
    expected = {
        (code, "organisation", "ORG", period_type, start): (Decimal(numerator), Decimal(denominator), Decimal(value), status)
        for (code, period_type, start), (numerator, denominator, value, status) in EXPECTED.items()
    }  # fmt: skip
    assert scorecard == expected
