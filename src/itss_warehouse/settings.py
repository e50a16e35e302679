"""The one place configuration is read: environment variables prefixed ``ITSS_``.

Defaults give the embedded run: local state under ``.itss/`` in the working directory,
an embedded PostgreSQL, demo mappings. Nothing here touches the network or a database.
"""

from __future__ import annotations

import inspect
import string
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


# What a document number pattern may name: every kind's company code and period, and the
# unit of the kinds reported per project or per department.
DOCUMENT_NUMBER_PLACEHOLDERS = {"company", "period", "year"}
UNIT_PLACEHOLDERS = {"service_report": {"project"}, "quality_report": {"department"}}
LOGO_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
# The demo's company, in both languages: English reports are in English throughout.
DEMO_COMPANY = {"zh-CN": "示例运维服务有限公司", "en": "Example IT Services Co., Ltd."}


def _document_number_placeholders(pattern: str, kind: str) -> None:
    """Refuse a pattern naming what the kind's number cannot hold, so the error comes at start-up."""
    known = DOCUMENT_NUMBER_PLACEHOLDERS | UNIT_PLACEHOLDERS.get(kind, set())
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(pattern)]
    except ValueError as error:
        raise ValueError(f"the {kind} number pattern {pattern!r} is not a pattern: {error}") from None
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in known or spec or conversion:
            raise ValueError(
                f"unknown placeholder {{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}}"
                f" in the {kind} number pattern {pattern!r} (known: {', '.join('{' + k + '}' for k in sorted(known))})"
            )


def _default_project_dir() -> Path:
    """The repository, two levels above the package in a source checkout."""
    return PACKAGE_DIR.parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITSS_", extra="ignore")

    # Each description is the user's documentation: docs/configuration.md is generated from them.
    warehouse_url: str | None = Field(
        default=None,
        description="`postgresql://user:password@host:port/database` of the warehouse; unset: the embedded PostgreSQL",
    )
    home: Path = Field(
        default=Path(".itss"),
        description="Local state, relative to the working directory: embedded database, Airflow home and logs,"
        " cosmos cache, validation results (git-ignored)",
    )
    landing_dir: Path | None = Field(
        default=None, description="Folder of source exports the nightly run loads; unset: `$ITSS_HOME/landing`"
    )
    output_dir: Path | None = Field(
        default=None,
        description="The report archive (`<kind>/<period>/<unit>.<lang>.<format>`); unset: `$ITSS_HOME/output`",
    )
    project_dir: Path = Field(
        default_factory=_default_project_dir,
        description="Where `dags/`, `dbt_project/`, `expectations/`, `reports/` are (set in an installed image)",
    )
    sources_file: Path = Field(
        default=PACKAGE_DIR / "mappings" / "demo.yml",
        description="Source definitions (docs/sources.md): file pattern → raw table, header and value mappings;"
        " the default is the demo's",
    )
    embedded_port: int = Field(
        default=54329,
        description="First TCP port the embedded server tries on 127.0.0.1 (the next free one is taken if busy)",
    )
    recipients_file: Path = Field(
        default=PACKAGE_DIR / "mappings" / "recipients.yml",
        description="Who receives which report e-mail: per project and per organisation report to/cc/bcc and"
        " language, and the data owner who gets the alerts; every address is checked when the file is read;"
        " the default is the demo's",
    )
    outbox_dir: Path | None = Field(
        default=None, description="Where messages go when no SMTP server is configured; unset: `$ITSS_HOME/outbox`"
    )
    smtp_host: str | None = Field(
        default=None,
        description="The SMTP server for the command line; unset (and no Airflow connection `itss_smtp`): messages"
        " are written as `.eml` files to the outbox",
    )
    smtp_port: int = Field(default=587, description="Port of the SMTP server")
    smtp_security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="`starttls`, `ssl` (implicit TLS, usually port 465) or `none`"
    )
    smtp_user: str | None = Field(default=None, description="SMTP login; unset: no authentication")
    smtp_password: SecretStr | None = Field(default=None, description="Password of the SMTP login; never logged")
    smtp_ca_file: str | None = Field(
        default=None,
        description="Certificate of a private CA the SMTP server's certificate is signed by; unset: the system's CAs",
    )
    mail_from: str = Field(
        default="ITSS 运维质量报告 <reports@itss.example.cn>",
        description="Sender of the e-mails in Chinese (reports and alerts); its address is the English e-mails' too"
        " unless mail_from_en gives another",
    )
    mail_from_en: str | None = Field(
        default=None,
        description="Sender of the e-mails in English; unset: mail_from's address (or the Airflow connection's"
        " `from`) under the English sender name of the catalogue (reports/locales/en.yml workbook.sender_name)",
    )
    mail_attempts: int = Field(
        default=4, description="Send attempts per message before it is logged as failed and the data owner alerted"
    )
    mail_retry_delay: float = Field(default=30.0, description="Seconds before the first retry; doubled each time")
    quarantine_tolerance_rows: int = Field(
        default=10,
        ge=0,
        description="Rows of one export a row-level check may fail and only quarantine (a warning); more, and beyond"
        " the check's share of the export's rows, blocks the reports (docs/decisions.md, the proportionate gate)",
    )
    dag_run_timeout_seconds: int = Field(
        default=2 * 3600,
        gt=0,
        description="Wall-clock limit of one DAG run started by `itss run` (`airflow dags test`): a run still going"
        " after it is stopped, with everything it started, and the command exits 1 naming the log",
    )
    report_breaches_shown: int = Field(
        default=20,
        ge=0,
        description="The largest SLA overruns a service report lists after its breach summary; the XLSX appendix"
        " has every breach",
    )

    company_name: str = Field(
        default=DEMO_COMPANY["zh-CN"], description="The company issuing the reports, on every report's cover"
    )
    company_name_en: str | None = Field(
        default=None,
        description="The company's name on English reports; unset: `ITSS_COMPANY_NAME` (the demo company's English"
        " name while that is the default)",
    )
    company_code: str = Field(
        default="DEMO", description="The company's short code, the `{company}` of the document numbers"
    )
    company_logo: Path | None = Field(
        default=None,
        description="A PNG, JPEG or SVG file shown on the covers (embedded in the report); unset: no logo",
    )
    document_number_service_report: str = Field(
        default="{company}-ITSS-SR-{project}-{period}",
        description="Document number of a service report: `{company}`, `{project}` (its id), `{period}`"
        " (`202610`, `2026Q4` for a quarterly project) and `{year}`; checked when the settings are read",
    )
    document_number_process_report: str = Field(
        default="{company}-ITSS-PR-{period}",
        description="Document number of a process monitoring report: `{company}`, `{period}` (`202610`), `{year}`",
    )
    document_number_quality_report: str = Field(
        default="{company}-ITSS-QR-{department}-{period}",
        description="Document number of a half-year quality report: `{company}`, `{department}` (its id),"
        " `{period}` (`2026H1`), `{year}`",
    )
    document_number_annual_report: str = Field(
        default="{company}-ITSS-AR-{period}",
        description="Document number of an annual quality report: `{company}`, `{period}` (`2026`), `{year}`",
    )
    document_number_satisfaction_report: str = Field(
        default="{company}-ITSS-SS-{period}",
        description="Document number of a satisfaction survey summary: `{company}`, `{period}` (`2026`), `{year}`",
    )
    document_prepared_by: str | None = Field(
        default=None,
        description="Name or role in the covers' 编制 (prepared) row; unset: the data owner, as the reports are"
        " generated from the warehouse",
    )
    document_reviewed_by: str | None = Field(
        default=None, description="Name or role in the covers' 审核 (reviewed) row; unset: the quality department"
    )
    document_approved_by: str | None = Field(
        default=None,
        description="Name or role in the covers' 批准 (approved) row; unset: the head of IT service management",
    )

    @field_validator(
        "document_number_service_report",
        "document_number_process_report",
        "document_number_quality_report",
        "document_number_annual_report",
        "document_number_satisfaction_report",
    )
    @classmethod
    def _known_placeholders(cls, pattern: str, info: ValidationInfo) -> str:
        _document_number_placeholders(pattern, str(info.field_name).removeprefix("document_number_"))
        return pattern

    @field_validator("company_logo")
    @classmethod
    def _logo_format(cls, path: Path | None) -> Path | None:
        if path is not None and path.suffix.lower() not in LOGO_SUFFIXES:
            raise ValueError(f"the logo {path} is not a PNG, JPEG or SVG file ({', '.join(LOGO_SUFFIXES)})")
        return path

    @cached_property
    def home_path(self) -> Path:
        return self.home.resolve()

    @property
    def landing_path(self) -> Path:
        return (self.landing_dir or self.home_path / "landing").resolve()

    @property
    def output_path(self) -> Path:
        return (self.output_dir or self.home_path / "output").resolve()

    @property
    def outbox_path(self) -> Path:
        return (self.outbox_dir or self.home_path / "outbox").resolve()

    @property
    def embedded_data_path(self) -> Path:
        return self.home_path / "pgdata"

    @property
    def airflow_home(self) -> Path:
        return self.home_path / "airflow"

    @property
    def dbt_project_path(self) -> Path:
        return self.project_dir / "dbt_project"

    @property
    def dags_path(self) -> Path:
        return self.project_dir / "dags"

    @property
    def expectations_path(self) -> Path:
        return self.project_dir / "expectations"

    @property
    def validation_results_path(self) -> Path:
        """Great Expectations' results and data docs: state, so under HOME, never in the code."""
        return self.home_path / "gx"

    @property
    def templates_path(self) -> Path:
        return self.project_dir / "reports"

    @property
    def company_name_english(self) -> str:
        """The name English covers show: the configured one, else the company's, or the demo's in English."""
        if self.company_name_en:
            return self.company_name_en
        return DEMO_COMPANY["en"] if self.company_name == DEMO_COMPANY["zh-CN"] else self.company_name


def get_settings() -> Settings:
    """Read the settings afresh (tests and the CLI change the environment between calls)."""
    return Settings()


CONFIGURATION_DOC = _default_project_dir() / "docs" / "configuration.md"
REFERENCE_BEGIN = "<!-- generated from src/itss_warehouse/settings.py by `python -m itss_warehouse.settings` -->"
REFERENCE_END = "<!-- end of the generated table -->"


def _default_text(field: FieldInfo) -> str:
    if field.default_factory is not None:
        doc = inspect.getdoc(field.default_factory)
        if not doc:
            raise ValueError(f"{field.default_factory!r} has no docstring: its first line is the default shown")
        return doc.splitlines()[0].rstrip(".")
    value = field.default
    if value is None:
        return "unset"
    if isinstance(value, Path) and value.is_relative_to(_default_project_dir()):
        value = value.relative_to(_default_project_dir())  # not this machine's checkout path
    if isinstance(value, float):
        value = format(value, "g")
    return f"`{value}`"


def configuration_reference() -> str:
    """The markdown table of every setting: its environment variable, default and description."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise ValueError(f"Settings.{name} has no description: docs/configuration.md is generated from them")
        cells = (f"`{Settings.model_config['env_prefix']}{name.upper()}`", _default_text(field), field.description)
        rows.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(rows) + "\n"


def with_configuration_reference(document: str) -> str:
    """The document with the current table between its two markers."""
    before, begin, rest = document.partition(REFERENCE_BEGIN)
    _, end, after = rest.partition(REFERENCE_END)
    if not (begin and end):
        raise ValueError(f"no {REFERENCE_BEGIN!r} … {REFERENCE_END!r} block in the document")
    return f"{before}{REFERENCE_BEGIN}\n{configuration_reference()}{REFERENCE_END}{after}"


if __name__ == "__main__":
    CONFIGURATION_DOC.write_text(
        with_configuration_reference(CONFIGURATION_DOC.read_text(encoding="utf-8")), encoding="utf-8"
    )
