"""Settings are declared once (server/config.py), documented in README.md, and the only environment reader."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from server.config import Settings, declared_settings, normalise_db_url

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_PACKAGES = ("server", "sync", "seed", "client")
THE_ENVIRONMENT_READER = "server/config.py"


@pytest.fixture(autouse=True)
def elsewhere(tmp_path, monkeypatch):
    """Run in a temporary folder: the default SQLite URL makes its data/ folder where it runs."""
    monkeypatch.chdir(tmp_path)


def readme_configuration() -> list[tuple[str, str, str]]:
    """(variable, default, meaning) rows of README.md's configuration table, backticks removed."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows.append((cells[0].strip("`"), cells[1].strip("`"), cells[2]))
    return rows


def test_the_readme_documents_every_setting_with_its_default_and_help():
    documented = readme_configuration()
    assert [v for v, _, _ in documented] == [d.variable for d in declared_settings()], (
        "README.md's configuration table and server/config.py declare different variables"
    )
    for (variable, default, meaning), d in zip(documented, declared_settings()):
        assert default == d.documented_default, (
            f"{variable}: README says {default!r}, Settings {d.documented_default!r}"
        )
        assert meaning == d.help, f"{variable}: README and server/config.py explain it differently"


def test_each_variable_is_declared_once():
    variables = [d.variable for d in declared_settings()]
    assert len(variables) == len(set(variables))


def _reads_the_environment(tree: ast.AST) -> bool:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("environ", "getenv", "environb")
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv", "environb") for a in node.names)
        ):
            return True
    return False


def test_only_the_settings_module_reads_the_environment():
    readers = set()
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative != THE_ENVIRONMENT_READER and _reads_the_environment(ast.parse(path.read_text("utf-8"))):
                readers.add(relative)
    assert not readers, (
        f"read the environment outside {THE_ENVIRONMENT_READER} (declare a setting instead): {sorted(readers)}"
    )


def _sample(d) -> str:
    """A value for the variable that is not its default."""
    if d.variable == "DATABASE_URL":
        return "postgres://eiso@db.example:5432/eiso"
    if d.parse is int:
        return str(d.default + 7)
    if isinstance(d.default, bool):
        return "0" if d.default else "1"
    if isinstance(d.default, Path):
        return "/srv/eiso/" + d.name
    if d.variable == "EISO_TRUSTED_PROXIES":
        return "10.0.0.0/8, 127.0.0.1"
    if d.variable == "EISO_PUBLIC_ORIGINS":
        return "https://iso.example.gov.vn"
    return "value-of-" + d.variable.lower()


def _comparable(s: Settings) -> dict:
    values = dict(vars(s))
    values.pop("secret")  # random when unset
    return values


@pytest.mark.parametrize("d", declared_settings(), ids=lambda d: d.variable)
def test_each_variable_changes_its_setting_and_only_that(d):
    unset = Settings.from_env({})
    raw = _sample(d)
    s = Settings.from_env({d.variable: raw})
    expected = d.parse(raw)
    if d.name == "database_url":
        expected = normalise_db_url(expected)
    assert getattr(s, d.name) == expected != getattr(unset, d.name)
    assert {k: v for k, v in _comparable(s).items() if k != d.name} == {
        k: v for k, v in _comparable(unset).items() if k != d.name
    }


def test_unset_or_empty_variables_mean_the_defaults():
    for env in ({}, {d.variable: "" for d in declared_settings()}):
        s = Settings.from_env(env)
        for d in declared_settings():
            want = normalise_db_url(d.default) if d.name == "database_url" else d.default
            if d.name != "secret":
                assert getattr(s, d.name) == want, d.variable
        assert len(s.secret) >= 32  # a random one per start


def test_from_env_reads_the_process_environment(monkeypatch):
    monkeypatch.setenv("EISO_NEW_PASSWORD", "mat-khau-moi-2026")
    assert Settings.from_env().new_password == "mat-khau-moi-2026"
