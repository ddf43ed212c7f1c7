"""Streaming event-log replay: memory flat in the log's length (docs/adr/0002).

`iter_event_log(read)` reads a log through `read(n) -> bytes` (a file's `read`) in
chunks and yields its records one at a time, never holding more than one chunk plus
the record being read; `replay_event_log_stream` feeds them to the same replay as
`replay_event_log` without keeping the events, or which events extended which PCR.
The records, offsets, errors and replay are those of `parse_event_log` and
`replay_event_log` on the whole log (tests/impl/test_eventlog_stream.py checks it).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from chainoftrust.impl._eventlog_parse import (
    EventLog,
    EventLogEntry,
    SpecId,
    _agile_record,
    _entry,
    _gc_paused,
    _is_spec_id_header,
    _parse_spec_id,
    _sha1_record,
)
from chainoftrust.impl._replay import Replay, replay_event_log
from chainoftrust.impl.errors import ErrorCode, MalformedInputError

CHUNK = 1 << 20
Reader = Callable[[int], bytes]


@dataclass
class _Window:
    """The unread part of the input: `buf[pos:]` starts at absolute offset `base + pos`."""

    read: Reader
    chunk: int
    buf: bytes = b""
    base: int = 0
    pos: int = 0
    eof: bool = False

    def more(self) -> bool:
        """Append at least one chunk (doubling for long records); False at end of input."""
        if self.eof:
            return False
        got = self.read(max(self.chunk, len(self.buf) - self.pos))
        if not got:
            self.eof = True
            return False
        self.base += self.pos
        self.buf = self.buf[self.pos :] + got
        self.pos = 0
        return True

    def relocated(self, entry: EventLogEntry) -> EventLogEntry:
        return _entry(
            entry.index, entry.offset + self.base, entry.pcr, entry.type, entry.digests, entry.data
        )


def _checked(win: _Window, parse: Callable[[], tuple[EventLogEntry, int]]) -> EventLogEntry:
    """One record through the field-by-field parser, reading more while it is cut short
    by the window; an error at the true end of input carries its absolute offset."""
    while True:
        try:
            entry, win.pos = parse()
        except MalformedInputError as err:
            if err.code == ErrorCode.TRUNCATED and win.more():
                continue
            if err.offset is not None:
                err.offset += win.base
            raise
        return win.relocated(entry)


def _agile(win: _Window, spec_id: SpecId, index: int) -> Iterator[EventLogEntry]:
    """TCG_PCR_EVENT2 records; the usual one (the Spec ID's algorithms in order, whole in
    the window) by one precompiled struct, any other by `_agile_record`."""
    sizes = dict(spec_id.algorithms)
    algs = tuple(alg for alg, _ in spec_id.algorithms)
    n = len(algs)
    layout = struct.Struct("<III" + "".join(f"H{size}s" for _, size in spec_id.algorithms) + "I")
    head, unpack, entry = layout.size, layout.unpack_from, _entry
    x1, x2 = algs[0], algs[1] if n > 1 else -1
    digests: tuple[tuple[int, bytes], ...] | None
    while True:
        buf, pos = win.buf, win.pos
        end = len(buf)
        if pos >= end and not win.more():
            return
        buf, pos, end = win.buf, win.pos, len(win.buf)
        if end - pos >= head:
            v = unpack(buf, pos)
            size = v[-1]
            at = pos + head
            if v[2] == n and size <= end - at:
                if n == 2:
                    digests = ((x1, v[4]), (x2, v[6])) if v[3] == x1 and v[5] == x2 else None
                else:
                    digests = (
                        tuple(zip(algs, v[4:-1:2], strict=True)) if v[3:-1:2] == algs else None
                    )
                if digests is not None:
                    win.pos = at + size
                    yield entry(index, win.base + pos, v[0], v[1], digests, buf[at : at + size])
                    index += 1
                    continue
        yield _checked(win, lambda i=index: _agile_record(win.buf, win.pos, i, sizes))
        index += 1


def iter_event_log(
    read: Reader, *, chunk: int = CHUNK
) -> tuple[SpecId | None, Iterator[EventLogEntry]]:
    """(the Spec ID or None, an iterator over every record, the header first), reading
    through `read`. Errors are raised as the iterator reaches them (the header's at once)."""
    win = _Window(read, chunk)
    win.more()
    if win.eof:
        raise MalformedInputError(
            ErrorCode.TRUNCATED,
            "empty log: needs 32 bytes, 0 remain",
            field="events[0].pcrIndex",
            offset=0,
        )
    first = _checked(win, lambda: _sha1_record(memoryview(win.buf), win.pos, 0))
    if not _is_spec_id_header(first):
        return None, _sha1_rest(win, first)
    spec_id = _parse_spec_id(first.data, 0)
    return spec_id, _with_first(first, _agile(win, spec_id, 1))


def _with_first(first: EventLogEntry, rest: Iterator[EventLogEntry]) -> Iterator[EventLogEntry]:
    yield first
    yield from rest


def _sha1_rest(win: _Window, first: EventLogEntry) -> Iterator[EventLogEntry]:
    yield first
    index = 1
    while win.pos < len(win.buf) or win.more():
        yield _checked(win, lambda i=index: _sha1_record(memoryview(win.buf), win.pos, i))
        index += 1


class _StreamedLog:
    """What `replay_event_log` reads of an EventLog: `spec_id` and `events` (an iterator)."""

    __slots__ = ("events", "format", "spec_id")

    def __init__(self, spec_id: SpecId | None, events: Iterator[EventLogEntry]) -> None:
        self.spec_id = spec_id
        self.events = events
        self.format = "sha1" if spec_id is None else "crypto-agile"


def replay_event_log_stream(read: Reader, *, strict: bool = False, chunk: int = CHUNK) -> Replay:
    """`replay_event_log(parse_event_log(whole input))`, in memory flat in the log's length:
    the records are replayed as they are read and dropped; `extended_by` is empty."""
    spec_id, events = iter_event_log(read, chunk=chunk)
    log: EventLog = _StreamedLog(spec_id, events)  # type: ignore[assignment]
    with _gc_paused():
        return replay_event_log(log, strict=strict, track=False)
