"""The streaming IMA replay (impl/_ima_stream.py) gives what the whole-input parser and
replay give: the same replay, or the same error code and offset, for every chunk size
and both allow_partial_tail settings: generated lists (well-formed and corrupted) and
every real list in ../shared/conformance/ima/."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from chainoftrust.impl._ima_stream import replay_ima_stream
from chainoftrust.impl.errors import MalformedInputError
from chainoftrust.impl.ima import parse_ima_binary, replay_ima
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import require_data
from tests.ima_strategies import corrupted_ima_lists, ima_lists

IMA_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "ima"
CHUNKS = (1, 5, 64, 4096, 1 << 20)
BANKS = ("sha1", "sha256", "sha384")


def _whole(data: bytes, tail: bool) -> tuple[str, Any]:
    try:
        return "ok", replay_ima(parse_ima_binary(data, allow_partial_tail=tail), BANKS).to_json()
    except MalformedInputError as err:
        return "error", (str(err.code), err.offset)


def _streamed(data: bytes, tail: bool, chunk: int) -> tuple[str, Any]:
    try:
        out = replay_ima_stream(io.BytesIO(data).read, BANKS, allow_partial_tail=tail, chunk=chunk)
        return "ok", out.to_json()
    except MalformedInputError as err:
        return "error", (str(err.code), err.offset)


@given(data=ima_lists(), chunk=st.sampled_from(CHUNKS), tail=st.booleans())
def test_streamed_equals_whole_on_generated_lists(data: bytes, chunk: int, tail: bool) -> None:
    assert _streamed(data, tail, chunk) == _whole(data, tail)


@given(data=corrupted_ima_lists(), chunk=st.sampled_from(CHUNKS), tail=st.booleans())
def test_streamed_equals_whole_on_corrupted_lists(data: bytes, chunk: int, tail: bool) -> None:
    assert _streamed(data, tail, chunk) == _whole(data, tail)


def test_streamed_equals_whole_on_the_real_lists() -> None:
    require_data(IMA_DIR)
    lists = sorted(IMA_DIR.glob("*/binary_runtime_measurements"))
    assert len(lists) >= 4
    for path in lists:
        data = path.read_bytes()
        for chunk in (7, 4096):
            for tail in (False, True):
                assert _streamed(data, tail, chunk) == _whole(data, tail), path


def test_a_cut_last_entry_is_an_error_or_the_tail() -> None:
    require_data(IMA_DIR)
    data = next(iter(sorted(IMA_DIR.glob("*/binary_runtime_measurements")))).read_bytes()
    cut = data[:-3]
    assert _streamed(cut, False, 16)[0] == "error"
    assert _streamed(cut, False, 16) == _whole(cut, False)
    assert _streamed(cut, True, 16) == _whole(cut, True)
