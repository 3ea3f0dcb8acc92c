"""Build hook: the gettext catalogues (`outreach/locale/*/LC_MESSAGES/*.po`) compiled to `.mo`
with Babel, for wheels and editable installs alike (`pip install -e .` runs it too).

The compiling is `outreach.i18n.compile_catalogue` (loaded from its file: the package is not
installed yet), the same function the app uses on a catalogue edited since the install.

An editable install also byte-compiles the package where it lies, as pip does for a wheel's
files: where PYTHONDONTWRITEBYTECODE is set (containers, CI, this project's machines) Python
never writes `__pycache__` itself, and every start of the app compiled its modules again
(about 50 ms of a 0.65 s start, `scripts/bench.py --only tui_start`). A module edited later is
compiled again in memory until the next install, as Python always does with an outdated cache.
"""

from __future__ import annotations

import compileall
import importlib.util
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        spec = importlib.util.spec_from_file_location("_outreach_i18n", root / "outreach/i18n.py")
        assert spec is not None and spec.loader is not None
        i18n = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(i18n)
        for po in sorted((root / "outreach" / "locale").glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            mo.write_bytes(i18n.compile_catalogue(po))
            if version != "editable":  # an editable install reads them where they are written
                # .mo files are not tracked (.gitignore): a wheel takes them explicitly
                build_data.setdefault("force_include", {})[str(mo)] = str(mo.relative_to(root))
        if version == "editable":
            compileall.compile_dir(root / "outreach", quiet=1)
