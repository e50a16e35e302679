"""``itss report approve``: record a review or approval of an archived report, then render it again.

What is approved is what the approver could read: the content fingerprint of the archived
report (every archived language has the same one, the fingerprint not depending on the
language). The report is then rendered again in each archived language, so its files show
who reviewed or approved it and when. Should the data have changed since the archived
report was rendered, the new rendering has another fingerprint: it is a draft again, and
the result says so rather than passing the approval on to figures nobody looked at.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from itss_warehouse.reports import approval
from itss_warehouse.reports.base import ReportKind, Unit
from itss_warehouse.reports.rendering import archive_files, render


@dataclass(frozen=True)
class Approved:
    unit: Unit
    role: str
    at: datetime
    files: list[Path]  # the report rendered again, every archived language and format
    changed: bool  # the data changed since the approved rendering: the new files are a draft again


def approve(
    kind: ReportKind, url: str, unit: Unit, role: str, by: str, output_dir: Path, templates_dir: Path, *,
    needs_approval: Collection[str], render_command: str, breaches_shown: int,
) -> Approved:  # fmt: skip
    """Record ``role`` by ``by`` for the archived ``unit`` of ``kind`` and render it again (module docstring).

    Raises ApprovalError when the report needs no approval, is not rendered, or its
    archived languages were rendered from different data.
    """
    slug = unit.period.slug
    name = f"the {kind.name} {unit.grain_id} {slug}"
    if unit.grain_id not in needs_approval:
        raise approval.ApprovalError(
            f"{name} needs no approval: set `approval: true` on its recipients' group to require one"
        )
    languages = sorted(path.stem for path in (templates_dir / "locales").glob("*.yml"))
    archived = {
        language: state
        for language in languages
        if (state := approval.archived_state(archive_files(output_dir, kind.name, unit, language)["html"]))
    }
    if not archived:
        raise approval.ApprovalError(f"nothing rendered to approve for {name}: run `{render_command}` first")
    fingerprints = {state.fingerprint for state in archived.values()}
    if len(fingerprints) > 1:
        raise approval.ApprovalError(
            f"the archived languages of {name} ({', '.join(archived)}) were rendered from different data:"
            f" run `{render_command}` for each language, read it, then approve"
        )
    [fingerprint] = fingerprints
    at = approval.record(url, kind.name, slug, unit.grain_id, role, by, fingerprint)
    files: list[Path] = []
    changed = False
    for language in archived:
        for report in render(kind, url, [unit], output_dir, templates_dir, language=language,
                             breaches_shown=breaches_shown, needs_approval=needs_approval):  # fmt: skip
            files += report.files.values()
            rendered = approval.archived_state(report.files["html"])
            changed |= rendered is None or rendered.fingerprint != fingerprint
    return Approved(unit, role, at, files, changed)
