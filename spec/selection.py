"""PCR selections and tagged digest lists: bitmaps, marshalling, composite digest.

Spec: TPM2-P2 TPMS_PCR_SELECTION, TPML_PCR_SELECTION, TPMT_HA, TPML_DIGEST_VALUES
(big-endian), and TPM2-P3 18.4 TPM2_Quote / MSREF PCR.c PCRComputeCurrentDigest.
Every length is checked; an error names the field and the byte offset where it starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, TypeGuard

from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size

#: A TPML_PCR_SELECTION: (bank, selected PCR indices) in list order.
Selection = tuple[tuple[HashAlg, frozenset[int]], ...]

#: MSREF TpmProfile.h IMPLEMENTATION_PCR / PTP: 24 PCRs per bank.
PCR_COUNT: Final = 24
#: TPM2-P2 TPMS_PCR_SELECTION: PCR_SELECT_MIN = PCR_SELECT_MAX = (24 + 7) / 8 octets.
PCR_SELECT_SIZE: Final = 3
#: TPM2-P2 TPML_PCR_SELECTION / TPML_DIGEST_VALUES: count <= HASH_COUNT, the hash
#: algorithms known here (TCG-ALG: the eight HashAlg members).
MAX_LIST_COUNT: Final = 8


def _is_int(value: object) -> TypeGuard[int]:
    """True for a Python int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_type(field: str, wanted: str) -> MalformedInputError:
    """PROJECT adr.0001: a wrong type (a bool is not an integer) is INVALID_DOCUMENT."""
    return MalformedInputError(ErrorCode.INVALID_DOCUMENT, f"{field} must be {wanted}", field=field)


def _alg_from_id(value: object, field: str, offset: int | None = None) -> HashAlg:
    """TPM2-P2 TPMI_ALG_HASH: an int (INVALID_DOCUMENT), a known hash (UNKNOWN_ALGORITHM)."""
    if not _is_int(value):
        raise _wrong_type(field, "a TPM_ALG_ID")
    try:
        return HashAlg(value)
    except ValueError as err:
        raise MalformedInputError(
            ErrorCode.UNKNOWN_ALGORITHM,
            f"{value!r} is not a known hash TPM_ALG_ID",
            field=field,
            offset=offset,
        ) from err


def _digest_of_size(alg: HashAlg, value: object, field: str) -> bytes:
    """TPM2-P2 TPMU_HA: a digest is exactly digest_size(alg) octets."""
    if not isinstance(value, bytes) or len(value) != digest_size(alg):
        raise MalformedInputError(
            ErrorCode.DIGEST_SIZE_MISMATCH,
            f"{field} is not a {digest_size(alg)}-octet {alg.name} digest",
            field=field,
        )
    return value


class _Reader:
    """Reads big-endian fields from a byte string, never past its end."""

    def __init__(self, data: bytes) -> None:
        if not isinstance(data, bytes):
            raise MalformedInputError(ErrorCode.INVALID_DOCUMENT, "input must be bytes")
        self.data = data
        self.offset = 0

    def take(self, size: int, field: str) -> bytes:
        """The next `size` octets, or TRUNCATED at the offset where the field starts."""
        if len(self.data) - self.offset < size:
            raise MalformedInputError(
                ErrorCode.TRUNCATED,
                f"{field} needs {size} octets, {len(self.data) - self.offset} left",
                field=field,
                offset=self.offset,
            )
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def uint(self, size: int, field: str) -> int:
        """An unsigned big-endian integer of `size` octets (TPM2-P2 UINT8/16/32)."""
        return int.from_bytes(self.take(size, field), "big")

    def count(self) -> int:
        """TPM2-P2 TPML_*.count: a UINT32 at most HASH_COUNT, else TOO_MANY_BANKS."""
        start = self.offset
        count = self.uint(4, "count")
        if count > MAX_LIST_COUNT:
            raise MalformedInputError(
                ErrorCode.TOO_MANY_BANKS,
                f"count {count} is more than {MAX_LIST_COUNT}",
                field="count",
                offset=start,
            )
        return count

    def hash_alg(self, field: str) -> HashAlg:
        """TPM2-P2 TPMI_ALG_HASH: a UINT16 that names a known hash."""
        start = self.offset
        return _alg_from_id(self.uint(2, field), field, start)

    def finish(self) -> None:
        """No octet may follow the structure: else TRAILING_BYTES at the first extra one."""
        if self.offset != len(self.data):
            raise MalformedInputError(
                ErrorCode.TRAILING_BYTES,
                f"{len(self.data) - self.offset} octets after the structure",
                offset=self.offset,
            )


def encode_pcr_select(indices: Iterable[int]) -> bytes:
    """Spec: TPM2-P2 TPMS_PCR_SELECTION - the pcrSelect bitmap: bit i of octet j is PCR 8j+i.

    Steps:
      (1) every index is an int (INVALID_DOCUMENT) naming a PCR, 0..23
          (PCR_INDEX_OUT_OF_RANGE);
      (2) set bit (index mod 8) of octet (index div 8).
    """
    bitmap = bytearray(PCR_SELECT_SIZE)
    for index in indices:
        # (1)
        if not _is_int(index):
            raise _wrong_type("pcrSelect", "a set of integers")
        if not 0 <= index < PCR_COUNT:
            raise MalformedInputError(
                ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR index {index!r} is not in 0..23"
            )
        # (2)
        bitmap[index // 8] |= 1 << (index % 8)
    return bytes(bitmap)


def decode_pcr_select(bitmap: bytes) -> frozenset[int]:
    """Spec: TPM2-P2 TPMS_PCR_SELECTION - the PCR indices a 3-octet pcrSelect selects.

    Steps:
      (1) the bitmap is PCR_SELECT_SIZE (3) octets, else INVALID_SELECT_SIZE;
      (2) PCR 8j+i is selected when bit i of octet j is set.
    """
    # (1)
    if not isinstance(bitmap, bytes) or len(bitmap) != PCR_SELECT_SIZE:
        raise MalformedInputError(
            ErrorCode.INVALID_SELECT_SIZE, "pcrSelect must be 3 octets", field="pcrSelect"
        )
    # (2)
    return frozenset(
        8 * octet + bit
        for octet in range(PCR_SELECT_SIZE)
        for bit in range(8)
        if bitmap[octet] >> bit & 1
    )


def marshal_pcr_selection(selection: Selection) -> bytes:
    """Spec: TPM2-P2 TPML_PCR_SELECTION - u32 count, then per entry u16 hash, u8 3, pcrSelect.

    Steps:
      (1) at most MAX_LIST_COUNT entries, else TOO_MANY_BANKS;
      (2) each entry: a known hash, sizeofSelect = 3, the bitmap of its indices.
    """
    entries = list(selection)
    # (1)
    if len(entries) > MAX_LIST_COUNT:
        raise MalformedInputError(
            ErrorCode.TOO_MANY_BANKS, f"{len(entries)} selections, at most {MAX_LIST_COUNT}"
        )
    out = len(entries).to_bytes(4, "big")
    # (2)
    for index, (alg, indices) in enumerate(entries):
        hash_alg = _alg_from_id(alg, f"pcrSelections[{index}].hash")
        out += hash_alg.to_bytes(2, "big") + bytes([PCR_SELECT_SIZE]) + encode_pcr_select(indices)
    return out


def unmarshal_pcr_selection(data: bytes) -> Selection:
    """Spec: TPM2-P2 TPML_PCR_SELECTION - parse u32 count, then count TPMS_PCR_SELECTION.

    Steps (MSREF Marshal.c TPML_PCR_SELECTION_Unmarshal, TPMS_PCR_SELECTION_Unmarshal):
      (1) count (4 octets), at most MAX_LIST_COUNT, else TOO_MANY_BANKS;
      (2) per entry: hash (2 octets, a known hash), sizeofSelect (1 octet, must be 3,
          else INVALID_SELECT_SIZE), pcrSelect (sizeofSelect octets);
      (3) nothing may follow, else TRAILING_BYTES.
    Short input at any field is TRUNCATED with the offset where that field starts.
    """
    reader = _Reader(data)
    # (1)
    count = reader.count()
    # (2)
    entries: list[tuple[HashAlg, frozenset[int]]] = []
    for index in range(count):
        alg = reader.hash_alg(f"pcrSelections[{index}].hash")
        size_offset = reader.offset
        size = reader.uint(1, f"pcrSelections[{index}].sizeofSelect")
        if size != PCR_SELECT_SIZE:
            raise MalformedInputError(
                ErrorCode.INVALID_SELECT_SIZE,
                f"sizeofSelect is {size}, this platform needs {PCR_SELECT_SIZE}",
                field=f"pcrSelections[{index}].sizeofSelect",
                offset=size_offset,
            )
        bitmap = reader.take(size, f"pcrSelections[{index}].pcrSelect")
        entries.append((alg, decode_pcr_select(bitmap)))
    # (3)
    reader.finish()
    return tuple(entries)


def marshal_digest_values(pairs: Sequence[tuple[HashAlg, bytes]]) -> bytes:
    """Spec: TPM2-P2 TPML_DIGEST_VALUES - u32 count, then per entry TPMT_HA (u16 hashAlg, digest).

    Steps:
      (1) at most MAX_LIST_COUNT entries, else TOO_MANY_BANKS;
      (2) each entry: a known hash and a digest of exactly its size.
    """
    entries = list(pairs)
    # (1)
    if len(entries) > MAX_LIST_COUNT:
        raise MalformedInputError(
            ErrorCode.TOO_MANY_BANKS, f"{len(entries)} digests, at most {MAX_LIST_COUNT}"
        )
    out = len(entries).to_bytes(4, "big")
    # (2)
    for index, (alg, digest) in enumerate(entries):
        hash_alg = _alg_from_id(alg, f"digests[{index}].hashAlg")
        out += hash_alg.to_bytes(2, "big") + _digest_of_size(
            hash_alg, digest, f"digests[{index}].digest"
        )
    return out


def unmarshal_digest_values(data: bytes) -> tuple[tuple[HashAlg, bytes], ...]:
    """Spec: TPM2-P2 TPML_DIGEST_VALUES - parse u32 count, then count TPMT_HA.

    Steps (MSREF Marshal.c TPML_DIGEST_VALUES_Unmarshal, TPMT_HA_Unmarshal):
      (1) count (4 octets), at most MAX_LIST_COUNT, else TOO_MANY_BANKS;
      (2) per entry: hashAlg (2 octets, a known hash), digest (digest_size(hashAlg) octets);
      (3) nothing may follow, else TRAILING_BYTES.
    Short input at any field is TRUNCATED with the offset where that field starts.
    """
    reader = _Reader(data)
    # (1)
    count = reader.count()
    # (2)
    entries: list[tuple[HashAlg, bytes]] = []
    for index in range(count):
        alg = reader.hash_alg(f"digests[{index}].hashAlg")
        entries.append((alg, reader.take(digest_size(alg), f"digests[{index}].digest")))
    # (3)
    reader.finish()
    return tuple(entries)


def compute_composite_digest(
    scheme: HashAlg, selection: Selection, values: Mapping[HashAlg, Mapping[int, bytes]]
) -> bytes:
    """Spec: TPM2-P3 18.4 TPM2_Quote - pcrDigest: H_scheme of the selected PCR values.

    Steps (MSREF PCR.c PCRComputeCurrentDigest):
      (1) the scheme is a known hash;
      (2) for each selection entry in list order, for each selected PCR in ascending
          order, take that bank's value (MISSING_PCR_VALUE if absent; it must be a
          digest of the bank's size);
      (3) hash the concatenation with the scheme's hash.
    """
    # (1)
    scheme_alg = _alg_from_id(scheme, "scheme")
    # (2)
    concatenation = b""
    for index, (alg, indices) in enumerate(selection):
        bank = _alg_from_id(alg, f"selection[{index}].hash")
        for pcr in sorted(_selected_indices(indices)):
            value = values.get(bank, {}).get(pcr)
            if value is None:
                raise MalformedInputError(
                    ErrorCode.MISSING_PCR_VALUE,
                    f"no {bank.name} value for selected PCR {pcr}",
                    field=f"values[{bank.name}][{pcr}]",
                )
            concatenation += _digest_of_size(bank, value, f"values[{bank.name}][{pcr}]")
    # (3)
    return compute_digest(scheme_alg, concatenation)


def _selected_indices(indices: Iterable[int]) -> frozenset[int]:
    """TPM2-P2 TPMS_PCR_SELECTION: the PCR set a pcrSelect bitmap can carry.

    Round-trips the indices through the 3-octet bitmap, so that an index a bitmap
    cannot hold (outside 0..23) is PCR_INDEX_OUT_OF_RANGE, never silently dropped.
    """
    return decode_pcr_select(encode_pcr_select(indices))
