"""The README's commands run as written after `make install` on a fresh machine."""

from __future__ import annotations

import re

import typer

from itss_warehouse.cli import app
from itss_warehouse.settings import Settings

PROJECT = Settings(_env_file=None).project_dir
README = (PROJECT / "README.md").read_text(encoding="utf-8")
SHELL_LINES = [
    line.strip()
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    for line in block.splitlines()
    if line.strip() and not line.strip().startswith("#")
]


def _unknown_command(words: list[str]) -> str | None:
    """The first word of an ``itss …`` mention that names no command, or None."""
    command = typer.main.get_command(app)
    for word in words:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            return None  # a leaf command: the rest are its arguments
        if word not in subcommands:
            return word
        command = subcommands[word]
    return None


def test_every_itss_command_the_readme_names_exists():
    named = [words.split() for words in re.findall(r"`itss ((?:[a-z][a-z-]* ?)+)", README)]
    assert len(named) > 10
    assert {" ".join(words): _unknown_command(words) for words in named if _unknown_command(words)} == {}


def test_the_readme_never_runs_a_program_the_set_up_does_not_put_on_the_path():
    # `make install` leaves uv in .itss/tools/bin: a bare `uv …` answers "command not found".
    assert not [line for line in SHELL_LINES if line.startswith("uv ")]
    assert not re.search(r"`uv run\b", README)
    set_up = next(number for number, line in enumerate(SHELL_LINES) if line.startswith("make test"))
    assert SHELL_LINES[set_up + 1].startswith("source .venv/bin/activate")


def test_the_environment_the_readme_activates_has_the_itss_command():
    assert (PROJECT / ".venv" / "bin" / "activate").is_file()
    assert (PROJECT / ".venv" / "bin" / "itss").is_file()
