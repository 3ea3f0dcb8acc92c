"""Layers: the services never load Textual, the TUI never talks SQL, every label has English."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from outreach.i18n import parse_po

ROOT = Path(__file__).resolve().parents[2]
TUI = ROOT / "outreach" / "tui"


def test_services_do_not_load_textual() -> None:
    code = (
        "import sys, outreach.services.auth, outreach.services.outbox, outreach.services.queue\n"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tui_has_no_sql() -> None:
    # bare select(...)/update(...) are SQLAlchemy; widget.update(...) is not
    forbidden = re.compile(
        r"(?<![.\w])(select|insert|update|delete)\(|\.execute\(|\.reading\(|\.writing\("
    )
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in TUI.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if forbidden.search(line) or "sqlalchemy" in line
    ]
    assert offenders == []


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
    po = ROOT / "outreach/locale/en/LC_MESSAGES/outreach.po"
    english = parse_po(po.read_text(encoding="utf-8"))
    files = [*TUI.rglob("*.py"), ROOT / "outreach/services/auth.py", ROOT / "outreach/cli/tui.py"]
    files += [ROOT / "outreach/cli/dnc.py", ROOT / "outreach/services/oppositions.py"]
    files.append(ROOT / "outreach/services/earlier_results.py")
    files += [ROOT / "outreach/cli/flags.py", ROOT / "outreach/services/flags.py"]
    files += [ROOT / "outreach/services/queue/handback.py"]
    files += [ROOT / "outreach/cli/db.py", ROOT / "outreach/db/migrate.py"]
    files += [ROOT / "outreach/services/importer.py", ROOT / "outreach/cli/imports.py"]
    files += [ROOT / "outreach/services/login_delay.py", ROOT / "outreach/services/login.py"]
    files += [ROOT / "outreach/services/outbox.py", ROOT / "outreach/db/engine.py"]
    ids = {m for f in files for m in _msgids(f)}
    missing = sorted(m for m in ids if m not in english)
    assert missing == []
