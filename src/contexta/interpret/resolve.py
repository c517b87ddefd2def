"""Identifier resolution for queries (contract §5.3) and the errors it raises.

A run may be named by its full ref, its ref value, a dotted suffix of the value or its exact
display name; forms are tried in that order and the first form that matches anything decides.
Look-up failures are both ``NotFoundError`` and ``InterpretationError`` (contract §12.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from contexta.errors import (
    ConflictError,
    InterpretationError,
    NotFoundError,
    ValidationError,
    truncate_value,
)

if TYPE_CHECKING:
    from contexta.interpret.read_models import BatchRecord, StageRecord

__all__ = [
    "QueryConflictError",
    "QueryNotFoundError",
    "QueryValidationError",
    "ambiguous",
    "not_found",
    "raise_ambiguous",
    "raise_not_found",
    "ref_text",
    "resolve_batch",
    "resolve_stage",
    "run_lookup_forms",
]

_MAX_CANDIDATES = 50


class QueryNotFoundError(NotFoundError, InterpretationError):
    """An identifier given to a query matched nothing."""

    default_code = "query_run_not_found"


class QueryConflictError(ConflictError, InterpretationError):
    """An identifier given to a query matched several objects."""

    default_code = "query_run_ambiguous"


class QueryValidationError(ValidationError, InterpretationError):
    """A query argument has the wrong type or value."""

    default_code = "validation_error"


def ref_text(value: object, *, field: str) -> str:
    """Text of an identifier argument (``str`` or ``StableRef``); anything else is invalid."""
    if isinstance(value, str):
        text = value
    elif type(value).__name__ == "StableRef":
        text = str(value)
    else:
        text = None
    if text is None or not text.strip():
        message = (
            f"{field} must be a non-empty string or StableRef (a ref, ref value, suffix or "
            f"name); got {truncate_value(value)}"
        )
        raise QueryValidationError(
            message,
            details={"field": field, "value": truncate_value(value), "allowed": "str or ref"},
        )
    return text


_COMPONENT = r"[a-z0-9]+(?:[-_][a-z0-9]+)*"
_RUN_REF = re.compile(rf"run:{_COMPONENT}\.{_COMPONENT}")
_RUN_VALUE = re.compile(rf"{_COMPONENT}\.{_COMPONENT}")


def run_lookup_forms(text: str) -> tuple[str | None, str | None]:
    """(full ref to try, ref built from a value to try) for a run identifier (§5.3 forms 1-2).

    Texts that cannot be a run ref or value give ``None`` so no query is spent on them.
    """
    if len(text) > 255 or any(len(part) > 63 for part in text.split(".")):
        return None, None
    if _RUN_REF.fullmatch(text):
        return text, None
    if _RUN_VALUE.fullmatch(text):
        return None, "run:" + text
    return None, None


def raise_not_found(kind: str, field: str, value: str, scope: str | None = None) -> NoReturn:
    raise not_found(kind, field, value, scope)


def raise_ambiguous(kind: str, field: str, value: str, candidates: Iterable[str]) -> NoReturn:
    raise ambiguous(kind, field, value, candidates)


def not_found(kind: str, field: str, value: str, scope: str | None = None) -> QueryNotFoundError:
    where = f" in {scope}" if scope else ""
    message = (
        f"{field} {truncate_value(value)} matches no {kind}{where}; give a {kind} ref, its "
        f"ref value, a dotted suffix of it, or the exact name"
    )
    return QueryNotFoundError(
        message,
        code=f"query_{kind}_not_found",
        details={"field": field, "value": truncate_value(value), "kind": kind, "scope": scope},
    )


def ambiguous(kind: str, field: str, value: str, candidates: Iterable[str]) -> QueryConflictError:
    listed = sorted(set(candidates))
    message = (
        f"{field} {truncate_value(value)} matches {len(listed)} {kind}s "
        f"({', '.join(listed[:5])}{', ...' if len(listed) > 5 else ''}); give the full ref"
    )
    return QueryConflictError(
        message,
        code=f"query_{kind}_ambiguous",
        details={
            "field": field,
            "value": truncate_value(value),
            "candidates": tuple(listed[:_MAX_CANDIDATES]),
        },
    )


def _match_named(
    items: Sequence[Any],
    text: str,
    *,
    ref_of: Any,
    name_of: Any,
    kind: str,
    field: str,
    scope: str,
) -> Any:
    """Ref, then dotted suffix of the ref value, then exact name (first form that matches)."""
    exact = [item for item in items if ref_of(item) == text]
    if exact:
        return exact[0]
    suffix = "." + text
    by_suffix = [item for item in items if ref_of(item).partition(":")[2].endswith(suffix)]
    if not by_suffix:
        by_suffix = [item for item in items if ref_of(item).partition(":")[2] == text]
    if len(by_suffix) == 1:
        return by_suffix[0]
    if by_suffix:
        raise_ambiguous(kind, field, text, (ref_of(item) for item in by_suffix))
    by_name = [item for item in items if name_of(item) == text]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        raise_ambiguous(kind, field, text, (ref_of(item) for item in by_name))
    raise_not_found(kind, field, text, scope)


def resolve_stage(stages: Sequence[StageRecord], stage_id: object, run_id: str) -> StageRecord:
    """One stage of a run by ref, dotted suffix or name (``query_stage_not_found``)."""
    text = ref_text(stage_id, field="stage_id")
    stage: StageRecord = _match_named(
        stages,
        text,
        ref_of=lambda s: s.stage_id,
        name_of=lambda s: s.name,
        kind="stage",
        field="stage_id",
        scope=run_id,
    )
    return stage


def resolve_batch(
    batches: Sequence[BatchRecord], batch_id: object, run_id: str, stage_id: str | None = None
) -> BatchRecord:
    """One batch of a run (and stage, if given) by ref, dotted suffix or name."""
    text = ref_text(batch_id, field="batch_id")
    scoped = [b for b in batches if stage_id is None or b.stage_id == stage_id]
    batch: BatchRecord = _match_named(
        scoped,
        text,
        ref_of=lambda b: b.batch_id,
        name_of=lambda b: b.name,
        kind="batch",
        field="batch_id",
        scope=stage_id or run_id,
    )
    return batch
