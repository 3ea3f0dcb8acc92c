"""What `pip install -e .` (the README's install) leaves beside the sources, besides the
catalogues (tests/cli/test_i18n.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "module",
    [
        "outreach/__init__.py",
        "outreach/cli/__init__.py",
        "outreach/db/models.py",
        "outreach/services/queue/claim.py",
        "outreach/tui/app.py",
        "outreach/tui/screens/call.py",
    ],
)
def test_the_editable_install_byte_compiled_the_package(module: str) -> None:
    """`pip install -e .` left bytecode beside the sources (hatch_build.py), as pip does for a
    wheel: with PYTHONDONTWRITEBYTECODE set (CI sets it) Python never writes it, and each start
    of the app compiled every module again."""
    cached = Path(importlib.util.cache_from_source(str(ROOT / module)))
    assert cached.exists(), f"{cached} missing: the build hook (hatch_build.py) did not run"
