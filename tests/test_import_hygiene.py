"""The layers hold: domain imports only domain; domain, db and services never load Textual;
the TUI never touches SQL.

Two checks, as Harlequin does, without import-linter:
- at run time, a fresh interpreter imports every module of the core packages (found by walking
  them, so new modules are covered) and must not have loaded `textual`;
- statically, every import statement of each layer (including those inside functions and
  TYPE_CHECKING blocks) is checked against the layer's forbidden packages.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "outreach"
CORE = ("outreach.domain", "outreach.db", "outreach.services")

_IMPORT_ALL = """
import importlib, json, pkgutil, sys
imported = []
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    imported.append(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "textual_serve"))
print(json.dumps({"imported": imported, "ui": loaded}))
"""


def test_core_packages_never_load_textual() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL, *CORE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # The walk reached the modules it must cover (new ones are found the same way).
    for module in ("outreach.domain.phones", "outreach.db.engine", "outreach.services.types"):
        assert module in report["imported"]
    assert report["ui"] == [], f"the core loaded {report['ui']}"


@dataclass(frozen=True)
class Contract:
    layer: str  # dotted package the rule applies to
    forbidden: tuple[str, ...]  # dotted prefixes it must not import
    allowed: tuple[str, ...] = ()  # exceptions inside the forbidden prefixes


CONTRACTS = (
    Contract("outreach.domain", ("outreach",), allowed=("outreach.domain",)),
    Contract("outreach.domain", ("textual", "textual_serve", "sqlalchemy", "alembic", "psycopg")),
    Contract("outreach.db", ("textual", "textual_serve", "outreach.tui", "outreach.services")),
    Contract("outreach.services", ("textual", "textual_serve", "outreach.tui", "outreach.cli")),
    Contract("outreach.tui", ("sqlalchemy", "alembic", "psycopg")),
)


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, dotted module) for every import in the file, relative ones resolved."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # Each imported name, so `from outreach import config` is seen as outreach.config
            # and `from outreach import domain` as allowed outreach.domain.
            found += [
                (node.lineno, target if alias.name == "*" else f"{target}.{alias.name}")
                for alias in node.names
            ]
    return found


def _under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def violations(root: Path, contracts: tuple[Contract, ...] = CONTRACTS) -> list[str]:
    """Every import that breaks a contract, as 'file:line: layer imports module'."""
    broken = []
    for contract in contracts:
        folder = root.joinpath(*contract.layer.split("."))
        for path in sorted(folder.rglob("*.py")) if folder.is_dir() else []:
            for line, module in imports_of(path, root):
                if any(_under(module, a) for a in contract.allowed):
                    continue
                if any(_under(module, f) for f in contract.forbidden):
                    where = path.relative_to(root)
                    broken.append(f"{where}:{line}: {contract.layer} imports {module}")
    return sorted(set(broken))


def test_layers_import_only_what_they_may() -> None:
    assert violations(ROOT) == []


def _write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        (
            "outreach/domain/bad.py",
            "from outreach.db.models import Business\n",
            "outreach.domain imports outreach.db.models",
        ),
        ("outreach/domain/bad.py", "from ..services import queue\n", "imports outreach.services"),
        ("outreach/domain/bad.py", "from outreach import config\n", "imports outreach.config"),
        (
            "outreach/domain/bad.py",
            "def f():\n    import outreach.i18n\n",
            "outreach.domain imports outreach.i18n",
        ),
        ("outreach/services/q/bad.py", "import textual.app\n", "services imports textual.app"),
        (
            "outreach/tui/screens/bad.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import select\n",
            "outreach.tui imports sqlalchemy",
        ),
        (
            "outreach/db/bad.py",
            "from outreach.tui.app import OutreachApp\n",
            "imports outreach.tui",
        ),
    ],
)
def test_the_static_check_catches_breaches(
    tmp_path: Path, relative: str, source: str, expected: str
) -> None:
    _write(
        tmp_path,
        "outreach/domain/good.py",
        "from . import geography\nfrom outreach import domain\n",
    )
    _write(tmp_path, relative, source)
    found = violations(tmp_path)
    assert len(found) == 1 and expected in found[0], found
    assert found[0].startswith(relative)
