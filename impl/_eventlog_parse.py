"""TCG PC Client event logs: parse (SHA-1 and crypto-agile), replay, data checks, verify.

Contract: docs/adr/0002-eventlog-contract.md. Sources: TCG PC Client Platform Firmware
Profile 1.05r23 (PFP): TCG_PCR_EVENT, TCG_PCR_EVENT2, TCG_EfiSpecIdEvent,
TCG_EfiStartupLocalityEvent, the Events table and the PCR usage it gives each type.
The parser is a single pass over a memoryview with struct.unpack_from; every declared
length or count is checked against the bytes that remain before it is used, so a
declared size of 4 GiB allocates nothing. Errors carry the record's offset and the field.
"""

from __future__ import annotations

import enum
import gc
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl import _uefi
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_name


class EventType(enum.IntEnum):
    """PFP "Events" table: event type codes, named as the PFP spells them."""

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
    EV_EFI_EVENT_BASE = 0x80000000
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

    @classmethod
    def name_of(cls, code: int) -> str:
        """The PFP name of `code`, or "UNKNOWN"."""
        return _TYPE_NAMES.get(code, "UNKNOWN")


_TYPE_NAMES: dict[int, str] = {int(t): t.name for t in EventType}

_U32 = struct.Struct("<I")
_U32X2 = struct.Struct("<II")
_U16X2 = struct.Struct("<HH")
_SHA1_HEADER = 32  # TCG_PCR_EVENT: PCRIndex, EventType, Digest[20], EventSize
_SHA1 = int(HashAlg.SHA1)


@dataclass(frozen=True, slots=True)
class SpecId:
    """PFP TCG_EfiSpecIdEvent: the crypto-agile log's header data."""

    platform_class: int
    spec_version_minor: int
    spec_version_major: int
    spec_errata: int
    uintn_size: int
    algorithms: tuple[tuple[int, int], ...]  # (TPM_ALG_ID, digestSize) in log order
    vendor_info: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "spec_id",
            "platformClass": self.platform_class,
            "specVersion": (
                f"{self.spec_version_major}.{self.spec_version_minor}.{self.spec_errata}"
            ),
            "uintnSize": self.uintn_size,
            "algorithms": [{"alg": alg_label(a), "digestSize": s} for a, s in self.algorithms],
        }


@dataclass(frozen=True, slots=True)
class EventLogEntry:
    """One record: TCG_PCR_EVENT (the header, or every record of a SHA-1 log) or
    TCG_PCR_EVENT2. `digests` holds (TPM_ALG_ID, digest) in log order."""

    index: int
    offset: int
    pcr: int
    type: int
    digests: tuple[tuple[int, bytes], ...]
    data: bytes

    @property
    def type_name(self) -> str:
        return EventType.name_of(self.type)

    def to_json(self, spec_id: SpecId | None = None) -> dict[str, Any]:
        return {
            "index": self.index,
            "offset": self.offset,
            "pcr": self.pcr,
            "type": self.type,
            "typeName": self.type_name,
            "digests": [{"alg": alg_label(a), "digest": d.hex()} for a, d in self.digests],
            "data": self.data.hex(),
            "parsed": self.parsed(spec_id),
        }

    def parsed(self, spec_id: SpecId | None = None) -> dict[str, Any] | None:
        """The event data decoded per the PFP structure of its type, or None."""
        t = self.type
        if self.index == 0 and spec_id is not None:
            return spec_id.to_json()
        if t in _VARIABLE_TYPES:
            return _uefi.decode_uefi_variable(self.data)
        if t in (EventType.EV_EFI_ACTION, EventType.EV_ACTION):
            return _uefi.decode_string(self.data)
        if t == EventType.EV_SEPARATOR:
            return _uefi.decode_separator(self.data)
        if t in (EventType.EV_EFI_GPT_EVENT, EventType.EV_EFI_GPT_EVENT2):
            return _uefi.decode_gpt(self.data)
        # parsed whatever the PCR (ADR 0002 amendment 2 item 6); replay honours PCR 0 only
        locality = _uefi.startup_locality(0, t, self.data)
        if locality is not None:
            return {"kind": "startup_locality", "locality": locality}
        return None


_VARIABLE_TYPES = frozenset(
    {
        EventType.EV_EFI_VARIABLE_DRIVER_CONFIG,
        EventType.EV_EFI_VARIABLE_BOOT,
        EventType.EV_EFI_VARIABLE_BOOT2,
        EventType.EV_EFI_VARIABLE_AUTHORITY,
    }
)


@dataclass(frozen=True, slots=True)
class EventLog:
    """A parsed log: `format` is "crypto-agile" or "sha1"; `events` includes the header."""

    format: str
    spec_id: SpecId | None
    events: tuple[EventLogEntry, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "specId": None if self.spec_id is None else self.spec_id.to_json(),
            "events": [e.to_json(self.spec_id) for e in self.events],
        }


def alg_label(alg: int) -> str:
    """tpm2-tools name of a known algorithm, else its TPM_ALG_ID as 0xNNNN."""
    try:
        return hash_alg_name(HashAlg(alg))
    except ValueError:
        return f"0x{alg:04x}"


def _truncated(what: str, index: int, field: str, offset: int, *, need: int, have: int) -> None:
    raise MalformedInputError(
        ErrorCode.TRUNCATED,
        f"{what}: needs {need} bytes, {have} remain",
        field=f"events[{index}].{field}",
        offset=offset,
    )


def _sha1_record(mv: memoryview, pos: int, index: int) -> tuple[EventLogEntry, int]:
    """(1) TCG_PCR_EVENT at `pos`: u32 PCRIndex, u32 EventType, Digest[20], u32 EventSize, Event."""
    end = len(mv)
    if end - pos < _SHA1_HEADER:
        have = end - pos
        field = "pcrIndex" if have < 4 else "eventType" if have < 8 else "digest"
        field = "eventSize" if have >= 28 else field
        _truncated("record header", index, field, pos, need=_SHA1_HEADER, have=have)
    pcr, etype = _U32X2.unpack_from(mv, pos)
    (size,) = _U32.unpack_from(mv, pos + 28)
    if size > end - pos - _SHA1_HEADER:
        _truncated("event data", index, "eventSize", pos, need=size, have=end - pos - _SHA1_HEADER)
    data_at = pos + _SHA1_HEADER
    digest = bytes(mv[pos + 8 : pos + 28])
    entry = EventLogEntry(
        index, pos, pcr, etype, ((_SHA1, digest),), bytes(mv[data_at : data_at + size])
    )
    return entry, data_at + size


def _parse_spec_id(data: bytes, offset: int) -> SpecId:
    """(2) PFP TCG_EfiSpecIdEvent: Signature[16], u32 platformClass, u8 specVersionMinor,
    u8 specVersionMajor, u8 specErrata, u8 uintnSize, u32 numberOfAlgorithms,
    {u16 algorithmId, u16 digestSize}[n], u8 vendorInfoSize, vendorInfo[vendorInfoSize]."""

    def bad(message: str, field: str) -> MalformedInputError:
        return MalformedInputError(
            ErrorCode.INVALID_SPEC_ID_EVENT,
            message,
            field=f"events[0].event.{field}",
            offset=offset,
        )

    if len(data) < 28:
        raise bad(f"Spec ID event data is {len(data)} bytes, needs at least 28", "specId")
    (platform_class,) = _U32.unpack_from(data, 16)
    minor, major, errata, uintn = data[20], data[21], data[22], data[23]
    if (major, minor) != (2, 0):
        raise bad(f"specVersion {major}.{minor}, Spec ID Event03 requires 2.0", "specVersion")
    if uintn not in (1, 2):
        raise bad(f"uintnSize {uintn}: the PFP defines 1 (32-bit) and 2 (64-bit)", "uintnSize")
    (count,) = _U32.unpack_from(data, 24)
    if count == 0:
        raise bad("numberOfAlgorithms is 0", "numberOfAlgorithms")
    if count > (len(data) - 28) // 4:
        raise bad(
            f"numberOfAlgorithms {count} exceeds the remaining {len(data) - 28} bytes",
            "numberOfAlgorithms",
        )
    algorithms = []
    seen: set[int] = set()
    for i in range(count):
        alg, size = _U16X2.unpack_from(data, 28 + 4 * i)
        if alg in seen:
            raise bad(f"algorithm 0x{alg:04x} listed twice", f"algorithms[{i}]")
        seen.add(alg)
        known = DIGEST_SIZES.get(alg)
        if known is not None and known != size:
            raise bad(
                f"{alg_label(alg)} digestSize {size}, the algorithm's is {known}",
                f"algorithms[{i}].digestSize",
            )
        algorithms.append((alg, size))
    pos = 28 + 4 * count
    if pos >= len(data):
        raise bad("vendorInfoSize missing", "vendorInfoSize")
    vendor_size = data[pos]
    if vendor_size != len(data) - pos - 1:
        raise bad(
            f"vendorInfoSize {vendor_size}, but {len(data) - pos - 1} bytes follow",
            "vendorInfoSize",
        )
    return SpecId(platform_class, minor, major, errata, uintn, tuple(algorithms), data[pos + 1 :])


def _is_spec_id_header(first: EventLogEntry) -> bool:
    return (
        first.pcr == 0
        and first.type == EventType.EV_NO_ACTION
        and first.digests[0][1] == bytes(20)
        and first.data.startswith(_uefi.SPEC_ID_SIGNATURE)
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while records are built: they form no cycles, and without
    this each full collection walks every record built so far (half the parse time of a
    1M-event log). The previous state is restored."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# A frozen dataclass's __init__ sets each field through object.__setattr__; setting the
# slots through their descriptors builds the same object in 60% of the time (the hot path).
_new_entry = object.__new__
_SET_INDEX: Any = vars(EventLogEntry)["index"].__set__
_SET_OFFSET: Any = vars(EventLogEntry)["offset"].__set__
_SET_PCR: Any = vars(EventLogEntry)["pcr"].__set__
_SET_TYPE: Any = vars(EventLogEntry)["type"].__set__
_SET_DIGESTS: Any = vars(EventLogEntry)["digests"].__set__
_SET_DATA: Any = vars(EventLogEntry)["data"].__set__


def _entry(  # noqa: PLR0917 (the six fields, in order, as the dataclass takes them)
    index: int,
    offset: int,
    pcr: int,
    etype: int,
    digests: tuple[tuple[int, bytes], ...],
    data: bytes,
) -> EventLogEntry:
    """EventLogEntry(index, offset, pcr, etype, digests, data), built fast."""
    entry: EventLogEntry = _new_entry(EventLogEntry)
    _SET_INDEX(entry, index)
    _SET_OFFSET(entry, offset)
    _SET_PCR(entry, pcr)
    _SET_TYPE(entry, etype)
    _SET_DIGESTS(entry, digests)
    _SET_DATA(entry, data)
    return entry


def _agile_record(
    buf: bytes, pos: int, index: int, sizes: dict[int, int]
) -> tuple[EventLogEntry, int]:
    """(3) One TCG_PCR_EVENT2 at `pos`, every field checked: u32 PCRIndex, u32 EventType,
    u32 digests.count, {u16 hashAlg, digest[size from the Spec ID]}[count], u32
    EventSize, Event. Returns the entry and the next record's offset."""
    end = len(buf)
    start = pos
    if end - pos < 12:
        have = end - pos
        field = "pcrIndex" if have < 4 else "eventType" if have < 8 else "digests.count"
        _truncated("record header", index, field, start, need=12, have=have)
    pcr, etype = _U32X2.unpack_from(buf, pos)
    (count,) = _U32.unpack_from(buf, pos + 8)
    pos += 12
    if count > (end - pos) // 2:
        _truncated(
            f"digests.count {count}", index, "digests.count", start, need=2 * count, have=end - pos
        )
    digests = []
    seen: set[int] = set()
    for j in range(count):
        if end - pos < 2:
            _truncated("hashAlg", index, f"digests[{j}].hashAlg", start, need=2, have=end - pos)
        alg = buf[pos] | (buf[pos + 1] << 8)
        size = sizes.get(alg)
        if size is None:
            raise MalformedInputError(
                ErrorCode.UNKNOWN_ALGORITHM,
                f"algorithm 0x{alg:04x} is not listed in the Spec ID event",
                field=f"events[{index}].digests[{j}].hashAlg",
                offset=start,
            )
        if alg in seen:
            raise MalformedInputError(
                ErrorCode.DUPLICATE_BANK,
                f"two digests for {alg_label(alg)}",
                field=f"events[{index}].digests[{j}].hashAlg",
                offset=start,
            )
        seen.add(alg)
        pos += 2
        if end - pos < size:
            _truncated("digest", index, f"digests[{j}].digest", start, need=size, have=end - pos)
        digests.append((alg, buf[pos : pos + size]))
        pos += size
    if end - pos < 4:
        _truncated("eventSize", index, "eventSize", start, need=4, have=end - pos)
    (size,) = _U32.unpack_from(buf, pos)
    pos += 4
    if size > end - pos:
        _truncated("event data", index, "eventSize", start, need=size, have=end - pos)
    entry = _entry(index, start, pcr, etype, tuple(digests), buf[pos : pos + size])
    return entry, pos + size


def _agile_records(buf: bytes, pos: int, events: list[EventLogEntry], spec_id: SpecId) -> None:
    """(3) Every record after the header, appended to `events`. The usual record (one
    digest per Spec ID algorithm, in the Spec ID's order, all bytes present) is read
    with one precompiled struct; any other goes through `_agile_record`, which checks
    each field and raises the error that names it."""
    sizes = dict(spec_id.algorithms)
    algs = tuple(alg for alg, _ in spec_id.algorithms)
    n = len(algs)
    layout = struct.Struct("<III" + "".join(f"H{size}s" for _, size in spec_id.algorithms) + "I")
    head = layout.size
    unpack = layout.unpack_from
    append = events.append
    entry = _entry
    end = len(buf)
    index = len(events)
    x1 = algs[0]
    x2 = algs[1] if n > 1 else -1
    x3 = algs[2] if n > 2 else -1
    while pos < end:
        if end - pos >= head:
            v = unpack(buf, pos)
            size = v[-1]
            at = pos + head
            if v[2] == n and size <= end - at and v[3] == x1:
                if n == 2:
                    if v[5] == x2:
                        append(
                            entry(
                                index,
                                pos,
                                v[0],
                                v[1],
                                ((x1, v[4]), (x2, v[6])),
                                buf[at : at + size],
                            )
                        )
                        pos = at + size
                        index += 1
                        continue
                elif n == 1:
                    append(entry(index, pos, v[0], v[1], ((x1, v[4]),), buf[at : at + size]))
                    pos = at + size
                    index += 1
                    continue
                elif n == 3:
                    if v[5] == x2 and v[7] == x3:
                        digests: tuple[tuple[int, bytes], ...] = (
                            (x1, v[4]),
                            (x2, v[6]),
                            (x3, v[8]),
                        )
                        append(entry(index, pos, v[0], v[1], digests, buf[at : at + size]))
                        pos = at + size
                        index += 1
                        continue
                elif v[3:-1:2] == algs:
                    digests = tuple(zip(algs, v[4:-1:2], strict=True))
                    append(entry(index, pos, v[0], v[1], digests, buf[at : at + size]))
                    pos = at + size
                    index += 1
                    continue
        record, pos = _agile_record(buf, pos, index, sizes)
        append(record)
        index += 1


def parse_event_log(data: bytes | bytearray | memoryview) -> EventLog:
    """Parse a TCG PC Client event log.

    (1) The first record is a TCG_PCR_EVENT. (2) If it is the Spec ID event (PCR 0,
    EV_NO_ACTION, zero digest, signature "Spec ID Event03\\0"), the log is crypto-agile and
    (3) every later record is a TCG_PCR_EVENT2 whose digest sizes come from the Spec ID
    table only; else (4) every record is a TCG_PCR_EVENT. Raises MalformedInputError:
    TRUNCATED, INVALID_SPEC_ID_EVENT, UNKNOWN_ALGORITHM, DUPLICATE_BANK, INVALID_DOCUMENT.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, f"expected bytes, got {type(data).__name__}"
        )
    mv = memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)
    if len(mv) == 0:
        _truncated("empty log", 0, "pcrIndex", 0, need=_SHA1_HEADER, have=0)
    # (1)
    first, pos = _sha1_record(mv, 0, 0)
    events = [first]
    end = len(mv)
    if not _is_spec_id_header(first):
        # (4)
        index = 1
        while pos < end:
            entry, pos = _sha1_record(mv, pos, index)
            events.append(entry)
            index += 1
        return EventLog("sha1", None, tuple(events))
    # (2)
    spec_id = _parse_spec_id(first.data, 0)
    # (3)
    buf = data if data.__class__ is bytes else mv.tobytes()
    with _gc_paused():
        _agile_records(buf, pos, events, spec_id)
    return EventLog("crypto-agile", spec_id, tuple(events))
