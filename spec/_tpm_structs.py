"""TPM 2.0 Part 2 structures of a quote: TPMS_ATTEST, TPMT_SIGNATURE, TPMT_PUBLIC, TPM2B_PUBLIC.

Spec: TPM2-P2 TPMS_ATTEST, TPMS_CLOCK_INFO, TPMS_QUOTE_INFO, TPMT_SIGNATURE, TPMT_PUBLIC,
TPM2B_PUBLIC (big-endian, every size checked), as docs/adr/0004-quote-contract.md
fixes the limits and error codes.

Every read checks the bytes left before slicing, so a declared size larger than the
input allocates nothing; a short input is TRUNCATED at the offset where the field that
does not fit starts; bytes after the structure are TRAILING_BYTES at the first one.
Offsets are from the start of the input. The public names are re-exported by
`chainoftrust.spec.quote`; the marshal_* helpers build structures for vectors and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from chainoftrust.spec import _ecc
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg
from chainoftrust.spec.selection import (
    MAX_LIST_COUNT,
    PCR_SELECT_SIZE,
    Selection,
    decode_pcr_select,
    marshal_pcr_selection,
)

# TPM2-P2 TPM_GENERATED: TPM_GENERATED_VALUE, and TPM_ST_ATTEST_QUOTE (TPM_ST table).
TPM_GENERATED_VALUE: Final = 0xFF544347
TPM_ST_ATTEST_QUOTE: Final = 0x8018
# TCG-ALG TPM_ALG_ID values.
ALG_RSA: Final = 0x0001
ALG_NULL: Final = 0x0010
ALG_RSASSA: Final = 0x0014
ALG_RSAPSS: Final = 0x0016
ALG_ECDSA: Final = 0x0018
ALG_ECDAA: Final = 0x001A
ALG_ECC: Final = 0x0023
# TCG-ALG TPM_ECC_CURVE: TPM_ECC_NIST_P256, TPM_ECC_NIST_P384.
ECC_CURVES: Final[dict[int, str]] = {0x0003: "P-256", 0x0004: "P-384"}
# TPM2-P2 TPMU_HA / TPMT_HA: the largest digest (SHA-512) and the largest TPMT_HA.
MAX_DIGEST: Final = 64
MAX_NAME: Final = 2 + MAX_DIGEST
# TPM2-P2 TPM2B_DATA: buffer[sizeof(TPMT_HA)], 2 + 64 octets (ADR 0004 amendment 1).
MAX_EXTRA_DATA: Final = 2 + MAX_DIGEST
# TPM2-P2 TPMS_ENC_SCHEME_RSAES is TPMS_EMPTY: the one RSA scheme with no hashAlg.
ALG_RSAES: Final = 0x0015
# TCG-ALG: the hash TPM_ALG_IDs a PCR bank may carry (ADR 0001 HashAlg).
_HASH_IDS: Final = frozenset(int(alg) for alg in HashAlg)


@dataclass(frozen=True, slots=True)
class Attest:
    """A TPMS_ATTEST; `selection` and `pcr_digest` only for TPM_ST_ATTEST_QUOTE."""

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
    attested: bytes  # the TPMU_ATTEST octets (for a quote: the TPMS_QUOTE_INFO)
    raw: bytes


@dataclass(frozen=True, slots=True)
class Signature:
    """A TPMT_SIGNATURE of RSASSA, RSAPSS or ECDSA (or the same from a plain signature)."""

    sig_alg: int
    hash_alg: int
    rsa_signature: bytes | None = None
    ecdsa_r: int | None = None
    ecdsa_s: int | None = None


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An RSA or EC public key; the tpm_* fields only when it came from a TPM public area."""

    kind: str  # "rsa" | "ecc"
    bits: int  # RSA modulus bits / curve bits
    n: int | None = None
    e: int | None = None
    curve: str | None = None  # "P-256" | "P-384"
    x: int | None = None
    y: int | None = None
    tpm_public: bytes | None = None  # the TPMT_PUBLIC octets
    name_alg: int | None = None
    object_attributes: int | None = None
    scheme: int | None = None  # TPM_ALG_NULL kept as 0x0010
    scheme_hash: int | None = None


class Reader:
    """Reads big-endian fields of data[offset:end]; offsets are absolute in `data`."""

    def __init__(self, data: bytes, offset: int = 0, end: int | None = None) -> None:
        if not isinstance(data, bytes):
            raise MalformedInputError(ErrorCode.INVALID_DOCUMENT, "input must be bytes")
        self.data = data
        self.offset = offset
        self.end = len(data) if end is None else end

    def take(self, size: int, field: str) -> bytes:
        """The next `size` octets, or TRUNCATED at the offset where the field starts."""
        if self.end - self.offset < size:
            raise MalformedInputError(
                ErrorCode.TRUNCATED,
                f"{field} needs {size} octets, {self.end - self.offset} left",
                field=field,
                offset=self.offset,
            )
        self.offset += size
        return self.data[self.offset - size : self.offset]

    def uint(self, size: int, field: str) -> int:
        """TPM2-P2 UINT8/16/32/64: an unsigned big-endian integer of `size` octets."""
        return int.from_bytes(self.take(size, field), "big")

    def tpm2b(self, field: str, limit: int | None, code: ErrorCode) -> bytes:
        """TPM2-P2 TPM2B_*: u16 size, then size octets; size > limit is `code` at the size
        field's offset, raised before anything is read or allocated."""
        at = self.offset
        size = self.uint(2, f"{field}.size")
        if limit is not None and size > limit:
            raise MalformedInputError(
                code, f"{field}.size {size} is over {limit}", field=f"{field}.size", offset=at
            )
        return self.take(size, f"{field}.buffer")

    def fail(self, code: ErrorCode, message: str, field: str, offset: int) -> MalformedInputError:
        """An error of `code` for `field` at `offset`."""
        return MalformedInputError(code, message, field=field, offset=offset)

    def finish(self) -> None:
        """No octet may follow the structure: else TRAILING_BYTES at the first extra one."""
        if self.offset != self.end:
            raise MalformedInputError(
                ErrorCode.TRAILING_BYTES,
                f"{self.end - self.offset} octets after the structure",
                offset=self.offset,
            )


def _pcr_selection(reader: Reader) -> Selection:
    """Spec: TPM2-P2 TPML_PCR_SELECTION - inside a TPMS_QUOTE_INFO, by the ADR 0001 rules.

    Steps: (1) count u32, at most 8 (TOO_MANY_BANKS); (2) per entry: hash u16, a known
    hash (UNKNOWN_ALGORITHM); sizeofSelect u8 = 3 (INVALID_SELECT_SIZE); pcrSelect.
    """
    # (1)
    at = reader.offset
    count = reader.uint(4, "pcrSelect.count")
    if count > MAX_LIST_COUNT:
        raise reader.fail(ErrorCode.TOO_MANY_BANKS, f"count {count}", "pcrSelect.count", at)
    # (2)
    entries: list[tuple[HashAlg, frozenset[int]]] = []
    for index in range(count):
        field = f"pcrSelect.pcrSelections[{index}]"
        at = reader.offset
        alg = reader.uint(2, f"{field}.hash")
        if alg not in _HASH_IDS:
            raise reader.fail(ErrorCode.UNKNOWN_ALGORITHM, f"hash {alg:#06x}", f"{field}.hash", at)
        at = reader.offset
        size = reader.uint(1, f"{field}.sizeofSelect")
        if size != PCR_SELECT_SIZE:
            raise reader.fail(
                ErrorCode.INVALID_SELECT_SIZE, f"sizeofSelect {size}", f"{field}.sizeofSelect", at
            )
        entries.append((HashAlg(alg), decode_pcr_select(reader.take(size, f"{field}.pcrSelect"))))
    return tuple(entries)


def unmarshal_attest(data: bytes) -> Attest:
    """Spec: TPM2-P2 TPMS_ATTEST - magic, type, qualifiedSigner, extraData, clockInfo,
    firmwareVersion, attested (TPMS_QUOTE_INFO for TPM_ST_ATTEST_QUOTE).

    Steps:
      (1) magic u32 (not checked here), type u16;
      (2) qualifiedSigner TPM2B_NAME (size <= 66), extraData TPM2B_DATA (size <= 66,
          sizeof(TPMT_HA); ADR 0004 amendment 1), else INVALID_ATTEST at the size field;
      (3) TPMS_CLOCK_INFO: clock u64, resetCount u32, restartCount u32, safe u8 (0 or 1,
          else INVALID_ATTEST); firmwareVersion u64;
      (4) type 0x8018: pcrSelect TPML_PCR_SELECTION, pcrDigest TPM2B_DIGEST (size <= 64,
          else INVALID_ATTEST), then nothing (TRAILING_BYTES); any other type: the rest
          is `attested`, not parsed.
    """
    reader = Reader(data)
    # (1)
    magic = reader.uint(4, "magic")
    st = reader.uint(2, "type")
    # (2)
    signer = reader.tpm2b("qualifiedSigner", MAX_NAME, ErrorCode.INVALID_ATTEST)
    extra = reader.tpm2b("extraData", MAX_EXTRA_DATA, ErrorCode.INVALID_ATTEST)
    # (3)
    clock = reader.uint(8, "clockInfo.clock")
    reset_count = reader.uint(4, "clockInfo.resetCount")
    restart_count = reader.uint(4, "clockInfo.restartCount")
    safe_at = reader.offset
    safe = reader.uint(1, "clockInfo.safe")
    if safe not in (0, 1):
        raise reader.fail(ErrorCode.INVALID_ATTEST, f"safe {safe}", "clockInfo.safe", safe_at)
    firmware = reader.uint(8, "firmwareVersion")
    # (4)
    union_at = reader.offset
    selection: Selection | None = None
    digest: bytes | None = None
    if st == TPM_ST_ATTEST_QUOTE:
        selection = _pcr_selection(reader)
        digest = reader.tpm2b("pcrDigest", MAX_DIGEST, ErrorCode.INVALID_ATTEST)
        reader.finish()
    attested = data[union_at:]
    return Attest(
        magic, st, signer, extra, clock, reset_count, restart_count, safe, firmware,
        selection, digest, attested, data,
    )  # fmt: skip


def unmarshal_signature(data: bytes) -> Signature:
    """Spec: TPM2-P2 TPMT_SIGNATURE - sigAlg, then TPMS_SIGNATURE_RSA or TPMS_SIGNATURE_ECC.

    Steps:
      (1) sigAlg u16: RSASSA 0x0014, RSAPSS 0x0016 or ECDSA 0x0018, else
          UNSUPPORTED_SIGNATURE_ALGORITHM at offset 0;
      (2) hash u16 (any value; verification refuses the unusable ones);
      (3) RSA: sig TPM2B_PUBLIC_KEY_RSA; ECDSA: signatureR, signatureS TPM2B_ECC_PARAMETER
          (big-endian unsigned, empty = 0);
      (4) nothing may follow (TRAILING_BYTES).
    """
    reader = Reader(data)
    # (1)
    alg = reader.uint(2, "sigAlg")
    if alg not in (ALG_RSASSA, ALG_RSAPSS, ALG_ECDSA):
        raise reader.fail(
            ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, f"sigAlg {alg:#06x}", "sigAlg", 0
        )
    # (2)
    hash_alg = reader.uint(2, "signature.hash")
    # (3)
    if alg == ALG_ECDSA:
        r = reader.tpm2b("signature.signatureR", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
        s = reader.tpm2b("signature.signatureS", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
        result = Signature(alg, hash_alg, None, int.from_bytes(r, "big"), int.from_bytes(s, "big"))
    else:
        sig = reader.tpm2b("signature.sig", None, ErrorCode.INVALID_SIGNATURE_FORMAT)
        result = Signature(alg, hash_alg, sig)
    # (4)
    reader.finish()
    return result


def _scheme(
    reader: Reader, field: str, *, ecc: bool = False, rsa: bool = False
) -> tuple[int, int | None]:
    """TPM2-P2 TPMT_RSA_SCHEME / TPMT_ECC_SCHEME / TPMT_KDF_SCHEME: scheme u16, and hashAlg
    u16 unless the scheme is TPM_ALG_NULL (or, for RSA, TPM_ALG_RSAES, whose details are
    TPMS_EMPTY); an ECC ECDAA scheme also has count u16."""
    scheme = reader.uint(2, f"{field}.scheme")
    if scheme == ALG_NULL or (rsa and scheme == ALG_RSAES):
        return scheme, None
    hash_alg = reader.uint(2, f"{field}.details.hashAlg")
    if ecc and scheme == ALG_ECDAA:
        reader.uint(2, f"{field}.details.count")
    return scheme, hash_alg


def _rsa_unique(reader: Reader, key_bits: int, exponent: int) -> tuple[int, int]:
    """TPM2-P2 TPMS_RSA_PARMS / TPM2B_PUBLIC_KEY_RSA: n of exactly keyBits/8 octets
    (INVALID_KEY), e = exponent or 65537 when 0; RFC 8017 3.1: n odd, e odd in [3, n-1]."""
    at = reader.offset
    modulus = reader.tpm2b("unique.rsa", None, ErrorCode.INVALID_KEY)
    n, e = int.from_bytes(modulus, "big"), exponent or 65537
    if key_bits % 8 or len(modulus) != key_bits // 8 or n % 2 == 0 or not 3 <= e < n or e % 2 == 0:
        raise reader.fail(ErrorCode.INVALID_KEY, "not a valid RSA modulus/exponent", "unique", at)
    return n, e


def _ecc_unique(reader: Reader, curve: str) -> tuple[int, int]:
    """TPM2-P2 TPMS_ECC_POINT: x, y TPM2B_ECC_PARAMETER (at most the field size, big-endian
    unsigned, may be shorter); the point must be on the curve (INVALID_KEY)."""
    size, at = _ecc.curve_by_name(curve).size, reader.offset
    x = reader.tpm2b("unique.ecc.x", size, ErrorCode.INVALID_KEY)
    y = reader.tpm2b("unique.ecc.y", size, ErrorCode.INVALID_KEY)
    point = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    if not _ecc.is_on_curve(curve, *point):
        raise reader.fail(ErrorCode.INVALID_KEY, f"not a {curve} point", "unique.ecc", at)
    return point


def _public_area(reader: Reader) -> PublicKey:
    """Spec: TPM2-P2 TPMT_PUBLIC - type, nameAlg, objectAttributes, authPolicy, parameters,
    unique, for TPM_ALG_RSA and TPM_ALG_ECC keys.

    Steps:
      (1) type u16: RSA or ECC, else UNSUPPORTED_KEY; nameAlg u16; objectAttributes u32;
          authPolicy TPM2B_DIGEST (size <= 64, else INVALID_KEY);
      (2) symmetric TPMT_SYM_DEF_OBJECT: algorithm u16, and keyBits u16, mode u16 unless NULL;
      (3) RSA: scheme, keyBits u16, exponent u32, unique TPM2B_PUBLIC_KEY_RSA;
      (4) ECC: scheme, curveID u16 (P-256/P-384, else UNSUPPORTED_KEY), kdf, unique point.
    """
    start = reader.offset
    # (1)
    kind = reader.uint(2, "type")
    if kind not in (ALG_RSA, ALG_ECC):
        raise reader.fail(ErrorCode.UNSUPPORTED_KEY, f"type {kind:#06x}", "type", start)
    name_alg = reader.uint(2, "nameAlg")
    attributes = reader.uint(4, "objectAttributes")
    reader.tpm2b("authPolicy", MAX_DIGEST, ErrorCode.INVALID_KEY)
    # (2)
    if reader.uint(2, "parameters.symmetric.algorithm") != ALG_NULL:
        reader.uint(2, "parameters.symmetric.keyBits")
        reader.uint(2, "parameters.symmetric.mode")
    common = {"name_alg": name_alg, "object_attributes": attributes}
    # (3)
    if kind == ALG_RSA:
        scheme, scheme_hash = _scheme(reader, "parameters.scheme", rsa=True)
        key_bits = reader.uint(2, "parameters.keyBits")
        exponent = reader.uint(4, "parameters.exponent")
        n, e = _rsa_unique(reader, key_bits, exponent)
        tpm = reader.data[start : reader.offset]
        return PublicKey("rsa", n.bit_length(), n, e, None, None, None, tpm, **common,
                         scheme=scheme, scheme_hash=scheme_hash)  # fmt: skip
    # (4)
    scheme, scheme_hash = _scheme(reader, "parameters.scheme", ecc=True)
    curve_at = reader.offset
    curve = ECC_CURVES.get(reader.uint(2, "parameters.curveID"))
    if curve is None:
        raise reader.fail(ErrorCode.UNSUPPORTED_KEY, "curve", "parameters.curveID", curve_at)
    _scheme(reader, "parameters.kdf")
    x, y = _ecc_unique(reader, curve)
    tpm = reader.data[start : reader.offset]
    bits = _ecc.curve_by_name(curve).size * 8
    return PublicKey("ecc", bits, None, None, curve, x, y, tpm, **common,
                     scheme=scheme, scheme_hash=scheme_hash)  # fmt: skip


def unmarshal_public(data: bytes) -> PublicKey:
    """Spec: TPM2-P2 TPMT_PUBLIC - an RSA or ECC public area, nothing after it."""
    reader = Reader(data)
    key = _public_area(reader)
    reader.finish()
    return key


def unmarshal_tpm2b_public(data: bytes) -> PublicKey:
    """Spec: TPM2-P2 TPM2B_PUBLIC - size u16, then a TPMT_PUBLIC of exactly that size.

    Steps: (1) size; more than the octets left: TRUNCATED at offset 2 (publicArea);
    (2) the TPMT_PUBLIC inside data[2 : 2 + size] (TRAILING_BYTES if it ends early);
    (3) nothing after it (TRAILING_BYTES).
    """
    reader = Reader(data)
    # (1)
    size = reader.uint(2, "size")
    if len(data) - 2 < size:
        raise reader.fail(ErrorCode.TRUNCATED, f"publicArea needs {size}", "publicArea", 2)
    # (2)
    inner = Reader(data, 2, 2 + size)
    key = _public_area(inner)
    inner.finish()
    # (3)
    reader.offset = 2 + size
    reader.finish()
    return key


def marshal_tpm2b(buffer: bytes) -> bytes:
    """Spec: TPM2-P2 TPM2B_* - u16 size, then the octets."""
    return len(buffer).to_bytes(2, "big") + buffer


def marshal_quote_attest(
    extra_data: bytes,
    selection: Selection,
    pcr_digest: bytes,
    *,
    clock: tuple[int, int, int, int] = (0, 0, 0, 1),
    firmware_version: int = 0,
    qualified_signer: bytes = b"",
    magic: int = TPM_GENERATED_VALUE,
    st: int = TPM_ST_ATTEST_QUOTE,
) -> bytes:
    """Spec: TPM2-P2 TPMS_ATTEST - a quote's attestation structure (clock = clock,
    resetCount, restartCount, safe)."""
    clock_info = (
        clock[0].to_bytes(8, "big") + clock[1].to_bytes(4, "big")
        + clock[2].to_bytes(4, "big") + bytes([clock[3]])
    )  # fmt: skip
    return (
        magic.to_bytes(4, "big") + st.to_bytes(2, "big") + marshal_tpm2b(qualified_signer)
        + marshal_tpm2b(extra_data) + clock_info + firmware_version.to_bytes(8, "big")
        + marshal_pcr_selection(selection) + marshal_tpm2b(pcr_digest)
    )  # fmt: skip


def marshal_signature(sig: Signature) -> bytes:
    """Spec: TPM2-P2 TPMT_SIGNATURE - sigAlg, hash, then the RSA sig or ECDSA r and s
    (r, s in `size` octets is the caller's choice: here the minimal big-endian form)."""
    head = sig.sig_alg.to_bytes(2, "big") + sig.hash_alg.to_bytes(2, "big")
    if sig.sig_alg == ALG_ECDSA:
        r, s = sig.ecdsa_r or 0, sig.ecdsa_s or 0
        return (
            head + marshal_tpm2b(r.to_bytes((r.bit_length() + 7) // 8, "big"))
            + marshal_tpm2b(s.to_bytes((s.bit_length() + 7) // 8, "big"))
        )  # fmt: skip
    return head + marshal_tpm2b(sig.rsa_signature or b"")


def marshal_public(key: PublicKey) -> bytes:
    """Spec: TPM2-P2 TPMT_PUBLIC - an RSA or ECC signing key's public area (no symmetric,
    empty authPolicy, kdf NULL; exponent 0 for 65537; coordinates in the field size)."""
    scheme = key.scheme if key.scheme is not None else ALG_NULL
    scheme_bytes = scheme.to_bytes(2, "big")
    if scheme != ALG_NULL:
        scheme_bytes += (key.scheme_hash or 0).to_bytes(2, "big")
    kind = ALG_RSA if key.kind == "rsa" else ALG_ECC
    head = (
        kind.to_bytes(2, "big") + (key.name_alg or HashAlg.SHA256).to_bytes(2, "big")
        + (key.object_attributes or 0).to_bytes(4, "big") + marshal_tpm2b(b"")
        + ALG_NULL.to_bytes(2, "big") + scheme_bytes
    )  # fmt: skip
    if key.kind == "rsa" and key.n is not None and key.e is not None:
        exponent = 0 if key.e == 65537 else key.e
        size = (key.n.bit_length() + 7) // 8
        return (
            head + (size * 8).to_bytes(2, "big") + exponent.to_bytes(4, "big")
            + marshal_tpm2b(key.n.to_bytes(size, "big"))
        )  # fmt: skip
    curve_id = {v: k for k, v in ECC_CURVES.items()}[key.curve or ""]
    size = _ecc.curve_by_name(key.curve or "").size
    return (
        head + curve_id.to_bytes(2, "big") + ALG_NULL.to_bytes(2, "big")
        + marshal_tpm2b((key.x or 0).to_bytes(size, "big"))
        + marshal_tpm2b((key.y or 0).to_bytes(size, "big"))
    )  # fmt: skip
