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
from typing import Final

from chainoftrust.impl._eventlog_parse import (
    EventLogEntry,
    SpecId,
    _agile_record,
    _entry,
    _gc_paused,
    _is_spec_id_header,
    _parse_spec_id,
    _sha1_record,
)
from chainoftrust.impl._replay import (
    _DRIVER_CONFIG,
    _NO_ACTION,
    _PLACEMENT,
    _SECURE_BOOT_PCR,
    _SEPARATOR,
    _VARIABLE_BOOT,
    CHECKED_TYPES,
    PCR_COUNT,
    Replay,
    _data_check,
    _Replayer,
    _variable_data,
)
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
    win, first, spec_id = _open(read, chunk)
    if spec_id is None:
        return None, _sha1_rest(win, first)
    return spec_id, _with_first(first, _agile(win, spec_id, 1))


def _open(read: Reader, chunk: int) -> tuple[_Window, EventLogEntry, SpecId | None]:
    """The window after the first record, that record, and its Spec ID (None: SHA-1 log)."""
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
        return win, first, None
    return win, first, _parse_spec_id(first.data, 0)


def _with_first(first: EventLogEntry, rest: Iterator[EventLogEntry]) -> Iterator[EventLogEntry]:
    yield first
    yield from rest


def _sha1_rest(win: _Window, first: EventLogEntry) -> Iterator[EventLogEntry]:
    yield first
    index = 1
    while win.pos < len(win.buf) or win.more():
        yield _checked(win, lambda i=index: _sha1_record(memoryview(win.buf), win.pos, i))
        index += 1


def _plain_types() -> tuple[frozenset[int], ...]:
    """Per PCR, the event types whose replay is only "name the PCR, extend every bank, check
    the data": known, placed where the PFP allows them, not EV_NO_ACTION, not EV_SEPARATOR
    (it closes its PCR), not Secure Boot policy in PCR 7 (it may come after the separator),
    and nothing in PCR 0 (StartupLocality and H-CRTM decide its start). Every other event
    takes the replayer's general path."""
    out = []
    for pcr in range(PCR_COUNT):
        types = {
            t
            for t, allowed in _PLACEMENT.items()
            if pcr != 0
            and t not in (_NO_ACTION, _SEPARATOR)
            and not (t == _DRIVER_CONFIG and pcr == _SECURE_BOOT_PCR)
            and (pcr >= 8 or allowed is None or pcr in allowed)
        }
        out.append(frozenset(types))
    return tuple(out)


_PLAIN: Final = _plain_types()


def _fused(win: _Window, spec_id: SpecId, replayer: _Replayer, later: _Later) -> None:
    """Read and replay the records after the header. The usual record (the Spec ID's
    algorithms in order, whole in the window) of a plain type is replayed here, with no
    entry built; any other record is parsed field by field and given to the replayer's
    general path, so the outcome is the same. Replay errors go to `later`."""
    sizes = dict(spec_id.algorithms)
    algs = replayer.layout
    n = len(algs)
    layout = struct.Struct("<III" + "".join(f"H{sizes[a]}s" for a in algs) + "I")
    head, unpack, entry, run = layout.size, layout.unpack_from, _entry, later.run
    st = replayer.st

    def add_check(found: EventLogEntry) -> None:
        later.call(_data_check, found, replayer.findings.add)

    named_add = st.named.add
    banks = [(st.values[a], st.ctors[a]) for a in algs]
    (s1, h1), (s2, h2), (s3, h3) = (banks * 3)[:3]
    x1, x2, x3 = (algs[0], algs[1] if n > 1 else algs[0], algs[2] if n > 2 else -1)
    i2, count = (5 if n > 1 else 3), PCR_COUNT
    plain, checked, boot = _PLAIN, CHECKED_TYPES, _VARIABLE_BOOT
    index = 1
    while True:
        buf, pos, base = win.buf, win.pos, win.base
        end = len(buf)
        while end - pos >= head:
            v = unpack(buf, pos)
            at = pos + head
            nxt = at + v[-1]
            if v[2] != n or nxt > end or v[3] != x1 or v[i2] != x2 or (n > 2 and v[7] != x3):
                break
            pcr, etype = v[0], v[1]
            if pcr < count and etype in plain[pcr]:
                named_add(pcr)
                if n == 2:
                    d1, d2 = v[4], v[6]
                    s1[pcr] = h1(s1[pcr] + d1).digest()
                    s2[pcr] = h2(s2[pcr] + d2).digest()
                    if etype in checked:
                        data = buf[at:nxt]
                        over = data if etype != boot else _variable_data(data)
                        if over is None or h1(over).digest() != d1 or h2(over).digest() != d2:
                            digests = ((x1, d1), (x2, d2))
                            add_check(entry(index, base + pos, pcr, etype, digests, data))
                elif n == 3:
                    d1, d2, d3 = v[4], v[6], v[8]
                    s1[pcr] = h1(s1[pcr] + d1).digest()
                    s2[pcr] = h2(s2[pcr] + d2).digest()
                    s3[pcr] = h3(s3[pcr] + d3).digest()
                    if etype in checked:
                        data = buf[at:nxt]
                        over = data if etype != boot else _variable_data(data)
                        if (
                            over is None
                            or h1(over).digest() != d1
                            or h2(over).digest() != d2
                            or h3(over).digest() != d3
                        ):
                            digests = ((x1, d1), (x2, d2), (x3, d3))
                            add_check(entry(index, base + pos, pcr, etype, digests, data))
                else:
                    ds = v[4:-1:2]
                    for (values, ctor), digest in zip(banks, ds, strict=True):
                        values[pcr] = ctor(values[pcr] + digest).digest()
                    if etype in checked:
                        data = buf[at:nxt]
                        over = data if etype != boot else _variable_data(data)
                        if over is None or any(
                            c(over).digest() != d for (_, c), d in zip(banks, ds, strict=True)
                        ):
                            digests = tuple(zip(algs, ds, strict=True))
                            add_check(entry(index, base + pos, pcr, etype, digests, data))
            else:
                digests = tuple(zip(algs, v[4:-1:2], strict=True))
                run(entry(index, base + pos, pcr, etype, digests, buf[at:nxt]))
            pos = nxt
            index += 1
        win.pos = pos
        if pos >= end:
            if not win.more():
                return
            continue
        # an unusual record, or one the window cuts: field by field
        run(_checked(win, lambda i=index: _agile_record(win.buf, win.pos, i, sizes)))
        index += 1


class _Later:
    """Replay errors held until the whole input is read: `parse_event_log` reads every
    record before the replay starts, so a malformed record anywhere wins over a replay
    error (a strict finding, an invalid StartupLocality). After the first replay error the
    rest is only parsed."""

    __slots__ = ("error", "replayer")

    def __init__(self, replayer: _Replayer) -> None:
        self.replayer = replayer
        self.error: MalformedInputError | None = None

    def call(self, action: Callable[..., object], *args: object) -> None:
        if self.error is None:
            try:
                action(*args)
            except MalformedInputError as err:
                self.error = err

    def run(self, entry: EventLogEntry) -> None:
        self.call(self.replayer.run, (entry,))


def replay_event_log_stream(read: Reader, *, strict: bool = False, chunk: int = CHUNK) -> Replay:
    """`replay_event_log(parse_event_log(whole input))`, in memory flat in the log's length:
    the records are replayed as they are read and dropped; `extended_by` is empty. The error,
    when there is one, is the whole-input path's: a malformed record first, else the first
    replay error (see _Later)."""
    win, first, spec_id = _open(read, chunk)
    replayer = _Replayer(spec_id, strict=strict, track=False)
    later = _Later(replayer)
    with _gc_paused():
        if spec_id is not None and replayer.layout:
            _fused(win, spec_id, replayer, later)
        else:  # a SHA-1 log, an unknown algorithm, or more than 3 banks
            records = _sha1_rest(win, first) if spec_id is None else _agile(win, spec_id, 1)
            for entry in records:
                later.run(entry)
    if later.error is not None:
        raise later.error
    return replayer.finish()
