"""TCG PC Client event logs, part 1: constants, event types, records and the parser.

Spec: PFP "Event Logging" (TCG_PCR_EVENT, TCG_PCR_EVENT2, TCG_EfiSpecIdEvent,
TCG_EfiStartupLocalityEvent, the Events table). Public names are re-exported by
`chainoftrust.spec.eventlog` (docs/adr/0002-eventlog-contract.md).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec import _uefi
from chainoftrust.spec._uefi import JsonObject, u16, u32
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    digest_size,
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
