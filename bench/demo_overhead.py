"""What Contexta capture adds to the nightly ETL demo's wall time (issue 6).

Runs the same nights of the same pipeline code (``examples/nightly_etl``) twice in this
process, once with capture switched off (a null context) and once with Contexta writing
to a fresh workspace, alternating the order over rounds so warm caches favour neither.
Then times one full-year run of the demo command (all 365 nights, report included) in a
subprocess. Target: capture adds at most 5 % to the pipeline's wall time.

    .venv/bin/python bench/demo_overhead.py [--nights 30] [--rounds 2] [--skip-year]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))

from nightly_etl.cli import PROJECT_NAME  # noqa: E402
from nightly_etl.nightly import run_night  # noqa: E402
from nightly_etl.null_capture import NullContexta  # noqa: E402
from nightly_etl.source import (  # noqa: E402
    SourceData,
    deliver_weather_feed,
    load_source,
    night_date,
)


def _run_nights(source: SourceData, nights: int, root: Path, *,
                capture: bool) -> tuple[float, float]:
    """Wall and CPU seconds for ``nights`` nights; feed delivery (the vendor's work) included.

    CPU time of this process (all threads) is reported next to wall time: on a shared
    machine whose speed drifts, it moves much less between rounds.
    """
    out = root / "out"
    if capture:
        from contexta import Contexta

        ctx = Contexta(workspace=str(root / "workspace"), config={"project_name": PROJECT_NAME})
    else:
        ctx = NullContexta()
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        for night in range(1, nights + 1):
            date = night_date(night)
            feed = deliver_weather_feed(source, date, out / "landing", renamed_wind=night == 5)
            run_night(ctx, source, night=night, date=date, feed_path=feed, out_dir=out)
    finally:
        ctx.close()
    return time.perf_counter() - started, time.process_time() - cpu_started


def _overhead(nights: int, rounds: int) -> None:
    source = load_source()
    with tempfile.TemporaryDirectory(prefix="demo-overhead-") as tmp:
        base = Path(tmp)
        # Warm-up: first imports of pyarrow, the store and the profiler are not overhead.
        _run_nights(source, 2, base / "warm-off", capture=False)
        _run_nights(source, 2, base / "warm-on", capture=True)
        off: list[float] = []
        on: list[float] = []
        cpu_off: list[float] = []
        cpu_on: list[float] = []
        for index in range(rounds):
            order = (False, True) if index % 2 == 0 else (True, False)
            for capture in order:
                root = base / f"r{index}-{'on' if capture else 'off'}"
                seconds, cpu = _run_nights(source, nights, root, capture=capture)
                (on if capture else off).append(seconds)
                (cpu_on if capture else cpu_off).append(cpu)
                print(
                    f"round {index + 1}: capture {'on ' if capture else 'off'} "
                    f"{seconds:7.2f} s  ({seconds / nights * 1000:6.1f} ms/night)  "
                    f"cpu {cpu:6.2f} s"
                )
    best_off, best_on = min(off), min(on)
    med_off, med_on = statistics.median(off), statistics.median(on)
    print()
    print(f"{nights} nights, best of {rounds}:   off {best_off:.2f} s   on {best_on:.2f} s")
    print(
        f"ratio on/off (best):   {best_on / best_off:.3f}  "
        f"-> capture adds {(best_on / best_off - 1) * 100:+.1f} %  (target <= +5 %)"
    )
    print(
        f"ratio on/off (median): {med_on / med_off:.3f}  "
        f"-> capture adds {(med_on / med_off - 1) * 100:+.1f} %"
    )
    per_night_ms = (best_on - best_off) / nights * 1000
    print(f"capture cost per night: {per_night_ms:.1f} ms")
    low_off, low_on = min(cpu_off), min(cpu_on)
    added_ms = (low_on - low_off) / nights * 1000
    print(
        f"cpu time, best of {rounds}:  off {low_off:.2f} s   on {low_on:.2f} s  -> capture adds "
        f"{(low_on / low_off - 1) * 100:+.1f} %  ({added_ms:.1f} ms/night)"
    )


def _timed(command: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def _show_failure(done: subprocess.CompletedProcess[str]) -> None:
    print(f"  FAILED with exit code {done.returncode}")
    err = done.stderr.strip().splitlines()
    for line in [*err[:5], "  ...", *err[-12:]] if len(err) > 17 else err:
        print(f"  | {line}")


def _full_year() -> None:
    """The demo command on all 365 nights; the pipeline and the report timed apart."""
    with tempfile.TemporaryDirectory(prefix="demo-year-") as tmp:
        base = Path(tmp)
        workspace, html = base / "workspace", base / "report.html"
        pipeline_seconds, done = _timed(
            [
                sys.executable,
                str(ROOT / "examples" / "run_demo.py"),
                "--nights",
                "365",
                "--workspace",
                str(workspace),
                "--out",
                str(base / "out"),
                "--no-report",
            ]
        )
        print()
        print(f"full year, 365 nights with capture (process wall time): {pipeline_seconds:.1f} s")
        inner = [line for line in done.stdout.splitlines() if line.startswith("Pipeline done")]
        print(f"  {inner[0] if inner else '(no pipeline summary)'}")
        if done.returncode != 0:
            _show_failure(done)
            return
        report_seconds, done = _timed(
            [
                sys.executable,
                str(ROOT / "examples" / "nightly_etl" / "report.py"),
                "--workspace",
                str(workspace),
                "--project",
                PROJECT_NAME,
                "--html",
                str(html),
            ]
        )
        print(f"report of 365 runs (table, diagnoses, checks, HTML): {report_seconds:.1f} s")
        if done.returncode != 0:
            _show_failure(done)
            return
        flagged = [
            line.split()[1]
            for line in done.stdout.splitlines()
            if line[:1].isdigit() and not line.rstrip().endswith(" ok")
        ]
        print(f"  nights flagged: {len(flagged)} of 365; HTML {html.stat().st_size:,} bytes")
        print(f"total: {pipeline_seconds + report_seconds:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-year", action="store_true")
    args = parser.parse_args()
    _overhead(args.nights, args.rounds)
    if not args.skip_year:
        _full_year()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
