"""Refs and names produced by capture (contract §8.2)."""

from __future__ import annotations

import re

import pytest

from contexta.errors import ConflictError, ValidationError


def test_two_runs_with_the_same_name_never_merge(ctx, records_of) -> None:
    refs = []
    for value in (1, 2):
        with ctx.run("Nightly Run") as run:
            run.metric("value", value)
        refs.append(run.ref)
    assert refs[0] != refs[1]
    for ref in refs:
        assert re.fullmatch(r"run:capture-tests\.nightly-run-[0-9a-f]{8}", ref)
    runs = ctx.list_runs("capture-tests")
    assert sorted(r.run_id for r in runs) == sorted(refs)
    assert {r.name for r in runs} == {"Nightly Run"}
    assert [records_of(ctx, ref)[0].payload.value for ref in refs] == [1, 2]


def test_unicode_names_are_kept_as_display_names(ctx) -> None:
    with ctx.run("Données Clients 学习") as run, run.stage("학습") as stage:
        pass
    assert run.ref.startswith("run:capture-tests.donnees-clients-")
    assert ctx.metadata_store.runs.get_run(run.ref).name == "Données Clients 学习"
    assert re.fullmatch(r"h-[0-9a-f]{8}", stage.name)
    stored = ctx.metadata_store.stages.get_stage_execution(stage.ref)
    assert stored.metadata["display_name"] == "학습"


def test_explicit_run_id_is_used_once(ctx) -> None:
    with ctx.run("named", run_id="Fixed ID") as run:
        pass
    assert run.ref == "run:capture-tests.fixed-id"
    assert run.run_id == "fixed-id"
    with pytest.raises(ConflictError) as again:
        ctx.run("named", run_id="fixed-id")
    assert again.value.code == "capture_run_exists"
    with pytest.raises(ValidationError):
        ctx.run("other", run_id="run:another-project.x")


def test_project_ref_clash_with_a_different_name_is_refused(make_ctx) -> None:
    first = make_ctx("Team A")
    with first.run("r"):
        pass
    clash = make_ctx("team a")  # same slug, different display name
    with pytest.raises(ConflictError) as err:
        clash.run("r")
    assert err.value.code == "capture_project_name_conflict"


def test_explicit_stage_ref_must_belong_to_the_run(ctx) -> None:
    with ctx.run("explicit") as run:
        with run.stage("a", stage_ref=f"stage:{run.ref[4:]}.custom") as stage:
            pass
        assert stage.ref.endswith(".custom")
        with pytest.raises(ValidationError):
            run.stage("b", stage_ref="stage:capture-tests.other-run.b")
        with pytest.raises(ConflictError):
            run.stage("c", stage_ref=stage.ref)


def test_run_records_owner_and_provenance_metadata(make_ctx) -> None:
    import os
    import socket

    ctx = make_ctx(capture={"capture_code_revision": False})
    with ctx.run("owned", code_revision="abc1234", dataset_ref="dataset:flights",
                 config_snapshot={"lr": 0.1, "db_password": "hunter2"}) as run:
        pass
    stored = ctx.metadata_store.runs.get_run(run.ref)
    assert stored.metadata["contexta.owner_pid"] == os.getpid()
    assert stored.metadata["contexta.owner_host"] == socket.gethostname()
    assert "contexta.command_line" in stored.metadata
    assert stored.metadata["code_revision"] == "abc1234"
    assert stored.metadata["dataset_ref"] == "dataset:flights"
    assert len(stored.metadata["config_hash"]) == 64
    assert run.config_snapshot_ref == f"artifact:{run.ref[4:]}.config-snapshot"
    body = ctx.artifact_store.read_artifact_bytes(run.config_snapshot_ref)
    assert b"hunter2" not in body
    assert b'"db_password":"[REDACTED]"' in body


def test_record_ids_stay_unique_across_prefix_epochs_and_forks(monkeypatch) -> None:
    import itertools

    from contexta.capture import _clock

    ids = _clock.RecordIds()
    monkeypatch.setattr(ids, "_counter", itertools.count(0xFFFFFE))
    batch = [ids.next() for _ in range(4)]
    assert len(set(batch)) == 4
    assert all(re.fullmatch(r"[0-9a-f]{12}", value) for value in batch)
    assert batch[1][:6] != batch[2][:6]  # a fresh prefix after 16.7 million ids
    monkeypatch.setattr(_clock, "_fork_generation", _clock._fork_generation + 1)
    assert ids.next().endswith("000000")  # the child drew a new prefix and restarted
