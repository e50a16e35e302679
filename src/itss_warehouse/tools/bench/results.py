"""The suite's figures against their targets: a table on the terminal, JSON and Markdown on disk."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
from pathlib import Path

from itss_warehouse.tools.bench.suite import ProjectMonthResult, SizeResult

LOAD_RATIO = 1.5  # landing the ticket export against a plain COPY of it
FULL_BUILD_SECONDS = 300
NIGHTLY_SECONDS = 60
NIGHTLY_SHARE = 0.05  # of the full build
REPORTS_SECONDS = 120
PEAK_MEGABYTES = 1536
PARSE_SECONDS = 2
# One project-month of 10,000 tickets: its service report in every format.
PROJECT_MONTH_SECONDS = 10
PROJECT_MONTH_MEGABYTES = 500
# Test data, not a pipeline step: shown, held to no target.
SET_UP_STEPS = ("generate",)


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


Row = tuple[str, str, str, str, str]


def rows(result: SizeResult) -> list[Row]:
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


def month_rows(result: ProjectMonthResult) -> list[Row]:
    """(step, seconds, peak MB, target, met) of the project-month: its set-up, then the report."""
    table: list[Row] = [(measured.step, _fmt(measured.seconds), _fmt(measured.peak_megabytes), "", "")
                        for measured in result.steps[:-1]]  # fmt: skip
    report = result.report
    met = report.seconds <= PROJECT_MONTH_SECONDS and report.peak_megabytes <= PROJECT_MONTH_MEGABYTES
    target = f"≤ {PROJECT_MONTH_SECONDS} s; peak ≤ {PROJECT_MONTH_MEGABYTES} MB"
    return [*table, (report.step, _fmt(report.seconds), _fmt(report.peak_megabytes), target, _met(met))]


def describe_month(result: ProjectMonthResult) -> str:
    sizes = ", ".join(f"{kind.upper()} {size / 1000:,.0f} KB" for kind, size in result.files.items())
    return (
        f"One project's month of {result.tickets:,} tickets, {result.breaches:,} of their SLA metrics breached"
        f" (every one in the XLSX appendix); its service report: {sizes}"
    )


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


def markdown_table(table_rows: list[Row]) -> str:
    lines = ["| step | s | peak MB | target | met |", "|---|---:|---:|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in table_rows]
    return "\n".join(lines)


def text_table(table_rows: list[Row]) -> str:
    table = [("step", "s", "peak MB", "target", "met"), *table_rows]
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


def missed(table_rows: list[Row]) -> list[str]:
    return [row[0] for row in table_rows if row[4] == "MISSED"]


def _timings(seconds_by_name: dict[str, float]) -> str:
    return ", ".join(f"{name} {seconds} s" for name, seconds in seconds_by_name.items())


def write(results: list[SizeResult], month: ProjectMonthResult, out_dir: Path) -> tuple[Path, Path]:
    """``bench.json`` (every figure) and ``bench.md`` (the tables) in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    data = {
        "date": dt.date.today().isoformat(),
        "machine": machine,
        "sizes": [{**dataclasses.asdict(result), "missed": missed(rows(result))} for result in results],
        "project_month": {**dataclasses.asdict(month), "missed": missed(month_rows(month))},
    }
    json_path = out_dir / "bench.json"
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    parts = [f"Benchmark of {data['date']} on {machine['cpus']} CPUs ({machine['platform']})."]
    for result in sorted(results, key=lambda result: result.tickets, reverse=True):
        parts += [f"## {result.tickets:,} tickets", describe(result) + ".", markdown_table(rows(result)),
                  night_floor(result) + "."]  # fmt: skip
        full, night = result.full_build, result.nightly
        parts.append(f"Full build: {full.node_seconds} s running nodes; slowest: {_timings(full.slowest)}.")
        parts.append(f"Nightly tasks: {_timings(night.tasks)}. Its build's slowest nodes: {_timings(night.slowest)}.")
        parts.append(f"With nothing new to load: {_timings(result.quiet_night.tasks)}.")
    if len(results) > 1:
        parts += ["## Growth with history", growth_table(results)]
    parts += ["## One project-month", describe_month(month) + ".", markdown_table(month_rows(month))]
    markdown = out_dir / "bench.md"
    markdown.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
    return json_path, markdown
