"""``contexta.interpretation`` exports only contract §2.8 names, all of them importable."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

import contexta.interpretation as interpretation

_CONTRACT = Path(__file__).resolve().parents[3] / "shared" / "docs" / "contract.md"


def _section_2_8_names() -> set[str]:
    text = _CONTRACT.read_text(encoding="utf-8")
    section = text[text.index("### 2.8") : text.index("### 2.9")]
    table = section[: section.index("The interpretation policy classes")]
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", table))


@pytest.mark.skipif(not _CONTRACT.exists(), reason="contract.md not available")
def test_all_is_a_subset_of_section_2_8():
    assert set(interpretation.__all__) <= _section_2_8_names()


def test_every_exported_name_resolves_and_reports_the_public_module():
    for name in interpretation.__all__:
        obj = getattr(interpretation, name)
        if isinstance(obj, type) and obj.__module__.startswith("contexta.interpret"):
            assert obj.__module__ == "contexta.interpretation", name


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (
            interpretation.RunRecord,
            "run_id project_name name status started_at ended_at tags metadata",
        ),
        (
            interpretation.ObservationRecord,
            "record_id run_id stage_id record_type key observed_at value message "
            "completeness_marker degradation_marker payload tags schema_version producer_ref "
            "correlation_id unit batch_id sample_id operation_id step recorded_at",
        ),
        (
            interpretation.RunSnapshot,
            "run deployments stages batches samples artifacts "
            "relations records evidence_links completeness_notes "
            "provenance",
        ),
        (
            interpretation.DiagnosticsIssue,
            "severity code summary details subject_ref evidence_links",
        ),
        (
            interpretation.AnomalyResult,
            "metric_key run_id actual_value expected_range z_score "
            "severity evidence_links completeness_notes stage_name",
        ),
        (
            interpretation.ReproducibilityAudit,
            "run_id provenance environment_ref python_version platform package_count "
            "environment_variable_count reproducibility_status completeness_notes evidence_links "
            "code_revision git_dirty hostname",
        ),
    ],
)
def test_field_order_matches_section_6(cls, fields):
    assert [f.name for f in dataclasses.fields(cls)] == fields.split()
