"""Streaming replay of a binary IMA list: memory flat in the list's length (docs/adr/0003).

`replay_ima_stream(read, banks)` reads binary_runtime_measurements through `read(n)` in
chunks and replays each entry as it is read (`entry_at` of the whole-input parser, the
same replay), holding one chunk plus the entry being read. The result, and any error
with its offset, are those of `replay_ima(parse_ima_binary(whole input), banks)`
(tests/impl/test_ima_stream.py checks it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from chainoftrust.impl._eventlog_stream import CHUNK, Reader, _Window
from chainoftrust.impl._ima_parse import _KNOWN_BYTES, ImaEntry, entry_at
from chainoftrust.impl._ima_replay import ImaReplay, replay_entries
from chainoftrust.impl.errors import ErrorCode, MalformedInputError


def _entries(win: _Window, allow_partial_tail: bool) -> Iterator[ImaEntry]:
    """Every entry, its offset absolute; a cut last entry is TRUNCATED, or with
    allow_partial_tail ends the list (ADR 0003: the kernel may be appending)."""
    names: dict[bytes, str] = dict(_KNOWN_BYTES)
    index = 0
    while win.pos < len(win.buf) or win.more():
        try:
            entry, win.pos = _read(win, lambda i=index: entry_at(win.buf, win.pos, i, names))
        except MalformedInputError as err:
            if allow_partial_tail and err.code is ErrorCode.TRUNCATED:
                return
            raise
        yield entry
        index += 1


def _read(win: _Window, parse: Callable[[], tuple[ImaEntry, int]]) -> tuple[ImaEntry, int]:
    """One entry, reading more while the window cuts it; errors at the true end of the
    input carry their absolute offset."""
    while True:
        try:
            entry, nxt = parse()
        except MalformedInputError as err:
            if err.code is ErrorCode.TRUNCATED and win.more():
                continue
            if err.offset is not None:
                err.offset += win.base
            raise
        if win.base:
            entry = ImaEntry(
                entry.index,
                entry.offset + win.base,
                entry.pcr,
                entry.template_hash,
                entry.template_name,
                entry.template_data,
                entry.violation,
            )
        return entry, nxt


def replay_ima_stream(
    read: Reader,
    banks: Sequence[str] = ("sha1", "sha256"),
    *,
    allow_partial_tail: bool = False,
    chunk: int = CHUNK,
) -> ImaReplay:
    """`replay_ima(parse_ima_binary(whole input, allow_partial_tail), banks)`, streamed."""
    return replay_entries(_entries(_Window(read, chunk), allow_partial_tail), banks)
