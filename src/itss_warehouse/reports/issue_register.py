"""The register of issued documents: each report's version, and what a re-issue changed.

A report's version is kept in ``raw.issued_documents`` (created in ``warehouse.raw``) per
kind, period, unit and language. The figures the report shows are fingerprinted; a render
whose fingerprint is the latest version's keeps that version (and its issue date, so a
re-render stays byte-identical); other figures, e.g. after a corrected export, make the next
version, whose change note names the KPIs that changed, from what to what. Versions read
V1.0, V1.1, V1.2 … as in the companies' controlled documents (the seeds' 版本 column).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from psycopg.types.json import Jsonb

from itss_warehouse.reports.base import Cursor, Unit
from itss_warehouse.reports.formatting import format_kpi
from itss_warehouse.reports.xlsx import LOCAL_TIMEZONE
from itss_warehouse.warehouse.connection import one_row

# Charts draw figures already in the content (or earlier periods' figures); their SVG would tie
# the version to the plotting library's output instead of to the figures.
NOT_FINGERPRINTED = ("charts",)
# A change note lists this many KPIs, then says how many more changed.
KPIS_NAMED = 6

HISTORY = """
    select version, document_number, fingerprint, figures, change_note, issued_at
    from raw.issued_documents
    where report_kind = %(kind)s and period = %(period)s and unit_id = %(unit_id)s and language = %(language)s
    order by version
"""

ISSUE = """
    insert into raw.issued_documents
        (report_kind, period, unit_id, language, version, document_number, fingerprint, figures, change_note)
    values (%(kind)s, %(period)s, %(unit_id)s, %(language)s, %(version)s, %(document_number)s, %(fingerprint)s,
            %(figures)s, %(change_note)s)
    returning version, document_number, fingerprint, figures, change_note, issued_at
"""


@dataclass(frozen=True)
class Version:
    version: int
    issued_on: date  # in Beijing
    change_note: str

    @property
    def label(self) -> str:
        """``V1.0`` for the first issue, ``V1.1`` for the first re-issue …"""
        return f"V1.{self.version - 1}"


@dataclass(frozen=True)
class Issue:
    """The document as issued: its number, current version and every version before it."""

    document_number: str
    history: list[Version]

    @property
    def current(self) -> Version:
        return self.history[-1]


def _canonical(value: object) -> object:
    """JSON for what psycopg returns, the same whatever the session's time zone or a numeric's scale."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fingerprint(content: dict[str, Any], scorecard: list[dict[str, Any]]) -> str:
    """SHA-256 of the report's figures: its content (not its charts) and its unit's scorecard."""
    figures = {key: value for key, value in content.items() if key not in NOT_FINGERPRINTED}
    text = json.dumps([figures, scorecard], sort_keys=True, default=_canonical, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kpi_figures(scorecard: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """What the next version's change note compares: each KPI's value, unit and names."""
    return {
        row["kpi_code"]: {
            "value": None if row["value"] is None else _canonical(row["value"]),
            "unit": row["unit"],
            "name_zh": row["name_zh"],
            "name_en": row["name_en"],
        }
        for row in scorecard
    }


def change_note(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], catalogue: dict[str, Any]) -> str:
    """``更正：SLA达成率 75.0% → 80.0%``: the KPIs whose value changed, or that other figures did."""
    t = catalogue["cover"]
    blank = catalogue["not_available"]
    changes = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code, {}), after.get(code, {})
        if old.get("value") == new.get("value"):
            continue
        kpi = new or old
        unit = kpi.get("unit") or "count"
        name = kpi.get(catalogue["kpi_name_column"]) or code
        changes.append(t["kpi_change"].format(kpi=name, old=_shown(old, unit, blank), new=_shown(new, unit, blank)))
    if not changes:
        return str(t["details_corrected"])
    listed = catalogue["list_separator"].join(changes[:KPIS_NAMED])
    if len(changes) > KPIS_NAMED:
        listed += t["more_changes"].format(count=len(changes) - KPIS_NAMED)
    return str(t["corrected"].format(changes=listed))


def _shown(figure: dict[str, Any], unit: str, blank: str) -> str:
    return blank if figure.get("value") is None else format_kpi(Decimal(figure["value"]), unit)


def _version(row: dict[str, Any]) -> Version:
    return Version(row["version"], row["issued_at"].astimezone(LOCAL_TIMEZONE).date(), row["change_note"])


def issue(
    cur: Cursor,
    kind: str,
    unit: Unit,
    language: str,
    document_number: str,
    figures: tuple[str, dict[str, dict[str, Any]]],
    catalogue: dict[str, Any],
) -> Issue:
    """The document's issue for ``figures`` (fingerprint, KPI values): the latest version if they are its
    figures, else a new version, recorded in the caller's transaction (committed once the files are written).

    A document keeps the number of its first issue: a pattern changed later numbers new documents only.
    """
    key = {"kind": kind, "period": unit.period.slug, "unit_id": unit.grain_id, "language": language}
    # Two renders of the same document at once would otherwise both take the next version.
    cur.execute(
        "select pg_advisory_xact_lock(hashtext('raw.issued_documents'), hashtext(%s))",
        ("/".join(key.values()),),
    )
    rows = cur.execute(HISTORY, key).fetchall()
    digest, kpis = figures
    if rows and rows[-1]["fingerprint"] == digest:
        return Issue(rows[0]["document_number"], [_version(row) for row in rows])
    note = change_note(rows[-1]["figures"], kpis, catalogue) if rows else str(catalogue["cover"]["first_issue"])
    issued = one_row(cur.execute(
        ISSUE,
        {
            **key,
            "version": rows[-1]["version"] + 1 if rows else 1,
            "document_number": rows[0]["document_number"] if rows else document_number,
            "fingerprint": digest,
            "figures": Jsonb(kpis),
            "change_note": note,
        },
    ))  # fmt: skip
    return Issue(issued["document_number"], [_version(row) for row in [*rows, issued]])
