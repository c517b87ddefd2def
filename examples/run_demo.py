"""Run the nightly ETL demo on real data (`make demo`).

Runs a week of a feature-engineering pipeline over the NYC flights data with Contexta
capture; on night 5 the weather vendor renames a column and the job still exits 0. A
separate process then finds that night from the stored data alone, prints the summary,
the diagnosis and `contexta check`'s exit code, and writes a self-contained HTML report.

    python examples/run_demo.py [--nights N] [--break-night K] [--workspace PATH]
                                [--out PATH] [--html PATH] [--no-capture]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nightly_etl.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
