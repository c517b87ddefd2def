"""``RecordStore``'s public surface after the split into one module per job, and bad inputs.

The split (appends, pipeline, reads, snapshot reads, lifecycle) must not change what callers
see: the same public names with the same signatures, and the contract's errors (§4.4, §12).
"""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from tests.store import helpers_durability as helpers

from contexta import Contexta
from contexta.config import RecordStoreConfig
from contexta.errors import ContextaError, StoreAccessError, ValidationError
from contexta.store.records import RecordStore
from contexta.store.records.spool import SequenceCounter, SpoolWriter, iter_orphan_spools

RUN = "run:dur.api"

#: The public API of ``RecordStore`` before the split (plus the snapshot reads added with it).
PUBLIC_API = {
    "__init__": "(self, config: 'RecordStoreConfig | None' = None, *, metadata_store: "
    "'MetadataStore | None' = None) -> 'None'",
    "__enter__": "(self) -> 'Self'",
    "__exit__": "(self, exc_type: 'type[BaseException] | None', exc: 'BaseException | None', "
    "tb: 'TracebackType | None') -> 'None'",
    "append": "(self, record: 'Any') -> 'AppendResult'",
    "append_many": "(self, records: 'Iterable[Any]') -> 'AppendResult'",
    "append_minted": "(self, record: 'Any', body: 'str | None' = None) -> 'AppendResult'",
    "append_many_minted": "(self, records: 'Sequence[Any]', bodies: 'Sequence[str] | None' = "
    "None) -> 'int'",
    "check_integrity": "(self) -> 'IntegrityReport'",
    "close": "(self) -> 'None'",
    "count_records": "(self, run_ref: 'object' = None) -> 'int'",
    "data_version": "(self) -> 'int'",
    "export_jsonl": "(self, destination: 'str | Path', scan_filter: 'ScanFilter | None' = None, "
    "*, mode: 'ReplayMode | str | None' = None) -> 'ReplayResult'",
    "flush": "(self) -> 'None'",
    "iter_replay": "(self, scan_filter: 'ScanFilter | None' = None, *, mode: "
    "'ReplayMode | str | None' = None) -> 'Iterator[StoredRecord]'",
    "iter_rows": "(self, *, run_refs: 'Sequence[str] | None' = None, record_type: "
    "'str | None' = None, metric_key: 'str | None' = None, stage_ref: 'str | None' = None) "
    "-> 'Iterator[RecordRow]'",
    "latest_metric_values": "(self, run_refs: 'Sequence[str]') -> 'list[MetricValueRow]'",
    "read_only": "property",
    "rebuild_indexes": "(self) -> 'RepairReport'",
    "repair": "(self) -> 'RepairReport'",
    "repair_truncated_tails": "(self) -> 'RepairReport'",
    "replay": "(self, scan_filter: 'ScanFilter | None' = None, *, mode: "
    "'ReplayMode | str | None' = None) -> 'ReplayResult'",
    "root_path": "property",
    "scan": "(self, scan_filter: 'ScanFilter | None' = None) -> 'Iterator[StoredRecord]'",
    "snapshot_rows": "(self, run_refs: 'Iterable[str]') -> 'dict[str, list[tuple[Any, ...]]]'",
    "record_details": "(self, run_refs: 'Sequence[str]', first_seq: 'int', last_seq: 'int', *, "
    "with_body: 'bool') -> 'dict[str, tuple[Any, ...]]'",
    "record_details_by_ref": "(self, record_refs: 'Sequence[str]', *, with_body: 'bool') -> "
    "'dict[str, tuple[Any, ...]]'",
}


def _public_api() -> dict[str, str]:
    found = {}
    for name in dir(RecordStore):
        if name.startswith("_") and name not in ("__init__", "__enter__", "__exit__"):
            continue
        value = getattr(RecordStore, name)
        found[name] = str(inspect.signature(value)) if callable(value) else type(value).__name__
    return found


def test_the_public_api_is_unchanged_by_the_split():
    assert _public_api() == PUBLIC_API


def test_every_store_module_stays_within_the_size_limit():
    package = Path(inspect.getfile(RecordStore)).parent
    sizes = {path.name: len(path.read_text().splitlines()) for path in package.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


@pytest.mark.parametrize("records", [5, None, 2.5, object()])
def test_append_many_of_a_non_iterable_is_a_validation_error(ctx, records):
    helpers.prepare_run(ctx, RUN)
    store = ctx.record_store
    with pytest.raises(ValidationError) as caught:
        store.append_many(records)
    assert caught.value.code == "record_append_invalid"
    assert caught.value.details["field"] == "records"
    assert "iterable" in str(caught.value)
    assert isinstance(caught.value.__cause__, TypeError)
    assert store.count_records() == 0


def test_append_many_of_one_record_instead_of_a_list_is_rejected(ctx):
    helpers.prepare_run(ctx, RUN)
    with pytest.raises(ValidationError) as caught:
        ctx.record_store.append_many(helpers.metric(RUN, "one"))
    assert caught.value.code == "record_append_invalid"
    assert ctx.record_store.count_records() == 0


def test_append_many_still_takes_any_iterable(ctx):
    helpers.prepare_run(ctx, RUN)
    result = ctx.record_store.append_many(helpers.metric(RUN, f"g{n}") for n in range(3))
    assert [r.sequence for r in result.accepted] == [1, 2, 3]


def test_spools_under_a_file_raise_store_access_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a workspace")
    with pytest.raises(StoreAccessError) as caught:
        list(iter_orphan_spools(afile / "records" / "spool", None))
    assert caught.value.code == "store_io_error"
    assert isinstance(caught.value.__cause__, NotADirectoryError)


def test_a_workspace_root_that_is_a_file_never_leaks_os_errors(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("afile").write_text("not a workspace")
    ctx = Contexta(workspace="afile")
    try:
        try:
            runs = ctx.list_runs()
        except ContextaError:
            pass  # a clear error is as good as an empty list
        else:
            assert runs == ()
        with pytest.raises(ContextaError):
            ctx.record_store.append(helpers.metric(RUN, "x"))
    finally:
        ctx.close()


def test_appending_under_a_file_root_raises_store_access_error(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a workspace")
    store = RecordStore(RecordStoreConfig(root_path=afile / "records"))
    try:
        with pytest.raises(StoreAccessError) as caught:
            store.append(helpers.metric(RUN, "x"))
        assert isinstance(caught.value.__cause__, NotADirectoryError)
    finally:
        store.close()


def test_spool_pieces_still_importable_from_their_module():
    assert SequenceCounter.__module__ == SpoolWriter.__module__ == "contexta.store.records.spool"
