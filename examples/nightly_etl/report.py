"""The morning after: find the broken night from the stored data alone.

Run as its own process (``python report.py --workspace W --project P --html OUT``). It
opens a fresh ``Contexta`` on the workspace and knows nothing about which night broke:
the table, the diagnosis and its evidence, the ``contexta check`` exit code and the HTML
report all come from what the pipeline stored.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contexta import Contexta
from contexta.config import load_config
from contexta.surfaces.html import render_project_report

CONFIG_FILE = Path(__file__).with_name("contexta.toml")

_FLAG_SEVERITIES = ("warning", "error")
_RANK = {"info": 1, "warning": 2, "error": 3}
# Diagnostic codes whose evidence names a dataset column, and the statistic that moved.
_COLUMN_CODES = {"null_rate_spike": "null_rate", "zero_collapse": "zero_rate"}

DqKey = tuple[str, str, str]  # (dataset, column, stat): the data-quality metric tags


@dataclass
class Night:
    run_id: str
    name: str
    night: str
    status: str
    rows: int | float | None
    metrics: dict[str, int | float] = field(default_factory=dict)
    dq: dict[DqKey, int | float] = field(default_factory=dict)
    issues: tuple[Any, ...] = ()

    @property
    def flags(self) -> list[str]:
        codes: dict[str, None] = {}
        for issue in self.issues:
            if issue.severity in _FLAG_SEVERITIES:
                codes.setdefault(issue.code)
        return list(codes)

    @property
    def severity(self) -> str | None:
        ranked = sorted(self.issues, key=lambda i: _RANK.get(i.severity, 0))
        return ranked[-1].severity if ranked else None


def _load(ctx: Contexta, project: str) -> list[Night]:
    nights = []
    for position, run in enumerate(ctx.list_runs(project), start=1):
        snapshot = ctx.get_run_snapshot(run.run_id)
        diagnosis = ctx.diagnose_run(run.run_id)
        metrics: dict[str, int | float] = {}
        run_level: dict[str, int | float] = {}
        dq: dict[DqKey, int | float] = {}
        for record in snapshot.records:
            if record.record_type != "metric" or record.value is None:
                continue
            metrics[record.key] = record.value
            if record.stage_id is None:
                run_level[record.key] = record.value
            tags = record.tags
            if "dq.column" in tags and "dq.dataset" in tags and "dq.stat" in tags:
                dq[(tags["dq.dataset"], tags["dq.column"], tags["dq.stat"])] = record.value
        nights.append(
            Night(
                run_id=run.run_id,
                name=run.name,
                night=run.tags.get("night", str(position)),
                status=run.status,
                rows=run_level.get("rows_written"),
                metrics=metrics,
                dq=dq,
                issues=tuple(diagnosis.issues),
            )
        )
    return nights


def _affected_columns(nights: list[Night]) -> dict[DqKey, str]:
    """(dataset, column, stat) → label, for every column statistic a diagnostic flagged."""
    found: dict[DqKey, str] = {}
    for night in nights:
        for issue in night.issues:
            details: Mapping[str, Any] = issue.details or {}
            dataset, column = details.get("dataset"), details.get("column")
            stat = _COLUMN_CODES.get(issue.code)
            if details.get("rule") == "became_constant":
                stat = "distinct_count"
            if isinstance(dataset, str) and isinstance(column, str) and stat:
                label = f"{dataset}.{column} {stat.replace('_', ' ')}"
                found.setdefault((dataset, column, stat), label)
    return found


def _fmt(value: int | float | None) -> str:
    if value is None:
        return "-"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.4f}"


def _print_table(nights: list[Night], columns: dict[DqKey, str]) -> None:
    headers = ["night", "run", "status", "rows", *columns.values(), "flags"]
    table = [
        [
            n.night,
            n.name,
            n.status,
            _fmt(n.rows),
            *(_fmt(n.dq.get(key)) for key in columns),
            ", ".join(n.flags) or "ok",
        ]
        for n in nights
    ]
    widths = [max(len(str(row[i])) for row in [headers, *table]) for i in range(len(headers))]
    for row in [headers, ["-" * w for w in widths], *table]:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)))


def _print_diagnosis(night: Night, *, per_code: int = 4) -> None:
    print(f"Diagnosis of {night.name} ({night.run_id}):")
    shown: dict[str, int] = {}
    for issue in sorted(night.issues, key=lambda i: -_RANK.get(i.severity, 0)):
        shown[issue.code] = shown.get(issue.code, 0) + 1
        if shown[issue.code] > per_code:
            continue
        print(f"  [{issue.severity}] {issue.code}: {issue.summary}")
        for key, value in (issue.details or {}).items():
            text = value if isinstance(value, str) else json.dumps(value, default=str)
            if len(text) > 160:
                text = text[:157] + "..."
            print(f"      {key}: {text}")
    for code, count in shown.items():
        if count > per_code:
            print(f"  ... and {count - per_code} more {code} issue(s)")


def _check(workspace: Path, run_id: str) -> tuple[int, str]:
    command = [
        sys.executable,
        "-m",
        "contexta",
        "--workspace",
        str(workspace),
        "--config",
        str(CONFIG_FILE),
        "check",
        run_id,
        "--fail-on",
        "warning",
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return done.returncode, (done.stdout + done.stderr).strip()


def _shown_check_command(workspace: Path, run_name: str) -> str:
    """The ``contexta check`` line as a user can paste it from the current folder."""
    def short(path: Path) -> str:
        try:
            return str(path.resolve().relative_to(Path.cwd()))
        except ValueError:
            return str(path.resolve())

    return (f"contexta --workspace {shlex.quote(short(workspace))} --config "
            f"{shlex.quote(short(CONFIG_FILE))} check {shlex.quote(run_name)} --fail-on warning")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--html", type=Path, required=True)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    config = load_config(config_file=CONFIG_FILE, workspace=args.workspace)
    with Contexta(config=config) as ctx:
        nights = _load(ctx, args.project)
        columns = _affected_columns(nights)
        print(f"Per-night summary (from the store at {args.workspace}):")
        _print_table(nights, columns)
        broken = [n for n in nights if n.flags]
        healthy = [n for n in nights if not n.flags]
        print()
        if not broken:
            print("No night was flagged.")
        for night in broken[:3]:
            _print_diagnosis(night)
            print()
        checks = {}
        for night in [*broken[:3], *healthy[-1:]]:
            code, output = _check(args.workspace, night.run_id)
            checks[night.run_id] = code
            print(f"$ {_shown_check_command(args.workspace, night.name)}  -> exit code {code}")
            for line in output.splitlines()[:6]:
                print(f"    {line}")
        page = render_project_report(ctx, args.project, title=f"{args.project}: nightly report")
    args.html.parent.mkdir(parents=True, exist_ok=True)
    args.html.write_text(page, encoding="utf-8")
    print()
    print(f"HTML report: {args.html}")
    if args.json is not None:
        summary = {
            "columns": {"/".join(key): label for key, label in columns.items()},
            "nights": [
                {
                    "run_id": n.run_id,
                    "name": n.name,
                    "night": n.night,
                    "status": n.status,
                    "rows": n.rows,
                    "values": {label: n.dq.get(key) for key, label in columns.items()},
                    "flags": n.flags,
                    "codes": [i.code for i in n.issues],
                    "severity": n.severity,
                }
                for n in nights
            ],
            "checks": checks,
            "html": str(args.html),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
