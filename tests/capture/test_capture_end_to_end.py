"""A captured 3-stage run is readable by every read API in a new process (issue 4)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

from contexta.capture import CaptureResult

READER = textwrap.dedent(
    """
    import json, math, sys
    from contexta import Contexta

    workspace, run_ref, artifact_ref = sys.argv[1:4]
    ctx = Contexta(workspace=workspace, config={"project_name": "E2E Capture"})
    runs = ctx.list_runs("E2E Capture")
    snapshot = ctx.get_run_snapshot(run_ref)
    diagnosis = ctx.diagnose_run(run_ref)
    series = ctx.get_step_series(run_ref, "loss", stage_name="train")
    handle = ctx.artifact_store.get_artifact(artifact_ref)
    body = ctx.artifact_store.read_artifact_bytes(artifact_ref)

    def num(value):
        return repr(value) if isinstance(value, float) and not math.isfinite(value) else value

    print(json.dumps({
        "runs": [[r.run_id, r.name, r.status] for r in runs],
        "stages": [[s.name, s.status, s.order] for s in snapshot.stages],
        "batches": [[b.name, b.status, b.stage_id] for b in snapshot.batches],
        "records": [[r.record_type, r.key, num(r.value), r.step, r.stage_id, r.batch_id]
                    for r in snapshot.records],
        "artifacts": [[a.artifact_ref, a.kind, a.hash_value, a.size_bytes]
                      for a in snapshot.artifacts],
        "issues": sorted(i.code for i in diagnosis.issues),
        "series": [[p.step, num(p.value)] for p in series.points],
        "body": body.decode(),
        "stored_hash": handle.binding.hash_value,
    }))
    ctx.close()
    """
)


def test_three_stage_run_is_read_back_in_a_new_process(make_ctx, tmp_path: Path) -> None:
    ctx = make_ctx("E2E Capture")
    model_file = tmp_path / "model.bin"
    model_file.write_bytes(b"weights-v1")
    with ctx.run("Nightly ETL #7", tags={"team": "data"}) as run:
        with run.stage("extract") as stage:
            for day in ("2024-01-05", "2024-01-06"):
                with stage.batch(day) as batch:
                    batch.metric("rows", 1000, step=0, unit="rows")
                    batch.event("batch.done", "extracted", level="info")
        with run.stage("train") as stage:
            for step, loss in enumerate([0.9, 0.5, float("nan"), 0.2]):
                result = stage.metric("loss", loss, step=step)
                assert isinstance(result, CaptureResult)
                assert result.succeeded
            stage.span("fit", started_at="2024-01-05T00:00:00Z", ended_at="2024-01-05T00:00:02Z")
            with stage.timed("evaluate"):
                pass
            artifact = stage.register_artifact("checkpoint", model_file)
        with run.stage("publish") as stage:
            stage.degraded("publish.partial", "capture", "error", "one target was down",
                           attributes={"target": "s3"})
            stage.metric("published", 1)
    artifact_ref = str(artifact.payload.artifact_ref)

    completed = subprocess.run(
        [sys.executable, "-c", READER, str(ctx.workspace), run.ref, artifact_ref],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    seen = json.loads(completed.stdout)

    assert seen["runs"] == [[run.ref, "Nightly ETL #7", "completed"]]
    assert seen["stages"] == [["extract", "completed", 0], ["train", "completed", 1],
                              ["publish", "completed", 2]]
    assert [b[:2] for b in seen["batches"]] == [["2024-01-05", "completed"],
                                                ["2024-01-06", "completed"]]
    types = [record[0] for record in seen["records"]]
    assert types.count("metric") == 7
    assert types.count("event") == 2
    assert types.count("span") == 2
    assert types.count("degraded") == 1
    batch_rows = [r for r in seen["records"] if r[1] == "rows"]
    assert {r[5] for r in batch_rows} == {f"batch:{run.ref[4:]}.extract.2024-01-05",
                                          f"batch:{run.ref[4:]}.extract.2024-01-06"}
    assert seen["series"] == [[0, 0.9], [1, 0.5], [2, "nan"], [3, 0.2]]
    assert "non_finite_metric" in seen["issues"]
    assert "degraded_record" in seen["issues"]
    assert seen["body"] == "weights-v1"
    assert seen["artifacts"][0][1] == "checkpoint"
    assert seen["artifacts"][0][3] == len(b"weights-v1")
    assert seen["stored_hash"].removeprefix("sha256:") == artifact.payload.hash_value


def test_artifact_gets_produced_by_lineage_from_its_stage(ctx, tmp_path: Path) -> None:
    body = tmp_path / "features.parquet"
    body.write_bytes(b"x" * 10)
    with ctx.run("lineage") as run, run.stage("featurize") as stage:
        result = stage.register_artifact("feature_set", body)
    manifest = result.payload
    edges = ctx.metadata_store.relations.list_relations_for_target(manifest.artifact_ref)
    assert [(e.relation_type, str(e.source_ref)) for e in edges] == [("produced_by", stage.ref)]
    assert manifest.stage_execution_ref == stage.ref
    assert math.isclose(manifest.size_bytes, 10)
