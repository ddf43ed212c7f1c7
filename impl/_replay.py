"""Replay of a parsed event log and the event-data checks (docs/adr/0002-eventlog-contract.md).

Sources: PFP 1.05r23 (Events table and the PCRs it places each type in; EV_SEPARATOR;
TCG_EfiStartupLocalityEvent; EV_EFI_HCRTM_EVENT; UEFI_VARIABLE_DATA), ms-tpm-20-ref
`PCRStartup` (start values: 17-22 all ones, PCR 0's last byte the startup locality) and
`PcrDrtm` before Startup (H-CRTM: PCR 0 = 00..04, then extend). The hot loop binds
hashlib constructors once and keeps each bank as a list of 24 values.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import Any

from chainoftrust.impl import _uefi
from chainoftrust.impl._eventlog_parse import EventLog, EventLogEntry, EventType, SpecId, alg_label
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_name, hasher_factory

PCR_COUNT = 24
_ET = EventType
_NO_ACTION = int(_ET.EV_NO_ACTION)
_SEPARATOR = int(_ET.EV_SEPARATOR)
_HCRTM = int(_ET.EV_EFI_HCRTM_EVENT)
_KNOWN_TYPES = frozenset(int(t) for t in EventType)

# PFP "Events" table: the PCRs (of 0-7, the range the PFP governs) each type may extend.
# Types the PFP leaves to the OS or deprecates without a placement (EV_EVENT_TAG, EV_IPL,
# EV_IPL_PARTITION_DATA, EV_PREBOOT_CERT, EV_UNUSED) and every event in PCRs 8-23 are
# not checked. Nor is EV_NO_ACTION: it never extends (ADR 0002 amendment 2 item 4).
_ALLOWED_PCRS: dict[int, frozenset[int]] = {
    int(t): frozenset(p)
    for t, p in (
        (_ET.EV_POST_CODE, (0,)),
        (_ET.EV_SEPARATOR, range(8)),
        (_ET.EV_ACTION, range(1, 7)),
        (_ET.EV_S_CRTM_CONTENTS, (0,)),
        (_ET.EV_S_CRTM_VERSION, (0,)),
        (_ET.EV_CPU_MICROCODE, (1,)),
        (_ET.EV_PLATFORM_CONFIG_FLAGS, (1,)),
        (_ET.EV_TABLE_OF_DEVICES, (1,)),
        (_ET.EV_COMPACT_HASH, range(4, 8)),
        (_ET.EV_NONHOST_CODE, (0, 2)),
        (_ET.EV_NONHOST_CONFIG, (1, 3)),
        (_ET.EV_NONHOST_INFO, (0,)),
        (_ET.EV_OMIT_BOOT_DEVICE_EVENTS, (4,)),
        (_ET.EV_EFI_VARIABLE_DRIVER_CONFIG, (1, 3, 5, 7)),
        (_ET.EV_EFI_VARIABLE_BOOT, (1,)),
        (_ET.EV_EFI_BOOT_SERVICES_APPLICATION, (2, 4)),
        (_ET.EV_EFI_BOOT_SERVICES_DRIVER, (0, 2)),
        (_ET.EV_EFI_RUNTIME_SERVICES_DRIVER, (0, 2)),
        (_ET.EV_EFI_GPT_EVENT, (5,)),
        (_ET.EV_EFI_ACTION, range(1, 8)),
        (_ET.EV_EFI_PLATFORM_FIRMWARE_BLOB, (0, 2, 4)),
        (_ET.EV_EFI_HANDOFF_TABLES, (1,)),
        (_ET.EV_EFI_PLATFORM_FIRMWARE_BLOB2, (0, 2, 4)),
        (_ET.EV_EFI_HANDOFF_TABLES2, (1,)),
        (_ET.EV_EFI_VARIABLE_BOOT2, (1,)),
        (_ET.EV_EFI_GPT_EVENT2, (5,)),
        (_ET.EV_EFI_HCRTM_EVENT, (0,)),
        (_ET.EV_EFI_VARIABLE_AUTHORITY, (7,)),
        (_ET.EV_EFI_SPDM_FIRMWARE_BLOB, (0, 2)),
        (_ET.EV_EFI_SPDM_FIRMWARE_CONFIG, (1, 3)),
        (_ET.EV_EFI_SPDM_DEVICE_POLICY, (7,)),
        (_ET.EV_EFI_SPDM_DEVICE_AUTHORITY, (7,)),
    )
}
# EVENT_AFTER_SEPARATOR (ADR 0002 Amendment 1 item 1): firmware measures boot applications
# (PCR 4), the GPT (PCR 5) and boot variables (PCR 1) after the separators, so only a
# second EV_SEPARATOR in one PCR 0-7, and a Secure Boot policy variable
# (EV_EFI_VARIABLE_DRIVER_CONFIG) in PCR 7 after PCR 7's separator, are findings.
_DRIVER_CONFIG = int(_ET.EV_EFI_VARIABLE_DRIVER_CONFIG)
_SECURE_BOOT_PCR = 7

# Types whose digest is a digest of their whole data (ADR 0002 "Event data checks" as
# narrowed by Amendment 1 item 2: the types every real log of the corpus digests that way;
# EV_S_CRTM_VERSION, EV_EVENT_TAG, EV_PLATFORM_CONFIG_FLAGS, EV_TABLE_OF_DEVICES and
# EV_NONHOST_INFO are not checked, the PFP lets firmware digest something else).
_WHOLE_DATA_TYPES = frozenset(
    int(t)
    for t in (
        _ET.EV_SEPARATOR,
        _ET.EV_EFI_VARIABLE_DRIVER_CONFIG,
        _ET.EV_EFI_ACTION,
        _ET.EV_ACTION,
        _ET.EV_EFI_GPT_EVENT,
        _ET.EV_OMIT_BOOT_DEVICE_EVENTS,
    )
)
_VARIABLE_BOOT = int(_ET.EV_EFI_VARIABLE_BOOT)
_VARIABLE_BOOT2 = int(_ET.EV_EFI_VARIABLE_BOOT2)
_AUTHORITY = int(_ET.EV_EFI_VARIABLE_AUTHORITY)
CHECKED_TYPES = _WHOLE_DATA_TYPES | {_VARIABLE_BOOT, _VARIABLE_BOOT2, _AUTHORITY}
_SEPARATOR_ERROR_DATA = frozenset({b"\x01\x00\x00\x00", b"\xff\xff\xff\xff"})
# Amendment 1 item 3: the convention that is `match` for each type, and the quirk name
# when the other one matches instead.
QUIRK_VARIABLE_BOOT = "efi_variable_boot_whole_data"
QUIRK_VARIABLE_BOOT2 = "efi_variable_boot2_data_only"
QUIRK_AUTHORITY_BYTE = "efi_variable_authority_trailing_byte"


@dataclass(frozen=True, slots=True)
class ReplayWarning:
    """A finding of the replay: `event` is the event's index, None for per-log findings."""

    code: ErrorCode
    event: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "event": self.event, "message": self.message}


@dataclass(frozen=True, slots=True)
class Replay:
    """PCR values a log implies. `pcrs[bank][pcr]` lists the PCRs the log names;
    `extended_by[bank][pcr]` the indices of the events that extended it in that bank."""

    pcrs: dict[str, dict[int, bytes]]
    extended_by: dict[str, dict[int, tuple[int, ...]]]
    warnings: tuple[ReplayWarning, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "pcrs": {
                bank: {str(p): v.hex() for p, v in sorted(values.items())}
                for bank, values in self.pcrs.items()
            },
            "warnings": [w.to_json() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class DataCheck:
    """Whether an event's digests are digests of its data (per bank)."""

    event: int
    type: int
    status: str  # "match" | "match_quirk" | "mismatch" | "separator_error"
    banks: dict[str, str]
    quirk: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "event": self.event,
            "type": EventType.name_of(self.type),
            "status": self.status,
            "banks": dict(self.banks),
            "quirk": self.quirk,
        }


_FACTORIES: dict[int, Any] = {int(a): hasher_factory(a) for a in HashAlg}
_NAMES: dict[int, str] = {int(a): hash_alg_name(a) for a in HashAlg}


def _known_digests(entry: EventLogEntry) -> list[tuple[int, bytes, Any]]:
    # an algorithm we do not know cannot be recomputed: skipped
    return [(a, d, _FACTORIES[a]) for a, d in entry.digests if a in _FACTORIES]


def _compare(digests: list[tuple[int, bytes, Any]], data: bytes) -> dict[str, bool]:
    return {_NAMES[a]: f(data).digest() == d for a, d, f in digests}


def _variable_data(data: bytes) -> bytes | None:
    parts = _uefi.split_uefi_variable(data)
    return None if parts is None else parts[1]


def _conventions(etype: int, data: bytes) -> tuple[bytes | None, bytes | None, str | None]:
    """(bytes the PFP digests, bytes of the known firmware quirk, the quirk's name)."""
    if etype == _VARIABLE_BOOT:
        # PFP: VariableData only; some firmware digests the whole UEFI_VARIABLE_DATA
        return _variable_data(data), data, QUIRK_VARIABLE_BOOT
    if etype == _VARIABLE_BOOT2:
        # PFP 1.05: the whole UEFI_VARIABLE_DATA; VariableData only is the quirk
        return data, _variable_data(data), QUIRK_VARIABLE_BOOT2
    if etype == _AUTHORITY and data:
        # whole data; shim measures one byte more than it digested
        return data, data[:-1], QUIRK_AUTHORITY_BYTE
    return data, None, None


def check_event(entry: EventLogEntry) -> DataCheck | None:
    """The data check of one event (None when its type is not checked).

    (1) Pick the bytes the PFP digests and, for EV_EFI_VARIABLE_BOOT, _BOOT2 and
    _AUTHORITY, the bytes of the known firmware quirk (Amendment 1 item 3). (2) H(PFP
    bytes) in every bank: match; else H(quirk bytes) in every bank: match_quirk; else
    mismatch, banks as the PFP convention compares (the quirk's when the PFP bytes do not
    decode). (3) EV_SEPARATOR whose data is an error value: separator_error.
    """
    etype = entry.type
    if etype not in CHECKED_TYPES:
        return None
    digests = _known_digests(entry)
    data = entry.data
    # (1)
    primary, alternative, quirk_name = _conventions(etype, data)
    # (2)
    quirk: str | None = None
    result = _compare(digests, primary) if primary is not None else None
    if alternative is not None and (result is None or not all(result.values())):
        other = _compare(digests, alternative)
        if other and all(other.values()):
            result, quirk = other, quirk_name
        elif result is None:
            result = other
    if result is None:  # unreachable: the quirk bytes exist whenever the PFP's do not
        result = {}
    banks = {name: ("match" if ok else "mismatch") for name, ok in result.items()}
    if etype == _SEPARATOR and data in _SEPARATOR_ERROR_DATA:
        status = "separator_error"  # (3)
    elif not result or not all(result.values()):
        status = "mismatch"
    else:
        status = "match" if quirk is None else "match_quirk"
    return DataCheck(entry.index, etype, status, banks, quirk)


def check_event_data(log: EventLog) -> tuple[DataCheck, ...]:
    """Recompute the digests of the events whose digest is defined over their data."""
    out = []
    for entry in log.events:
        if entry.type in CHECKED_TYPES:
            check = check_event(entry)
            if check is not None:
                out.append(check)
    return tuple(out)


class _Findings:
    """Collects warnings; under strict mode the first one raises instead."""

    __slots__ = ("items", "strict")

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.items: list[ReplayWarning] = []

    def add(self, code: ErrorCode, entry: EventLogEntry | None, message: str, field: str) -> None:
        if self.strict and entry is not None:
            raise MalformedInputError(
                code, message, field=f"events[{entry.index}]{field}", offset=entry.offset
            )
        self.items.append(ReplayWarning(code, None if entry is None else entry.index, message))


def _banks(spec_id: SpecId | None) -> tuple[list[int], list[int]]:
    """(known bank ids ascending, unknown Spec ID algorithm ids in log order)."""
    if spec_id is None:
        return [int(HashAlg.SHA1)], []
    known: list[int] = []
    unknown: list[int] = []
    for alg, _size in spec_id.algorithms:
        (known if alg in HashAlg._value2member_map_ else unknown).append(alg)
    return sorted(known), unknown


class _State:
    """The replay's running state: PCR values per bank and what each PCR went through."""

    __slots__ = (
        "bank_ids",
        "ctors",
        "extended",
        "hcrtm_applied",
        "irregular",
        "locality_seen",
        "named",
        "pcr0_extended",
        "separated",
        "values",
    )

    def __init__(self, bank_ids: list[int]) -> None:
        self.bank_ids = bank_ids
        # (2) start values: 17-22 all ones, the others zero
        self.values: dict[int, list[bytes]] = {}
        self.ctors: dict[int, Any] = {}
        for alg in bank_ids:
            size = DIGEST_SIZES[HashAlg(alg)]
            self.values[alg] = [
                b"\xff" * size if 17 <= p <= 22 else bytes(size) for p in range(PCR_COUNT)
            ]
            self.ctors[alg] = hasher_factory(HashAlg(alg))
        # per PCR, in event order: an event index (it extended every bank) or
        # (index, algorithms it extended) for an event that did not carry the usual banks
        self.extended: list[Any] = [[] for _ in range(PCR_COUNT)]
        self.irregular = False
        self.named: set[int] = set()
        self.separated: set[int] = set()
        self.pcr0_extended = False
        self.locality_seen = False
        self.hcrtm_applied = False

    def extended_by(self, alg: int, pcr: int) -> tuple[int, ...]:
        items = self.extended[pcr]
        if not self.irregular:
            return tuple(items)
        out: list[int] = []
        for item in items:
            if item.__class__ is int:
                out.append(item)
            else:
                out.extend(item[0] for a in item[1] if a == alg)
        return tuple(out)


def _startup_locality(st: _State, entry: EventLogEntry, locality: int, add: Any) -> None:
    """(5) A StartupLocality event: the findings, then PCR 0's last byte."""
    st.named.add(0)
    if st.locality_seen:
        add(ErrorCode.DUPLICATE_STARTUP_LOCALITY, entry, "ignored", ".event")
    elif st.pcr0_extended:
        add(ErrorCode.STARTUP_LOCALITY_AFTER_EXTEND, entry, "ignored", ".event")
    elif locality not in (0, 3, 4):
        raise MalformedInputError(
            ErrorCode.INVALID_STARTUP_LOCALITY,
            f"StartupLocality {locality}: TPM2_Startup is accepted at 0 or 3; 4 is H-CRTM",
            field=f"events[{entry.index}].event",
            offset=entry.offset,
        )
    else:
        for values in st.values.values():
            values[0] = values[0][:-1] + bytes((locality,))
        st.hcrtm_applied = locality == 4
    st.locality_seen = True


def _extend_any(st: _State, entry: EventLogEntry, pcr: int, add: Any) -> None:
    """(7) An event without the usual digests: extend each bank it has a digest for."""
    done = []
    for alg, digest in entry.digests:
        values = st.values.get(alg)
        if values is None:
            continue
        values[pcr] = st.ctors[alg](values[pcr] + digest).digest()
        done.append(alg)
    st.extended[pcr].append((entry.index, tuple(done)))
    st.irregular = True
    if len(done) != len(st.bank_ids):
        present = {alg for alg, _ in entry.digests}
        for alg in st.bank_ids:
            if alg not in present:
                name = hash_alg_name(HashAlg(alg))
                add(ErrorCode.MISSING_BANK_DIGEST, entry, f"no {name} digest", ".digests")


def _data_check(entry: EventLogEntry, add: Any) -> None:
    """(8) DATA_DIGEST_MISMATCH when check_event says mismatch."""
    check = check_event(entry)
    if check is not None and check.status == "mismatch":
        bad = sorted(b for b, s in check.banks.items() if s == "mismatch")
        add(
            ErrorCode.DATA_DIGEST_MISMATCH,
            entry,
            f"{EventType.name_of(entry.type)} digest is not the digest of its data"
            + (f" ({', '.join(bad)})" if bad else ""),
            ".digests",
        )


def _usual_layout(
    spec_id: SpecId | None, bank_ids: list[int], unknown: list[int]
) -> tuple[int, ...]:
    """The algorithms, in order, of the usual event's digests: the Spec ID's (or sha1) when
    all are known and there are at most 3 (the fast path's cases); else ()."""
    if unknown:
        return ()
    layout = tuple(a for a, _ in spec_id.algorithms) if spec_id is not None else (bank_ids[0],)
    return layout if len(layout) <= 3 else ()


_UNKNOWN_TYPE: frozenset[int] = frozenset({-1})
# type -> the PCRs 0-7 it may extend (None: not restricted); unknown types are absent
_PLACEMENT: dict[int, frozenset[int] | None] = {t: _ALLOWED_PCRS.get(t) for t in _KNOWN_TYPES}


class _Replayer:
    """ADR 0002 replay rules 1-7 as an engine: `run` replays events (again and again, with
    the log's later events), `finish` adds the per-log findings and returns the Replay."""

    __slots__ = ("bank_ids", "findings", "layout", "st", "unknown")

    def __init__(self, spec_id: SpecId | None, *, strict: bool, track: bool) -> None:
        self.findings = _Findings(strict)
        # (1), (2)
        self.bank_ids, self.unknown = _banks(spec_id)
        self.st = _State(self.bank_ids)
        if not track:
            self.st.extended = [deque(maxlen=0) for _ in range(PCR_COUNT)]  # memory stays flat
        self.layout = _usual_layout(spec_id, self.bank_ids, self.unknown)

    def run(self, events: Iterable[EventLogEntry]) -> None:
        """Rules 3-8 for each event, in order (the hot loop: locals bound once)."""
        findings = self.findings
        add = findings.add
        st = self.st
        layout = self.layout
        n = len(layout)
        x1, x2, x3 = (*layout, -1, -1, -1)[:3]
        s1, s2, s3 = (*(st.values[a] for a in layout), [], [], [])[:3]
        h1, h2, h3 = (*(st.ctors[a] for a in layout), None, None, None)[:3]
        extended = st.extended
        named_add = st.named.add
        separated = st.separated
        placement_get = _PLACEMENT.get
        unknown_type = _UNKNOWN_TYPE
        checked_types = CHECKED_TYPES
        for entry in events:
            pcr = entry.pcr
            etype = entry.type
            # (3)
            if pcr >= PCR_COUNT:
                add(ErrorCode.PCR_OUT_OF_RANGE, entry, f"PCR {pcr} is not a PCR", ".pcrIndex")
                continue
            # (4)
            allowed = placement_get(etype, unknown_type)
            if allowed is unknown_type:
                add(ErrorCode.UNKNOWN_EVENT_TYPE, entry, f"type 0x{etype:08x}", ".eventType")
            elif pcr < 8 and allowed is not None and pcr not in allowed:
                add(
                    ErrorCode.UNEXPECTED_PCR,
                    entry,
                    f"the PFP does not place {EventType.name_of(etype)} in PCR {pcr}",
                    ".pcrIndex",
                )
            # (5)
            if etype == _NO_ACTION:
                locality = _uefi.startup_locality(pcr, etype, entry.data)
                if locality is not None:
                    _startup_locality(st, entry, locality, add)
                continue
            named_add(pcr)
            if pcr in separated:
                if etype == _SEPARATOR or (etype == _DRIVER_CONFIG and pcr == _SECURE_BOOT_PCR):
                    what = "a second EV_SEPARATOR" if etype == _SEPARATOR else "Secure Boot policy"
                    add(
                        ErrorCode.EVENT_AFTER_SEPARATOR,
                        entry,
                        f"{what} ({EventType.name_of(etype)}) in PCR {pcr} after its EV_SEPARATOR",
                        "",
                    )
            elif etype == _SEPARATOR and pcr < 8:
                separated.add(pcr)
            if pcr == 0 and not st.pcr0_extended:
                st.pcr0_extended = True
                # (6)
                if etype == _HCRTM and not st.hcrtm_applied:
                    for values in st.values.values():
                        values[0] = bytes(len(values[0]) - 1) + b"\x04"
            # (7) and (8)
            digests = entry.digests
            usual = False
            if len(digests) == n:
                if n == 2:
                    (a1, d1), (a2, d2) = digests
                    if a1 == x1 and a2 == x2:
                        s1[pcr] = h1(s1[pcr] + d1).digest()
                        s2[pcr] = h2(s2[pcr] + d2).digest()
                        extended[pcr].append(entry.index)
                        usual = True
                        if etype in checked_types:
                            data = (
                                entry.data
                                if etype != _VARIABLE_BOOT
                                else _variable_data(entry.data)
                            )
                            if data is None or h1(data).digest() != d1 or h2(data).digest() != d2:
                                _data_check(entry, add)
                elif n == 3:
                    (a1, d1), (a2, d2), (a3, d3) = digests
                    if a1 == x1 and a2 == x2 and a3 == x3:
                        s1[pcr] = h1(s1[pcr] + d1).digest()
                        s2[pcr] = h2(s2[pcr] + d2).digest()
                        s3[pcr] = h3(s3[pcr] + d3).digest()
                        extended[pcr].append(entry.index)
                        usual = True
                        if etype in checked_types:
                            data = (
                                entry.data
                                if etype != _VARIABLE_BOOT
                                else _variable_data(entry.data)
                            )
                            if (
                                data is None
                                or h1(data).digest() != d1
                                or h2(data).digest() != d2
                                or h3(data).digest() != d3
                            ):
                                _data_check(entry, add)
                elif n == 1:
                    ((a1, d1),) = digests
                    if a1 == x1:
                        s1[pcr] = h1(s1[pcr] + d1).digest()
                        extended[pcr].append(entry.index)
                        usual = True
                        if etype in checked_types:
                            data = (
                                entry.data
                                if etype != _VARIABLE_BOOT
                                else _variable_data(entry.data)
                            )
                            if data is None or h1(data).digest() != d1:
                                _data_check(entry, add)
            if not usual:
                _extend_any(st, entry, pcr, add)
                if etype in checked_types:
                    _data_check(entry, add)

    def finish(self) -> Replay:
        """Per-log findings, then the Replay."""
        findings, st, unknown, bank_ids = self.findings, self.st, self.unknown, self.bank_ids
        separated = st.separated
        for alg in unknown:
            findings.items.append(
                ReplayWarning(
                    ErrorCode.UNKNOWN_ALGORITHM_SKIPPED,
                    None,
                    f"algorithm {alg_label(alg)} of the Spec ID event is not known: not replayed",
                )
            )
        # amendment 3: PCRs 0-7 extended without an EV_SEPARATOR
        for pcr in range(8):
            if pcr in st.named and pcr not in separated and (pcr or st.pcr0_extended):
                findings.items.append(
                    ReplayWarning(
                        ErrorCode.MISSING_SEPARATOR, None, f"no EV_SEPARATOR in PCR {pcr}, extended"
                    )
                )
        order = sorted(st.named)
        return Replay(
            pcrs={hash_alg_name(HashAlg(a)): {p: st.values[a][p] for p in order} for a in bank_ids},
            extended_by={
                hash_alg_name(HashAlg(a)): {p: st.extended_by(a, p) for p in order}
                for a in bank_ids
            },
            warnings=tuple(findings.items),
        )


def replay_event_log(log: EventLog, *, strict: bool = False, track: bool = True) -> Replay:
    """Replay `log` into PCR values per bank (ADR 0002 replay rules 1-7).

    (1) Banks: the Spec ID's known algorithms, or sha1. (2) Start values: 17-22 all ones,
    others zero. Per event: (3) PCR >= 24: not replayed. (4) Type and PCR placement
    findings. (5) EV_NO_ACTION never extends; a StartupLocality event sets PCR 0's last
    byte before any extend of PCR 0. Then EVENT_AFTER_SEPARATOR: a second EV_SEPARATOR in
    a PCR 0-7, or EV_EFI_VARIABLE_DRIVER_CONFIG in PCR 7 after PCR 7's separator
    (Amendment 1 item 1). (6) An EV_EFI_HCRTM_EVENT as first extend of PCR 0 sets PCR 0
    to 00..04 first. (7) Extend each bank the event has a digest for. (8) Data
    checks. Then per-log findings: unknown Spec ID algorithms, then each PCR 0-7 extended
    without an EV_SEPARATOR (MISSING_SEPARATOR, amendment 3).

    Speed: the event that carries exactly the usual digests (the Spec ID's algorithms in
    its order, at most 3) is extended and data-checked inline with the constructors
    bound once; any other event, and any data check that does not match at once, takes
    the general path (`_extend_any`, `check_event`), so the results are the same.
    `track=False` keeps no record of which events extended which PCR (`extended_by` is
    empty): the streaming replay's memory stays flat.
    """
    replayer = _Replayer(log.spec_id, strict=strict, track=track)
    replayer.run(islice(log.events, 1, None) if log.spec_id is not None else log.events)
    return replayer.finish()
