"""Disk full (issue 3): a clear StoreAccessError, nothing acknowledged lost, recovery once freed.

Preferred: a real 4 MiB tmpfs (needs root and ``mount``), filled up with a
ballast file. Always: ENOSPC injected at the true edge, the spool's
``os.write``, after part of the bytes went out (what a full disk does).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.store import helpers_durability as helpers

from contexta.contract import Run
from contexta.errors import StoreAccessError
from contexta.store.records import spool as spool_module

RUN = "run:dur.full"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("a size-limited tmpfs needs root and mount")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace')}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path, leave: int) -> Path:
    """Fill the file system with a ballast file, leaving about ``leave`` bytes free."""
    ballast = directory / "ballast.bin"
    free = shutil.disk_usage(directory).free
    with ballast.open("wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return ballast


def test_a_full_disk_raises_clearly_and_loses_nothing(small_disk: Path) -> None:
    root = small_disk / ".contexta"
    ctx = helpers.open_ctx(root)
    helpers.prepare_run(ctx, RUN)
    store = ctx.record_store
    acked = [store.append(helpers.metric(RUN, "first")).accepted[0].record_ref]
    ballast = _fill(small_disk, leave=48 * 1024)

    with pytest.raises(StoreAccessError) as caught:
        for i in range(100_000):
            record = helpers.metric(RUN, f"r{i}", float(i))
            store.append(record)
            acked.append(str(record.envelope.record_ref))
    assert caught.value.code == "store_disk_full"
    assert caught.value.retryable
    assert caught.value.details["errno"] == errno.ENOSPC
    assert len(acked) > 10
    # Everything acknowledged stays readable, even while it cannot be indexed.
    assert [item.record_ref for item in store.scan()] == acked
    # Metadata writes fail the same way and write nothing.
    big = Run(
        run_ref="run:dur.big",
        project_ref=helpers.PROJECT,
        name="big",
        status="open",
        started_at=helpers.TS,
        description="x" * 100_000,
    )
    with pytest.raises(StoreAccessError) as caught:
        ctx.metadata_store.runs.put_run(big)
    assert caught.value.code == "store_disk_full"
    assert ctx.metadata_store.runs.find_run("run:dur.big") is None

    ballast.unlink()
    store.append(helpers.metric(RUN, "after-free"))
    ctx.close()
    with helpers.open_ctx(root) as fresh:
        refs = [item.record_ref for item in fresh.record_store.scan()]
        assert refs == [*acked, "record:dur.full.after-free"]
        fresh.record_store.append(helpers.metric(RUN, "reopened"))
        assert fresh.record_store.count_records() == len(acked) + 2
        assert fresh.record_store.check_integrity().healthy
        assert fresh.metadata_store.check_integrity().ok


class _FullDisk:
    """``os`` for the spool module: writes to the spool get ``budget`` bytes, then ENOSPC."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.real = os

    def write(self, fd: int, data: bytes) -> int:
        if self.budget <= 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        allowed = min(len(data), self.budget)
        self.budget -= allowed
        return os.write(fd, bytes(data[:allowed]))

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)


def test_injected_enospc_mid_write_cuts_the_partial_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / ".contexta"
    ctx = helpers.open_ctx(root)
    helpers.prepare_run(ctx, RUN)
    store = ctx.record_store
    acked = [f"a{i}" for i in range(5)]
    store.append_many([helpers.metric(RUN, ident) for ident in acked])
    (spool,) = (root / "records" / "spool").glob("*.spool")
    size = spool.stat().st_size

    disk = _FullDisk(budget=300)  # part of the next entry goes out, then the disk is full
    monkeypatch.setattr(spool_module, "os", disk)
    with pytest.raises(StoreAccessError) as caught:
        store.append_many([helpers.metric(RUN, f"b{i}") for i in range(20)])
    assert caught.value.code == "store_disk_full"
    assert spool.stat().st_size == size, "the partial entry was not cut"
    with pytest.raises(StoreAccessError) as caught:
        store.append(helpers.metric(RUN, "c0"))
    assert caught.value.code == "store_disk_full"
    assert [item.record_ref.rsplit(".", 1)[1] for item in store.scan()] == acked

    monkeypatch.setattr(spool_module, "os", os)  # space freed
    store.append(helpers.metric(RUN, "d0"))
    ctx.close()
    assert not list(spool.parent.glob("*.spool")), "close left records unindexed"
    with helpers.open_ctx(root) as fresh:
        refs = [item.record_ref.rsplit(".", 1)[1] for item in fresh.record_store.scan()]
        assert refs == [*acked, "d0"]
        assert fresh.record_store.check_integrity().healthy
