"""render_project_report on a real workspace: hostile names captured, then rendered safely."""

from __future__ import annotations

import html.parser
import re
from collections.abc import Callable

import pytest

from contexta import Contexta, ValidationError
from contexta.surfaces.html import render_project_report

SCRIPT = '<script>alert("run")</script>'
IMG = "<img src=x onerror=alert(1)>"
QUOTE = '"><svg onload=alert(2)>'


class _Tags(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.handlers += [name for name, _ in attrs if name.startswith("on")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _capture_hostile_week(ctx: Contexta) -> None:
    for night in range(1, 4):
        with ctx.run(f"{SCRIPT} night {night}", tags={"owner": QUOTE}) as run:
            with run.stage(IMG) as stage:
                stage.metric("rows", 100 + night)
                stage.event("vendor.note", message=f"feed said {SCRIPT}")
                if night == 3:
                    stage.degraded(
                        "etl.hostile",
                        "verification",
                        "error",
                        f"summary with {IMG}",
                        attributes={"column": QUOTE, "evidence": [SCRIPT]},
                    )


def test_hostile_names_render_as_text(make_ctx: Callable[..., Contexta]) -> None:
    project = f"{IMG} project"
    ctx = make_ctx(project_name=project)
    _capture_hostile_week(ctx)

    page = render_project_report(ctx, project, title=f"{SCRIPT} report")

    parsed = _Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags
    assert parsed.handlers == []
    assert SCRIPT not in page
    assert IMG not in page
    assert QUOTE not in page
    shown = "".join(parsed.text)
    assert f"{SCRIPT} night 3" in shown  # the name is visible exactly as written
    assert f"summary with {IMG}" in shown  # the degraded record's evidence is shown
    assert "degraded_record" in shown
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)


def test_report_reads_a_workspace_from_a_fresh_instance(
    make_ctx: Callable[..., Contexta],
) -> None:
    writer = make_ctx(project_name="nightly")
    _capture_hostile_week(writer)
    writer.close()

    reader = make_ctx(project_name="nightly")  # same workspace, new instance
    page = render_project_report(reader, "nightly")

    assert page.count('<tr class="sev-error">') == 1  # only night 3 is flagged
    assert 'id="run-3"' in page
    assert 'id="run-1"' not in page


def test_unknown_project_gives_an_empty_report(ctx: Contexta) -> None:
    page = render_project_report(ctx, "no-such-project")

    assert "no runs" in page


@pytest.mark.parametrize(
    ("project", "title", "field"),
    [
        ("", None, "project_name"),
        (None, None, "project_name"),
        ("p", "  ", "title"),
        ("p", 3, "title"),
    ],
)
def test_bad_arguments_raise_validation_error(
    ctx: Contexta, project: object, title: object, field: str
) -> None:
    with pytest.raises(ValidationError, match=field) as caught:
        render_project_report(ctx, project, title=title)  # type: ignore[arg-type]
    assert caught.value.details is not None
    assert caught.value.details["field"] == field
