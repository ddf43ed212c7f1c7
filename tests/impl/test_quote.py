"""impl.quote: TPM 2.0 structures, public keys, signatures and the quote verdict (ADR 0004).

Expected values come from outside the code under test: structures are marshalled here
by hand from the TPM 2.0 Part 2 layouts (with a table of where each field starts, for
the error offsets); keys and signatures are made by `cryptography`; composite digests
are computed with hashlib from the Part 2 / ms-tpm-20-ref rule (one hash over the
selected PCR values, banks in list order, PCRs ascending); real quotes come from
../shared/conformance/tpm-quote/ with their expected results.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import HashAlg
from chainoftrust.impl.quote import (
    CHECKS,
    Attest,
    PublicKey,
    Signature,
    check_quote_sequence,
    compute_name,
    fingerprint,
    load_public_key,
    pcr_values_from_replay,
    plain_signature,
    unmarshal_attest,
    unmarshal_public,
    unmarshal_signature,
    unmarshal_tpm2b_public,
    verify_quote,
    verify_signature,
)
from chainoftrust.impl.vectors_quote import run_quote_verify
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from hypothesis import given
from hypothesis import strategies as st

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "tpm-quote"
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "quote" / "quote_verify_test.json"

# TPM_ALG_ID (TCG Algorithm Registry) and other Part 2 constants, written out here.
SHA1, SHA256, SHA384, SHA512, SM3 = 0x0004, 0x000B, 0x000C, 0x000D, 0x0012
RSA_ALG, ECC_ALG, KEYEDHASH, NULL = 0x0001, 0x0023, 0x0008, 0x0010
RSASSA, RSAES, RSAPSS, ECDSA, ECDAA, HMAC = 0x0014, 0x0015, 0x0016, 0x0018, 0x001A, 0x0005
AES, CFB, MGF1 = 0x0006, 0x0043, 0x0007
P256, P384, P521 = 0x0003, 0x0004, 0x0005
MAGIC, ST_QUOTE, ST_CERTIFY = 0xFF544347, 0x8018, 0x8017
# TPMA_OBJECT: fixedTPM 1, fixedParent 4, sensitiveDataOrigin 5, userWithAuth 6,
# restricted 16, sign 18 (Part 2, TPMA_OBJECT): a typical attestation key.
AK_ATTRS = 1 << 1 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 16 | 1 << 18
CRYPTO_HASH: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    SHA1: hashes.SHA1,
    SHA256: hashes.SHA256,
    SHA384: hashes.SHA384,
    SHA512: hashes.SHA512,
}
HASHLIB = {SHA1: "sha1", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512"}
SIZES = {SHA1: 20, SHA256: 32, SHA384: 48, SHA512: 64}
# Curve orders (SP 800-186): checked below through cryptography's private-key range.
N256 = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


# ------------------------------------------------------------------ marshalling by hand


def u8(v: int) -> bytes:
    return struct.pack(">B", v)


def u16(v: int) -> bytes:
    return struct.pack(">H", v)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def u64(v: int) -> bytes:
    return struct.pack(">Q", v)


class Layout:
    """Bytes built field by field, remembering where each field starts and ends."""

    def __init__(self) -> None:
        self.data = b""
        self.fields: list[tuple[str, int, int]] = []

    def add(self, name: str, raw: bytes) -> Layout:
        self.fields.append((name, len(self.data), len(self.data) + len(raw)))
        self.data += raw
        return self

    def add2b(self, name: str, raw: bytes) -> Layout:
        return self.add(f"{name}.size", u16(len(raw))).add(f"{name}.buffer", raw)

    def start(self, name: str) -> int:
        return next(s for n, s, _ in self.fields if n == name)

    def field_at(self, offset: int) -> tuple[str, int]:
        """The non-empty field holding byte `offset`, and its start."""
        return next((n, s) for n, s, e in self.fields if s <= offset < e)


def pcr_select(pcrs: set[int]) -> bytes:
    """Part 2 TPMS_PCR_SELECTION: bit i of pcrSelect[j] selects PCR 8j + i."""
    return bytes(sum(1 << (p - 8 * j) for p in pcrs if p // 8 == j) for j in range(3))


def attest_layout(
    *,
    magic: int = MAGIC,
    kind: int = ST_QUOTE,
    signer: bytes = b"\x00\x0b" + bytes(range(32)),
    extra: bytes = b"nonce-1234",
    clock: int = 0x0102030405060708,
    reset: int = 7,
    restart: int = 3,
    safe: int = 1,
    firmware: int = 0x1122334455667788,
    selection: tuple[tuple[int, set[int]], ...] = ((SHA256, {0, 1, 7, 23}),),
    digest: bytes = b"\xaa" * 32,
    other: bytes = b"\x01\x02\x03",
) -> Layout:
    """A TPMS_ATTEST (Part 2): magic, type, qualifiedSigner, extraData, clockInfo,
    firmwareVersion, then TPMS_QUOTE_INFO (pcrSelect, pcrDigest) or `other`."""
    lay = Layout().add("magic", u32(magic)).add("type", u16(kind))
    lay.add2b("qualifiedSigner", signer).add2b("extraData", extra)
    lay.add("clock", u64(clock)).add("resetCount", u32(reset)).add("restartCount", u32(restart))
    lay.add("safe", u8(safe)).add("firmwareVersion", u64(firmware))
    if kind != ST_QUOTE:
        return lay.add("attested", other)
    lay.add("count", u32(len(selection)))
    for i, (alg, pcrs) in enumerate(selection):
        lay.add(f"sel{i}.hash", u16(alg)).add(f"sel{i}.size", u8(3))
        lay.add(f"sel{i}.select", pcr_select(pcrs))
    return lay.add2b("pcrDigest", digest)


def composite(hash_alg: int, selection: Any, values: dict[int, dict[int, bytes]]) -> bytes:
    """PCRComputeCurrentDigest: one hash over the selected values, list order, ascending."""
    h = hashlib.new(HASHLIB[hash_alg])
    for alg, pcrs in selection:
        for pcr in sorted(pcrs):
            h.update(values[alg][pcr])
    return h.digest()


def pcr_table(*algs: int) -> dict[int, dict[int, bytes]]:
    return {
        alg: {i: hashlib.new(HASHLIB[alg], bytes([alg, i])).digest() for i in range(24)}
        for alg in algs
    }


def rsa_public_layout(
    n: int,
    e: int = 65537,
    *,
    attrs: int = AK_ATTRS,
    name_alg: int = SHA256,
    scheme: int = RSASSA,
    scheme_hash: int | None = SHA256,
    symmetric: bool = False,
    policy: bytes = b"",
    key_bits: int | None = None,
) -> Layout:
    """TPMT_PUBLIC of an RSA key (Part 2 TPMT_PUBLIC, TPMS_RSA_PARMS)."""
    bits = key_bits if key_bits is not None else n.bit_length()
    lay = Layout().add("type", u16(RSA_ALG)).add("nameAlg", u16(name_alg))
    lay.add("objectAttributes", u32(attrs)).add2b("authPolicy", policy)
    lay.add("sym.algorithm", u16(AES if symmetric else NULL))
    if symmetric:
        lay.add("sym.keyBits", u16(128)).add("sym.mode", u16(CFB))
    lay.add("scheme", u16(scheme))
    if scheme_hash is not None:
        lay.add("scheme.hashAlg", u16(scheme_hash))
    lay.add("keyBits", u16(bits)).add("exponent", u32(0 if e == 65537 else e))
    return lay.add2b("unique", n.to_bytes((n.bit_length() + 7) // 8))


def ecc_public_layout(
    x: int,
    y: int,
    curve: int = P256,
    *,
    attrs: int = AK_ATTRS,
    name_alg: int = SHA256,
    scheme: int = ECDSA,
    scheme_hash: int | None = SHA256,
    count: int | None = None,
    kdf: int = NULL,
    size: int | None = None,
) -> Layout:
    """TPMT_PUBLIC of an ECC key (Part 2 TPMS_ECC_PARMS, TPMS_ECC_POINT)."""
    width = size if size is not None else {P256: 32, P384: 48, P521: 66}[curve]
    lay = Layout().add("type", u16(ECC_ALG)).add("nameAlg", u16(name_alg))
    lay.add("objectAttributes", u32(attrs)).add2b("authPolicy", b"")
    lay.add("sym.algorithm", u16(NULL)).add("scheme", u16(scheme))
    if scheme_hash is not None:
        lay.add("scheme.hashAlg", u16(scheme_hash))
    if count is not None:
        lay.add("scheme.count", u16(count))
    lay.add("curveID", u16(curve)).add("kdf", u16(kdf))
    if kdf != NULL:
        lay.add("kdf.hashAlg", u16(SHA256))
    return lay.add2b("x", x.to_bytes(width)).add2b("y", y.to_bytes(width))


def tpmt_rsa_sig(alg: int, hash_alg: int, sig: bytes) -> bytes:
    return u16(alg) + u16(hash_alg) + u16(len(sig)) + sig


def tpmt_ecdsa_sig(hash_alg: int, r: bytes, s: bytes) -> bytes:
    return u16(ECDSA) + u16(hash_alg) + u16(len(r)) + r + u16(len(s)) + s


def b64u(value: int, size: int | None = None) -> str:
    raw = value.to_bytes(size or (value.bit_length() + 7) // 8)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def spki(pub: Any) -> bytes:
    return pub.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def pem(pub: Any) -> bytes:
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def der(tag: int, content: bytes) -> bytes:
    """X.690 DER TLV (lengths below 64 KiB)."""
    size = len(content)
    head = bytes([size]) if size < 0x80 else bytes([0x82]) + size.to_bytes(2)
    if 0x80 <= size < 0x100:
        head = bytes([0x81, size])
    return bytes([tag]) + head + content


def rsa_spki(n: int, e: int) -> bytes:
    """SubjectPublicKeyInfo (RFC 5280) with rsaEncryption (RFC 3279 2.3.1), by hand."""

    def integer(v: int) -> bytes:
        return der(0x02, v.to_bytes(v.bit_length() // 8 + 1))

    algorithm = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + der(0x05, b""))
    key = der(0x30, integer(n) + integer(e))
    return der(0x30, algorithm + der(0x03, b"\x00" + key))


def raises(code: ErrorCode, fn: Callable[..., object], *args: object) -> MalformedInputError:
    with pytest.raises(MalformedInputError) as info:
        fn(*args)
    assert info.value.code == code, str(info.value)
    return info.value


# -------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def p256() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def p384() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def rsa_tpm_key(priv: rsa.RSAPrivateKey, **kw: Any) -> PublicKey:
    return unmarshal_public(rsa_public_layout(priv.public_key().public_numbers().n, **kw).data)


def ecc_tpm_key(priv: ec.EllipticCurvePrivateKey, **kw: Any) -> PublicKey:
    nums = priv.public_key().public_numbers()
    curve = P256 if priv.curve.key_size == 256 else P384
    return unmarshal_public(ecc_public_layout(nums.x, nums.y, curve, **kw).data)


def sign_rsa(
    priv: rsa.RSAPrivateKey, data: bytes, hash_alg: int = SHA256, pss: bool = False
) -> Signature:
    if pss:
        pad: Any = padding.PSS(padding.MGF1(CRYPTO_HASH[hash_alg]()), padding.PSS.DIGEST_LENGTH)
    else:
        pad = padding.PKCS1v15()
    raw = priv.sign(data, pad, CRYPTO_HASH[hash_alg]())
    return unmarshal_signature(tpmt_rsa_sig(RSAPSS if pss else RSASSA, hash_alg, raw))


def sign_ec(priv: ec.EllipticCurvePrivateKey, data: bytes, hash_alg: int = SHA256) -> Signature:
    r, s = decode_dss_signature(priv.sign(data, ec.ECDSA(CRYPTO_HASH[hash_alg]())))
    size = (priv.curve.key_size + 7) // 8
    return unmarshal_signature(tpmt_ecdsa_sig(hash_alg, r.to_bytes(size), s.to_bytes(size)))


# ------------------------------------------------------------------------ TPMS_ATTEST


def test_unmarshal_attest_reads_every_field() -> None:
    sel = ((SHA256, {0, 1, 7, 23}), (SHA1, {8, 16}))
    lay = attest_layout(selection=sel, digest=b"\x55" * 32)
    a = unmarshal_attest(lay.data)
    assert (a.magic, a.type) == (MAGIC, ST_QUOTE)
    assert a.qualified_signer == b"\x00\x0b" + bytes(range(32))
    assert a.extra_data == b"nonce-1234"
    assert (a.clock, a.reset_count, a.restart_count, a.safe) == (0x0102030405060708, 7, 3, 1)
    assert a.firmware_version == 0x1122334455667788
    assert a.selection == (
        (HashAlg.SHA256, frozenset({0, 1, 7, 23})),
        (HashAlg.SHA1, frozenset({8, 16})),
    )
    assert a.pcr_digest == b"\x55" * 32
    assert a.raw == lay.data
    assert a.attested == lay.data[lay.start("count") :]


def test_unmarshal_attest_other_type_keeps_the_rest_unparsed() -> None:
    lay = attest_layout(kind=ST_CERTIFY, other=b"\xff" * 40)
    a = unmarshal_attest(lay.data)
    assert (a.type, a.selection, a.pcr_digest, a.attested) == (ST_CERTIFY, None, None, b"\xff" * 40)


def test_unmarshal_attest_does_not_check_the_magic() -> None:
    assert unmarshal_attest(attest_layout(magic=0xDEADBEEF).data).magic == 0xDEADBEEF


@pytest.mark.parametrize(
    "lay",
    [
        attest_layout(),
        attest_layout(extra=b"", selection=((SHA1, {0}), (SHA384, set())), digest=b"\x01" * 20),
        attest_layout(kind=ST_CERTIFY, other=b"\x01" * 5),
    ],
    ids=["quote", "two-banks-empty-nonce", "certify"],
)
def test_unmarshal_attest_every_truncation_offset(lay: Layout) -> None:
    """Every prefix is TRUNCATED at the start of the field that is cut (for a TPM2B's
    buffer: where the buffer starts)."""
    last = lay.fields[-1]
    stop = last[1] if last[0] == "attested" else len(lay.data)  # the union is not parsed
    for cut in range(stop):
        name, start = lay.field_at(cut)
        err = raises(ErrorCode.TRUNCATED, unmarshal_attest, lay.data[:cut])
        assert err.offset == start, (cut, name, err.offset, err.field)
        assert err.field is not None


def test_unmarshal_attest_trailing_bytes() -> None:
    data = attest_layout().data
    err = raises(ErrorCode.TRAILING_BYTES, unmarshal_attest, data + b"\x00")
    assert err.offset == len(data)


@pytest.mark.parametrize(
    ("field", "size", "limit"),
    [("qualifiedSigner", 67, 66), ("extraData", 67, 66), ("pcrDigest", 65, 64)],
)
def test_unmarshal_attest_oversized_sizes_are_invalid_before_reading(
    field: str, size: int, limit: int
) -> None:
    """A declared size above the Part 2 maximum is INVALID_ATTEST at the size field,
    even when the input then ends (nothing after the size is read)."""
    lay = attest_layout()
    at = lay.start(f"{field}.size")
    for tail in (b"", b"\x00" * size):
        data = lay.data[:at] + u16(size) + tail
        err = raises(ErrorCode.INVALID_ATTEST, unmarshal_attest, data)
        assert err.offset == at
    # the maximum itself is accepted
    ok = {"qualifiedSigner": "signer", "extraData": "extra", "pcrDigest": "digest"}[field]
    assert unmarshal_attest(attest_layout(**{ok: b"\x01" * limit}).data)


def test_unmarshal_attest_huge_declared_size_allocates_nothing() -> None:
    lay = attest_layout()
    at = lay.start("extraData.size")
    err = raises(ErrorCode.INVALID_ATTEST, unmarshal_attest, lay.data[:at] + u16(0xFFFF))
    assert err.offset == at


def test_unmarshal_attest_safe_must_be_a_bool() -> None:
    lay = attest_layout(safe=2)
    err = raises(ErrorCode.INVALID_ATTEST, unmarshal_attest, lay.data)
    assert err.offset == lay.start("safe")
    assert unmarshal_attest(attest_layout(safe=0).data).safe == 0


def test_unmarshal_attest_selection_rules_of_adr_0001() -> None:
    lay = attest_layout(selection=((SHA256, {1}), (SHA1, {2})))
    data = lay.data
    count_at, hash_at, size_at = lay.start("count"), lay.start("sel1.hash"), lay.start("sel1.size")
    too_many = data[:count_at] + u32(9) + data[count_at + 4 :]
    assert raises(ErrorCode.TOO_MANY_BANKS, unmarshal_attest, too_many).offset == count_at
    unknown = data[:hash_at] + u16(0x0099) + data[hash_at + 2 :]
    assert raises(ErrorCode.UNKNOWN_ALGORITHM, unmarshal_attest, unknown).offset == hash_at
    wide = data[:size_at] + u8(4) + data[size_at + 1 :]
    assert raises(ErrorCode.INVALID_SELECT_SIZE, unmarshal_attest, wide).offset == size_at


@given(st.binary(max_size=200))
def test_unmarshal_attest_random_bytes_fail_typed(data: bytes) -> None:
    try:
        a = unmarshal_attest(data)
    except MalformedInputError as err:
        assert err.offset is not None and 0 <= err.offset <= len(data)
    else:
        assert a.raw == data


@given(
    extra=st.binary(max_size=66),
    signer=st.binary(max_size=66),
    clock=st.integers(0, 2**64 - 1),
    reset=st.integers(0, 2**32 - 1),
    firmware=st.integers(0, 2**64 - 1),
    banks=st.lists(
        st.tuples(st.sampled_from([SHA1, SHA256, SHA384, SHA512]), st.sets(st.integers(0, 23))),
        max_size=8,
    ),
)
def test_unmarshal_attest_hand_built_fields_round_trip(  # noqa: PLR0917 (one per strategy)
    extra: bytes, signer: bytes, clock: int, reset: int, firmware: int, banks: list[Any]
) -> None:
    lay = attest_layout(
        extra=extra,
        signer=signer,
        clock=clock,
        reset=reset,
        firmware=firmware,
        selection=tuple(banks),
    )
    a = unmarshal_attest(lay.data)
    assert (a.extra_data, a.qualified_signer, a.clock, a.reset_count) == (
        extra,
        signer,
        clock,
        reset,
    )
    assert a.firmware_version == firmware
    assert a.selection == tuple((HashAlg(alg), frozenset(p)) for alg, p in banks)


# --------------------------------------------------------------------- TPMT_SIGNATURE


def test_unmarshal_signature_rsa_and_ecdsa() -> None:
    s = unmarshal_signature(tpmt_rsa_sig(RSASSA, SHA256, b"\x01\x02"))
    assert (s.sig_alg, s.hash_alg, s.rsa_signature, s.ecdsa_r, s.ecdsa_s) == (
        RSASSA,
        SHA256,
        b"\x01\x02",
        None,
        None,
    )
    assert unmarshal_signature(tpmt_rsa_sig(RSAPSS, SHA1, b"\x09")).sig_alg == RSAPSS
    e = unmarshal_signature(tpmt_ecdsa_sig(SHA384, b"\x00\x01\x00", b""))
    assert (e.sig_alg, e.hash_alg, e.ecdsa_r, e.ecdsa_s, e.rsa_signature) == (
        ECDSA,
        SHA384,
        256,
        0,
        None,
    )


@pytest.mark.parametrize("alg", [NULL, HMAC, ECDAA, 0x0000, 0xFFFF])
def test_unmarshal_signature_unsupported_algorithm(alg: int) -> None:
    err = raises(
        ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, unmarshal_signature, u16(alg) + u16(SHA256)
    )
    assert err.offset == 0


@pytest.mark.parametrize(
    "data",
    [tpmt_rsa_sig(RSASSA, SHA256, b"\x11" * 5), tpmt_ecdsa_sig(SHA256, b"\x22" * 3, b"\x33" * 2)],
    ids=["rsa", "ecdsa"],
)
def test_unmarshal_signature_every_truncation_and_trailing(data: bytes) -> None:
    # field starts: sigAlg 0, hash 2, first size 4, first buffer 6, [second size, buffer]
    starts = [0, 2, 4, 6] + ([6 + 3, 6 + 3 + 2] if data[1] == ECDSA else [])
    for cut in range(len(data)):
        expected = max(s for s in starts if s <= cut)
        assert raises(ErrorCode.TRUNCATED, unmarshal_signature, data[:cut]).offset == expected
    assert raises(ErrorCode.TRAILING_BYTES, unmarshal_signature, data + b"\x00").offset == len(data)


def test_unmarshal_signature_declared_size_beyond_the_input() -> None:
    err = raises(ErrorCode.TRUNCATED, unmarshal_signature, u16(RSASSA) + u16(SHA256) + u16(0xFFFF))
    assert err.offset == 6


@given(st.binary(max_size=80))
def test_unmarshal_signature_random_bytes_fail_typed(data: bytes) -> None:
    try:
        unmarshal_signature(data)
    except MalformedInputError as err:
        assert err.offset is not None


# ------------------------------------------------------------------- plain signatures


def test_plain_signature_rsa_length_must_equal_the_modulus(rsa_key: rsa.RSAPrivateKey) -> None:
    key = load_public_key(pem(rsa_key.public_key()))
    raw = rsa_key.sign(b"m", padding.PKCS1v15(), hashes.SHA256())
    sig = plain_signature(key, raw, "rsassa", SHA256)
    assert (sig.sig_alg, sig.hash_alg, sig.rsa_signature) == (RSASSA, SHA256, raw)
    assert plain_signature(key, raw, "rsapss", SHA384).sig_alg == RSAPSS
    for bad in (raw[1:], raw + b"\x00", b""):
        raises(ErrorCode.INVALID_SIGNATURE_FORMAT, plain_signature, key, bad, "rsassa", SHA256)


def test_plain_signature_ecdsa_der(p256: ec.EllipticCurvePrivateKey) -> None:
    key = load_public_key(pem(p256.public_key()))
    for _ in range(8):  # some r, s with the high bit set (DER adds a 00 byte)
        der = p256.sign(b"msg", ec.ECDSA(hashes.SHA256()))
        sig = plain_signature(key, der, "ecdsa", SHA256)
        assert (sig.ecdsa_r, sig.ecdsa_s) == decode_dss_signature(der)
        assert verify_signature(key, b"msg", sig)


@pytest.mark.parametrize(
    "der",
    [
        "3006020101020101" + "00",  # trailing byte after the SEQUENCE
        "3107020101020101",  # not a SEQUENCE
        "308106020101020101",  # long-form length for a short length
        "300702020001020101",  # INTEGER with a needless leading zero
        "3007020101020101",  # SEQUENCE length runs past the end
        "300502010102",  # second INTEGER cut short
        "30080201010201010500",  # something after s inside the SEQUENCE
        "3004020002 00".replace(" ", ""),  # empty INTEGER
        "",
        "30",
    ],
)
def test_plain_signature_ecdsa_strict_der(der: str, p256: ec.EllipticCurvePrivateKey) -> None:
    key = load_public_key(pem(p256.public_key()))
    raises(
        ErrorCode.INVALID_SIGNATURE_FORMAT,
        plain_signature,
        key,
        bytes.fromhex(der),
        "ecdsa",
        SHA256,
    )


def test_plain_signature_unknown_scheme(p256: ec.EllipticCurvePrivateKey) -> None:
    key = load_public_key(pem(p256.public_key()))
    raises(ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, plain_signature, key, b"", "ecdaa", SHA256)


@given(st.binary(max_size=120))
def test_plain_signature_random_der_fails_typed(data: bytes) -> None:
    key = PublicKey("ecc", 256, curve="P-256", x=1, y=1)
    try:
        sig = plain_signature(key, data, "ecdsa", SHA256)
    except MalformedInputError as err:
        assert err.code == ErrorCode.INVALID_SIGNATURE_FORMAT
    else:  # what parsed is exactly what cryptography's DER encoder writes back
        assert sig.ecdsa_r is not None and sig.ecdsa_s is not None
        if sig.ecdsa_r >= 0 and sig.ecdsa_s >= 0:
            assert encode_dss_signature(sig.ecdsa_r, sig.ecdsa_s) == data


# ------------------------------------------------------------------------ public keys


def test_load_rsa_key_in_every_format(rsa_key: rsa.RSAPrivateKey) -> None:
    pub = rsa_key.public_key()
    nums = pub.public_numbers()
    jwk = json.dumps({"kty": "RSA", "n": b64u(nums.n), "e": b64u(nums.e)}).encode()
    tpmt = rsa_public_layout(nums.n).data
    expected = "sha256:" + hashlib.sha256(spki(pub)).hexdigest()
    for name, data in {
        "pem": pem(pub),
        "pem-indented": b"\n  " + pem(pub),
        "der": spki(pub),
        "jwk": b"  " + jwk,
        "tpmt": tpmt,
        "tpm2b": u16(len(tpmt)) + tpmt,
    }.items():
        key = load_public_key(data)
        assert (key.kind, key.bits, key.n, key.e) == ("rsa", 2048, nums.n, 65537), name
        assert fingerprint(key) == expected, name
        assert (key.tpm_public is not None) == name.startswith("tpm"), name


@pytest.mark.parametrize(("curve", "tpm_curve", "size"), [("P-256", P256, 32), ("P-384", P384, 48)])
def test_load_ecc_key_in_every_format(curve: str, tpm_curve: int, size: int) -> None:
    pub = ec.generate_private_key(ec.SECP256R1() if size == 32 else ec.SECP384R1()).public_key()
    nums = pub.public_numbers()
    jwk = {"kty": "EC", "crv": curve, "x": b64u(nums.x, size), "y": b64u(nums.y, size)}
    tpmt = ecc_public_layout(nums.x, nums.y, tpm_curve).data
    expected = "sha256:" + hashlib.sha256(spki(pub)).hexdigest()
    for name, data in {
        "pem": pem(pub),
        "der": spki(pub),
        "jwk": json.dumps(jwk).encode(),
        "tpmt": tpmt,
        "tpm2b": u16(len(tpmt)) + tpmt,
    }.items():
        key = load_public_key(data)
        assert (key.kind, key.bits, key.curve, key.x, key.y) == (
            "ecc",
            size * 8,
            curve,
            nums.x,
            nums.y,
        )
        assert fingerprint(key) == expected, name


def test_tpm_public_fields_and_name(rsa_key: rsa.RSAPrivateKey) -> None:
    lay = rsa_public_layout(
        rsa_key.public_key().public_numbers().n, scheme=RSAPSS, scheme_hash=SHA384
    )
    key = unmarshal_public(lay.data)
    assert key.tpm_public == lay.data
    assert (key.name_alg, key.object_attributes, key.scheme, key.scheme_hash) == (
        SHA256,
        AK_ATTRS,
        RSAPSS,
        SHA384,
    )
    # Part 1, 16 Names: nameAlg || H_nameAlg(TPMT_PUBLIC)
    assert compute_name(key) == u16(SHA256) + hashlib.sha256(lay.data).digest()
    sha1_lay = rsa_public_layout(key.n or 0, name_alg=SHA1, scheme=NULL, scheme_hash=None)
    sha1_key = load_public_key(u16(len(sha1_lay.data)) + sha1_lay.data)
    assert compute_name(sha1_key) == u16(SHA1) + hashlib.sha1(sha1_lay.data).digest()
    assert (sha1_key.scheme, sha1_key.scheme_hash) == (NULL, None)
    raises(ErrorCode.UNSUPPORTED_KEY, compute_name, load_public_key(pem(rsa_key.public_key())))


def test_tpm_public_optional_parts(
    rsa_key: rsa.RSAPrivateKey, p256: ec.EllipticCurvePrivateKey
) -> None:
    n = rsa_key.public_key().public_numbers().n
    # a non-NULL symmetric algorithm carries keyBits and mode; RSAES has no hash (TPMS_EMPTY)
    assert unmarshal_public(rsa_public_layout(n, symmetric=True).data).n == n
    es = unmarshal_public(rsa_public_layout(n, scheme=RSAES, scheme_hash=None).data)
    assert (es.scheme, es.scheme_hash) == (RSAES, None)
    assert unmarshal_public(rsa_public_layout(n, e=3).data).e == 3
    assert unmarshal_public(rsa_public_layout(n, policy=b"\x01" * 32).data).n == n
    nums = p256.public_key().public_numbers()
    daa = unmarshal_public(ecc_public_layout(nums.x, nums.y, scheme=ECDAA, count=1).data)
    assert (daa.scheme, daa.scheme_hash, daa.x) == (ECDAA, SHA256, nums.x)
    assert unmarshal_public(ecc_public_layout(nums.x, nums.y, kdf=MGF1).data).y == nums.y
    null = unmarshal_public(ecc_public_layout(nums.x, nums.y, scheme=NULL, scheme_hash=None).data)
    assert (null.scheme, null.scheme_hash) == (NULL, None)


def test_ecc_coordinates_may_be_short() -> None:
    for _ in range(4000):  # a key whose x fits in 31 bytes (about 1 in 256)
        nums = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
        if nums.x < 1 << 248:
            break
    else:
        pytest.skip("no short coordinate found")
    lay = Layout().add("head", ecc_public_layout(nums.x, nums.y).data[: -2 * 34])
    lay.add2b("x", nums.x.to_bytes(31)).add2b("y", nums.y.to_bytes(32))
    assert unmarshal_public(lay.data).x == nums.x


def _bad_key(case: str, n: int, x: int, y: int) -> tuple[bytes, ErrorCode, int]:
    """(TPMT_PUBLIC, expected code, expected offset) of one bad key, built by hand."""
    rsa_lay, ecc_lay = rsa_public_layout(n), ecc_public_layout(x, y)
    if case == "keyedhash":
        return u16(KEYEDHASH) + rsa_lay.data[2:], ErrorCode.UNSUPPORTED_KEY, 0
    if case == "p521":
        lay = ecc_public_layout(x, y, P521, size=32)
        return lay.data, ErrorCode.UNSUPPORTED_KEY, lay.start("curveID")
    rsa_cases = {  # size != keyBits/8, keyBits not a multiple of 8, RFC 8017 3.1
        "unique-size": {"key_bits": 1024},
        "keybits": {"key_bits": 2047},
        "even-modulus": {"n": n + 1},
        "even-exponent": {"e": 4},
        "exponent-one": {"e": 1},
    }
    if case in rsa_cases:
        kw: dict[str, Any] = {"n": n, **rsa_cases[case]}
        lay = rsa_public_layout(kw.pop("n"), **kw)
        return lay.data, ErrorCode.INVALID_KEY, lay.start("unique.size")
    if case == "policy":
        lay = rsa_public_layout(n, policy=b"\x00" * 65)
        return lay.data, ErrorCode.INVALID_KEY, lay.start("authPolicy.size")
    point = {
        "off-curve": (x, y ^ 1, None),
        "zero-point": (0, 0, None),
        "long-coordinate": (x, y, 33),
    }
    px, py, size = point[case]
    lay = ecc_public_layout(px, py, size=size)
    return lay.data, ErrorCode.INVALID_KEY, ecc_lay.start("x.size")


@pytest.mark.parametrize(
    "case",
    [
        "keyedhash",
        "p521",
        "off-curve",
        "zero-point",
        "long-coordinate",
        "unique-size",
        "keybits",
        "even-modulus",
        "even-exponent",
        "exponent-one",
        "policy",
    ],
)
def test_tpm_public_bad_keys(
    case: str, rsa_key: rsa.RSAPrivateKey, p256: ec.EllipticCurvePrivateKey
) -> None:
    nums = p256.public_key().public_numbers()
    data, code, offset = _bad_key(case, rsa_key.public_key().public_numbers().n, nums.x, nums.y)
    assert raises(code, unmarshal_public, data).offset == offset
    # the same area inside a TPM2B_PUBLIC: the offset moves by the size field
    assert raises(code, unmarshal_tpm2b_public, u16(len(data)) + data).offset == offset + 2
    assert raises(code, load_public_key, u16(len(data)) + data).offset == offset + 2


@pytest.mark.parametrize("kind", ["rsa", "ecc", "ecc-daa"])
def test_tpm_public_every_truncation_offset(
    kind: str, rsa_key: rsa.RSAPrivateKey, p256: ec.EllipticCurvePrivateKey
) -> None:
    nums = p256.public_key().public_numbers()
    if kind == "rsa":
        lay = rsa_public_layout(rsa_key.public_key().public_numbers().n, symmetric=True)
    else:
        daa = kind == "ecc-daa"
        lay = ecc_public_layout(
            nums.x, nums.y, scheme=ECDAA if daa else ECDSA, count=1 if daa else None, kdf=MGF1
        )
    for cut in range(len(lay.data)):
        _, start = lay.field_at(cut)
        assert raises(ErrorCode.TRUNCATED, unmarshal_public, lay.data[:cut]).offset == start, cut
    wrapped = u16(len(lay.data)) + lay.data
    assert raises(ErrorCode.TRAILING_BYTES, unmarshal_public, lay.data + b"\x00").offset == len(
        lay.data
    )
    assert raises(
        ErrorCode.TRAILING_BYTES, unmarshal_tpm2b_public, wrapped + b"\x00"
    ).offset == len(wrapped)
    # a TPM2B_PUBLIC whose size is one short: the inner area ends early
    short = u16(len(lay.data) - 1) + lay.data
    assert (
        raises(ErrorCode.TRUNCATED, unmarshal_tpm2b_public, short).offset
        == 2 + lay.field_at(len(lay.data) - 1)[1]
    )
    assert raises(ErrorCode.TRUNCATED, unmarshal_tpm2b_public, u16(0xFFFF) + lay.data).offset == 2


def test_load_public_key_rejects(p256: ec.EllipticCurvePrivateKey) -> None:
    nums = p256.public_key().public_numbers()
    ed = ed25519.Ed25519PrivateKey.generate().public_key()
    p521 = ec.generate_private_key(ec.SECP521R1()).public_key()
    k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    rsa_pub = rsa.generate_private_key(65537, 1024).public_key()
    pkcs1_pem = rsa_pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    pkcs1_der = rsa_pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    # RFC 7518 6.2.1.2: a JWK coordinate has the full field size (here one octet short)
    short_jwk = json.dumps(
        {"kty": "EC", "crv": "P-256", "x": b64u(nums.x % (1 << 248), 31), "y": b64u(nums.y, 32)}
    ).encode()
    cases: list[tuple[bytes, ErrorCode]] = [
        (pem(ed), ErrorCode.UNSUPPORTED_KEY),
        (pem(p521), ErrorCode.UNSUPPORTED_KEY),
        (pem(k1), ErrorCode.UNSUPPORTED_KEY),
        (spki(ed), ErrorCode.UNSUPPORTED_KEY),
        (pkcs1_pem, ErrorCode.UNSUPPORTED_KEY),  # "RSA PUBLIC KEY" label
        (
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ErrorCode.UNSUPPORTED_KEY,
        ),
        (
            b"-----BEGIN PUBLIC KEY-----\nnot base64!\n-----END PUBLIC KEY-----\n",
            ErrorCode.INVALID_KEY,
        ),
        (pkcs1_der, ErrorCode.INVALID_KEY),  # DER, but not a SubjectPublicKeyInfo
        (spki(p256.public_key())[:-3], ErrorCode.INVALID_KEY),
        (b"{not json", ErrorCode.INVALID_KEY),
        (b"[1]", ErrorCode.UNSUPPORTED_KEY),  # not PEM, JWK, DER: a TPMT_PUBLIC of type 0x5b31
        (b'{"kty": "OKP", "crv": "Ed25519", "x": "AA"}', ErrorCode.UNSUPPORTED_KEY),
        (b'{"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"}', ErrorCode.UNSUPPORTED_KEY),
        (b'{"kty": "RSA", "n": "a+b/", "e": "AQAB"}', ErrorCode.INVALID_KEY),
        (b'{"kty": "RSA", "e": "AQAB"}', ErrorCode.INVALID_KEY),
        (b'{"kty": "RSA", "n": "AQAB", "n": "AQAB", "e": "AQAB"}', ErrorCode.INVALID_KEY),
        (b'{"kty": 1}', ErrorCode.UNSUPPORTED_KEY),
        (b'{"kty": "RSA", "n": "AQAA", "e": "AQAB"}', ErrorCode.INVALID_KEY),  # n even
        (b'{"kty": "RSA", "n": "AQAB", "e": ""}', ErrorCode.INVALID_KEY),
        (rsa_spki(rsa_pub.public_numbers().n + 1, 65537), ErrorCode.INVALID_KEY),
        (rsa_spki(rsa_pub.public_numbers().n, 65536), ErrorCode.INVALID_KEY),
        (b'"RSA"', ErrorCode.UNSUPPORTED_KEY),
        (b"\x00\x01\x00", ErrorCode.TRUNCATED),
        (short_jwk, ErrorCode.INVALID_KEY),
        (pem(rsa_pub).replace(b"END PUBLIC", b"END PRIVATE"), ErrorCode.INVALID_KEY),
        (pem(rsa_pub) + b"junk", ErrorCode.INVALID_KEY),
        (pem(rsa_pub).replace(b"MI", b"M\xc3\xa9", 1), ErrorCode.INVALID_KEY),  # not ASCII
        (spki(rsa_pub) + b"\x00", ErrorCode.INVALID_KEY),
        (
            rsa_spki(3, 65537).replace(bytes.fromhex("2a864886f70d010101"), bytes(9)),
            ErrorCode.UNSUPPORTED_KEY,
        ),
        (spki(p256.public_key()).replace(b"\x03\x42\x00", b"\x03\x42\x01"), ErrorCode.INVALID_KEY),
        (
            json.dumps(
                {"kty": "EC", "crv": "P-256", "x": b64u(nums.x), "y": b64u(nums.y ^ 1)}
            ).encode(),
            ErrorCode.INVALID_KEY,
        ),
        (b"", ErrorCode.TRUNCATED),
    ]
    for data, code in cases:
        raises(code, load_public_key, data)


@given(st.binary(max_size=120))
def test_load_public_key_random_bytes_fail_typed(data: bytes) -> None:
    try:
        load_public_key(data)
    except MalformedInputError as err:
        assert err.code in {
            ErrorCode.TRUNCATED,
            ErrorCode.TRAILING_BYTES,
            ErrorCode.INVALID_KEY,
            ErrorCode.UNSUPPORTED_KEY,
        }


# ------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("hash_alg", [SHA1, SHA256, SHA384, SHA512])
@pytest.mark.parametrize("pss", [False, True], ids=["rsassa", "rsapss"])
def test_verify_signature_rsa(hash_alg: int, pss: bool, rsa_key: rsa.RSAPrivateKey) -> None:
    key = rsa_tpm_key(rsa_key)
    sig = sign_rsa(rsa_key, b"attest", hash_alg, pss)
    assert verify_signature(key, b"attest", sig)
    assert not verify_signature(key, b"attesT", sig)
    other = RSASSA if pss else RSAPSS
    assert not verify_signature(key, b"attest", replace(sig, sig_alg=other))
    wrong_hash = SHA256 if hash_alg != SHA256 else SHA384
    assert not verify_signature(key, b"attest", replace(sig, hash_alg=wrong_hash))


@pytest.mark.parametrize("salt", [0, 20, 32, 2048 // 8 - 32 - 2])
def test_verify_signature_pss_recovers_any_salt_length(
    salt: int, rsa_key: rsa.RSAPrivateKey
) -> None:
    raw = rsa_key.sign(b"q", padding.PSS(padding.MGF1(hashes.SHA256()), salt), hashes.SHA256())
    sig = unmarshal_signature(tpmt_rsa_sig(RSAPSS, SHA256, raw))
    assert verify_signature(rsa_tpm_key(rsa_key), b"q", sig)


@pytest.mark.parametrize("hash_alg", [SHA1, SHA256, SHA384, SHA512])
@pytest.mark.parametrize("curve", ["p256", "p384"])
def test_verify_signature_ecdsa(hash_alg: int, curve: str, request: pytest.FixtureRequest) -> None:
    priv: ec.EllipticCurvePrivateKey = request.getfixturevalue(curve)
    key = ecc_tpm_key(priv)
    sig = sign_ec(priv, b"attest", hash_alg)
    assert verify_signature(key, b"attest", sig)
    assert not verify_signature(key, b"attesT", sig)
    assert not verify_signature(key, b"attest", replace(sig, ecdsa_s=(sig.ecdsa_s or 0) ^ 1))


def test_curve_order_constant_matches_cryptography() -> None:
    """cryptography accepts private values in [1, n-1] only: it pins n independently."""
    ec.derive_private_key(N256 - 1, ec.SECP256R1())
    with pytest.raises(ValueError, match=r".*"):
        ec.derive_private_key(N256, ec.SECP256R1())


def test_verify_signature_bad_values_are_false_never_raise(
    rsa_key: rsa.RSAPrivateKey, p256: ec.EllipticCurvePrivateKey
) -> None:
    rkey, ekey = rsa_tpm_key(rsa_key), ecc_tpm_key(p256)
    good = sign_ec(p256, b"m")
    for r, s in [(0, good.ecdsa_s), (good.ecdsa_r, 0), (N256, good.ecdsa_s), (-1, 1), (2**600, 1)]:
        assert not verify_signature(ekey, b"m", replace(good, ecdsa_r=r, ecdsa_s=s))
    assert not verify_signature(rkey, b"m", Signature(RSASSA, SHA256, rsa_signature=b"\xff" * 256))
    assert not verify_signature(rkey, b"m", Signature(RSASSA, SHA256, rsa_signature=b"\x01" * 255))
    rsig = sign_rsa(rsa_key, b"m")
    assert not verify_signature(
        rkey, b"m", replace(rsig, rsa_signature=b"\x00" + (rsig.rsa_signature or b""))
    )
    assert not verify_signature(rkey, b"m", replace(rsig, hash_alg=SM3))
    assert not verify_signature(rkey, b"m", replace(rsig, hash_alg=0x7777))
    assert not verify_signature(ekey, b"m", replace(rsig))  # RSASSA with an EC key
    assert not verify_signature(rkey, b"m", good)  # ECDSA with an RSA key
    assert not verify_signature(rkey, b"m", replace(good, sig_alg=HMAC))
    even = PublicKey("rsa", 2048, n=(rkey.n or 0) + 1, e=65537)  # cryptography refuses it
    assert not verify_signature(even, b"m", rsig)


# --------------------------------------------------------------------------- verdict


def quote_for(
    priv: Any, *, hash_alg: int = SHA256, key: PublicKey | None = None, pss: bool = False, **kw: Any
) -> tuple[bytes, Signature, PublicKey, dict[int, dict[int, bytes]]]:
    """A signed quote over PCR values of sha256 and sha1, its signature, key and values."""
    values = pcr_table(SHA256, SHA1)
    selection = kw.pop("selection", ((SHA256, {0, 1, 7}), (SHA1, {2})))
    digest = kw.pop("digest", composite(hash_alg, selection, values))
    data = attest_layout(selection=selection, digest=digest, **kw).data
    if isinstance(priv, rsa.RSAPrivateKey):
        sig = sign_rsa(priv, data, hash_alg, pss)
        key = key or rsa_tpm_key(priv, scheme=RSAPSS if pss else RSASSA, scheme_hash=hash_alg)
    else:
        sig = sign_ec(priv, data, hash_alg)
        key = key or ecc_tpm_key(priv, scheme_hash=hash_alg)
    return data, sig, key, values


def first(verdict: Any) -> tuple[str, str]:
    assert not verdict.accepted and verdict.claims == ()
    return verdict.failures[0].check, verdict.failures[0].code


def test_verify_quote_accepts_with_claims(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key, extra=b"fresh")
    v = verify_quote(data, sig, key, b"fresh", pcrs=values, pcrs_source="pcrs")
    assert v.accepted and v.failures == ()
    assert v.checks_made == CHECKS
    digest = composite(SHA256, ((SHA256, {0, 1, 7}), (SHA1, {2})), values).hex()
    assert list(v.claims) == [
        {
            "kind": "signature",
            "key": "sha256:" + hashlib.sha256(spki(rsa_key.public_key())).hexdigest(),
            "keyType": "rsa-2048",
            "scheme": "rsassa",
            "hash": "sha256",
            "keyAttributes": "restricted-signing",
        },
        {"kind": "freshness", "nonce": b"fresh".hex()},
        {
            "kind": "pcrs",
            "bank": "sha256",
            "pcrs": [0, 1, 7],
            "valuesFrom": "pcrs",
            "pcrDigest": digest,
        },
        {"kind": "pcrs", "bank": "sha1", "pcrs": [2], "valuesFrom": "pcrs", "pcrDigest": digest},
        {
            "kind": "clock",
            "clock": 0x0102030405060708,
            "resetCount": 7,
            "restartCount": 3,
            "safe": 1,
            "firmwareVersion": 0x1122334455667788,
            "note": (
                "resetCount, restartCount and firmwareVersion are obfuscated for keys outside "
                "the endorsement and platform hierarchies (Part 1); compare them only between "
                "quotes of the same key"
            ),
        },
    ]
    out = v.to_json()
    assert list(out) == ["verdict", "failures", "claims", "quote"]
    assert out["verdict"] == "accept" and out["failures"] == []
    assert out["quote"] == {
        "magic": MAGIC,
        "type": ST_QUOTE,
        "qualifiedSigner": (b"\x00\x0b" + bytes(range(32))).hex(),
        "extraData": b"fresh".hex(),
        "clock": 0x0102030405060708,
        "resetCount": 7,
        "restartCount": 3,
        "safe": 1,
        "firmwareVersion": 0x1122334455667788,
        "pcrSelect": [{"hash": SHA256, "pcrs": [0, 1, 7]}, {"hash": SHA1, "pcrs": [2]}],
        "pcrDigest": digest,
    }
    assert json.loads(json.dumps(out)) == out


@pytest.mark.parametrize("hash_alg", [SHA1, SHA256, SHA384, SHA512])
@pytest.mark.parametrize("signer", ["rsassa", "rsapss", "p256", "p384"])
def test_verify_quote_accepts_every_scheme_and_hash(
    signer: str, hash_alg: int, request: pytest.FixtureRequest
) -> None:
    priv = request.getfixturevalue("rsa_key" if signer.startswith("rsa") else signer)
    data, sig, key, values = quote_for(priv, hash_alg=hash_alg, pss=signer == "rsapss")
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values, pcrs_source="pcrs")
    assert v.accepted, v.failures
    claim = v.claims[0]
    assert claim["scheme"] == ("ecdsa" if signer.startswith("p") else signer)
    assert claim["keyType"] == {"p256": "ecc-P-256", "p384": "ecc-P-384"}.get(signer, "rsa-2048")
    assert claim["hash"] == HASHLIB[hash_alg]


def test_verify_quote_without_pcrs_says_values_not_checked(
    p256: ec.EllipticCurvePrivateKey,
) -> None:
    data, sig, key, _ = quote_for(p256, selection=((SHA256, {0}), (SHA384, set())))
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs_source="pcrs")
    assert v.accepted and "pcr_values" not in v.checks_made and "pcr_digest" not in v.checks_made
    pcr_claims = [c for c in v.claims if c["kind"] == "pcrs"]
    assert [(c["bank"], c["pcrs"], c["valuesFrom"]) for c in pcr_claims] == [
        ("sha256", [0], "none"),
        ("sha384", [], "none"),
    ]


def test_verify_quote_key_without_tpm_area(p256: ec.EllipticCurvePrivateKey) -> None:
    data, sig, _, values = quote_for(p256)
    key = load_public_key(pem(p256.public_key()))
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values, pcrs_source="pcrs")
    assert v.accepted
    assert v.claims[0]["keyAttributes"] == "unknown (key given without its TPM public area)"


def test_check_parse(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key)
    v = verify_quote(data[:-1], sig, key, b"nonce-1234", pcrs=values)
    assert first(v) == ("parse", "TRUNCATED")
    assert len(v.failures) == 1 and v.attest is None and v.checks_made == ("parse",)
    assert v.to_json()["quote"] is None
    assert first(verify_quote(data + b"\x00", sig, key, b"nonce-1234")) == (
        "parse",
        "TRAILING_BYTES",
    )


def test_check_magic(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key, magic=0xFF544348)
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values)
    assert first(v) == ("magic", "BAD_MAGIC") and len(v.failures) == 1  # the signature holds


def test_check_type(rsa_key: rsa.RSAPrivateKey) -> None:
    data = attest_layout(kind=ST_CERTIFY, other=b"\x00" * 10).data
    key = rsa_tpm_key(rsa_key)
    v = verify_quote(data, sign_rsa(rsa_key, data), key, b"nonce-1234", pcrs=pcr_table(SHA256))
    assert first(v) == ("type", "NOT_A_QUOTE") and len(v.failures) == 1
    assert "pcr_values" not in v.checks_made and v.to_json()["quote"]["pcrSelect"] is None


@pytest.mark.parametrize("attrs", [AK_ATTRS & ~(1 << 16), AK_ATTRS & ~(1 << 18), 0])
def test_check_key_attributes(attrs: int, rsa_key: rsa.RSAPrivateKey) -> None:
    key = rsa_tpm_key(rsa_key, attrs=attrs)
    data, sig, _, values = quote_for(rsa_key, key=key)
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values)
    assert first(v) == ("key_attributes", "KEY_NOT_RESTRICTED_SIGNING") and len(v.failures) == 1


def test_check_scheme(rsa_key: rsa.RSAPrivateKey, p256: ec.EllipticCurvePrivateKey) -> None:
    # the key's scheme is RSASSA/sha256; the (valid) signature uses sha384
    key = rsa_tpm_key(rsa_key, scheme=RSASSA, scheme_hash=SHA256)
    data, sig, _, values = quote_for(rsa_key, hash_alg=SHA384, key=key)
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values)
    assert first(v) == ("scheme", "SCHEME_KEY_MISMATCH") and len(v.failures) == 1
    assert "signature" not in v.checks_made
    # RSAPSS signature, RSASSA key scheme
    data, sig, _, values = quote_for(rsa_key, pss=True, key=key)
    assert first(verify_quote(data, sig, key, b"nonce-1234")) == ("scheme", "SCHEME_KEY_MISMATCH")
    # ECDSA signature, RSA key (no TPM scheme)
    data, sig, _, _ = quote_for(p256)
    rkey = load_public_key(pem(rsa_key.public_key()))
    assert first(verify_quote(data, sig, rkey, b"nonce-1234")) == ("scheme", "SCHEME_KEY_MISMATCH")
    # a NULL key scheme accepts any fitting signature
    null = rsa_tpm_key(rsa_key, scheme=NULL, scheme_hash=None)
    data, sig, _, values = quote_for(rsa_key, hash_alg=SHA512, pss=True, key=null)
    assert verify_quote(data, sig, null, b"nonce-1234", pcrs=values).accepted


def test_check_hash(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key)
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=values, allowed_hashes=frozenset({SHA384}))
    assert first(v) == ("hash", "HASH_NOT_ALLOWED") and len(v.failures) == 1
    assert "signature" not in v.checks_made
    assert verify_quote(data, sig, key, b"nonce-1234", allowed_hashes=frozenset({SHA256})).accepted
    null = rsa_tpm_key(rsa_key, scheme=NULL, scheme_hash=None)
    v = verify_quote(data, replace(sig, hash_alg=SM3), null, b"nonce-1234")
    assert first(v) == ("hash", "HASH_NOT_ALLOWED")


def test_check_signature(p256: ec.EllipticCurvePrivateKey) -> None:
    data, sig, key, values = quote_for(p256)
    bad = replace(sig, ecdsa_r=(sig.ecdsa_r or 0) ^ 2)
    v = verify_quote(data, bad, key, b"nonce-1234", pcrs=values)
    assert first(v) == ("signature", "SIGNATURE_INVALID") and len(v.failures) == 1
    other = ec.generate_private_key(ec.SECP256R1())
    assert first(verify_quote(data, sig, ecc_tpm_key(other), b"nonce-1234")) == (
        "signature",
        "SIGNATURE_INVALID",
    )


def test_check_nonce(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key)
    v = verify_quote(data, sig, key, b"nonce-1235", pcrs=values)
    assert first(v) == ("nonce", "NONCE_MISMATCH") and len(v.failures) == 1
    assert "pcr_digest" in v.checks_made  # later checks are still made


@pytest.mark.parametrize("nonce", [0, 32])
def test_check_nonce_must_be_bytes(nonce: int, rsa_key: rsa.RSAPrivateKey) -> None:
    """An int nonce never matches: bytes(n) is n zero octets, which the extraData here is;
    the same quote with those octets given as bytes (or bytearray, memoryview) accepts."""
    data, sig, key, values = quote_for(rsa_key, extra=bytes(nonce))
    bytes_like: tuple[Any, ...] = (bytes(nonce), bytearray(nonce), memoryview(bytes(nonce)))
    for octets in bytes_like:
        assert verify_quote(data, sig, key, octets, pcrs=values).accepted
    v = verify_quote(data, sig, key, nonce, pcrs=values)  # type: ignore[arg-type]
    assert first(v) == ("nonce", "NONCE_MISMATCH") and len(v.failures) == 1


def test_check_pcr_values(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key)
    missing = {SHA256: {i: v for i, v in values[SHA256].items() if i != 7}, SHA1: values[SHA1]}
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=missing)
    assert first(v) == ("pcr_values", "PCR_VALUES_MISSING") and len(v.failures) == 1
    assert "pcr_digest" not in v.checks_made
    no_bank = {SHA256: values[SHA256]}
    assert first(verify_quote(data, sig, key, b"nonce-1234", pcrs=no_bank)) == (
        "pcr_values",
        "PCR_VALUES_MISSING",
    )
    short = {SHA256: {**values[SHA256], 1: b"\x00" * 20}, SHA1: values[SHA1]}
    assert first(verify_quote(data, sig, key, b"nonce-1234", pcrs=short)) == (
        "pcr_values",
        "DIGEST_SIZE_MISMATCH",
    )


def test_check_pcr_digest(rsa_key: rsa.RSAPrivateKey) -> None:
    data, sig, key, values = quote_for(rsa_key)
    changed = {SHA256: {**values[SHA256], 7: b"\x01" * 32}, SHA1: values[SHA1]}
    v = verify_quote(data, sig, key, b"nonce-1234", pcrs=changed)
    assert first(v) == ("pcr_digest", "PCR_DIGEST_MISMATCH") and len(v.failures) == 1
    # values of PCRs the quote does not select do not matter
    extra = {SHA256: {**values[SHA256], 9: b"\x01" * 32}, SHA1: values[SHA1]}
    assert verify_quote(data, sig, key, b"nonce-1234", pcrs=extra).accepted


def test_failures_keep_the_check_order(rsa_key: rsa.RSAPrivateKey) -> None:
    key = rsa_tpm_key(rsa_key, attrs=AK_ATTRS & ~(1 << 16))
    data, sig, _, values = quote_for(rsa_key, magic=0, kind=ST_QUOTE, key=key)
    changed = {SHA256: {**values[SHA256], 0: b"\x02" * 32}, SHA1: values[SHA1]}
    v = verify_quote(data, replace(sig, rsa_signature=b"\x00" * 256), key, b"x", pcrs=changed)
    assert [(f.check, f.code) for f in v.failures] == [
        ("magic", "BAD_MAGIC"),
        ("key_attributes", "KEY_NOT_RESTRICTED_SIGNING"),
        ("signature", "SIGNATURE_INVALID"),
        ("nonce", "NONCE_MISMATCH"),
        ("pcr_digest", "PCR_DIGEST_MISMATCH"),
    ]
    assert v.to_json()["claims"] == [] and v.to_json()["verdict"] == "reject"


@given(st.binary(max_size=160), st.binary(max_size=8))
def test_verify_quote_never_accepts_random_attests(data: bytes, nonce: bytes) -> None:
    key = PublicKey("rsa", 1024, n=(1 << 1023) + 1, e=65537)
    sig = Signature(RSASSA, SHA256, rsa_signature=b"\x01" * 128)
    assert not verify_quote(data, sig, key, nonce).accepted


# ---------------------------------------------------------------------------- sequences


def attest(reset: int, restart: int, clock: int) -> Attest:
    return unmarshal_attest(attest_layout(reset=reset, restart=restart, clock=clock).data)


def test_check_quote_sequence() -> None:
    assert check_quote_sequence([]) == ()
    assert check_quote_sequence([attest(1, 1, 1)]) == ()
    ok = [attest(1, 0, 10), attest(1, 0, 11), attest(1, 1, 5), attest(2, 0, 1)]
    assert check_quote_sequence(ok) == ()
    bad = [
        attest(5, 5, 100),
        attest(4, 9, 200),  # reset decreased
        attest(4, 8, 300),  # restart decreased
        attest(4, 8, 300),  # replay: same clock
        attest(4, 8, 299),  # clock went back
    ]
    got = [(f.check, f.code) for f in check_quote_sequence(bad)]
    assert got == [
        ("sequence[1]", "RESET_COUNT_DECREASED"),
        ("sequence[2]", "RESTART_COUNT_DECREASED"),
        ("sequence[3]", "CLOCK_NOT_INCREASING"),
        ("sequence[4]", "CLOCK_NOT_INCREASING"),
    ]


def test_pcr_values_from_replay_fills_start_values() -> None:
    got = pcr_values_from_replay({"sha1": {0: b"\x01" * 20}})
    assert list(got) == [HashAlg.SHA1] and len(got[HashAlg.SHA1]) == 24
    assert got[HashAlg.SHA1][0] == b"\x01" * 20
    assert got[HashAlg.SHA1][17] == got[HashAlg.SHA1][22] == b"\xff" * 20
    assert got[HashAlg.SHA1][16] == got[HashAlg.SHA1][23] == bytes(20)


# ------------------------------------------------------------------------- conformance


def _conformance_cases() -> list[str]:
    if not CONFORMANCE.is_dir():
        return ["<missing>"]
    return sorted(p.name for p in CONFORMANCE.iterdir() if (p / "expected.json").is_file())


def _require(path: Path) -> None:
    if not path.exists():
        message = f"conformance data missing: {path}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true)")
        pytest.skip(message)


def _pcrs(doc: dict[str, Any]) -> dict[int, dict[int, bytes]]:
    ids = {"sha1": SHA1, "sha256": SHA256, "sha384": SHA384, "sha512": SHA512}
    return {
        ids[b]: {int(i): bytes.fromhex(v) for i, v in vals.items()}
        for b, vals in doc["pcrs"].items()
    }


@pytest.mark.parametrize("case", _conformance_cases())
def test_conformance_quote(case: str) -> None:
    _require(CONFORMANCE / case / "expected.json")
    folder = CONFORMANCE / case
    doc = json.loads((folder / "expected.json").read_text())
    files = doc.get("files") or {
        "attest": "quote.tpms_attest",
        "signature": "quote.tpmt_signature",
        "ak_public": "ak.tpmt_public",
    }
    message = (folder / files["attest"]).read_bytes()
    if "signature_raw" in files:  # Azure: raw RSASSA-SHA256 signature and a JWK key
        key = load_public_key((folder / files["ak_public_jwk"]).read_bytes())
        sig = plain_signature(key, (folder / files["signature_raw"]).read_bytes(), "rsassa", SHA256)
    else:  # GCP: TPMT_SIGNATURE and TPMT_PUBLIC
        key = load_public_key((folder / files["ak_public"]).read_bytes())
        sig = unmarshal_signature((folder / files["signature"]).read_bytes())
    verdict = verify_quote(
        message, sig, key, bytes.fromhex(doc["nonce"]), pcrs=_pcrs(doc), pcrs_source="pcrs"
    )
    checks = doc["checks"]
    if doc["expected"] == "accept":
        assert verdict.accepted, verdict.failures
        quote = verdict.to_json()["quote"]
        assert {k: quote[k] for k in doc["attest"] if k != "trailing"} == {
            k: v for k, v in doc["attest"].items() if k != "trailing"
        }
        if "ak" in doc:
            assert (key.bits, key.e, hex(key.object_attributes or 0)) == (
                doc["ak"]["bits"],
                doc["ak"]["exponent"],
                doc["ak"]["attrs"],
            )
        return
    signature_ok = next(v for k, v in checks.items() if k.startswith("rsassa"))
    expected = (
        ("pcr_digest", "PCR_DIGEST_MISMATCH")
        if signature_ok
        else ("signature", "SIGNATURE_INVALID")
    )
    assert first(verdict) == expected


# ---------------------------------------------------------------------------- vectors


def _vector(
    priv: rsa.RSAPrivateKey, nonce: bytes, expected_nonce: bytes
) -> tuple[dict[str, object], dict[str, Any]]:
    """A quote_verify vector built here; `expected` written out from the ADR's shapes."""
    values = pcr_table(SHA256)
    selection = ((SHA256, {0, 7}),)
    digest = composite(SHA256, selection, values)
    data = attest_layout(selection=selection, digest=digest, extra=nonce).data
    raw = priv.sign(data, padding.PKCS1v15(), hashes.SHA256())
    tpmt = rsa_public_layout(priv.public_key().public_numbers().n).data
    quote = {
        "magic": MAGIC,
        "type": ST_QUOTE,
        "qualifiedSigner": (b"\x00\x0b" + bytes(range(32))).hex(),
        "extraData": nonce.hex(),
        "clock": 0x0102030405060708,
        "resetCount": 7,
        "restartCount": 3,
        "safe": 1,
        "firmwareVersion": 0x1122334455667788,
        "pcrSelect": [{"hash": SHA256, "pcrs": [0, 7]}],
        "pcrDigest": digest.hex(),
    }
    test: dict[str, object] = {
        "tcId": 1,
        "comment": "built by the test",
        "flags": [],
        "attest": data.hex(),
        "signature": tpmt_rsa_sig(RSASSA, SHA256, raw).hex(),
        "key": (u16(len(tpmt)) + tpmt).hex(),
        "keyPem": pem(priv.public_key()).decode(),
        "nonce": expected_nonce.hex(),
        "pcrs": {"sha256": {str(i): values[SHA256][i].hex() for i in (0, 7)}},
    }
    return test, quote


def test_vector_checker_valid_and_invalid(rsa_key: rsa.RSAPrivateKey) -> None:
    test, quote = _vector(rsa_key, b"n1", b"n1")
    fp = "sha256:" + hashlib.sha256(spki(rsa_key.public_key())).hexdigest()
    claims = [
        {
            "kind": "signature",
            "key": fp,
            "keyType": "rsa-2048",
            "scheme": "rsassa",
            "hash": "sha256",
            "keyAttributes": "restricted-signing",
        },
        {"kind": "freshness", "nonce": b"n1".hex()},
        {
            "kind": "pcrs",
            "bank": "sha256",
            "pcrs": [0, 7],
            "valuesFrom": "pcrs",
            "pcrDigest": quote["pcrDigest"],
        },
        {
            "kind": "clock",
            "clock": quote["clock"],
            "resetCount": 7,
            "restartCount": 3,
            "safe": 1,
            "firmwareVersion": quote["firmwareVersion"],
            "note": (
                "resetCount, restartCount and firmwareVersion are obfuscated for keys outside "
                "the endorsement and platform hierarchies (Part 1); compare them only between "
                "quotes of the same key"
            ),
        },
    ]
    valid = {
        **test,
        "result": "valid",
        "expected": {"verdict": "accept", "failures": [], "claims": claims, "quote": quote},
    }
    assert run_quote_verify({}, valid) is None
    # the checker can fail: a wrong expected claim, a wrong result, a PEM of another key
    broken = {**valid, "expected": {**valid["expected"], "claims": claims[:3]}}  # type: ignore[dict-item]
    assert run_quote_verify({}, broken) is not None
    assert run_quote_verify({}, {**valid, "result": "invalid"}) is not None
    other = rsa.generate_private_key(65537, 1024).public_key()
    assert "keyPem" in (run_quote_verify({}, {**valid, "keyPem": pem(other).decode()}) or "")
    assert run_quote_verify({"keyFingerprint": fp}, valid) is None
    assert run_quote_verify({"keyFingerprint": "sha256:00"}, valid) is not None
    # allowedHashes from the group
    assert run_quote_verify({"allowedHashes": ["sha384"]}, valid) is not None

    bad, quote = _vector(rsa_key, b"n1", b"n2")
    invalid = {
        **bad,
        "flags": ["NonceMismatch"],
        "result": "invalid",
        "expected": {
            "verdict": "reject",
            "failures": [{"check": "nonce", "code": "NONCE_MISMATCH"}],
            "claims": [],
            "quote": quote,
        },
    }
    assert run_quote_verify({}, invalid) is None
    wrong = {
        **invalid,
        "expected": {**invalid["expected"], "failures": [{"check": "nonce", "code": "BAD_MAGIC"}]},
    }  # type: ignore[dict-item]
    assert run_quote_verify({}, wrong) is not None
    with pytest.raises(ValueError, match="keyPem"):
        run_quote_verify({}, {k: v for k, v in invalid.items() if k != "keyPem"})


def test_published_vectors_when_present() -> None:
    if not VECTORS.exists():
        pytest.skip(f"{VECTORS} not generated yet")
    doc = json.loads(VECTORS.read_text())
    failures = [
        (t["tcId"], reason)
        for g in doc["testGroups"]
        for t in g["tests"]
        if (reason := run_quote_verify(g, t)) is not None
    ]
    assert failures == []
    assert sum(len(g["tests"]) for g in doc["testGroups"]) == doc["numberOfTests"] > 0
