"""The one place configuration is read: environment variables prefixed ``ITSS_``.

Defaults give the embedded run: local state under ``.itss/`` in the working directory,
an embedded PostgreSQL, demo mappings. Nothing here touches the network or a database.
"""

from __future__ import annotations

import inspect
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


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
