"""`itss doctor` on a healthy and on a broken configuration."""

from __future__ import annotations

import pytest
from support.smtp_server import PASSWORD, USER, make_certificate, running
from typer.testing import CliRunner

from itss_warehouse.cli import app

pytestmark = pytest.mark.integration


def test_a_healthy_configuration_passes(create_warehouse, tmp_path):
    certificate = make_certificate(tmp_path)
    with running(certificate) as (_, port):
        env = {
            "ITSS_WAREHOUSE_URL": create_warehouse("doctor"), "ITSS_HOME": str(tmp_path),
            "ITSS_SMTP_HOST": "127.0.0.1", "ITSS_SMTP_PORT": str(port), "ITSS_SMTP_USER": USER,
            "ITSS_SMTP_PASSWORD": PASSWORD, "ITSS_SMTP_CA_FILE": str(certificate[0]),
        }  # fmt: skip
        result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for name in ("sources", "recipients", "fonts", "smtp"):
        assert any(line.startswith(f"✓ {name}: ") for line in lines), name
    assert any(line.startswith("! warehouse: PostgreSQL") for line in lines)  # reachable, nothing built yet
    assert "! reports gate: nothing loaded yet" in lines
    assert PASSWORD not in result.output


def test_a_broken_configuration_says_what_to_fix(tmp_path):
    recipients = tmp_path / "recipients.yml"
    recipients.write_text("data_owner: {to: ['owner@']}\n")
    certificate = make_certificate(tmp_path)
    with running(certificate) as (_, port):
        env = {
            "ITSS_WAREHOUSE_URL": "postgresql://itss:hunter2@127.0.0.1:9/nowhere", "ITSS_HOME": str(tmp_path),
            "ITSS_RECIPIENTS_FILE": str(recipients), "ITSS_SMTP_HOST": "127.0.0.1", "ITSS_SMTP_PORT": str(port),
            "ITSS_SMTP_USER": USER, "ITSS_SMTP_PASSWORD": "wrong", "ITSS_SMTP_CA_FILE": str(certificate[0]),
        }  # fmt: skip
        result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 1
    output = result.output
    assert "✗ warehouse: cannot connect to 127.0.0.1:9/nowhere" in output and "hunter2" not in output
    assert "✗ recipients: " in output and "data_owner.to: [0] 'owner@'" in output
    assert "✗ smtp: " in output and "fix: check ITSS_SMTP_*" in output and "wrong" not in output
    assert "fix: correct the file named by ITSS_RECIPIENTS_FILE" in output
