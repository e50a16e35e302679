"""Who receives which report, read from a YAML file and validated when it is read.

Customers and project managers get their project's service report; management, the
quality department and the PMO get the organisation reports; the data owner gets the
alerts (a blocked or failed send, a failed DAG run, reports awaiting approval). An invalid
address is an error that names its entry, e.g. ``projects.P001.cc: [1] 'pm@' is not …``.

``approval: true`` on a project's group (its service report) or an organisation report's
group (every report of that kind) makes those reports drafts until approved with
``itss report approve``, and holds back their e-mail until then (``reports.approval``).
Off by default: reports are sent as soon as they are rendered.

``improvement_register: true`` on an organisation report's group (the quality department's) attaches the
improvement register workbook (``itss improvements export``) of the report's period, and of its
department for a department's report, in the group's language; never to a customer's group.
"""

from __future__ import annotations

from collections.abc import Iterable
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

import yaml
from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

ORGANISATION_REPORTS = ("process_report", "quality_report", "annual_report", "satisfaction_report")


class RecipientsError(ValueError):
    pass


def _address(text: str) -> str:
    """``Name <user@host>`` or ``user@host``, checked and normalised; raises ValueError if invalid."""
    name, address = parseaddr(text)
    if not address or "@" not in address:
        raise ValueError(f"{text!r} is not an e-mail address")
    try:
        normalised = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ValueError(f"{text!r} is not a valid e-mail address: {error}") from None
    return str(Address(display_name=name, addr_spec=normalised))


class Group(BaseModel):
    """The addresses one message goes to, and the language of the report and message."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    language: Literal["zh-CN", "en"] = "zh-CN"
    approval: bool = False  # the reports this group receives are sent only once approved
    # The quality department's: the improvement register workbook of the report's period (and department)
    # attached, to fill in; internal, so for organisation reports only.
    improvement_register: bool = False

    @field_validator("to", "cc", "bcc", mode="before")
    @classmethod
    def _valid_addresses(cls, value: list[str] | str) -> tuple[str, ...]:
        addresses = [value] if isinstance(value, str) else list(value or [])
        checked = []
        for index, address in enumerate(addresses):
            try:
                checked.append(_address(str(address)))
            except ValueError as error:
                raise ValueError(f"[{index}] {error}") from None
        return tuple(checked)

    @field_validator("to")
    @classmethod
    def _someone(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("needs at least one address")
        return value

    @property
    def envelope(self) -> list[str]:
        """The bare addresses SMTP delivers to (Bcc included, display names dropped)."""
        return [parseaddr(address)[1] for address in (*self.to, *self.cc, *self.bcc)]


class Recipients(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data_owner: Group
    projects: dict[str, Group] = {}
    organisation: dict[Literal[ORGANISATION_REPORTS], Group] = {}  # type: ignore[valid-type]

    @field_validator("data_owner")
    @classmethod
    def _alerts_take_no_report_options(cls, value: Group) -> Group:
        if value.approval:
            raise ValueError("approval applies to the groups of projects and organisation reports, not to alerts")
        if value.improvement_register:
            raise ValueError("the improvement register is attached to organisation reports, not to alerts")
        return value

    @field_validator("projects")
    @classmethod
    def _no_register_for_customers(cls, value: dict[str, Group]) -> dict[str, Group]:
        if any(group.improvement_register for group in value.values()):
            raise ValueError("the improvement register is internal: a project's group (the customer's) cannot have it")
        return value

    def for_report(self, kind: str, unit_id: str) -> Group | None:
        """Who gets this report: the project's group for a service report, else the kind's group."""
        if kind == "service_report":
            return self.projects.get(unit_id)
        return self.organisation.get(kind)

    def needing_approval(self, kind: str, unit_ids: Iterable[str]) -> frozenset[str]:
        """Those of ``unit_ids`` whose report of ``kind`` is sent only once approved."""
        return frozenset(
            unit_id for unit_id in unit_ids if (group := self.for_report(kind, unit_id)) and group.approval
        )


def load_recipients(path: Path) -> Recipients:
    """Read and validate ``path``; every problem is reported with its entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise RecipientsError(f"cannot read the recipients file {path}: {error}") from None
    try:
        return Recipients.model_validate(data or {})
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg'].removeprefix('Value error, ')}"
            for problem in error.errors()
        ]
        raise RecipientsError(f"{path}: " + "; ".join(problems)) from None
