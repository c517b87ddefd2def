"""``ReadState``: everything derived from one data version of the workspace.

The store's ``data_version()`` changes whenever any process writes. Services fetch the current
state once per public call; while nothing is written, the projects, run lists, run records,
snapshots and per-run facts computed for earlier calls are reused, so a loop that analyses N
runs costs O(N) queries and work instead of O(N²). Any write gives a fresh, empty state, so
read-your-writes always holds.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from contexta.interpret.projection import run_record
from contexta.interpret.resolve import (
    raise_ambiguous,
    raise_not_found,
    ref_text,
    run_lookup_forms,
)

if TYPE_CHECKING:
    from contexta.interpret.read_models import RunRecord
    from contexta.interpret.repository import CompositeRepository

__all__ = ["ReadState", "StateHolder"]

_SNAPSHOT_CACHE_SIZE = 64


class ReadState:
    """Lazily filled caches for one data version (safe to share between threads)."""

    def __init__(self, repository: CompositeRepository, version: int) -> None:
        self.repository = repository
        self.version = version
        self._projects: tuple[Any, ...] | None = None
        self._project_names: dict[str, str] = {}
        self._all_runs: tuple[Any, ...] | None = None
        self._runs_by_project: dict[str, tuple[Any, ...]] = {}
        self._runs_by_ref: dict[str, Any] = {}
        self._missing_refs: set[str] = set()
        self._run_records: dict[str, RunRecord] = {}
        self._component_index: dict[str, list[str]] | None = None
        self._name_index: dict[str, list[str]] | None = None
        self.snapshots: OrderedDict[str, Any] = OrderedDict()
        self.facts: dict[tuple[str, str], Any] = {}
        self.extras: dict[Any, Any] = {}
        self._lock = threading.Lock()

    # -- projects ---------------------------------------------------------------------------

    def projects(self) -> tuple[Any, ...]:
        if self._projects is None:
            projects = tuple(self.repository.list_projects())
            self._project_names = {str(p.project_ref): p.name for p in projects}
            self._projects = projects
        return self._projects

    def project_name(self, project_ref: str) -> str:
        self.projects()
        name = self._project_names.get(project_ref)
        return name if name is not None else project_ref.partition(":")[2]

    def project_ref_for(self, project_name: object) -> str | None:
        """Project ref for a name, ref value or ``project:`` ref; ``None`` if unknown."""
        text = ref_text(project_name, field="project_name")
        projects = self.projects()
        for project in projects:
            if project.name == text:
                return str(project.project_ref)
        candidate = text if text.startswith("project:") else "project:" + text
        if candidate in self._project_names:
            return candidate
        return None

    # -- runs -------------------------------------------------------------------------------

    def runs(self, project_ref: str | None = None) -> tuple[Any, ...]:
        """Runs ordered by project, ``started_at`` instant, ref (one query per version)."""
        if project_ref is None:
            if self._all_runs is None:
                self._all_runs = tuple(self.repository.list_runs(None))
                self._remember(self._all_runs)
            return self._all_runs
        runs = self._runs_by_project.get(project_ref)
        if runs is None:
            if self._all_runs is not None:
                runs = tuple(r for r in self._all_runs if str(r.project_ref) == project_ref)
            else:
                runs = tuple(self.repository.list_runs(project_ref))
                self._remember(runs)
            self._runs_by_project[project_ref] = runs
        return runs

    def _remember(self, runs: Sequence[Any]) -> None:
        for run in runs:
            self._runs_by_ref[str(run.run_ref)] = run

    def find_run(self, run_ref: str) -> Any | None:
        run = self._runs_by_ref.get(run_ref)
        if run is None and run_ref not in self._missing_refs:
            run = self.repository.find_run(run_ref)
            if run is None:
                self._missing_refs.add(run_ref)
            else:
                self._runs_by_ref[run_ref] = run
        return run

    def run_record(self, run: Any) -> RunRecord:
        ref = str(run.run_ref)
        record = self._run_records.get(ref)
        if record is None:
            record = run_record(run, self.project_name(str(run.project_ref)))
            self._run_records[ref] = record
        return record

    def resolve_run(self, run_id: object) -> Any:
        """The stored ``Run`` for any §5.3 run identifier."""
        text = ref_text(run_id, field="run_id")
        full, value_ref = run_lookup_forms(text)
        for candidate in (full, value_ref):
            if candidate is not None:
                run = self.find_run(candidate)
                if run is not None:
                    return run
        components, names = self._indexes()
        for index in (components, names):
            refs = index.get(text)
            if refs:
                if len(refs) > 1:
                    raise_ambiguous("run", "run_id", text, refs)
                return self._runs_by_ref[refs[0]]
        raise_not_found("run", "run_id", text)

    def _indexes(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        with self._lock:
            if self._component_index is None or self._name_index is None:
                components: dict[str, list[str]] = {}
                names: dict[str, list[str]] = {}
                for run in self.runs(None):
                    ref = str(run.run_ref)
                    # the only proper dotted suffix of a two-component value is its last part
                    components.setdefault(ref.rpartition(".")[2], []).append(ref)
                    names.setdefault(run.name, []).append(ref)
                self._component_index, self._name_index = components, names
            return self._component_index, self._name_index

    # -- snapshot cache ---------------------------------------------------------------------

    def cached_snapshot(self, run_ref: str) -> Any | None:
        return self.snapshots.get(run_ref)

    def store_snapshot(self, run_ref: str, bundle: Any) -> None:
        with self._lock:
            self.snapshots[run_ref] = bundle
            while len(self.snapshots) > _SNAPSHOT_CACHE_SIZE:
                self.snapshots.popitem(last=False)


class StateHolder:
    """Hands out the ``ReadState`` of the repository's current data version."""

    def __init__(self, repository: CompositeRepository) -> None:
        self.repository = repository
        self._state: ReadState | None = None
        self._lock = threading.Lock()

    def current(self) -> ReadState:
        version = self.repository.data_version()
        state = self._state
        if state is not None and state.version == version:
            return state
        with self._lock:
            state = self._state
            if state is None or state.version != version:
                state = ReadState(self.repository, version)
                self._state = state
            return state
