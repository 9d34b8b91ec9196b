"""Which way imports go, read from the source with `ast`: pages and the API never import each other,
only the seed and the CLI import the seed, and every `problem("name")` names a problem of the catalogue."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.catalogue import PROBLEMS

ROOT = Path(__file__).resolve().parent.parent
# The application's code; tests and the seed's own modules may import the seed.
APP_DIRS = ("server", "sync", "bench")
SEED_IMPORTERS = {"server/cli.py"}


def python_files(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, relative imports resolved, `from a import b` counted as a and a.b."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def imports_of(path: Path, prefix: str) -> list[str]:
    return sorted(m for m in imported_modules(path) if m == prefix or m.startswith(prefix + "."))


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_import_reader_resolves_relative_imports():
    assert "server.api" in imported_modules(ROOT / "server/app.py")
    assert "server.services.checklists" in imported_modules(ROOT / "server/pages/checklists.py")
    assert "server.errors.problem" in imported_modules(ROOT / "server/api/templates.py")


@pytest.mark.parametrize("path", python_files("server/pages"), ids=rel)
def test_pages_do_not_import_the_api(path):
    assert not imports_of(path, "server.api"), rel(path)


@pytest.mark.parametrize("path", python_files("server/api"), ids=rel)
def test_the_api_does_not_import_pages(path):
    assert not imports_of(path, "server.pages"), rel(path)


@pytest.mark.parametrize("path", python_files("server/services"), ids=rel)
def test_services_import_neither_routes(path):
    assert not imports_of(path, "server.api") and not imports_of(path, "server.pages"), rel(path)


def test_only_the_cli_imports_the_seed():
    offenders = {
        rel(p): imports_of(p, "seed")
        for p in python_files(*APP_DIRS)
        if rel(p) not in SEED_IMPORTERS and imports_of(p, "seed")
    }
    assert offenders == {}


def problem_names(path: Path) -> list[tuple[int, str]]:
    """(line, name) of every problem("name", ...) / errors.problem("name", ...) with a literal name."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        first = node.args[0]
        if called == "problem" and isinstance(first, ast.Constant) and isinstance(first.value, str):
            out.append((node.lineno, first.value))
    return out


def test_every_problem_raised_by_name_is_in_the_catalogue():
    raised = {(rel(p), line, name) for p in python_files("server", "sync") for line, name in problem_names(p)}
    assert len(raised) > 30  # the scan does see the server's problems
    unknown = sorted(r for r in raised if r[2] not in PROBLEMS)
    assert unknown == []


def test_the_problem_scan_catches_a_misspelt_name(tmp_path):
    source = tmp_path / "x.py"
    source.write_text('from server.errors import problem\nraise problem("unit_not_fuond", field="x")\n')
    assert problem_names(source) == [(2, "unit_not_fuond")]
