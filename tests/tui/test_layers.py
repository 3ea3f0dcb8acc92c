"""Every label of the TUI has English (the layers: tests/test_import_hygiene.py, import-linter)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.catalogues import entries

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "outreach" / "tui"


def _msgids(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append(node.args[0].value)
    return found


def test_every_label_has_an_english_translation() -> None:
    english = entries("en").messages
    files = [*TUI.rglob("*.py"), ROOT / "outreach/services/auth.py", ROOT / "outreach/cli/tui.py"]
    files += [ROOT / "outreach/cli/dnc.py", ROOT / "outreach/services/oppositions.py"]
    files.append(ROOT / "outreach/services/earlier_results.py")
    files += [ROOT / "outreach/cli/flags.py", ROOT / "outreach/services/flags.py"]
    files += [ROOT / "outreach/services/queue/handback.py"]
    files += [ROOT / "outreach/cli/db.py", ROOT / "outreach/db/migrate.py"]
    files += [*(ROOT / "outreach/services/importer").glob("*.py"), ROOT / "outreach/cli/imports.py"]
    files += [ROOT / "outreach/services/login_delay.py", ROOT / "outreach/services/login.py"]
    files += [ROOT / "outreach/services/outbox.py", ROOT / "outreach/db/engine.py"]
    ids = {m for f in files for m in _msgids(f)}
    missing = sorted(m for m in ids if m not in english)
    assert missing == []
