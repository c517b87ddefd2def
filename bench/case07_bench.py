"""Scaled case-07 workload (issue 2): write and analyze phases at several sizes.

Runs ``shared/bench/case07_scale.py`` (seed API only) in a fresh subprocess and
fresh workspace per size and prints both phases, the per-night cost and how it
grows (linear growth keeps seconds-per-night flat).

usage: python bench/case07_bench.py [NIGHTS ...] [--metrics 20]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

SCALE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "case07_scale.py"


def run_once(nights: int, metrics: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, str(SCALE), str(Path(tmp) / ".contexta"), str(nights), str(metrics)],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="case-07 scale benchmark")
    parser.add_argument("nights", nargs="*", type=int, default=[250, 500, 1000])
    parser.add_argument("--metrics", type=int, default=20)
    args = parser.parse_args()
    if not SCALE.exists():
        sys.exit(f"missing workload {SCALE}")
    print(f"{'nights':>7} {'records':>8} {'seed_s':>8} {'analyze_s':>9} {'ms/night w':>10} "
          f"{'ms/night a':>10} {'degraded':>8} {'rss_mb':>6}")
    rows = []
    for nights in args.nights:
        r = run_once(nights, args.metrics)
        rows.append(r)
        print(f"{nights:7d} {r['records']:8d} {r['seed_s']:8.2f} {r['analyze_s']:9.2f} "
              f"{1000 * r['seed_s'] / nights:10.2f} {1000 * r['analyze_s'] / nights:10.2f} "
              f"{r['degraded_runs']:8d} {r['maxrss_mb']:6d}")
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        scale = last["nights"] / first["nights"]
        print(f"growth x{scale:.0f} in nights: write x{last['seed_s'] / first['seed_s']:.2f}, "
              f"analyze x{last['analyze_s'] / first['analyze_s']:.2f} (linear = x{scale:.0f})")
    print("target: analyze 1,000 nights < 2 s; reference: 27 s for 50 nights, 131 s for 100")


if __name__ == "__main__":
    main()
