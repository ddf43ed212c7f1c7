"""pcrSelect bitmaps, TPML_PCR_SELECTION, TPML_DIGEST_VALUES and the quote's composite digest.

Sources: TPM 2.0 Part 2 (TPMS_PCR_SELECTION, TPML_PCR_SELECTION, TPMT_HA,
TPML_DIGEST_VALUES; big-endian), ms-tpm-20-ref `PCR.c` (`IsPcrSelected`: bit i of
pcrSelect[j] selects PCR 8j+i; `PCRComputeCurrentDigest`: selections in list order, PCRs
ascending, one hash over the concatenated values). Error rules and codes:
docs/adr/0001-pcr-contract.md. Every length is checked against the bytes that remain
before it is used; a declared count above the limit is refused before anything is read.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from typing import NoReturn

from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import (
    _CONSTRUCTORS,
    DIGEST_SIZES,
    HashAlg,
    require_bytes,
    to_hash_alg,
)
from chainoftrust.impl.pcr import PCR_COUNT, _check_pcr

Selection = tuple[tuple[HashAlg, frozenset[int]], ...]

SIZEOF_SELECT = 3  # PCR_SELECT_MIN = PCR_SELECT_MAX = (24 + 7) // 8 on the PC Client
MAX_LIST_COUNT = len(HashAlg)  # at most one entry per known algorithm (ADR 0001)

_U32 = struct.Struct(">I")
_ENTRY_HEAD = struct.Struct(">HB")  # hash, sizeofSelect
_U16 = struct.Struct(">H")

# PCR indices selected by one byte of pcrSelect, for byte values 0..255.
_BITS_OF_BYTE: tuple[tuple[int, ...], ...] = tuple(
    tuple(bit for bit in range(8) if value >> bit & 1) for value in range(256)
)


def _malformed(code: ErrorCode, message: str, field: str | None, offset: int | None) -> NoReturn:
    raise MalformedInputError(code, message, field=field, offset=offset)


def _pcr_indices(indices: Iterable[int], field: str) -> frozenset[int]:
    if isinstance(indices, str | bytes) or not isinstance(indices, Iterable):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, "PCR indices must be an iterable of int", field=field
        )
    return frozenset(_check_pcr(pcr, field) for pcr in indices)


def encode_pcr_select(indices: Iterable[int]) -> bytes:
    """The 3-byte pcrSelect bitmap of `indices` (bit i of byte j = PCR 8j+i)."""
    mask = 0
    for pcr in _pcr_indices(indices, "indices"):
        mask |= 1 << pcr
    return mask.to_bytes(SIZEOF_SELECT, "little")


def decode_pcr_select(bitmap: bytes) -> frozenset[int]:
    """The PCR indices a 3-byte pcrSelect bitmap selects."""
    bitmap = require_bytes(bitmap, "pcrSelect")
    if len(bitmap) != SIZEOF_SELECT:
        raise MalformedInputError(
            ErrorCode.INVALID_SELECT_SIZE,
            f"pcrSelect has {len(bitmap)} bytes, expected {SIZEOF_SELECT}",
            field="pcrSelect",
        )
    return frozenset(8 * j + bit for j, value in enumerate(bitmap) for bit in _BITS_OF_BYTE[value])


def _entries(items: object, field: str) -> list[tuple[object, object]]:
    """A list of 2-item entries from a sequence, with at most MAX_LIST_COUNT of them."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, f"{field} must be a sequence of pairs", field=field
        )
    entries: list[tuple[object, object]] = []
    for index, entry in enumerate(items):
        if len(entries) >= MAX_LIST_COUNT:
            raise MalformedInputError(
                ErrorCode.TOO_MANY_BANKS,
                f"{field} has more than {MAX_LIST_COUNT} entries",
                field=field,
            )
        try:
            first, second = entry
        except (TypeError, ValueError) as exc:
            raise MalformedInputError(
                ErrorCode.INVALID_DOCUMENT,
                f"{field}[{index}] must be a pair",
                field=f"{field}[{index}]",
            ) from exc
        entries.append((first, second))
    return entries


def marshal_pcr_selection(selection: Iterable[tuple[HashAlg, Iterable[int]]]) -> bytes:
    """TPML_PCR_SELECTION: u32 count, then per entry u16 hash, u8 sizeofSelect (3), pcrSelect."""
    entries = _entries(selection, "selection")
    parts = [_U32.pack(len(entries))]
    for index, (item, pcrs) in enumerate(entries):
        alg = to_hash_alg(item, f"selection[{index}].hash")
        mask = 0
        for pcr in _pcr_indices(pcrs, f"selection[{index}].pcrSelect"):  # type: ignore[arg-type]
            mask |= 1 << pcr
        parts.append(_ENTRY_HEAD.pack(alg, SIZEOF_SELECT))
        parts.append(mask.to_bytes(SIZEOF_SELECT, "little"))
    return b"".join(parts)


def _read_count(data: bytes, what: str) -> int:
    if len(data) < 4:
        _malformed(ErrorCode.TRUNCATED, f"{what}: count needs 4 bytes", "count", 0)
    (count,) = _U32.unpack_from(data, 0)
    if count > MAX_LIST_COUNT:
        _malformed(
            ErrorCode.TOO_MANY_BANKS,
            f"{what}: count {count} exceeds {MAX_LIST_COUNT}",
            "count",
            0,
        )
    return count  # type: ignore[no-any-return]


def _read_hash(data: bytes, offset: int, field: str) -> HashAlg:
    if len(data) - offset < 2:
        _malformed(ErrorCode.TRUNCATED, "hash algorithm needs 2 bytes", field, offset)
    (alg_id,) = _U16.unpack_from(data, offset)
    return to_hash_alg(alg_id, field, offset)


def _check_end(data: bytes, offset: int) -> None:
    if offset != len(data):
        _malformed(
            ErrorCode.TRAILING_BYTES,
            f"{len(data) - offset} bytes after the end of the structure",
            None,
            offset,
        )


def unmarshal_pcr_selection(data: bytes) -> Selection:
    """Parse a TPML_PCR_SELECTION that must fill `data` exactly."""
    data = require_bytes(data, "data")
    count = _read_count(data, "TPML_PCR_SELECTION")
    offset = 4
    result: list[tuple[HashAlg, frozenset[int]]] = []
    for index in range(count):
        where = f"pcrSelections[{index}]"
        alg = _read_hash(data, offset, f"{where}.hash")
        offset += 2
        if len(data) - offset < 1:
            _malformed(
                ErrorCode.TRUNCATED, "sizeofSelect needs 1 byte", f"{where}.sizeofSelect", offset
            )
        size = data[offset]
        if size != SIZEOF_SELECT:
            _malformed(
                ErrorCode.INVALID_SELECT_SIZE,
                f"sizeofSelect is {size}, expected {SIZEOF_SELECT}",
                f"{where}.sizeofSelect",
                offset,
            )
        offset += 1
        if len(data) - offset < SIZEOF_SELECT:
            _malformed(
                ErrorCode.TRUNCATED,
                f"pcrSelect needs {SIZEOF_SELECT} bytes",
                f"{where}.pcrSelect",
                offset,
            )
        result.append((alg, decode_pcr_select(data[offset : offset + SIZEOF_SELECT])))
        offset += SIZEOF_SELECT
    _check_end(data, offset)
    return tuple(result)


def marshal_digest_values(pairs: Iterable[tuple[HashAlg, bytes]]) -> bytes:
    """TPML_DIGEST_VALUES: u32 count, then per entry u16 hashAlg and the digest."""
    entries = _entries(pairs, "digests")
    parts = [_U32.pack(len(entries))]
    for index, (item, raw) in enumerate(entries):
        alg = to_hash_alg(item, f"digests[{index}].hashAlg")
        digest = require_bytes(raw, f"digests[{index}].digest")
        if len(digest) != DIGEST_SIZES[alg]:
            raise MalformedInputError(
                ErrorCode.DIGEST_SIZE_MISMATCH,
                f"{alg.name} digest has {len(digest)} bytes, expected {DIGEST_SIZES[alg]}",
                field=f"digests[{index}].digest",
            )
        parts.append(_U16.pack(alg))
        parts.append(digest)
    return b"".join(parts)


def unmarshal_digest_values(data: bytes) -> tuple[tuple[HashAlg, bytes], ...]:
    """Parse a TPML_DIGEST_VALUES that must fill `data` exactly."""
    data = require_bytes(data, "data")
    count = _read_count(data, "TPML_DIGEST_VALUES")
    offset = 4
    result: list[tuple[HashAlg, bytes]] = []
    for index in range(count):
        alg = _read_hash(data, offset, f"digests[{index}].hashAlg")
        offset += 2
        size = DIGEST_SIZES[alg]
        if len(data) - offset < size:
            _malformed(
                ErrorCode.TRUNCATED,
                f"{alg.name} digest needs {size} bytes",
                f"digests[{index}].digest",
                offset,
            )
        result.append((alg, data[offset : offset + size]))
        offset += size
    _check_end(data, offset)
    return tuple(result)


def compute_composite_digest(
    scheme: HashAlg,
    selection: Sequence[tuple[HashAlg, Iterable[int]]],
    values: Mapping[HashAlg, Mapping[int, bytes]],
) -> bytes:
    """H_scheme of the selected PCR values: entries in list order, PCRs ascending
    (PCRComputeCurrentDigest, the pcrDigest of TPMS_QUOTE_INFO)."""
    hasher = _CONSTRUCTORS[to_hash_alg(scheme, "scheme")]()
    for index, (item, pcrs) in enumerate(_entries(selection, "selection")):
        alg = to_hash_alg(item, f"selection[{index}].hash")
        size = DIGEST_SIZES[alg]
        bank = values.get(alg) if isinstance(values, Mapping) else None
        for pcr in sorted(_pcr_indices(pcrs, f"selection[{index}].pcrSelect")):  # type: ignore[arg-type]
            value = bank.get(pcr) if isinstance(bank, Mapping) else None
            field = f"values[{alg.name}][{pcr}]"
            if value is None:
                raise MalformedInputError(
                    ErrorCode.MISSING_PCR_VALUE, f"no value for {alg.name} PCR {pcr}", field=field
                )
            value = require_bytes(value, field)
            if len(value) != size:
                raise MalformedInputError(
                    ErrorCode.DIGEST_SIZE_MISMATCH,
                    f"{alg.name} PCR {pcr} has {len(value)} bytes, expected {size}",
                    field=field,
                )
            hasher.update(value)
    return hasher.digest()


__all__ = [
    "PCR_COUNT",
    "Selection",
    "compute_composite_digest",
    "decode_pcr_select",
    "encode_pcr_select",
    "marshal_digest_values",
    "marshal_pcr_selection",
    "unmarshal_digest_values",
    "unmarshal_pcr_selection",
]
