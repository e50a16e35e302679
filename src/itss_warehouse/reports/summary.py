"""The executive summary on a report's first page, and the improvement overview: rules, no figures.

Pure functions: mart rows in, sentences out. A sentence is a key of the catalogue's
``summary.sentences`` and the values it names, already formatted, so the same rules speak
both languages. Every number is a mart value, a plain count of rows, or the difference of
two mart values (a change, stated in percentage points for rates): nothing here computes a KPI.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from itss_warehouse.reports.formatting import COMPARATOR_SYMBOLS, Period, format_kpi
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE

# How many improvement items (and owners) a report lists; the XLSX appendix holds the whole register.
IMPROVEMENTS_SHOWN = 10
# How many names a sentence lists before it says "and N more".
NAMES_SHOWN = 5
JUDGED = ("met", "missed")
# The states marts.improvement_items judges (one rule, in the mart); the order is the order a reader should act in.
STATES = ("overdue", "not_effective", "open", "in_progress", "done", "verified_effective")
# Not done yet: an item of the next period's plan.
PENDING = ("open", "in_progress")


@dataclass(frozen=True)
class Sentence:
    key: str  # in the catalogue's summary.sentences
    values: dict[str, Any] = field(default_factory=dict)  # formatted with the catalogue the rules were given
    tone: str = "plain"  # ok, bad or plain: how the template marks it

    def text(self, catalogue: dict[str, Any]) -> str:
        return str(catalogue["summary"]["sentences"][self.key].format(**self.values))


@dataclass(frozen=True)
class ImprovementOverview:
    """The register of a report's scope, counted by state and owner, with the items to show first."""

    total: int
    by_state: dict[str, int]
    by_owner: list[dict[str, Any]]  # owner, a count per state, total; most overdue first
    shown: list[dict[str, Any]]  # the items with their state: overdue first, then by due date


@dataclass(frozen=True)
class Summary:
    provisional: bool
    conclusions: list[Sentence]
    risks: list[Sentence]
    improvements: ImprovementOverview
    plan: list[dict[str, Any]]  # the first open items due in the next period
    plan_total: int  # all of them: the rest are in the appendix's register
    breach_causes: list[dict[str, Any]] = field(default_factory=list)  # service report only


def as_of_date(as_of: datetime | None, period: Period) -> date:
    """The day things are judged at: the data's as-of day in Beijing, else the period's end."""
    return as_of.astimezone(LOCAL_TIMEZONE).date() if as_of is not None else period.end


def is_provisional(period: Period, as_of: datetime | None) -> bool:
    """A period not over at the data's as-of time: its figures may still change."""
    return as_of is not None and as_of_date(as_of, period) < period.end


def names(items: Sequence[str], catalogue: dict[str, Any]) -> str:
    """``A、B、C`` — at most NAMES_SHOWN, then "and N more"."""
    text = catalogue["list_separator"].join(items[:NAMES_SHOWN])
    if len(items) > NAMES_SHOWN:
        text += catalogue["summary"]["and_more"].format(count=len(items) - NAMES_SHOWN)
    return text


def change(value: Decimal, before: Decimal, unit: str, catalogue: dict[str, Any]) -> str:
    """The difference of two mart values as shown: ``+5.0 个百分点`` for rates, ``-1.5`` for scores."""
    difference = Decimal(value) - Decimal(before)
    if unit == "ratio":
        points = (difference * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        return catalogue["summary"]["points"].format(change=f"{points:+f}")
    return ("-" if difference < 0 else "+") + format_kpi(abs(difference), unit)


def direction(row: dict[str, Any], before: Decimal | None) -> str | None:
    """improved, worsened or unchanged (as shown) against ``before``; None when not comparable."""
    if row["value"] is None or before is None or row["comparator"] not in (">=", "<="):
        return None
    if format_kpi(row["value"], row["unit"]) == format_kpi(before, row["unit"]):
        return "unchanged"
    higher = Decimal(row["value"]) > Decimal(before)
    return "improved" if higher == (row["comparator"] == ">=") else "worsened"


def kpi_sentences(rows: Sequence[dict[str, Any]], catalogue: dict[str, Any], *, provisional: bool) -> list[Sentence]:
    """Met or missed against target, then the change against the previous period and a year before."""
    name = catalogue["kpi_name_column"]
    judged = [row for row in rows if row["status"] in JUDGED]
    missed = [row for row in judged if row["status"] == "missed"]
    if not judged:
        sentences = [Sentence("no_targets")]
    elif not missed:
        sentences = [Sentence("all_met", {"count": len(judged)}, "ok")]
    else:
        sentences = [Sentence("some_missed", {"missed": len(missed), "count": len(judged)}, "bad")]
        sentences += [
            Sentence("missed", {
                "kpi": row[name], "value": format_kpi(row["value"], row["unit"]),
                "target": f"{COMPARATOR_SYMBOLS[row['comparator']]}\u00a0{format_kpi(row['target'], row['unit'])}",
            }, "bad")
            for row in missed[:NAMES_SHOWN]
        ]  # fmt: skip
    for column, comparison in (("previous_value", "previous"), ("prior_value", "last_year")):
        sentences += _movement(rows, column, comparison, catalogue, provisional=provisional)
    return sentences


def _movement(rows, column: str, comparison: str, catalogue, *, provisional: bool) -> list[Sentence]:
    name = catalogue["kpi_name_column"]
    moves: dict[str, list[str]] = {"improved": [], "worsened": [], "unchanged": []}
    for row in rows:
        moved = direction(row, row.get(column))
        if moved is not None:
            before, now = format_kpi(row[column], row["unit"]), format_kpi(row["value"], row["unit"])
            moves[moved].append(
                catalogue["summary"]["change_item"].format(
                    kpi=row[name],
                    before=before,
                    value=now,
                    change=change(row["value"], row[column], row["unit"], catalogue),
                )
            )
    if not any(moves.values()):
        return [Sentence(f"{comparison}_none")]
    tones = {"improved": "ok", "worsened": "bad", "unchanged": "plain"}
    # An unfinished period set against a whole one: the comparison says so.
    suffix = "_provisional" if provisional and comparison == "last_year" else ""
    return [
        Sentence(f"{comparison}_{moved}{suffix}", {"items": names(items, catalogue)}, tones[moved])
        for moved, items in moves.items()
        if items
    ]


def missed_twice(rows: Iterable[dict[str, Any]], catalogue: dict[str, Any]) -> list[Sentence]:
    """KPIs missed this period and the one before, as the scorecard judged each."""
    repeated = [
        row[catalogue["kpi_name_column"]] for row in rows if row["status"] == row.get("previous_status") == "missed"
    ]
    return (
        [Sentence("missed_twice", {"count": len(repeated), "names": names(repeated, catalogue)}, "bad")]
        if repeated
        else []
    )


def count_risk(key: str, count: int) -> list[Sentence]:
    """A risk sentence when something is counted, none when nothing is."""
    return [Sentence(key, {"count": count}, "bad")] if count else []


def most_missed(matrix: dict[str, Any], catalogue: dict[str, Any]) -> list[Sentence]:
    """The projects or departments with the most KPIs missed in a KPI matrix (sections.kpi_matrix)."""
    counts = Counter(
        {row["name"] or row["grain_id"]: sum(kpi["status"] == "missed" for kpi in row["kpis"].values())
         for row in matrix["rows"]}
    )  # fmt: skip
    ranked = [f"{unit} ({count})" for unit, count in counts.most_common() if count]
    return [Sentence("most_missed", {"names": names(ranked, catalogue)}, "bad")] if ranked else []


def breach_contributors(breaches: Sequence[dict[str, Any]], by_priority: Sequence[dict[str, Any]],
                        catalogue: dict[str, Any]) -> list[Sentence]:  # fmt: skip
    """Where a project's misses come from: breaches counted by priority, and the priority attaining least."""
    sentences = []
    counts = Counter(row["priority"] for row in breaches).most_common()
    if counts:
        ranked = [f"{priority} {count}" for priority, count in counts]
        sentences.append(
            Sentence("breaches_by_priority", {"count": len(breaches), "priorities": names(ranked, catalogue)}, "bad")
        )
    judged = [row for row in by_priority if row["rate"] is not None and row["judged"]]
    if judged:
        lowest = min(judged, key=lambda row: (row["rate"], row["priority"]))
        if lowest["rate"] < 1:
            sentences.append(Sentence("lowest_priority", {
                "priority": lowest["priority"], "rate": format_kpi(lowest["rate"], "ratio"),
                "met": lowest["met"], "judged": lowest["judged"],
            }))  # fmt: skip
    return sentences


def breach_cause_sentences(causes: Sequence[dict[str, Any]], catalogue: dict[str, Any]) -> list[Sentence]:
    """The ticket categories with the most breaches (until the register records cause categories)."""
    if not causes:
        return []
    blank = catalogue["summary"]["no_category"]
    top = max(row["total"] for row in causes)
    leaders = [row["category"] or blank for row in causes if row["total"] == top]
    return [Sentence("breach_causes", {"categories": names(leaders, catalogue), "count": top})]


def improvement_overview(items: Sequence[dict[str, Any]], shown: int = IMPROVEMENTS_SHOWN) -> ImprovementOverview:
    """The items counted by their state and owner; the first ``shown``, overdue first, then by due date."""
    by_state = {name: sum(item["state"] == name for item in items) for name in STATES}
    owners: dict[str, dict[str, Any]] = {}
    for item in items:
        owner = owners.setdefault(item["owner"] or "", {"owner": item["owner"], "total": 0, **dict.fromkeys(STATES, 0)})
        owner[item["state"]] += 1
        owner["total"] += 1
    ranked_owners = sorted(owners.values(), key=lambda row: (-row["overdue"], -row["total"], row["owner"] or ""))
    ordered = sorted(items, key=lambda item: (STATES.index(item["state"]), item["due_date"]))
    return ImprovementOverview(len(items), by_state, ranked_owners[:shown], ordered[:shown])


def improvement_sentences(overview: ImprovementOverview) -> list[Sentence]:
    if not overview.total:
        return [Sentence("improvements_none", tone="ok")]
    tone = "bad" if overview.by_state["overdue"] else "plain"
    return [Sentence("improvements", {"total": overview.total, **overview.by_state}, tone)]


def next_period_plan(items: Sequence[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    """Items not done (and not overdue: those are risks) falling due in the period after this one."""
    following = Period(period.type, period.end)
    return sorted(
        (item for item in items if item["state"] in PENDING and following.start <= item["due_date"] < following.end),
        key=lambda item: item["due_date"],
    )


def build(
    period: Period,
    as_of: datetime | None,
    catalogue: dict[str, Any],
    *,
    kpis: Sequence[dict[str, Any]],
    improvements: Sequence[dict[str, Any]],
    contributors: Sequence[Sentence] = (),
    risks: Sequence[Sentence] = (),
    breach_causes: Sequence[dict[str, Any]] = (),
) -> Summary:
    """A report's summary: conclusions (targets, changes, contributors, improvement status), risks, plan."""
    provisional = is_provisional(period, as_of)
    judged_on = as_of_date(as_of, period)
    overview = improvement_overview(improvements)
    conclusions = [Sentence("provisional", {"as_of": f"{judged_on:%Y-%m-%d}"}, "bad")] if provisional else []
    conclusions += kpi_sentences(kpis, catalogue, provisional=provisional)
    conclusions += [*contributors, *breach_cause_sentences(breach_causes, catalogue), *improvement_sentences(overview)]
    all_risks = [*missed_twice(kpis, catalogue), *risks, *count_risk("overdue_items", overview.by_state["overdue"])]
    plan = next_period_plan(improvements, period)
    return Summary(
        provisional, conclusions, all_risks, overview, plan[:IMPROVEMENTS_SHOWN], len(plan), list(breach_causes)
    )
