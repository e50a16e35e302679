"""Document control on every report: the company, the document number and the sign-off block the
cover shows (``templates/cover.html.j2``), from the settings; versions are ``issue_register``'s.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from itss_warehouse.reports.base import Unit
from itss_warehouse.reports.issue_register import Issue
from itss_warehouse.settings import Settings

NUMBER_PATTERN_PREFIX = "document_number_"
SIGN_OFF_ROLES = ("prepared", "reviewed", "approved")  # 编制, 审核, 批准
LOGO_TYPES = {".svg": "image/svg+xml"}  # mimetypes knows PNG and JPEG everywhere, SVG not always


class LogoError(ValueError):
    pass


@dataclass(frozen=True)
class DocumentSettings:
    """The settings a cover needs, picklable for the rendering processes."""

    company_name: str
    company_name_en: str
    company_code: str
    logo: str | None  # a data URI: the HTML (also an e-mail body) and its PDF carry the image themselves
    number_patterns: dict[str, str]  # report kind → pattern (settings.DOCUMENT_NUMBER_PLACEHOLDERS)
    signatories: dict[str, str | None]  # role → configured name; None: the catalogue's default role

    @classmethod
    def from_settings(cls, settings: Settings) -> DocumentSettings:
        return cls(
            company_name=settings.company_name,
            company_name_en=settings.company_name_english,
            company_code=settings.company_code,
            logo=_data_uri(settings.company_logo) if settings.company_logo else None,
            number_patterns={
                name.removeprefix(NUMBER_PATTERN_PREFIX): getattr(settings, name)
                for name in Settings.model_fields
                if name.startswith(NUMBER_PATTERN_PREFIX)
            },
            signatories={role: getattr(settings, f"document_{role}_by") for role in SIGN_OFF_ROLES},
        )

    def document_number(self, kind: str, unit: Unit) -> str:
        """The kind's pattern filled in: ``DEMO-ITSS-SR-PRJ-A-202610``."""
        values = {
            "company": self.company_code,
            "period": unit.period.slug.replace("-", ""),  # 202610, 2026Q4, 2026H1, 2026
            "year": unit.period.start.year,
            unit.grain: unit.grain_id,  # {project} or {department}: settings allow it only where it is the unit
        }
        return self.number_patterns[kind].format(**values)

    def cover(self, kind_audience: str, issue: Issue, language: str) -> dict[str, Any]:
        """What ``cover.html.j2`` shows besides the title, unit and period."""
        return {
            "company": self.company_name_en if language == "en" else self.company_name,
            "logo": self.logo,
            "number": issue.document_number,
            "version": issue.current,
            "history": issue.history,
            "signatories": self.signatories,
            "customer_confirmation": kind_audience == "customer",
        }


def _data_uri(path: Path) -> str:
    if not path.is_file():
        raise LogoError(f"ITSS_COMPANY_LOGO: no file {path} (a PNG, JPEG or SVG file is expected)")
    mime = LOGO_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"
