"""The one place configuration is read: environment variables prefixed ``ITSS_``.

Defaults give the embedded run: local state under ``.itss/`` in the working directory,
an embedded PostgreSQL, demo mappings. Nothing here touches the network or a database.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


def _default_project_dir() -> Path:
    # In a source checkout the repository root is two levels above the package;
    # an installed image sets ITSS_PROJECT_DIR instead.
    return PACKAGE_DIR.parents[1]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITSS_", extra="ignore")

    warehouse_url: str | None = Field(
        default=None,
        description="SQLAlchemy/libpq URL of the warehouse; unset = embedded PostgreSQL.",
    )
    home: Path = Field(default=Path(".itss"), description="Local state folder (git-ignored).")
    landing_dir: Path | None = Field(default=None, description="Source exports; default HOME/landing.")
    output_dir: Path | None = Field(default=None, description="Generated reports; default HOME/output.")
    project_dir: Path = Field(default_factory=_default_project_dir)
    sources_file: Path = Field(default=PACKAGE_DIR / "mappings" / "demo.yml")
    embedded_port: int = Field(default=54329, description="First port tried by the embedded server.")
    recipients_file: Path = Field(
        default=PACKAGE_DIR / "mappings" / "recipients.yml", description="Who receives which report e-mail."
    )
    outbox_dir: Path | None = Field(default=None, description="Messages written when no SMTP is set; HOME/outbox.")
    smtp_host: str | None = Field(default=None, description="SMTP server; unset = write .eml files to the outbox.")
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_ca_file: str | None = Field(default=None, description="CA certificate of a private SMTP server.")
    mail_from: str = "ITSS 运维质量报告 <reports@itss.example.cn>"
    mail_attempts: int = Field(default=4, description="Send attempts per message before it is logged as failed.")
    mail_retry_delay: float = Field(default=30.0, description="Seconds before the first retry; doubled each time.")
    report_breaches_shown: int = Field(
        default=20, ge=0, description="Largest SLA overruns a service report lists; its XLSX appendix has them all."
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
