"""The demo's surveys, complaints, internal audits, management reviews and customer visits."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from itss_warehouse.tools.demo.files import Row
from itss_warehouse.tools.demo.organisation import CUSTOMERS, DEPARTMENTS, Acceptance, Project
from itss_warehouse.tools.demo.timeline import Window, next_weekday, window_months, work_time

SURVEY_ITEMS = ["服务态度", "响应速度", "解决质量", "沟通协调", "总体满意度"]


SURVEY_COMMENTS = [None, None, "希望加强节假日值守", "驻场人员稳定，满意"]


COMPLAINTS = ["故障响应超时", "驻场人员频繁更换", "月度报告内容不完整", "同一故障反复发生", "工程师未按约定时间到场"]


VISIT_SCOPES = ["季度服务回顾", "年度服务总结", "重大事件沟通", "满意度回访", "服务需求调研"]


def surveys(rng: random.Random, acceptances: list[Acceptance], window: Window) -> list[Row]:
    rows: list[Row] = []
    for a in acceptances:
        if a.kind == "customer_final" and a.result == "passed" and a.decided:
            responded = next_weekday(a.decided + timedelta(days=rng.randint(3, 14)))
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
            responded = next_weekday(date(year, 12, rng.randint(1, 16)))
            base = rng.gauss(88, 4)
            if rng.random() < 0.9 and responded in window:
                for item in SURVEY_ITEMS:
                    score = round(min(100, max(60, base + rng.gauss(0, 3))))
                    comment = rng.choice(SURVEY_COMMENTS) if item == "总体满意度" else None
                    rows.append([f"S{year}-ANN-{cid}", "annual", cid, None, responded, item, score, "0-100", comment])
    return rows


def complaints(rng: random.Random, projects: list[Project], window: Window) -> list[Row]:
    received = []
    for month in window_months(window):
        for _ in range(rng.choices([0, 1, 2], [65, 30, 5])[0]):
            at = work_time(rng, month + timedelta(days=rng.randint(0, 27)))
            active = [p for p in projects if p.start <= at.date() <= p.end]
            major, settled, description = rng.random() < 0.25, rng.random() < 0.9, rng.choice(COMPLAINTS)
            if at <= window.cutoff and active:
                received.append((at, rng.choice(active), major, settled, description))
    rows: list[Row] = []
    numbers: Counter[int] = Counter()
    for at, p, major, settled, description in sorted(received, key=lambda complaint: complaint[0]):
        numbers[at.year] += 1
        escalated = at + timedelta(minutes=rng.randint(30, 240)) if major else None
        closed = work_time(rng, at.date() + timedelta(days=rng.randint(1, 15))) if settled else None
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


def audits(rng: random.Random, window: Window) -> tuple[list[Row], list[Row]]:
    """Internal audits in April (May for 运维三部 in even years) with their findings."""
    audits, findings = [], []
    for year in window.years:
        for dept_id, _, in_system in DEPARTMENTS:
            audited = next_weekday(date(year, 5 if dept_id == "D03" and year % 2 == 0 else 4, rng.randint(8, 24)))
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


def management_review(rng: random.Random, year: int) -> Row:
    """The yearly management review, after the April audits and the December survey."""
    held = date(year, 12, rng.randint(20, 29)) if rng.random() < 0.7 else date(year + 1, 1, rng.randint(8, 20))
    return [f"MR-{year}", next_weekday(held), f"{year}年度ITSS运维服务管理体系评审"]


def visits(rng: random.Random, window: Window) -> list[Row]:
    visits = []
    for year in window.years:
        for cid in CUSTOMERS:
            for _ in range(rng.choices([0, 1, 2, 3], [1, 4, 4, 2])[0]):
                visited = next_weekday(date(year, 1, 1) + timedelta(days=rng.randint(0, 360)))
                if visited in window:
                    visits.append((visited, cid, rng.choice(VISIT_SCOPES)))
    rows: list[Row] = []
    numbers: Counter[int] = Counter()
    for visited, cid, scope in sorted(visits):
        numbers[visited.year] += 1
        rows.append([f"V{visited.year}-{numbers[visited.year]:03d}", cid, visited, scope])
    return rows
