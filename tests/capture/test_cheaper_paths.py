"""Cheaper capture paths keep their promises: artifact ingest (§8.4), names, projects.

The manifest a capture returns and stores carries the digest and size the artifact
store computed during its copy; when the store is unavailable the capture hashes the
file itself so the spooled manifest is complete. Also: repeated names keep getting
the smallest free suffix, however many repeats there are.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from contexta.contract import ArtifactManifest
from contexta.errors import ArtifactError

READ_ONLY_ARTIFACTS = {"artifacts": {"read_only": True}}


def _vault_tmp(ctx) -> list[str]:
    tmp = Path(ctx.artifact_store.root_path) / "tmp"
    return sorted(os.listdir(tmp)) if tmp.exists() else []


def test_manifest_carries_the_digest_the_store_computed(ctx, tmp_path: Path) -> None:
    body = os.urandom(50_000)
    source = tmp_path / "features-ewr.parquet"
    source.write_bytes(body)
    with ctx.run("ingest") as run, run.stage("write") as stage, stage.batch("EWR") as batch:
        result = batch.register_artifact("feature_set", source)
    digest = hashlib.sha256(body).hexdigest()
    manifest = result.payload
    assert (manifest.hash_value, manifest.size_bytes) == (digest, len(body))
    (stored,) = ctx.artifact_store.list_manifests(run.ref)
    assert stored == manifest
    handle = ctx.artifact_store.get_artifact(manifest.artifact_ref)
    assert handle.binding.hash_value == digest
    assert handle.path.name == digest
    assert ctx.artifact_store.verify_artifact(manifest.artifact_ref).verified
    assert source.read_bytes() == body  # copy mode leaves the source alone
    assert _vault_tmp(ctx) == []  # the staged copy was renamed into place


def test_store_unavailable_spools_a_manifest_with_its_hash(
        make_ctx, tmp_path: Path) -> None:
    writer = make_ctx("ingest-outbox")
    with writer.run("creates the workspace"):
        pass
    source = tmp_path / "report.txt"
    source.write_bytes(b"report body")
    frozen = make_ctx("ingest-outbox", **READ_ONLY_ARTIFACTS)
    with frozen.run("artifacts read-only") as run:
        result = run.register_artifact("report_bundle", source)
    assert result.recovered_to_outbox
    assert result.payload.hash_value == hashlib.sha256(b"report body").hexdigest()
    assert result.payload.size_bytes == len(b"report body")


def test_claims_that_do_not_match_the_body_are_refused_and_leave_nothing(
        ctx, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    with ctx.run("claims") as run:
        pass
    manifest = ArtifactManifest(
        artifact_ref=f"artifact:{run.ref[4:]}.model", artifact_kind="model",
        created_at="2026-01-01T00:00:00Z", producer_ref="contexta.capture", run_ref=run.ref,
        location_ref=str(source), hash_value="0" * 64, size_bytes=7)
    with pytest.raises(ArtifactError) as caught:
        ctx.artifact_store.put_artifact(manifest, source)
    assert caught.value.code == "artifact_claim_mismatch"
    assert not ctx.artifact_store.artifact_exists(manifest.artifact_ref)
    assert _vault_tmp(ctx) == []


def test_a_staged_body_can_be_bound_or_discarded(ctx, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"weights")
    with ctx.run("staging") as run:
        pass
    store = ctx.artifact_store
    dropped = store.stage_body(source)
    assert dropped.digest == hashlib.sha256(b"weights").hexdigest()
    store.discard_staged(dropped)
    assert _vault_tmp(ctx) == []
    staged = store.stage_body(source)
    manifest = ArtifactManifest(
        artifact_ref=f"artifact:{run.ref[4:]}.model", artifact_kind="model",
        created_at="2026-01-01T00:00:00Z", producer_ref="contexta.capture", run_ref=run.ref,
        location_ref=str(source), hash_value=staged.digest, size_bytes=staged.size)
    receipt = store.bind_staged(manifest, staged, source_name="model.bin")
    assert receipt.bytes_written == 7
    assert store.read_artifact_bytes(manifest.artifact_ref) == b"weights"
    missing = tmp_path / "gone.bin"
    with pytest.raises(ArtifactError) as caught:
        store.stage_body(missing)
    assert caught.value.code == "capture_artifact_missing"
    with pytest.raises(ArtifactError) as caught:
        store.stage_body(tmp_path)
    assert caught.value.code == "capture_artifact_not_a_file"


def test_repeated_names_take_the_smallest_free_suffix(ctx) -> None:
    with ctx.run("names") as run, run.stage("load") as stage:
        components = []
        for _ in range(3):
            with stage.batch("part") as batch:
                components.append(batch.ref.rsplit(".", 1)[1])
        with stage.batch("explicit", batch_ref=f"{stage.ref.replace('stage:', 'batch:')}.part-5"):
            pass
        for _ in range(3):
            with stage.batch("part") as batch:
                components.append(batch.ref.rsplit(".", 1)[1])
    assert components == ["part", "part-2", "part-3", "part-4", "part-6", "part-7"]


def test_a_project_lost_from_the_store_is_written_again(ctx) -> None:
    # Run starts skip the project lookup once the project is stored; if the store lost
    # it anyway, the run's parent check brings it back instead of failing the run.
    import sqlite3

    with ctx.run("first"):
        pass
    with sqlite3.connect(ctx.config.metadata.database_path) as conn:
        conn.execute("DELETE FROM projects")
    conn.close()
    with ctx.run("second") as run:
        pass
    assert run.status == "completed"
    project = ctx.metadata_store.projects.find_project("project:capture-tests")
    assert project is not None
    assert project.name == "capture-tests"
    assert ctx.metadata_store.runs.get_run(run.ref).status == "completed"


def test_redaction_verdicts_are_remembered_without_changing_them(ctx, records_of) -> None:
    attributes = {"host": "db", "password": "zz-pw", "rows": 3,
                  "nested": [{"api_token": "zz-tok", "region": "eu"}, ("x", {"Secret": 1})]}
    with ctx.run("redaction") as run:
        for _ in range(3):  # the second and third calls hit remembered verdicts
            run.event("connect", "connected", attributes=attributes)
            run.metric("rows", 1, tags={"dataset": "features", "db_password": "zz-dbpw"})
    events = records_of(ctx, run.ref, "event")
    metrics = records_of(ctx, run.ref, "metric")
    assert len(events) == len(metrics) == 3
    for event in events:
        stored = event.payload.attributes
        assert (stored["host"], stored["password"], stored["rows"]) == ("db", "[REDACTED]", 3)
        assert stored["nested"][0] == {"api_token": "[REDACTED]", "region": "eu"}
        assert stored["nested"][1][1] == {"Secret": "[REDACTED]"}
    for metric in metrics:
        assert dict(metric.payload.tags) == {"dataset": "features", "db_password": "[REDACTED]"}
