"""Every import-linter contract in pyproject.toml catches the imports it forbids.

Each test copies mailflow/ and pyproject.toml into a temporary directory, appends forbidden
imports to the copy and runs `lint-imports --contract ID` there, with that directory
first on PYTHONPATH so import-linter analyses the copy rather than the installed package.
The cases are derived from the contracts themselves: every forbidden module is imported
by some source module and every source module imports some forbidden module; for the
layers, every layer imports the one above it and every independent sibling imports the
next. Each injected import must appear in the contract's report with the line it was
appended at, so it counts only if the injection itself was caught (main may break some
contracts today; that is `make lint`'s business, not these tests').
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import cycle, islice, pairwise
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS: list[dict[str, Any]] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"][
    "importlinter"
]["contracts"]
UNPLACED = "mailflow.zz_unplaced"


@dataclass(frozen=True)
class Injection:
    importer: str  # a module of mailflow, e.g. "mailflow.core.workdays"
    imported: str  # what it is made to import, e.g. "sqlmodel"


def reported(injection: Injection, line: int) -> re.Pattern[str]:
    """How lint-imports lists the import at that line as a broken link (a line of its report)."""
    link = f"{re.escape(injection.importer)} -> {re.escape(injection.imported)}"
    return re.compile(rf"^-\s+{link} \((l\.\d+, )*l\.{line}[,)]", re.MULTILINE)


def lint_imports_command() -> list[str]:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
        "lint-imports")
    assert found, "lint-imports is missing: pip install -e '.[test]'"
    return [found]


def copy_package(directory: Path) -> Path:
    directory.mkdir()
    shutil.copytree(ROOT / "mailflow", directory / "mailflow",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", directory / "pyproject.toml")
    return directory


def module_file(tree: Path, module: str) -> Path:
    path = tree.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def exists(tree: Path, module: str) -> bool:
    path = tree.joinpath(*module.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def inject(tree: Path, injections: list[Injection]) -> dict[Injection, int]:
    """Appends each import to its importer's file; returns the line each one landed on."""
    lines = {}
    for injection in injections:
        path = module_file(tree, injection.importer)
        text = path.read_text(encoding="utf-8")
        text += ("" if text.endswith("\n") or not text else "\n") + f"import {injection.imported}\n"
        path.write_text(text, encoding="utf-8")
        lines[injection] = len(text.splitlines())
    return lines


def lint(tree: Path, contract_id: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "COLUMNS": "500"}
    return subprocess.run(
        [*lint_imports_command(), "--no-logo", "--no-cache", "--contract", contract_id],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )


def forbidden_injections(contract: dict[str, Any]) -> list[Injection]:
    """Each source module imports some forbidden module and each forbidden module is imported."""
    sources, forbidden = contract["source_modules"], contract["forbidden_modules"]
    pairs = islice(zip(cycle(sources), cycle(forbidden)), max(len(sources), len(forbidden)))
    return [Injection(source, imported) for source, imported in pairs]


def layer_tails(layer: str) -> Iterator[tuple[str, bool]]:
    """(module tail, is optional) of each module of a layer such as "(views) | store"."""
    for part in re.split(r"[|:]", layer):
        tail = part.strip()
        yield tail.strip("()"), tail.startswith("(")


def layers_injections(contract: dict[str, Any], tree: Path) -> list[Injection]:
    """Each layer imports the layer above it, and each independent sibling imports the next."""
    (container,) = contract["containers"]
    layers = [[f"{container}.{tail}" for tail, _ in layer_tails(layer)] for layer in contract["layers"]]
    injections = []
    for upper, lower in pairwise(layers):
        injections += [Injection(module, upper[0]) for module in lower]
    for layer, text in zip(layers, contract["layers"], strict=True):
        if "|" in text and len(layer) > 1:
            injections += [Injection(a, b) for a, b in zip(layer, layer[1:] + layer[:1], strict=True)]
    assert all(exists(tree, i.importer) and exists(tree, i.imported) for i in injections)
    return injections


def create_optional_layers(contract: dict[str, Any], tree: Path) -> None:
    """Optional layers that do not exist yet are created (empty) so they are checked too."""
    (container,) = contract["containers"]
    for layer in contract["layers"]:
        for tail, optional in layer_tails(layer):
            module = f"{container}.{tail}"
            if optional and not exists(tree, module):
                module_file(tree, module).write_text('"""An optional layer, created by the test."""\n')


def assert_caught(contract: dict[str, Any], tree: Path, injections: list[Injection]) -> None:
    lines = inject(tree, injections)
    result = lint(tree, contract["id"])
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{contract['name']} BROKEN" in result.stdout
    missed = [i for i in injections if not reported(i, lines[i]).search(result.stdout)]
    assert not missed, f"{contract['id']} let these through: {missed}\n{result.stdout}"


@pytest.mark.parametrize("contract", [c for c in CONTRACTS if c["type"] == "forbidden"],
                         ids=lambda contract: contract["id"])
def test_forbidden_contract_catches_each_forbidden_import(contract: dict[str, Any], tmp_path: Path) -> None:
    tree = copy_package(tmp_path / "tree")
    assert_caught(contract, tree, forbidden_injections(contract))


@pytest.mark.parametrize("contract", [c for c in CONTRACTS if c["type"] == "layers"],
                         ids=lambda contract: contract["id"])
def test_layers_contract_catches_upward_and_sideways_imports(contract: dict[str, Any],
                                                             tmp_path: Path) -> None:
    tree = copy_package(tmp_path / "tree")
    create_optional_layers(contract, tree)
    assert_caught(contract, tree, layers_injections(contract, tree))


def test_core_may_not_import_socket(tmp_path: Path) -> None:
    """The standard library is in the graph like any external package, so this is caught."""
    (contract,) = [c for c in CONTRACTS if c["id"] == "core-is-pure"]
    tree = copy_package(tmp_path / "tree")
    assert_caught(contract, tree, [Injection("mailflow.core.workdays", "socket"),
                                   Injection("mailflow.core.workdays", "sqlmodel")])


def test_a_new_top_level_module_must_be_given_a_layer(tmp_path: Path) -> None:
    (contract,) = [c for c in CONTRACTS if c["type"] == "layers"]
    assert contract.get("exhaustive") is True
    tree = copy_package(tmp_path / "tree")
    module_file(tree, UNPLACED).write_text('"""A module nobody placed in a layer."""\n')
    result = lint(tree, contract["id"])
    assert result.returncode == 1
    assert re.search(rf"not listed as layers:\s+- {re.escape(UNPLACED)}$", result.stdout, re.MULTILINE)


def test_the_contracts_state_the_design() -> None:
    """Dropping a layer or something core may not touch is a design change, not a tidy-up."""
    by_id = {contract["id"]: contract for contract in CONTRACTS}
    assert by_id["layers"]["layers"] == [
        "__main__", "cli", "demo | daemon | fleet", "fleet_member", "metrics", "service",
        "runners", "(views)",
        "compose | store | adapters", "core", "config", "config_parts | config_file",
        "vocabulary | errors",
    ]
    assert set(by_id["core-is-pure"]["forbidden_modules"]) >= {
        "sqlmodel", "sqlalchemy", "imap_tools", "imaplib", "aiosmtplib", "smtplib", "socket", "ssl",
        "jinja2", "dkim", "dns", "asyncio", "threading",
        "mailflow.store", "mailflow.adapters", "mailflow.compose", "mailflow.runners",
    }
    assert "ssl" in by_id["config-has-no-tls"]["forbidden_modules"]


def test_the_injections_cover_every_forbidden_module_and_every_source() -> None:
    for contract in (c for c in CONTRACTS if c["type"] == "forbidden"):
        injections = forbidden_injections(contract)
        assert {i.importer for i in injections} == set(contract["source_modules"])
        assert {i.imported for i in injections} == set(contract["forbidden_modules"])
