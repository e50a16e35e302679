"""An embedded PostgreSQL server for the default, zero-configuration run.

The binaries come from the ``pgserver`` wheel. pgserver itself only offers a unix
socket; BI tools and psql on other machines want TCP, so we drive its ``initdb`` and
``pg_ctl`` ourselves and listen on 127.0.0.1. The server outlives the Python process
and is reused by the next run; its port is read back from ``postmaster.pid``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import pwd
import shutil
import socket
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

with warnings.catch_warnings():
    # pgserver probes XDG_RUNTIME_DIR at import and warns when it is unset (as under root).
    warnings.simplefilter("ignore")
    # pgserver makes initdb and pg_ctl at import (through globals()), out of its type checker's sight.
    from pgserver._commands import POSTGRES_BIN_PATH, initdb, pg_ctl  # type: ignore[attr-defined]
    from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
# PostgreSQL refuses to run as root; pgserver's convention is a system user of this name.
SYSTEM_USER = "pgserver"


class EmbeddedServerError(RuntimeError):
    pass


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    _create_system_user()
    ensure_user_exists(SYSTEM_USER)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    return SYSTEM_USER


def _create_system_user() -> None:
    """Create the system user once; useradd lives in sbin, which a minimal PATH (cron, CI) lacks."""
    try:
        pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
        if useradd is None:
            raise EmbeddedServerError(
                f"running as root needs a system user {SYSTEM_USER!r} and useradd was not found to create it"
            ) from None
        subprocess.run([useradd, "-s", "/bin/bash", SYSTEM_USER], check=True, capture_output=True, text=True)


def _running_port(pgdata: Path, user: str | None) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return None
    try:
        pg_ctl(["status"], pgdata=pgdata, user=user)
    except Exception:  # pg_ctl status exits 3 when no server runs on this pgdata
        return None
    lines = pid_file.read_text().splitlines()
    return int(lines[3])


def _free_port(first: int) -> int:
    for port in range(first, first + 100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise EmbeddedServerError(f"no free TCP port in {first}..{first + 99} on 127.0.0.1")


@contextmanager
def _exclusive(pgdata: Path) -> Iterator[None]:
    """Hold a lock beside ``pgdata``: two processes starting the server at once would both
    initialise or start it (a sibling file, since initdb wants an empty folder)."""
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with pgdata.with_name(pgdata.name + ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_running(pgdata: Path, first_port: int) -> int:
    """Initialise ``pgdata`` if new, start the server if stopped; return its TCP port."""
    with _exclusive(pgdata):
        return _ensure_running(pgdata, first_port)


def _ensure_running(pgdata: Path, first_port: int) -> int:
    user = _system_user()
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is not None:
        ensure_prefix_permissions(pgdata)
        entry = pwd.getpwnam(user)
        shutil.chown(pgdata, entry.pw_uid, entry.pw_gid)
        pgdata.chmod(0o700)

    if not (pgdata / "PG_VERSION").exists():
        log.info("initialising embedded PostgreSQL in %s", pgdata)
        initdb(
            ["--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "-U", SUPERUSER],
            pgdata=pgdata,
            user=user,
        )

    port = _running_port(pgdata, user)
    if port is not None:
        return port

    port = _free_port(first_port)
    options = f"-h 127.0.0.1 -p {port} -k ''"
    log.info("starting embedded PostgreSQL on 127.0.0.1:%s", port)
    try:
        pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(pgdata / "server.log"), "start"], pgdata=pgdata, user=user)
    except Exception as error:
        server_log = pgdata / "server.log"
        tail = server_log.read_text()[-2000:] if server_log.exists() else ""
        raise EmbeddedServerError(f"embedded PostgreSQL did not start in {pgdata}:\n{tail}") from error
    return port


def stop(pgdata: Path) -> bool:
    """Stop the server of ``pgdata``; False when none was running."""
    user = _system_user()
    if _running_port(pgdata, user) is None:
        return False
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True
