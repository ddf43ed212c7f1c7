"""Measured and trusted boot: the chain document, the engine, its event log and claims.

Contract: docs/adr/0005-boot-contract.md. Sources: TCG PC Client Platform Firmware
Profile (PFP) for the event records (TCG_PCR_EVENT holding TCG_EfiSpecIdEvent
"Spec ID Event03", then TCG_PCR_EVENT2, all little-endian); ADR 0001 for the PCR start
values after TPM2_Startup(CLEAR) at locality 0 (taken from `impl.pcr.Tpm`); ADR 0002 for
replaying the log. Policies and their signatures are in `_boot_policy`, the swtpm driver
in `_boot_tpm`; this module is the public face and re-exports them.

For each layer in order the engine measures (digest per chain bank), extends the PCR,
appends the event record, then (trusted mode) checks the policy; a failed check halts
the boot before the layer runs, and nothing after it is measured, logged or run.
Measured mode never checks and never halts. Extends are computed directly (PCR_new =
H(PCR_old || digest)); a layer's PCR is one locality 0 may extend (0..16 and 23, ADR 0005
amendment 1 item 1: a real TPM at locality 0 refuses 17..22), checked by load_chain and
by Layer itself, so the log replays to the same values a TPM would hold.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeGuard

from chainoftrust.impl._boot_policy import (
    ALG_ECDSA_P256,
    ALG_ED25519,
    SIGNATURE_ALGS,
    PolicyStore,
    SignedPolicy,
    UpdateResult,
    digests_json,
    format_rfc3339,
    key_id,
    parse_rfc3339,
    parse_signed_policy,
    parse_trust_store,
    policy_signing_bytes,
    require_aware,
    validate_policy_body,
    verify_policy_signature,
)
from chainoftrust.impl._boot_tpm import (
    SwtpmClient,
    parse_tpm_address,
    verify_boot_on_tpm,
)
from chainoftrust.impl.errors import ErrorCode, MalformedInputError, UsageError
from chainoftrust.impl.hashes import (
    DIGEST_SIZES,
    HashAlg,
    hash_alg_from_name,
    hash_alg_name,
    hasher_factory,
)
from chainoftrust.impl.pcr import PCR_COUNT, Tpm, is_extend_allowed

__all__ = [
    "ALG_ECDSA_P256",
    "ALG_ED25519",
    "NOT_COVERED_SENTENCE",
    "SIGNATURE_ALGS",
    "BootResult",
    "Chain",
    "Halt",
    "Layer",
    "PolicyStore",
    "SignedPolicy",
    "SwtpmClient",
    "UpdateResult",
    "format_rfc3339",
    "key_id",
    "load_chain",
    "parse_rfc3339",
    "parse_signed_policy",
    "parse_tpm_address",
    "parse_trust_store",
    "policy_signing_bytes",
    "run_boot",
    "validate_policy_body",
    "verify_boot_on_tpm",
    "verify_policy_signature",
    "write_event_log",
]

MAX_BANKS = 8
MAX_LAYERS = 1024
MAX_NAME = 64
MODES = ("measured", "trusted")
NOT_COVERED_SENTENCE = (
    "a matching reference value says nothing about a layer's fitness, only that it is "
    "the layer the policy names"
)
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_LAYER_KEYS = frozenset({"name", "file", "data", "pcr", "eventType"})
# The event types a layer may carry (ADR 0005): types whose digest is not defined over
# their event data (PFP "Events" table codes).
EVENT_TYPES: dict[str, int] = {
    "EV_POST_CODE": 0x00000001,
    "EV_S_CRTM_CONTENTS": 0x00000007,
    "EV_IPL": 0x0000000D,
    "EV_COMPACT_HASH": 0x0000000C,
    "EV_EFI_BOOT_SERVICES_APPLICATION": 0x80000003,
    "EV_EFI_BOOT_SERVICES_DRIVER": 0x80000004,
    "EV_EFI_RUNTIME_SERVICES_DRIVER": 0x80000005,
    "EV_EFI_PLATFORM_FIRMWARE_BLOB": 0x80000008,
}
_EVENT_CODES = frozenset(EVENT_TYPES.values())
EV_NO_ACTION = 0x00000003
# PFP TCG_EfiSpecIdEvent: signature, platformClass, specVersionMinor/Major, specErrata,
# uintnSize (2: UINTN is 64 bits), numberOfAlgorithms.
_SPEC_ID_SIGNATURE = b"Spec ID Event03\x00"
_SPEC_ID_HEAD = struct.Struct("<IBBBBI")
_ALG_SIZE = struct.Struct("<HH")
_U32X2 = struct.Struct("<II")
_U32X3 = struct.Struct("<III")
_U32 = struct.Struct("<I")
_U16 = struct.Struct("<H")


def _invalid(message: str, where: str) -> MalformedInputError:
    return MalformedInputError(ErrorCode.INVALID_CHAIN, message, field=where)


# ------------------------------------------------------------------------ the chain


@dataclass(frozen=True, slots=True)
class Layer:
    """One boot layer: its name, its bytes, the PCR it is measured into, its event type."""

    name: str
    data: bytes
    pcr: int
    event_type: int

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or _NAME.fullmatch(self.name) is None:
            raise _invalid("1..64 characters of [A-Za-z0-9._-]", "name")
        if not isinstance(self.data, bytes):
            raise _invalid("layer data must be bytes", "data")
        if not _is_int(self.pcr) or not 0 <= self.pcr < PCR_COUNT:
            raise _invalid("an integer 0..23", "pcr")
        if not is_extend_allowed(self.pcr, 0):  # ADR 0005 amendment 1 item 1
            raise _invalid(f"PCR {self.pcr} cannot be extended at locality 0 (PTP)", "pcr")
        if not _is_int(self.event_type) or self.event_type not in _EVENT_CODES:
            raise _invalid("not an event type a layer may carry", "eventType")


@dataclass(frozen=True, slots=True)
class Chain:
    """The banks every layer is measured in, and the layers in boot order."""

    banks: tuple[HashAlg, ...]
    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        banks = self.banks
        if not isinstance(banks, tuple) or not 1 <= len(banks) <= MAX_BANKS:
            raise _invalid(f"1..{MAX_BANKS} banks", "banks")
        if not all(b.__class__ is HashAlg for b in banks) or len(set(banks)) != len(banks):
            raise _invalid("distinct HashAlg banks", "banks")
        layers = self.layers
        if not isinstance(layers, tuple) or not 1 <= len(layers) <= MAX_LAYERS:
            raise _invalid(f"1..{MAX_LAYERS} layers", "layers")
        if not all(isinstance(layer, Layer) for layer in layers):
            raise _invalid("Layer objects", "layers")
        if len({layer.name for layer in layers}) != len(layers):
            raise _invalid("layer names must be unique", "layers")


def _require(obj: dict[str, Any], key: str, where: str) -> Any:
    """obj[key]; a missing key is named by its field (checked when the field is read)."""
    if key not in obj:
        raise _invalid(f"missing key {key!r}", where)
    return obj[key]


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _chain_banks(value: object) -> tuple[HashAlg, ...]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BANKS:
        raise _invalid(f"expected a list of 1..{MAX_BANKS} bank names", "banks")
    banks: list[HashAlg] = []
    for n, name in enumerate(value):
        if not isinstance(name, str):
            raise _invalid("expected a bank name", f"banks[{n}]")
        try:
            alg = hash_alg_from_name(name)
        except MalformedInputError as exc:
            raise MalformedInputError(
                ErrorCode.UNKNOWN_ALGORITHM, f"unknown bank name {name!r}", field=f"banks[{n}]"
            ) from exc
        if alg in banks:
            raise _invalid(f"bank {name} listed twice", f"banks[{n}]")
        banks.append(alg)
    return tuple(banks)


def _event_type(value: object, where: str) -> int:
    if isinstance(value, str):
        code = EVENT_TYPES.get(value)
        if code is None:
            raise _invalid(f"event type {value!r} is not one a layer may carry", where)
        return code
    if not _is_int(value) or value not in _EVENT_CODES:
        raise _invalid(f"event type {value!r} is not one a layer may carry", where)
    return int(value)


def _layer_fields(item: object, n: int, seen: set[str]) -> tuple[str, bytes | str, int, int]:
    """A layer's checked fields; its content is bytes (`data`) or a path (`file`)."""
    where = f"layers[{n}]"
    if not isinstance(item, dict):
        raise _invalid("expected an object", where)
    for key in item:
        if key not in _LAYER_KEYS:
            raise _invalid(f"unknown key {key!r}", f"{where}.{key}")
    name = _require(item, "name", f"{where}.name")
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise _invalid("1..64 characters of [A-Za-z0-9._-]", f"{where}.name")
    if name in seen:
        raise _invalid(f"layer name {name!r} is used twice", f"{where}.name")
    if ("file" in item) == ("data" in item):
        raise _invalid("exactly one of file and data", f"{where}.file")
    content: bytes | str
    if "data" in item:
        data = item["data"]
        if not isinstance(data, str) or _HEX.fullmatch(data) is None:
            raise _invalid("expected an even number of hex digits", f"{where}.data")
        content = bytes.fromhex(data)
    else:
        path = item["file"]
        if not isinstance(path, str) or not path or "\x00" in path:
            raise _invalid("expected a path", f"{where}.file")
        content = path
    pcr = _require(item, "pcr", f"{where}.pcr")
    if not _is_int(pcr) or not 0 <= pcr < PCR_COUNT:
        raise _invalid("expected an integer 0..23", f"{where}.pcr")
    if not is_extend_allowed(pcr, 0):  # ADR 0005 amendment 1: locality 0 cannot extend 17-22
        raise _invalid(f"PCR {pcr} cannot be extended at locality 0 (PTP)", f"{where}.pcr")
    event_type = _event_type(
        _require(item, "eventType", f"{where}.eventType"), f"{where}.eventType"
    )
    return name, content, pcr, event_type


def _read_layer(content: bytes | str, base_dir: Path, n: int) -> bytes:
    """The layer's bytes: `data` as given, or the whole of the `file` it names."""
    if isinstance(content, bytes):
        return content
    path = Path(content)
    path = path if path.is_absolute() else Path(base_dir) / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MalformedInputError(
            ErrorCode.LAYER_UNREADABLE,
            f"cannot read layer file {path}: {exc.strerror or exc}",
            field=f"layers[{n}].file",
        ) from exc


def load_chain(document: object, base_dir: Path) -> Chain:
    """CHAIN.json as a Chain. The whole document is checked first (INVALID_CHAIN or
    UNKNOWN_ALGORITHM naming the field); only then are layer files read, relative to
    `base_dir` unless absolute (LAYER_UNREADABLE naming the layer's `file`)."""
    if not isinstance(document, dict):
        raise _invalid("expected an object with banks and layers", "$")
    for key in document:
        if key not in ("banks", "layers"):
            raise _invalid(f"unknown key {key!r}", str(key))
    banks = _chain_banks(_require(document, "banks", "banks"))
    items = _require(document, "layers", "layers")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_LAYERS:
        raise _invalid(f"expected a list of 1..{MAX_LAYERS} layers", "layers")
    seen: set[str] = set()
    checked = []
    for n, item in enumerate(items):
        fields = _layer_fields(item, n, seen)
        seen.add(fields[0])
        checked.append(fields)
    layers = [
        Layer(name=name, data=_read_layer(content, base_dir, n), pcr=pcr, event_type=event_type)
        for n, (name, content, pcr, event_type) in enumerate(checked)
    ]
    return Chain(banks=banks, layers=tuple(layers))


# ------------------------------------------------------------------------ the event log


def _spec_id_record(banks: Sequence[HashAlg]) -> bytes:
    """TCG_PCR_EVENT (PCR 0, EV_NO_ACTION, 20 zero bytes) holding TCG_EfiSpecIdEvent:
    platformClass 0, specVersion 2.0 errata 0, uintnSize 2, the banks, vendorInfoSize 0."""
    body = b"".join(
        (
            _SPEC_ID_SIGNATURE,
            _SPEC_ID_HEAD.pack(0, 0, 2, 0, 2, len(banks)),
            *(_ALG_SIZE.pack(int(alg), DIGEST_SIZES[alg]) for alg in banks),
            b"\x00",
        )
    )
    return _U32X2.pack(0, EV_NO_ACTION) + bytes(20) + _U32.pack(len(body)) + body


def _event2_record(
    pcr: int, event_type: int, digests: Sequence[tuple[HashAlg, bytes]], data: bytes
) -> bytes:
    """TCG_PCR_EVENT2: PCRIndex, EventType, TPML_DIGEST_VALUES, EventSize, Event."""
    parts = [_U32X3.pack(pcr, event_type, len(digests))]
    for alg, digest in digests:
        parts.append(_U16.pack(int(alg)))
        parts.append(digest)
    parts.append(_U32.pack(len(data)))
    parts.append(data)
    return b"".join(parts)


def write_event_log(
    banks: Sequence[HashAlg],
    events: Sequence[tuple[int, int, Sequence[tuple[HashAlg, bytes]], bytes]],
) -> bytes:
    """A crypto-agile event log: the Spec ID header, then one TCG_PCR_EVENT2 per
    (pcr, eventType, digests, data)."""
    return _spec_id_record(banks) + b"".join(_event2_record(*event) for event in events)


# ------------------------------------------------------------------------ results


@dataclass(frozen=True, slots=True)
class Halt:
    """Where and why a trusted boot stopped: the layer that did not run."""

    index: int
    layer: str
    pcr: int
    code: str
    actual: dict[str, str]
    expected: dict[str, list[str]]
    policy: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "layer": self.layer,
            "pcr": self.pcr,
            "code": str(self.code),
            "actual": dict(self.actual),
            "expected": {bank: list(values) for bank, values in self.expected.items()},
            "policy": dict(self.policy),
        }


@dataclass(frozen=True, slots=True)
class BootResult:
    """What a boot did: layers measured and run, the halt, the PCRs, the event log, and
    the claims it supports (never "trusted")."""

    completed: bool
    mode: str
    measured: tuple[str, ...]
    ran: tuple[str, ...]
    halt: Halt | None
    pcrs: dict[str, dict[str, str]]
    event_log: bytes
    claims: tuple[dict[str, Any], ...] = field(default=())
    not_covered: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "completed": self.completed,
            "mode": self.mode,
            "measured": list(self.measured),
            "ran": list(self.ran),
            "halt": None if self.halt is None else self.halt.to_json(),
            "pcrs": {bank: dict(values) for bank, values in self.pcrs.items()},
            "claims": [_copy_claim(c) for c in self.claims],
            "notCovered": list(self.not_covered),
        }


def _copy_claim(claim: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (list(v) if isinstance(v, list | tuple) else v) for k, v in claim.items()}


# ------------------------------------------------------------------------ the engine


class _References:
    """The policy's digests as sets, built once per boot (membership in O(1))."""

    __slots__ = ("expires", "layers", "revoked")

    def __init__(self, policy: SignedPolicy) -> None:
        self.expires = policy.expires
        self.revoked = {bank: frozenset(v) for bank, v in policy.revoked.items()}
        self.layers = {
            name: {bank: frozenset(v) for bank, v in entry.items()}
            for name, entry in policy.layers.items()
        }


def _check_layer(
    refs: _References, name: str, digests: Mapping[str, bytes], now: datetime
) -> ErrorCode | None:
    """Trusted mode's rules for one measured layer; the first failing one wins."""
    # (a) the policy must not have expired
    if now >= refs.expires:
        return ErrorCode.POLICY_EXPIRED
    # (b) no digest may be revoked, in any chain bank
    for bank, digest in digests.items():
        if digest in refs.revoked.get(bank, ()):
            return ErrorCode.DIGEST_REVOKED
    # (c) the policy must have an entry naming at least one chain bank
    entry = refs.layers.get(name)
    if entry is None or not any(bank in entry for bank in digests):
        return ErrorCode.NO_REFERENCE
    # (d) every bank the entry names and the chain measures must match
    for bank, allowed in entry.items():
        if bank in digests and digests[bank] not in allowed:
            return ErrorCode.DIGEST_NOT_ALLOWED
    return None


def _claims(
    *,
    chain: Chain,
    policy: SignedPolicy | None,
    mode: str,
    now: datetime,
    measured: int,
    ran: int,
    pcrs: Mapping[str, Mapping[str, str]],
) -> tuple[dict[str, Any], ...]:
    names = [hash_alg_name(alg) for alg in chain.banks]
    claims: list[dict[str, Any]] = []
    ran_layers = [layer.name for layer in chain.layers[:ran]]
    if mode == "trusted" and policy is not None and ran_layers:
        checked = [b for b in names if any(b in policy.layers[layer] for layer in ran_layers)]
        claims.append(
            {
                "kind": "layers_matched",
                "layers": ran_layers,
                "policy": policy.name,
                "version": policy.version,
                "signer": policy.signer,
                "banks": checked,
                "at": format_rfc3339(now),
            }
        )
    elif mode == "measured":
        claims.append({"kind": "layers_measured", "layers": ran_layers, "banks": names})
    extended = sorted({layer.pcr for layer in chain.layers[:measured]})
    for bank in names:
        values = {str(i): pcrs[bank][str(i)] for i in extended}
        claims.append({"kind": "pcrs", "bank": bank, "values": values})
    return tuple(claims)


def _check_arguments(chain: object, policy: object, mode: object, now: object) -> datetime:
    if not isinstance(chain, Chain):
        raise UsageError(ErrorCode.INVALID_CHAIN, "run_boot needs a Chain", field="chain")
    if mode not in MODES or not isinstance(mode, str):
        raise UsageError(
            ErrorCode.INVALID_DOCUMENT, 'mode must be "measured" or "trusted"', field="mode"
        )
    if policy is not None and not isinstance(policy, SignedPolicy):
        raise UsageError(ErrorCode.INVALID_POLICY, "policy must be a SignedPolicy", field="policy")
    if mode == "trusted" and policy is None:
        raise UsageError(ErrorCode.NO_POLICY, "trusted boot needs a policy", field="policy")
    return require_aware(now)


def _start_values(banks: Sequence[HashAlg]) -> dict[HashAlg, list[bytes]]:
    """The PCRs after TPM2_Startup(CLEAR) at locality 0 (ADR 0001)."""
    tpm = Tpm(list(banks))
    tpm.startup("clear", 0)
    return {alg: list(values) for alg, values in tpm.read().items()}


def run_boot(chain: Chain, policy: SignedPolicy | None, mode: str, now: datetime) -> BootResult:
    """Boot `chain`: measure, extend and log each layer, then (trusted) check it against
    `policy`; halt before the first layer that fails. `policy` is not verified here
    (install it through PolicyStore.update first); measured mode ignores it.

    Steps per layer: (1) measure in every chain bank; (2) extend and log; (3) trusted
    mode: check (expired, revoked, no reference, not allowed), halting on failure;
    (4) the layer runs."""
    now = _check_arguments(chain, policy, mode, now)
    refs = _References(policy) if mode == "trusted" and policy is not None else None
    banks = chain.banks
    names = [hash_alg_name(alg) for alg in banks]
    factories = [hasher_factory(alg) for alg in banks]
    values = _start_values(banks)
    events: list[tuple[int, int, Sequence[tuple[HashAlg, bytes]], bytes]] = []
    ran = 0
    halt: Halt | None = None
    for index, layer in enumerate(chain.layers):
        # (1) measure
        digests = [factory(layer.data).digest() for factory in factories]
        # (2) extend every bank's PCR and append the event record
        for alg, digest, factory in zip(banks, digests, factories, strict=True):
            bank = values[alg]
            bank[layer.pcr] = factory(bank[layer.pcr] + digest).digest()
        events.append(
            (
                layer.pcr,
                layer.event_type,
                tuple(zip(banks, digests, strict=True)),
                layer.name.encode(),
            )
        )
        # (3) trusted mode: check; a failure halts before the layer runs
        if refs is not None and policy is not None:
            by_bank = dict(zip(names, digests, strict=True))
            code = _check_layer(refs, layer.name, by_bank, now)
            if code is not None:
                halt = _halt(index, layer, code, by_bank, policy)
                break
        # (4) the layer runs
        ran += 1
    pcrs = {
        name: {str(i): values[alg][i].hex() for i in range(PCR_COUNT)}
        for name, alg in zip(names, banks, strict=True)
    }
    measured = len(events)
    return BootResult(
        completed=halt is None,
        mode=mode,
        measured=tuple(layer.name for layer in chain.layers[:measured]),
        ran=tuple(layer.name for layer in chain.layers[:ran]),
        halt=halt,
        pcrs=pcrs,
        event_log=write_event_log(banks, events),
        claims=_claims(
            chain=chain, policy=policy, mode=mode, now=now, measured=measured, ran=ran, pcrs=pcrs
        ),
        not_covered=(
            *(layer.name for layer in chain.layers[measured:]),
            NOT_COVERED_SENTENCE,
        ),
    )


def _halt(
    index: int,
    layer: Layer,
    code: ErrorCode,
    digests: Mapping[str, bytes],
    policy: SignedPolicy,
) -> Halt:
    entry = policy.layers.get(layer.name, {})
    return Halt(
        index=index,
        layer=layer.name,
        pcr=layer.pcr,
        code=str(code),
        actual={bank: digest.hex() for bank, digest in digests.items()},
        expected=digests_json(entry),
        policy={"name": policy.name, "version": policy.version, "signer": policy.signer},
    )
