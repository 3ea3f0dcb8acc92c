"""The layers hold: domain imports only domain; domain, db and services never load Textual;
the TUI never touches SQL; the product never imports its tools (bench/, scripts/), which use
only its public names.

Two checks:
- at run time, a fresh interpreter imports every module of the core packages (found by walking
  them, so new modules are covered) and must not have loaded `textual`;
- statically, import-linter's contracts in pyproject.toml (`lint-imports`), which see every
  import statement, those inside functions and TYPE_CHECKING blocks included; a copy of the
  package with one bad import planted shows that each contract catches its breach.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
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


LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the package under `root`, with that tree's own pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )


def test_layers_import_only_what_they_may() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("relative", "source", "contract"),
    [
        ("outreach/domain/bad.py", "from outreach.db.models import Business\n", "domain is pure"),
        ("outreach/domain/bad.py", "def f():\n    import outreach.i18n\n", "domain is pure"),
        ("outreach/services/bad.py", "import textual.app\n", "No Textual below the UI"),
        (
            "outreach/tui/screens/bad.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from sqlalchemy import select\n",
            "never SQL",
        ),
        ("outreach/db/bad.py", "from outreach.services import queue\n", "Layers"),
        (
            "outreach/tui/widgets/bad.py",
            "def f():\n    from outreach.tui.app import OutreachApp\n",
            "never import the app",
        ),
        (
            "outreach/services/bad.py",
            "from bench.bare import BareAgent\n",
            "never imports its tools",
        ),
        ("outreach/cli/bad.py", "def f():\n    import scripts.bench\n", "never imports its tools"),
    ],
)
def test_each_contract_catches_its_breach(
    tmp_path: Path, relative: str, source: str, contract: str
) -> None:
    for package in ("outreach", "bench"):
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / relative).write_text(source, encoding="utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert any(contract in line for line in broken), done.stdout
    assert relative.removesuffix(".py").replace("/", ".") in done.stdout


def _third_party_imports(folder: Path) -> set[str]:
    """Top-level names of every import under `folder` that is neither stdlib nor outreach."""
    import ast

    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return {n for n in found if n not in sys.stdlib_module_names and n not in ("outreach",)}


def test_every_import_of_the_product_is_declared() -> None:
    """What the installed app imports is in pyproject's dependencies (not there by luck, as
    another package's dependency)."""
    import re
    import tomllib
    from importlib.metadata import packages_distributions

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {
        re.split(r"[\[<>=!~ ;]", spec, maxsplit=1)[0].lower().replace("_", "-")
        for spec in project["dependencies"]
    }
    owners = packages_distributions()
    undeclared = {
        name: owners.get(name)
        for name in _third_party_imports(PACKAGE)
        if not {d.lower().replace("_", "-") for d in owners.get(name, [name])} & declared
    }
    assert undeclared == {}


_START_PATH = """
import json, sys
from datetime import datetime, timezone
import outreach.cli, outreach.cli.tui, outreach.tui.app, outreach.tui.screens.call
import outreach.services.auth, outreach.services.queue, outreach.services.agent_states
import outreach.services.agent_times, outreach.services.callback_alerts
import outreach.tui.screens.campaigns, outreach.tui.widgets.day_bar
from outreach.domain.windows import open_departments, parse_window
open_departments(parse_window("12345", "10:00-13:00,14:00-20:00"), datetime(2021, 4, 6, 9, tzinfo=timezone.utc))
slow = {m.split(".")[0] for m in sys.modules} & {"holidays", "argon2", "dateutil"}
slow |= {m for m in sys.modules if m.startswith("sqlalchemy.dialects.postgresql")}
slow |= {"outreach.services.rollup", "outreach.services.campaigns"} & set(sys.modules)
slow |= {"outreach.db.models_more"} & set(sys.modules)
print(json.dumps(sorted(slow)))
"""


def test_the_agents_start_path_leaves_slow_packages_unloaded() -> None:
    """What the app loads before its first business (issue 13): the calling window's holidays
    are computed without the `holidays` package (and dateutil), argon2 waits for a PIN, on
    SQLite nothing loads SQLAlchemy's PostgreSQL dialect (about 40 ms of imports), and the
    adviser's own day (`my_day`) and timer line load neither the supervisors' roll-ups nor
    their campaign editing (about 25 ms), and the models it does not read stay unmapped
    (`outreach.db.models_more`, about 15 ms)."""
    done = subprocess.run(
        [sys.executable, "-c", _START_PATH], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []


def test_a_claim_on_postgresql_leaves_the_record_path_unloaded() -> None:
    """PostgreSQL claims through `queue.fastpath`; the record path it shares with the general
    one (`queue.record` and what it imports, about 15 ms) loads with the first record."""
    code = (
        "import sys, json; import outreach.services.queue.fastpath; "
        "print(json.dumps('outreach.services.queue.record' in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) is False


def test_the_tools_use_only_public_names_of_the_product() -> None:
    """bench/ and scripts/ are tools over the product: they import its modules' public names,
    never a private one (`_name`), which the product may change without telling them."""
    import ast

    private = []
    for path in sorted([*(ROOT / "bench").rglob("*.py"), *(ROOT / "scripts").glob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("outreach"):
                names = [*(node.module or "").split("."), *(a.name for a in node.names)]
                if any(n.startswith("_") for n in names):
                    private.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert private == []
