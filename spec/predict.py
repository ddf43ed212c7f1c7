"""Predict PCR values from an operations document (`chainoftrust pcr predict`).

Spec: PROJECT adr.0001 "Operations document" - the document's shape, its order of
checks and its output; the operations themselves run on chainoftrust.spec.pcr.Tpm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, TypeGuard

from chainoftrust.spec.errors import ErrorCode, MalformedInputError, SpecError, TpmRefusalError
from chainoftrust.spec.hashes import HashAlg, digest_size, hash_alg_from_name, hash_alg_name
from chainoftrust.spec.pcr import (
    EVENT_DATA_MAX,
    LOCALITY_COUNT,
    PCR_COUNT,
    STARTUP_TYPES,
    TPM_RC_INITIALIZE,
    Tpm,
)

#: PROJECT adr.0001: the keys each operation must have.
_REQUIRED: Final[dict[str, tuple[str, ...]]] = {
    "startup": ("op", "type"),
    "shutdown": ("op", "type"),
    "extend": ("op", "pcr", "digests"),
    "event": ("op", "pcr", "data"),
    "reset": ("op", "pcr"),
    "hcrtm": ("op", "data"),
    "drtm": ("op", "data"),
}
#: PROJECT adr.0001: "locality defaults to 0 wherever it is allowed".
_TAKES_LOCALITY: Final = frozenset({"startup", "extend", "event", "reset"})
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Operation:
    """One validated operation of the document (PROJECT adr.0001)."""

    op: str
    type: str = ""
    pcr: int = 0
    locality: int = 0
    digests: tuple[tuple[HashAlg, bytes], ...] = ()
    data: bytes = b""


def _is_int(value: object) -> TypeGuard[int]:
    """JSON integers only: a bool is not an integer (PROJECT adr.0001)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid(field: str, message: str) -> MalformedInputError:
    """INVALID_DOCUMENT naming the field's path (PROJECT adr.0001)."""
    return MalformedInputError(ErrorCode.INVALID_DOCUMENT, message, field=field)


def _alg_from_name(name: str, field: str) -> HashAlg:
    """TCG-ALG: the algorithm a tpm2-tools name denotes; the error names the field."""
    try:
        return hash_alg_from_name(name)
    except MalformedInputError as err:
        raise MalformedInputError(err.code, err.message, field=field) from err


def parse_hex(text: object, field: str) -> bytes:
    """Spec: PROJECT adr.0001 hex - even-length hex, either case, no prefix, to bytes."""
    if not isinstance(text, str):
        raise _invalid(field, "must be a hex string")
    if len(text) % 2 != 0 or not set(text) <= _HEX_DIGITS:
        raise MalformedInputError(
            ErrorCode.INVALID_HEX, "not even-length hex without prefix", field=field
        )
    return bytes.fromhex(text)


def parse_banks(value: object) -> tuple[HashAlg, ...]:
    """Spec: PROJECT adr.0001 check order 1 - banks: a non-empty list of distinct names.

    Steps:
      (1) a list, else INVALID_DOCUMENT;
      (2) in list order: a string (INVALID_DOCUMENT), a known name (UNKNOWN_ALGORITHM),
          not listed before (DUPLICATE_BANK);
      (3) at least one bank, else NO_BANKS.
    """
    # (1)
    if not isinstance(value, list):
        raise _invalid("banks", "must be a list of hash algorithm names")
    # (2)
    banks: list[HashAlg] = []
    for index, name in enumerate(value):
        field = f"banks[{index}]"
        if not isinstance(name, str):
            raise _invalid(field, "must be a hash algorithm name")
        alg = _alg_from_name(name, field)
        if alg in banks:
            raise MalformedInputError(
                ErrorCode.DUPLICATE_BANK, f"bank {name} listed twice", field=field
            )
        banks.append(alg)
    # (3)
    if not banks:
        raise MalformedInputError(ErrorCode.NO_BANKS, "no PCR bank listed", field="banks")
    return tuple(banks)


def _parse_type(value: dict[str, object], where: str) -> str:
    """PROJECT adr.0001: `type` is "clear" or "state" (TPM2-P2 TPM_SU)."""
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in STARTUP_TYPES:
        raise _invalid(f"{where}.type", "must be 'clear' or 'state'")
    return kind


def _parse_pcr(value: dict[str, object], where: str) -> int:
    """PROJECT adr.0001: `pcr` an integer (INVALID_DOCUMENT) in 0..23 (PCR_INDEX_OUT_OF_RANGE)."""
    pcr = value.get("pcr")
    if not _is_int(pcr):
        raise _invalid(f"{where}.pcr", "must be an integer")
    if not 0 <= pcr < PCR_COUNT:
        raise MalformedInputError(
            ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR {pcr} is not in 0..23", field=f"{where}.pcr"
        )
    return pcr


def _parse_locality(value: dict[str, object], where: str) -> int:
    """PROJECT adr.0001: `locality` (default 0) an integer in 0..4 (INVALID_LOCALITY)."""
    locality = value.get("locality", 0)
    if not _is_int(locality):
        raise _invalid(f"{where}.locality", "must be an integer")
    if not 0 <= locality < LOCALITY_COUNT:
        raise MalformedInputError(
            ErrorCode.INVALID_LOCALITY,
            f"locality {locality} is not in 0..4",
            field=f"{where}.locality",
        )
    return locality


def _parse_digests(value: dict[str, object], where: str) -> tuple[tuple[HashAlg, bytes], ...]:
    """PROJECT adr.0001: `digests` an object; per key in document order: name, hex, size."""
    digests = value.get("digests")
    if not isinstance(digests, dict):
        raise _invalid(f"{where}.digests", "must be an object of algorithm name to hex")
    parsed: list[tuple[HashAlg, bytes]] = []
    for name, text in digests.items():
        field = f"{where}.digests.{name}"
        alg = _alg_from_name(name, field)
        digest = parse_hex(text, field)
        if len(digest) != digest_size(alg):
            raise MalformedInputError(
                ErrorCode.DIGEST_SIZE_MISMATCH,
                f"{name} digest is {len(digest)} octets, not {digest_size(alg)}",
                field=field,
            )
        parsed.append((alg, digest))
    return tuple(parsed)


def _parse_data(value: dict[str, object], where: str, op: str) -> bytes:
    """PROJECT adr.0001: `data` hex; for event at most 1024 octets (TPM2-P3 22.3)."""
    data = parse_hex(value.get("data"), f"{where}.data")
    if op == "event" and len(data) > EVENT_DATA_MAX:
        raise MalformedInputError(
            ErrorCode.EVENT_DATA_TOO_LARGE,
            f"event data is {len(data)} octets, at most {EVENT_DATA_MAX}",
            field=f"{where}.data",
        )
    return data


def parse_operation(value: object, index: int) -> Operation:
    """Spec: PROJECT adr.0001 check order 2 - validate one operation whole.

    Steps, in the contract's order:
      (1) an object whose `op` is a string (INVALID_DOCUMENT) naming a known
          operation (UNKNOWN_OPERATION);
      (2) no unknown keys, in document order (INVALID_DOCUMENT);
      (3) `type`; (4) `pcr` (type, then range); (5) `locality` (type, then range);
      (6) `digests` (an object; per key: name, hex, size) or `data` (hex, then size).
    """
    where = f"operations[{index}]"
    # (1)
    if not isinstance(value, dict):
        raise _invalid(where, "must be an object")
    op = value.get("op")
    if not isinstance(op, str):
        raise _invalid(f"{where}.op", "must be an operation name")
    if op not in _REQUIRED:
        raise MalformedInputError(
            ErrorCode.UNKNOWN_OPERATION, f"unknown operation {op!r}", field=f"{where}.op"
        )
    required = _REQUIRED[op]
    # (2)
    allowed = set(required) | ({"locality"} if op in _TAKES_LOCALITY else set())
    for key in value:
        if key not in allowed:
            raise _invalid(f"{where}.{key}", f"{op} takes no key {key!r}")
    # (3)
    kind = _parse_type(value, where) if "type" in required else ""
    # (4)
    pcr = _parse_pcr(value, where) if "pcr" in required else 0
    # (5)
    locality = _parse_locality(value, where) if op in _TAKES_LOCALITY else 0
    # (6)
    digests = _parse_digests(value, where) if "digests" in required else ()
    data = _parse_data(value, where, op) if "data" in required else b""
    return Operation(op, kind, pcr, locality, digests, data)


def run_operation(tpm: Tpm, operation: Operation) -> None:
    """Spec: PROJECT adr.0001 check order 3 - execute one validated operation on the Tpm."""
    if operation.op == "startup":
        tpm.startup(operation.type, operation.locality)
    elif operation.op == "shutdown":
        tpm.shutdown(operation.type)
    elif operation.op == "extend":
        tpm.extend(operation.pcr, operation.locality, operation.digests)
    elif operation.op == "event":
        tpm.event(operation.pcr, operation.locality, operation.data)
    elif operation.op == "reset":
        tpm.reset(operation.pcr, operation.locality)
    elif operation.op == "hcrtm":
        tpm.hcrtm(operation.data)
    else:  # "drtm": parse_operation admits no other name
        tpm.drtm(operation.data)


def predict(document: object) -> dict[str, object]:
    """Spec: PROJECT adr.0001 Operations document - run the operations, return the PCRs.

    Steps:
      (1) the document is an object with exactly `banks` and `operations`: unknown keys
          first (document order), then `banks` (parse_banks), then `operations` (a list);
      (2) each operation in order: validated whole, then executed; an error carries
          `.operation`, the operation's index;
      (3) a TPM left not started -> NOT_STARTED, operation null;
      (4) {"pcrs": {bank name: {"0": hex, ..., "23": hex}}}, banks ascending TPM_ALG_ID.
    """
    # (1)
    if not isinstance(document, dict):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, "the document must be an object with banks and operations"
        )
    for key in document:
        if key not in ("banks", "operations"):
            raise _invalid(str(key), f"unknown key {key!r}")
    tpm = Tpm(parse_banks(document.get("banks")))
    operations = document.get("operations")
    if not isinstance(operations, list):
        raise _invalid("operations", "must be a list")
    # (2)
    for index, value in enumerate(operations):
        try:
            run_operation(tpm, parse_operation(value, index))
        except SpecError as err:
            err.operation = index
            raise
    # (3)
    if not tpm.started:
        raise TpmRefusalError(
            ErrorCode.NOT_STARTED, "the TPM is not started at the end", tpm_rc=TPM_RC_INITIALIZE
        )
    # (4)
    return {
        "pcrs": {
            hash_alg_name(alg): {str(pcr): value.hex() for pcr, value in enumerate(values)}
            for alg, values in tpm.read().items()
        }
    }
