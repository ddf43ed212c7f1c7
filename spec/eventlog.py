"""TCG PC Client event logs: parse (SHA-1 and crypto-agile), replay, check event data, verify.

Spec: PFP "Event Logging" (TCG_PCR_EVENT, TCG_PCR_EVENT2, TCG_EfiSpecIdEvent,
TCG_EfiStartupLocalityEvent, the Events table) with the replay rules of
docs/adr/0002-eventlog-contract.md (PROJECT adr.0002). The names, codes and JSON
shapes are that ADR's contract; `chainoftrust.impl.eventlog` is read independently.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec import _uefi
from chainoftrust.spec._uefi import JsonObject, u16, u32
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    compute_digest,
    digest_size,
    hash_alg_from_name,
    hash_alg_name,
)

#: PFP TCG_EfiSpecIdEvent.signature of a crypto-agile log (16 octets, NUL-terminated).
SPEC_ID_SIGNATURE: Final = b"Spec ID Event03\x00"
#: PFP TCG_PCR_EVENT: PCRIndex(4) + EventType(4) + Digest(20, SHA-1) + EventSize(4).
SHA1_EVENT_HEADER_SIZE: Final = 32
#: PFP TCG_EfiSpecIdEvent: signature 16, platformClass 4, 3 version octets, uintnSize 1, count 4.
SPEC_ID_FIXED_SIZE: Final = 28
#: PTP / MSREF IMPLEMENTATION_PCR: a PC Client TPM has PCR 0..23.
PCR_COUNT: Final = 24
#: PTP "PCR Initial and Reset Values": PCRs 17-22 (reset by locality 4) start all 0xFF.
DRTM_PCRS: Final = frozenset(range(17, 23))
#: PFP "Startup Locality Event": TPM2_Startup at locality 0 or 3; 4 marks an H-CRTM.
STARTUP_LOCALITIES: Final = (0, 3, 4)
HCRTM_LOCALITY: Final = 4
#: PFP EV_SEPARATOR: the error value (UINT32 1) and 0xFFFFFFFF (ADR 0002) mark an error.
SEPARATOR_ERROR_VALUES: Final = (b"\x01\x00\x00\x00", b"\xff\xff\xff\xff")


class EventType(enum.IntEnum):
    """Spec: PFP Events table - event type codes (RESEARCH.md A.4; ADR 0002)."""

    EV_PREBOOT_CERT = 0x00000000
    EV_POST_CODE = 0x00000001
    EV_UNUSED = 0x00000002
    EV_NO_ACTION = 0x00000003
    EV_SEPARATOR = 0x00000004
    EV_ACTION = 0x00000005
    EV_EVENT_TAG = 0x00000006
    EV_S_CRTM_CONTENTS = 0x00000007
    EV_S_CRTM_VERSION = 0x00000008
    EV_CPU_MICROCODE = 0x00000009
    EV_PLATFORM_CONFIG_FLAGS = 0x0000000A
    EV_TABLE_OF_DEVICES = 0x0000000B
    EV_COMPACT_HASH = 0x0000000C
    EV_IPL = 0x0000000D
    EV_IPL_PARTITION_DATA = 0x0000000E
    EV_NONHOST_CODE = 0x0000000F
    EV_NONHOST_CONFIG = 0x00000010
    EV_NONHOST_INFO = 0x00000011
    EV_OMIT_BOOT_DEVICE_EVENTS = 0x00000012
    EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001
    EV_EFI_VARIABLE_BOOT = 0x80000002
    EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
    EV_EFI_BOOT_SERVICES_DRIVER = 0x80000004
    EV_EFI_RUNTIME_SERVICES_DRIVER = 0x80000005
    EV_EFI_GPT_EVENT = 0x80000006
    EV_EFI_ACTION = 0x80000007
    EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000008
    EV_EFI_HANDOFF_TABLES = 0x80000009
    EV_EFI_PLATFORM_FIRMWARE_BLOB2 = 0x8000000A
    EV_EFI_HANDOFF_TABLES2 = 0x8000000B
    EV_EFI_VARIABLE_BOOT2 = 0x8000000C
    EV_EFI_GPT_EVENT2 = 0x8000000D
    EV_EFI_HCRTM_EVENT = 0x80000010
    EV_EFI_VARIABLE_AUTHORITY = 0x800000E0
    EV_EFI_SPDM_FIRMWARE_BLOB = 0x800000E1
    EV_EFI_SPDM_FIRMWARE_CONFIG = 0x800000E2
    EV_EFI_SPDM_DEVICE_POLICY = 0x800000E3
    EV_EFI_SPDM_DEVICE_AUTHORITY = 0x800000E4


_T = EventType
#: PFP Events table: the PCRs (of 0-7, the firmware's) where the PFP places each type.
#: PCRs 8-23 belong to the OS and are not checked (ADR 0002 amendment 1.4). EV_NO_ACTION
#: never extends and types in UNRESTRICTED_TYPES may be in any PCR: neither is checked.
PFP_PCRS: Final[Mapping[EventType, frozenset[int]]] = {
    _T.EV_POST_CODE: frozenset({0}),
    _T.EV_SEPARATOR: frozenset(range(8)),
    _T.EV_ACTION: frozenset(range(1, 7)),
    _T.EV_S_CRTM_CONTENTS: frozenset({0}),
    _T.EV_S_CRTM_VERSION: frozenset({0}),
    _T.EV_CPU_MICROCODE: frozenset({1}),
    _T.EV_PLATFORM_CONFIG_FLAGS: frozenset({1}),
    _T.EV_TABLE_OF_DEVICES: frozenset({1}),
    _T.EV_COMPACT_HASH: frozenset({4, 5, 6, 7}),
    _T.EV_IPL_PARTITION_DATA: frozenset({5}),
    _T.EV_NONHOST_CODE: frozenset({0, 2}),
    _T.EV_NONHOST_CONFIG: frozenset({1, 3}),
    _T.EV_NONHOST_INFO: frozenset({0}),
    _T.EV_OMIT_BOOT_DEVICE_EVENTS: frozenset({4}),
    _T.EV_EFI_VARIABLE_DRIVER_CONFIG: frozenset({1, 3, 5, 7}),
    _T.EV_EFI_VARIABLE_BOOT: frozenset({1}),
    _T.EV_EFI_BOOT_SERVICES_APPLICATION: frozenset({2, 4}),
    _T.EV_EFI_BOOT_SERVICES_DRIVER: frozenset({0, 2}),
    _T.EV_EFI_RUNTIME_SERVICES_DRIVER: frozenset({0, 2}),
    _T.EV_EFI_GPT_EVENT: frozenset({5}),
    _T.EV_EFI_ACTION: frozenset(range(1, 8)),
    _T.EV_EFI_PLATFORM_FIRMWARE_BLOB: frozenset({0, 2, 4}),
    _T.EV_EFI_HANDOFF_TABLES: frozenset({1}),
    _T.EV_EFI_PLATFORM_FIRMWARE_BLOB2: frozenset({0, 2, 4}),
    _T.EV_EFI_HANDOFF_TABLES2: frozenset({1}),
    _T.EV_EFI_VARIABLE_BOOT2: frozenset({1}),
    _T.EV_EFI_GPT_EVENT2: frozenset({5}),
    _T.EV_EFI_HCRTM_EVENT: frozenset({0}),
    _T.EV_EFI_VARIABLE_AUTHORITY: frozenset({7}),
    _T.EV_EFI_SPDM_FIRMWARE_BLOB: frozenset({0, 2}),
    _T.EV_EFI_SPDM_FIRMWARE_CONFIG: frozenset({1, 3}),
    _T.EV_EFI_SPDM_DEVICE_POLICY: frozenset({7}),
    _T.EV_EFI_SPDM_DEVICE_AUTHORITY: frozenset({7}),
}
#: ADR 0002 amendment 1.4: types the PFP lets any PCR take (no UNEXPECTED_PCR).
UNRESTRICTED_TYPES: Final = frozenset(
    {_T.EV_PREBOOT_CERT, _T.EV_UNUSED, _T.EV_EVENT_TAG, _T.EV_IPL, _T.EV_NO_ACTION}
)
#: PFP: PCR 7's Secure Boot policy (EV_EFI_VARIABLE_DRIVER_CONFIG) precedes its
#: EV_SEPARATOR; ADR 0002 amendment 1.1 flags it after (and a second separator anywhere).
SECURE_BOOT_POLICY_PCR: Final = 7
#: ADR 0002 amendment 1.2: the types whose digests check_event_data recomputes.
CHECKED_TYPES: Final = frozenset(
    {
        _T.EV_SEPARATOR,
        _T.EV_EFI_VARIABLE_DRIVER_CONFIG,
        _T.EV_EFI_VARIABLE_BOOT,
        _T.EV_EFI_VARIABLE_BOOT2,
        _T.EV_EFI_VARIABLE_AUTHORITY,
        _T.EV_EFI_ACTION,
        _T.EV_ACTION,
        _T.EV_EFI_GPT_EVENT,
        _T.EV_OMIT_BOOT_DEVICE_EVENTS,
    }
)
#: ADR 0002 amendment 1.3: the quirk names DataCheck reports.
QUIRK_VARIABLE_BOOT_WHOLE_DATA: Final = "efi_variable_boot_whole_data"
QUIRK_VARIABLE_BOOT2_DATA_ONLY: Final = "efi_variable_boot2_data_only"
QUIRK_AUTHORITY_TRAILING_BYTE: Final = "efi_variable_authority_trailing_byte"
#: ADR 0002 rule 7: the findings strict mode turns into errors.
STRICT_CODES: Final = frozenset(
    {
        ErrorCode.UNKNOWN_EVENT_TYPE,
        ErrorCode.UNEXPECTED_PCR,
        ErrorCode.EVENT_AFTER_SEPARATOR,
        ErrorCode.DATA_DIGEST_MISMATCH,
        ErrorCode.MISSING_BANK_DIGEST,
        ErrorCode.STARTUP_LOCALITY_AFTER_EXTEND,
        ErrorCode.DUPLICATE_STARTUP_LOCALITY,
        ErrorCode.PCR_OUT_OF_RANGE,
    }
)


def _alg_label(alg_id: int) -> str:
    """A digest algorithm's name (tpm2-tools style), or 0xNNNN when we do not know it."""
    if alg_id in HashAlg._value2member_map_:
        return hash_alg_name(HashAlg(alg_id))
    return f"0x{alg_id:04x}"


def _type_name(event_type: int) -> str:
    """The PFP name of an event type, or UNKNOWN."""
    if event_type in EventType._value2member_map_:
        return EventType(event_type).name
    return "UNKNOWN"


@dataclass(frozen=True, slots=True)
class SpecIdEvent:
    """PFP TCG_EfiSpecIdEvent: the crypto-agile log's header data."""

    platform_class: int
    spec_version_minor: int
    spec_version_major: int
    spec_errata: int
    uintn_size: int
    algorithms: tuple[tuple[int, int], ...]  # (algorithmId, digestSize), in log order
    vendor_info: bytes

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 "Parsed data" - the `spec_id` JSON of TCG_EfiSpecIdEvent."""
        return {
            "kind": "spec_id",
            "platformClass": self.platform_class,
            "specVersion": f"{self.spec_version_major}.{self.spec_version_minor}."
            f"{self.spec_errata}",
            "uintnSize": self.uintn_size,
            "algorithms": [
                {"alg": _alg_label(alg), "digestSize": size} for alg, size in self.algorithms
            ],
        }


@dataclass(frozen=True, slots=True)
class EventLogEntry:
    """One record of the log: TCG_PCR_EVENT (SHA-1) or TCG_PCR_EVENT2 (crypto-agile)."""

    index: int
    offset: int
    pcr: int
    event_type: int
    digests: tuple[tuple[int, bytes], ...]  # (TPM_ALG_ID, digest), in log order
    data: bytes
    parsed: JsonObject | None

    @property
    def type_name(self) -> str:
        """Spec: PFP Events table - the event type's name (`EV_...`), or UNKNOWN."""
        return _type_name(self.event_type)

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 "Parsed data" - the event JSON."""
        return {
            "index": self.index,
            "offset": self.offset,
            "pcr": self.pcr,
            "type": self.event_type,
            "typeName": self.type_name,
            "digests": [{"alg": _alg_label(a), "digest": d.hex()} for a, d in self.digests],
            "data": self.data.hex(),
            "parsed": self.parsed,
        }


@dataclass(frozen=True, slots=True)
class EventLog:
    """A parsed event log: its format, its Spec ID event (crypto-agile) and every record."""

    format: str
    spec_id: SpecIdEvent | None
    events: tuple[EventLogEntry, ...]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 amendment 1.8 - the EventLog JSON (format, specId, events)."""
        return {
            "format": self.format,
            "specId": None if self.spec_id is None else self.spec_id.to_json(),
            "events": [event.to_json() for event in self.events],
        }


def _truncated(what: str, need: int, have: int, *, field: str, offset: int) -> MalformedInputError:
    """TRUNCATED: a declared size or count asks for more octets than remain."""
    return MalformedInputError(
        ErrorCode.TRUNCATED,
        f"{what} needs {need} octets, {have} remain",
        field=field,
        offset=offset,
    )


def _take(data: bytes, pos: int, size: int, *, field: str, offset: int) -> bytes:
    """Spec: PFP TCG_PCR_EVENT2 - read `size` octets at `pos`, checked before use."""
    have = len(data) - pos
    if size > have:
        raise _truncated(field, size, have, field=field, offset=offset)
    return data[pos : pos + size]


def _is_crypto_agile(data: bytes) -> bool:
    """Spec: PFP TCG_PCR_EVENT - the first record announces a crypto-agile log.

    Steps:
      (1) a whole TCG_PCR_EVENT header is present;
      (2) PCRIndex 0, EventType EV_NO_ACTION, Digest all zero;
      (3) its event data starts with "Spec ID Event03\\0".
    """
    # (1)
    if len(data) < SHA1_EVENT_HEADER_SIZE + len(SPEC_ID_SIGNATURE):
        return False
    # (2)
    if u32(data, 0) != 0 or u32(data, 4) != EventType.EV_NO_ACTION or any(data[8:28]):
        return False
    # (3)
    start = SHA1_EVENT_HEADER_SIZE
    if u32(data, 28) < len(SPEC_ID_SIGNATURE):
        return False
    return data[start : start + len(SPEC_ID_SIGNATURE)] == SPEC_ID_SIGNATURE


def _read_u32(data: bytes, pos: int, *, field: str, offset: int) -> int:
    """A UINT32 at `pos`, after checking that 4 octets remain."""
    return u32(_take(data, pos, 4, field=field, offset=offset), 0)


def _invalid_spec_id(message: str, field: str) -> MalformedInputError:
    """INVALID_SPEC_ID_EVENT on the header record (always events[0] at offset 0)."""
    return MalformedInputError(
        ErrorCode.INVALID_SPEC_ID_EVENT, message, field=f"events[0].event.{field}", offset=0
    )


def _parse_spec_id(data: bytes) -> SpecIdEvent:
    """Spec: PFP TCG_EfiSpecIdEvent - the Spec ID Event03 structure.

    Steps:
      (1) the fixed fields fit (signature .. numberOfAlgorithms);
      (2) specVersionMajor 2, specVersionMinor 0, uintnSize 1 (UINT32) or 2 (UINT64);
      (3) at least one algorithm, and its TCG_EfiSpecIdEventAlgorithmSize entries fit;
      (4) each algorithm once; a known algorithm declares its own digest size;
      (5) vendorInfoSize is exactly the octets that remain.
    """
    # (1)
    if len(data) < SPEC_ID_FIXED_SIZE:
        raise _invalid_spec_id(f"{len(data)} octets, needs {SPEC_ID_FIXED_SIZE}", "size")
    minor, major, errata, uintn = data[20], data[21], data[22], data[23]
    # (2)
    if (major, minor) != (2, 0):
        raise _invalid_spec_id(f"specVersion {major}.{minor}, needs 2.0", "specVersionMajor")
    if uintn not in (1, 2):
        raise _invalid_spec_id(f"uintnSize {uintn}, needs 1 or 2", "uintnSize")
    # (3)
    count = u32(data, 24)
    if count == 0 or count > (len(data) - SPEC_ID_FIXED_SIZE) // 4:
        raise _invalid_spec_id(f"numberOfAlgorithms {count} does not fit", "numberOfAlgorithms")
    # (4)
    algorithms: list[tuple[int, int]] = []
    for number in range(count):
        alg, size = u16(data, 28 + 4 * number), u16(data, 30 + 4 * number)
        field = f"digestSizes[{number}]"
        if any(alg == seen for seen, _ in algorithms):
            raise _invalid_spec_id(f"algorithm 0x{alg:04x} listed twice", field)
        if alg in HashAlg._value2member_map_ and size != digest_size(HashAlg(alg)):
            raise _invalid_spec_id(f"{_alg_label(alg)} with digestSize {size}", field)
        algorithms.append((alg, size))
    # (5)
    vendor_pos = SPEC_ID_FIXED_SIZE + 4 * count
    if vendor_pos >= len(data) or data[vendor_pos] != len(data) - vendor_pos - 1:
        raise _invalid_spec_id("vendorInfoSize does not match the event size", "vendorInfoSize")
    return SpecIdEvent(
        u32(data, 16), minor, major, errata, uintn, tuple(algorithms), data[vendor_pos + 1 :]
    )


def _parse_data(entry: EventLogEntry) -> JsonObject | None:
    """Spec: PFP Events table - the parsed form of an event's data (ADR 0002 kinds)."""
    event_type, data = entry.event_type, entry.data
    if event_type in (EventType.EV_EFI_ACTION, EventType.EV_ACTION):
        return _uefi.parse_string(data)
    if event_type == EventType.EV_SEPARATOR:
        return _uefi.parse_separator(data)
    if event_type in (EventType.EV_EFI_GPT_EVENT, EventType.EV_EFI_GPT_EVENT2):
        return _uefi.parse_gpt(data)
    if event_type in (
        EventType.EV_EFI_VARIABLE_DRIVER_CONFIG,
        EventType.EV_EFI_VARIABLE_BOOT,
        EventType.EV_EFI_VARIABLE_BOOT2,
        EventType.EV_EFI_VARIABLE_AUTHORITY,
    ):
        variable = _uefi.parse_variable(data)
        return None if variable is None else variable[0]
    if event_type == EventType.EV_NO_ACTION:
        locality = _uefi.startup_locality(data)
        if locality is not None:
            return {"kind": "startup_locality", "locality": locality}
    return None


def _parse_sha1_record(data: bytes, pos: int, index: int) -> tuple[EventLogEntry, int]:
    """Spec: PFP TCG_PCR_EVENT - PCRIndex, EventType, Digest (SHA-1), EventSize, Event.

    Steps:
      (1) PCRIndex and EventType (UINT32 each);
      (2) the 20-octet SHA-1 digest;
      (3) EventSize, then that many octets of event data (checked before reading).
    """
    name = f"events[{index}]"
    # (1)
    pcr = _read_u32(data, pos, field=f"{name}.pcrIndex", offset=pos)
    event_type = _read_u32(data, pos + 4, field=f"{name}.eventType", offset=pos)
    # (2)
    digest = _take(data, pos + 8, 20, field=f"{name}.digest", offset=pos)
    # (3)
    size = _read_u32(data, pos + 28, field=f"{name}.eventSize", offset=pos)
    event = _take(data, pos + 32, size, field=f"{name}.eventSize", offset=pos)
    entry = EventLogEntry(index, pos, pcr, event_type, ((HashAlg.SHA1, digest),), event, None)
    return entry, pos + 32 + size


def _parse_digests(
    data: bytes, cur: int, count: int, sizes: Mapping[int, int], *, name: str, offset: int
) -> tuple[tuple[tuple[int, bytes], ...], int]:
    """Spec: PFP TCG_PCR_EVENT2 - the TPMT_HA digests of TPML_DIGEST_VALUES, in log order."""
    pos = offset
    digests: list[tuple[int, bytes]] = []
    for number in range(count):
        field = f"{name}.digests[{number}]"
        alg = u16(_take(data, cur, 2, field=f"{field}.hashAlg", offset=pos), 0)
        if alg not in sizes:
            raise MalformedInputError(
                ErrorCode.UNKNOWN_ALGORITHM,
                f"hashAlg 0x{alg:04x} is not listed in the Spec ID event",
                field=f"{field}.hashAlg",
                offset=pos,
            )
        if any(alg == seen for seen, _ in digests):
            raise MalformedInputError(
                ErrorCode.DUPLICATE_BANK,
                f"hashAlg {_alg_label(alg)} appears twice in one event",
                field=f"{field}.hashAlg",
                offset=pos,
            )
        digests.append((alg, _take(data, cur + 2, sizes[alg], field=f"{field}.digest", offset=pos)))
        cur += 2 + sizes[alg]
    return tuple(digests), cur


def _parse_agile_record(
    data: bytes, pos: int, index: int, sizes: Mapping[int, int]
) -> tuple[EventLogEntry, int]:
    """Spec: PFP TCG_PCR_EVENT2 - PCRIndex, EventType, TPML_DIGEST_VALUES, EventSize, Event.

    Steps:
      (1) PCRIndex and EventType (UINT32 each);
      (2) digests.count, bounded by the octets left (each TPMT_HA has a 2-octet hashAlg);
      (3) each digest: its hashAlg is listed by the Spec ID event (else its size is
          unknowable), not repeated, and its size is the Spec ID event's;
      (4) EventSize, then that many octets of event data (checked before reading).
    """
    name = f"events[{index}]"
    # (1)
    pcr = _read_u32(data, pos, field=f"{name}.pcrIndex", offset=pos)
    event_type = _read_u32(data, pos + 4, field=f"{name}.eventType", offset=pos)
    # (2)
    count = _read_u32(data, pos + 8, field=f"{name}.digests.count", offset=pos)
    cur = pos + 12
    if count * 2 > len(data) - cur:
        raise _truncated(
            "digests", count * 2, len(data) - cur, field=f"{name}.digests.count", offset=pos
        )
    # (3)
    digests, cur = _parse_digests(data, cur, count, sizes, name=name, offset=pos)
    # (4)
    size = _read_u32(data, cur, field=f"{name}.eventSize", offset=pos)
    event = _take(data, cur + 4, size, field=f"{name}.eventSize", offset=pos)
    entry = EventLogEntry(index, pos, pcr, event_type, tuple(digests), event, None)
    return entry, cur + 4 + size


def parse_event_log(data: bytes) -> EventLog:
    """Spec: PFP TCG_PCR_EVENT / TCG_PCR_EVENT2 - parse a SHA-1 or crypto-agile event log.

    Steps:
      (1) the input is octets;
      (2) the format: a first TCG_PCR_EVENT in PCR 0, EV_NO_ACTION, zero digest, whose
          data starts "Spec ID Event03\\0", makes a crypto-agile log; otherwise SHA-1;
      (3) the first record is a TCG_PCR_EVENT in both formats; in a crypto-agile log its
          data is the TCG_EfiSpecIdEvent, the only source of digest sizes;
      (4) every further record is a TCG_PCR_EVENT2 (crypto-agile) or TCG_PCR_EVENT (SHA-1),
          up to the last octet (a partial record is TRUNCATED);
      (5) each event's data is parsed where ADR 0002 defines a parsed form.
    """
    # (1)
    if not isinstance(data, bytes | bytearray):
        raise MalformedInputError(ErrorCode.INVALID_DOCUMENT, "an event log is bytes")
    data = bytes(data)
    # (2)
    agile = _is_crypto_agile(data)
    # (3)
    header, pos = _parse_sha1_record(data, 0, 0)
    spec_id = _parse_spec_id(header.data) if agile else None
    if spec_id is not None:
        header = EventLogEntry(
            0, 0, 0, header.event_type, header.digests, header.data, spec_id.to_json()
        )
    events = [header]
    sizes = {} if spec_id is None else dict(spec_id.algorithms)
    # (4)
    while pos < len(data):
        if agile:
            entry, pos = _parse_agile_record(data, pos, len(events), sizes)
        else:
            entry, pos = _parse_sha1_record(data, pos, len(events))
        events.append(entry)
    # (5)
    parsed = [spec_id.to_json() if spec_id is not None else _parse_data(events[0])]
    parsed += [_parse_data(entry) for entry in events[1:]]
    events = [dataclasses.replace(e, parsed=p) for e, p in zip(events, parsed, strict=True)]
    return EventLog("crypto-agile" if agile else "sha1", spec_id, tuple(events))


class DataStatus(enum.StrEnum):
    """ADR 0002 DataCheck status."""

    MATCH = "match"
    MATCH_QUIRK = "match_quirk"
    MISMATCH = "mismatch"
    SEPARATOR_ERROR = "separator_error"


@dataclass(frozen=True, slots=True)
class DataCheck:
    """The digests of one event recomputed from its data, bank by bank."""

    event: int
    event_type: int
    status: DataStatus
    banks: tuple[tuple[HashAlg, bool], ...]  # ascending TPM_ALG_ID; True = match
    quirk: str | None

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 "Event data checks" - the DataCheck JSON."""
        return {
            "event": self.event,
            "type": _type_name(self.event_type),
            "status": str(self.status),
            "banks": {hash_alg_name(a): "match" if ok else "mismatch" for a, ok in self.banks},
            "quirk": self.quirk,
        }


def _known_digests(entry: EventLogEntry) -> list[tuple[HashAlg, bytes]]:
    """The event's digests in the algorithms we know, ascending TPM_ALG_ID."""
    known = [(HashAlg(a), d) for a, d in entry.digests if a in HashAlg._value2member_map_]
    return sorted(known)


def _conventions(entry: EventLogEntry) -> list[tuple[str | None, bytes]]:
    """Spec: PFP Events table - what each checked type's digest is computed over.

    Steps (ADR 0002 amendment 1.3; the PFP's convention first, then the named quirk):
      (1) EV_EFI_VARIABLE_BOOT: VariableData, else the whole UEFI_VARIABLE_DATA;
      (2) EV_EFI_VARIABLE_BOOT2: the whole UEFI_VARIABLE_DATA, else VariableData only;
      (3) EV_EFI_VARIABLE_AUTHORITY: the whole data, else all but one trailing octet;
      (4) every other checked type: the whole event data.
    A UEFI_VARIABLE_DATA that does not parse has no VariableData convention.
    """
    variable = _uefi.parse_variable(entry.data)
    value: list[bytes] = [] if variable is None else [variable[1]]
    # (1)
    if entry.event_type == EventType.EV_EFI_VARIABLE_BOOT:
        return [*((None, v) for v in value), (QUIRK_VARIABLE_BOOT_WHOLE_DATA, entry.data)]
    # (2)
    if entry.event_type == EventType.EV_EFI_VARIABLE_BOOT2:
        return [(None, entry.data), *((QUIRK_VARIABLE_BOOT2_DATA_ONLY, v) for v in value)]
    # (3)
    if entry.event_type == EventType.EV_EFI_VARIABLE_AUTHORITY and entry.data:
        return [(None, entry.data), (QUIRK_AUTHORITY_TRAILING_BYTE, entry.data[:-1])]
    # (4)
    return [(None, entry.data)]


def _check_entry(entry: EventLogEntry) -> DataCheck:
    """Spec: PFP Events table - recompute one event's digests from its data.

    Steps:
      (1) a separator carrying an error value is `separator_error` (banks: H(data) or not);
      (2) the first convention under which every known bank matches gives `match`
          (the PFP's) or `match_quirk` (a named firmware quirk);
      (3) otherwise `mismatch`, banks compared under the first convention;
          an event with no digest we know is a mismatch (nothing was checked).
    """
    digests = _known_digests(entry)
    conventions = _conventions(entry)

    def compare(measured: bytes) -> tuple[tuple[HashAlg, bool], ...]:
        return tuple((alg, compute_digest(alg, measured) == d) for alg, d in digests)

    # (1)
    if entry.event_type == EventType.EV_SEPARATOR and entry.data in SEPARATOR_ERROR_VALUES:
        banks = compare(entry.data)
        return DataCheck(entry.index, entry.event_type, DataStatus.SEPARATOR_ERROR, banks, None)
    # (2)
    for quirk, measured in conventions:
        banks = compare(measured)
        if banks and all(ok for _, ok in banks):
            status = DataStatus.MATCH if quirk is None else DataStatus.MATCH_QUIRK
            return DataCheck(entry.index, entry.event_type, status, banks, quirk)
    # (3)
    banks = compare(conventions[0][1])
    return DataCheck(entry.index, entry.event_type, DataStatus.MISMATCH, banks, None)


def check_event_data(log: EventLog) -> tuple[DataCheck, ...]:
    """Spec: PFP Events table - recompute the digests defined over event data.

    Steps:
      (1) select the events of the checked types (ADR 0002 amendment 1.2), whatever
          their PCR;
      (2) check each one in log order.
    """
    # (1), (2)
    return tuple(_check_entry(e) for e in log.events if e.event_type in CHECKED_TYPES)


@dataclass(frozen=True, slots=True)
class Finding:
    """A warning of the replay (an error instead under strict mode, for STRICT_CODES)."""

    code: ErrorCode
    event: int | None
    message: str

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 Replay.to_json - one warning's JSON."""
        return {"code": str(self.code), "event": self.event, "message": self.message}


@dataclass(frozen=True, slots=True)
class Replay:
    """The PCR values a log replays to, per bank, for the PCRs its events name."""

    pcrs: Mapping[HashAlg, Mapping[int, bytes]]
    warnings: tuple[Finding, ...]
    extended_by: Mapping[tuple[HashAlg, int], tuple[int, ...]]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 Replay.to_json - banks ascending TPM_ALG_ID, PCRs ascending."""
        return {
            "pcrs": {
                hash_alg_name(bank): {str(p): v.hex() for p, v in sorted(values.items())}
                for bank, values in sorted(self.pcrs.items())
            },
            "warnings": [finding.to_json() for finding in self.warnings],
        }


@dataclass(slots=True)
class _ReplayState:
    """The replayer's working state (private, mutable)."""

    banks: tuple[HashAlg, ...]
    strict: bool
    values: dict[HashAlg, list[bytes]]
    named: set[int]
    separated: set[int]
    extended_by: dict[tuple[HashAlg, int], list[int]]
    findings: list[Finding]
    pcr0_extended: bool = False
    startup_seen: bool = False
    hcrtm_applied: bool = False

    def note(self, entry: EventLogEntry, code: ErrorCode, message: str) -> None:
        """Record a finding; under strict mode a STRICT_CODES finding raises."""
        if self.strict and code in STRICT_CODES:
            raise MalformedInputError(
                code, message, field=f"events[{entry.index}]", offset=entry.offset
            )
        self.findings.append(Finding(code, entry.index, message))

    def set_pcr0_locality(self, locality: int) -> None:
        """PCR 0 := 0..0 || locality, in every bank (MSREF PCR.c PCRStartup / PcrDrtm)."""
        for bank in self.banks:
            self.values[bank][0] = bytes(digest_size(bank) - 1) + bytes([locality])


def _start_values(banks: tuple[HashAlg, ...]) -> dict[HashAlg, list[bytes]]:
    """Spec: PTP PCR Initial and Reset Values - PCRs 17-22 all 0xFF, the others zero."""
    return {
        bank: [
            b"\xff" * digest_size(bank) if pcr in DRTM_PCRS else bytes(digest_size(bank))
            for pcr in range(PCR_COUNT)
        ]
        for bank in banks
    }


def _replay_banks(log: EventLog) -> tuple[tuple[HashAlg, ...], list[int]]:
    """ADR 0002 rule 1: the banks replayed (known Spec ID algorithms, or SHA-1) and the skipped."""
    if log.spec_id is None:
        return (HashAlg.SHA1,), []
    ids = [alg for alg, _ in log.spec_id.algorithms]
    known = tuple(sorted(HashAlg(a) for a in ids if a in HashAlg._value2member_map_))
    return known, [a for a in ids if a not in HashAlg._value2member_map_]


def _replay_startup_locality(state: _ReplayState, entry: EventLogEntry, locality: int) -> None:
    """Spec: PFP Startup Locality Event - PCR 0's initial value from StartupLocality.

    Steps (ADR 0002 rule 3, amendment 1.5 for their order):
      (1) a second StartupLocality is ignored (DUPLICATE_STARTUP_LOCALITY);
      (2) one after an extend of PCR 0 is ignored (STARTUP_LOCALITY_AFTER_EXTEND);
      (3) only then is the value checked: 0 or 3 (TPM2_Startup's localities) or 4
          (an H-CRTM, as edk2 logs it), else INVALID_STARTUP_LOCALITY;
      (4) PCR 0 := 0..0 || locality in every bank.
    """
    state.named.add(0)
    # (1)
    if state.startup_seen:
        state.note(entry, ErrorCode.DUPLICATE_STARTUP_LOCALITY, "second StartupLocality: ignored")
        return
    state.startup_seen = True
    # (2)
    if state.pcr0_extended:
        message = "StartupLocality after an extend of PCR 0: ignored"
        state.note(entry, ErrorCode.STARTUP_LOCALITY_AFTER_EXTEND, message)
        return
    # (3)
    if locality not in STARTUP_LOCALITIES:
        raise MalformedInputError(
            ErrorCode.INVALID_STARTUP_LOCALITY,
            f"StartupLocality {locality}: only 0, 3 or 4",
            field=f"events[{entry.index}].event.startupLocality",
            offset=entry.offset,
        )
    # (4)
    state.set_pcr0_locality(locality)
    state.hcrtm_applied = locality == HCRTM_LOCALITY


def _type_findings(state: _ReplayState, entry: EventLogEntry) -> None:
    """Spec: PFP Events table - an unknown event type, or a type in a PCR 0-7 the PFP
    does not place it in (ADR 0002 amendment 1.4).
    """
    if entry.event_type not in EventType._value2member_map_:
        message = f"event type 0x{entry.event_type:08x} is not in the PFP Events table"
        state.note(entry, ErrorCode.UNKNOWN_EVENT_TYPE, message)
        return
    event_type = EventType(entry.event_type)
    if entry.pcr >= 8 or event_type in UNRESTRICTED_TYPES:
        return
    if entry.pcr not in PFP_PCRS[event_type]:
        message = f"{event_type.name} in PCR {entry.pcr}: the PFP does not place it there"
        state.note(entry, ErrorCode.UNEXPECTED_PCR, message)


def _separator_findings(state: _ReplayState, entry: EventLogEntry) -> None:
    """Spec: PFP EV_SEPARATOR - after a PCR's separator (ADR 0002 amendment 1.1):
    a second EV_SEPARATOR in that PCR, or Secure Boot policy (EV_EFI_VARIABLE_DRIVER_CONFIG)
    in PCR 7, is EVENT_AFTER_SEPARATOR.
    """
    if entry.pcr not in state.separated:
        return
    if entry.event_type == EventType.EV_SEPARATOR:
        message = f"a second EV_SEPARATOR in PCR {entry.pcr}"
        state.note(entry, ErrorCode.EVENT_AFTER_SEPARATOR, message)
    elif (
        entry.event_type == EventType.EV_EFI_VARIABLE_DRIVER_CONFIG
        and entry.pcr == SECURE_BOOT_POLICY_PCR
    ):
        message = "EV_EFI_VARIABLE_DRIVER_CONFIG in PCR 7 after its EV_SEPARATOR"
        state.note(entry, ErrorCode.EVENT_AFTER_SEPARATOR, message)


def _missing_separators(state: _ReplayState) -> None:
    """Spec: PFP EV_SEPARATOR - every PCR 0-7 gets one before the OS (ADR 0002 amendment 3):
    a PCR 0-7 that some event extended and no EV_SEPARATOR did is MISSING_SEPARATOR (a
    per-log warning, ascending PCR; a relabelled separator shows up here).
    """
    extended = {p for p in state.named if p < 8 and (p != 0 or state.pcr0_extended)}
    for pcr in sorted(extended - state.separated):
        message = f"PCR {pcr} was extended but has no EV_SEPARATOR"
        state.findings.append(Finding(ErrorCode.MISSING_SEPARATOR, None, message))


def _replay_extend(state: _ReplayState, entry: EventLogEntry) -> None:
    """Spec: TPM2-P3 22.2 TPM2_PCR_Extend - extend the event's PCR in each bank it carries.

    Steps:
      (1) an EV_EFI_HCRTM_EVENT first to extend PCR 0 starts it at 0..04 (once);
      (2) each bank (ascending TPM_ALG_ID) with a digest: PCR := H(PCR || digest);
      (3) each bank without one is left unchanged: MISSING_BANK_DIGEST;
      (4) an EV_SEPARATOR in PCR 0-7 closes that PCR's pre-OS section.
    """
    digests = dict(entry.digests)
    # (1)
    is_hcrtm = entry.event_type == EventType.EV_EFI_HCRTM_EVENT and entry.pcr == 0
    if is_hcrtm and not state.pcr0_extended and not state.hcrtm_applied:
        state.set_pcr0_locality(HCRTM_LOCALITY)
        state.hcrtm_applied = True
    for bank in state.banks:
        # (2)
        if bank in digests:
            old = state.values[bank][entry.pcr]
            state.values[bank][entry.pcr] = compute_digest(bank, old + digests[bank])
            state.extended_by.setdefault((bank, entry.pcr), []).append(entry.index)
        # (3)
        else:
            message = f"no {hash_alg_name(bank)} digest: that bank's PCR {entry.pcr} unchanged"
            state.note(entry, ErrorCode.MISSING_BANK_DIGEST, message)
    state.named.add(entry.pcr)
    state.pcr0_extended = state.pcr0_extended or entry.pcr == 0
    # (4)
    if entry.event_type == EventType.EV_SEPARATOR and entry.pcr < 8:
        state.separated.add(entry.pcr)


def _replay_entry(state: _ReplayState, entry: EventLogEntry, mismatch: bool) -> None:
    """Spec: PROJECT adr.0002 - one event of the log (rules 3-7, amendment 1.5 order).

    Steps:
      (1) PCR 24 or more: PCR_OUT_OF_RANGE, not replayed, no further checks;
      (2) UNKNOWN_EVENT_TYPE or UNEXPECTED_PCR (an unknown type still extends);
      (3) EV_NO_ACTION never extends; a StartupLocality one in PCR 0 sets PCR 0;
      (4) EVENT_AFTER_SEPARATOR;
      (5) the extend, with MISSING_BANK_DIGEST per bank missing (ascending);
      (6) DATA_DIGEST_MISMATCH when check_event_data found a mismatch.
    """
    # (1)
    if entry.pcr >= PCR_COUNT:
        state.note(entry, ErrorCode.PCR_OUT_OF_RANGE, f"PCR {entry.pcr}: not replayed")
        return
    # (2)
    _type_findings(state, entry)
    # (3)
    if entry.event_type == EventType.EV_NO_ACTION:
        locality = _uefi.startup_locality(entry.data)
        if entry.pcr == 0 and locality is not None:
            _replay_startup_locality(state, entry, locality)
        return
    # (4)
    _separator_findings(state, entry)
    # (5)
    _replay_extend(state, entry)
    # (6)
    if mismatch:
        message = "a digest differs from the hash of the event data"
        state.note(entry, ErrorCode.DATA_DIGEST_MISMATCH, message)


def replay_event_log(log: EventLog, *, strict: bool = False) -> Replay:
    """Spec: PROJECT adr.0002 - replay a parsed event log into PCR values.

    Steps:
      (1) banks: the Spec ID event's known algorithms (crypto-agile) or SHA-1;
      (2) start values as after TPM2_Startup: PCRs 17-22 all 0xFF, the others zero;
      (3) data checks (check_event_data) give DATA_DIGEST_MISMATCH findings;
      (4) each event in order (rules 3-7); strict mode raises on the first finding;
      (5) per-log findings: each unknown Spec ID algorithm, skipped, once; then each
          PCR 0-7 that an event extended and no EV_SEPARATOR did (amendment 3);
      (6) the PCRs any event names, in every bank.
    """
    # (1)
    banks, skipped = _replay_banks(log)
    # (2)
    state = _ReplayState(banks, strict, _start_values(banks), set(), set(), {}, [])
    # (3)
    mismatched = {c.event for c in check_event_data(log) if c.status == DataStatus.MISMATCH}
    # (4)
    for entry in log.events:
        _replay_entry(state, entry, entry.index in mismatched)
    # (5)
    for alg in skipped:
        message = f"algorithm 0x{alg:04x} is unknown: skipped by its size, not replayed"
        state.findings.append(Finding(ErrorCode.UNKNOWN_ALGORITHM_SKIPPED, None, message))
    _missing_separators(state)
    # (6)
    pcrs = {bank: {p: state.values[bank][p] for p in sorted(state.named)} for bank in banks}
    extended_by = {key: tuple(indices) for key, indices in state.extended_by.items()}
    return Replay(pcrs, tuple(state.findings), extended_by)


class PcrStatus(enum.StrEnum):
    """ADR 0002 Verdict row status."""

    MATCHED = "matched"
    MISMATCHED = "mismatched"
    NOT_IN_LOG = "not_in_log"


class VerdictResult(enum.StrEnum):
    """ADR 0002 Verdict result."""

    MATCH = "match"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class PcrCheck:
    """One supplied PCR value against the replay."""

    bank: HashAlg
    pcr: int
    status: PcrStatus
    expected: bytes
    replayed: bytes | None
    events: tuple[int, ...]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 Verification - one Verdict row's JSON."""
        return {
            "bank": hash_alg_name(self.bank),
            "pcr": self.pcr,
            "status": str(self.status),
            "expected": self.expected.hex(),
            "replayed": None if self.replayed is None else self.replayed.hex(),
            "events": list(self.events),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a log's replay asserts about supplied PCR values, and nothing more."""

    result: VerdictResult
    pcrs: tuple[PcrCheck, ...]
    first_mismatch: tuple[HashAlg, int] | None
    claims: tuple[str, ...]
    warnings: tuple[Finding, ...]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0002 Verification - the Verdict JSON."""
        first = self.first_mismatch
        return {
            "result": str(self.result),
            "pcrs": [row.to_json() for row in self.pcrs],
            "firstMismatch": None
            if first is None
            else {"bank": hash_alg_name(first[0]), "pcr": first[1]},
            "claims": list(self.claims),
            "warnings": [finding.to_json() for finding in self.warnings],
        }


def _pcr_error(code: ErrorCode, message: str, field: str) -> MalformedInputError:
    """An error on supplied PCR values."""
    return MalformedInputError(code, message, field=field)


def _check_pcr_values(pcrs: Mapping[str, Mapping[int, bytes]]) -> dict[HashAlg, dict[int, bytes]]:
    """Spec: PROJECT adr.0002 - supplied PCR values: known banks, PCR 0-23, right sizes.

    Steps:
      (1) at least one value (nothing supplied verifies nothing);
      (2) each bank name is a known hash algorithm, named once;
      (3) each index is 0-23 and each value is that algorithm's digest size.
    """
    checked: dict[HashAlg, dict[int, bytes]] = {}
    for name, values in pcrs.items():
        # (2)
        bank = hash_alg_from_name(name)
        if bank in checked:
            raise _pcr_error(ErrorCode.DUPLICATE_BANK, f"bank {name} twice", f"pcrs.{name}")
        checked[bank] = {}
        for pcr, value in values.items():
            # (3)
            field = f"pcrs.{name}.{pcr}"
            if isinstance(pcr, bool) or not isinstance(pcr, int) or not 0 <= pcr < PCR_COUNT:
                raise _pcr_error(ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR {pcr!r}", field)
            if not isinstance(value, bytes) or len(value) != digest_size(bank):
                raise _pcr_error(ErrorCode.DIGEST_SIZE_MISMATCH, f"{name} value size", field)
            checked[bank][pcr] = value
    # (1)
    if not any(checked.values()):
        raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, "no PCR values supplied", "pcrs")
    return checked


def _claims(rows: list[PcrCheck]) -> tuple[str, ...]:
    """Spec: PROJECT adr.0002 - the verdict's scope, in words (never "trusted")."""
    claims: list[str] = []
    phrases = {
        PcrStatus.MATCHED: "equal the values the event log replays to",
        PcrStatus.MISMATCHED: "differ from the values the event log replays to",
        PcrStatus.NOT_IN_LOG: "are named by no event of the log: not verified",
    }
    for bank in sorted({row.bank for row in rows}):
        for status, phrase in phrases.items():
            chosen = [str(r.pcr) for r in rows if r.bank == bank and r.status == status]
            if chosen:
                claims.append(f"{hash_alg_name(bank)} PCRs {', '.join(chosen)} {phrase}")
    claims.append(
        "only PCR indices and digests are bound by the PCR values; event types and "
        "event data are not, except where check_event_data recomputed a digest from the data"
    )
    return tuple(claims)


def verify_event_log(
    log: EventLog, pcrs: Mapping[str, Mapping[int, bytes]], *, strict: bool = False
) -> Verdict:
    """Spec: PROJECT adr.0002 - compare supplied PCR values with the log's replay.

    Steps:
      (1) check the supplied values;
      (2) replay the log (strict-mode errors propagate);
      (3) one row per supplied PCR (ascending bank id, then index): a PCR no event names
          is `not_in_log` and never counts as verified;
      (4) `match` only if no row mismatched and at least one matched.
    """
    # (1)
    supplied = _check_pcr_values(pcrs)
    # (2)
    replay = replay_event_log(log, strict=strict)
    # (3)
    rows: list[PcrCheck] = []
    for bank in sorted(supplied):
        for pcr, expected in sorted(supplied[bank].items()):
            replayed = replay.pcrs.get(bank, {}).get(pcr)
            events = replay.extended_by.get((bank, pcr), ())
            if replayed is None:
                status = PcrStatus.NOT_IN_LOG
            else:
                status = PcrStatus.MATCHED if replayed == expected else PcrStatus.MISMATCHED
            rows.append(PcrCheck(bank, pcr, status, expected, replayed, events))
    # (4)
    mismatches = [(r.bank, r.pcr) for r in rows if r.status == PcrStatus.MISMATCHED]
    matched = any(r.status == PcrStatus.MATCHED for r in rows)
    result = VerdictResult.MATCH if matched and not mismatches else VerdictResult.MISMATCH
    first = mismatches[0] if mismatches else None
    return Verdict(result, tuple(rows), first, _claims(rows), replay.warnings)


_YAML_BANK = re.compile(r"^\s*([A-Za-z0-9_]+)\s*:\s*$")
_YAML_VALUE = re.compile(r"^\s*(\d+)\s*:\s*(?:0x|0X)?([0-9A-Fa-f]*)\s*$")


def _hex_value(text: str, field: str) -> bytes:
    """Octets from hex text (INVALID_HEX otherwise)."""
    try:
        return bytes.fromhex(text)
    except ValueError as error:
        raise _pcr_error(ErrorCode.INVALID_HEX, f"not hex: {text[:20]!r}", field) from error


def _pcr_index(text: str, field: str) -> int:
    """A decimal PCR index 0-23."""
    if not text.isdigit() or not 0 <= int(text) < PCR_COUNT:
        raise _pcr_error(ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR {text[:20]!r}", field)
    return int(text)


def _parse_pcr_yaml(text: str) -> dict[str, dict[int, bytes]]:
    """Spec: PROJECT adr.0002 - tpm2_pcrread output: `bank:` lines, then `  n : 0x...`."""
    result: dict[str, dict[int, bytes]] = {}
    bank: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        field = f"line {number}"
        if not line.strip() or line.strip() == "pcrs:":
            continue
        if match := _YAML_BANK.match(line):
            bank = match.group(1)
            if bank in result:
                raise _pcr_error(ErrorCode.DUPLICATE_BANK, f"bank {bank} twice", field)
            result[bank] = {}
        elif (match := _YAML_VALUE.match(line)) and bank is not None:
            pcr = _pcr_index(match.group(1), field)
            if pcr in result[bank]:
                raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, f"PCR {pcr} twice", field)
            result[bank][pcr] = _hex_value(match.group(2), field)
        else:
            raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, f"unreadable: {line[:40]!r}", field)
    return result


def _parse_pcr_json(text: str) -> dict[str, dict[int, bytes]]:
    """Spec: PROJECT adr.0002 - {"pcrs": {"sha256": {"0": "hex"}}} or the same unwrapped."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, "not JSON", "pcrs") from error
    if isinstance(document, dict) and set(document) == {"pcrs"}:
        document = document["pcrs"]
    if not isinstance(document, dict):
        raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, "not a JSON object", "pcrs")
    result: dict[str, dict[int, bytes]] = {}
    for bank, values in document.items():
        if not isinstance(values, dict):
            raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, "bank is not an object", bank)
        result[bank] = {}
        for key, value in values.items():
            field = f"pcrs.{bank}.{key}"
            if not isinstance(value, str):
                raise _pcr_error(ErrorCode.INVALID_HEX, "value is not a hex string", field)
            result[bank][_pcr_index(key, field)] = _hex_value(value, field)
    return result


def parse_pcr_values(text: str) -> dict[str, dict[int, bytes]]:
    """Spec: PROJECT adr.0002 - PCR values from tpm2_pcrread YAML or our JSON.

    Steps:
      (1) text starting with `{` is JSON, anything else tpm2_pcrread YAML;
      (2) the values are checked as verify_event_log checks them (known banks,
          PCR 0-23, digest sizes, at least one value).
    """
    if not isinstance(text, str):
        raise _pcr_error(ErrorCode.INVALID_PCR_VALUES, "PCR values are text", "pcrs")
    # (1)
    stripped = text.strip()
    values = _parse_pcr_json(stripped) if stripped.startswith("{") else _parse_pcr_yaml(text)
    # (2)
    _check_pcr_values(values)
    return values
