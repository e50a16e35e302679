"""Delivering a message: SMTP (STARTTLS or SSL, with authentication) with retries, or an outbox folder.

The SMTP settings come from the Airflow connection ``itss_smtp`` when the DAG sends, or
from ``ITSS_SMTP_*`` when the command line does; with neither, messages are written as
``.eml`` files into the outbox. Credentials are never logged or put into an error message.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

from itss_warehouse.reports.rendering import write_atomically
from itss_warehouse.settings import Settings

log = logging.getLogger(__name__)
AIRFLOW_CONNECTION = "itss_smtp"


class DeliveryFailed(RuntimeError):
    pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    security: Literal["starttls", "ssl", "none"] = "starttls"
    user: str | None = None
    password: str | None = None
    ca_file: str | None = None  # a private CA's certificate; default: the system's trusted CAs
    timeout: float = 30.0

    def __repr__(self) -> str:  # never show the password
        return f"SmtpConfig({self.user or 'anonymous'}@{self.host}:{self.port}, {self.security})"


def smtp_config(settings: Settings, *, in_airflow: bool = False) -> SmtpConfig | None:
    """In an Airflow task the connection ``itss_smtp`` if it exists, else ``ITSS_SMTP_*``; None when neither is set."""
    return (_from_airflow(settings) if in_airflow else None) or _from_settings(settings)


def _from_settings(settings: Settings) -> SmtpConfig | None:
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpConfig(settings.smtp_host, settings.smtp_port, settings.mail_from, settings.smtp_security,
                      settings.smtp_user, password, settings.smtp_ca_file)  # fmt: skip


def _from_airflow(settings: Settings) -> SmtpConfig | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = BaseHook.get_connection(AIRFLOW_CONNECTION)
    except AirflowNotFoundException:
        return None
    if not connection.host:
        raise ValueError(f"the Airflow connection {AIRFLOW_CONNECTION!r} has no host: set it to the SMTP server's name")
    extra = connection.extra_dejson
    return SmtpConfig(
        connection.host, connection.port or 587, extra.get("from", settings.mail_from),
        extra.get("security", "starttls"), connection.login or None, connection.password or None,
        extra.get("ca_file"),
    )  # fmt: skip


def send(message: EmailMessage, envelope: list[str], config: SmtpConfig, *, attempts: int, delay: float) -> int:
    """Send, retrying refusals and unreachable servers with doubling delays; return the attempts used."""
    for attempt in range(1, attempts + 1):
        try:
            with connect(config) as smtp:
                # Bare addresses in the envelope keep the message 7-bit: RFC 2047/2231 headers, not SMTPUTF8.
                smtp.send_message(message, from_addr=parseaddr(config.sender)[1], to_addrs=envelope)
            return attempt
        except smtplib.SMTPAuthenticationError as error:  # retrying will not change the credentials
            raise DeliveryFailed(f"{config!r}: authentication refused ({error.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as error:
            reason = _reason(error)
            if attempt == attempts:
                raise DeliveryFailed(f"{config!r}: {reason} (after {attempts} attempts)") from None
            log.warning("send attempt %d of %d to %s failed: %s; retrying", attempt, attempts, config, reason)
            time.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def connect(config: SmtpConfig) -> smtplib.SMTP:
    context = ssl.create_default_context(cafile=config.ca_file)
    smtp: smtplib.SMTP
    if config.security == "ssl":
        smtp = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        if config.security == "starttls":
            smtp.starttls(context=context)
    if config.user:
        smtp.login(config.user, config.password or "")
    return smtp


def _reason(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "recipients refused: " + ", ".join(
            f"{address} ({code} {text.decode(errors='replace')})" for address, (code, text) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        text = error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
        return f"{error.smtp_code} {text}"
    return f"{type(error).__name__}: {error}"


def write_to_outbox(message: EmailMessage, envelope: list[str], outbox: Path, stem: str) -> Path:
    """The message as ``<outbox>/<stem>-<hash of its recipients>.eml``, replacing an earlier copy."""
    recipients = hashlib.sha256(" ".join(sorted(envelope)).encode()).hexdigest()[:8]
    path = outbox / f"{stem}-{recipients}.eml"
    write_atomically(path, bytes(message))
    return path
