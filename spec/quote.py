"""TPM quotes: keys, signatures and the verdict on a TPMS_ATTEST.

Spec: TPM2-P3 18.4 TPM2_Quote - what a quote signs; TPM2-P2 for the structures
(`_tpm_structs`); RFC 8017, FIPS 186-5 and RFC 6979 for the signatures (`_rsa`, `_ecc`,
`_der`); the checks, their order, the claims and the JSON are the contract of
docs/adr/0004-quote-contract.md. Verifier outcomes are `Failure` records, never
exceptions; a verdict accepts only when no check failed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec import _der, _ecc, _rsa
from chainoftrust.spec._tpm_structs import (
    ALG_ECDSA,
    ALG_NULL,
    ALG_RSAPSS,
    ALG_RSASSA,
    TPM_GENERATED_VALUE,
    TPM_ST_ATTEST_QUOTE,
    Attest,
    PublicKey,
    Signature,
    unmarshal_attest,
    unmarshal_public,
    unmarshal_signature,
    unmarshal_tpm2b_public,
)
from chainoftrust.spec.errors import ErrorCode, MalformedInputError, SpecError
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size, hash_alg_name
from chainoftrust.spec.selection import compute_composite_digest

__all__ = [
    "Attest",
    "Failure",
    "PublicKey",
    "QuoteVerdict",
    "Signature",
    "check_quote_sequence",
    "compute_name",
    "fingerprint",
    "load_public_key",
    "plain_signature",
    "unmarshal_attest",
    "unmarshal_public",
    "unmarshal_signature",
    "unmarshal_tpm2b_public",
    "verify_quote",
    "verify_signature",
]

#: PROJECT adr.0004: the signature hashes a quote may use.
SIGNATURE_HASHES: Final = frozenset({HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384, HashAlg.SHA512})
#: TPM2-P2 TPMA_OBJECT: restricted (bit 16) and sign (bit 18).
ATTR_RESTRICTED: Final = 1 << 16
ATTR_SIGN: Final = 1 << 18
SCHEME_NAMES: Final[dict[int, str]] = {
    ALG_RSASSA: "rsassa",
    ALG_RSAPSS: "rsapss",
    ALG_ECDSA: "ecdsa",
}
_KIND_OF_SCHEME: Final[dict[int, str]] = {ALG_RSASSA: "rsa", ALG_RSAPSS: "rsa", ALG_ECDSA: "ecc"}
CLOCK_NOTE: Final = (
    "resetCount, restartCount and firmwareVersion are obfuscated for keys outside the "
    "endorsement and platform hierarchies (Part 1); compare them only between quotes of "
    "the same key"
)
_B64URL: Final = re.compile(r"[A-Za-z0-9_-]*")  # used with fullmatch: no "\n" before "$"
#: The TPM_ALG_IDs of HashAlg (ADR 0001): the hashes a composite digest can be computed with.
_HASH_IDS: Final = frozenset(int(alg) for alg in HashAlg)


def _invalid_key(message: str, field: str, offset: int | None = None) -> MalformedInputError:
    return MalformedInputError(ErrorCode.INVALID_KEY, message, field=field, offset=offset)


def _rsa_key(n: int, e: int, field: str, offset: int | None = None) -> PublicKey:
    """RFC 8017 3.1: n odd and at least 3; e odd in [3, n-1] (INVALID_KEY)."""
    if n < 3 or n % 2 == 0 or not 3 <= e < n or e % 2 == 0:
        raise _invalid_key("not a valid RSA public key (RFC 8017 3.1)", field, offset)
    return PublicKey("rsa", n.bit_length(), n=n, e=e)


def _key_from_spki(der: bytes) -> PublicKey:
    """A key from DER SubjectPublicKeyInfo (RFC 5480 2, RFC 8017 A.1)."""
    kind, first, second, curve = _der.parse_spki(der)
    if kind == "rsa":
        return _rsa_key(first, second, "subjectPublicKey", _der.spki_key_offset(der))
    bits = _ecc.curve_by_name(curve or "").size * 8
    return PublicKey("ecc", bits, curve=curve, x=first, y=second)


def _load_pem(data: bytes) -> PublicKey:
    """RFC-7468 2, 13: -----BEGIN PUBLIC KEY----- base64 -----END PUBLIC KEY-----."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as err:
        raise _invalid_key("PEM is not ASCII", "pem", err.start) from err
    # re.ASCII: \s is ASCII whitespace only (not 0x1C-0x1F, which str's \s also matches)
    pattern = r"\s*-----BEGIN ([A-Z0-9 ]*)-----(.*?)-----END \1-----\s*"
    match = re.fullmatch(pattern, text, re.S | re.ASCII)
    if match is None:
        raise _invalid_key("not a PEM block with matching BEGIN and END lines", "pem", 0)
    if match.group(1) != "PUBLIC KEY":
        raise MalformedInputError(
            ErrorCode.UNSUPPORTED_KEY, f"PEM label {match.group(1)!r}", field="pem", offset=0
        )
    try:
        # RFC-7468 3: the lax parser's whitespace W is SP, HTAB, CR, LF, VT and FF only
        der = base64.b64decode(re.sub("[ \t\r\n\x0b\x0c]", "", match.group(2)), validate=True)
    except binascii.Error as err:
        raise _invalid_key("PEM body is not base64", "pem", match.start(2)) from err
    return _key_from_spki(der)


def _b64url_int(jwk: Mapping[str, object], name: str, size: int | None = None) -> int:
    """RFC-7518 6.2.1.2, 6.3.1.1: a base64url (no padding) unsigned big-endian integer;
    EC coordinates are exactly the field size in octets."""
    value = jwk.get(name)
    if not isinstance(value, str) or not _B64URL.fullmatch(value) or len(value) % 4 == 1:
        raise _invalid_key(f"JWK member {name!r} is not base64url", f"jwk.{name}")
    octets = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    if not octets or (size is not None and len(octets) != size):
        raise _invalid_key(f"JWK member {name!r} has the wrong length", f"jwk.{name}")
    return int.from_bytes(octets, "big")


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """RFC-7517 4 - duplicate member names: refused (ADR 0004 amendment 1), a ValueError."""
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate JWK member name")
    return dict(pairs)


def _load_jwk(data: bytes) -> PublicKey:
    """RFC-7517 4, RFC-7518 6.2.1, 6.3.1: an RSA (n, e) or EC (crv, x, y) public JWK."""
    try:
        jwk = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise _invalid_key("not a JSON document", "jwk", 0) from err
    if not isinstance(jwk, dict):
        raise _invalid_key("JWK is not a JSON object", "jwk", 0)
    if jwk.get("kty") == "RSA":
        return _rsa_key(_b64url_int(jwk, "n"), _b64url_int(jwk, "e"), "jwk")
    if jwk.get("kty") != "EC" or jwk.get("crv") not in _ecc.CURVES:
        raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, "JWK kty/crv", field="jwk")
    curve = str(jwk["crv"])
    size = _ecc.CURVES[curve].size
    x, y = _b64url_int(jwk, "x", size), _b64url_int(jwk, "y", size)
    if not _ecc.is_on_curve(curve, x, y):
        raise _invalid_key(f"not a {curve} point", "jwk")
    return PublicKey("ecc", size * 8, curve=curve, x=x, y=y)


def load_public_key(data: bytes) -> PublicKey:
    """Spec: PROJECT adr.0004 load_public_key - a public key in any accepted format.

    Steps (the first that applies):
      (1) PEM (first non-space text `-----BEGIN `): PUBLIC KEY only (other labels
          UNSUPPORTED_KEY), the base64 body a SubjectPublicKeyInfo (RFC 7468 13);
      (2) JWK (first non-space byte `{`): kty RSA (n, e) or EC (crv P-256/P-384, x, y);
      (3) DER SubjectPublicKeyInfo (first byte 0x30);
      (4) TPM2B_PUBLIC (the first u16 equals len(data) - 2);
      (5) else TPMT_PUBLIC.
    Bad input in the chosen format: INVALID_KEY (or the structure's own code).
    """
    stripped = data.lstrip()
    if stripped.startswith(b"-----BEGIN "):
        return _load_pem(data)
    if stripped.startswith(b"{"):
        return _load_jwk(data)
    if data.startswith(b"\x30"):
        return _key_from_spki(data)
    if len(data) >= 2 and int.from_bytes(data[:2], "big") == len(data) - 2:
        return unmarshal_tpm2b_public(data)
    return unmarshal_public(data)


def fingerprint(key: PublicKey) -> str:
    """Spec: PROJECT adr.0004 fingerprint - "sha256:" + hex SHA-256 of the DER
    SubjectPublicKeyInfo (RSA: rsaEncryption, NULL, RSAPublicKey; EC: id-ecPublicKey, the
    named curve, the uncompressed point padded to the field size)."""
    if key.kind == "rsa" and key.n is not None and key.e is not None:
        der = _der.encode_spki_rsa(key.n, key.e)
    elif key.kind == "ecc" and key.curve is not None and key.x is not None and key.y is not None:
        der = _der.encode_spki_ec(key.curve, key.x, key.y)
    else:
        raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, f"key kind {key.kind!r}")
    return "sha256:" + compute_digest(HashAlg.SHA256, der).hex()


def compute_name(key: PublicKey) -> bytes:
    """Spec: TPM2-P1 16 Names - nameAlg (u16) || H_nameAlg(TPMT_PUBLIC), for a key that came
    from a TPM public area (else UNSUPPORTED_KEY; an unknown nameAlg too)."""
    if key.tpm_public is None or key.name_alg not in {int(a) for a in HashAlg}:
        raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, "no TPM public area or nameAlg")
    alg = HashAlg(key.name_alg)
    return alg.to_bytes(2, "big") + compute_digest(alg, key.tpm_public)


def plain_signature(key: PublicKey, data: bytes, scheme: str, hash_alg: int) -> Signature:
    """Spec: PROJECT adr.0004 plain_signature - a raw signature as a Signature.

    Steps:
      (1) "rsassa" / "rsapss": the signature octets; with an RSA key their length must be
          the modulus length (INVALID_SIGNATURE_FORMAT at offset 0);
      (2) "ecdsa": a strict DER Ecdsa-Sig-Value (RFC 3279 2.2.3; INVALID_SIGNATURE_FORMAT);
      (3) any other scheme: UNSUPPORTED_SIGNATURE_ALGORITHM.
    """
    # (1)
    if scheme in ("rsassa", "rsapss"):
        alg = ALG_RSASSA if scheme == "rsassa" else ALG_RSAPSS
        if key.kind == "rsa" and key.n is not None and len(data) != (key.bits + 7) // 8:
            raise MalformedInputError(
                ErrorCode.INVALID_SIGNATURE_FORMAT,
                f"{len(data)} octets, the modulus has {(key.bits + 7) // 8}",
                field="signature",
                offset=0,
            )
        return Signature(alg, hash_alg, rsa_signature=data)
    # (2)
    if scheme == "ecdsa":
        r, s = _der.parse_ecdsa_sig(data, ErrorCode.INVALID_SIGNATURE_FORMAT)
        return Signature(ALG_ECDSA, hash_alg, ecdsa_r=r, ecdsa_s=s)
    # (3)
    raise MalformedInputError(
        ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, f"scheme {scheme!r}", field="scheme"
    )


def verify_signature(key: PublicKey, message: bytes, sig: Signature) -> bool:
    """Spec: PROJECT adr.0004 verify_signature - RSASSA (RFC 8017 8.2.2), RSAPSS (RFC 8017
    8.1.2, any salt length) or ECDSA (FIPS 186-5 6.4.2) over message with key.

    False for a wrong signature, a bad value, a hash other than SHA-1/256/384/512 or a
    scheme that does not fit the key kind; never raises for signature values.
    """
    if sig.hash_alg not in SIGNATURE_HASHES:
        return False
    if key.kind == "rsa" and key.n is not None and key.e is not None:
        if sig.rsa_signature is None:
            return False
        if sig.sig_alg == ALG_RSASSA:
            return _rsa.rsa_verify_pkcs1v15(key.n, key.e, sig.hash_alg, message, sig.rsa_signature)
        if sig.sig_alg == ALG_RSAPSS:
            return _rsa.rsa_verify_pss(key.n, key.e, sig.hash_alg, message, sig.rsa_signature)
        return False
    if key.kind == "ecc" and sig.sig_alg == ALG_ECDSA:
        if sig.ecdsa_r is None or sig.ecdsa_s is None or key.x is None or key.y is None:
            return False
        return _ecc.ecdsa_verify(
            key.curve or "", key.x, key.y, sig.hash_alg, message, sig.ecdsa_r, sig.ecdsa_s
        )
    return False


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed check: its name, the error code, a readable message."""

    check: str
    code: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", str(self.code))  # an ErrorCode becomes its string


@dataclass(frozen=True, slots=True)
class QuoteVerdict:
    """The outcome of verify_quote: accepted iff no failure; claims only when accepted."""

    accepted: bool
    failures: tuple[Failure, ...]
    claims: tuple[dict[str, object], ...]
    attest: Attest | None

    def to_json(self) -> dict[str, object]:
        """Spec: PROJECT adr.0004 QuoteVerdict.to_json - the verdict as the ADR's JSON."""
        quote: dict[str, object] | None = None
        if self.attest is not None:
            a = self.attest
            select = None if a.selection is None else [
                {"hash": int(alg), "pcrs": sorted(pcrs)} for alg, pcrs in a.selection
            ]  # fmt: skip
            quote = {
                "magic": a.magic, "type": a.type, "qualifiedSigner": a.qualified_signer.hex(),
                "extraData": a.extra_data.hex(), "clock": a.clock, "resetCount": a.reset_count,
                "restartCount": a.restart_count, "safe": a.safe,
                "firmwareVersion": a.firmware_version, "pcrSelect": select,
                "pcrDigest": None if a.pcr_digest is None else a.pcr_digest.hex(),
            }  # fmt: skip
        return {
            "verdict": "accept" if self.accepted else "reject",
            "failures": [
                {"check": f.check, "code": str(f.code), "message": f.message}
                for f in self.failures
            ],
            "claims": [dict(c) for c in self.claims],
            "quote": quote,
        }  # fmt: skip


def _check_scheme(key: PublicKey, sig: Signature) -> str | None:
    """PROJECT adr.0004 check 5: the signature's scheme fits the key kind and the key's own
    (non-NULL) TPM scheme; the reason when it does not."""
    if _KIND_OF_SCHEME.get(sig.sig_alg) != key.kind:
        return (
            f"a {SCHEME_NAMES.get(sig.sig_alg, hex(sig.sig_alg))} signature for an {key.kind} key"
        )
    if key.scheme is not None and key.scheme != ALG_NULL:
        if (key.scheme, key.scheme_hash) != (sig.sig_alg, sig.hash_alg):
            return (
                f"the key's scheme is {key.scheme:#06x}/{key.scheme_hash or 0:#06x}, the "
                f"signature's {sig.sig_alg:#06x}/{sig.hash_alg:#06x}"
            )
    return None


def _check_pcr_values(
    attest: Attest, pcrs: Mapping[int, Mapping[int, bytes]]
) -> tuple[str, str] | None:
    """PROJECT adr.0004 check 9: every selected PCR of every selected bank has a value of
    the bank's size; the first problem as (code, message)."""
    for alg, indices in attest.selection or ():
        try:
            size = digest_size(alg)
        except SpecError:
            return str(ErrorCode.UNKNOWN_ALGORITHM), f"bank {int(alg):#06x} is not known"
        for pcr in sorted(indices):
            value = pcrs.get(alg, {}).get(pcr)
            if value is None:
                return str(ErrorCode.PCR_VALUES_MISSING), f"no {alg.name} value for PCR {pcr}"
            if len(value) != size:
                return str(ErrorCode.DIGEST_SIZE_MISMATCH), f"{alg.name} PCR {pcr}: wrong size"
    return None


def _check_pcr_digest(
    attest: Attest, sig: Signature, pcrs: Mapping[int, Mapping[int, bytes]]
) -> tuple[str, str] | None:
    """PROJECT adr.0004 check 10: pcrDigest equals the composite digest (ADR 0001) under
    the signature's hash; the failure as (code, message).

    Not made (None) when the signature's hash is no HashAlg: it is then not one of
    SIGNATURE_HASHES, so check 6 has already failed and the verdict rejects. An error
    computing the composite is a failure, never a pass."""
    if sig.hash_alg not in _HASH_IDS:  # check 6 failed: the verdict is a reject already
        return None
    try:
        composite = compute_composite_digest(HashAlg(sig.hash_alg), attest.selection or (), pcrs)
    except SpecError as err:
        return str(err.code), err.message
    if composite != attest.pcr_digest:
        return str(ErrorCode.PCR_DIGEST_MISMATCH), "pcrDigest is not the digest of the PCRs"
    return None


def _claims(
    attest: Attest, key: PublicKey, sig: Signature, values_from: str
) -> tuple[dict[str, object], ...]:
    """PROJECT adr.0004 claims 1-4: signature, freshness, one pcrs claim per bank, clock."""
    key_type = f"rsa-{key.bits}" if key.kind == "rsa" else f"ecc-{key.curve}"
    attributes = (
        "restricted-signing"
        if key.tpm_public is not None
        else "unknown (key given without its TPM public area)"
    )
    signature: dict[str, object] = {
        "kind": "signature", "key": fingerprint(key), "keyType": key_type,
        "scheme": SCHEME_NAMES[sig.sig_alg], "hash": hash_alg_name(HashAlg(sig.hash_alg)),
        "keyAttributes": attributes,
    }  # fmt: skip
    banks: list[dict[str, object]] = [
        {"kind": "pcrs", "bank": hash_alg_name(alg), "pcrs": sorted(indices),
         "valuesFrom": values_from, "pcrDigest": (attest.pcr_digest or b"").hex()}
        for alg, indices in attest.selection or ()
    ]  # fmt: skip
    clock: dict[str, object] = {
        "kind": "clock", "clock": attest.clock, "resetCount": attest.reset_count,
        "restartCount": attest.restart_count, "safe": attest.safe,
        "firmwareVersion": attest.firmware_version, "note": CLOCK_NOTE,
    }  # fmt: skip
    freshness: dict[str, object] = {"kind": "freshness", "nonce": attest.extra_data.hex()}
    return (signature, freshness, *banks, clock)


def _signature_holds(key: PublicKey, message: bytes, sig: Signature) -> bool:
    """PROJECT adr.0004 check 7, failing closed: an error on the way is a wrong signature."""
    try:
        return verify_signature(key, message, sig)
    except (SpecError, ValueError, ArithmeticError):
        return False


def _header_checks(attest: Attest, key: PublicKey, sig: Signature) -> list[Failure]:
    """PROJECT adr.0004 checks 2-5: magic, type, key attributes, scheme."""
    out: list[Failure] = []
    # (2)
    if attest.magic != TPM_GENERATED_VALUE:
        out.append(Failure("magic", ErrorCode.BAD_MAGIC, f"magic {attest.magic:#010x}"))
    # (3)
    if attest.type != TPM_ST_ATTEST_QUOTE:
        out.append(Failure("type", ErrorCode.NOT_A_QUOTE, f"type {attest.type:#06x}"))
    # (4)
    attrs = key.object_attributes or 0  # a TPM public area without attributes has none
    if key.tpm_public is not None and (attrs & ATTR_SIGN == 0 or attrs & ATTR_RESTRICTED == 0):
        message = f"objectAttributes {attrs:#010x} lack sign or restricted"
        out.append(Failure("key_attributes", ErrorCode.KEY_NOT_RESTRICTED_SIGNING, message))
    # (5)
    reason = _check_scheme(key, sig)
    if reason is not None:
        out.append(Failure("scheme", ErrorCode.SCHEME_KEY_MISMATCH, reason))
    return out


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
    """Spec: PROJECT adr.0004 verify_quote - the verdict on a quote, checks in the ADR order.

    Steps (each failed check is one Failure, in this order; accept iff none):
      (1) parse: unmarshal_attest (on failure no later check is made);
      (2) magic; (3) type; (4) key_attributes; (5) scheme (see _header_checks);
      (6) hash: SHA-1/256/384/512, and in allowed_hashes when given;
      (7) signature: verify_signature over the attest octets (skipped if 5 or 6 failed);
      (8) nonce: extraData == nonce;
      (9) pcr_values, (10) pcr_digest: only with pcrs and a quote's selection.
    Claims (only on accept): signature, freshness, pcrs per bank, clock.
    """
    # (1)
    try:
        parsed = unmarshal_attest(attest)
    except SpecError as err:
        return QuoteVerdict(False, (Failure("parse", str(err.code), str(err)),), (), None)
    # (2)-(5)
    failures = _header_checks(parsed, key, signature)
    # (6)
    hash_ok = signature.hash_alg in SIGNATURE_HASHES and (
        allowed_hashes is None or signature.hash_alg in allowed_hashes
    )
    if not hash_ok:
        message = f"signature hash {signature.hash_alg:#06x} is not allowed"
        failures.append(Failure("hash", ErrorCode.HASH_NOT_ALLOWED, message))
    # (7)
    scheme_ok = all(f.check != "scheme" for f in failures)
    if scheme_ok and hash_ok and not _signature_holds(key, attest, signature):
        failures.append(Failure("signature", ErrorCode.SIGNATURE_INVALID, "signature invalid"))
    # (8)
    if parsed.extra_data != nonce:
        failures.append(Failure("nonce", ErrorCode.NONCE_MISMATCH, "extraData is not the nonce"))
    # (9)-(10)
    if pcrs is not None and parsed.selection is not None:
        problem = _check_pcr_values(parsed, pcrs)
        if problem is not None:
            failures.append(Failure("pcr_values", *problem))
        else:
            problem = _check_pcr_digest(parsed, signature, pcrs)
            if problem is not None:
                failures.append(Failure("pcr_digest", *problem))
    if failures:
        return QuoteVerdict(False, tuple(failures), (), parsed)
    values_from = pcrs_source if pcrs is not None else "none"
    return QuoteVerdict(True, (), _claims(parsed, key, signature, values_from), parsed)


def check_quote_sequence(attests: Sequence[Attest]) -> tuple[Failure, ...]:
    """Spec: PROJECT adr.0004 check_quote_sequence - counters of one key's quotes never go
    back: for each consecutive pair (a, b), b.resetCount < a.resetCount is
    RESET_COUNT_DECREASED; equal resetCount and a smaller restartCount is
    RESTART_COUNT_DECREASED; both equal and b.clock <= a.clock is CLOCK_NOT_INCREASING."""
    out: list[Failure] = []
    for index in range(1, len(attests)):
        a, b = attests[index - 1], attests[index]
        check = f"sequence[{index}]"
        if b.reset_count < a.reset_count:
            out.append(Failure(check, ErrorCode.RESET_COUNT_DECREASED, "resetCount went back"))
        elif b.reset_count == a.reset_count and b.restart_count < a.restart_count:
            out.append(Failure(check, ErrorCode.RESTART_COUNT_DECREASED, "restartCount went back"))
        elif (b.reset_count, b.restart_count) == (a.reset_count, a.restart_count) and (
            b.clock <= a.clock
        ):
            out.append(Failure(check, ErrorCode.CLOCK_NOT_INCREASING, "clock did not advance"))
    return tuple(out)
