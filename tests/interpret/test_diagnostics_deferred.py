"""``QualityRules`` with profiles recorded without capture-time checks (real SQLite)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.interpret.diagnosis_input import DiagnosisInput
from contexta.interpret.diagnostics import DiagnosticsService
from contexta.interpret.history_rules import QualityRules
from contexta.interpret.snapshot import build_bundle


def _frame(rows: int, night: int) -> Any:
    import pandas as pd

    return pd.DataFrame({
        "id": list(range(rows)),
        "amount": [float((i * 7 + night) % 50 + 1) for i in range(rows)],
    })


def _nights(ctx: Any, *, checks: bool) -> list[str]:
    """Four nights of 200 rows, then one of 20: a row-count drop."""
    refs = []
    for night in range(5):
        with ctx.run("n", run_id=f"n{night}") as run, run.stage("load") as stage:
            stage.profile(_frame(20 if night == 4 else 200, night), name="orders", checks=checks)
            refs.append(str(run.ref))
    return refs


def _rules(ctx: Any, run_ref: str) -> QualityRules:
    service = DiagnosticsService(ctx.query_service)
    state = service.query_service.read_state()
    run = state.resolve_run(run_ref)
    inp = DiagnosisInput(state, build_bundle(state, run), service.settings,
                         service.anomaly_service, service._clock())
    return QualityRules(inp)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def test_row_count_drops_become_degraded_record_issues(tmp_path: Path) -> None:
    """Stored, a row-count drop is a ``degraded_record``; judged at read time it is offered
    to the service the same way (``deferred_degraded_records``)."""
    with Contexta(profile="test", workspace=tmp_path / "checked") as checked, \
            Contexta(profile="test", workspace=tmp_path / "deferred") as deferred:
        refs = _nights(checked, checks=True)
        assert _nights(deferred, checks=False) == refs
        (stored,) = [i for i in checked.diagnose_run(refs[-1]).issues
                     if i.code == "degraded_record"]
        rules = _rules(deferred, refs[-1])
        (computed,) = [f.issue for f in rules.deferred_degraded_records()]
        assert (computed.code, computed.severity, computed.summary) == (
            stored.code, stored.severity, stored.summary)
        assert "dq.row_count_drop" in computed.summary
        drop = {"source", "evidence"}
        assert {k: _plain(v) for k, v in computed.details.items() if k not in drop} == \
            {k: _plain(v) for k, v in stored.details.items() if k not in drop}
        assert computed.details["evidence"]["baseline_run_refs"] == tuple(reversed(refs[:4]))
        # nothing else is reported twice: the stored workspace's own rules stay empty
        assert _rules(checked, refs[-1]).deferred_degraded_records() == []


def test_deferred_findings_claim_their_subject(tmp_path: Path) -> None:
    """The computed schema rule does not judge a schema event the layer judged at read
    time, and findings point at the statistic they are about."""
    import pandas as pd

    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = []
        for night, columns in enumerate((["a", "b"], ["a", "b"], ["a", "c"], ["a", "b"])):
            frame = pd.DataFrame({name: [1.0, 2.0, 3.0] for name in columns})
            with ctx.run("n", run_id=f"n{night}") as run, run.stage("s") as stage:
                stage.profile(frame, name="t", checks=False)
                refs.append(str(run.ref))
        rules = _rules(ctx, refs[2])
        (issue,) = [f.issue for f in rules.schema_change()]
        assert issue.details["source"] == "deferred_check"
        assert issue.details["record_id"] == issue.subject_ref
        assert issue.evidence_links[0].label == "event:t.schema"
        # the night after the break is compared with the last healthy night: no issue
        assert _rules(ctx, refs[3]).schema_change() == []


@pytest.mark.parametrize("detect", [True, False])
def test_data_quality_switch_also_covers_read_time_checks(tmp_path: Path, detect: bool) -> None:
    from contexta.config.interpretation import DiagnosticsPolicy, InterpretationConfig

    with Contexta(profile="test", workspace=tmp_path / "ws") as ctx:
        refs = _nights(ctx, checks=False)
        config = InterpretationConfig(diagnostics=DiagnosticsPolicy(detect_data_quality=detect))
        service = DiagnosticsService(ctx.query_service, config=config)
        state = service.query_service.read_state()
        inp = DiagnosisInput(state, build_bundle(state, state.resolve_run(refs[-1])),
                             service.settings, service.anomaly_service, service._clock())
        assert bool(QualityRules(inp).deferred_degraded_records()) is detect
