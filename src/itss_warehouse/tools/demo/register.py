"""The demo's improvement register (改进措施登记表), as the quality department fills it in.

On ``make run``'s first night the warehouse is empty, so a row naming a generated item's id
would be quarantined as unknown (ingest/improvement_register.py): the demo's rows are items
raised by hand (internal audits, management reviews, customer visits) with ids of their own.
The items raised once a quarter over the window are done (every third one after its planned
date) and, once verified, effective but for every fourth; four recent ones stay done awaiting
verification, overdue (planned date passed, not done), in progress and open. Every row keeps the register's rules:
an owner while open or in progress, a completed date before a verified one, nothing dated
after the window's last day but the planned dates. Recurring items come from the generated
KPI items, not from here.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from itss_warehouse.tools.demo.files import LAYOUTS, Row
from itss_warehouse.tools.demo.organisation import MANAGERS
from itss_warehouse.tools.demo.timeline import Window, next_weekday, window_months

FILE = "改进措施登记表.xlsx"
VERIFIERS = ["质量部 孙丽", "管理者代表 何伟"]
# What each origin raises: the problem, its cause category (the seed's Chinese name), cause, and actions.
FINDINGS = {
    "audit": [
        (
            "内审发现：变更记录缺少回退方案",
            "过程",
            "变更模板未强制填写回退方案",
            "补齐近三个月变更的回退方案",
            "变更模板增加必填项并纳入月度抽查",
        ),
        (
            "内审发现：备件台账与实物不符",
            "资源",
            "备件出入库未及时登记",
            "盘点并更新备件台账",
            "出入库当日登记，每季度盘点",
        ),
    ],
    "management_review": [
        ("管理评审：二线支持响应不及时", "人员", "二线值班人员不足", "增设二线轮值", "按工单量核定二线人力"),
        ("管理评审：监控告警误报多", "工具/技术", "告警阈值多年未调整", "重新核定告警阈值", "每半年评审一次告警规则"),
    ],
    "customer_visit": [
        (
            "客户走访：月度报告提交偏晚",
            "过程",
            "报告编制依赖人工汇总",
            "报告数据改为系统自动生成",
            "报告提交纳入项目考核",
        ),
        (
            "客户走访：驻场人员更换频繁",
            "人员",
            "驻场岗位缺少备岗",
            "为驻场岗位指定备岗人员",
            "人员变更提前两周告知客户",
        ),
        (
            "客户走访：硬件维保响应慢",
            "供应商",
            "原厂维保响应时限未约定",
            "与原厂补签响应时限条款",
            "供应商年度考核纳入响应时限",
        ),
    ],
}
ORIGINS = list(FINDINGS)


@dataclass(frozen=True)
class Plan:
    """One item's course: days after raising it is planned done by, done, and verified (None: not reached)."""

    raised: date
    planned_days: int
    done_days: int | None
    verified_days: int | None
    effective: bool = True


def register_rows(rng: random.Random, window: Window) -> list[Row]:
    """The register's rows, in the demo mapping's column order (mappings/demo.yml improvement_register_zh)."""
    last = window.last
    quarters = [month for month in window_months(window) if month.month % 3 == 1]
    plans = [
        Plan(next_weekday(month + timedelta(days=rng.randint(3, 20))), 45,
             rng.randint(50, 75) if number % 3 == 1 else rng.randint(20, 44), rng.randint(20, 50),
             effective=number % 4 != 2)
        for number, month in enumerate(quarters)
    ]  # fmt: skip
    plans += [
        Plan(last - timedelta(days=50), 45, 30, None),  # done on time, awaiting verification
        Plan(last - timedelta(days=80), 30, None, None),  # overdue: the plan passed, still in progress
        Plan(last - timedelta(days=25), 45, None, None),  # in progress
        Plan(last - timedelta(days=6), 30, None, None),  # open
    ]
    rows = []
    for number, plan in enumerate(sorted(plans, key=lambda plan: plan.raised), start=1):
        origin = ORIGINS[number % len(ORIGINS)]
        rows.append(_row(rng, f"NS-{plan.raised.year}-{number:03d}", origin, plan, last, number))
    return rows


def _row(rng: random.Random, item_id: str, origin: str, plan: Plan, last: date, number: int) -> Row:
    source = LAYOUTS[FILE]
    origins = {code: label for label, code in source.values["origin"].items()}
    statuses = {code: label for label, code in source.values["status"].items()}
    description, category, cause, corrective, preventive = rng.choice(FINDINGS[origin])
    done = plan.raised + timedelta(days=plan.done_days) if plan.done_days is not None else None
    verified = done + timedelta(days=plan.verified_days) if done and plan.verified_days is not None else None
    done, verified = (done, verified) if done and done <= last else (None, None)
    verified = verified if verified and verified <= last else None
    if verified:
        status, note = (
            ("verified", "复查三个月未再发生") if plan.effective else ("not_effective", "复查仍有发生，需重新分析")
        )
    elif done:
        status, note = "done", None
    else:
        status, note = ("open" if last - plan.raised < timedelta(days=10) else "in_progress"), None
    fields = {
        "item_id": item_id,
        "origin": origins[origin],
        "description": description,
        "raised_date": plan.raised,
        "cause_category": category if status != "open" else None,
        "cause_analysis": cause if status != "open" else None,
        "corrective_action": corrective if status != "open" else None,
        "preventive_action": preventive if status != "open" else None,
        "owner": MANAGERS[number % len(MANAGERS)],
        "planned_date": plan.raised + timedelta(days=plan.planned_days),
        "status": statuses[status],
        "completed_date": done,
        "verified_by": VERIFIERS[number % len(VERIFIERS)] if verified else None,
        "verified_date": verified,
        "verification_note": note,
    }
    return [fields[field] for field in source.columns.values()]
