"""The project report page, rendered from a hand-built view: escaping and self-containment."""

from __future__ import annotations

import html.parser
import math
import re

import pytest

from contexta.interpret.read_models import RunRecord
from contexta.interpret.results import DiagnosticsIssue
from contexta.surfaces.html._markup import element, format_number, text
from contexta.surfaces.html._project_view import ProjectView, RunView, WatchedMetric
from contexta.surfaces.html.project_report import render_project_view

HOSTILE = '<script>alert("x")</script>'
HOSTILE_ATTR = '" onmouseover="alert(1)" x="'
HOSTILE_IMG = "<img src=x onerror=alert(1)>"


class _Collector(html.parser.HTMLParser):
    """Collects tags, attributes and text, as a browser would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    collector.close()
    return collector


def _run(index: int, name: str, issues: tuple[DiagnosticsIssue, ...] = ()) -> RunView:
    record = RunRecord(
        run_id=f"run:p.r{index}",
        project_name="p",
        name=name,
        status="completed",
        started_at=f"2013-01-0{index}T01:00:00Z",
        ended_at=f"2013-01-0{index}T01:00:02.500000Z",
        tags={"night": HOSTILE_ATTR},
    )
    return RunView(
        run=record,
        duration_seconds=2.5,
        row_counts={HOSTILE: 900 + index, "features": 800},
        stage_seconds={"extract": 0.5, HOSTILE_IMG: 1.25},
        metric_values={(None, "rows"): 900 + index},
        dq_values={("joined", "wind_speed", "null_rate"): 1.0 if issues else 0.0},
        issues=issues,
        record_count=10,
        artifact_count=0,
    )


def _view(project: str = "p") -> ProjectView:
    issue = DiagnosticsIssue(
        severity="error",
        code="null_rate_spike",
        summary=f"null rate of {HOSTILE} jumped",
        details={
            "metric_key": "joined.wind_speed.null_rate",
            "dataset": HOSTILE,
            "column": HOSTILE_IMG,
            "value": 1.0,
            "baseline": {"runs": [HOSTILE_ATTR], "max": float("nan")},
        },
        subject_ref="stage:p.r2.join",
    )
    warning = DiagnosticsIssue(
        severity="warning", code="schema_change", summary=HOSTILE_IMG, details={}
    )
    return ProjectView(
        project_name=project,
        title=f"Report {HOSTILE}",
        runs=(_run(1, HOSTILE), _run(2, HOSTILE_ATTR, (issue, warning)), _run(3, "plain")),
        datasets=(HOSTILE, "features"),
        stages=("extract", HOSTILE_IMG),
        watched=(
            WatchedMetric(
                None, "join", f"{HOSTILE} null rate", ("joined", "wind_speed", "null_rate")
            ),
            WatchedMetric("rows", None, "rows"),
        ),
        generated_at="2013-01-08T00:00:00Z",
    )


def test_hostile_strings_are_text_not_markup() -> None:
    page = render_project_view(_view(project=HOSTILE))
    parsed = _parse(page)

    assert "script" not in parsed.tags
    assert "img" not in parsed.tags
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    assert HOSTILE not in page
    assert HOSTILE_IMG not in page
    shown = "".join(parsed.text)
    assert HOSTILE in shown  # the user sees the name as written
    assert HOSTILE_IMG in shown
    assert HOSTILE_ATTR in shown


def test_page_is_self_contained() -> None:
    page = render_project_view(_view())

    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert "@import" not in page
    assert "default-src 'none'" in page
    assert page.count("<svg") >= 4  # strip, metrics, rows, durations
    # internal anchors only: every href points inside the page
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs
    assert all(h.startswith("#") for h in hrefs)


def test_flagged_run_has_evidence_and_row_class() -> None:
    page = render_project_view(_view())
    parsed = _parse(page)

    assert 'id="run-2"' in page
    assert 'class="sev-error"' in page
    assert "null_rate_spike" in "".join(parsed.text)
    assert "NaN" in "".join(parsed.text)  # non-finite evidence spelled out, page still renders


def test_empty_project_renders_a_page() -> None:
    view = ProjectView("empty", "Empty", (), (), (), (), "2013-01-01T00:00:00Z")
    page = render_project_view(view)

    assert "no runs" in page
    assert "<table" not in page


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "—"),
        (1234567, "1,234,567"),
        (0.25, "0.25"),
        (float("nan"), "NaN"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (3.0, "3"),
    ],
)
def test_numbers_are_spelled_out(value: float | None, shown: str) -> None:
    assert format_number(value) == shown


def test_element_escapes_attribute_values() -> None:
    made = element("td", "x", class_=HOSTILE_ATTR)

    assert made == '<td class="&quot; onmouseover=&quot;alert(1)&quot; x=&quot;">x</td>'
    assert text(HOSTILE) == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
