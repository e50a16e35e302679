"""The demo's tickets (with their status changes), their export rows, the deliberate bad rows, callbacks,
and the held-back nights' exports."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from pathlib import Path

from itss_warehouse.tools.demo.files import BOM_FILES, HEADERS, Row, write_csv
from itss_warehouse.tools.demo.organisation import ENGINEERS, SLA_POLICIES, Project
from itss_warehouse.tools.demo.timeline import Window, add_minutes, shift_month, window_months, work_time

BAD_OPENED_AT = "2025-02-30 25:61:00"


BAD_PRIORITY = "未知"


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
# The department whose projects' tool also exports its assignment log and SLA records.
TOOL_LOG_DEPARTMENT = "D01"
SLA_RECORD_NAMES = {"response": "响应时限", "resolution": "解决时限"}


CALLBACK_COMMENTS = {
    "满意": ["", "", "处理及时", "工程师态度很好", "问题已彻底解决"],
    "基本满意": ["响应偏慢", "问题有反复", "沟通不够及时"],
    "不满意": ["多次催促才处理", "问题未根本解决"],
}


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
    # The groups that held it in turn, from its opening; the last is the one it ends with.
    handovers: list[tuple[str, datetime]] = field(default_factory=list)

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
        return [at for _, at in [*self.events, *self.handovers]] + ([self.onsite_at] if self.onsite_at else [])

    def at(self, cutoff: datetime) -> Ticket | None:
        """The ticket as exported at ``cutoff``: its status changes up to then; None before it was opened."""
        if self.opened > cutoff:
            return None
        onsite_at = self.onsite_at if self.onsite_at and self.onsite_at <= cutoff else None
        return replace(
            self,
            events=[(status, at) for status, at in self.events if at <= cutoff],
            onsite_at=onsite_at,
            handovers=[(group, at) for group, at in self.handovers if at <= cutoff],
        )

    @property
    def current_group(self) -> str:
        return self.handovers[-1][0]

    @property
    def keeps_tool_log(self) -> bool:
        return self.project.dept_id == TOOL_LOG_DEPARTMENT


def status_history(tickets: list[Ticket]) -> list[Row]:
    return [[t.ticket_id, status, at] for t in tickets for status, at in t.events]


def assignment_history(tickets: list[Ticket]) -> list[Row]:
    """The assignment log of the reassigned tickets whose tool keeps one: each group that took the ticket, when."""
    return [[t.ticket_id, group, at] for t in tickets if t.keeps_tool_log and t.reassignments for group, at in
            t.handovers]  # fmt: skip


def sla_records(tickets: list[Ticket]) -> list[Row]:
    """The tool's completed SLA records of its closed incidents and service requests, where it keeps them: its
    clock counts the policy's hours but neither holidays nor pauses, so some verdicts differ from the warehouse's."""
    rows: list[Row] = []
    for t in tickets:
        if not (t.keeps_tool_log and t.status == "已关闭" and t.ticket_type in ("事件", "服务请求")):
            continue
        calendar, targets = SLA_POLICIES[t.project.policy]
        response, _, resolution = targets[PRIORITIES[t.priority][0]]
        for metric, target, stopped in (("response", response, t.events[1][1]), ("resolution", resolution,
                                                                                   t.resolved_at)):  # fmt: skip
            due = add_minutes(t.opened, target, calendar).replace(microsecond=0)
            rows.append([t.ticket_id, SLA_RECORD_NAMES[metric], "已完成", t.opened, stopped, due,
                         "是" if stopped and stopped > due else "否"])  # fmt: skip
    return rows


def exports_at(
    timelines: list[Ticket], callbacks: list[Row], cutoff: datetime, spoiled: set[str]
) -> dict[str, list[Row]]:
    """The ticketing exports at ``cutoff``; the spoiled tickets keep their bad row and have no history."""
    tickets = [t for t in (timeline.at(cutoff) for timeline in timelines) if t]
    rows = [ticket_row(t) for t in tickets]
    if spoil(rows, tickets) != spoiled:
        raise ValueError("the deliberate bad rows must be tickets closed before the held-back nights")
    good = [t for t in tickets if t.ticket_id not in spoiled]
    return {
        "tickets.csv": rows,
        "ticket_status_history.csv": status_history(good),
        "ticket_assignment_history.csv": assignment_history(good),
        "ticket_sla_records.csv": sla_records(good),
        "incident_callbacks.csv": [row for row in callbacks if row[2] <= cutoff],
    }


def write_night(
    folder: Path,
    timelines: list[Ticket],
    callbacks: list[Row],
    before: datetime,
    after: datetime,
    spoiled: set[str],
) -> None:
    """The ticketing files of the night that ends at ``after``: each ticket opened or changed since ``before``
    (its whole row, as the tool exports it then), the status changes, reassignments and callbacks since, and the
    SLA records of the tickets closed since (closing is a ticket's last change)."""
    changed = [
        t
        for t in (timeline.at(after) for timeline in timelines if timeline.ticket_id not in spoiled)
        if t and any(before < at <= after for at in t.moments)
    ]
    rows = {
        "tickets.csv": [ticket_row(t) for t in changed],
        "ticket_status_history.csv": [row for row in status_history(changed) if before < row[2] <= after],
        "ticket_assignment_history.csv": [row for row in assignment_history(changed) if before < row[2] <= after],
        "ticket_sla_records.csv": sla_records(changed),
        "incident_callbacks.csv": [row for row in callbacks if before < row[2] <= after],
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, table in rows.items():
        stem, suffix = name.split(".")
        write_csv(folder / f"{stem}_{folder.name}.{suffix}", HEADERS[name], table, bom=name in BOM_FILES)


def sla_delay(rng: random.Random, target: int, met_share: float) -> float:
    return target * (rng.uniform(0.1, 0.95) if rng.random() < met_share else rng.uniform(1.05, 3.0))


def ticket_timelines(rng: random.Random, projects: list[Project], window: Window, per_month: float) -> list[Ticket]:
    tickets = []
    for project in projects:
        for month in window_months(window):
            days = [month + timedelta(days=d) for d in range((shift_month(month, 1) - month).days)]
            active = [day for day in days if project.start <= day <= project.end and day in window]
            weights = [1.0 if day.weekday() < 5 else 0.4 for day in active]
            for _ in range(round(per_month * rng.uniform(0.7, 1.3) * len(active) / len(days))):
                hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
                minute, second = rng.randint(0, 59), rng.randint(0, 59)
                opened = datetime.combine(rng.choices(active, weights)[0], time(hour, minute, second))
                tickets.append(new_ticket(rng, project, opened))
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


def new_ticket(rng: random.Random, project: Project, opened: datetime) -> Ticket:
    """A ticket's whole life, also after the export's cut-off (see ``Ticket.at``)."""
    ticket_type = rng.choices(list(TICKET_TYPES), [weight for _, weight in TICKET_TYPES.values()])[0]
    priority = rng.choices(list(PRIORITIES), [weight for _, weight in PRIORITIES.values()])[0]
    calendar, targets = SLA_POLICIES[project.policy]
    response, onsite, resolution = targets[PRIORITIES[priority][0]]
    responded = add_minutes(opened, sla_delay(rng, response, 0.93), calendar)
    if ticket_type in ("事件", "服务请求"):
        resolved = add_minutes(opened, sla_delay(rng, resolution, 0.9), calendar)
    else:  # problems need root-cause analysis; changes and releases wait for a maintenance window
        resolved = opened + timedelta(days=rng.uniform(3, 30) if ticket_type == "问题" else rng.uniform(1, 7))
    delivery = "现场" if rng.random() < (0.6 if project.mode == "驻场" else 0.2) else "远程"
    onsite_at = None
    if delivery == "现场":
        onsite_at = max(add_minutes(opened, sla_delay(rng, onsite, 0.92), calendar), responded + timedelta(minutes=5))
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
    ticket = Ticket(
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
    ticket.handovers = handovers(ticket.group, ticket.reassignments, opened, responded, resolved)
    return ticket


def handovers(group: str, reassignments: int, opened: datetime, responded: datetime, resolved: datetime) -> list:
    """The groups that hold a ticket in turn, the first from its opening, ``group`` last: each reassignment at an
    even step between the first response and the final resolution. No randomness: no other file changes."""
    groups = [*[other for other in GROUPS if other != group][:reassignments], group]
    step = (resolved - responded) / len(groups)
    return [(held, opened if turn == 0 else (responded + step * turn).replace(microsecond=0))
            for turn, held in enumerate(groups)]  # fmt: skip


def ticket_row(t: Ticket) -> Row:
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
        t.current_group,
        t.reassignments,
        reopens,
        "是" if t.is_major else "否",
        t.delivery_mode,
        t.outcome if t.resolved_at else "",
        t.related_problem,
        max(t.events[-1][1], t.onsite_at or t.opened, t.handovers[-1][1]),
    ]


def spoil(rows: list[Row], tickets: list[Ticket]) -> set[str]:
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


def callback_rows(rng: random.Random, tickets: list[Ticket], window: Window) -> list[Row]:
    calls = []
    for t in tickets:
        if t.ticket_type != "事件" or t.resolved_at is None or rng.random() >= 0.85:
            continue
        lag = rng.uniform(*rng.choices([(0, 3), (3, 7), (7, 10)], [80, 12, 8])[0])
        called = max(work_time(rng, (t.resolved_at + timedelta(days=lag)).date()), t.resolved_at + timedelta(hours=1))
        rating = rng.choices(list(CALLBACK_COMMENTS), [85, 12, 3])[0]
        if called <= window.cutoff:
            calls.append((called, t.ticket_id, rating, rng.choice(CALLBACK_COMMENTS[rating])))
    numbers: Counter[int] = Counter()
    rows = []
    for called, ticket_id, rating, comment in sorted(calls):
        numbers[called.year] += 1
        rows.append([f"HF-{called.year}-{numbers[called.year]:06d}", ticket_id, called, rating, comment])
    return rows


# The SLA exemption register (SLA豁免登记表): reason category (the Chinese label of seed
# sla_exemption_reason_categories) and the reason the customer's representative agreed to.
EXEMPTION_REASONS = [
    ("客户现场关闭", "客户机房门禁关闭，工程师无法进场"),
    ("客户未确认", "故障已修复，等待客户确认恢复"),
    ("客户侧停电", "客户机房停电，设备无法上电"),
    ("等待客户方供应商", "等待客户方硬件供应商到场更换备件"),
]
EXEMPTIONS_PER_MONTH = 2
PAUSES = {"挂起", "待客户确认"}


def exemption_rows(tickets: list[Ticket], window: Window) -> list[Row]:
    """A few exemptions a month, for resolutions surely breached: incidents and service requests of round-the-clock
    projects (business minutes are wall-clock minutes) never paused or reopened, resolved in more than 1.5 times
    their target. None in the window's first month, whose figures tests recompute from the tickets alone
    (tests/transform/test_demo_attainment.py); none resolved in the last two weeks, so that the tickets are in
    the landing files however many nights their exports are held back. No randomness: the data stays the same."""
    latest = window.cutoff - timedelta(days=14)
    chosen: Counter[tuple[int, int]] = Counter()
    rows: list[Row] = []
    for t in sorted(tickets, key=lambda ticket: ticket.ticket_id):
        calendar, targets = SLA_POLICIES[t.project.policy]
        resolved, month = t.resolved_at, (t.opened.year, t.opened.month)
        if (calendar != "7x24" or t.ticket_type not in ("事件", "服务请求") or resolved is None or resolved > latest
                or month == (window.first.year, window.first.month) or chosen[month] == EXEMPTIONS_PER_MONTH
                or any(status in PAUSES or status == "重新打开" for status, _ in t.events)):  # fmt: skip
            continue
        if (resolved - t.opened).total_seconds() / 60 <= 1.5 * targets[PRIORITIES[t.priority][0]][2]:
            continue
        chosen[month] += 1
        number = len(rows) + 1
        category, reason = EXEMPTION_REASONS[number % len(EXEMPTION_REASONS)]
        metric = "全部" if number % 3 == 0 else "解决"
        approved = min(resolved.date() + timedelta(days=3), window.last)
        rows.append([f"EX-{number:04d}", t.ticket_id, metric, category, reason, "客户代表", approved,
                     f"QR-{t.ticket_id}"])  # fmt: skip
    return rows
