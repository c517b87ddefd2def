"""Record bodies cut from pieces equal ``to_json`` exactly (they are what the store keeps)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from contexta import Contexta
from contexta.capture import _records as records_module
from contexta.capture._bodies import BodyTemplate
from contexta.contract import to_json

keys = st.from_regex(r"[a-z][a-z0-9_-]{0,12}(?:[./][a-z0-9_-]{1,8}){0,2}", fullmatch=True)
values = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf, 1e-310]),
)
texts = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1,
                max_size=20).filter(lambda t: t.strip())
units = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=64)
tags = st.none() | st.dictionaries(keys, texts, max_size=4)


def _open(root) -> Contexta:
    return Contexta(workspace=str(root), config={
        "project_name": "bodies",
        "capture": {"capture_installed_packages": False, "capture_code_revision": False,
                    "capture_environment_snapshot": False}})


def test_bodies_from_pieces_equal_to_json(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(records_module, "_BODIES_BEFORE_TEMPLATE", 0)  # pieces from the start
    ctx = _open(tmp_path / "bodies")
    try:
        _check_bodies(ctx)
    finally:
        ctx.close()


def _check_bodies(ctx: Contexta) -> None:
    @settings(max_examples=60, deadline=None)
    @given(items=st.lists(st.tuples(keys, values, st.none() | st.integers(0, 2**40),
                                    st.none() | units, tags), min_size=1, max_size=8),
           stage=texts, batch=st.none() | texts)
    def check(items, stage, batch) -> None:
        with ctx.run("r") as run, run.stage(stage) as stage_scope:
            scope = stage_scope.batch(batch) if batch is not None else stage_scope
            factory = scope._factory
            for key, value, step, unit, tag_map in items:
                kind = "int" if isinstance(value, int) else "float"
                record = factory.metric(key, value, kind, step=step, unit=unit,
                                        aggregation_scope="step", tags=tag_map,
                                        summary_basis="raw_observation")
                assert factory.metric_body(record) == to_json(record)
            emissions = [{"key": k, "value": v, "step": s, "unit": u, "tags": t}
                         for k, v, s, u, t in items]
            stored = scope.emit_metrics(emissions)
            assert stored.success_count == len(items)
            if batch is not None:
                scope.close()
        rows = {item.record_ref: item.record for item in ctx.record_store.scan()}
        for result in stored.results:
            payload = result.payload
            assert to_json(rows[str(payload.envelope.record_ref)]) == to_json(payload)

    check()


def test_a_scope_with_few_metrics_makes_no_pieces(ctx) -> None:
    with ctx.run("r") as run, run.stage("s") as stage:
        for step in range(3):
            stage.metric("loss", 0.5, step=step)
        assert stage._factory._bodies is None
        stage.emit_metrics([{"key": "loss", "value": 0.1, "step": s} for s in range(3, 20)])
        assert stage._factory._bodies is not None
    assert ctx.record_store.count_records(run.ref) == 20


def test_a_template_that_disagrees_with_to_json_is_switched_off(ctx) -> None:
    with ctx.run("r") as run, run.stage("s") as stage:
        factory = stage._factory
        record = factory.metric("m", 1.0, "float", step=None, unit=None,
                                aggregation_scope="step", tags=None,
                                summary_basis="raw_observation")
        template = BodyTemplate(record.envelope)
        template._record = (["{\"bogus\":", ",", "}"], [0, 1])  # a serializer change
        assert template.body(record) == to_json(record)  # checked, so corrected
        assert template._envelope is None
        assert template._record is None
        assert template.body(record) == to_json(record)  # and from to_json from then on
