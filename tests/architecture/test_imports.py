"""The package's import graph: no circle, and no stage reaching into another's private names."""

from __future__ import annotations

import ast
from pathlib import Path

import itss_warehouse

PACKAGE = Path(itss_warehouse.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in PACKAGE.rglob("*.py")}


def _imports(path: Path) -> list[tuple[str, str | None]]:
    """(module, name) for every import of the package in the file, at any depth (deferred ones too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("itss_warehouse"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.append((submodule, None) if submodule in MODULES else (node.module, alias.name))
        elif isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.startswith("itss_warehouse")]
    return found


def _stage(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_no_import_circle():
    graph = {name: {module for module, _ in _imports(path) if module in MODULES and module != name}
             for name, path in MODULES.items()}  # fmt: skip
    cycles, done = [], set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycles.append(trail[trail.index(module) :] + [module])
            return
        if module in done:
            return
        for imported in graph[module]:
            visit(imported, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []


def test_no_stage_imports_a_private_name_of_another():
    private = [
        f"{name} imports {module}.{imported}"
        for name, path in MODULES.items()
        for module, imported in _imports(path)
        if imported and imported.startswith("_") and _stage(module) != _stage(name)
    ]
    assert private == []


def test_the_package_reads_as_the_pipeline():
    top = sorted(path.name for path in PACKAGE.iterdir() if not path.name.startswith(("_", ".")))
    assert top == ["cli.py", "ingest", "mail", "mappings", "orchestration", "pipeline.py", "reports", "settings.py",
                   "tools", "transform", "validate", "warehouse"]  # fmt: skip
