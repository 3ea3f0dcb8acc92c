#!/usr/bin/env python
"""Le bilan des confinements : `outreach report lockdowns`, kept under its old name.

    .venv/bin/python scripts/lockdown_report.py --out rapports/ [--as LOGIN] [--chamber CODE]

The same command and options as `outreach report lockdowns --out DIR` (installed with the
package); no logic here.
"""

from __future__ import annotations

import sys

from outreach.cli import main

if __name__ == "__main__":
    main(["report", "lockdowns", *sys.argv[1:]])
