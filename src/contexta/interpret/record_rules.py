"""Diagnostic rules about individual records: degraded, orphaned, non-finite, duplicated.

All of them work on the rows already read for the snapshot, so they cost no query.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from contexta.interpret.diagnosis_input import make_issue
from contexta.interpret.results import EvidenceLink

if TYPE_CHECKING:
    from contexta.interpret.diagnosis_input import DiagnosisInput, Finding

__all__ = [
    "DQ_FINDING_CODES",
    "degraded_record",
    "duplicate_metric_step",
    "non_finite_metric",
    "orphan_record",
]

#: Degraded-record issue keys of the data-quality layer and the code each reports (§7.1).
DQ_FINDING_CODES = {
    "dq.schema_change": "schema_change",
    "dq.null_rate_spike": "null_rate_spike",
    "dq.zero_collapse": "zero_collapse",
}
_LIST_LIMIT = 20


def degraded_record(inp: DiagnosisInput) -> list[Finding]:
    if not inp.settings.diagnostics.detect_degraded_records:
        return []
    skip_findings = inp.settings.diagnostics.detect_data_quality
    found = []
    records = inp.bundle.snapshot.records
    for index, row in enumerate(inp.bundle.rows):
        is_degraded = row.record_type == "degraded"
        if not is_degraded and row.degradation_marker == "none":
            continue
        if is_degraded and skip_findings and row.key in DQ_FINDING_CODES:
            continue  # reported under its own data-quality code
        record = records[index]
        if is_degraded:
            payload = record.payload
            severity = row.severity if row.severity in ("warning", "error") else "warning"
            category = payload.get("category")
            text = record.message
            summary = f"degraded record detected for {row.key}: {text}"
            payload_severity = payload.get("severity")
        else:
            severity, category, text, payload_severity = "warning", None, None, None
            summary = f"degraded record detected for {row.key}"
        details = {
            "record_type": row.record_type,
            "degradation_marker": row.degradation_marker,
            "stage_id": row.stage_ref,
            "batch_id": row.batch_ref,
            "category": category,
            "payload_severity": payload_severity,
            "summary": text,
        }
        link = EvidenceLink("record", row.record_ref, f"{row.record_type}:{row.key}")
        found.append(
            make_issue(
                row.sequence, severity, "degraded_record", summary, details, row.record_ref, link
            )
        )
    return found


def orphan_record(inp: DiagnosisInput) -> list[Finding]:
    found = []
    for index, orphan in enumerate(inp.bundle.orphans):
        count = len(orphan.record_ids)
        details = {
            "missing_ref": orphan.missing_ref,
            "ref_kind": orphan.ref_kind,
            "record_count": count,
            "record_ids": orphan.record_ids[:_LIST_LIMIT],
        }
        noun = "record names" if count == 1 else "records name"
        summary = f"{count} {noun} {orphan.ref_kind} {orphan.missing_ref}, which does not exist"
        links = tuple(EvidenceLink("record", rid, "orphan record") for rid in orphan.record_ids[:3])
        found.append(
            make_issue(
                index, "warning", "orphan_record", summary, details, orphan.missing_ref, *links
            )
        )
    return found


def non_finite_metric(inp: DiagnosisInput) -> list[Finding]:
    groups: dict[tuple[str | None, str], dict[str, Any]] = {}
    for row in inp.bundle.rows:
        value = row.value
        if row.record_type != "metric" or not isinstance(value, float) or math.isfinite(value):
            continue
        group = groups.get((row.stage_ref, row.key))
        if group is None:
            group = {"position": row.sequence, "nan": 0, "pos": 0, "neg": 0, "steps": [], "ids": []}
            groups[(row.stage_ref, row.key)] = group
        if math.isnan(value):
            group["nan"] += 1
        elif value > 0:
            group["pos"] += 1
        else:
            group["neg"] += 1
        if row.step is not None and len(group["steps"]) < _LIST_LIMIT:
            group["steps"].append(row.step)
        if len(group["ids"]) < _LIST_LIMIT:
            group["ids"].append(row.record_ref)
    found = []
    for (stage_ref, key), group in groups.items():
        details = {
            "metric_key": key,
            "stage_id": stage_ref,
            "nan_count": group["nan"],
            "pos_inf_count": group["pos"],
            "neg_inf_count": group["neg"],
            "steps": tuple(group["steps"]),
            "record_ids": tuple(group["ids"]),
        }
        summary = (
            f"metric {key} has non-finite values (NaN: {group['nan']}, +inf: {group['pos']}, "
            f"-inf: {group['neg']})"
        )
        link = EvidenceLink("record", group["ids"][0], f"metric:{key}")
        found.append(
            make_issue(
                group["position"],
                "warning",
                "non_finite_metric",
                summary,
                details,
                stage_ref or inp.run_id,
                link,
            )
        )
    return found


def duplicate_metric_step(inp: DiagnosisInput) -> list[Finding]:
    seen: dict[tuple[Any, ...], list[Any]] = {}
    for row in inp.bundle.rows:
        if row.record_type != "metric" or row.step is None:
            continue
        ident = (row.stage_ref, row.key, row.batch_ref, row.sample_ref, row.step)
        seen.setdefault(ident, []).append(row)
    per_metric: dict[tuple[str | None, str], dict[str, Any]] = {}
    for (stage_ref, key, _batch, _sample, step), rows in seen.items():
        if len(rows) < 2:
            continue
        entry = per_metric.get((stage_ref, key))
        if entry is None:
            entry = {"position": rows[1].sequence, "steps": [], "count": 0, "first": rows[0]}
            per_metric[(stage_ref, key)] = entry
        entry["position"] = min(entry["position"], rows[1].sequence)
        if step not in entry["steps"] and len(entry["steps"]) < _LIST_LIMIT:
            entry["steps"].append(step)
        entry["count"] += len(rows)
    found = []
    for (stage_ref, key), entry in per_metric.items():
        details = {
            "metric_key": key,
            "stage_id": stage_ref,
            "steps": tuple(entry["steps"]),
            "record_count": entry["count"],
        }
        shown = ", ".join(str(step) for step in entry["steps"][:5])
        summary = f"metric {key} was recorded more than once for step(s) {shown}"
        link = EvidenceLink("record", entry["first"].record_ref, f"metric:{key}")
        found.append(
            make_issue(
                entry["position"],
                "warning",
                "duplicate_metric_step",
                summary,
                details,
                stage_ref or inp.run_id,
                link,
            )
        )
    return found
