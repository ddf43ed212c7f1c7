"""TPM 2.0 quotes: structures, public keys, signatures and the quote verdict.

Contract: docs/adr/0004-quote-contract.md. Sources: TPM 2.0 Library Part 2 (structures,
via `_quote_structs`), Part 1 section 16 (Names), RFC 8017 (RSASSA-PKCS1-v1_5 and
RSASSA-PSS), FIPS 186-5 (ECDSA; curve orders from SP 800-186), RFC 5280 / RFC 5480
(SubjectPublicKeyInfo), RFC 7517 / RFC 7518 (JWK). Signatures are checked by
`cryptography` (OpenSSL); every failure of a check is a `Failure` record, never an
exception, and the verdict accepts only when no check failed (fail closed).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl._quote_structs import (
    ALG_ECDSA,
    ALG_NULL,
    ALG_RSAPSS,
    ALG_RSASSA,
    CURVE_BY_NAME,
    FIELD_BYTES,
    SCHEME_NAMES,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_QUOTE,
    Attest,
    PublicKey,
    Signature,
    check_spki_frame,
    is_on_curve,
    is_rsa_key,
    malformed,
    plain_signature,
    unmarshal_attest,
    unmarshal_public,
    unmarshal_signature,
    unmarshal_tpm2b_public,
)
from chainoftrust.impl.errors import ErrorCode, ImplError, MalformedInputError
from chainoftrust.impl.hashes import (
    DIGEST_SIZES,
    HashAlg,
    compute_digest,
    hash_alg_from_name,
    hash_alg_name,
)
from chainoftrust.impl.pcr import PCR_COUNT
from chainoftrust.impl.selection import compute_composite_digest
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import load_der_public_key

# The hashes a quote signature may use (ADR 0004, check 6), as cryptography objects.
_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    HashAlg.SHA1: hashes.SHA1,
    HashAlg.SHA256: hashes.SHA256,
    HashAlg.SHA384: hashes.SHA384,
    HashAlg.SHA512: hashes.SHA512,
}
SIGNATURE_HASHES = frozenset(_HASHES)

# Orders n of the base points (NIST SP 800-186, 3.2.1.3 P-256 and 3.2.1.4 P-384).
CURVE_ORDERS: dict[str, int] = {
    "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "P-384": int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77A"
        "ECEC196ACCC52973",
        16,
    ),
}

# objectAttributes bits (Part 2, TPMA_OBJECT): restricted = bit 16, sign = bit 18.
ATTR_RESTRICTED = 1 << 16
ATTR_SIGN = 1 << 18

CHECKS = (
    "parse",
    "magic",
    "type",
    "key_attributes",
    "scheme",
    "hash",
    "signature",
    "nonce",
    "pcr_values",
    "pcr_digest",
)

CLOCK_NOTE = (
    "resetCount, restartCount and firmwareVersion are obfuscated for keys outside the "
    "endorsement and platform hierarchies (Part 1); compare them only between quotes of "
    "the same key"
)

# ------------------------------------------------------------------------ public keys

# DER of the AlgorithmIdentifiers (RFC 3279 2.3.1 rsaEncryption with NULL parameters;
# RFC 5480 2.1.1 id-ecPublicKey with the namedCurve prime256v1 / secp384r1).
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")
_EC_ALGORITHM = {
    "P-256": bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107"),
    "P-384": bytes.fromhex("301006072a8648ce3d020106052b81040022"),
}
_CURVE_NAMES = {"secp256r1": "P-256", "secp384r1": "P-384"}


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8)
    return bytes((tag, 0x80 | len(length))) + length + content


def _der_uint(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1))


def _spki(key: PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo (RFC 5280 4.1) of `key`."""
    if key.kind == "rsa" and key.n is not None and key.e is not None:
        inner = _der(0x30, _der_uint(key.n) + _der_uint(key.e))  # RFC 8017 A.1.1
        return _der(0x30, _RSA_ALGORITHM + _der(0x03, b"\x00" + inner))
    if key.kind == "ecc" and key.curve in _EC_ALGORITHM and key.x is not None and key.y is not None:
        size = FIELD_BYTES[key.curve]
        point = b"\x04" + key.x.to_bytes(size) + key.y.to_bytes(size)  # SEC 1 2.3.3
        return _der(0x30, _EC_ALGORITHM[key.curve] + _der(0x03, b"\x00" + point))
    malformed(ErrorCode.UNSUPPORTED_KEY, f"cannot encode a {key.kind} key", "key", None)


def fingerprint(key: PublicKey) -> str:
    """The text "sha256:" + hex SHA-256 of the key's DER SubjectPublicKeyInfo."""
    return "sha256:" + hashlib.sha256(_spki(key)).hexdigest()


def compute_name(key: PublicKey) -> bytes:
    """The key's Name: nameAlg (u16) || H_nameAlg(TPMT_PUBLIC) (Part 1, 16 Names)."""
    if key.tpm_public is None or key.name_alg is None:
        malformed(ErrorCode.UNSUPPORTED_KEY, "the key has no TPM public area", "key", None)
    if key.name_alg not in DIGEST_SIZES:
        malformed(
            ErrorCode.UNSUPPORTED_KEY, f"nameAlg 0x{key.name_alg:04x} is not a hash", "nameAlg", 2
        )
    return key.name_alg.to_bytes(2) + compute_digest(key.name_alg, key.tpm_public)


def _rsa_key(n: int, e: int, field: str, offset: int | None) -> PublicKey:
    if not is_rsa_key(n, e):
        malformed(ErrorCode.INVALID_KEY, "not an RSA public key (RFC 8017 3.1)", field, offset)
    return PublicKey("rsa", n.bit_length(), n=n, e=e)


def _from_crypto(pub: object, key_at: int = 0) -> PublicKey:
    if isinstance(pub, rsa.RSAPublicKey):
        numbers = pub.public_numbers()
        return _rsa_key(numbers.n, numbers.e, "subjectPublicKey", key_at)
    if isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name in _CURVE_NAMES:
        point = pub.public_numbers()
        curve = _CURVE_NAMES[pub.curve.name]
        return PublicKey("ecc", pub.curve.key_size, curve=curve, x=point.x, y=point.y)
    malformed(
        ErrorCode.UNSUPPORTED_KEY, f"{type(pub).__name__} is not RSA or ECC P-256/P-384", "key", 0
    )


_PEM = re.compile(rb"\s*-----BEGIN ([A-Z0-9 ]*)-----(.*?)-----END \1-----\s*", re.DOTALL)


def _from_pem(data: bytes) -> PublicKey:
    """RFC 7468 2, 13: one `PUBLIC KEY` block (other labels UNSUPPORTED_KEY), strict
    base64 inside, whose octets are a DER SubjectPublicKeyInfo."""
    if not data.isascii():
        first = next(i for i, octet in enumerate(data) if octet >= 0x80)
        malformed(ErrorCode.INVALID_KEY, "PEM is not ASCII", "pem", first)
    match = _PEM.fullmatch(data)
    if match is None:
        malformed(ErrorCode.INVALID_KEY, "not a PEM block with matching BEGIN/END", "pem", 0)
    if match.group(1) != b"PUBLIC KEY":
        label = match.group(1).decode("ascii")
        malformed(ErrorCode.UNSUPPORTED_KEY, f"PEM label {label!r} is not PUBLIC KEY", "pem", 0)
    try:
        der = base64.b64decode(b"".join(match.group(2).split()), validate=True)
    except binascii.Error as exc:
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, "PEM body is not base64", field="pem", offset=match.start(2)
        ) from exc
    return _from_der(der)


def _from_der(data: bytes) -> PublicKey:
    _kind, key_at = check_spki_frame(data)  # the outline; cryptography reads the key
    try:
        return _from_crypto(load_der_public_key(data), key_at)
    except UnsupportedAlgorithm as exc:
        raise MalformedInputError(
            ErrorCode.UNSUPPORTED_KEY, f"unsupported DER key: {exc}", field="der", offset=0
        ) from exc
    except ValueError as exc:
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, f"invalid DER public key: {exc}", field="der", offset=key_at
        ) from exc


_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _jwk_int(jwk: Mapping[str, Any], name: str, size: int | None = None) -> int:
    """A base64url (RFC 7515 2, no padding) member of the JWK as a big-endian integer;
    EC coordinates are exactly the field size (RFC 7518 6.2.1.2, 6.2.1.3)."""
    text = jwk.get(name)
    if not isinstance(text, str) or _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        malformed(ErrorCode.INVALID_KEY, f"JWK {name} is not base64url", f"jwk.{name}", None)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, f"JWK {name} is not base64url", field=f"jwk.{name}"
        ) from exc
    if not raw or (size is not None and len(raw) != size):
        malformed(ErrorCode.INVALID_KEY, f"JWK {name} has {len(raw)} octets", f"jwk.{name}", None)
    return int.from_bytes(raw)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            malformed(ErrorCode.INVALID_KEY, f"JWK member {key!r} appears twice", "jwk", 0)
        out[key] = value
    return out


def _from_jwk(data: bytes) -> PublicKey:
    try:
        jwk = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError too
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, f"not a JSON JWK: {exc}", field="jwk", offset=0
        ) from exc
    if not isinstance(jwk, dict):
        malformed(ErrorCode.INVALID_KEY, "a JWK is a JSON object", "jwk", 0)
    kty = jwk.get("kty")
    if kty == "RSA":
        return _rsa_key(_jwk_int(jwk, "n"), _jwk_int(jwk, "e"), "jwk", None)
    crv = jwk.get("crv")
    if kty != "EC" or not isinstance(crv, str) or crv not in FIELD_BYTES:
        malformed(ErrorCode.UNSUPPORTED_KEY, f"JWK kty {kty!r} crv {crv!r}", "jwk", None)
    x, y = _jwk_int(jwk, "x", FIELD_BYTES[crv]), _jwk_int(jwk, "y", FIELD_BYTES[crv])
    if not is_on_curve(crv, x, y):
        malformed(ErrorCode.INVALID_KEY, f"JWK point is not on {crv}", "jwk", None)
    return PublicKey("ecc", CURVE_BY_NAME[crv].key_size, curve=crv, x=x, y=y)


def load_public_key(data: bytes) -> PublicKey:
    """A public key from PEM, JWK, DER SubjectPublicKeyInfo, TPM2B_PUBLIC or TPMT_PUBLIC.

    Detected in that order: (1) PEM (`-----BEGIN `; only `PUBLIC KEY`), (2) JWK (first
    non-space byte `{`), (3) DER (first byte 0x30), (4) TPM2B_PUBLIC (first u16 equals
    the length after it), (5) else TPMT_PUBLIC.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        malformed(ErrorCode.INVALID_DOCUMENT, "expected bytes", "key", 0)
    data = bytes(data)
    stripped = data.lstrip()
    # (1)
    if stripped.startswith(b"-----BEGIN "):
        return _from_pem(data)
    # (2)
    if stripped.startswith(b"{"):
        return _from_jwk(data)
    # (3)
    if data[:1] == b"\x30":
        return _from_der(data)
    # (4)
    if len(data) >= 2 and int.from_bytes(data[:2]) == len(data) - 2:
        return unmarshal_tpm2b_public(data)
    # (5)
    return unmarshal_public(data)


# ------------------------------------------------------------------------- signatures


@functools.lru_cache(maxsize=64)
def _crypto_key(key: PublicKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    """`key` as a cryptography object; ValueError when cryptography refuses it."""
    if key.kind == "rsa" and key.n is not None and key.e is not None:
        return rsa.RSAPublicNumbers(key.e, key.n).public_key()
    if key.kind == "ecc" and key.curve in CURVE_BY_NAME and key.x is not None and key.y is not None:
        return ec.EllipticCurvePublicNumbers(key.x, key.y, CURVE_BY_NAME[key.curve]).public_key()
    raise ValueError(f"not a usable {key.kind} key")


def _verify_rsa(key: PublicKey, message: bytes, sig: Signature, hash_cls: type[Any]) -> bool:
    if key.kind != "rsa" or key.n is None or sig.rsa_signature is None:
        return False
    if len(sig.rsa_signature) != (key.n.bit_length() + 7) // 8:
        return False  # RFC 8017 8.1.2 / 8.2.2 step 1: exactly the modulus length
    pub = _crypto_key(key)
    if not isinstance(pub, rsa.RSAPublicKey):
        return False
    if sig.sig_alg == ALG_RSASSA:
        pad: padding.AsymmetricPadding = padding.PKCS1v15()
    else:  # RFC 8017 9.1.2: MGF1 with the same hash, any salt length the encoding admits
        pad = padding.PSS(mgf=padding.MGF1(hash_cls()), salt_length=padding.PSS.AUTO)
    pub.verify(sig.rsa_signature, message, pad, hash_cls())
    return True


def _verify_ecdsa(key: PublicKey, message: bytes, sig: Signature, hash_cls: type[Any]) -> bool:
    if key.kind != "ecc" or key.curve not in CURVE_ORDERS:
        return False
    order = CURVE_ORDERS[key.curve]
    sig_r, sig_s = sig.ecdsa_r, sig.ecdsa_s
    if sig_r is None or sig_s is None or not (0 < sig_r < order and 0 < sig_s < order):
        return False  # FIPS 186-5 6.4.2 step 2: r, s in [1, n-1]
    pub = _crypto_key(key)
    if not isinstance(pub, ec.EllipticCurvePublicKey):
        return False
    # OpenSSL truncates the digest to the order's bit length (FIPS 186-5 6.4.2 step 4).
    pub.verify(encode_dss_signature(sig_r, sig_s), message, ec.ECDSA(hash_cls()))
    return True


def verify_signature(key: PublicKey, message: bytes, sig: Signature) -> bool:
    """True only when `sig` is a valid signature of `message` under `key`; never raises
    for bad signature values, unknown hashes or a scheme that does not fit the key."""
    hash_cls = _HASHES.get(sig.hash_alg)
    if hash_cls is None:
        return False
    try:
        if sig.sig_alg in (ALG_RSASSA, ALG_RSAPSS):
            return _verify_rsa(key, bytes(message), sig, hash_cls)
        if sig.sig_alg == ALG_ECDSA:
            return _verify_ecdsa(key, bytes(message), sig, hash_cls)
    except (InvalidSignature, ValueError, UnsupportedAlgorithm):
        return False
    return False


# ---------------------------------------------------------------------------- verdict


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: `check` names it (ADR 0004 table), `code` is an ErrorCode string."""

    check: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "code": self.code, "message": self.message}


def _quote_json(attest: Attest) -> dict[str, Any]:
    selection = attest.selection
    return {
        "magic": attest.magic,
        "type": attest.type,
        "qualifiedSigner": attest.qualified_signer.hex(),
        "extraData": attest.extra_data.hex(),
        "clock": attest.clock,
        "resetCount": attest.reset_count,
        "restartCount": attest.restart_count,
        "safe": attest.safe,
        "firmwareVersion": attest.firmware_version,
        "pcrSelect": None
        if selection is None
        else [{"hash": int(alg), "pcrs": sorted(pcrs)} for alg, pcrs in selection],
        "pcrDigest": None if attest.pcr_digest is None else attest.pcr_digest.hex(),
    }


@dataclass(frozen=True, slots=True)
class QuoteVerdict:
    """The decision on one quote. `checks_made` (an addition to ADR 0004) names the
    checks that were made, in order, so a report can tell "passed" from "not made"."""

    accepted: bool
    failures: tuple[Failure, ...]
    claims: tuple[dict[str, Any], ...]
    attest: Attest | None
    checks_made: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": "accept" if self.accepted else "reject",
            "failures": [f.to_json() for f in self.failures],
            "claims": [dict(c) for c in self.claims],
            "quote": None if self.attest is None else _quote_json(self.attest),
        }


def _scheme_fits(sig: Signature, key: PublicKey) -> str | None:
    """Check 5: None when the signature's scheme fits the key, else why not."""
    kind = "rsa" if sig.sig_alg in (ALG_RSASSA, ALG_RSAPSS) else "ecc"
    if sig.sig_alg not in SCHEME_NAMES or key.kind != kind:
        return f"signature algorithm 0x{sig.sig_alg:04x} does not fit a {key.kind} key"
    if key.scheme is not None and key.scheme != ALG_NULL:
        if (key.scheme, key.scheme_hash) != (sig.sig_alg, sig.hash_alg):
            return (
                f"the key's scheme 0x{key.scheme:04x}/{key.scheme_hash!r} differs from the "
                f"signature's 0x{sig.sig_alg:04x}/0x{sig.hash_alg:04x}"
            )
    return None


def _pcr_values_problem(
    attest: Attest, pcrs: Mapping[int, Mapping[int, bytes]]
) -> tuple[ErrorCode, str] | None:
    """Check 9: the first selected PCR without a value of the bank's size."""
    for alg, indices in attest.selection or ():
        size = DIGEST_SIZES.get(alg)
        if size is None:
            return ErrorCode.UNKNOWN_ALGORITHM, f"bank 0x{int(alg):04x} is not known"
        bank = pcrs.get(alg) if isinstance(pcrs, Mapping) else None
        if not isinstance(bank, Mapping):
            bank = {}
        for pcr in sorted(indices):
            value = bank.get(pcr)
            if value.__class__ is bytes and len(value) == size:
                continue  # the usual case
            name = f"{hash_alg_name(alg)} PCR {pcr}"
            if not isinstance(value, bytes | bytearray | memoryview):
                return ErrorCode.PCR_VALUES_MISSING, f"no value for {name}"
            if len(value) != size:
                return ErrorCode.DIGEST_SIZE_MISMATCH, f"{name} has {len(value)} bytes, not {size}"
    return None


def _claims(
    attest: Attest, sig: Signature, key: PublicKey, source: str
) -> tuple[dict[str, Any], ...]:
    key_type = f"rsa-{key.bits}" if key.kind == "rsa" else f"ecc-{key.curve}"
    attributes = (
        "restricted-signing"
        if key.tpm_public is not None
        else "unknown (key given without its TPM public area)"
    )
    claims: list[dict[str, Any]] = [
        {
            "kind": "signature",
            "key": fingerprint(key),
            "keyType": key_type,
            "scheme": SCHEME_NAMES[sig.sig_alg],
            "hash": hash_alg_name(sig.hash_alg),
            "keyAttributes": attributes,
        },
        {"kind": "freshness", "nonce": attest.extra_data.hex()},
    ]
    digest = (attest.pcr_digest or b"").hex()
    claims.extend(
        {
            "kind": "pcrs",
            "bank": hash_alg_name(alg),
            "pcrs": sorted(indices),
            "valuesFrom": source,
            "pcrDigest": digest,
        }
        for alg, indices in attest.selection or ()
    )
    claims.append(
        {
            "kind": "clock",
            "clock": attest.clock,
            "resetCount": attest.reset_count,
            "restartCount": attest.restart_count,
            "safe": attest.safe,
            "firmwareVersion": attest.firmware_version,
            "note": CLOCK_NOTE,
        }
    )
    return tuple(claims)


class _Checks:
    """Collects the checks made and the failed ones, in order."""

    def __init__(self) -> None:
        self.made: list[str] = []
        self.failures: list[Failure] = []

    def record(self, check: str, problem: tuple[ErrorCode, str] | None) -> bool:
        self.made.append(check)
        if problem is not None:
            self.failures.append(Failure(check, str(problem[0]), problem[1]))
        return problem is None


def verify_quote(
    attest: bytes,
    signature: Signature,
    key: PublicKey,
    nonce: bytes,
    *,
    pcrs: Mapping[int, Mapping[int, bytes]] | None = None,
    pcrs_source: str = "none",
    allowed_hashes: frozenset[int] | None = None,
) -> QuoteVerdict:
    """Verify a TPM2_Quote: checks (1)-(10) of ADR 0004, every one that can be made.

    (1) parse the TPMS_ATTEST; (2) magic; (3) type; (4) key attributes; (5) scheme fits
    the key; (6) hash allowed; (7) signature (only when 5 and 6 passed); (8) nonce;
    (9) PCR values present (only with `pcrs`); (10) pcrDigest (only when 9 passed).
    """
    c = _Checks()
    # (1)
    try:
        parsed = unmarshal_attest(attest)
    except ImplError as err:
        c.record("parse", (err.code, str(err)))
        return QuoteVerdict(False, tuple(c.failures), (), None, tuple(c.made))
    c.record("parse", None)
    # (2)
    bad_magic = parsed.magic != TPM_GENERATED_VALUE
    c.record("magic", (ErrorCode.BAD_MAGIC, f"magic 0x{parsed.magic:08x}") if bad_magic else None)
    # (3)
    not_quote = parsed.type != TPM_ST_ATTEST_QUOTE
    c.record("type", (ErrorCode.NOT_A_QUOTE, f"type 0x{parsed.type:04x}") if not_quote else None)
    # (4)
    attrs = key.object_attributes or 0
    weak = key.tpm_public is not None and (attrs & (ATTR_SIGN | ATTR_RESTRICTED)) != (
        ATTR_SIGN | ATTR_RESTRICTED
    )
    problem = (ErrorCode.KEY_NOT_RESTRICTED_SIGNING, f"objectAttributes 0x{attrs:08x}")
    c.record("key_attributes", problem if weak else None)
    # (5)
    why = _scheme_fits(signature, key)
    scheme_ok = c.record("scheme", None if why is None else (ErrorCode.SCHEME_KEY_MISMATCH, why))
    # (6)
    hash_ok = signature.hash_alg in SIGNATURE_HASHES and (
        allowed_hashes is None or signature.hash_alg in allowed_hashes
    )
    problem = (ErrorCode.HASH_NOT_ALLOWED, f"hash 0x{signature.hash_alg:04x} is not allowed")
    c.record("hash", None if hash_ok else problem)
    # (7)
    if scheme_ok and hash_ok:
        valid = verify_signature(key, parsed.raw, signature)
        problem = (ErrorCode.SIGNATURE_INVALID, "the signature does not verify over the attest")
        c.record("signature", None if valid else problem)
    # (8) only a bytes-like nonce can match: bytes(n) of an int n is n zero octets
    fresh = isinstance(nonce, bytes | bytearray | memoryview) and parsed.extra_data == bytes(nonce)
    problem = (ErrorCode.NONCE_MISMATCH, f"extraData {parsed.extra_data.hex()!r} != the nonce")
    c.record("nonce", None if fresh else problem)
    # (9), (10)
    if pcrs is not None and parsed.selection is not None:
        _check_pcrs(c, parsed, signature.hash_alg, pcrs)
    if c.failures:
        return QuoteVerdict(False, tuple(c.failures), (), parsed, tuple(c.made))
    source = pcrs_source if pcrs is not None else "none"
    claims = _claims(parsed, signature, key, source)
    return QuoteVerdict(True, (), claims, parsed, tuple(c.made))


def _check_pcrs(
    c: _Checks, parsed: Attest, hash_alg: int, pcrs: Mapping[int, Mapping[int, bytes]]
) -> None:
    # (9)
    if not c.record("pcr_values", _pcr_values_problem(parsed, pcrs)):
        return
    # (10) hash = the signature's hash; an id that is no hash cannot be computed (not made)
    if hash_alg not in DIGEST_SIZES:
        return
    try:
        digest = compute_composite_digest(HashAlg(hash_alg), parsed.selection or (), pcrs)  # type: ignore[arg-type]
    except ImplError as err:
        c.record("pcr_digest", (err.code, str(err)))
        return
    problem = (
        ErrorCode.PCR_DIGEST_MISMATCH,
        f"pcrDigest {(parsed.pcr_digest or b'').hex()} != {digest.hex()} of the PCR values",
    )
    c.record("pcr_digest", None if digest == parsed.pcr_digest else problem)


# --------------------------------------------------------------------------- sequences


def check_quote_sequence(attests: Sequence[Attest]) -> tuple[Failure, ...]:
    """Quotes of one key in the order received: counters never go back, clock advances."""
    failures: list[Failure] = []
    for index in range(1, len(attests)):
        a, b = attests[index - 1], attests[index]
        check = f"sequence[{index}]"
        if b.reset_count < a.reset_count:
            message = f"resetCount {b.reset_count} < {a.reset_count}"
            failures.append(Failure(check, str(ErrorCode.RESET_COUNT_DECREASED), message))
        elif b.reset_count == a.reset_count and b.restart_count < a.restart_count:
            message = f"restartCount {b.restart_count} < {a.restart_count}"
            failures.append(Failure(check, str(ErrorCode.RESTART_COUNT_DECREASED), message))
        elif (
            b.reset_count == a.reset_count
            and b.restart_count == a.restart_count
            and b.clock <= a.clock
        ):
            message = f"clock {b.clock} <= {a.clock} (a replayed quote has the same clock)"
            failures.append(Failure(check, str(ErrorCode.CLOCK_NOT_INCREASING), message))
    return tuple(failures)


# -------------------------------------------------------------------- event log values


def pcr_values_from_replay(
    replayed: Mapping[str, Mapping[int, bytes]],
) -> dict[int, dict[int, bytes]]:
    """An event log replay (bank name -> {pcr: value}) as `verify_quote`'s `pcrs`: PCRs
    the log never names keep their start values (ADR 0002 replay rule 2: 17-22 all ones,
    the others zero), since no event of the log extended them."""
    out: dict[int, dict[int, bytes]] = {}
    for name, values in replayed.items():
        alg = hash_alg_from_name(name)
        size = DIGEST_SIZES[alg]
        bank = {
            pcr: (b"\xff" * size if 17 <= pcr <= 22 else bytes(size)) for pcr in range(PCR_COUNT)
        }
        bank.update(values)
        out[int(alg)] = bank
    return out


__all__ = [
    "CHECKS",
    "Attest",
    "Failure",
    "PublicKey",
    "QuoteVerdict",
    "Signature",
    "check_quote_sequence",
    "compute_name",
    "fingerprint",
    "load_public_key",
    "pcr_values_from_replay",
    "plain_signature",
    "unmarshal_attest",
    "unmarshal_public",
    "unmarshal_signature",
    "unmarshal_tpm2b_public",
    "verify_quote",
    "verify_signature",
]
