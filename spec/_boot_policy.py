"""The trusted-boot documents: the chain (CHAIN.json), the signed policy and the trust store.

Spec: PROJECT adr.0005 "Documents" - the shapes, the signed bytes, the key ids and the
signature checks (Ed25519: RFC-8032 5.1.7; ECDSA P-256 with SHA-256: FIPS-186-5 6.4.2).
Helpers of chainoftrust.spec.boot, which re-exports the public names.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final, TypeGuard

from chainoftrust.spec import _ecc, _ed25519
from chainoftrust.spec.errors import ErrorCode, MalformedInputError, SpecError
from chainoftrust.spec.eventlog import EventType
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size, hash_alg_from_name
from chainoftrust.spec.pcr import is_extend_allowed

#: PROJECT adr.0005 Chain: 1..8 banks, 1..1024 layers, names of 1..64 [A-Za-z0-9._-].
MAX_BANKS: Final = 8
MAX_LAYERS: Final = 1024
LAYER_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
#: PROJECT adr.0005 Chain: the event types whose digest is not defined over their data.
LAYER_EVENT_TYPES: Final = (
    EventType.EV_POST_CODE,
    EventType.EV_S_CRTM_CONTENTS,
    EventType.EV_IPL,
    EventType.EV_EFI_BOOT_SERVICES_APPLICATION,
    EventType.EV_EFI_BOOT_SERVICES_DRIVER,
    EventType.EV_EFI_RUNTIME_SERVICES_DRIVER,
    EventType.EV_EFI_PLATFORM_FIRMWARE_BLOB,
    EventType.EV_COMPACT_HASH,
)
#: PTP / ADR 0001: PCR indices 0..23.
PCR_COUNT: Final = 24
#: PROJECT adr.0005 Policy: version 0..2^63-1; expires exactly YYYY-MM-DDTHH:MM:SSZ.
MAX_VERSION: Final = 2**63 - 1
UTC_TIME: Final = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")
#: PROJECT adr.0005: the domain-separation prefix of the signed policy bytes.
SIGNING_PREFIX: Final = b"chainoftrust-policy-v1\n"
#: PROJECT adr.0005: the signature algorithms, and their key and signature sizes in octets.
ED25519: Final = "ed25519"
ECDSA_P256: Final = "ecdsa-p256-sha256"
KEY_SIZES: Final = {ED25519: 32, ECDSA_P256: 65}  # RFC 8032 5.1.5; SEC 1 04||X||Y
SIGNATURE_SIZE: Final = 64  # RFC 8032 R||S; FIPS 186-5 r||s, 32 octets each
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class Layer:
    """PROJECT adr.0005: one layer of the chain: its name, its bytes, its PCR, its event type."""

    name: str
    data: bytes
    pcr: int
    event_type: int


@dataclass(frozen=True, slots=True)
class Chain:
    """PROJECT adr.0005: the banks to measure into (in chain order) and the layers, in order."""

    banks: tuple[HashAlg, ...]
    layers: tuple[Layer, ...]


@dataclass(frozen=True, slots=True)
class SignedPolicy:
    """PROJECT adr.0005: a parsed POLICY.json; `policy` is the signed object as given."""

    policy: dict[str, object]
    name: str
    version: int
    expires: datetime
    layers: dict[str, dict[HashAlg, tuple[bytes, ...]]]
    revoked: dict[HashAlg, tuple[bytes, ...]]
    alg: str
    key: bytes
    sig: bytes


def _is_int(value: object) -> TypeGuard[int]:
    """A JSON integer: an int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _bad(code: ErrorCode, field: str, message: str) -> MalformedInputError:
    """PROJECT adr.0005: every document error names its field."""
    return MalformedInputError(code, f"{field}: {message}", field=field)


def _object(value: object, code: ErrorCode, field: str, keys: tuple[str, ...]) -> dict[str, object]:
    """An object with string keys, none of them unknown (document order), all of `keys`."""
    if not isinstance(value, dict):
        raise _bad(code, field, "must be an object")
    for key in value:
        if key not in keys:
            raise _bad(code, f"{field}.{key}" if field != "$" else str(key), "unknown key")
    return value


def _require(value: dict[str, object], key: str, code: ErrorCode, field: str) -> object:
    """A required key of an object."""
    if key not in value:
        raise _bad(code, field, "is required")
    return value[key]


def _hex(text: object, code: ErrorCode, field: str) -> bytes:
    """PROJECT adr.0001 hex (either case, even length, no prefix), else `code`."""
    if not isinstance(text, str) or len(text) % 2 or not set(text) <= _HEX_DIGITS:
        raise _bad(code, field, "must be even-length hex")
    return bytes.fromhex(text)


def _bank(name: object, code: ErrorCode, field: str) -> HashAlg:
    """A bank by its tpm2-tools name (ADR 0001); an unknown name is UNKNOWN_ALGORITHM
    in the chain (ADR 0005 Chain) and `code` elsewhere."""
    if not isinstance(name, str):
        raise _bad(code, field, "must be a hash algorithm name")
    try:
        return hash_alg_from_name(name)
    except MalformedInputError as err:
        unknown = ErrorCode.UNKNOWN_ALGORITHM if code == ErrorCode.INVALID_CHAIN else code
        raise _bad(unknown, field, f"unknown hash algorithm {name!r}") from err


def parse_utc(
    text: object, field: str = "now", code: ErrorCode = ErrorCode.INVALID_DOCUMENT
) -> datetime:
    """Spec: PROJECT adr.0005 Policy expires - `YYYY-MM-DDTHH:MM:SSZ` exactly, as UTC.

    Steps: (1) the exact pattern, else `code`; (2) a real calendar time, else `code`.
    """
    # (1)
    match = UTC_TIME.fullmatch(text) if isinstance(text, str) and text.isascii() else None
    if match is None:
        raise _bad(code, field, "must be YYYY-MM-DDTHH:MM:SSZ")
    # (2)
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as err:
        raise _bad(code, field, f"not a valid time: {err}") from err


def format_utc(moment: datetime) -> str:
    """Spec: PROJECT adr.0005 claims "at" - a time as RFC 3339 `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _chain_banks(value: object) -> tuple[HashAlg, ...]:
    """PROJECT adr.0005 Chain banks: a list of 1..8 names, each known and listed once."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_BANKS:
        raise _bad(ErrorCode.INVALID_CHAIN, "banks", "must be a list of 1..8 bank names")
    banks: list[HashAlg] = []
    for index, name in enumerate(value):
        bank = _bank(name, ErrorCode.INVALID_CHAIN, f"banks[{index}]")
        if bank in banks:
            raise _bad(ErrorCode.INVALID_CHAIN, f"banks[{index}]", "bank listed twice")
        banks.append(bank)
    return tuple(banks)


def _event_type(value: object, field: str) -> int:
    """PROJECT adr.0005 Chain eventType: an allowed type, by its ADR 0002 name or its code."""
    for allowed in LAYER_EVENT_TYPES:
        if (isinstance(value, str) and value == allowed.name) or (
            _is_int(value) and value == allowed.value
        ):
            return int(allowed)
    raise _bad(ErrorCode.INVALID_CHAIN, field, "not an event type a layer may use")


_LAYER_KEYS: Final = ("name", "file", "data", "pcr", "eventType")


def _layer_shape(value: object, index: int, seen: set[str]) -> tuple[str, str | bytes, int, int]:
    """PROJECT adr.0005 Chain layers[i]: name, exactly one of file/data, pcr, eventType.

    Steps, in order: (1) an object without unknown keys; (2) `name`: 1..64 characters of
    [A-Za-z0-9._-], not used before; (3) exactly one of `file` (a string) and `data` (hex);
    (4) `pcr`: an integer 0..23; (5) `eventType`. Returns (name, file or data bytes, pcr,
    event type).
    """
    where = f"layers[{index}]"
    code = ErrorCode.INVALID_CHAIN
    # (1)
    layer = _object(value, code, where, _LAYER_KEYS)
    # (2)
    name = _require(layer, "name", code, f"{where}.name")
    if not isinstance(name, str) or not name.isascii() or not LAYER_NAME.fullmatch(name):
        raise _bad(code, f"{where}.name", "must be 1..64 characters of [A-Za-z0-9._-]")
    if name in seen:
        raise _bad(code, f"{where}.name", f"layer name {name!r} used twice")
    seen.add(name)
    # (3)
    if ("file" in layer) == ("data" in layer):
        raise _bad(code, f"{where}.file", "exactly one of file and data is required")
    path = layer.get("file")
    if "data" in layer:
        source: str | bytes = _hex(layer["data"], code, f"{where}.data")
    elif isinstance(path, str) and path:
        source = path
    else:
        raise _bad(code, f"{where}.file", "must be a path")
    # (4)
    pcr = _require(layer, "pcr", code, f"{where}.pcr")
    if not _is_int(pcr) or not 0 <= pcr < PCR_COUNT:
        raise _bad(code, f"{where}.pcr", "must be an integer 0..23")
    # ADR 0005 amendment 1: the boot runs at locality 0, where PTP lets no one extend 17-22
    if not is_extend_allowed(pcr, 0):
        raise _bad(code, f"{where}.pcr", f"PCR {pcr} cannot be extended at locality 0 (PTP)")
    # (5)
    event_type = _event_type(
        _require(layer, "eventType", code, f"{where}.eventType"), f"{where}.eventType"
    )
    return name, source, pcr, event_type


def _read_layer(path: str, base_dir: Path, field: str) -> bytes:
    """PROJECT adr.0005: a layer file, relative to the chain's folder; else LAYER_UNREADABLE."""
    full = Path(path) if Path(path).is_absolute() else base_dir / path
    try:
        return full.read_bytes()
    except (OSError, ValueError) as err:  # ValueError: a path with a NUL character
        raise SpecError(
            ErrorCode.LAYER_UNREADABLE, f"{field}: cannot read {path!r}: {err}", field=field
        ) from err


def load_chain(document: object, base_dir: Path) -> Chain:
    """Spec: PROJECT adr.0005 Chain - a CHAIN.json document to a Chain.

    Steps:
      (1) an object with exactly `banks` and `layers` (unknown keys first, in order);
      (2) `banks` (chain order kept);
      (3) `layers`: a list of 1..1024 layers, each validated whole, in order;
      (4) only then the `file` layers are read, in order (LAYER_UNREADABLE).
    """
    code = ErrorCode.INVALID_CHAIN
    # (1)
    chain = _object(document, code, "$", ("banks", "layers"))
    # (2)
    banks = _chain_banks(_require(chain, "banks", code, "banks"))
    # (3)
    layers = _require(chain, "layers", code, "layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise _bad(code, "layers", "must be a list of 1..1024 layers")
    seen: set[str] = set()
    shapes = [_layer_shape(layer, index, seen) for index, layer in enumerate(layers)]
    # (4)
    parsed = []
    for index, (name, source, pcr, event_type) in enumerate(shapes):
        if isinstance(source, str):
            data = _read_layer(source, base_dir, f"layers[{index}].file")
        else:
            data = source
        parsed.append(Layer(name, data, pcr, event_type))
    return Chain(banks, tuple(parsed))


def _digest_list(value: object, bank: HashAlg, field: str) -> tuple[bytes, ...]:
    """PROJECT adr.0005 Policy: a list of hex digests, each of the bank's size."""
    code = ErrorCode.INVALID_POLICY
    if not isinstance(value, list):
        raise _bad(code, field, "must be a list of hex digests")
    digests = []
    for index, text in enumerate(value):
        digest = _hex(text, code, f"{field}[{index}]")
        if len(digest) != digest_size(bank):
            raise _bad(code, f"{field}[{index}]", f"must be {digest_size(bank)} octets")
        digests.append(digest)
    return tuple(digests)


def _bank_lists(value: object, field: str) -> dict[HashAlg, tuple[bytes, ...]]:
    """PROJECT adr.0005 Policy: {bank name -> list of hex digests of that bank's size}."""
    code = ErrorCode.INVALID_POLICY
    if not isinstance(value, dict):
        raise _bad(code, field, "must be an object of bank name to digest list")
    lists: dict[HashAlg, tuple[bytes, ...]] = {}
    for name, digests in value.items():
        bank = _bank(name, code, f"{field}.{name}")
        lists[bank] = _digest_list(digests, bank, f"{field}.{name}")
    return lists


_POLICY_KEYS: Final = ("name", "version", "expires", "layers", "revoked")


def _policy_body(value: object) -> tuple[str, int, datetime, dict[str, object], object]:
    """PROJECT adr.0005 Policy `policy`: name, version, expires, layers, revoked (optional).

    Steps, in order: (1) an object without unknown keys; (2) `name` a string; (3) `version`
    an integer 0..2^63-1; (4) `expires` exactly YYYY-MM-DDTHH:MM:SSZ; (5) `layers` an object;
    (6) `revoked`, absent = {}.
    """
    code = ErrorCode.INVALID_POLICY
    # (1)
    body = _object(value, code, "policy", _POLICY_KEYS)
    # (2)
    name = _require(body, "name", code, "policy.name")
    if not isinstance(name, str):
        raise _bad(code, "policy.name", "must be a string")
    # (3)
    version = _require(body, "version", code, "policy.version")
    if not _is_int(version) or not 0 <= version <= MAX_VERSION:
        raise _bad(code, "policy.version", "must be an integer 0..2^63-1")
    # (4)
    expires = parse_utc(_require(body, "expires", code, "policy.expires"), "policy.expires", code)
    # (5)
    layers = _require(body, "layers", code, "policy.layers")
    if not isinstance(layers, dict):
        raise _bad(code, "policy.layers", "must be an object of layer name to entry")
    # (6)
    return name, version, expires, layers, body.get("revoked", {})


def is_small_order_key(alg: str, key: bytes) -> bool:
    """Spec: PROJECT adr.0005 amendment 2 - an Ed25519 key that decodes to A with [8]A = (0, 1).

    Such a key (of order 1, 2, 4 or 8) has no prime-order part: a signature "by" it says
    nothing about its holder, and verifiers disagree on it. ECDSA keys: never (False).
    """
    return alg == ED25519 and _ed25519.has_small_order(key)


def _public_key(alg: str, value: object, field: str) -> bytes:
    """PROJECT adr.0005 Keys and amendments 1 item 3, 2: a public key of `alg`, in hex.

    Steps: (1) hex; (2) the algorithm's size (Ed25519 32 octets; ECDSA 04||X||Y, 65);
    (3) not a small-order Ed25519 key (amendment 2). Each failure is INVALID_POLICY at `field`.
    """
    code = ErrorCode.INVALID_POLICY
    # (1)
    key = _hex(value, code, field)
    # (2)
    if len(key) != KEY_SIZES[alg] or (alg == ECDSA_P256 and key[0] != 0x04):
        raise _bad(code, field, f"not a {alg} public key")
    # (3)
    if is_small_order_key(alg, key):
        raise _bad(code, field, "a small-order Ed25519 key ([8]A is the neutral element)")
    return key


def _signature(value: object) -> tuple[str, bytes, bytes]:
    """PROJECT adr.0005 `signature`: alg (ed25519 | ecdsa-p256-sha256), key and sig in hex.

    Ed25519 keys are 32 octets (RFC 8032 5.1.5), not of small order (amendment 2); ECDSA
    keys are SEC 1 uncompressed points, 04||X||Y (65 octets); a signature is 64 octets (R||S,
    or r||s of 32 octets each).
    """
    code = ErrorCode.INVALID_POLICY
    signature = _object(value, code, "signature", ("alg", "key", "sig"))
    alg = _require(signature, "alg", code, "signature.alg")
    if not isinstance(alg, str) or alg not in KEY_SIZES:
        raise _bad(code, "signature.alg", "must be ed25519 or ecdsa-p256-sha256")
    key = _public_key(alg, _require(signature, "key", code, "signature.key"), "signature.key")
    sig = _hex(_require(signature, "sig", code, "signature.sig"), code, "signature.sig")
    if len(sig) != SIGNATURE_SIZE:
        raise _bad(code, "signature.sig", "must be 64 octets")
    return alg, key, sig


SignedFields = tuple[
    str,
    int,
    datetime,
    dict[str, dict[HashAlg, tuple[bytes, ...]]],
    dict[HashAlg, tuple[bytes, ...]],
]


def _signed_fields(body: object) -> SignedFields:
    """PROJECT adr.0005 Policy: the checked fields of a policy body (name, version, expires,
    layers, revoked), in the order parse_signed_policy reads them."""
    name, version, expires, layer_entries, revoked = _policy_body(body)
    layers = {
        layer: _bank_lists(entry, f"policy.layers.{layer}")
        for layer, entry in layer_entries.items()
    }
    return name, version, expires, layers, _bank_lists(revoked, "policy.revoked")


def parse_signed_policy(document: object) -> SignedPolicy:
    """Spec: PROJECT adr.0005 Policy - a POLICY.json document to a SignedPolicy.

    Steps:
      (1) an object with exactly `policy` and `signature` (unknown keys first);
      (2) the policy body's fields, in order (name, version, expires, layers object);
      (3) each layer entry, in document order: {bank name -> digest list};
      (4) `revoked`: {bank name -> digest list};
      (5) the signature (alg, key, sig).
    """
    code = ErrorCode.INVALID_POLICY
    # (1)
    signed = _object(document, code, "$", ("policy", "signature"))
    body = _require(signed, "policy", code, "policy")
    # (2)-(4)
    name, version, expires, layers, revoked_lists = _signed_fields(body)
    # (5)
    alg, key, sig = _signature(_require(signed, "signature", code, "signature"))
    policy_obj = copy.deepcopy(_object(body, code, "policy", _POLICY_KEYS))
    return SignedPolicy(policy_obj, name, version, expires, layers, revoked_lists, alg, key, sig)


def policy_signing_bytes(policy_obj: dict[str, object]) -> bytes:
    """Spec: PROJECT adr.0005 Signed bytes - the prefix, then the canonical JSON of the policy.

    `b"chainoftrust-policy-v1\\n"` + json.dumps(sort_keys, separators (",", ":"),
    ensure_ascii) encoded (ASCII, so UTF-8 alike).
    """
    text = json.dumps(policy_obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return SIGNING_PREFIX + text.encode()


def key_id(alg: str, key: bytes) -> str:
    """Spec: PROJECT adr.0005 Keys - `alg:` and the first 16 hex digits of SHA-256(key)."""
    return alg + ":" + compute_digest(HashAlg.SHA256, key).hex()[:16]


def is_signature_valid(alg: str, key: bytes, message: bytes, sig: bytes) -> bool:
    """Spec: PROJECT adr.0005 Keys - one policy signature, by algorithm; never raises.

    Steps:
      (1) ed25519: RFC 8032 5.1.7 over the message (32-octet key, 64-octet R||S);
      (2) ecdsa-p256-sha256: the key is 04||X||Y (SEC 1), the signature r||s big-endian
          (32 octets each), verified by FIPS 186-5 6.4.2 with SHA-256;
      (3) any other algorithm or size: not valid.
    """
    # (1)
    if alg == ED25519:
        return _ed25519.ed25519_verify(key, message, sig)
    # (2)
    if alg == ECDSA_P256 and len(key) == KEY_SIZES[ECDSA_P256] and key[0] == 0x04:
        if len(sig) != SIGNATURE_SIZE:
            return False
        x, y = int.from_bytes(key[1:33], "big"), int.from_bytes(key[33:], "big")
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        return _ecc.ecdsa_verify("P-256", x, y, HashAlg.SHA256, message, r, s)
    # (3)
    return False


def fields_are_signed(policy: SignedPolicy) -> bool:
    """Spec: PROJECT adr.0005 amendment 2 - the fields the checks use are the signed body's.

    Steps: (1) re-derive name, version, expires, layers and revoked from `policy.policy` (the
    signed object), as parse_signed_policy does; a body that does not parse: False;
    (2) True exactly when each equals the SignedPolicy's field of that name.
    """
    # (1)
    try:
        derived = _signed_fields(policy.policy)
    except MalformedInputError:
        return False
    # (2)
    given = (policy.name, policy.version, policy.expires, policy.layers, policy.revoked)
    return derived == given


def verify_policy_signature(policy: SignedPolicy) -> SignedPolicy:
    """Spec: PROJECT adr.0005 Policy updates check 2 - the signature over the signed bytes.

    Returns the policy when `sig` verifies under (`alg`, `key`) over
    policy_signing_bytes(policy.policy) and its fields are the signed body's
    (fields_are_signed, amendment 2); else raises POLICY_SIGNATURE_INVALID.
    """
    message = policy_signing_bytes(policy.policy)
    valid = is_signature_valid(policy.alg, policy.key, message, policy.sig)
    if not valid or not fields_are_signed(policy):
        raise SpecError(
            ErrorCode.POLICY_SIGNATURE_INVALID,
            f"the policy signature does not verify under {key_id(policy.alg, policy.key)}",
            field="signature.sig",
        )
    return policy


def parse_trusted_keys(document: object) -> tuple[tuple[str, bytes], ...]:
    """Spec: PROJECT adr.0005 Keys - a trust store `{"keys": [{"alg", "key"}]}` to (alg, key).

    Each entry: an object with exactly `alg` and `key`, the key of its algorithm's size
    (and 04||X||Y for ECDSA), not a small-order Ed25519 key (amendment 2); errors are
    INVALID_POLICY naming the field.
    """
    code = ErrorCode.INVALID_POLICY
    store = _object(document, code, "$", ("keys",))
    entries = _require(store, "keys", code, "keys")
    if not isinstance(entries, list):
        raise _bad(code, "keys", "must be a list")
    keys: list[tuple[str, bytes]] = []
    for index, entry in enumerate(entries):
        where = f"keys[{index}]"
        item = _object(entry, code, where, ("alg", "key"))
        alg = _require(item, "alg", code, f"{where}.alg")
        if not isinstance(alg, str) or alg not in KEY_SIZES:
            raise _bad(code, f"{where}.alg", "must be ed25519 or ecdsa-p256-sha256")
        key = _public_key(alg, _require(item, "key", code, f"{where}.key"), f"{where}.key")
        keys.append((alg, key))
    return tuple(keys)


def is_trusted(trusted_keys: Sequence[tuple[str, bytes]], alg: str, key: bytes) -> bool:
    """Spec: PROJECT adr.0005 Policy updates check 1 - is (alg, key) in the trust store."""
    return any(alg == t_alg and key == t_key for t_alg, t_key in trusted_keys)
