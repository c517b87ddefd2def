"""Fixtures for capture tests: a real workspace per test, closed afterwards.

``make_ctx`` here takes a config patch (the root one takes workspace options);
the root conftest already clears ``CONTEXTA_*`` variables.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from contexta import Contexta
from contexta.config import merge_config_patch


def _quiet_capture() -> dict[str, Any]:
    # Package listing and git are exercised in test_environment; elsewhere they only cost time.
    return {"capture": {"capture_installed_packages": False, "capture_code_revision": False}}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def make_ctx(workspace: Path) -> Iterator[Callable[..., Contexta]]:
    """Build ``Contexta`` instances on the test workspace; all are closed at teardown."""
    made: list[Contexta] = []

    def build(project_name: str = "capture-tests", *, sinks: Any = None,
              **patch: Any) -> Contexta:
        config = merge_config_patch(_quiet_capture(), {"project_name": project_name, **patch})
        ctx = Contexta(workspace=str(workspace), config=config, sinks=sinks)
        made.append(ctx)
        return ctx

    yield build
    for ctx in made:
        ctx.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., Contexta]) -> Contexta:
    return make_ctx()


@pytest.fixture
def records_of() -> Callable[..., list[Any]]:
    """``records_of(ctx, run_ref, record_type=None)``: stored records in append order."""
    from contexta.store.records import ScanFilter

    def read(ctx: Contexta, run_ref: str, record_type: str | None = None) -> list[Any]:
        scan = ScanFilter(run_ref=run_ref, record_type=record_type)
        return [stored.record for stored in ctx.record_store.scan(scan)]

    return read


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the temp-dir fallback outbox goes: a private dir per test, not the real /tmp."""
    path = tmp_path / "tmp"
    path.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(path))
    return path
