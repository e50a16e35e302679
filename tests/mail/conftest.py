"""The loopback SMTP server (TLS, login) the mail tests send to."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.smtp_server import make_certificate, running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture()
def smtp(certificate):
    with running(certificate) as server:
        yield server
