"""A tiny organisation whose SLA attainment is computed by hand (see EXPECTED_*).

October 2026, policy SLA-7X24 (P1 15/120/240 min, P2 30/240/480, P3 60/480/1440,
P4 120/1440/4320 for response/on-site/resolution):

project P1  INC-1 P3 respond 30, resolve 360                -> met
            INC-2 P2 respond 45 > 30                        -> breached
            INC-3 P4 respond 60, resolve 1440               -> met
            REQ-4 P3 respond 10, resolve 1200               -> met
            CHG-5 change                                    -> not measured
            3 met / 4 measured = 0.75
project P2  INC-6 P1 on-site: respond 5, arrive 90, resolve 180 -> met
            INC-7 P3 resolve 2880 > 1440                    -> breached
            INC-8 priority 未知 (bad row)                     -> quarantined
            1 met / 2 measured = 0.5
organisation: mean of project rates (0.75 + 0.5) / 2 = 0.625; ticket-weighted 4 / 6.
Satisfaction, October 2026: the annual survey of C1 (0-100: 92, 88, 90; CSAT 90), a
project survey of P1 (1-5: 5 and 3, i.e. 100 and 60, one low score) and a callback on
INC-1 (满意, 100).
Twelve further changes (CHG-10..21, not SLA-measured) keep the one bad priority under
the raw suite's 5% tolerance, so the run quarantines it instead of stopping.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook, load_workbook

from itss_warehouse.tools.demo import HEADERS, SHEETS

EXPECTED_PROJECT_RATES = {"P1": 0.75, "P2": 0.5}
EXPECTED_ORGANISATION_RATE = 0.625
EXPECTED_WEIGHTED_RATE = round(4 / 6, 6)
BAD_TICKET_ROW = 9  # INC-8, as a spreadsheet numbers the row (header = 1)

TICKET_HEADERS = list(HEADERS["tickets.csv"])


def _ticket(ticket_id, kind, project, priority, opened, responded, onsite, resolved, mode="远程"):
    closed = resolved
    return [
        ticket_id,
        kind,
        project,
        priority,
        "网络",
        opened,
        responded,
        onsite,
        resolved,
        closed,
        "已关闭" if resolved else "处理中",
        "张三",
        "一线支持",
        "0",
        "0",
        "否",
        mode,
        "",
        "",
        resolved or responded,
    ]


TICKETS = [
    _ticket("INC-1", "事件", "P1", "中", "2026-10-05 09:00:00", "2026-10-05 09:30:00", "", "2026-10-05 15:00:00"),
    _ticket("INC-2", "事件", "P1", "高", "2026-10-10 10:00:00", "2026-10-10 10:45:00", "", "2026-10-10 12:00:00"),
    _ticket("INC-3", "事件", "P1", "低", "2026-10-12 08:00:00", "2026-10-12 09:00:00", "", "2026-10-13 08:00:00"),
    _ticket("REQ-4", "服务请求", "P1", "中", "2026-10-20 14:00:00", "2026-10-20 14:10:00", "", "2026-10-21 10:00:00"),
    _ticket("CHG-5", "变更", "P1", "中", "2026-10-22 14:00:00", "", "", "2026-10-22 18:00:00"),
    _ticket(
        "INC-6",
        "事件",
        "P2",
        "紧急",
        "2026-10-03 20:00:00",
        "2026-10-03 20:05:00",
        "2026-10-03 21:30:00",
        "2026-10-03 23:00:00",
        mode="现场",
    ),
    _ticket("INC-7", "事件", "P2", "中", "2026-10-15 09:00:00", "2026-10-15 09:20:00", "", "2026-10-17 09:00:00"),
    _ticket("INC-8", "事件", "P2", "未知", "2026-10-16 09:00:00", "2026-10-16 09:20:00", "", "2026-10-16 10:00:00"),
    *(
        _ticket(f"CHG-{number}", "变更", "P1", "低", "2026-10-25 20:00:00", "", "", "2026-10-25 22:00:00")
        for number in range(10, 22)
    ),
]

POLICY_ROWS = [
    ["SLA-7X24", priority, response, onsite, resolution, "7x24", "Asia/Shanghai", "", ""]  # undated: always
    for priority, response, onsite, resolution in (
        ("P1", 15, 120, 240),
        ("P2", 30, 240, 480),
        ("P3", 60, 480, 1440),
        ("P4", 120, 1440, 4320),
    )
]


def _write_csv(name: str, landing: Path, rows: list[list[str]], encoding: str = "utf-8") -> None:
    with (landing / name).open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS[name])
        writer.writerows(rows)


def _project(project_id: str, dept_id: str) -> list:
    return [
        project_id, "C1", dept_id, f"{project_id} 运维项目", "新签", "李四", dt.date(2026, 1, 1),
        dt.date(2026, 12, 31), "驻场", "SLA-7X24", "月度", dt.date(2025, 12, 20),
    ]  # fmt: skip


def write_small_landing(landing: Path) -> Path:
    """Write the organisation in the demo exports' layout (headers from the demo mapping)."""
    landing.mkdir(parents=True, exist_ok=True)
    _write_csv("departments.csv", landing, [["D1", "运维一部", "Y"], ["D2", "运维二部", "Y"]])
    _write_csv("customers.csv", landing, [["C1", "滇池市政务中心", "政府", "ops@c1.example.cn"]])
    _write_csv("sla_policies.csv", landing, POLICY_ROWS)
    _write_csv("tickets.csv", landing, TICKETS, encoding="utf-8-sig")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEETS["projects.xlsx"]
    sheet.append(list(HEADERS["projects.xlsx"]))
    sheet.append(_project("P1", "D1"))
    sheet.append(_project("P2", "D2"))
    workbook.save(landing / "projects.xlsx")
    _write_csv("incident_callbacks.csv", landing, [["HF-1", "INC-1", "2026-10-06 10:00:00", "满意", ""]])
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEETS["surveys.xlsx"]
    sheet.append(list(HEADERS["surveys.xlsx"]))
    october = dt.date(2026, 10, 20)
    for item, score in (("响应速度", 92), ("服务质量", 88), ("总体满意度", 90)):
        sheet.append(["S2026-ANN-C1", "annual", "C1", None, october, item, score, "0-100", None])
    for item, score in (("服务质量", 5), ("文档交付", 3)):
        sheet.append(["S2026-PRJ-P1", "project", "C1", "P1", october, item, score, "1-5", None])
    workbook.save(landing / "surveys.xlsx")
    return landing


def shift_years(landing: Path, years: int) -> Path:
    """Move every date of a written landing folder ``years`` back: the same organisation, an
    earlier decade. The policy's 7x24 calendar makes the hand-computed values hold unchanged."""
    for path in landing.glob("*.csv"):
        text = path.read_text(encoding="utf-8-sig")
        for year in (2026, 2025):
            text = text.replace(f"{year}-", f"{year - years}-")
        path.write_text(text, encoding="utf-8-sig" if path.name == "tickets.csv" else "utf-8")
    for path in landing.glob("*.xlsx"):
        workbook = load_workbook(path)
        for row in workbook.active.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.date):
                    cell.value = cell.value.replace(year=cell.value.year - years)
        workbook.save(path)
    return landing
