#!/usr/bin/env python
"""Benchmarks at national scale (issue 6): every hot path next to its bare floor, in one run.

    python scripts/bench.py [--scale F] [--db sqlite|postgresql] [--only NAME[,NAME]]
                            [--json PATH] [--keep] [--agents N,M] [--seconds S]

The entry point of the `bench` package beside `outreach` (bench/main.py says what it does, the
measures are in bench/measures/; `python scripts/bench.py --help`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench`, not this script

from bench.main import main

if __name__ == "__main__":
    sys.exit(main())
