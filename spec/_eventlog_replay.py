"""TCG PC Client event logs, part 2: event-data checks and replay (ADR 0002 rules).

Spec: PFP "Event Logging" and docs/adr/0002-eventlog-contract.md. Public names are
re-exported by `chainoftrust.spec.eventlog`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

from chainoftrust.spec import _uefi
from chainoftrust.spec._eventlog_parse import (
    CHECKED_TYPES,
    DRTM_PCRS,
    HCRTM_LOCALITY,
    PCR_COUNT,
    PFP_PCRS,
    QUIRK_AUTHORITY_TRAILING_BYTE,
    QUIRK_VARIABLE_BOOT2_DATA_ONLY,
    QUIRK_VARIABLE_BOOT_WHOLE_DATA,
    SECURE_BOOT_POLICY_PCR,
    SEPARATOR_ERROR_VALUES,
    STARTUP_LOCALITIES,
    STRICT_CODES,
    UNRESTRICTED_TYPES,
    EventLog,
    EventLogEntry,
    EventType,
    _type_name,
)
from chainoftrust.spec._uefi import JsonObject
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    compute_digest,
    digest_size,
    hash_alg_name,
)


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
