"""The ``contexta.exception`` event survives hostile exceptions (contract §8.1, §3.2).

Its message is library-written free text, so control characters and lone
surrogates from the user's message are escaped rather than losing the event,
and an exception whose ``__str__`` fails is still re-raised unchanged.
"""

from __future__ import annotations

import pytest


class UnprintableError(Exception):
    def __str__(self) -> str:
        return str(1 / 0)


def _exception_events(records_of, ctx, run_ref: str) -> list:
    return [record for record in records_of(ctx, run_ref, "event")
            if record.payload.event_key == "contexta.exception"]


def test_ansi_colour_codes_in_the_message_are_escaped_and_the_event_lands(
        ctx, records_of) -> None:
    with pytest.raises(RuntimeError), ctx.run("ansi") as run, run.stage("load") as stage:
        raise RuntimeError("\x1b[31mcolumn missing\x1b[0m")
    (event,) = _exception_events(records_of, ctx, run.ref)
    assert event.envelope.stage_execution_ref == stage.ref
    assert event.payload.message == "RuntimeError: \\x1b[31mcolumn missing\\x1b[0m"
    assert event.payload.attributes["message"] == "\\x1b[31mcolumn missing\\x1b[0m"
    assert "column missing" in event.payload.attributes["traceback"]
    assert "\x1b" not in event.payload.attributes["traceback"]
    codes = {issue.code for issue in ctx.diagnose_run(run.ref).issues}
    assert {"failed_run", "incomplete_stage"} <= codes


def test_nul_and_lone_surrogates_are_escaped_but_newlines_and_tabs_kept(
        ctx, records_of) -> None:
    with pytest.raises(ValueError), ctx.run("raw-bytes") as run:
        raise ValueError("bad row\x00 \udc80end\n\tdetail")
    (event,) = _exception_events(records_of, ctx, run.ref)
    assert event.payload.attributes["message"] == "bad row\\x00 \\udc80end\n\tdetail"
    assert event.payload.message.startswith("ValueError: bad row\\x00")


def test_an_exception_whose_str_fails_is_reraised_and_recorded(ctx, records_of) -> None:
    with pytest.raises(UnprintableError), ctx.run("unprintable") as run:
        raise UnprintableError
    assert ctx.metadata_store.runs.get_run(run.ref).status == "failed"
    (event,) = _exception_events(records_of, ctx, run.ref)
    assert event.payload.attributes["message"] == "<unprintable UnprintableError>"
    assert event.payload.attributes["type"].endswith("UnprintableError")
    with ctx.run("next") as following:  # the failed run was closed: a new one opens
        following.metric("ok", 1)
