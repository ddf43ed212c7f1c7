"""TCG PC Client event logs, part 3: verification against PCR values, and reading
those values (tpm2_pcrread YAML or JSON). Spec: docs/adr/0002-eventlog-contract.md
"Verification". Public names are re-exported by `chainoftrust.spec.eventlog`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from chainoftrust.spec._eventlog_parse import (
    PCR_COUNT,
    EventLog,
)
from chainoftrust.spec._eventlog_replay import (
    Finding,
    replay_event_log,
)
from chainoftrust.spec._uefi import JsonObject
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    digest_size,
    hash_alg_from_name,
    hash_alg_name,
)


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
