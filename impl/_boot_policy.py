"""Signed boot policies: parsing, signing bytes, signature checks, the update rules.

Contract: docs/adr/0005-boot-contract.md ("Policy", "Policy updates: PolicyStore").
Sources: RFC 3339 (the one timestamp form accepted: `YYYY-MM-DDTHH:MM:SSZ`);
RFC 8032 5.1.3 (point decoding: y < p, and x = 0 with sign bit 1 fails), 5.1.5 (public
key), 5.1.7 (verification, S < L); FIPS 186-5 6.4.2 (ECDSA verification: r and s in
[1, n-1]) with SEC 1 2.3.3 (uncompressed point 04 || X || Y). The signature arithmetic is
`cryptography`'s; the encoding rules above are checked here first, so a non-canonical
encoding is refused whatever the backend would do with it.

ADR 0005 amendment 2: a small-order Ed25519 key (order 1, 2, 4 or 8) is refused wherever a
key is read (INVALID_POLICY), and the fields the checks use must be the signed body's.

Every check fails closed: a malformed document is a MalformedInputError naming the field,
and any failure on the signature path (wrong size, bad encoding, bad point, bad
signature) is "does not verify", never an acceptance.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chainoftrust.impl.errors import ErrorCode, MalformedInputError, UsageError
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_from_name
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

ALG_ED25519 = "ed25519"
ALG_ECDSA_P256 = "ecdsa-p256-sha256"
SIGNATURE_ALGS = (ALG_ED25519, ALG_ECDSA_P256)
SIGNING_PREFIX = b"chainoftrust-policy-v1\n"
MAX_VERSION = 2**63 - 1

# RFC 8032 5.1: p = 2^255 - 19, L = 2^252 + 27742317777372353535851937790883648493.
_ED25519_P = 2**255 - 19
_ED25519_L = 2**252 + 27742317777372353535851937790883648493
# FIPS 186-5 / SEC 2 2.4.2: order n of the P-256 base point.
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# The y-coordinates of the Ed25519 points of small order (1, 2, 4, 8), as libsodium lists
# them in ge25519_has_small_order (jedisct1/libsodium,
# src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c, commit 0217d073): 0 (order 4),
# 1 (order 1), p-1 (order 2) and the two order-8 values below, written there in decimal.
# libsodium compares the encoding with its sign bit masked and also lists p and p+1 (the
# non-canonical spellings of 0 and 1); those, and x = 0 with the sign bit set, are refused
# by _ed25519_encoding_ok before this table is consulted, so a key is small-order here
# exactly when it is a canonical encoding whose y is listed (every listed y decodes with
# either sign, except 1 and p-1 where x = 0 and only sign 0 is canonical): 8 encodings.
_ED25519_SMALL_ORDER_Y = frozenset(
    {
        0,
        1,
        _ED25519_P - 1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
    }
)
_ED25519_KEY_SIZE = 32
_ED25519_SIG_SIZE = 64
_P256_KEY_SIZE = 65
_P256_SIG_SIZE = 64
_RFC3339_Z = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_HEX = re.compile(r"(?:[0-9A-Fa-f]{2})*")
_POLICY_KEYS = frozenset({"name", "version", "expires", "layers", "revoked"})
_SIGNATURE_KEYS = frozenset({"alg", "key", "sig"})

Digests = dict[str, tuple[bytes, ...]]


def _invalid(
    message: str, field: str, code: ErrorCode = ErrorCode.INVALID_POLICY
) -> MalformedInputError:
    return MalformedInputError(code, message, field=field)


# ------------------------------------------------------------------------ timestamps


def parse_rfc3339(text: object, field: str, code: ErrorCode = ErrorCode.INVALID_POLICY) -> datetime:
    """`YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, no fraction, no offset) as an aware datetime."""
    if not isinstance(text, str) or _RFC3339_Z.fullmatch(text) is None:
        raise _invalid(f"expected YYYY-MM-DDTHH:MM:SSZ, got {text!r}", field, code)
    try:
        value = datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as exc:
        raise _invalid(f"not a calendar date and time: {text!r}", field, code) from exc
    return value.replace(tzinfo=UTC)


def format_rfc3339(moment: datetime) -> str:
    """`moment` in UTC as `YYYY-MM-DDTHH:MM:SSZ` (fractions of a second dropped)."""
    return require_aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def require_aware(moment: object, field: str = "now") -> datetime:
    """`moment` if it is a timezone-aware datetime; a naive one has no defined instant."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise UsageError(
            ErrorCode.INVALID_DOCUMENT, "expected a timezone-aware datetime", field=field
        )
    return moment


# ------------------------------------------------------------------------ documents


def _hex(value: object, field: str) -> bytes:
    if not isinstance(value, str) or _HEX.fullmatch(value) is None:
        raise _invalid("expected an even number of hex digits", field)
    return bytes.fromhex(value)


def _bank(name: object, field: str) -> HashAlg:
    try:
        return hash_alg_from_name(name)
    except MalformedInputError as exc:
        raise _invalid(f"unknown bank name {name!r}", field) from exc


def _digest_lists(value: object, field: str) -> Digests:
    """{bank name: [hex digest of that bank's size, ...]}."""
    if not isinstance(value, dict):
        raise _invalid("expected an object of bank name -> list of digests", field)
    out: Digests = {}
    for name, items in value.items():
        where = f"{field}.{name}"
        size = DIGEST_SIZES[_bank(name, where)]
        if not isinstance(items, list):
            raise _invalid("expected a list of hex digests", where)
        digests: list[bytes] = []
        for n, item in enumerate(items):
            digest = _hex(item, f"{where}[{n}]")
            if len(digest) != size:
                raise _invalid(
                    f"{name} digest has {len(digest)} bytes, not {size}", f"{where}[{n}]"
                )
            digests.append(digest)
        out[name] = tuple(digests)
    return out


def _check_keys(obj: object, allowed: frozenset[str], field: str) -> dict[str, Any]:
    """An object without unknown keys (the first one, in document order, is named)."""
    if not isinstance(obj, dict):
        raise _invalid("expected an object", field)
    for key in obj:
        if key not in allowed:
            raise _invalid(f"unknown key {key!r}", key if field == "$" else f"{field}.{key}")
    return obj


def _require(obj: dict[str, Any], key: str, field: str) -> Any:
    """obj[key]; a missing key is named by its field (checked when the field is read)."""
    if key not in obj:
        raise _invalid(f"missing key {key!r}", field)
    return obj[key]


def _key_bytes(alg: str, value: object, field: str) -> bytes:
    """A public key of `alg`'s encoding size (Ed25519 32; P-256 04||X||Y, 65), and not a
    small-order Ed25519 key (ADR 0005 amendment 2)."""
    key = _hex(value, field)
    if alg == ALG_ED25519 and len(key) != _ED25519_KEY_SIZE:
        raise _invalid("an Ed25519 public key has 32 bytes", field)
    if alg == ALG_ED25519 and ed25519_has_small_order(key):  # ADR 0005 amendment 2
        raise _invalid("a small-order Ed25519 key ([8]A is the identity)", field)
    if alg == ALG_ECDSA_P256 and (len(key) != _P256_KEY_SIZE or key[0] != 0x04):
        raise _invalid("a P-256 public key is 04 || X || Y (65 bytes)", field)
    return key


def ed25519_has_small_order(key: bytes) -> bool:
    """Is `key` a (canonical) Ed25519 encoding of a point of order 1, 2, 4 or 8? Such a key
    signs nothing of its own; ADR 0005 amendment 2 refuses it. A key that does not decode
    is not small-order (it fails verification instead)."""
    if len(key) != _ED25519_KEY_SIZE or not _ed25519_encoding_ok(key):
        return False
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    return y in _ED25519_SMALL_ORDER_Y


@dataclass(frozen=True, slots=True)
class SignedPolicy:
    """A parsed POLICY.json: the policy object as signed, its fields, and the signature."""

    policy: dict[str, Any]
    name: str
    version: int
    expires: datetime
    layers: dict[str, Digests]
    revoked: Digests
    alg: str
    key: bytes
    sig: bytes

    @property
    def signer(self) -> str:
        """key_id of the signing key."""
        return key_id(self.alg, self.key)


def _parse_body(body: object, field: str) -> tuple[str, int, datetime, dict[str, Digests], Digests]:
    """The policy object's fields in order: name, version, expires, layers, revoked."""
    obj = _check_keys(body, _POLICY_KEYS, field)
    name = _require(obj, "name", f"{field}.name")
    if not isinstance(name, str):
        raise _invalid("expected a string", f"{field}.name")
    version = _require(obj, "version", f"{field}.version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise _invalid("expected an integer", f"{field}.version")
    if not 0 <= version <= MAX_VERSION:
        raise _invalid(f"version {version} is not in 0..2^63-1", f"{field}.version")
    expires = parse_rfc3339(_require(obj, "expires", f"{field}.expires"), f"{field}.expires")
    layers_obj = _require(obj, "layers", f"{field}.layers")
    if not isinstance(layers_obj, dict):
        raise _invalid("expected an object of layer name -> digests", f"{field}.layers")
    layers = {
        lname: _digest_lists(entry, f"{field}.layers.{lname}")
        for lname, entry in layers_obj.items()
    }
    revoked = _digest_lists(obj.get("revoked", {}), f"{field}.revoked")
    return name, version, expires, layers, revoked


def validate_policy_body(body: object) -> None:
    """Raise INVALID_POLICY (naming the field) unless `body` is a well-formed policy object."""
    _parse_body(body, "policy")


def parse_signed_policy(document: object) -> SignedPolicy:
    """POLICY.json as a SignedPolicy; any bad shape is INVALID_POLICY with the field.

    Order: unknown top-level keys; the policy object (name, version, expires, layers,
    each layer entry, revoked); then the signature (alg, key of the algorithm's size,
    64-byte sig). Whether the signature verifies is PolicyStore's check 2."""
    obj = _check_keys(document, frozenset({"policy", "signature"}), "$")
    body = _require(obj, "policy", "policy")
    name, version, expires, layers, revoked = _parse_body(body, "policy")
    signature = _check_keys(_require(obj, "signature", "signature"), _SIGNATURE_KEYS, "signature")
    alg = _require(signature, "alg", "signature.alg")
    if not isinstance(alg, str) or alg not in SIGNATURE_ALGS:
        raise _invalid(f"alg must be one of {', '.join(SIGNATURE_ALGS)}", "signature.alg")
    key = _key_bytes(alg, _require(signature, "key", "signature.key"), "signature.key")
    sig = _hex(_require(signature, "sig", "signature.sig"), "signature.sig")
    if len(sig) != _ED25519_SIG_SIZE:  # both algorithms: 64 bytes (R||S, r||s)
        raise _invalid("a signature has 64 bytes", "signature.sig")
    return SignedPolicy(
        policy=copy.deepcopy(body),
        name=name,
        version=version,
        expires=expires,
        layers=layers,
        revoked=revoked,
        alg=alg,
        key=key,
        sig=sig,
    )


def parse_trust_store(document: object) -> tuple[tuple[str, bytes], ...]:
    """KEYS.json (`{"keys": [{"alg", "key"}]}`) as (alg, public key bytes) pairs."""
    obj = _check_keys(document, frozenset({"keys"}), "$")
    items = _require(obj, "keys", "keys")
    if not isinstance(items, list):
        raise _invalid("expected a list of keys", "keys")
    keys: list[tuple[str, bytes]] = []
    for n, item in enumerate(items):
        where = f"keys[{n}]"
        entry = _check_keys(item, frozenset({"alg", "key"}), where)
        alg = _require(entry, "alg", f"{where}.alg")
        if not isinstance(alg, str) or alg not in SIGNATURE_ALGS:
            raise _invalid(f"alg must be one of {', '.join(SIGNATURE_ALGS)}", f"{where}.alg")
        keys.append((alg, _key_bytes(alg, _require(entry, "key", f"{where}.key"), f"{where}.key")))
    return tuple(keys)


# ------------------------------------------------------------------------ signatures


def policy_signing_bytes(policy_obj: object) -> bytes:
    """The bytes a policy signature covers: the domain-separation prefix, then the policy
    object as canonical JSON (sorted keys, no spaces, ASCII only)."""
    try:
        text = json.dumps(policy_obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _invalid(f"the policy is not a JSON value: {exc}", "policy") from exc
    return SIGNING_PREFIX + text.encode("ascii")


def key_id(alg: str, key: bytes) -> str:
    """`alg:` + the first 16 hex digits of SHA-256(public key bytes)."""
    return f"{alg}:{hashlib.sha256(bytes(key)).hexdigest()[:16]}"


def _ed25519_encoding_ok(encoded: bytes) -> bool:
    """RFC 8032 5.1.3 steps 1 and 4: y < p, and not (x = 0 with the sign bit set)."""
    y = int.from_bytes(encoded, "little") & ((1 << 255) - 1)
    if y >= _ED25519_P:
        return False
    sign = encoded[31] >> 7
    # x = 0 exactly when y^2 = 1, i.e. y = 1 or y = p - 1
    return not (sign == 1 and y in (1, _ED25519_P - 1))


def _verify_ed25519(key: bytes, sig: bytes, message: bytes) -> bool:
    if len(key) != _ED25519_KEY_SIZE or len(sig) != _ED25519_SIG_SIZE:
        return False
    if not _ed25519_encoding_ok(key) or not _ed25519_encoding_ok(sig[:32]):
        return False
    if int.from_bytes(sig[32:], "little") >= _ED25519_L:  # RFC 8032 5.1.7: S < L
        return False
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_ecdsa_p256(key: bytes, sig: bytes, message: bytes) -> bool:
    if len(key) != _P256_KEY_SIZE or key[0] != 0x04 or len(sig) != _P256_SIG_SIZE:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (0 < r < _P256_N and 0 < s < _P256_N):  # FIPS 186-5 6.4.2 step 1
        return False
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def _fields_match_body(policy: SignedPolicy) -> bool:
    """ADR 0005 amendment 2: the fields the checks read (name, version, expires, layers,
    revoked) are the ones the signed body gives, re-derived as parse_signed_policy does."""
    try:
        derived = _parse_body(policy.policy, "policy")
    except MalformedInputError:
        return False
    return derived == (policy.name, policy.version, policy.expires, policy.layers, policy.revoked)


def verify_policy_signature(policy: SignedPolicy) -> SignedPolicy:
    """The policy if its signature verifies over policy_signing_bytes(policy.policy) with
    its own (alg, key) and its fields are the signed body's (ADR 0005 amendment 2: a
    SignedPolicy whose fields were changed after parsing is refused); else
    POLICY_SIGNATURE_INVALID. Whether the key is authorised is the trust store's question
    (PolicyStore), not this one's."""
    message = policy_signing_bytes(policy.policy)
    if policy.alg == ALG_ED25519:
        ok = _verify_ed25519(policy.key, policy.sig, message)
    elif policy.alg == ALG_ECDSA_P256:
        ok = _verify_ecdsa_p256(policy.key, policy.sig, message)
    else:
        ok = False
    if not ok or not _fields_match_body(policy):
        raise MalformedInputError(
            ErrorCode.POLICY_SIGNATURE_INVALID,
            f"the {policy.alg} signature does not verify with key {key_id(policy.alg, policy.key)}",
            field="signature.sig",
        )
    return policy


# ------------------------------------------------------------------------ updates


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """The outcome of PolicyStore.update: accepted, or the first failed check's code."""

    accepted: bool
    code: str | None

    def to_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "code": None if self.code is None else str(self.code)}


def _trusted_pairs(trusted_keys: object) -> frozenset[tuple[str, bytes]]:
    if isinstance(trusted_keys, str | bytes) or not isinstance(trusted_keys, Sequence):
        raise UsageError(
            ErrorCode.INVALID_POLICY, "trusted_keys: a sequence of (alg, key)", field="keys"
        )
    pairs: set[tuple[str, bytes]] = set()
    for n, item in enumerate(trusted_keys):
        if not (isinstance(item, Sequence) and len(item) == 2):
            raise UsageError(ErrorCode.INVALID_POLICY, "an (alg, key) pair", field=f"keys[{n}]")
        alg, key = item
        if not isinstance(alg, str) or not isinstance(key, bytes | bytearray):
            raise UsageError(ErrorCode.INVALID_POLICY, "an (alg, key) pair", field=f"keys[{n}]")
        if alg == ALG_ED25519 and ed25519_has_small_order(bytes(key)):  # ADR 0005 amendment 2
            raise UsageError(
                ErrorCode.INVALID_POLICY,
                "a small-order Ed25519 key cannot be trusted",
                field=f"keys[{n}]",
            )
        pairs.add((alg, bytes(key)))
    return frozenset(pairs)


class PolicyStore:
    """The installed policy of a device and the keys authorised to replace it.

    update() runs the ADR's checks in order (UNKNOWN_SIGNER, POLICY_SIGNATURE_INVALID,
    POLICY_EXPIRED, POLICY_ROLLBACK); the first failure refuses and changes nothing."""

    __slots__ = ("_installed", "_trusted")

    def __init__(
        self, trusted_keys: Sequence[tuple[str, bytes]], installed: SignedPolicy | None = None
    ) -> None:
        self._trusted = _trusted_pairs(trusted_keys)
        if installed is not None and not isinstance(installed, SignedPolicy):
            raise UsageError(
                ErrorCode.INVALID_POLICY, "installed: a SignedPolicy", field="installed"
            )
        self._installed = installed

    @property
    def installed(self) -> SignedPolicy | None:
        """The policy in force (None before the first install)."""
        return self._installed

    def check(self, candidate: SignedPolicy, now: datetime) -> ErrorCode | None:
        """The code of the first check `candidate` fails, or None (nothing changes)."""
        if not isinstance(candidate, SignedPolicy):
            raise UsageError(ErrorCode.INVALID_POLICY, "a SignedPolicy", field="candidate")
        now = require_aware(now)
        # (1) the signer must be in the trust store
        if (candidate.alg, candidate.key) not in self._trusted:
            return ErrorCode.UNKNOWN_SIGNER
        # (2) the signature must verify over the signed bytes
        try:
            verify_policy_signature(candidate)
        except MalformedInputError:
            return ErrorCode.POLICY_SIGNATURE_INVALID
        # (3) the policy must not have expired
        if now >= candidate.expires:
            return ErrorCode.POLICY_EXPIRED
        # (4) no rollback: strictly newer than the installed one
        installed = self._installed
        if installed is not None and candidate.version <= installed.version:
            return ErrorCode.POLICY_ROLLBACK
        return None

    def update(self, candidate: SignedPolicy, now: datetime) -> UpdateResult:
        """Install `candidate` if it passes every check; else refuse, naming the first
        failed check, and keep the installed policy."""
        code = self.check(candidate, now)
        if code is not None:
            return UpdateResult(accepted=False, code=code)
        self._installed = candidate
        return UpdateResult(accepted=True, code=None)


def digests_json(digests: Mapping[str, Sequence[bytes]]) -> dict[str, list[str]]:
    """{bank: [hex, ...]} for JSON output."""
    return {bank: [d.hex() for d in values] for bank, values in digests.items()}
