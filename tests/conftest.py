"""Shared fixtures: a clean CONTEXTA_* environment and a workspace factory."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contexta import Contexta
from contexta.config import UnifiedConfig, WorkspaceConfig


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [f"sqlite {sqlite3.sqlite_version}"]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may depend on the developer's CONTEXTA_* variables."""
    for name in list(os.environ):
        if name.startswith("CONTEXTA_"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def _private_state_home(tmp_path_factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Fallback outboxes go under XDG_STATE_HOME: never into the developer's home."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture
def make_ctx(tmp_path: Path) -> Iterator[Callable[..., Contexta]]:
    """Build ``Contexta`` instances on workspaces under tmp_path; closes them after."""
    made: list[Contexta] = []

    def factory(name: str = "ws", project_name: str = "proj", **workspace: object) -> Contexta:
        root = tmp_path / name / ".contexta"
        ctx = Contexta(
            config=UnifiedConfig(
                project_name=project_name,
                workspace=WorkspaceConfig(root_path=root, **workspace),  # type: ignore[arg-type]
            )
        )
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        ctx.close()


@pytest.fixture
def ctx(make_ctx: Callable[..., Contexta]) -> Contexta:
    return make_ctx()
