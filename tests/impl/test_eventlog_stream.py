"""The streaming replay (impl/_eventlog_stream.py) gives what the whole-input parser and
replay give: the same records with the same offsets, the same error (code, field,
offset), the same PCRs and warnings, for every chunk size: generated logs (well-formed
and corrupted) and every real log in ../shared/conformance/eventlog/."""

from __future__ import annotations

import hashlib
import io
import struct
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl._eventlog_stream import iter_event_log, replay_event_log_stream
from chainoftrust.impl.errors import MalformedInputError
from chainoftrust.impl.eventlog import parse_event_log, replay_event_log
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import require_data
from tests.eventlog_strategies import corrupted_event_logs, event_logs

EVENTLOG_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "eventlog"
CHUNKS = (1, 3, 31, 64, 4096, 1 << 20)


def _whole(data: bytes, strict: bool) -> tuple[str, Any]:
    try:
        log = parse_event_log(data)
    except MalformedInputError as err:
        return "error", (str(err.code), err.field, err.offset)
    records = [e.to_json() for e in log.events]
    try:
        replay = replay_event_log(log, strict=strict).to_json()
    except MalformedInputError as err:
        return "replay-error", (records, (str(err.code), err.field, err.offset))
    return "ok", (records, replay)


def _streamed(data: bytes, strict: bool, chunk: int) -> tuple[str, Any]:
    """The records as iter_event_log yields them, then the streaming replay's outcome: the
    first error anywhere (parse or replay) must be the whole-input path's."""
    try:
        _spec_id, events = iter_event_log(io.BytesIO(data).read, chunk=chunk)
        records = [e.to_json() for e in events]
    except MalformedInputError as err:
        records = None
        parse_error = (str(err.code), err.field, err.offset)
    try:
        replay = replay_event_log_stream(io.BytesIO(data).read, strict=strict, chunk=chunk)
    except MalformedInputError as err:
        got = (str(err.code), err.field, err.offset)
        if records is None:
            assert got == parse_error  # the replay raises the parse error too
            return "error", got
        return "replay-error", (records, got)
    assert records is not None, "the stream replayed a log that does not parse"
    return "ok", (records, replay.to_json())


def _agree(data: bytes, strict: bool, chunk: int) -> None:
    assert _streamed(data, strict, chunk) == _whole(data, strict)


@given(data=event_logs(), chunk=st.sampled_from(CHUNKS), strict=st.booleans())
def test_streamed_equals_whole_on_generated_logs(data: bytes, chunk: int, strict: bool) -> None:
    _agree(data, strict, chunk)


@given(data=corrupted_event_logs(), chunk=st.sampled_from(CHUNKS), strict=st.booleans())
def test_streamed_equals_whole_on_corrupted_logs(data: bytes, chunk: int, strict: bool) -> None:
    _agree(data, strict, chunk)


def test_a_malformed_record_wins_over_an_earlier_strict_finding() -> None:
    """parse_event_log reads every record before the replay: a strict finding (EV_POST_CODE
    in PCR 7, UNEXPECTED_PCR) followed by a cut record is TRUNCATED on both paths."""
    sha1, sha256 = hashlib.sha1(b"x").digest(), hashlib.sha256(b"x").digest()
    spec_id = b"Spec ID Event03\x00" + struct.pack(
        "<IBBBBIHHHHB", 0, 0, 2, 0, 2, 2, 4, 20, 11, 32, 0
    )
    header = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec_id)) + spec_id
    event = struct.pack("<IIIH", 7, 1, 2, 4) + sha1 + struct.pack("<H", 11) + sha256
    event += struct.pack("<I", 1) + b"x"
    data = header + event + event[:10]
    assert _whole(data, True)[0] == "error"
    for chunk in CHUNKS:
        assert _streamed(data, True, chunk) == _whole(data, True)
        assert _streamed(data, True, chunk)[1][0] == "TRUNCATED"


def test_streamed_equals_whole_on_the_real_logs() -> None:
    require_data(EVENTLOG_DIR)
    logs = sorted(EVENTLOG_DIR.glob("*/*.bin"))
    assert len(logs) >= 20
    for path in logs:
        data = path.read_bytes()
        for chunk in (7, 4096):
            for strict in (False, True):
                assert _streamed(data, strict, chunk) == _whole(data, strict), path


def test_empty_input_and_a_cut_header_are_truncated_at_offset_0() -> None:
    for data in (b"", bytes(20)):
        assert _streamed(data, False, 4)[0] == "error"
        assert _streamed(data, False, 4) == _whole(data, False)


def test_a_declared_size_of_4_gib_reads_only_the_input() -> None:
    """A record declaring 4 GiB of event data: the reader is asked for about what the
    input holds (chunks double), and the error is the whole-input parser's."""
    require_data(EVENTLOG_DIR)
    for path in sorted(EVENTLOG_DIR.glob("*/*.bin")):
        good = path.read_bytes()
        log = parse_event_log(good)
        if log.spec_id is not None and len(log.events) > 3:
            break
    second = log.events[2].offset
    body = bytearray(good[:second])
    size_at = second - len(log.events[1].data) - 4  # event 1's eventSize
    body[size_at : size_at + 4] = (0xFFFFFFFF).to_bytes(4, "little")
    data = bytes(body)
    assert _whole(data, False) == (
        "error",
        ("TRUNCATED", "events[1].eventSize", log.events[1].offset),
    )
    asked: list[int] = []
    stream = io.BytesIO(data)

    def read(n: int) -> bytes:
        asked.append(n)
        return stream.read(n)

    with pytest.raises(MalformedInputError) as caught:
        replay_event_log_stream(read, chunk=16)
    assert (caught.value.code, caught.value.offset) == ("TRUNCATED", log.events[1].offset)
    assert max(asked) <= 2 * len(data) + 16
