"""Run one benchmark step in a fresh process: its wall time and its peak memory."""

from __future__ import annotations

import multiprocessing
import queue
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class StepFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class Measured:
    step: str
    seconds: float
    peak_megabytes: float  # the largest resident set of the step's process and the processes it waited for


def _child(step: Callable[..., Any], args: tuple, results: multiprocessing.Queue) -> None:
    started = time.perf_counter()
    try:
        value = step(*args)
    except Exception:  # noqa: BLE001 - the parent raises it with the step's name
        results.put(("failed", traceback.format_exc()))
        return
    seconds = time.perf_counter() - started
    # ru_maxrss is in KiB on Linux; for RUSAGE_CHILDREN it is the largest child, not a sum.
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    results.put(("done", (value, seconds, peak / 1024)))


def in_child(name: str, step: Callable[..., Any], *args: Any) -> tuple[Any, Measured]:
    """``step(*args)`` in a spawned process: what it returned, and how long and how much memory it took.

    Spawned, not forked: the child starts without this process's memory and imports.
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_child, args=(step, args, results), name=f"bench {name}")
    child.start()
    # Read before join (a large result would block the child's exit), but notice a child that died.
    while True:
        try:
            outcome, payload = results.get(timeout=1 if child.is_alive() else 5)
            break
        except queue.Empty:
            if not child.is_alive():
                raise StepFailed(f"benchmark step '{name}' died (exit code {child.exitcode})") from None
    child.join()
    if outcome == "failed":
        raise StepFailed(f"benchmark step '{name}' failed:\n{payload}")
    value, seconds, peak = payload
    return value, Measured(name, round(seconds, 2), round(peak, 1))
