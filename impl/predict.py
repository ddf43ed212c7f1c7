"""Run an operations document through `Tpm` and return the PCR values it leaves.

The document format, its error codes and the order of checks are those of
docs/adr/0001-pcr-contract.md ("Operations document"): the document first; then, per
operation in order, the whole operation is validated (op, unknown keys, type, pcr,
locality, digests or data) and then executed. Every error carries `.operation` (the
index, or None for the document and for ending not started) and `.field` (a JSON path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainoftrust.impl.errors import ErrorCode, ImplError, MalformedInputError, TpmRefusalError
from chainoftrust.impl.hashes import _BY_NAME, DIGEST_SIZES, HashAlg, hash_alg_name
from chainoftrust.impl.pcr import (
    LOCALITY_COUNT,
    MAX_EVENT_DATA,
    PCR_COUNT,
    TPM_RC_INITIALIZE,
    Tpm,
)

_DOCUMENT_KEYS = ("banks", "operations")
# Keys each operation may carry besides "op" (ADR 0001), in the order they are checked.
_OPERATION_KEYS: dict[str, frozenset[str]] = {
    "startup": frozenset({"op", "type", "locality"}),
    "shutdown": frozenset({"op", "type"}),
    "extend": frozenset({"op", "pcr", "locality", "digests"}),
    "event": frozenset({"op", "pcr", "locality", "data"}),
    "reset": frozenset({"op", "pcr", "locality"}),
    "hcrtm": frozenset({"op", "data"}),
    "drtm": frozenset({"op", "data"}),
}


def _invalid(message: str, field: str | None) -> MalformedInputError:
    return MalformedInputError(ErrorCode.INVALID_DOCUMENT, message, field=field)


def _check_banks(document: object) -> list[HashAlg]:
    """Step 1 of the order of checks: the document object, its banks and operations."""
    if not isinstance(document, dict):
        raise _invalid("the document must be a JSON object", None)
    for key in document:
        if key not in _DOCUMENT_KEYS:
            raise _invalid(f"unknown key {key!r}", str(key))
    for key in _DOCUMENT_KEYS:
        if key not in document:
            raise _invalid(f"missing key {key!r}", key)
    names = document["banks"]
    if not isinstance(names, list):
        raise _invalid("banks must be a list of algorithm names", "banks")
    if not names:
        raise MalformedInputError(ErrorCode.NO_BANKS, "no PCR bank allocated", field="banks")
    banks: list[HashAlg] = []
    for index, name in enumerate(names):
        field = f"banks[{index}]"
        if not isinstance(name, str):
            raise _invalid("a bank is an algorithm name (a string)", field)
        alg = _BY_NAME.get(name)
        if alg is None:
            raise MalformedInputError(
                ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm name {name!r}", field=field
            )
        if alg in banks:
            raise MalformedInputError(
                ErrorCode.DUPLICATE_BANK, f"bank {name} listed twice", field=field
            )
        banks.append(alg)
    if not isinstance(document["operations"], list):
        raise _invalid("operations must be a list", "operations")
    return banks


def _integer(op: dict[str, Any], key: str, where: str, limit: int, code: ErrorCode) -> int:
    value = op[key]
    if value.__class__ is not int:  # a bool is not an integer; nor is 7.0
        raise _invalid(f"{key} must be an integer", f"{where}.{key}")
    if not 0 <= value < limit:
        raise MalformedInputError(
            code, f"{key} {value} is not in 0..{limit - 1}", field=f"{where}.{key}"
        )
    return value


def _required(op: dict[str, Any], key: str, where: str) -> Any:
    if key not in op:
        raise _invalid(f"missing key {key!r}", f"{where}.{key}")
    return op[key]


def _pcr(op: dict[str, Any], where: str) -> int:
    _required(op, "pcr", where)
    return _integer(op, "pcr", where, PCR_COUNT, ErrorCode.PCR_INDEX_OUT_OF_RANGE)


def _locality(op: dict[str, Any], where: str) -> int:
    if "locality" not in op:
        return 0
    return _integer(op, "locality", where, LOCALITY_COUNT, ErrorCode.INVALID_LOCALITY)


def _hex(value: object, field: str) -> bytes:
    """Even-length hex, any letter case, no prefix, no whitespace."""
    if value.__class__ is not str:
        raise _invalid("expected a hex string", field)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = None
    if raw is None or 2 * len(raw) != len(value):
        raise MalformedInputError(ErrorCode.INVALID_HEX, "not even-length hex", field=field)
    return raw


def _type(op: dict[str, Any], where: str) -> str:
    value = _required(op, "type", where)
    if value.__class__ is not str or value not in ("clear", "state"):
        raise _invalid('type must be "clear" or "state"', f"{where}.type")
    return value


def _digests(op: dict[str, Any], where: str) -> list[tuple[HashAlg, bytes]]:
    digests = _required(op, "digests", where)
    if not isinstance(digests, dict):
        raise _invalid("digests must be an object of algorithm name -> hex", f"{where}.digests")
    pairs: list[tuple[HashAlg, bytes]] = []
    for name, text in digests.items():
        field = f"{where}.digests.{name}"
        alg = _BY_NAME.get(name)
        if alg is None:
            raise MalformedInputError(
                ErrorCode.UNKNOWN_ALGORITHM, f"unknown hash algorithm name {name!r}", field=field
            )
        digest = _hex(text, field)
        if len(digest) != DIGEST_SIZES[alg]:
            raise MalformedInputError(
                ErrorCode.DIGEST_SIZE_MISMATCH,
                f"{name} digest has {len(digest)} bytes, expected {DIGEST_SIZES[alg]}",
                field=field,
            )
        pairs.append((alg, digest))
    return pairs


def _data(op: dict[str, Any], where: str, limit: int | None) -> bytes:
    data = _hex(_required(op, "data", where), f"{where}.data")
    if limit is not None and len(data) > limit:
        raise MalformedInputError(
            ErrorCode.EVENT_DATA_TOO_LARGE,
            f"event data has {len(data)} bytes, at most {limit} (TPM2B_EVENT)",
            field=f"{where}.data",
        )
    return data


def _prepare(op: object, where: str) -> Callable[[Tpm], None]:
    """Step 2: validate one operation whole; return the call that executes it."""
    if not isinstance(op, dict):
        raise _invalid("an operation must be a JSON object", where)
    name = _required(op, "op", where)
    if name.__class__ is not str:
        raise _invalid("op must be a string", f"{where}.op")
    allowed = _OPERATION_KEYS.get(name)
    if allowed is None:
        raise MalformedInputError(
            ErrorCode.UNKNOWN_OPERATION, f"unknown operation {name!r}", field=f"{where}.op"
        )
    for key in op:
        if key not in allowed:
            raise _invalid(f"unknown key {key!r} for {name}", f"{where}.{key}")
    if name == "extend":
        pcr, locality = _pcr(op, where), _locality(op, where)
        pairs = _digests(op, where)
        return lambda tpm: tpm.extend(pcr, locality, pairs)
    if name == "event":
        pcr, locality = _pcr(op, where), _locality(op, where)
        data = _data(op, where, MAX_EVENT_DATA)
        return lambda tpm: tpm.event(pcr, locality, data)
    if name == "startup":
        startup_type, locality = _type(op, where), _locality(op, where)
        return lambda tpm: tpm.startup(startup_type, locality)
    if name == "shutdown":
        shutdown_type = _type(op, where)
        return lambda tpm: tpm.shutdown(shutdown_type)
    if name == "reset":
        pcr, locality = _pcr(op, where), _locality(op, where)
        return lambda tpm: tpm.reset(pcr, locality)
    data = _data(op, where, None)
    if name == "hcrtm":
        return lambda tpm: tpm.hcrtm(data)
    return lambda tpm: tpm.drtm(data)


def predict(document: object) -> dict[str, Any]:
    """Run the document; return {"pcrs": {bank: {"0": hex, ..., "23": hex}}}, banks in
    ascending TPM_ALG_ID. Raises the package's errors with `.operation` set."""
    tpm = Tpm(_check_banks(document))
    operations: list[object] = document["operations"]  # type: ignore[index]
    for index, op in enumerate(operations):
        try:
            _prepare(op, f"operations[{index}]")(tpm)
        except ImplError as err:
            err.operation = index
            raise
    if not tpm.started:
        raise TpmRefusalError(
            ErrorCode.NOT_STARTED,
            "the document ends with the TPM not started (no TPM2_Startup after power-on)",
            tpm_rc=TPM_RC_INITIALIZE,
        )
    return {
        "pcrs": {
            hash_alg_name(alg): {str(pcr): value.hex() for pcr, value in enumerate(values)}
            for alg, values in tpm.read().items()
        }
    }
