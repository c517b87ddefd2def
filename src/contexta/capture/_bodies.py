"""Canonical JSON of capture's records, from pieces cut once per scope.

``to_json`` walks all sixteen envelope fields of every record. Within one scope only the
record ref, the clock, the record type and the degradation marker change, so the
envelope text is cut once into fixed pieces around those fields, using the real
serializer on a sample whose variable fields are sentinel characters. The first body
made this way is compared with ``to_json``; any difference switches the pieces off and
every body comes from ``to_json`` again, so a change in the serializer can cost speed but
never correctness.
"""

from __future__ import annotations

import logging
from typing import Any

from contexta.contract import MetricRecord, RecordEnvelope, to_json
from contexta.contract.refs import _make as make_ref

__all__ = ["BodyTemplate"]

logger = logging.getLogger(__name__)

# Sentinels for the variable envelope fields, in the order of ``_VARIABLE``. Canonical
# JSON pastes these fields between quotes without escaping, so they appear verbatim.
_VARIABLE = ("record_ref", "recorded_at", "observed_at", "record_type", "degradation_marker")
_SENTINELS = ("\x01", "\x02", "\x03", "\x04", "\x05")
_ENVELOPE, _PAYLOAD = "\x06", "\x07"


class _Stub:
    """Stands in for a nested model while a record's text is cut into pieces."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def _json(self) -> str:
        return self.text


def _cut(text: str, markers: tuple[str, ...]) -> tuple[list[str], list[int]] | None:
    """Fixed pieces of ``text`` around ``markers`` and which marker follows each piece."""
    found = sorted((text.find(marker), index) for index, marker in enumerate(markers))
    if any(position < 0 for position, _ in found) or any(
            text.count(marker) != 1 for marker in markers):
        return None
    pieces, order, start = [], [], 0
    for position, index in found:
        pieces.append(text[start:position])
        order.append(index)
        start = position + 1
    pieces.append(text[start:])
    return pieces, order


class BodyTemplate:
    """Builds ``to_json(record)`` for metric records of one scope's context."""

    __slots__ = ("_checked", "_envelope", "_record")

    def __init__(self, sample: RecordEnvelope) -> None:
        """``sample``: any envelope of this scope (its fixed fields are what counts)."""
        self._checked = False
        stub_ref = make_ref("record", "x", _SENTINELS[0], ("x",))
        values = dict(zip(_VARIABLE, _SENTINELS, strict=True))
        fields = {name: getattr(sample, name) for name in sample._field_names}  # type: ignore[attr-defined]
        fields.update(values, record_ref=stub_ref)
        envelope = RecordEnvelope._trusted(**fields)  # type: ignore[attr-defined]
        record = MetricRecord._trusted(_Stub(_ENVELOPE), _Stub(_PAYLOAD))  # type: ignore[attr-defined]
        self._envelope = _cut(envelope._json(), _SENTINELS)
        cut_record = _cut(record._json(), (_ENVELOPE, _PAYLOAD))
        self._record = cut_record if cut_record is not None and cut_record[1] == [0, 1] else None

    def body(self, record: Any) -> str:
        """Canonical JSON of ``record`` (a metric record built for this scope)."""
        cut_envelope, cut_record = self._envelope, self._record
        if cut_envelope is None or cut_record is None:
            return to_json(record)
        envelope = record.envelope
        values = (envelope.record_ref._text, envelope.recorded_at, envelope.observed_at,
                  envelope.record_type, envelope.degradation_marker)
        pieces, order = cut_envelope
        parts = [pieces[0]]
        for index, piece in zip(order, pieces[1:], strict=True):
            parts.append(values[index])
            parts.append(piece)
        envelope_text = "".join(parts)
        outer, _ = cut_record
        text = f"{outer[0]}{envelope_text}{outer[1]}{record.payload._json()}{outer[2]}"
        if not self._checked:
            expected = to_json(record)
            if text != expected:
                logger.debug("record body pieces disagree with to_json; using to_json")
                self._envelope = self._record = None
                return expected
            self._checked = True
        return text

