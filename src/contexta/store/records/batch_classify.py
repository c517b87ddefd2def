"""Sorting one ``append_many`` batch into new records, repeats and rejections.

A batch is atomic (contract.md §4.4): every item is classified before anything is
written, so a conflict anywhere rejects the whole batch and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from contexta.errors import ContextaError

__all__ = ["classify"]


def classify(
    refs: Sequence[str],
    runs: Sequence[str],
    bodies: Sequence[str],
    bad_runs: dict[str, ContextaError],
    known: dict[str, tuple[str, int]],
) -> tuple[list[int], dict[int, tuple[int, bool]], list[dict[str, Any]]]:
    """Sort a batch into new items, repeats and rejections (without writing anything).

    Returns ``(fresh, repeats, rejections)``: indexes written now; index -> (sequence or
    index of its first occurrence, whether that is a stored sequence); rejection entries.
    """
    fresh: list[int] = []
    first_new: dict[str, int] = {}  # ref -> index of its first new occurrence
    repeats: dict[int, tuple[int, bool]] = {}
    rejections: list[dict[str, Any]] = []
    for index, ref in enumerate(refs):
        error = bad_runs.get(runs[index])
        if error is not None:
            rejections.append({"index": index, "code": error.code, "message": error.message})
            continue
        prior = known.get(ref)
        first = first_new.get(ref)
        if prior is None and first is None:
            first_new[ref] = index
            fresh.append(index)
            continue
        if prior is not None:
            body, repeat = prior[0], (prior[1], True)
        else:
            assert first is not None
            body, repeat = bodies[first], (first, False)
        if body != bodies[index]:
            rejections.append(
                {
                    "index": index,
                    "code": "record_ref_conflict",
                    "message": f"record_ref {ref!r} already holds a different record; a "
                    "record ref is bound to one content forever (append it under a new ref)",
                }
            )
            continue
        repeats[index] = repeat
    return fresh, repeats, rejections
