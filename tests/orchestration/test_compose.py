"""docker-compose.yml, its images and .env.example cannot run here (no Docker engine): check that
they parse and refer to files, commands, settings, logins and services that exist, and that no
secret has a default."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import typing
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from typer.testing import CliRunner

from itss_warehouse.cli import app
from itss_warehouse.mail.transport import AIRFLOW_CONNECTION, SmtpConfig
from itss_warehouse.settings import Settings
from itss_warehouse.warehouse.roles import ANALYST, LOADER, TRANSFORMER, password_variable

REPO = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
SERVICES = yaml.safe_load(COMPOSE_TEXT)["services"]
DBT_VARIABLES = set(re.findall(r"env_var\('(\w+)'", (REPO / "dbt_project" / "profiles.yml").read_text()))
INITDB = "\n".join(path.read_text() for path in sorted((REPO / "docker" / "initdb").iterdir()))
# ${NAME}, ${NAME:-default}, ${NAME:?message}; $${NAME} is compose's escape for the container's shell.
VARIABLE = re.compile(r"(?<!\$)\$\{(\w+)(:?[-?][^}]*)?\}")
SECRET = re.compile(r"PASSWORD|SECRET|KEY")
SUPERUSER = "postgres"  # the postgres image's default POSTGRES_USER


def environment(name: str) -> dict[str, str]:
    """A service's environment with ${NAME…} replaced by NAME, so URLs parse and name their variables."""
    return {key: VARIABLE.sub(r"\1", str(value)) for key, value in SERVICES[name].get("environment", {}).items()}


def commands(service: dict) -> list[list[str]]:
    """The command lines a service runs: its command (each line of a shell script) and its health check."""
    command, test = service.get("command", []), service.get("healthcheck", {}).get("test", [])
    lines = command[2].splitlines() if command[:1] in (["bash"], ["sh"]) else [shlex.join(command)]
    lines += [test[1]] if test[:1] == ["CMD-SHELL"] else [shlex.join(test[1:])]
    return [argv[1:] if argv[0] == "exec" else argv for argv in map(shlex.split, lines) if argv]


def command_lines(program: str) -> list[list[str]]:
    return [argv for service in SERVICES.values() for argv in commands(service) if argv[0] == program]


def env_example() -> dict[str, str]:
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def logins() -> dict[str, str]:
    """``itss setup-roles --login NAME=ROLE`` of airflow-init: login name → group role."""
    (setup,) = [argv for argv in commands(SERVICES["airflow-init"]) if argv[:2] == ["itss", "setup-roles"]]
    return dict(value.split("=") for option, value in zip(setup, setup[1:], strict=False) if option == "--login")


def airflow_services() -> list[str]:
    return [name for name in SERVICES if name.startswith("airflow-")]


def test_the_stack_has_its_services():
    assert set(SERVICES) == {
        "warehouse-db", "redis", "mailpit", "superset-init", "superset",
        "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
        "airflow-triggerer", "airflow-worker",
    }  # fmt: skip


def test_built_images_copy_files_that_exist_and_install_at_build_time_only():
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    for name, service in SERVICES.items():
        if "build" not in service:
            continue
        context = REPO / service["build"]
        for line in (context / "Dockerfile").read_text().splitlines():
            if line.startswith("COPY "):
                for source in [word for word in line.split()[1:-1] if not word.startswith("--")]:
                    assert (context / source).exists(), f"{name}: {source}"
                    assert context != REPO or not any(fnmatch(source, pattern) for pattern in ignored), source
        assert not any(word in shlex.join(argv) for argv in commands(service) for word in ("pip install", "uv sync"))
    assert {SERVICES[name]["build"] for name in airflow_services()} == {"."}
    assert len({SERVICES[name]["image"] for name in airflow_services()}) == 1
    assert "RUN uv sync --frozen --no-dev" in (REPO / "Dockerfile").read_text()


def test_bind_mounts_exist_and_named_volumes_are_declared():
    declared = yaml.safe_load(COMPOSE_TEXT)["volumes"]
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert (REPO / source).exists() if source.startswith(".") else source in declared, source


def test_every_variable_is_in_env_example_and_every_example_is_used():
    assert {match[0] for match in VARIABLE.findall(COMPOSE_TEXT)} == set(env_example())


def test_secrets_have_no_default_and_no_value_in_the_example():
    example = env_example()
    for name, operator in VARIABLE.findall(COMPOSE_TEXT):
        if SECRET.search(name):
            assert operator.startswith(":?"), f"${{{name}}} must be required (:?), not defaulted"
            assert example[name] == "", f"{name} has a value in .env.example"
    for service in SERVICES:
        for value in environment(service).values():
            if "://" in value and urlsplit(value).password:
                assert SECRET.search(urlsplit(value).password), f"{service}: a literal password in {value}"


def test_itss_variables_name_settings_or_dbt_variables():
    settings = {f"ITSS_{name.upper()}" for name in Settings.model_fields}
    for service in SERVICES:
        for name in environment(service):
            if name.startswith("ITSS_"):
                assert name in (DBT_VARIABLES if name.startswith("ITSS_DBT_") else settings), f"{service}: {name}"
    env = environment("airflow-scheduler")
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/itss/dags"
    assert "WORKDIR /opt/itss" in (REPO / "Dockerfile").read_text() and (REPO / "dags" / "itss_nightly.py").exists()


def test_each_program_connects_as_the_login_of_its_role():
    roles = logins()
    assert set(roles.values()) == {ANALYST, LOADER, TRANSFORMER}
    init = environment("airflow-init")
    for name in roles:
        assert password_variable(name) in init, f"airflow-init lacks {password_variable(name)}"
    assert urlsplit(init["ITSS_WAREHOUSE_URL"]).username == SUPERUSER  # setup-roles runs as the owner
    worker = environment("airflow-worker")
    pipeline, bi = (
        urlsplit(worker["ITSS_WAREHOUSE_URL"]),
        urlsplit(environment("superset-init")["SUPERSET_WAREHOUSE_URI"]),
    )
    for user, password, role in [
        (pipeline.username, pipeline.password, LOADER),
        (worker["ITSS_DBT_USER"], worker["ITSS_DBT_PASSWORD"], TRANSFORMER),
        (bi.username, bi.password, ANALYST),
    ]:
        # The password is the variable setup-roles set the login's password from.
        assert roles.get(user) == role and password == password_variable(user), (user, role)


def test_database_urls_name_databases_and_logins_that_exist():
    databases = {environment("warehouse-db")["POSTGRES_DB"], *re.findall(r"create database (\w+)", INITDB)}
    users = {SUPERUSER, *logins(), *re.findall(r"create role (\w+)", INITDB)}
    for service in SERVICES:
        for name, value in environment(service).items():
            url = urlsplit(value)
            if url.scheme.startswith(("postgresql", "db+postgresql")):
                assert url.hostname == "warehouse-db" and url.port == 5432, f"{service}: {name}"
                assert url.path.lstrip("/") in databases and url.username in users, f"{service}: {name}"
    # docker/initdb reads these from the server's environment.
    for variable in set(re.findall(r"\$(\w+_PASSWORD)", INITDB)):
        assert variable in environment("warehouse-db")


def test_smtp_connection_is_the_one_the_mailer_reads_and_reaches_mailpit():
    env = environment("airflow-worker")
    (name,) = [name for name in env if name.startswith("AIRFLOW_CONN_")]
    assert name.removeprefix("AIRFLOW_CONN_").lower() == AIRFLOW_CONNECTION
    connection = json.loads(env[name])
    assert connection["conn_type"] == "smtp" and connection["host"] in SERVICES
    assert str(connection["port"]) in SERVICES[connection["host"]]["expose"]
    assert connection["extra"]["security"] in typing.get_args(typing.get_type_hints(SmtpConfig)["security"])


def test_celery_executor_broker_and_execution_api_are_consistent():
    env = environment("airflow-worker")
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname in SERVICES and "healthcheck" in SERVICES[broker.hostname]
    metadata, results = (
        urlsplit(env[key]) for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND")
    )
    assert (results.hostname, results.path) == (metadata.hostname, metadata.path)
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-apiserver" and f"{api.port}:{api.port}" in SERVICES[api.hostname]["ports"]
    assert commands(SERVICES["airflow-worker"])[0] == ["airflow", "celery", "worker"]
    # --scale airflow-worker=N: no fixed container name or host port.
    assert not {"container_name", "ports"} & set(SERVICES["airflow-worker"])


def test_long_running_services_have_a_healthcheck_and_one_shots_do_not_restart():
    one_shots = {
        dependency
        for service in SERVICES.values()
        for dependency, condition in service.get("depends_on", {}).items()
        if condition["condition"] == "service_completed_successfully"
    }
    assert one_shots == {"airflow-init", "superset-init"}
    for name, service in SERVICES.items():
        if name in one_shots:
            assert service.get("restart", "no") == "no", name
        else:
            assert service["healthcheck"]["test"] and service["restart"] == "unless-stopped", name


def test_itss_commands_exist_with_their_options():
    lines = command_lines("itss")
    assert ["itss", "setup-roles"] in [argv[:2] for argv in lines]
    for argv in lines:
        # --help is eager: the options are parsed (an unknown one fails) but nothing runs.
        result = CliRunner().invoke(app, [*argv[1:], "--help"])
        assert result.exit_code == 0, f"{shlex.join(argv)}: {result.output}"


# A few seconds: one Python process builds Airflow's command-line parser once.
PARSE_COMMANDS = """
import importlib, json, sys
from airflow.cli import cli_parser
parser, failures = cli_parser.get_parser(), []
for argv in json.load(sys.stdin):
    try:
        if argv[0] == "airflow":
            parser.parse_args(argv[1:])
        else:  # celery --app module.attribute …
            module, _, attribute = argv[argv.index("--app") + 1].rpartition(".")
            getattr(importlib.import_module(module), attribute)
    except (SystemExit, Exception) as error:
        failures.append([argv, repr(error)])
print(json.dumps(failures))
"""


def test_airflow_and_celery_commands_exist(tmp_path):
    lines = command_lines("airflow") + command_lines("celery")
    assert ["airflow", "db", "migrate"] in lines
    env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
    env |= {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor"}
    result = subprocess.run(
        [sys.executable, "-c", PARSE_COMMANDS], input=json.dumps(lines), env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert json.loads(result.stdout.splitlines()[-1]) == [], result.stderr


def test_superset_reads_its_settings_from_the_environment_and_registers_the_warehouse():
    folder = REPO / "docker" / "superset"
    config, init = (folder / "superset_config.py").read_text(), (folder / "init.sh").read_text()
    assert "ENV SUPERSET_CONFIG_PATH=/app/docker/itss/superset_config.py" in (folder / "Dockerfile").read_text()
    assert {"SECRET_KEY", "SQLALCHEMY_DATABASE_URI"} <= set(re.findall(r"^(\w+) =", config, re.MULTILINE))
    assert SERVICES["superset-init"]["command"][-1] == "/app/docker/itss/init.sh"
    assert re.search(r"^superset set-database-uri .*-u \"\$SUPERSET_WAREHOUSE_URI\"$", init, re.MULTILINE)
    read = set(re.findall(r"os\.environ\[\"(\w+)\"\]", config))
    for service, used in [("superset", read), ("superset-init", read | set(re.findall(r"\$\{?(\w+)", init)))]:
        assert used <= set(environment(service)), (service, used - set(environment(service)))
