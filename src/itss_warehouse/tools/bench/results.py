"""The suite's figures against their targets: a table on the terminal, JSON and Markdown on disk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
from pathlib import Path

from itss_warehouse.tools.bench.suite import SizeResult

LOAD_RATIO = 1.5  # landing the ticket export against a plain COPY of it
FULL_BUILD_SECONDS = 300
NIGHTLY_SECONDS = 60
NIGHTLY_SHARE = 0.05  # of the full build
REPORTS_SECONDS = 120
PEAK_MEGABYTES = 1536
PARSE_SECONDS = 2
# Test data, not a pipeline step: shown, held to no target.
SET_UP_STEPS = ("generate",)


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def rows(result: SizeResult) -> list[tuple[str, str, str, str, str]]:
    """(step, seconds, peak MB, target, met) for one history size."""
    full = result.step("full build").seconds
    night = result.step("nightly").seconds
    load = result.step("load tickets").seconds
    targets = {
        "load tickets": (f"≤ {LOAD_RATIO} × COPY ({result.copy_seconds:.2f} s): {load / result.copy_seconds:.2f}",
                         load <= LOAD_RATIO * result.copy_seconds),
        "full build": (f"≤ {FULL_BUILD_SECONDS} s", full <= FULL_BUILD_SECONDS),
        "nightly": (f"≤ {NIGHTLY_SECONDS} s", night <= NIGHTLY_SECONDS),
        "monthly reports": (f"≤ {REPORTS_SECONDS} s", result.step("monthly reports").seconds <= REPORTS_SECONDS),
    }  # fmt: skip
    table = []
    for measured in result.steps:
        target, met = targets.get(measured.step, ("", True))
        if measured.step not in SET_UP_STEPS:
            target = "; ".join(filter(None, [target, f"peak ≤ {PEAK_MEGABYTES} MB"]))
            met = met and measured.peak_megabytes <= PEAK_MEGABYTES
        seconds = "" if measured.step == "DAG parse" else _fmt(measured.seconds)
        table.append((measured.step, seconds, _fmt(measured.peak_megabytes), target, "" if not target else _met(met)))
        if measured.step == "nightly":
            share = f"≤ {NIGHTLY_SHARE:.0%}: {night / full:.1%}"
            table.append(("nightly ÷ full build", "", "", share, _met(night <= NIGHTLY_SHARE * full)))
    for file, parse in sorted(result.parse_seconds.items()):
        table.append((f"DAG parse: {file}", f"{parse:.2f}", "", f"≤ {PARSE_SECONDS} s", _met(parse <= PARSE_SECONDS)))
    same = "equal row for row" if not result.differences else f"differ: {result.differences}"
    table.append(("incremental marts = full rebuild", "", "", same, _met(not result.differences)))
    return table


def _met(met: bool) -> str:
    return "yes" if met else "MISSED"


def describe(result: SizeResult) -> str:
    return (
        f"{result.tickets:,} tickets over five years; the night adds or changes {result.night_tickets:,};"
        f" {result.reports} reports ({result.report_files} files)"
    )


def night_floor(result: SizeResult) -> str:
    """What any night costs (the one with nothing new to load, and Airflow's share of it), and what the day's
    changes add to it."""
    full, night = result.step("full build").seconds, result.step("nightly").seconds
    quiet, airflow = result.step("nightly, nothing new").seconds, result.step("Airflow alone").seconds
    return (
        f"A night with nothing new to load took {_fmt(quiet)} s, {quiet / full:.1%} of the full build;"
        f" Airflow alone, running one empty task the same way, {_fmt(airflow)} s ({airflow / full:.1%});"
        f" the day's {result.night_tickets:,} tickets added {_fmt(night - quiet)} s"
    )


def markdown_table(result: SizeResult) -> str:
    lines = ["| step | s | peak MB | target | met |", "|---|---:|---:|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows(result)]
    return "\n".join(lines)


def text_table(result: SizeResult) -> str:
    table = [("step", "s", "peak MB", "target", "met"), *rows(result)]
    widths = [max(len(row[column]) for row in table) for column in range(5)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in table)  # fmt: skip


def growth_table(results: list[SizeResult]) -> str:
    """How each step's cost grows with history (the nightly's must stay flat)."""
    ordered = sorted(results, key=lambda result: result.tickets)
    header = "| step | " + " | ".join(f"{result.tickets:,} tickets, s" for result in ordered) + " |"
    lines = [header, "|---|" + "---:|" * len(ordered)]
    for measured in ordered[0].steps:
        if measured.step != "DAG parse":
            lines.append(
                f"| {measured.step} | " + " | ".join(_fmt(r.step(measured.step).seconds) for r in ordered) + " |"
            )
    return "\n".join(lines)


def missed(result: SizeResult) -> list[str]:
    return [row[0] for row in rows(result) if row[4] == "MISSED"]


def _timings(seconds_by_name: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds} s" for name, seconds in seconds_by_name.items())


def write(results: list[SizeResult], out_dir: Path) -> tuple[Path, Path]:
    """``bench.json`` (every figure) and ``bench.md`` (the tables) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    data = {
        "date": dt.date.today().isoformat(),
        "machine": machine,
        "sizes": [{**dataclasses.asdict(result), "missed": missed(result)} for result in results],
    }
    json_path = out_dir / "bench.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    parts = [f"Benchmark of {data['date']} on {machine['cpus']} CPUs ({machine['platform']})."]
    for result in sorted(results, key=lambda result: result.tickets, reverse=True):
        parts += [f"## {result.tickets:,} tickets", describe(result) + ".", markdown_table(result),
                  night_floor(result) + "."]  # fmt: skip
        full, night = result.full_build, result.nightly
        parts.append(f"Full build: {full.node_seconds} s running nodes; slowest: {_timings(full.slowest)}.")
        parts.append(f"Nightly tasks: {_timings(night.tasks)}. Its build's slowest nodes: {_timings(night.slowest)}.")
        parts.append(f"With nothing new to load: {_timings(result.quiet_night.tasks)}.")
    if len(results) > 1:
        parts += ["## Growth with history", growth_table(results)]
    markdown = out_dir / "bench.md"
    markdown.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return json_path, markdown
