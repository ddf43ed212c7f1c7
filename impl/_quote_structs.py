"""TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC / TPM2B_PUBLIC and plain signatures.

Sources: TPM 2.0 Library Part 2 (TPMS_ATTEST, TPMS_CLOCK_INFO, TPMS_QUOTE_INFO,
TPMT_SIGNATURE, TPMS_SIGNATURE_RSA, TPMS_SIGNATURE_ECC, TPMT_PUBLIC, TPMS_RSA_PARMS,
TPMS_ECC_PARMS, TPMT_SYM_DEF_OBJECT, TPMT_RSA_SCHEME, TPMT_ECC_SCHEME, TPMT_KDF_SCHEME,
TPMS_ECC_POINT; big-endian), X.690 (DER) for the Ecdsa-Sig-Value of SEC 1 / RFC 3279.
Error rules and codes: docs/adr/0004-quote-contract.md. Every read is bounds-checked
against the bytes that remain; a TPM2B's declared size is checked against its maximum
and against the remaining input before its buffer is sliced, so a large declared size
allocates nothing. Error offsets are byte offsets into the caller's input.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, replace
from typing import NoReturn

from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.selection import Selection, unmarshal_pcr_selection
from cryptography.hazmat.primitives.asymmetric import ec

# TPM_GENERATED_VALUE and TPM_ST_ATTEST_QUOTE (Part 2, TPM_GENERATED, TPM_ST).
TPM_GENERATED_VALUE = 0xFF544347
TPM_ST_ATTEST_QUOTE = 0x8018

# TPM_ALG_ID values (TCG Algorithm Registry).
ALG_RSA = 0x0001
ALG_NULL = 0x0010
ALG_RSASSA = 0x0014
ALG_RSAES = 0x0015
ALG_RSAPSS = 0x0016
ALG_ECDSA = 0x0018
ALG_ECDAA = 0x001A
ALG_ECC = 0x0023

# TPM_ECC_CURVE (Part 2, TPM_ECC_CURVE) -> (name, field size in bytes, cryptography curve).
CURVES: dict[int, tuple[str, int, ec.EllipticCurve]] = {
    0x0003: ("P-256", 32, ec.SECP256R1()),
    0x0004: ("P-384", 48, ec.SECP384R1()),
}
CURVE_BY_NAME: dict[str, ec.EllipticCurve] = {name: c for name, _, c in CURVES.values()}
FIELD_BYTES: dict[str, int] = {name: size for name, size, _ in CURVES.values()}

SCHEME_NAMES: dict[int, str] = {ALG_RSASSA: "rsassa", ALG_RSAPSS: "rsapss", ALG_ECDSA: "ecdsa"}
SCHEME_IDS: dict[str, int] = {name: alg for alg, name in SCHEME_NAMES.items()}

MAX_DIGEST = 64  # sizeof(TPMU_HA): TPM2B_DIGEST (Part 2)
MAX_NAME = 2 + 64  # sizeof(TPMU_NAME) = sizeof(TPMT_HA): TPM2B_NAME (Part 2)
# TPM2B_DATA: buffer[sizeof(TPMT_HA)] = 66 octets (Part 2, TPM2B_DATA; ms-tpm-20-ref
# TpmTypes.h; ADR 0004 amendment 1 item 1).
MAX_DATA = 2 + 64

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")


@dataclass(frozen=True, slots=True)
class Attest:
    """A TPMS_ATTEST; `selection`/`pcr_digest` only for TPM_ST_ATTEST_QUOTE."""

    magic: int
    type: int
    qualified_signer: bytes
    extra_data: bytes
    clock: int
    reset_count: int
    restart_count: int
    safe: int
    firmware_version: int
    selection: Selection | None
    pcr_digest: bytes | None
    attested: bytes
    raw: bytes


@dataclass(frozen=True, slots=True)
class Signature:
    """A TPMT_SIGNATURE of RSASSA, RSAPSS or ECDSA (or a plain signature in that form)."""

    sig_alg: int
    hash_alg: int
    rsa_signature: bytes | None = None
    ecdsa_r: int | None = None
    ecdsa_s: int | None = None


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An RSA or ECC (P-256/P-384) public key; the TPM fields only from a TPM public area."""

    kind: str
    bits: int
    n: int | None = None
    e: int | None = None
    curve: str | None = None
    x: int | None = None
    y: int | None = None
    tpm_public: bytes | None = None
    name_alg: int | None = None
    object_attributes: int | None = None
    scheme: int | None = None
    scheme_hash: int | None = None


def malformed(code: ErrorCode, message: str, field: str | None, offset: int | None) -> NoReturn:
    raise MalformedInputError(code, message, field=field, offset=offset)


class _Reader:
    """Big-endian reads from `mv[pos:end]`; offsets reported as `base + position`."""

    __slots__ = ("base", "end", "mv", "pos")

    def __init__(self, mv: memoryview, base: int = 0) -> None:
        self.mv = mv
        self.pos = 0
        self.end = len(mv)
        self.base = base

    def at(self) -> int:
        return self.base + self.pos

    def need(self, size: int, field: str) -> None:
        if self.end - self.pos < size:
            malformed(
                ErrorCode.TRUNCATED,
                f"{field} needs {size} bytes, {self.end - self.pos} remain",
                field,
                self.at(),
            )

    def u8(self, field: str) -> int:
        self.need(1, field)
        value = self.mv[self.pos]
        self.pos += 1
        return value

    def u16(self, field: str) -> int:
        self.need(2, field)
        (value,) = _U16.unpack_from(self.mv, self.pos)
        self.pos += 2
        return int(value)

    def u32(self, field: str) -> int:
        self.need(4, field)
        (value,) = _U32.unpack_from(self.mv, self.pos)
        self.pos += 4
        return int(value)

    def u64(self, field: str) -> int:
        self.need(8, field)
        (value,) = _U64.unpack_from(self.mv, self.pos)
        self.pos += 8
        return int(value)

    def take(self, size: int, field: str) -> bytes:
        self.need(size, field)
        out = bytes(self.mv[self.pos : self.pos + size])
        self.pos += size
        return out

    def tpm2b(self, field: str, limit: int | None, code: ErrorCode) -> bytes:
        """u16 size, then that many bytes; size > limit is `code` at the size field."""
        start = self.at()
        size = self.u16(f"{field}.size")
        if limit is not None and size > limit:
            malformed(
                code, f"{field} declares {size} bytes, at most {limit}", f"{field}.size", start
            )
        return self.take(size, f"{field}.buffer")

    def rest(self) -> bytes:
        out = bytes(self.mv[self.pos : self.end])
        self.pos = self.end
        return out

    def finish(self) -> None:
        if self.pos != self.end:
            malformed(
                ErrorCode.TRAILING_BYTES,
                f"{self.end - self.pos} bytes after the end of the structure",
                None,
                self.at(),
            )


def _view(data: object, field: str) -> memoryview:
    if not isinstance(data, bytes | bytearray | memoryview):
        malformed(
            ErrorCode.INVALID_DOCUMENT, f"expected bytes, got {type(data).__name__}", field, 0
        )
    return memoryview(data).cast("B") if isinstance(data, memoryview) else memoryview(data)


# ------------------------------------------------------------------------- TPMS_ATTEST


def _quote_selection(r: _Reader) -> Selection:
    """TPML_PCR_SELECTION (ADR 0001 rules) at r, offsets relative to the TPMS_ATTEST."""
    start = r.at()
    r.need(4, "attested.quote.pcrSelect.count")
    (count,) = _U32.unpack_from(r.mv, r.pos)
    # When count is within the limit, a valid list is exactly 4 + 6*count bytes long
    # (sizeofSelect must be 3); a prefix of that length raises exactly what the whole would.
    size = min(4 + 6 * count, r.end - r.pos) if count <= 8 else 4
    try:
        selection = unmarshal_pcr_selection(bytes(r.mv[r.pos : r.pos + size]))
    except MalformedInputError as err:
        where = None if err.field is None else f"attested.quote.pcrSelect.{err.field}"
        offset = start if err.offset is None else start + err.offset
        raise MalformedInputError(err.code, err.message, field=where, offset=offset) from err
    r.pos += size
    return selection


def unmarshal_attest(data: bytes) -> Attest:
    """A TPMS_ATTEST that fills `data` exactly (the magic is not checked here)."""
    mv = _view(data, "attest")
    r = _Reader(mv)
    magic = r.u32("magic")
    attest_type = r.u16("type")
    signer = r.tpm2b("qualifiedSigner", MAX_NAME, ErrorCode.INVALID_ATTEST)
    extra = r.tpm2b("extraData", MAX_DATA, ErrorCode.INVALID_ATTEST)
    clock = r.u64("clockInfo.clock")
    reset_count = r.u32("clockInfo.resetCount")
    restart_count = r.u32("clockInfo.restartCount")
    safe_at = r.at()
    safe = r.u8("clockInfo.safe")
    if safe > 1:
        malformed(
            ErrorCode.INVALID_ATTEST, f"safe is {safe}, not 0 or 1", "clockInfo.safe", safe_at
        )
    firmware = r.u64("firmwareVersion")
    attested_at = r.pos
    selection: Selection | None = None
    digest: bytes | None = None
    if attest_type == TPM_ST_ATTEST_QUOTE:
        selection = _quote_selection(r)
        digest = r.tpm2b("attested.quote.pcrDigest", MAX_DIGEST, ErrorCode.INVALID_ATTEST)
        r.finish()
        attested = bytes(mv[attested_at:])
    else:
        attested = r.rest()
    return Attest(
        magic=magic,
        type=attest_type,
        qualified_signer=signer,
        extra_data=extra,
        clock=clock,
        reset_count=reset_count,
        restart_count=restart_count,
        safe=safe,
        firmware_version=firmware,
        selection=selection,
        pcr_digest=digest,
        attested=attested,
        raw=bytes(mv),
    )


# ---------------------------------------------------------------------- TPMT_SIGNATURE


def unmarshal_signature(data: bytes) -> Signature:
    """A TPMT_SIGNATURE (RSASSA, RSAPSS or ECDSA) that fills `data` exactly."""
    r = _Reader(_view(data, "signature"))
    sig_alg = r.u16("sigAlg")
    if sig_alg not in SCHEME_NAMES:
        malformed(
            ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM,
            f"signature algorithm 0x{sig_alg:04x} is not RSASSA, RSAPSS or ECDSA",
            "sigAlg",
            0,
        )
    hash_alg = r.u16("signature.hash")
    if sig_alg == ALG_ECDSA:
        sig_r = r.tpm2b("signature.signatureR", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
        sig_s = r.tpm2b("signature.signatureS", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
        r.finish()
        return Signature(
            sig_alg, hash_alg, ecdsa_r=int.from_bytes(sig_r), ecdsa_s=int.from_bytes(sig_s)
        )
    sig = r.tpm2b("signature.sig", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
    r.finish()
    return Signature(sig_alg, hash_alg, rsa_signature=sig)


# -------------------------------------------------------------------- plain signatures


def _bad_der(message: str, offset: int) -> NoReturn:
    malformed(ErrorCode.INVALID_SIGNATURE_FORMAT, message, "Ecdsa-Sig-Value", offset)


def _der_header(mv: memoryview, pos: int, tag: int, end: int) -> tuple[int, int]:
    """(contents start, contents end) of the DER TLV with `tag` at pos (X.690 8.1, 10.1:
    definite length in the fewest octets). Every error is reported at the TLV's start."""
    if end - pos < 2 or mv[pos] != tag:
        _bad_der(f"expected a complete DER TLV with tag 0x{tag:02x}", pos)
    first = mv[pos + 1]
    at = pos + 2
    length = first
    if first & 0x80:
        count = first & 0x7F
        if not 1 <= count <= 4 or end - at < count:
            _bad_der("bad or truncated long-form DER length", pos)
        length = int.from_bytes(mv[at : at + count])
        if mv[at] == 0 or length < 0x80:
            _bad_der("DER length is not in the fewest octets", pos)
        at += count
    if length > end - at:
        _bad_der("DER contents run past the end", pos)
    return at, at + length


def _der_integer(mv: memoryview, pos: int, end: int) -> tuple[int, int]:
    """A DER INTEGER at pos (X.690 8.3.2: minimal two's complement) and the offset after."""
    start, stop = _der_header(mv, pos, 0x02, end)
    if stop == start:
        _bad_der("empty DER INTEGER", pos)
    if stop - start > 1 and (
        (mv[start] == 0x00 and mv[start + 1] < 0x80)
        or (mv[start] == 0xFF and mv[start + 1] >= 0x80)
    ):
        _bad_der("DER INTEGER is not in the fewest octets", pos)
    return int.from_bytes(mv[start:stop], signed=True), stop


# DER of the OIDs (RFC 3279 2.3.1 rsaEncryption; RFC 5480 2.1.1 id-ecPublicKey, 2.1.1.1
# secp256r1 = prime256v1 and secp384r1).
OID_RSA = bytes.fromhex("2a864886f70d010101")
OID_EC = bytes.fromhex("2a8648ce3d0201")
OID_CURVES = {bytes.fromhex("2a8648ce3d030107"): "P-256", bytes.fromhex("2b81040022"): "P-384"}


def check_spki_frame(data: bytes) -> tuple[str, int]:
    """The outline of a DER SubjectPublicKeyInfo (RFC 5280 4.1.2.7): SEQUENCE { SEQUENCE {
    OID, parameters }, BIT STRING with 0 unused bits }, nothing after it; a known
    algorithm (rsaEncryption with NULL, or id-ecPublicKey with P-256/P-384). Returns
    ("rsa" or "ecc", the BIT STRING's offset); INVALID_KEY (at the bad TLV) or
    UNSUPPORTED_KEY. The key inside the BIT STRING is left to cryptography; its errors are
    reported at the BIT STRING (ADR 0004 amendment 1)."""
    mv = memoryview(data)
    try:
        start, end = _der_header(mv, 0, 0x30, len(mv))
        alg_start, alg_end = _der_header(mv, start, 0x30, end)
        oid_start, oid_end = _der_header(mv, alg_start, 0x06, alg_end)
        bits_at = alg_end
        bits_start, bits_end = _der_header(mv, bits_at, 0x03, end)
        if bits_end != end:
            _bad_der("octets after the BIT STRING", bits_end)
        if end != len(mv):
            _bad_der("octets after the SubjectPublicKeyInfo", end)
        if bits_start == bits_end or mv[bits_start] != 0:
            _bad_der("BIT STRING with unused bits", bits_at)
        oid = bytes(mv[oid_start:oid_end])
        if oid == OID_RSA:
            null_start, null_end = _der_header(mv, oid_end, 0x05, alg_end)
            if null_start != null_end:
                _bad_der("NULL with contents", oid_end)
            if null_end != alg_end:
                _bad_der("octets after the parameters", null_end)
            return "rsa", bits_at
        if oid == OID_EC:
            curve_start, curve_end = _der_header(mv, oid_end, 0x06, alg_end)
            if curve_end != alg_end:
                _bad_der("octets after the parameters", curve_end)
            if bytes(mv[curve_start:curve_end]) in OID_CURVES:
                return "ecc", bits_at
            malformed(ErrorCode.UNSUPPORTED_KEY, "named curve not P-256/P-384", "der", None)
    except MalformedInputError as err:
        if err.code is not ErrorCode.INVALID_SIGNATURE_FORMAT:
            raise
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, err.message, field="der", offset=err.offset
        ) from err
    malformed(ErrorCode.UNSUPPORTED_KEY, "key algorithm not RSA or EC", "der", None)


def plain_signature(key: PublicKey, data: bytes, scheme: str, hash_alg: int) -> Signature:
    """A raw signature as `tpm2_quote -f plain` writes it: RSA bytes or DER ECDSA."""
    mv = _view(data, "signature")
    alg = SCHEME_IDS.get(scheme) if isinstance(scheme, str) else None
    if alg is None:
        malformed(
            ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, f"unknown scheme {scheme!r}", "scheme", None
        )
    if alg != ALG_ECDSA:
        if key.kind == "rsa" and key.n is not None:
            size = (key.n.bit_length() + 7) // 8
            if len(mv) != size:
                malformed(
                    ErrorCode.INVALID_SIGNATURE_FORMAT,
                    f"RSA signature has {len(mv)} bytes, the modulus {size}",
                    "signature",
                    0,
                )
        return Signature(alg, hash_alg, rsa_signature=bytes(mv))
    start, stop = _der_header(mv, 0, 0x30, len(mv))  # Ecdsa-Sig-Value (RFC 3279 2.2.3)
    sig_r, pos = _der_integer(mv, start, stop)
    sig_s, pos = _der_integer(mv, pos, stop)
    if pos != stop:
        _bad_der("octets after s inside the Ecdsa-Sig-Value", pos)
    if stop != len(mv):
        _bad_der("octets after the Ecdsa-Sig-Value", stop)
    return Signature(alg, hash_alg, ecdsa_r=sig_r, ecdsa_s=sig_s)


# ------------------------------------------------------------------------- TPMT_PUBLIC


def _scheme(r: _Reader, field: str, *, ecc: bool) -> tuple[int, int | None]:
    """TPMT_RSA_SCHEME / TPMT_ECC_SCHEME: scheme, then its details (Part 2 TPMU_ASYM_SCHEME)."""
    scheme = r.u16(f"{field}.scheme")
    if scheme == ALG_NULL or (not ecc and scheme == ALG_RSAES):
        return scheme, None  # TPMS_ENC_SCHEME_RSAES is TPMS_EMPTY (Part 2)
    scheme_hash = r.u16(f"{field}.details.hashAlg")
    if ecc and scheme == ALG_ECDAA:
        r.u16(f"{field}.details.count")
    return scheme, scheme_hash


def _symmetric(r: _Reader) -> None:
    """TPMT_SYM_DEF_OBJECT: algorithm; keyBits and mode unless TPM_ALG_NULL."""
    if r.u16("parameters.symmetric.algorithm") != ALG_NULL:
        r.u16("parameters.symmetric.keyBits")
        r.u16("parameters.symmetric.mode")


def is_rsa_key(n: int, e: int) -> bool:
    """RFC 8017 3.1: n odd and at least 3, e odd in [3, n - 1]."""
    return n >= 3 and n % 2 == 1 and 3 <= e < n and e % 2 == 1


def _rsa_public(r: _Reader) -> PublicKey:
    scheme, scheme_hash = _scheme(r, "parameters.scheme", ecc=False)
    key_bits = r.u16("parameters.keyBits")
    exponent = r.u32("parameters.exponent") or 65537  # 0 means 2^16 + 1 (Part 2)
    unique_at = r.at()
    modulus = r.tpm2b("unique.rsa", None, ErrorCode.INVALID_KEY)
    n = int.from_bytes(modulus)
    # the modulus has exactly keyBits/8 octets, and is an RSA public key (RFC 8017 3.1)
    if key_bits % 8 or len(modulus) != key_bits // 8 or not is_rsa_key(n, exponent):
        malformed(
            ErrorCode.INVALID_KEY,
            f"not a valid {key_bits}-bit RSA modulus and exponent {exponent}",
            "unique.rsa",
            unique_at,
        )
    return PublicKey("rsa", n.bit_length(), n=n, e=exponent, scheme=scheme, scheme_hash=scheme_hash)


def _coordinate(r: _Reader, name: str, size: int) -> int:
    return int.from_bytes(r.tpm2b(f"unique.ecc.{name}", size, ErrorCode.INVALID_KEY))


def _ecc_public(r: _Reader) -> PublicKey:
    scheme, scheme_hash = _scheme(r, "parameters.scheme", ecc=True)
    curve_at = r.at()
    curve_id = r.u16("parameters.curveID")
    if curve_id not in CURVES:
        malformed(
            ErrorCode.UNSUPPORTED_KEY,
            f"curve 0x{curve_id:04x} is not NIST P-256 or P-384",
            "parameters.curveID",
            curve_at,
        )
    name, size, curve = CURVES[curve_id]
    _scheme(r, "parameters.kdf", ecc=True)  # TPMT_KDF_SCHEME: scheme, hashAlg unless NULL
    point_at = r.at()
    x = _coordinate(r, "x", size)
    y = _coordinate(r, "y", size)
    if not is_on_curve(name, x, y):
        malformed(ErrorCode.INVALID_KEY, f"the point is not on {name}", "unique.ecc", point_at)
    return PublicKey(
        "ecc", curve.key_size, curve=name, x=x, y=y, scheme=scheme, scheme_hash=scheme_hash
    )


def is_on_curve(curve: str, x: int, y: int) -> bool:
    """True when (x, y) is a point of `curve` (cryptography checks the curve equation)."""
    try:
        ec.EllipticCurvePublicNumbers(x, y, CURVE_BY_NAME[curve]).public_key()
    except ValueError:
        return False
    return True


def _public_area(mv: memoryview, base: int) -> PublicKey:
    r = _Reader(mv, base)
    key_type = r.u16("type")
    if key_type not in (ALG_RSA, ALG_ECC):
        malformed(
            ErrorCode.UNSUPPORTED_KEY, f"key type 0x{key_type:04x} is not RSA or ECC", "type", base
        )
    name_alg = r.u16("nameAlg")
    attributes = r.u32("objectAttributes")
    r.tpm2b("authPolicy", MAX_DIGEST, ErrorCode.INVALID_KEY)
    _symmetric(r)
    key = _rsa_public(r) if key_type == ALG_RSA else _ecc_public(r)
    r.finish()
    return replace(key, tpm_public=bytes(mv), name_alg=name_alg, object_attributes=attributes)


def unmarshal_public(data: bytes) -> PublicKey:
    """A TPMT_PUBLIC (RSA or ECC P-256/P-384) that fills `data` exactly."""
    return _public_area(_view(data, "public"), 0)


def unmarshal_tpm2b_public(data: bytes) -> PublicKey:
    """A TPM2B_PUBLIC: u16 size, then a TPMT_PUBLIC of exactly that size."""
    mv = _view(data, "public")
    r = _Reader(mv)
    size = r.u16("size")
    r.need(size, "publicArea")
    key = _public_area(mv[2 : 2 + size], 2)
    r.pos += size
    r.finish()
    return key
