"""get_step_series rejects a metric key that no metric could have."""

from __future__ import annotations

from typing import Any

import pytest

from contexta.contract import Project, Run
from contexta.errors import ValidationError


def test_step_series_rejects_malformed_metric_key(ctx: Any) -> None:
    ms = ctx.metadata_store
    project = Project(project_ref="project:p", name="p", created_at="2025-01-01T00:00:00Z")
    ms.projects.put_project(project)
    ms.runs.put_run(Run(run_ref="run:p.r", project_ref="project:p", name="r", status="open",
                        started_at="2025-01-01T00:00:00Z"))
    with pytest.raises(ValidationError) as info:
        ctx.get_step_series("run:p.r", "bad key")
    assert "metric_key" in info.value.message
    assert ctx.get_step_series("run:p.r", "loss").points == ()
