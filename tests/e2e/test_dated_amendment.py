"""A contract amendment dated from 1 November lands after October's report was issued: the
nightly run judges November's ticket by it, and October's rows, report bytes and issued
version stay as they were (DECISIONS.md, "Dated policies and calendars")."""

from __future__ import annotations

import csv
import shutil
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from e2e.test_past_periods import FORMATS, _itss
from support.small_landing import POLICY_ROWS, TICKET_HEADERS, _ticket

from itss_warehouse.tools.demo import HEADERS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# P3 (中) tightened from 60/480/1440 to 20/480/120 minutes for tickets opened from 1 November.
AMENDMENT = ["SLA-7X24", "P3", 20, 480, 120, "7x24", "Asia/Shanghai", "2026-11-01", ""]
# Responded in 15 minutes, resolved in 150: met under the old targets, resolution breached under the new.
NOVEMBER_TICKET = _ticket("INC-9", "事件", "P1", "中", "2026-11-05 09:00:00", "2026-11-05 09:15:00", "",
                          "2026-11-05 11:30:00")  # fmt: skip
OCTOBER_SLA = (
    "select ticket_id, metric, target_minutes, net_minutes, due_at, status, measured_at from marts.fct_ticket_sla"
    " where opened_month = '2026-10-01' order by ticket_id, metric"
)
ISSUED = "select report_kind, period, unit_id, language, version, fingerprint from raw.issued_documents order by 1, 2, 3, 4, 5"


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def amended(create_database, small_landing: Path, tmp_path_factory):
    url = create_database("e2e_amendment")
    home = tmp_path_factory.mktemp("home_amendment")
    landing = shutil.copytree(small_landing, home / "landing")
    _itss(home, url, "run", "--date", "2026-11-21")
    october = home / "output" / "service_report" / "2026-10"
    with psycopg.connect(url) as conn:
        before = {"sla": conn.execute(OCTOBER_SLA).fetchall(), "issued": conn.execute(ISSUED).fetchall()}
    before["report"] = {suffix: (october / f"P1.zh-CN.{suffix}").read_bytes() for suffix in FORMATS}

    # The PMO's whole export again, with the amendment; the ticket tool's November export.
    _write_csv(landing / "sla_policies_2026-11-22.csv", list(HEADERS["sla_policies.csv"]), [*POLICY_ROWS, AMENDMENT])
    _write_csv(landing / "tickets_2026-11-22.csv", TICKET_HEADERS, [NOVEMBER_TICKET])
    _itss(home, url, "run", "--date", "2026-11-22")
    shutil.rmtree(october)
    _itss(home, url, "report", "service", "--period", "2026-10", "--project", "P1")
    with psycopg.connect(url) as conn:
        after = {
            "sla": conn.execute(OCTOBER_SLA).fetchall(),
            "issued": conn.execute(ISSUED).fetchall(),
            "november": conn.execute(
                "select metric, target_minutes, net_minutes, status, breach_minutes from marts.fct_ticket_sla"
                " where ticket_id = 'INC-9' order by metric"
            ).fetchall(),
        }
    after["report"] = {suffix: (october / f"P1.zh-CN.{suffix}").read_bytes() for suffix in FORMATS}
    return before, after


def test_the_amendment_judges_tickets_opened_from_its_date(amended):
    _, after = amended
    assert after["november"] == [
        ("resolution", 120, Decimal("150.00"), "breached", Decimal("30.00")),
        ("response", 20, Decimal("15.00"), "met", None),
    ]


def test_october_keeps_its_rows_report_bytes_and_issued_version(amended):
    before, after = amended
    assert before["sla"] and after["sla"] == before["sla"]  # measured_at too: not measured again
    assert after["report"] == before["report"]
    assert after["issued"] == before["issued"]
