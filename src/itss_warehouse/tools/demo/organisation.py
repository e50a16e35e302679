"""The demo organisation: departments, customers, projects, SLA policies, service reports and acceptances."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta

from itss_warehouse.tools.demo.files import Row
from itss_warehouse.tools.demo.timeline import Window, shift_month, window_months, work_time

DEPARTMENTS = [("D01", "运维一部", "Y"), ("D02", "运维二部", "Y"), ("D03", "运维三部", "Y"), ("D04", "行政部", "N")]


CUSTOMERS = {
    "C001": ("江川市大数据管理局", "政府"),
    "C002": ("江川农村商业银行", "金融"),
    "C003": ("江川市第一人民医院", "医疗"),
    "C004": ("东岭电力供应有限公司", "能源"),
    "C005": ("江川理工大学", "教育"),
    "C006": ("青禾证券股份有限公司", "金融"),
    "C007": ("江川市人力资源和社会保障局", "政府"),
    "C008": ("南湖燃气集团有限公司", "能源"),
    "C009": ("江川市中心医院", "医疗"),
    "C010": ("江川职业技术学院", "教育"),
}


# customer, department, kind, service mode, SLA policy, report frequency, service, months begun before the window
PROJECT_PLAN = [
    ("C001", "D01", "续签", "驻场", "SLA-7X24", "月度", "政务云平台运维服务", 8),
    ("C002", "D01", "新签", "远程+现场", "SLA-7X24", "月度", "数据中心基础设施运维服务", 3),
    ("C003", "D02", "续签", "驻场", "SLA-7X24", "季度", "医院信息系统运维服务", 14),
    ("C004", "D02", "新签", "远程+现场", "SLA-BH", "月度", "办公网络运维服务", 10),
    ("C005", "D03", "新签", "远程+现场", "SLA-BH", "月度", "校园网运维服务", 5),
    ("C006", "D01", "续签", "驻场", "SLA-7X24", "月度", "交易系统运维服务", 20),
    ("C007", "D03", "新签", "远程+现场", "SLA-BH", "季度", "社保业务系统运维服务", 2),
    ("C008", "D02", "续签", "远程+现场", "SLA-BH", "月度", "桌面终端运维服务", 7),
    ("C009", "D03", "新签", "驻场", "SLA-7X24", "月度", "机房与网络运维服务", 4),
    ("C010", "D03", "续签", "远程+现场", "SLA-BH", "月度", "教务系统运维服务", 12),
]


ENDING = {"P004": 5 / 8, "P008": 3 / 4}  # projects ending inside the window, at this share of it; renewed next day


NO_PLAN_REVIEW = "P006"


MANAGERS = ["周建国", "李晓燕", "王海涛", "陈静", "刘志强", "赵敏"]


ENGINEERS = {
    "D01": ["张伟", "王磊", "李娜", "刘洋", "陈晨", "杨帆"],
    "D02": ["赵鹏", "黄丽", "周杰", "吴霞", "徐斌", "孙悦"],
    "D03": ["胡军", "朱琳", "高翔", "林峰", "何芳", "郭强"],
}


# policy: calendar, {priority: (response, onsite, resolution) in minutes of that calendar}
SLA_POLICIES = {
    "SLA-7X24": ("7x24", {"P1": (15, 120, 240), "P2": (30, 240, 480), "P3": (60, 480, 1440), "P4": (120, 1440, 4320)}),
    "SLA-BH": (
        "business_hours",
        {"P1": (30, 240, 480), "P2": (60, 480, 960), "P3": (120, 960, 2880), "P4": (240, 2880, 7200)},
    ),
}


@dataclass(frozen=True)
class Project:
    project_id: str
    customer_id: str
    dept_id: str
    name: str
    kind: str
    manager: str
    start: date
    end: date
    mode: str
    policy: str
    frequency: str
    plan_reviewed: date | None


@dataclass(frozen=True)
class Acceptance:
    project: Project
    kind: str
    applied: date
    decided: date | None
    result: str


def projects(rng: random.Random, window: Window, months: int, count: int) -> list[Project]:
    projects = []
    plan = itertools.islice(itertools.cycle(PROJECT_PLAN), count)
    for number, (cid, dept, kind, mode, policy, frequency, service, begun) in enumerate(plan, start=1):
        pid = f"P{number:03d}"
        start = shift_month(window.first, -begun)
        if pid in ENDING:
            end = shift_month(window.first, max(1, int(months * ENDING[pid]))) - timedelta(days=1)
        else:  # multi-year contracts running well beyond the window
            years = 1
            while shift_month(start, 12 * years) <= shift_month(window.last.replace(day=1), 6):
                years += 1
            end = shift_month(start, 12 * years) - timedelta(days=1)
        reviewed = None if pid == NO_PLAN_REVIEW else start - timedelta(days=rng.randint(3, 10))
        projects.append(
            Project(
                pid,
                cid,
                dept,
                f"{CUSTOMERS[cid][0]}{service}项目",
                kind,
                MANAGERS[number % 6],
                start,
                end,
                mode,
                policy,
                frequency,
                reviewed,
            )
        )
    for number, old in enumerate([p for p in projects if p.project_id in ENDING], start=len(projects) + 1):
        start = old.end + timedelta(days=1)
        projects.append(
            Project(
                f"P{number:03d}",
                old.customer_id,
                old.dept_id,
                old.name.replace("项目", "二期项目"),
                "续签",
                old.manager,
                start,
                shift_month(start, 36) - timedelta(days=1),
                old.mode,
                old.policy,
                old.frequency,
                start - timedelta(days=rng.randint(3, 10)),
            )
        )
    return projects


def service_reports(rng: random.Random, projects: list[Project], window: Window) -> list[Row]:
    rows: list[Row] = []
    for p in projects:
        quarterly = p.frequency == "季度"
        for month in window_months(window):
            following = shift_month(month, 1)
            period_start = shift_month(month, -2) if quarterly else month
            closed = following <= window.last and (not quarterly or month.month % 3 == 0)
            if closed and p.start < following and p.end >= period_start:
                due = following.replace(day=5)
                lag = rng.randint(1, 10) if rng.random() < 0.1 else -rng.randint(0, 4)
                delivered = work_time(rng, due + timedelta(days=lag))
                rows.append(
                    [
                        p.project_id,
                        month.strftime("%Y-%m"),
                        "quarterly" if quarterly else "monthly",
                        due,
                        delivered if delivered <= window.cutoff else None,
                    ]
                )
    overdue = [i for i, row in enumerate(rows) if row[3] < window.last]
    for index in rng.sample(overdue, k=min(2, len(overdue))):
        rows[index][4] = None  # never delivered
    return rows


def acceptances(rng: random.Random, ending: list[Project], window: Window) -> list[Acceptance]:
    """Internal, then customer initial and final acceptance; the first project fails its first customer try."""
    rows = []
    for index, p in enumerate(ending):
        applied = p.end + timedelta(days=rng.randint(40, 50) if index == 1 else rng.randint(5, 25))
        steps = [("internal", "passed"), ("customer_initial", "failed" if index == 0 else "passed")]
        steps += [("customer_initial", "passed")] * (index == 0) + [("customer_final", "passed")]
        for kind, result in steps:
            decided = applied + timedelta(days=rng.randint(2, 10))
            if applied in window:
                rows.append(Acceptance(p, kind, applied, *((decided, result) if decided in window else (None, ""))))
            # final acceptance follows a trial-operation period
            gap = rng.randint(20, 40) if kind == "customer_initial" else rng.randint(3, 14)
            applied = decided + timedelta(days=gap)
    return rows
