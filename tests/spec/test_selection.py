"""chainoftrust.spec.selection against TPM2-P2 layouts, TPM2-P3 TPM2_Quote and hashlib.

Expected byte strings are written out by hand from the TPM2-P2 structure layouts
(big-endian; TPM_ALG_SHA1 = 0x0004, TPM_ALG_SHA256 = 0x000B, TPM_ALG_SHA384 = 0x000C);
composite digests are computed with hashlib from TPM2-P3's definition.
"""

from __future__ import annotations

import hashlib

import pytest
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg
from chainoftrust.spec.pcr import Tpm
from chainoftrust.spec.selection import (
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

SHA1, SHA256, SHA384 = HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384


def raises(code: ErrorCode) -> pytest.RaisesContext[MalformedInputError]:
    return pytest.raises(MalformedInputError, match=code.value)


# --- pcrSelect bitmaps ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("indices", "bitmap"),
    [
        ([], "000000"),
        ([0], "010000"),
        ([7], "800000"),
        ([8], "000100"),
        ([16], "000001"),
        ([23], "000080"),
        ([0, 1, 2, 3, 7], "8f0000"),
        ([0, 7, 8, 15, 16, 23], "818181"),
        (range(24), "ffffff"),
        ([3, 3, 3], "080000"),
    ],
)
def test_bitmap_bit_i_of_octet_j_is_pcr_8j_plus_i(indices: list[int], bitmap: str) -> None:
    assert encode_pcr_select(indices) == bytes.fromhex(bitmap)
    assert decode_pcr_select(bytes.fromhex(bitmap)) == frozenset(indices)


@given(st.frozensets(st.integers(0, 23)))
def test_bitmap_round_trip(indices: frozenset[int]) -> None:
    bitmap = encode_pcr_select(indices)
    assert len(bitmap) == 3
    assert decode_pcr_select(bitmap) == indices
    for pcr in range(24):
        assert bool(bitmap[pcr // 8] >> (pcr % 8) & 1) is (pcr in indices)


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ([-1], ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ([24], ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ([255], ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ([True], ErrorCode.INVALID_DOCUMENT),  # type first: a bool is not an integer
        (["1"], ErrorCode.INVALID_DOCUMENT),
        ([None], ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_encode_rejects_non_pcr_indices(bad: list[object], code: ErrorCode) -> None:
    with raises(code):
        encode_pcr_select(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [b"", b"\x00\x00", b"\x00" * 4, b"\xff" * 32, "ffffff"])
def test_decode_rejects_wrong_size(bad: object) -> None:
    with raises(ErrorCode.INVALID_SELECT_SIZE):
        decode_pcr_select(bad)  # type: ignore[arg-type]


# --- TPML_PCR_SELECTION --------------------------------------------------------------

# count=2 | sha1 0x0004, size 3, PCR 0-7 | sha256 0x000B, size 3, PCR 16 and 23
TWO_BANKS = bytes.fromhex("00000002" + "0004" + "03" + "ff0000" + "000b" + "03" + "000081")
TWO_BANKS_VALUE = ((SHA1, frozenset(range(8))), (SHA256, frozenset({16, 23})))
# Field start offsets of TWO_BANKS: count 0, hash 4, size 6, select 7, hash 10, size 12, select 13.
SELECTION_FIELDS = [0, 4, 6, 7, 10, 12, 13]


def test_marshal_pcr_selection_layout() -> None:
    assert marshal_pcr_selection(TWO_BANKS_VALUE) == TWO_BANKS
    assert marshal_pcr_selection(()) == bytes(4)


def test_unmarshal_pcr_selection_layout() -> None:
    assert unmarshal_pcr_selection(TWO_BANKS) == TWO_BANKS_VALUE
    assert unmarshal_pcr_selection(bytes(4)) == ()


def test_unmarshal_keeps_list_order_and_duplicates() -> None:
    data = bytes.fromhex("00000003" + "000b03010000" + "000403020000" + "000b03040000")
    assert unmarshal_pcr_selection(data) == (
        (SHA256, frozenset({0})),
        (SHA1, frozenset({1})),
        (SHA256, frozenset({2})),
    )


@given(
    st.lists(
        st.tuples(st.sampled_from(list(HashAlg)), st.frozensets(st.integers(0, 23))),
        max_size=8,
    )
)
def test_pcr_selection_round_trip(entries: list[tuple[HashAlg, frozenset[int]]]) -> None:
    selection = tuple(entries)
    data = marshal_pcr_selection(selection)
    assert len(data) == 4 + 6 * len(selection)
    assert unmarshal_pcr_selection(data) == selection


@pytest.mark.parametrize("length", range(len(TWO_BANKS)))
def test_unmarshal_pcr_selection_truncated_at_every_offset(length: int) -> None:
    with raises(ErrorCode.TRUNCATED) as info:
        unmarshal_pcr_selection(TWO_BANKS[:length])
    # the offset is where the incomplete field starts
    assert info.value.offset == max(start for start in SELECTION_FIELDS if start <= length)


@pytest.mark.parametrize("count", [9, 0x100, 0xFFFFFFFF])
def test_unmarshal_pcr_selection_huge_count(count: int) -> None:
    with raises(ErrorCode.TOO_MANY_BANKS) as info:
        unmarshal_pcr_selection(count.to_bytes(4, "big") + TWO_BANKS[4:])
    assert info.value.offset == 0


def test_unmarshal_pcr_selection_eight_entries_is_the_limit() -> None:
    entry = bytes.fromhex("000b03010000")
    assert len(unmarshal_pcr_selection(bytes.fromhex("00000008") + entry * 8)) == 8


@pytest.mark.parametrize("size", [0, 1, 2, 4, 255])
def test_unmarshal_pcr_selection_wrong_size_of_select(size: int) -> None:
    data = bytes.fromhex("00000001000b") + bytes([size]) + bytes(max(size, 3))
    with raises(ErrorCode.INVALID_SELECT_SIZE) as info:
        unmarshal_pcr_selection(data)
    assert info.value.offset == 6


@pytest.mark.parametrize("alg", ["0000", "0005", "0010", "000a", "ffff"])
def test_unmarshal_pcr_selection_unknown_hash(alg: str) -> None:
    with raises(ErrorCode.UNKNOWN_ALGORITHM) as info:
        unmarshal_pcr_selection(bytes.fromhex("00000002000403ff0000" + alg + "03000000"))
    assert info.value.offset == 10


@pytest.mark.parametrize("extra", [b"\x00", b"\xff" * 7])
def test_unmarshal_pcr_selection_trailing_bytes(extra: bytes) -> None:
    with raises(ErrorCode.TRAILING_BYTES) as info:
        unmarshal_pcr_selection(TWO_BANKS + extra)
    assert info.value.offset == len(TWO_BANKS)


def test_unmarshal_rejects_non_bytes() -> None:
    with raises(ErrorCode.INVALID_DOCUMENT):
        unmarshal_pcr_selection(TWO_BANKS.hex())  # type: ignore[arg-type]
    with raises(ErrorCode.INVALID_DOCUMENT):
        unmarshal_digest_values(None)  # type: ignore[arg-type]


def test_marshal_pcr_selection_errors() -> None:
    with raises(ErrorCode.TOO_MANY_BANKS):
        marshal_pcr_selection(((SHA256, frozenset()),) * 9)
    with raises(ErrorCode.UNKNOWN_ALGORITHM):
        marshal_pcr_selection(((0x0010, frozenset()),))  # type: ignore[arg-type]
    with raises(ErrorCode.INVALID_DOCUMENT):
        marshal_pcr_selection((("sha256", frozenset()),))  # type: ignore[arg-type]
    with raises(ErrorCode.INVALID_DOCUMENT):
        marshal_pcr_selection(((True, frozenset()),))  # type: ignore[arg-type]
    with raises(ErrorCode.PCR_INDEX_OUT_OF_RANGE):
        marshal_pcr_selection(((SHA256, frozenset({24})),))


# --- TPML_DIGEST_VALUES --------------------------------------------------------------

D1 = hashlib.sha1(b"a").digest()
D256 = hashlib.sha256(b"a").digest()
DIGESTS = bytes.fromhex("00000002" + "0004") + D1 + bytes.fromhex("000b") + D256
# field starts: count 0, hashAlg 4, digest 6, hashAlg 26, digest 28
DIGEST_FIELDS = [0, 4, 6, 26, 28]


def test_digest_values_layout() -> None:
    assert marshal_digest_values([(SHA1, D1), (SHA256, D256)]) == DIGESTS
    assert unmarshal_digest_values(DIGESTS) == ((SHA1, D1), (SHA256, D256))
    assert marshal_digest_values([]) == bytes(4)
    assert unmarshal_digest_values(bytes(4)) == ()


@given(st.lists(st.sampled_from([HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA512]), max_size=8))
def test_digest_values_round_trip(algs: list[HashAlg]) -> None:
    sizes = {HashAlg.SHA1: 20, HashAlg.SHA256: 32, HashAlg.SHA512: 64}
    pairs = tuple((alg, bytes([index]) * sizes[alg]) for index, alg in enumerate(algs))
    assert unmarshal_digest_values(marshal_digest_values(pairs)) == pairs


@pytest.mark.parametrize("length", range(len(DIGESTS)))
def test_unmarshal_digest_values_truncated_at_every_offset(length: int) -> None:
    with raises(ErrorCode.TRUNCATED) as info:
        unmarshal_digest_values(DIGESTS[:length])
    assert info.value.offset == max(start for start in DIGEST_FIELDS if start <= length)


@pytest.mark.parametrize("count", [9, 0xFFFFFFFF])
def test_unmarshal_digest_values_huge_count(count: int) -> None:
    with raises(ErrorCode.TOO_MANY_BANKS) as info:
        unmarshal_digest_values(count.to_bytes(4, "big"))
    assert info.value.offset == 0


def test_unmarshal_digest_values_unknown_hash_and_trailing() -> None:
    with raises(ErrorCode.UNKNOWN_ALGORITHM) as info:
        unmarshal_digest_values(bytes.fromhex("000000010010") + bytes(32))
    assert info.value.offset == 4
    with raises(ErrorCode.TRAILING_BYTES) as info:
        unmarshal_digest_values(DIGESTS + b"\x00")
    assert info.value.offset == len(DIGESTS)


def test_marshal_digest_values_errors() -> None:
    with raises(ErrorCode.TOO_MANY_BANKS):
        marshal_digest_values([(SHA256, D256)] * 9)
    with raises(ErrorCode.UNKNOWN_ALGORITHM):
        marshal_digest_values([(0x0010, D256)])  # type: ignore[list-item]
    with raises(ErrorCode.DIGEST_SIZE_MISMATCH):
        marshal_digest_values([(SHA256, D1)])
    with raises(ErrorCode.DIGEST_SIZE_MISMATCH):
        marshal_digest_values([(SHA1, D1.hex())])  # type: ignore[list-item]


# --- composite digest (TPM2-P3 18.4 TPM2_Quote pcrDigest) ----------------------------


def _values() -> dict[HashAlg, dict[int, bytes]]:
    return {
        SHA1: {pcr: hashlib.sha1(b"%d" % pcr).digest() for pcr in range(24)},
        SHA256: {pcr: hashlib.sha256(b"%d" % pcr).digest() for pcr in range(24)},
    }


def test_composite_digest_single_bank_ascending() -> None:
    values = _values()
    got = compute_composite_digest(SHA256, ((SHA256, frozenset({7, 0, 4})),), values)
    want = hashlib.sha256(values[SHA256][0] + values[SHA256][4] + values[SHA256][7]).digest()
    assert got == want


def test_composite_digest_multi_bank_in_list_order() -> None:
    values = _values()
    first = ((SHA1, frozenset({1, 0})), (SHA256, frozenset({2})))
    second = ((SHA256, frozenset({2})), (SHA1, frozenset({1, 0})))
    a = values[SHA1][0] + values[SHA1][1]
    b = values[SHA256][2]
    assert compute_composite_digest(SHA256, first, values) == hashlib.sha256(a + b).digest()
    assert compute_composite_digest(SHA256, second, values) == hashlib.sha256(b + a).digest()
    # the scheme's hash, not the banks' hash, makes the composite (TPM2-P3 18.4)
    assert compute_composite_digest(SHA384, first, values) == hashlib.sha384(a + b).digest()


def test_composite_digest_empty_selection() -> None:
    assert compute_composite_digest(SHA256, (), {}) == hashlib.sha256(b"").digest()


def test_composite_digest_over_tpm_values() -> None:
    tpm = Tpm([SHA256])
    tpm.startup("clear", 0)
    bank = tpm.read()[SHA256]
    values = {SHA256: dict(enumerate(bank))}
    got = compute_composite_digest(SHA256, ((SHA256, frozenset({0, 17})),), values)
    assert got == hashlib.sha256(bytes(32) + b"\xff" * 32).digest()


def test_composite_digest_errors() -> None:
    values = _values()
    with raises(ErrorCode.MISSING_PCR_VALUE) as info:
        compute_composite_digest(SHA256, ((SHA384, frozenset({0})),), values)
    assert info.value.field == "values[SHA384][0]"
    del values[SHA256][5]
    with raises(ErrorCode.MISSING_PCR_VALUE):
        compute_composite_digest(SHA256, ((SHA256, frozenset({5})),), values)
    values[SHA256][5] = bytes(20)
    with raises(ErrorCode.DIGEST_SIZE_MISMATCH):
        compute_composite_digest(SHA256, ((SHA256, frozenset({5})),), values)
    with raises(ErrorCode.PCR_INDEX_OUT_OF_RANGE):
        compute_composite_digest(SHA256, ((SHA256, frozenset({24})),), values)
    with raises(ErrorCode.UNKNOWN_ALGORITHM):
        compute_composite_digest(0x0010, (), values)  # type: ignore[arg-type]
    with raises(ErrorCode.UNKNOWN_ALGORITHM):
        compute_composite_digest(SHA256, ((0x0010, frozenset()),), values)  # type: ignore[arg-type]
