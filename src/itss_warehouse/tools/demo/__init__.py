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
"""

from __future__ import annotations

import csv
import io
import itertools
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeAlias
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter

from itss_warehouse.ingest.sources import Source, load_sources
from itss_warehouse.reports.xlsx import first_sheet
from itss_warehouse.settings import PACKAGE_DIR

BAD_OPENED_AT = "2025-02-30 25:61:00"
BAD_PRIORITY = "未知"


def _layouts() -> dict[str, Source]:
    """File name → its source in the demo mapping, the one definition of the export layouts."""
    definitions = load_sources(PACKAGE_DIR / "mappings" / "demo.yml")
    return {source.pattern.replace("*", ""): source for source in definitions.sources}


LAYOUTS = _layouts()
HEADERS = {name: tuple(source.columns) for name, source in LAYOUTS.items()}
SHEETS = {name: source.sheet for name, source in LAYOUTS.items() if source.sheet}
# One exported row: its cells (text, numbers, dates, None) in header order.
Row: TypeAlias = list[Any]
BOM_FILES = {"tickets.csv", "ticket_status_history.csv", "incident_callbacks.csv"}  # as Chinese ticket tools export

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
BUSINESS_START, BUSINESS_END = time(9), time(18)
TICKET_TYPES = {
    "事件": ("INC", 70),
    "服务请求": ("REQ", 22),
    "问题": ("PRB", 3),
    "变更": ("CHG", 4),
    "发布": ("REL", 1),
}
PRIORITIES = {"紧急": ("P1", 3), "高": ("P2", 15), "中": ("P3", 47), "低": ("P4", 35)}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 1, 1, 2, 6, 8, 8, 7, 4, 6, 8, 8, 7, 5, 3, 2, 2, 1, 1, 1]
CATEGORIES = ["网络", "服务器", "存储", "数据库", "中间件", "应用系统", "桌面终端", "信息安全", "机房环境"]
GROUPS = {"一线支持": 40, "二线支持": 20, "网络组": 12, "系统组": 12, "数据库组": 6, "桌面组": 10}
CALLBACK_COMMENTS = {
    "满意": ["", "", "处理及时", "工程师态度很好", "问题已彻底解决"],
    "基本满意": ["响应偏慢", "问题有反复", "沟通不够及时"],
    "不满意": ["多次催促才处理", "问题未根本解决"],
}
SURVEY_ITEMS = ["服务态度", "响应速度", "解决质量", "沟通协调", "总体满意度"]
SURVEY_COMMENTS = [None, None, "希望加强节假日值守", "驻场人员稳定，满意"]
COMPLAINTS = ["故障响应超时", "驻场人员频繁更换", "月度报告内容不完整", "同一故障反复发生", "工程师未按约定时间到场"]
VISIT_SCOPES = ["季度服务回顾", "年度服务总结", "重大事件沟通", "满意度回访", "服务需求调研"]


@dataclass(frozen=True)
class Window:
    """The calendar months covered by the export; nothing happens after `last` 23:59:59."""

    first: date
    last: date

    @property
    def cutoff(self) -> datetime:
        return datetime.combine(self.last, time(23, 59, 59))

    @property
    def years(self) -> range:
        return range(self.first.year, self.last.year + 1)

    def __contains__(self, day: date) -> bool:
        return self.first <= day <= self.last


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


@dataclass
class Ticket:
    project: Project
    ticket_type: str
    priority: str
    delivery_mode: str
    is_major: bool
    outcome: str
    events: list[tuple[str, datetime]]  # status changes up to the cut-off, in time order
    onsite_at: datetime | None
    category: str
    assignee: str
    group: str
    reassignments: int
    ticket_id: str = ""
    related_problem: str = ""

    @property
    def opened(self) -> datetime:
        return self.events[0][1]

    @property
    def status(self) -> str:
        return self.events[-1][0]

    @property
    def resolved_at(self) -> datetime | None:
        if self.status not in ("已解决", "已关闭"):
            return None
        return next(at for status, at in reversed(self.events) if status == "已解决")

    @property
    def moments(self) -> list[datetime]:
        """Every time its exported row changes."""
        return [at for _, at in self.events] + ([self.onsite_at] if self.onsite_at else [])

    def at(self, cutoff: datetime) -> Ticket | None:
        """The ticket as exported at ``cutoff``: its status changes up to then; None before it was opened."""
        if self.opened > cutoff:
            return None
        onsite_at = self.onsite_at if self.onsite_at and self.onsite_at <= cutoff else None
        return replace(self, events=[(status, at) for status, at in self.events if at <= cutoff], onsite_at=onsite_at)


@dataclass(frozen=True)
class Acceptance:
    project: Project
    kind: str
    applied: date
    decided: date | None
    result: str


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

    ``nights`` holds the ticketing exports (tickets, status history, callbacks) back by that many days: the
    landing files show them at the end of ``end_date - nights``, and ``nights_dir/<day>/`` gets each later day's
    changes as a ticket tool's nightly export would: the tickets opened or changed that day (their whole row),
    and that day's status changes and callbacks. The other exports are as of ``end_date``.
    """
    rng = random.Random(seed)
    window = Window(_shift_month(end_date.replace(day=1), -(months - 1)), end_date)
    projects = _projects(rng, window, months, project_count)
    timelines = _tickets(rng, projects, window, tickets_per_project_month)
    tickets = [t for t in (timeline.at(window.cutoff) for timeline in timelines) if t]
    ticket_rows = [_ticket_row(t) for t in tickets]
    spoiled = _spoil(ticket_rows, tickets)
    good = [t for t in tickets if t.ticket_id not in spoiled]
    acceptances = _acceptances(rng, [p for p in projects if p.project_id in ENDING], window)
    reviews = [_review(rng, year) for year in range(window.first.year - 1, window.last.year + 1)]
    audits, findings = _audits(rng, window)
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
            [policy, priority, *targets, calendar, "Asia/Shanghai"]
            for policy, (calendar, targets_by_priority) in SLA_POLICIES.items()
            for priority, targets in targets_by_priority.items()
        ],
        "tickets.csv": ticket_rows,
        "ticket_status_history.csv": _status_history(good),
        "incident_callbacks.csv": _callbacks(rng, good, window),
        "service_reports.csv": _service_reports(rng, projects, window),
        "acceptances.csv": [[a.project.project_id, a.kind, a.applied, a.decided, a.result] for a in acceptances],
        "surveys.xlsx": _surveys(rng, acceptances, window),
        "complaints.csv": _complaints(rng, projects, window),
        "audits.csv": audits,
        "audit_findings.csv": findings,
        "management_reviews.csv": [review for review in reviews if review[1] in window],
        "customer_visits.csv": _visits(rng, window),
    }
    if nights:
        if nights_dir is None:
            raise ValueError("nights needs nights_dir, the folder for each later night's exports")
        cutoffs = [window.cutoff - timedelta(days=nights - night) for night in range(nights + 1)]
        callbacks = tables["incident_callbacks.csv"]
        tables.update(_ticketing(timelines, callbacks, cutoffs[0], spoiled))
        for before, after in itertools.pairwise(cutoffs):
            _write_night(nights_dir / after.date().isoformat(), timelines, callbacks, before, after, spoiled)
    landing_dir.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        if name in SHEETS:
            _write_xlsx(landing_dir / name, SHEETS[name], HEADERS[name], rows, window.cutoff)
        else:
            _write_csv(landing_dir / name, HEADERS[name], rows, bom=name in BOM_FILES)
    return sorted(landing_dir / name for name in tables)


def _status_history(tickets: list[Ticket]) -> list[Row]:
    return [[t.ticket_id, status, at] for t in tickets for status, at in t.events]


def _ticketing(
    timelines: list[Ticket], callbacks: list[Row], cutoff: datetime, spoiled: set[str]
) -> dict[str, list[Row]]:
    """The ticketing exports at ``cutoff``; the spoiled tickets keep their bad row and have no history."""
    tickets = [t for t in (timeline.at(cutoff) for timeline in timelines) if t]
    rows = [_ticket_row(t) for t in tickets]
    if _spoil(rows, tickets) != spoiled:
        raise ValueError("the deliberate bad rows must be tickets closed before the held-back nights")
    return {
        "tickets.csv": rows,
        "ticket_status_history.csv": _status_history([t for t in tickets if t.ticket_id not in spoiled]),
        "incident_callbacks.csv": [row for row in callbacks if row[2] <= cutoff],
    }


def _write_night(
    folder: Path,
    timelines: list[Ticket],
    callbacks: list[Row],
    before: datetime,
    after: datetime,
    spoiled: set[str],
) -> None:
    """The ticketing files of the night that ends at ``after``: each ticket opened or changed since ``before``
    (its whole row, as the tool exports it then), and the status changes and callbacks since."""
    changed = [
        t
        for t in (timeline.at(after) for timeline in timelines if timeline.ticket_id not in spoiled)
        if t and any(before < at <= after for at in t.moments)
    ]
    rows = {
        "tickets.csv": [_ticket_row(t) for t in changed],
        "ticket_status_history.csv": [row for row in _status_history(changed) if before < row[2] <= after],
        "incident_callbacks.csv": [row for row in callbacks if before < row[2] <= after],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in rows.items():
        stem, suffix = name.split(".")
        _write_csv(folder / f"{stem}_{folder.name}.{suffix}", HEADERS[name], table, bom=name in BOM_FILES)


def _shift_month(first_of_month: date, months: int) -> date:
    year, month = divmod(first_of_month.year * 12 + first_of_month.month - 1 + months, 12)
    return date(year, month + 1, 1)


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _work_time(rng: random.Random, day: date) -> datetime:
    return datetime.combine(day, time(rng.randint(9, 17), rng.randint(0, 59), rng.randint(0, 59)))


def _months(window: Window) -> list[date]:
    months = [window.first]
    while (following := _shift_month(months[-1], 1)) <= window.last:
        months.append(following)
    return months


def _projects(rng: random.Random, window: Window, months: int, count: int) -> list[Project]:
    projects = []
    plan = itertools.islice(itertools.cycle(PROJECT_PLAN), count)
    for number, (cid, dept, kind, mode, policy, frequency, service, begun) in enumerate(plan, start=1):
        pid = f"P{number:03d}"
        start = _shift_month(window.first, -begun)
        if pid in ENDING:
            end = _shift_month(window.first, max(1, int(months * ENDING[pid]))) - timedelta(days=1)
        else:  # multi-year contracts running well beyond the window
            years = 1
            while _shift_month(start, 12 * years) <= _shift_month(window.last.replace(day=1), 6):
                years += 1
            end = _shift_month(start, 12 * years) - timedelta(days=1)
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
                _shift_month(start, 36) - timedelta(days=1),
                old.mode,
                old.policy,
                old.frequency,
                start - timedelta(days=rng.randint(3, 10)),
            )
        )
    return projects


def _add_minutes(start: datetime, minutes: float, calendar: str) -> datetime:
    """Wall-clock time `minutes` after `start`, counting only Mon-Fri 09:00-18:00 for business hours."""
    if calendar == "7x24":
        return start + timedelta(minutes=minutes)
    at, remaining = start, minutes
    while True:
        if at.weekday() >= 5 or at.time() >= BUSINESS_END:
            at = datetime.combine(at.date() + timedelta(days=1), BUSINESS_START)
            continue
        at = max(at, datetime.combine(at.date(), BUSINESS_START))
        available = (datetime.combine(at.date(), BUSINESS_END) - at).total_seconds() / 60
        if remaining <= available:
            return at + timedelta(minutes=remaining)
        remaining -= available
        at = datetime.combine(at.date() + timedelta(days=1), BUSINESS_START)


def _sla_delay(rng: random.Random, target: int, met_share: float) -> float:
    return target * (rng.uniform(0.1, 0.95) if rng.random() < met_share else rng.uniform(1.05, 3.0))


def _tickets(rng: random.Random, projects: list[Project], window: Window, per_month: float) -> list[Ticket]:
    tickets = []
    for project in projects:
        for month in _months(window):
            days = [month + timedelta(days=d) for d in range((_shift_month(month, 1) - month).days)]
            active = [day for day in days if project.start <= day <= project.end and day in window]
            weights = [1.0 if day.weekday() < 5 else 0.4 for day in active]
            for _ in range(round(per_month * rng.uniform(0.7, 1.3) * len(active) / len(days))):
                hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
                minute, second = rng.randint(0, 59), rng.randint(0, 59)
                opened = datetime.combine(rng.choices(active, weights)[0], time(hour, minute, second))
                tickets.append(_ticket(rng, project, opened))
    tickets.sort(key=lambda t: (t.opened, t.project.project_id))
    numbers: Counter[tuple[str, int]] = Counter()
    problems: defaultdict[str, list[str]] = defaultdict(list)
    for ticket in tickets:
        prefix, year = TICKET_TYPES[ticket.ticket_type][0], ticket.opened.year
        numbers[prefix, year] += 1
        ticket.ticket_id = f"{prefix}-{year}-{numbers[prefix, year]:06d}"
        known = problems[ticket.project.project_id]
        if ticket.ticket_type == "问题":
            known.append(ticket.ticket_id)
        elif ticket.ticket_type == "事件" and known and rng.random() < 0.05:
            ticket.related_problem = rng.choice(known)
    return tickets


def _ticket(rng: random.Random, project: Project, opened: datetime) -> Ticket:
    """A ticket's whole life, also after the export's cut-off (see ``Ticket.at``)."""
    ticket_type = rng.choices(list(TICKET_TYPES), [weight for _, weight in TICKET_TYPES.values()])[0]
    priority = rng.choices(list(PRIORITIES), [weight for _, weight in PRIORITIES.values()])[0]
    calendar, targets = SLA_POLICIES[project.policy]
    response, onsite, resolution = targets[PRIORITIES[priority][0]]
    responded = _add_minutes(opened, _sla_delay(rng, response, 0.93), calendar)
    if ticket_type in ("事件", "服务请求"):
        resolved = _add_minutes(opened, _sla_delay(rng, resolution, 0.9), calendar)
    else:  # problems need root-cause analysis; changes and releases wait for a maintenance window
        resolved = opened + timedelta(days=rng.uniform(3, 30) if ticket_type == "问题" else rng.uniform(1, 7))
    delivery = "现场" if rng.random() < (0.6 if project.mode == "驻场" else 0.2) else "远程"
    onsite_at = None
    if delivery == "现场":
        onsite_at = max(_add_minutes(opened, _sla_delay(rng, onsite, 0.92), calendar), responded + timedelta(minutes=5))
        resolved = max(resolved, onsite_at + timedelta(minutes=rng.uniform(20, 120)))
    resolved = max(resolved, responded + timedelta(minutes=rng.uniform(5, 30)))

    events = [("新建", opened), ("处理中", responded)]
    if rng.random() < 0.15:
        paused = responded + (resolved - responded) * rng.uniform(0.1, 0.5)
        resumed = paused + (resolved - paused) * rng.uniform(0.3, 0.8)
        events += [(rng.choice(["挂起", "待客户确认"]), paused), ("处理中", resumed)]
    events.append(("已解决", resolved))
    if rng.random() < 0.03:
        reopened = resolved + timedelta(hours=rng.uniform(1, 48))
        resumed = reopened + timedelta(minutes=rng.uniform(10, 60))
        resolved = resumed + timedelta(hours=rng.uniform(1, 8))
        events += [("重新打开", reopened), ("处理中", resumed), ("已解决", resolved)]
    events.append(("已关闭", resolved + timedelta(hours=rng.uniform(2, 72))))
    return Ticket(
        project=project,
        ticket_type=ticket_type,
        priority=priority,
        delivery_mode=delivery,
        is_major=ticket_type == "事件" and priority == "紧急" and rng.random() < 0.3,
        outcome=rng.choices(["成功", "失败", "回退"], [88, 5, 7])[0] if ticket_type in ("变更", "发布") else "",
        events=[(status, at.replace(microsecond=0)) for status, at in events],
        onsite_at=onsite_at.replace(microsecond=0) if onsite_at else None,
        category=rng.choice(CATEGORIES),
        assignee=rng.choice(ENGINEERS[project.dept_id]),
        group="二线支持" if ticket_type == "问题" else rng.choices(list(GROUPS), list(GROUPS.values()))[0],
        reassignments=rng.choices([0, 1, 2, 3], [60, 25, 10, 5])[0],
    )


def _ticket_row(t: Ticket) -> Row:
    responded = t.events[1][1] if len(t.events) > 1 else None
    closed = t.events[-1][1] if t.status == "已关闭" else None
    reopens = sum(status == "重新打开" for status, _ in t.events)
    return [
        t.ticket_id,
        t.ticket_type,
        t.project.project_id,
        t.priority,
        t.category,
        t.opened,
        responded,
        t.onsite_at,
        t.resolved_at,
        closed,
        t.status,
        t.assignee,
        t.group,
        t.reassignments,
        reopens,
        "是" if t.is_major else "否",
        t.delivery_mode,
        t.outcome if t.resolved_at else "",
        t.related_problem,
        max(t.events[-1][1], t.onsite_at or t.opened),
    ]


def _spoil(rows: list[Row], tickets: list[Ticket]) -> set[str]:
    """Write the documented bad values into `rows`; return the ids of the spoiled tickets."""
    bad = [i for i, t in enumerate(tickets) if t.ticket_type == "事件" and t.status == "已关闭" and not t.is_major][:4]
    if len(bad) < 4:
        raise ValueError("too little ticket data to place the deliberate bad rows")
    column = HEADERS["tickets.csv"].index
    rows[bad[0]][column("工单编号")] = ""
    rows[bad[1]][column("创建时间")] = BAD_OPENED_AT
    rows[bad[2]][column("优先级")] = BAD_PRIORITY
    rows[bad[3]][column("解决时间")] = tickets[bad[3]].opened - timedelta(hours=3)
    return {tickets[i].ticket_id for i in bad}


def _callbacks(rng: random.Random, tickets: list[Ticket], window: Window) -> list[Row]:
    calls = []
    for t in tickets:
        if t.ticket_type != "事件" or t.resolved_at is None or rng.random() >= 0.85:
            continue
        lag = rng.uniform(*rng.choices([(0, 3), (3, 7), (7, 10)], [80, 12, 8])[0])
        called = max(_work_time(rng, (t.resolved_at + timedelta(days=lag)).date()), t.resolved_at + timedelta(hours=1))
        rating = rng.choices(list(CALLBACK_COMMENTS), [85, 12, 3])[0]
        if called <= window.cutoff:
            calls.append((called, t.ticket_id, rating, rng.choice(CALLBACK_COMMENTS[rating])))
    numbers: Counter[int] = Counter()
    rows = []
    for called, ticket_id, rating, comment in sorted(calls):
        numbers[called.year] += 1
        rows.append([f"HF-{called.year}-{numbers[called.year]:06d}", ticket_id, called, rating, comment])
    return rows


def _service_reports(rng: random.Random, projects: list[Project], window: Window) -> list[Row]:
    rows: list[Row] = []
    for p in projects:
        quarterly = p.frequency == "季度"
        for month in _months(window):
            following = _shift_month(month, 1)
            period_start = _shift_month(month, -2) if quarterly else month
            closed = following <= window.last and (not quarterly or month.month % 3 == 0)
            if closed and p.start < following and p.end >= period_start:
                due = following.replace(day=5)
                lag = rng.randint(1, 10) if rng.random() < 0.1 else -rng.randint(0, 4)
                delivered = _work_time(rng, due + timedelta(days=lag))
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


def _acceptances(rng: random.Random, ending: list[Project], window: Window) -> list[Acceptance]:
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


def _surveys(rng: random.Random, acceptances: list[Acceptance], window: Window) -> list[Row]:
    rows: list[Row] = []
    for a in acceptances:
        if a.kind == "customer_final" and a.result == "passed" and a.decided:
            responded = _weekday(a.decided + timedelta(days=rng.randint(3, 14)))
            if responded in window:
                rows += [
                    [
                        f"S{responded.year}-PRJ-{a.project.project_id}",
                        "project",
                        a.project.customer_id,
                        a.project.project_id,
                        responded,
                        item,
                        rng.choices([3, 4, 5], [1, 4, 6])[0],
                        "1-5",
                        None,
                    ]
                    for item in SURVEY_ITEMS
                ]
    for year in window.years:
        for cid in CUSTOMERS:
            responded = _weekday(date(year, 12, rng.randint(1, 16)))
            base = rng.gauss(88, 4)
            if rng.random() < 0.9 and responded in window:
                for item in SURVEY_ITEMS:
                    score = round(min(100, max(60, base + rng.gauss(0, 3))))
                    comment = rng.choice(SURVEY_COMMENTS) if item == "总体满意度" else None
                    rows.append([f"S{year}-ANN-{cid}", "annual", cid, None, responded, item, score, "0-100", comment])
    return rows


def _complaints(rng: random.Random, projects: list[Project], window: Window) -> list[Row]:
    received = []
    for month in _months(window):
        for _ in range(rng.choices([0, 1, 2], [65, 30, 5])[0]):
            at = _work_time(rng, month + timedelta(days=rng.randint(0, 27)))
            active = [p for p in projects if p.start <= at.date() <= p.end]
            major, settled, description = rng.random() < 0.25, rng.random() < 0.9, rng.choice(COMPLAINTS)
            if at <= window.cutoff and active:
                received.append((at, rng.choice(active), major, settled, description))
    rows: list[Row] = []
    numbers: Counter[int] = Counter()
    for at, p, major, settled, description in sorted(received, key=lambda complaint: complaint[0]):
        numbers[at.year] += 1
        escalated = at + timedelta(minutes=rng.randint(30, 240)) if major else None
        closed = _work_time(rng, at.date() + timedelta(days=rng.randint(1, 15))) if settled else None
        escalated, closed = (ts if ts and ts <= window.cutoff else None for ts in (escalated, closed))
        rows.append(
            [
                f"TS-{at.year}-{numbers[at.year]:03d}",
                p.customer_id,
                p.project_id,
                at,
                "true" if major else "false",
                escalated,
                closed,
                description,
            ]
        )
    return rows


def _audits(rng: random.Random, window: Window) -> tuple[list[Row], list[Row]]:
    """Internal audits in April (May for 运维三部 in even years) with their findings."""
    audits, findings = [], []
    for year in window.years:
        for dept_id, _, in_system in DEPARTMENTS:
            audited = _weekday(date(year, 5 if dept_id == "D03" and year % 2 == 0 else 4, rng.randint(8, 24)))
            if in_system != "Y" or audited not in window:
                continue
            audit_id = f"IA-{year}-{dept_id}"
            audits.append([audit_id, year, dept_id, audited])
            for number in range(1, rng.randint(1, 4) + 1):
                opened = audited + timedelta(days=rng.randint(0, 2))
                closed = opened + timedelta(days=rng.randint(10, 60))
                severity = "major" if rng.random() < 0.2 else "minor"
                settled = rng.random() < 0.9 and closed in window
                findings.append([f"{audit_id}-F{number:02d}", audit_id, severity, opened, closed if settled else None])
    return audits, findings


def _review(rng: random.Random, year: int) -> Row:
    """The yearly management review, after the April audits and the December survey."""
    held = date(year, 12, rng.randint(20, 29)) if rng.random() < 0.7 else date(year + 1, 1, rng.randint(8, 20))
    return [f"MR-{year}", _weekday(held), f"{year}年度ITSS运维服务管理体系评审"]


def _visits(rng: random.Random, window: Window) -> list[Row]:
    visits = []
    for year in window.years:
        for cid in CUSTOMERS:
            for _ in range(rng.choices([0, 1, 2, 3], [1, 4, 4, 2])[0]):
                visited = _weekday(date(year, 1, 1) + timedelta(days=rng.randint(0, 360)))
                if visited in window:
                    visits.append((visited, cid, rng.choice(VISIT_SCOPES)))
    rows: list[Row] = []
    numbers: Counter[int] = Counter()
    for visited, cid, scope in sorted(visits):
        numbers[visited.year] += 1
        rows.append([f"V{visited.year}-{numbers[visited.year]:03d}", cid, visited, scope])
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _write_csv(path: Path, header: tuple[str, ...], rows: list[Row], *, bom: bool) -> None:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows([_cell(value) for value in row] for row in rows)


def _write_xlsx(path: Path, sheet: str, header: tuple[str, ...], rows: list[Row], stamp: datetime) -> None:
    workbook = Workbook()
    worksheet = first_sheet(workbook)
    worksheet.title = sheet
    for row in [list(header), *rows]:
        worksheet.append(row)
    workbook.properties.created = workbook.properties.modified = stamp
    buffer = io.BytesIO()
    ExcelWriter(workbook, ZipFile(buffer, "w", ZIP_DEFLATED)).save()  # unlike Workbook.save, keeps our `modified`
    # Zip entries carry their write time too; pin it so reruns are byte-identical.
    with ZipFile(buffer) as source, ZipFile(path, "w", ZIP_DEFLATED) as target:
        for entry in source.infolist():
            target.writestr(ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0)), source.read(entry), ZIP_DEFLATED)
