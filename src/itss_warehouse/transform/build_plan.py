"""Whether a build must be full, and marking the requests a finished build served.

The nightly build is incremental: each model reads the batches after the latest it holds.
A change to batches the marts already hold (a withdrawal, a batch let in again) cannot be
made that way, so it leaves a row in ``raw.rebuild_requests`` (:mod:`itss_warehouse.ingest.batches`)
and the next build is a full one. A finished build marks the requests that existed when it
began; one made during the build waits for the next.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import psycopg

from itss_warehouse.warehouse.connection import one_row


@dataclass(frozen=True)
class BuildPlan:
    full_refresh: bool
    requests_through: int  # the latest rebuild request the build serves

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def plan_build(url: str) -> BuildPlan:
    with psycopg.connect(url) as conn:
        pending, through = one_row(conn.execute(
            "select count(*) filter (where built_at is null), coalesce(max(request_id), 0) from raw.rebuild_requests"
        ))  # fmt: skip
    return BuildPlan(pending > 0, through)


def record_build(url: str, plan: BuildPlan) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            "update raw.rebuild_requests set built_at = now() where request_id <= %s and built_at is null",
            (plan.requests_through,),
        )
