"""Appends of freshly minted refs (capture's fast path) keep every store promise.

``append_minted``/``append_many_minted`` skip the per-call lookup of an earlier record
under the same ref. Identical repeats are still stored once, and a ref that collides
with a different stored record is kept aside as a ``record_ref_conflict`` anomaly
(reported by ``check_integrity``), never lost and never overwriting the first.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.store import helpers_durability as helpers

from contexta.contract import RecordEnvelope, to_json
from contexta.store.records.codec import record_from_json

RUN = "run:dur.minted"


def test_identical_minted_repeats_are_stored_once(tmp_path: Path) -> None:
    with helpers.open_ctx(tmp_path / ".contexta") as ctx:
        helpers.prepare_run(ctx, RUN)
        store = ctx.record_store
        first = helpers.metric(RUN, "a", 1.0)
        store.append_minted(first)
        store.append_minted(first)  # pending: same body
        store.flush()
        store.append_minted(first)  # indexed: same body
        pair = [helpers.metric(RUN, "b"), helpers.metric(RUN, "b")]
        assert store.append_many_minted(pair) == 1  # the repeat takes the general path
        assert store.append_many_minted([helpers.metric(RUN, "c")]) == 1
        store.flush()
        refs = [item.record_ref for item in store.scan()]
        assert sorted(refs) == [f"record:{RUN[4:]}.{i}" for i in "abc"]
        assert store.check_integrity().healthy


def test_a_colliding_minted_ref_is_kept_aside_not_lost(tmp_path: Path) -> None:
    with helpers.open_ctx(tmp_path / ".contexta") as ctx:
        helpers.prepare_run(ctx, RUN)
        store = ctx.record_store
        store.append(helpers.metric(RUN, "x", 1.0))
        store.flush()
        store.append_minted(helpers.metric(RUN, "x", 2.0))  # no lookup: accepted
        store.flush()
        values = [item.record.payload.value for item in store.scan()]
        assert values == [1.0]  # the first record keeps its ref
        report = store.check_integrity()
        assert not report.healthy
        assert "record_ref_conflict" in repr(report.issues)


refs_text = st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True)


@settings(max_examples=40, deadline=None)
@given(stage=refs_text, batch=refs_text, marker=st.sampled_from(["none", "partial_failure",
                                                                  "capture_gap"]))
def test_capture_envelopes_equal_fully_validated_ones(
        tmp_path_factory, stage: str, batch: str, marker: str) -> None:
    """The unchecked envelopes capture builds equal what the checked constructor makes."""
    from contexta import Contexta

    root = tmp_path_factory.mktemp("env")
    ctx = Contexta(workspace=str(root), config={
        "project_name": "envcheck",
        "capture": {"capture_installed_packages": False, "capture_code_revision": False,
                    "capture_environment_snapshot": False}})
    try:
        with ctx.run("r") as run, run.stage(stage) as st_scope, st_scope.batch(batch) as scope:
            factory = scope._factory
            for _ in range(3):  # the first is checked, the rest take the fast path
                envelope = factory.envelope("metric", "2026-01-02T03:04:05.123456Z",
                                            degradation_marker=marker)
                fields = {name: getattr(envelope, name) for name in envelope._field_names}
                checked = RecordEnvelope(**{k: (str(v) if hasattr(v, "_text") else v)
                                            for k, v in fields.items()})
                assert checked == envelope
                assert to_json(checked) == to_json(envelope)
            record = factory.metric("loss", 0.5, "float", step=1, unit=None,
                                    aggregation_scope="step", tags={"a": "b"},
                                    summary_basis="raw_observation")
            assert record_from_json(to_json(record)) == record
    finally:
        ctx.close()
