"""The data-quality statement in words, as a report gives it to its audience (workbook cover, e-mail body).

Internal readers learn how many warnings the validation raised and how many of the unit's records
are quarantined; a customer learns only that the data passed validation and how many of its
records are held back or withdrawn, never warnings or check texts (they name other projects' data).
"""

from __future__ import annotations

from typing import Any


def quality_statement(
    catalogue: dict[str, Any],
    *,
    internal: bool,
    status: dict[str, Any],
    quarantine: dict[str, Any],
    withdrawals: list[dict[str, Any]],
) -> list[str]:
    """One line per fact: the validation's outcome, then records held back and exports withdrawn."""
    t = catalogue["dq"]
    warnings = len(status["warnings"])
    lines = [t["warnings"].format(count=warnings) if internal and warnings else t["passed"]]
    if quarantine["count"]:
        lines.append((t["quarantined"] if internal else t["held_back"]).format(count=quarantine["count"]))
    if withdrawn := sum(withdrawal["records"] for withdrawal in withdrawals):
        lines.append(t["withdrawn_note"].format(count=withdrawn))
    return lines
