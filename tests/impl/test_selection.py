"""impl.selection: pcrSelect bitmaps, TPML_PCR_SELECTION / TPML_DIGEST_VALUES, composite digest.

Expected bytes are written from TPM 2.0 Part 2 (big-endian u32 count, u16 TPM_ALG_ID,
u8 sizeofSelect = 3, pcrSelect with bit i of byte j = PCR 8j+i); composite digests are
hashlib over the concatenation (selections in list order, PCRs ascending).
"""

from __future__ import annotations

import hashlib
import struct
import tracemalloc

import pytest
from chainoftrust.impl.errors import ErrorCode, ImplError, MalformedInputError
from chainoftrust.impl.hashes import HashAlg
from chainoftrust.impl.selection import (
    compute_composite_digest,
    decode_pcr_select,
    encode_pcr_select,
    marshal_digest_values,
    marshal_pcr_selection,
    unmarshal_digest_values,
    unmarshal_pcr_selection,
)
from hypothesis import given
from hypothesis import strategies as st

from tests import strategies

SHA1, SHA256, SHA384 = HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384


def malformed(call: object, code: ErrorCode) -> MalformedInputError:
    with pytest.raises(MalformedInputError) as info:
        call()  # type: ignore[operator]
    assert info.value.code is code
    return info.value


# --- bitmaps --------------------------------------------------------------------------

BITMAPS = [
    (set(), "000000"),
    ({0}, "010000"),
    ({7}, "800000"),
    ({8}, "000100"),
    ({23}, "000080"),
    ({0, 7, 8, 16}, "810101"),
    ({0, 1, 2, 3, 4, 5, 6, 7}, "ff0000"),
    (set(range(24)), "ffffff"),
]


@pytest.mark.parametrize(("pcrs", "hex_bitmap"), BITMAPS)
def test_pcr_select_known_bitmaps(pcrs: set[int], hex_bitmap: str) -> None:
    assert encode_pcr_select(pcrs).hex() == hex_bitmap
    assert encode_pcr_select(sorted(pcrs, reverse=True)).hex() == hex_bitmap
    assert decode_pcr_select(bytes.fromhex(hex_bitmap)) == frozenset(pcrs)


@given(st.frozensets(st.integers(0, 23)))
def test_pcr_select_round_trip(pcrs: frozenset[int]) -> None:
    bitmap = encode_pcr_select(pcrs)
    assert int.from_bytes(bitmap, "little") == sum(1 << p for p in pcrs)
    assert decode_pcr_select(bitmap) == pcrs


@pytest.mark.parametrize("size", [0, 1, 2, 4, 32])
def test_invalid_pcr_select_size(size: int) -> None:
    malformed(lambda: decode_pcr_select(bytes(size)), ErrorCode.INVALID_SELECT_SIZE)


@pytest.mark.parametrize(
    ("pcrs", "code"),
    [
        ([24], ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ([0, -1], ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ([True], ErrorCode.INVALID_DOCUMENT),
        (["1"], ErrorCode.INVALID_DOCUMENT),
        ("123", ErrorCode.INVALID_DOCUMENT),
        (7, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_pcr_indices(pcrs: object, code: ErrorCode) -> None:
    malformed(lambda: encode_pcr_select(pcrs), code)  # type: ignore[arg-type]


# --- TPML_PCR_SELECTION -----------------------------------------------------------------


def selection_bytes(entries: list[tuple[int, int, bytes]]) -> bytes:
    """Part 2 layout written out: count, then (hash, sizeofSelect, pcrSelect)."""
    out = struct.pack(">I", len(entries))
    for alg, size, bitmap in entries:
        out += struct.pack(">HB", alg, size) + bitmap
    return out


def test_marshal_pcr_selection_known_bytes() -> None:
    selection = [(SHA256, {0, 1, 2, 3, 7}), (SHA1, {16, 23})]
    expected = "00000002" + "000b" + "03" + "8f0000" + "0004" + "03" + "000081"
    assert marshal_pcr_selection(selection).hex() == expected
    assert unmarshal_pcr_selection(bytes.fromhex(expected)) == (
        (SHA256, frozenset({0, 1, 2, 3, 7})),
        (SHA1, frozenset({16, 23})),
    )
    assert marshal_pcr_selection([]).hex() == "00000000"
    assert unmarshal_pcr_selection(bytes(4)) == ()


@given(strategies.pcr_selections())
def test_pcr_selection_round_trip(selection: tuple[tuple[int, frozenset[int]], ...]) -> None:
    data = marshal_pcr_selection(selection)  # plain TPM_ALG_ID ints are accepted
    expected = selection_bytes(
        [(alg, 3, sum(1 << p for p in pcrs).to_bytes(3, "little")) for alg, pcrs in selection]
    )
    assert data == expected
    back = unmarshal_pcr_selection(data)
    assert [(int(a), p) for a, p in back] == list(selection)
    assert all(isinstance(a, HashAlg) for a, _ in back)


VALID_SELECTION = selection_bytes(
    [(0x000B, 3, b"\x8f\x00\x00"), (0x0004, 3, b"\x00\x00\x81"), (0x000C, 3, b"\xff\xff\xff")]
)


def selection_field_at(cut: int) -> tuple[str, int]:
    """The field a truncation at `cut` bytes breaks, and where it starts (layout above)."""
    if cut < 4:
        return "count", 0
    index, within = divmod(cut - 4, 6)
    start = 4 + 6 * index
    if within < 2:
        return f"pcrSelections[{index}].hash", start
    if within < 3:
        return f"pcrSelections[{index}].sizeofSelect", start + 2
    return f"pcrSelections[{index}].pcrSelect", start + 3


@pytest.mark.parametrize("cut", range(len(VALID_SELECTION)))
def test_invalid_pcr_selection_truncated_at_every_offset(cut: int) -> None:
    err = malformed(lambda: unmarshal_pcr_selection(VALID_SELECTION[:cut]), ErrorCode.TRUNCATED)
    assert (err.field, err.offset) == selection_field_at(cut)


@pytest.mark.parametrize("extra", [b"\x00", b"\xff" * 7])
def test_invalid_pcr_selection_trailing_bytes(extra: bytes) -> None:
    err = malformed(
        lambda: unmarshal_pcr_selection(VALID_SELECTION + extra), ErrorCode.TRAILING_BYTES
    )
    assert err.offset == len(VALID_SELECTION)


@pytest.mark.parametrize("count", [9, 100, 2**31, 2**32 - 1])
def test_invalid_pcr_selection_giant_count_allocates_nothing(count: int) -> None:
    data = struct.pack(">I", count) + VALID_SELECTION[4:]
    tracemalloc.start()
    try:
        err = malformed(lambda: unmarshal_pcr_selection(data), ErrorCode.TOO_MANY_BANKS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (err.field, err.offset) == ("count", 0)
    assert peak < 64 * 1024


def test_invalid_pcr_selection_count_above_entries() -> None:
    data = struct.pack(">I", 8) + VALID_SELECTION[4:]
    err = malformed(lambda: unmarshal_pcr_selection(data), ErrorCode.TRUNCATED)
    assert err.offset == len(VALID_SELECTION)


@pytest.mark.parametrize("alg", [0x0000, 0x0010, 0x0005, 0x0013, 0xFFFF])
def test_invalid_pcr_selection_unknown_algorithm(alg: int) -> None:
    data = selection_bytes([(0x000B, 3, bytes(3)), (alg, 3, bytes(3))])
    err = malformed(lambda: unmarshal_pcr_selection(data), ErrorCode.UNKNOWN_ALGORITHM)
    assert (err.field, err.offset) == ("pcrSelections[1].hash", 10)
    malformed(lambda: marshal_pcr_selection([(alg, {0})]), ErrorCode.UNKNOWN_ALGORITHM)


@pytest.mark.parametrize("size", [0, 1, 2, 4, 255])
def test_invalid_pcr_selection_select_size(size: int) -> None:
    data = selection_bytes([(0x000B, size, bytes(size))])
    err = malformed(lambda: unmarshal_pcr_selection(data), ErrorCode.INVALID_SELECT_SIZE)
    assert (err.field, err.offset) == ("pcrSelections[0].sizeofSelect", 6)


def test_invalid_marshal_pcr_selection() -> None:
    nine = [(SHA256, {0})] * 9
    malformed(lambda: marshal_pcr_selection(nine), ErrorCode.TOO_MANY_BANKS)
    malformed(lambda: marshal_pcr_selection([(SHA256, {24})]), ErrorCode.PCR_INDEX_OUT_OF_RANGE)
    malformed(lambda: marshal_pcr_selection([(SHA256,)]), ErrorCode.INVALID_DOCUMENT)
    malformed(lambda: marshal_pcr_selection(None), ErrorCode.INVALID_DOCUMENT)  # type: ignore[arg-type]


@given(strategies.marshalled_pcr_selections())
def test_hostile_pcr_selections_fail_closed(data: bytes) -> None:
    try:
        selection = unmarshal_pcr_selection(data)
    except ImplError as err:
        assert err.code in {
            ErrorCode.TRUNCATED,
            ErrorCode.TRAILING_BYTES,
            ErrorCode.TOO_MANY_BANKS,
            ErrorCode.UNKNOWN_ALGORITHM,
            ErrorCode.INVALID_SELECT_SIZE,
        }
        assert err.offset is not None and 0 <= err.offset <= len(data)
    else:
        assert marshal_pcr_selection(selection) == data


# --- TPML_DIGEST_VALUES -----------------------------------------------------------------

D1 = hashlib.sha1(b"one").digest()
D256 = hashlib.sha256(b"two").digest()
VALID_DIGESTS = struct.pack(">IH", 2, 0x0004) + D1 + struct.pack(">H", 0x000B) + D256


def test_marshal_digest_values_known_bytes() -> None:
    assert marshal_digest_values([(SHA1, D1), (SHA256, D256)]) == VALID_DIGESTS
    assert unmarshal_digest_values(VALID_DIGESTS) == ((SHA1, D1), (SHA256, D256))
    assert marshal_digest_values([]) == bytes(4)
    assert unmarshal_digest_values(bytes(4)) == ()


@given(strategies.digest_value_lists())
def test_digest_values_round_trip(pairs: tuple[tuple[int, bytes], ...]) -> None:
    data = marshal_digest_values(pairs)
    expected = struct.pack(">I", len(pairs))
    for alg, digest in pairs:
        expected += struct.pack(">H", alg) + digest
    assert data == expected
    assert [(int(a), d) for a, d in unmarshal_digest_values(data)] == list(pairs)


def digest_field_at(cut: int) -> tuple[str, int]:
    if cut < 4:
        return "count", 0
    if cut < 6:
        return "digests[0].hashAlg", 4
    if cut < 26:
        return "digests[0].digest", 6
    if cut < 28:
        return "digests[1].hashAlg", 26
    return "digests[1].digest", 28


@pytest.mark.parametrize("cut", range(len(VALID_DIGESTS)))
def test_invalid_digest_values_truncated_at_every_offset(cut: int) -> None:
    err = malformed(lambda: unmarshal_digest_values(VALID_DIGESTS[:cut]), ErrorCode.TRUNCATED)
    assert (err.field, err.offset) == digest_field_at(cut)


def test_invalid_digest_values_structure() -> None:
    err = malformed(
        lambda: unmarshal_digest_values(VALID_DIGESTS + b"\x00"), ErrorCode.TRAILING_BYTES
    )
    assert err.offset == len(VALID_DIGESTS)
    for count in (9, 2**32 - 1):
        data = struct.pack(">I", count) + VALID_DIGESTS[4:]
        err = malformed(lambda d=data: unmarshal_digest_values(d), ErrorCode.TOO_MANY_BANKS)
        assert err.offset == 0
    data = struct.pack(">IH", 1, 0x0010) + bytes(32)
    err = malformed(lambda: unmarshal_digest_values(data), ErrorCode.UNKNOWN_ALGORITHM)
    assert (err.field, err.offset) == ("digests[0].hashAlg", 4)


def test_invalid_marshal_digest_values() -> None:
    malformed(lambda: marshal_digest_values([(SHA256, D1)]), ErrorCode.DIGEST_SIZE_MISMATCH)
    malformed(lambda: marshal_digest_values([(0x0010, D256)]), ErrorCode.UNKNOWN_ALGORITHM)
    malformed(lambda: marshal_digest_values([(SHA1, D1)] * 9), ErrorCode.TOO_MANY_BANKS)
    malformed(lambda: marshal_digest_values([(SHA1, D1.hex())]), ErrorCode.INVALID_DOCUMENT)


@given(strategies.marshalled_digest_values())
def test_hostile_digest_values_fail_closed(data: bytes) -> None:
    try:
        pairs = unmarshal_digest_values(data)
    except ImplError as err:
        assert err.code in {
            ErrorCode.TRUNCATED,
            ErrorCode.TRAILING_BYTES,
            ErrorCode.TOO_MANY_BANKS,
            ErrorCode.UNKNOWN_ALGORITHM,
        }
        assert err.offset is not None and 0 <= err.offset <= len(data)
    else:
        assert marshal_digest_values(pairs) == data


# --- composite digest -------------------------------------------------------------------


def bank_values(alg: HashAlg, size: int) -> dict[int, bytes]:
    return {pcr: hashlib.sha512(bytes([alg, pcr])).digest()[:size] for pcr in range(24)}


VALUES = {SHA1: bank_values(SHA1, 20), SHA256: bank_values(SHA256, 32)}


def test_composite_digest_order() -> None:
    selection = [(SHA256, {7, 0, 4}), (SHA1, {1})]
    concat = VALUES[SHA256][0] + VALUES[SHA256][4] + VALUES[SHA256][7] + VALUES[SHA1][1]
    assert compute_composite_digest(SHA256, selection, VALUES) == hashlib.sha256(concat).digest()
    assert compute_composite_digest(SHA384, selection, VALUES) == hashlib.sha384(concat).digest()
    swapped = [(SHA1, {1}), (SHA256, {0, 4, 7})]
    concat2 = VALUES[SHA1][1] + VALUES[SHA256][0] + VALUES[SHA256][4] + VALUES[SHA256][7]
    assert compute_composite_digest(SHA256, swapped, VALUES) == hashlib.sha256(concat2).digest()
    assert compute_composite_digest(SHA256, [], VALUES) == hashlib.sha256(b"").digest()


def test_composite_digest_of_startup_zeros() -> None:
    # PCR 0..7 after Startup(CLEAR) at locality 0 are all zero: H(8 x 32 zero bytes).
    zeros = {SHA256: dict.fromkeys(range(8), bytes(32))}
    expected = hashlib.sha256(bytes(8 * 32)).digest()
    assert compute_composite_digest(SHA256, [(SHA256, set(range(8)))], zeros) == expected


def test_invalid_composite_digest() -> None:
    err = malformed(
        lambda: compute_composite_digest(SHA256, [(SHA384, {0})], VALUES),
        ErrorCode.MISSING_PCR_VALUE,
    )
    assert err.field == "values[SHA384][0]"
    partial = {SHA256: {0: bytes(32)}}
    malformed(
        lambda: compute_composite_digest(SHA256, [(SHA256, {0, 1})], partial),
        ErrorCode.MISSING_PCR_VALUE,
    )
    wrong = {SHA256: {0: bytes(20)}}
    malformed(
        lambda: compute_composite_digest(SHA256, [(SHA256, {0})], wrong),
        ErrorCode.DIGEST_SIZE_MISMATCH,
    )
    malformed(
        lambda: compute_composite_digest(0x0010, [(SHA256, {0})], VALUES),  # type: ignore[arg-type]
        ErrorCode.UNKNOWN_ALGORITHM,
    )
    malformed(
        lambda: compute_composite_digest(SHA256, [(SHA256, {24})], VALUES),
        ErrorCode.PCR_INDEX_OUT_OF_RANGE,
    )
