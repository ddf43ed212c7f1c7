"""spec.quote: TPM 2.0 Part 2 structures from hand-built bytes, key loading, the verdict's
checks in the ADR 0004 order, the real quotes of ../shared/conformance/tpm-quote, and the
generated vectors re-checked with `cryptography`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from chainoftrust.spec import quote, vectors_quote
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg, hash_alg_from_name
from chainoftrust.spec.quote import PublicKey, Signature
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from hypothesis import given
from hypothesis import strategies as st

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "tpm-quote"
SHA1, SHA256, SHA384 = HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384
MAGIC = 0xFF544347
ATTRS_AK = 0x00050072


def u16(v: int) -> bytes:
    return struct.pack(">H", v)


def u32(v: int) -> bytes:
    return struct.pack(">I", v)


def u64(v: int) -> bytes:
    return struct.pack(">Q", v)


def b2(buf: bytes) -> bytes:
    return u16(len(buf)) + buf


# ---- hand-built TPMS_ATTEST (TPM 2.0 Part 2, TPMS_ATTEST / TPMS_QUOTE_INFO) -----------

SIGNER = b"\x00\x0b" + bytes(range(32))
NONCE = b"nonce-0123456789"
DIGEST = bytes(range(100, 132))
# (field, octets): the reads in the order Part 2 lays them out, for a quote over
# sha256 PCRs 0, 1, 2 and 7 (pcrSelect 0x87 0x00 0x00).
QUOTE_FIELDS: list[tuple[str, bytes]] = [
    ("magic", u32(MAGIC)),
    ("type", u16(0x8018)),
    ("qualifiedSigner.size", u16(len(SIGNER))),
    ("qualifiedSigner.buffer", SIGNER),
    ("extraData.size", u16(len(NONCE))),
    ("extraData.buffer", NONCE),
    ("clock", u64(123456789)),
    ("resetCount", u32(3)),
    ("restartCount", u32(1)),
    ("safe", b"\x01"),
    ("firmwareVersion", u64(0x0102030405060708)),
    ("count", u32(1)),
    ("hash", u16(0x000B)),
    ("sizeofSelect", b"\x03"),
    ("pcrSelect", b"\x87\x00\x00"),
    ("pcrDigest.size", u16(32)),
    ("pcrDigest.buffer", DIGEST),
]
QUOTE = b"".join(v for _, v in QUOTE_FIELDS)


def offset_of(fields: list[tuple[str, bytes]], name: str) -> int:
    at = 0
    for field, value in fields:
        if field == name:
            return at
        at += len(value)
    raise KeyError(name)


def with_field(fields: list[tuple[str, bytes]], name: str, value: bytes) -> bytes:
    return b"".join(value if f == name else v for f, v in fields)


def expect_error(call: Callable[[], object], code: ErrorCode, offset: int | None) -> None:
    with pytest.raises(MalformedInputError) as err:
        call()
    assert err.value.code == code
    assert err.value.offset == offset


def test_unmarshal_quote_fields() -> None:
    a = quote.unmarshal_attest(QUOTE)
    assert (a.magic, a.type) == (MAGIC, 0x8018)
    assert a.qualified_signer == SIGNER
    assert a.extra_data == NONCE
    assert (a.clock, a.reset_count, a.restart_count, a.safe) == (123456789, 3, 1, 1)
    assert a.firmware_version == 0x0102030405060708
    assert a.selection == ((SHA256, frozenset({0, 1, 2, 7})),)
    assert a.pcr_digest == DIGEST
    assert a.raw == QUOTE


def test_every_truncation_point_is_truncated_at_its_field() -> None:
    """Cut anywhere: TRUNCATED at the start of the field that no longer fits."""
    starts = []
    at = 0
    for _, value in QUOTE_FIELDS:
        starts.append((at, at + len(value)))
        at += len(value)
    for cut in range(len(QUOTE)):
        field_start = next(s for s, e in starts if e > cut)
        expect_error(
            lambda c=cut: quote.unmarshal_attest(QUOTE[:c]), ErrorCode.TRUNCATED, field_start
        )


def test_trailing_bytes_after_a_quote() -> None:
    expect_error(
        lambda: quote.unmarshal_attest(QUOTE + b"\x00"), ErrorCode.TRAILING_BYTES, len(QUOTE)
    )


@pytest.mark.parametrize(
    ("field", "size"),
    [("qualifiedSigner.size", 67), ("extraData.size", 67), ("pcrDigest.size", 65)],
)
def test_oversized_declared_sizes_are_invalid_attest(field: str, size: int) -> None:
    for declared in (size, 0xFFFF):
        data = with_field(QUOTE_FIELDS, field, u16(declared))
        offset = offset_of(QUOTE_FIELDS, field)
        expect_error(lambda d=data: quote.unmarshal_attest(d), ErrorCode.INVALID_ATTEST, offset)
        # also when the input ends right after the size field: nothing is read beyond it
        expect_error(
            lambda d=data[: offset + 2]: quote.unmarshal_attest(d), ErrorCode.INVALID_ATTEST, offset
        )


def test_largest_allowed_sizes() -> None:
    fields = list(QUOTE_FIELDS)
    big = {
        "qualifiedSigner": bytes(66),
        "extraData": bytes(range(66)),  # sizeof(TPMT_HA) (ADR 0004 amendment 1 item 1)
        "pcrDigest": bytes(64),
    }
    out = []
    for name, value in fields:
        base = name.split(".")[0]
        if base in big:
            out.append(u16(len(big[base])) if name.endswith("size") else big[base])
        else:
            out.append(value)
    a = quote.unmarshal_attest(b"".join(out))
    assert len(a.qualified_signer) == 66
    assert a.extra_data == bytes(range(66))
    assert a.pcr_digest == bytes(64)


def test_structure_errors_at_their_offsets() -> None:
    f = QUOTE_FIELDS
    cases = [
        ("safe", b"\x02", ErrorCode.INVALID_ATTEST),
        ("count", u32(9), ErrorCode.TOO_MANY_BANKS),
        ("hash", u16(0x0099), ErrorCode.UNKNOWN_ALGORITHM),
        ("sizeofSelect", b"\x04", ErrorCode.INVALID_SELECT_SIZE),
    ]
    for name, value, code in cases:
        data = with_field(f, name, value)
        expect_error(lambda d=data: quote.unmarshal_attest(d), code, offset_of(f, name))


def test_magic_is_not_checked_by_the_parser() -> None:
    a = quote.unmarshal_attest(with_field(QUOTE_FIELDS, "magic", u32(0)))
    assert a.magic == 0


def test_other_types_keep_the_union_unparsed() -> None:
    body = b"\xde\xad\xbe\xef anything"
    data = with_field(QUOTE_FIELDS[:11], "type", u16(0x8017)) + body
    a = quote.unmarshal_attest(data)
    assert a.type == 0x8017
    assert a.selection is None
    assert a.pcr_digest is None
    assert a.attested == body


def test_an_empty_selection_and_an_empty_bank() -> None:
    fields = [*QUOTE_FIELDS[:11], ("count", u32(2))]
    fields += [("h", u16(0x0004)), ("s", b"\x03"), ("p", b"\x00\x00\x80")]
    fields += [("h2", u16(0x000C)), ("s2", b"\x03"), ("p2", b"\x00\x00\x00")]
    fields += [("d", u16(0))]
    a = quote.unmarshal_attest(b"".join(v for _, v in fields))
    assert a.selection == ((SHA1, frozenset({23})), (SHA384, frozenset()))
    assert a.pcr_digest == b""


PREFIXES = [b"", b"{", b"-----BEGIN PUBLIC KEY-----\n", b"\x30", b"\x00\x23", b"\x00\x01"]


@given(st.sampled_from(PREFIXES), st.binary(max_size=200))
def test_arbitrary_bytes_never_escape_as_other_errors(prefix: bytes, tail: bytes) -> None:
    data = prefix + tail
    for parse in (quote.unmarshal_attest, quote.unmarshal_signature, quote.load_public_key):
        try:
            parse(data)
        except MalformedInputError as err:
            assert err.code in set(ErrorCode)


def test_deeply_nested_json_is_an_invalid_key() -> None:
    expect_error(lambda: quote.load_public_key(b"{" + b"[" * 100_000), ErrorCode.INVALID_KEY, 0)


# ---- TPMT_SIGNATURE -------------------------------------------------------------------


def test_unmarshal_signatures() -> None:
    rsa_sig = u16(0x0014) + u16(0x000B) + b2(b"\x01" * 256)
    s = quote.unmarshal_signature(rsa_sig)
    assert (s.sig_alg, s.hash_alg, s.rsa_signature) == (0x14, 0x0B, b"\x01" * 256)
    pss = quote.unmarshal_signature(u16(0x0016) + u16(0x000C) + b2(b"\x02" * 4))
    assert (pss.sig_alg, pss.hash_alg, pss.rsa_signature) == (0x16, 0x0C, b"\x02" * 4)
    ecdsa = quote.unmarshal_signature(u16(0x0018) + u16(0x000B) + b2(b"\x00\x05") + b2(b""))
    assert (ecdsa.ecdsa_r, ecdsa.ecdsa_s, ecdsa.rsa_signature) == (5, 0, None)


@pytest.mark.parametrize("alg", [0x0010, 0x0005, 0x001A, 0x0000])
def test_unsupported_signature_algorithms(alg: int) -> None:
    data = u16(alg) + u16(0x000B) + b2(b"x")
    expect_error(
        lambda: quote.unmarshal_signature(data), ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM, 0
    )


def test_signature_truncation_and_trailing_bytes() -> None:
    data = u16(0x0018) + u16(0x000B) + b2(b"\x01\x02") + b2(b"\x03")
    # reads: sigAlg 0-2, hash 2-4, r.size 4-6, r 6-8, s.size 8-10, s 10-11
    starts = [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10), (10, 11)]
    for cut in range(len(data)):
        start = next(s for s, e in starts if e > cut)
        expect_error(lambda c=cut: quote.unmarshal_signature(data[:c]), ErrorCode.TRUNCATED, start)
    expect_error(
        lambda: quote.unmarshal_signature(data + b"\x00"), ErrorCode.TRAILING_BYTES, len(data)
    )
    # a declared size far past the end reads and allocates nothing: TRUNCATED at the buffer
    big = u16(0x0014) + u16(0x000B) + u16(0xFFFF) + b"\x00" * 3
    expect_error(lambda: quote.unmarshal_signature(big), ErrorCode.TRUNCATED, 6)


# ---- TPMT_PUBLIC / TPM2B_PUBLIC -------------------------------------------------------


@cache
def crypto_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(65537, 2048)


@cache
def crypto_ec(curve: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(
        0xC0FFEE, {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}[curve]
    )


def rsa_public_area(
    n: int, attrs: int = ATTRS_AK, scheme: bytes = u16(0x0014) + u16(0x000B), exponent: int = 0
) -> bytes:
    """TPMT_PUBLIC: type RSA, nameAlg sha256, objectAttributes, authPolicy (empty),
    TPMS_RSA_PARMS {symmetric NULL, scheme, keyBits 2048, exponent}, unique."""
    return (
        u16(0x0001) + u16(0x000B) + u32(attrs) + b2(b"") + u16(0x0010) + scheme
        + u16(2048) + u32(exponent) + b2(n.to_bytes(256, "big"))
    )  # fmt: skip


def ecc_public_area(curve: str, x: int, y: int, size: int, curve_id: int | None = None) -> bytes:
    """TPMT_PUBLIC: type ECC, nameAlg sha256, attributes, authPolicy, TPMS_ECC_PARMS
    {symmetric AES-128-CFB, scheme ECDSA sha256, curveID, kdf NULL}, unique {x, y}."""
    cid = curve_id if curve_id is not None else {"P-256": 3, "P-384": 4}[curve]
    return (
        u16(0x0023) + u16(0x000B) + u32(ATTRS_AK) + b2(bytes(32))
        + u16(0x0006) + u16(128) + u16(0x0043)  # symmetric AES 128 CFB
        + u16(0x0018) + u16(0x000B) + u16(cid) + u16(0x0010)
        + b2(x.to_bytes(size, "big")) + b2(y.to_bytes(size, "big"))
    )  # fmt: skip


def test_unmarshal_rsa_public() -> None:
    pub = crypto_rsa().public_key().public_numbers()
    area = rsa_public_area(pub.n)
    key = quote.unmarshal_public(area)
    assert (key.kind, key.bits, key.n, key.e) == ("rsa", 2048, pub.n, 65537)
    assert (key.name_alg, key.object_attributes) == (0x000B, ATTRS_AK)
    assert (key.scheme, key.scheme_hash, key.tpm_public) == (0x0014, 0x000B, area)
    assert quote.load_public_key(area) == key
    assert quote.unmarshal_tpm2b_public(b2(area)) == key
    assert quote.load_public_key(b2(area)) == key
    null_scheme = quote.unmarshal_public(rsa_public_area(pub.n, scheme=u16(0x0010)))
    assert (null_scheme.scheme, null_scheme.scheme_hash) == (0x0010, None)


@pytest.mark.parametrize(("curve", "size"), [("P-256", 32), ("P-384", 48)])
def test_unmarshal_ecc_public(curve: str, size: int) -> None:
    pub = crypto_ec(curve).public_key().public_numbers()
    area = ecc_public_area(curve, pub.x, pub.y, size)
    key = quote.unmarshal_public(area)
    assert (key.kind, key.curve, key.x, key.y, key.bits) == ("ecc", curve, pub.x, pub.y, size * 8)
    assert (key.scheme, key.scheme_hash) == (0x0018, 0x000B)
    # coordinates may be shorter than the field size (leading zeros dropped)
    short = ecc_public_area(curve, pub.x, pub.y, size).replace(
        b2(pub.x.to_bytes(size, "big")), b2(pub.x.to_bytes(size, "big").lstrip(b"\x00") or b"")
    )
    assert quote.unmarshal_public(short).x == pub.x


def test_public_area_errors() -> None:
    pub = crypto_rsa().public_key().public_numbers()
    area = rsa_public_area(pub.n)
    unique_at = len(area) - 258
    expect_error(
        lambda: quote.unmarshal_public(u16(0x0008) + area[2:]), ErrorCode.UNSUPPORTED_KEY, 0
    )
    short = area[:unique_at] + b2(pub.n.to_bytes(256, "big")[1:])  # 255 octets for 2048 bits
    expect_error(lambda: quote.unmarshal_public(short), ErrorCode.INVALID_KEY, unique_at)
    even = area[:unique_at] + b2((pub.n ^ 1).to_bytes(256, "big"))
    expect_error(lambda: quote.unmarshal_public(even), ErrorCode.INVALID_KEY, unique_at)
    expect_error(
        lambda: quote.unmarshal_public(area + b"\x00"), ErrorCode.TRAILING_BYTES, len(area)
    )
    expect_error(lambda: quote.unmarshal_public(area[:-1]), ErrorCode.TRUNCATED, unique_at + 2)
    ecpub = crypto_ec("P-256").public_key().public_numbers()
    ecc = ecc_public_area("P-256", ecpub.x, ecpub.y, 32)
    point_at = len(ecc) - 68
    off_curve = ecc_public_area("P-256", ecpub.x, ecpub.y ^ 1, 32)
    expect_error(lambda: quote.unmarshal_public(off_curve), ErrorCode.INVALID_KEY, point_at)
    curve_at = point_at - 4
    p521 = ecc_public_area("P-256", ecpub.x, ecpub.y, 32, curve_id=0x0005)
    expect_error(lambda: quote.unmarshal_public(p521), ErrorCode.UNSUPPORTED_KEY, curve_at)
    long_x = ecc[:point_at] + b2(b"\x00" + ecpub.x.to_bytes(32, "big")) + ecc[point_at + 34 :]
    expect_error(lambda: quote.unmarshal_public(long_x), ErrorCode.INVALID_KEY, point_at)


def test_tpm2b_public_sizes() -> None:
    area = rsa_public_area(crypto_rsa().public_key().public_numbers().n)
    expect_error(
        lambda: quote.unmarshal_tpm2b_public(u16(len(area) + 1) + area), ErrorCode.TRUNCATED, 2
    )
    expect_error(
        lambda: quote.unmarshal_tpm2b_public(u16(len(area) + 1) + area + b"\x00"),
        ErrorCode.TRAILING_BYTES,
        2 + len(area),
    )
    expect_error(
        lambda: quote.unmarshal_tpm2b_public(b2(area) + b"\x00"),
        ErrorCode.TRAILING_BYTES,
        2 + len(area),
    )
    expect_error(
        lambda: quote.unmarshal_tpm2b_public(u16(len(area) - 1) + area[:-1]),
        ErrorCode.TRUNCATED,
        2 + len(area) - 258 + 2,
    )


def test_compute_name_and_fingerprint() -> None:
    public = crypto_rsa().public_key()
    area = rsa_public_area(public.public_numbers().n)
    key = quote.unmarshal_public(area)
    assert quote.compute_name(key) == u16(0x000B) + hashlib.sha256(area).digest()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert quote.fingerprint(key) == "sha256:" + hashlib.sha256(der).hexdigest()
    expect_error(
        lambda: quote.compute_name(quote.load_public_key(der)), ErrorCode.UNSUPPORTED_KEY, None
    )


# ---- load_public_key: PEM, JWK, DER ---------------------------------------------------


def _b64url(value: int, size: int | None = None) -> str:
    octets = value.to_bytes(size or (value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(octets).rstrip(b"=").decode()


@pytest.mark.parametrize("kind", ["rsa", "P-256", "P-384"])
def test_load_pem_der_jwk_agree_with_cryptography(kind: str) -> None:
    public = crypto_rsa().public_key() if kind == "rsa" else crypto_ec(kind).public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    numbers = public.public_numbers()
    if isinstance(numbers, rsa.RSAPublicNumbers):
        jwk = {"kty": "RSA", "n": _b64url(numbers.n), "e": _b64url(numbers.e), "kid": "x"}
    else:
        size = 32 if kind == "P-256" else 48
        jwk = {
            "kty": "EC",
            "crv": kind,
            "x": _b64url(numbers.x, size),
            "y": _b64url(numbers.y, size),
        }
    keys = [
        quote.load_public_key(pem),
        quote.load_public_key(b"\n  " + pem),
        quote.load_public_key(der),
        quote.load_public_key(json.dumps(jwk).encode()),
    ]
    assert all(k == keys[0] for k in keys)
    assert quote.fingerprint(keys[0]) == "sha256:" + hashlib.sha256(der).hexdigest()
    assert keys[0].tpm_public is None


def test_load_public_key_rejections() -> None:
    ecpub = crypto_ec("P-256").public_key().public_numbers()
    good = {"kty": "EC", "crv": "P-256", "x": _b64url(ecpub.x, 32), "y": _b64url(ecpub.y, 32)}
    cert = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    cases = {
        cert: ErrorCode.UNSUPPORTED_KEY,
        b"-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n": ErrorCode.INVALID_KEY,
        b"-----BEGIN PUBLIC KEY-----\nMIIB\n": ErrorCode.INVALID_KEY,
        b"{not json": ErrorCode.INVALID_KEY,
        b"[1]": ErrorCode.INVALID_KEY,  # neither PEM, JWK nor DER: read as TPMT_PUBLIC
        json.dumps({"kty": "oct", "k": "AAAA"}).encode(): ErrorCode.UNSUPPORTED_KEY,
        json.dumps({**good, "crv": "P-521"}).encode(): ErrorCode.UNSUPPORTED_KEY,
        json.dumps({**good, "x": _b64url(ecpub.x, 33)}).encode(): ErrorCode.INVALID_KEY,
        json.dumps({**good, "y": _b64url(ecpub.y ^ 1, 32)}).encode(): ErrorCode.INVALID_KEY,
        json.dumps({**good, "x": "a+b/"}).encode(): ErrorCode.INVALID_KEY,
        json.dumps({"kty": "RSA", "n": "AQAB"}).encode(): ErrorCode.INVALID_KEY,
        json.dumps(
            {"kty": "RSA", "n": _b64url(2**64), "e": "AQAB"}
        ).encode(): ErrorCode.INVALID_KEY,
        b"\x30\x03\x02\x01\x01": ErrorCode.INVALID_KEY,
    }
    for data, code in cases.items():
        with pytest.raises(MalformedInputError) as err:
            quote.load_public_key(data)
        if data == b"[1]":
            assert err.value.code in {ErrorCode.TRUNCATED, ErrorCode.UNSUPPORTED_KEY}
        else:
            assert err.value.code == code, data


# ---- plain signatures and verify_signature ---------------------------------------------


def test_plain_signature() -> None:
    key = quote.load_public_key(
        crypto_rsa()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert quote.plain_signature(key, b"\x01" * 256, "rsassa", 0x0B) == Signature(
        0x14, 0x0B, b"\x01" * 256
    )
    assert quote.plain_signature(key, b"\x01" * 256, "rsapss", 0x0B).sig_alg == 0x16
    expect_error(
        lambda: quote.plain_signature(key, b"\x01" * 255, "rsassa", 0x0B),
        ErrorCode.INVALID_SIGNATURE_FORMAT,
        0,
    )
    der = utils.encode_dss_signature(7, 9)
    assert quote.plain_signature(key, der, "ecdsa", 0x0B) == Signature(0x18, 0x0B, None, 7, 9)
    with pytest.raises(MalformedInputError) as err:
        quote.plain_signature(key, der + b"\x00", "ecdsa", 0x0B)
    assert err.value.code == ErrorCode.INVALID_SIGNATURE_FORMAT
    with pytest.raises(MalformedInputError) as err:
        quote.plain_signature(key, der, "hmac", 0x0B)
    assert err.value.code == ErrorCode.UNSUPPORTED_SIGNATURE_ALGORITHM


def test_verify_signature_mismatches_are_false() -> None:
    private = crypto_ec("P-256")
    der_key = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key = quote.load_public_key(der_key)
    r, s = utils.decode_dss_signature(private.sign(b"m", ec.ECDSA(hashes.SHA256())))
    assert quote.verify_signature(key, b"m", Signature(0x18, 0x0B, None, r, s))
    assert not quote.verify_signature(key, b"m", Signature(0x14, 0x0B, b"\x00" * 32))
    assert not quote.verify_signature(key, b"m", Signature(0x18, 0x12, None, r, s))  # SM3
    assert not quote.verify_signature(key, b"m", Signature(0x18, 0x0C, None, r, s))
    assert not quote.verify_signature(key, b"m", Signature(0x18, 0x0B, None, 0, s))
    rsa_key = quote.load_public_key(
        crypto_rsa()
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert not quote.verify_signature(rsa_key, b"m", Signature(0x18, 0x0B, None, r, s))
    too_big = (rsa_key.n or 0).to_bytes(256, "big")
    assert not quote.verify_signature(rsa_key, b"m", Signature(0x14, 0x0B, too_big))


# ---- verify_quote ---------------------------------------------------------------------


def pcr_values(bank: HashAlg, indices: range) -> dict[int, bytes]:
    return {i: hashlib.new(bank.name.lower(), b"pcr%d" % i).digest() for i in indices}


def make_quote(
    nonce: bytes = NONCE,
    magic: int = MAGIC,
    st_type: int = 0x8018,
    digest_alg: str = "sha256",
    values: dict[int, bytes] | None = None,
) -> bytes:
    """A quote over sha256 PCRs 0-7 with pcrDigest = H(concatenation) (TPM2-P3 18.4)."""
    values = pcr_values(SHA256, range(8)) if values is None else values
    digest = hashlib.new(digest_alg, b"".join(values[i] for i in range(8))).digest()
    return (
        u32(magic) + u16(st_type) + b2(SIGNER) + b2(nonce) + u64(1000) + u32(5) + u32(2)
        + b"\x01" + u64(7) + u32(1) + u16(0x000B) + b"\x03" + b"\xff\x00\x00" + b2(digest)
    )  # fmt: skip


def ec_ak(attrs: int = ATTRS_AK) -> PublicKey:
    pub = crypto_ec("P-256").public_key().public_numbers()
    area = ecc_public_area("P-256", pub.x, pub.y, 32)
    area = area[:4] + u32(attrs) + area[8:]
    return quote.unmarshal_public(area)


def ec_sign(message: bytes, alg: hashes.HashAlgorithm | None = None) -> Signature:
    """cryptography signs (the third party), the TPM way: ECDSA over the attest octets."""
    der = crypto_ec("P-256").sign(message, ec.ECDSA(alg or hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    hash_id = 0x000B if alg is None or alg.name == "sha256" else 0x000C
    return Signature(0x18, hash_id, None, r, s)


PCRS = {SHA256: pcr_values(SHA256, range(8))}


def failures(verdict: quote.QuoteVerdict) -> list[tuple[str, str]]:
    return [(f.check, f.code) for f in verdict.failures]


def test_accept_and_claims() -> None:
    att, key = make_quote(), ec_ak()
    v = quote.verify_quote(att, ec_sign(att), key, NONCE, pcrs=PCRS, pcrs_source="eventlog")
    assert v.accepted
    out = v.to_json()
    assert list(out) == ["verdict", "failures", "claims", "quote"]
    assert out["verdict"] == "accept"
    assert out["failures"] == []
    claims = out["claims"]
    assert [c["kind"] for c in claims] == ["signature", "freshness", "pcrs", "clock"]
    assert claims[0] == {
        "kind": "signature",
        "key": quote.fingerprint(key),
        "keyType": "ecc-P-256",
        "scheme": "ecdsa",
        "hash": "sha256",
        "keyAttributes": "restricted-signing",
    }
    assert claims[1] == {"kind": "freshness", "nonce": NONCE.hex()}
    assert claims[2] == {
        "kind": "pcrs",
        "bank": "sha256",
        "pcrs": list(range(8)),
        "valuesFrom": "eventlog",
        "pcrDigest": quote.unmarshal_attest(att).pcr_digest.hex(),  # type: ignore[union-attr]
    }
    assert claims[3]["clock"] == 1000
    assert claims[3]["note"].startswith("resetCount, restartCount and firmwareVersion")
    assert out["quote"] == {
        "magic": MAGIC, "type": 0x8018, "qualifiedSigner": SIGNER.hex(),
        "extraData": NONCE.hex(), "clock": 1000, "resetCount": 5, "restartCount": 2,
        "safe": 1, "firmwareVersion": 7, "pcrSelect": [{"hash": 11, "pcrs": list(range(8))}],
        "pcrDigest": quote.unmarshal_attest(att).pcr_digest.hex(),  # type: ignore[union-attr]
    }  # fmt: skip


def test_accept_without_pcrs_says_values_not_checked() -> None:
    att = make_quote()
    key = quote.load_public_key(
        crypto_ec("P-256")
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    v = quote.verify_quote(att, ec_sign(att), key, NONCE, pcrs_source="pcrs")
    assert v.accepted
    assert v.claims[2]["valuesFrom"] == "none"
    assert v.claims[0]["keyAttributes"] == "unknown (key given without its TPM public area)"


def test_each_check_fails_alone() -> None:
    key = ec_ak()
    bad_digest = {SHA256: {**PCRS[SHA256], 3: bytes(32)}}
    missing = {SHA256: {i: v for i, v in PCRS[SHA256].items() if i != 5}}
    short = {SHA256: {**PCRS[SHA256], 5: bytes(20)}}
    att = make_quote()
    cases = [
        (make_quote(magic=0xFF544348), key, {}, [("magic", "BAD_MAGIC")]),
        (make_quote(st_type=0x8017), key, {}, [("type", "NOT_A_QUOTE")]),
        (att, ec_ak(0x00040072), {}, [("key_attributes", "KEY_NOT_RESTRICTED_SIGNING")]),
        (att, key, {"allowed_hashes": frozenset({SHA384})}, [("hash", "HASH_NOT_ALLOWED")]),
        (att, key, {"pcrs": bad_digest}, [("pcr_digest", "PCR_DIGEST_MISMATCH")]),
        (att, key, {"pcrs": missing}, [("pcr_values", "PCR_VALUES_MISSING")]),
        (att, key, {"pcrs": short}, [("pcr_values", "DIGEST_SIZE_MISMATCH")]),
        (att, key, {"nonce": b"other"}, [("nonce", "NONCE_MISMATCH")]),
    ]
    for data, k, kw, expected in cases:
        nonce = kw.pop("nonce", NONCE)
        pcrs = kw.pop("pcrs", PCRS)
        v = quote.verify_quote(data, ec_sign(data), k, nonce, pcrs=pcrs, **kw)
        assert failures(v) == expected
        assert not v.accepted
        assert v.claims == ()
        assert v.to_json()["claims"] == []


@pytest.mark.parametrize(
    "error",
    [
        MalformedInputError(ErrorCode.MISSING_PCR_VALUE, "forced", field="values"),
        MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, "forced", field="scheme"),
    ],
    ids=["missing-value", "unknown-algorithm"],
)
def test_composite_digest_error_is_a_failure(
    error: MalformedInputError, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Check 10 fails closed: an error computing the composite digest is a pcr_digest
    failure with the error's code, never a pass (the quote is otherwise valid)."""
    att, key = make_quote(), ec_ak()
    assert quote.verify_quote(att, ec_sign(att), key, NONCE, pcrs=PCRS).accepted

    def broken(*_args: object) -> bytes:
        raise error

    monkeypatch.setattr(quote, "compute_composite_digest", broken)
    v = quote.verify_quote(att, ec_sign(att), key, NONCE, pcrs=PCRS)
    assert not v.accepted and v.claims == ()
    assert failures(v) == [("pcr_digest", str(error.code))]


def test_pcr_digest_under_a_hash_that_is_not_allowed() -> None:
    """Check 10 uses the signature's hash even when check 6 failed: SM3 is a HashAlg, so
    the composite is computed (and differs here); TPM_ALG_NULL is none, so check 10 is not
    made, and check 6's failure already rejects the quote."""
    att, key = make_quote(), ec_ak()
    v = quote.verify_quote(att, Signature(0x18, 0x0012, None, 1, 1), key, NONCE, pcrs=PCRS)
    assert failures(v) == [
        ("scheme", "SCHEME_KEY_MISMATCH"),
        ("hash", "HASH_NOT_ALLOWED"),
        ("pcr_digest", "PCR_DIGEST_MISMATCH"),
    ]
    v = quote.verify_quote(att, Signature(0x18, 0x0010, None, 1, 1), key, NONCE, pcrs=PCRS)
    assert failures(v) == [("scheme", "SCHEME_KEY_MISMATCH"), ("hash", "HASH_NOT_ALLOWED")]
    assert not v.accepted


def test_composite_digest_value_error_is_not_an_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    """A ValueError out of the composite digest (a bug, not a data error) is not caught as
    "check passed": it propagates, so no verdict, least of all an accept, is returned."""
    att, key = make_quote(), ec_ak()

    def broken(*_args: object) -> bytes:
        raise ValueError("forced")

    monkeypatch.setattr(quote, "compute_composite_digest", broken)
    with pytest.raises(ValueError, match="forced"):
        quote.verify_quote(att, ec_sign(att), key, NONCE, pcrs=PCRS)


def test_signature_and_scheme_checks() -> None:
    att, key = make_quote(), ec_ak()
    other = make_quote(nonce=b"x")
    v = quote.verify_quote(att, ec_sign(other), key, NONCE, pcrs=PCRS)
    assert failures(v) == [("signature", "SIGNATURE_INVALID")]
    # the key's TPM scheme is ECDSA-SHA256: a SHA-384 signature is a scheme mismatch and
    # the signature itself is then not checked
    v = quote.verify_quote(att, ec_sign(att, hashes.SHA384()), key, NONCE)
    assert failures(v) == [("scheme", "SCHEME_KEY_MISMATCH")]
    v = quote.verify_quote(att, Signature(0x14, 0x0B, b"\x00" * 256), key, NONCE)
    assert failures(v) == [("scheme", "SCHEME_KEY_MISMATCH")]
    v = quote.verify_quote(att, Signature(0x18, 0x0012, None, 1, 1), key, NONCE)
    assert failures(v) == [("scheme", "SCHEME_KEY_MISMATCH"), ("hash", "HASH_NOT_ALLOWED")]


def test_failures_are_listed_in_check_order() -> None:
    key = ec_ak(0x00040072)
    att = make_quote(magic=1, nonce=b"stale")
    bad = {SHA256: {**PCRS[SHA256], 0: bytes(32)}}
    v = quote.verify_quote(att, ec_sign(make_quote()), key, NONCE, pcrs=bad)
    assert failures(v) == [
        ("magic", "BAD_MAGIC"),
        ("key_attributes", "KEY_NOT_RESTRICTED_SIGNING"),
        ("signature", "SIGNATURE_INVALID"),
        ("nonce", "NONCE_MISMATCH"),
        ("pcr_digest", "PCR_DIGEST_MISMATCH"),
    ]


def test_parse_failure_stops_everything() -> None:
    att = make_quote()
    v = quote.verify_quote(att[:-1], ec_sign(att), ec_ak(), NONCE, pcrs=PCRS)
    assert failures(v) == [("parse", "TRUNCATED")]
    assert v.attest is None
    assert v.to_json()["quote"] is None
    v = quote.verify_quote(att + b"\x00", ec_sign(att + b"\x00"), ec_ak(), NONCE)
    assert failures(v) == [("parse", "TRAILING_BYTES")]


def test_not_a_quote_skips_the_pcr_checks() -> None:
    data = make_quote(st_type=0x8014)
    v = quote.verify_quote(data, ec_sign(data), ec_ak(), NONCE, pcrs={})
    assert failures(v) == [("type", "NOT_A_QUOTE")]
    assert v.to_json()["quote"]["pcrSelect"] is None  # type: ignore[index]


def test_rsa_pss_quote_signed_by_cryptography() -> None:
    private = crypto_rsa()
    area = rsa_public_area(private.public_key().public_numbers().n, scheme=u16(0x0016) + u16(0x0B))
    key = quote.unmarshal_public(area)
    att = make_quote()
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.MAX_LENGTH)
    sig = Signature(0x16, 0x0B, private.sign(att, pss, hashes.SHA256()))
    v = quote.verify_quote(att, sig, key, NONCE, pcrs=PCRS, pcrs_source="pcrs")
    assert v.accepted
    assert v.claims[0]["scheme"] == "rsapss"
    assert v.claims[0]["keyType"] == "rsa-2048"
    rsassa = Signature(0x14, 0x0B, private.sign(att, padding.PKCS1v15(), hashes.SHA256()))
    assert failures(quote.verify_quote(att, rsassa, key, NONCE)) == [
        ("scheme", "SCHEME_KEY_MISMATCH")
    ]


def test_check_quote_sequence() -> None:
    def attest(reset: int, restart: int, clock: int) -> quote.Attest:
        at = offset_of(QUOTE_FIELDS, "clock")
        fields = u64(clock) + u32(reset) + u32(restart)
        return quote.unmarshal_attest(QUOTE[:at] + fields + QUOTE[at + 16 :])

    seq = [attest(1, 0, 10), attest(1, 0, 20), attest(1, 1, 5), attest(2, 0, 1)]
    assert quote.check_quote_sequence(seq) == ()
    assert quote.check_quote_sequence([]) == ()
    assert quote.check_quote_sequence(seq[:1]) == ()
    got = quote.check_quote_sequence(
        [attest(2, 0, 10), attest(1, 5, 50), attest(1, 3, 60), attest(1, 3, 60), attest(1, 3, 61)]
    )
    assert [(f.check, f.code) for f in got] == [
        ("sequence[1]", "RESET_COUNT_DECREASED"),
        ("sequence[2]", "RESTART_COUNT_DECREASED"),
        ("sequence[3]", "CLOCK_NOT_INCREASING"),
    ]


# ---- real quotes: ../shared/conformance/tpm-quote --------------------------------------


def _conformance_cases() -> list[Path]:
    if not CONFORMANCE.is_dir():
        return []
    return sorted(p for p in CONFORMANCE.iterdir() if (p / "expected.json").is_file())


def test_conformance_folder_present() -> None:
    if not CONFORMANCE.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CONFORMANCE} is missing (CI=true: a missing folder is a failure)")
        pytest.skip(f"{CONFORMANCE} not present")
    assert len(_conformance_cases()) >= 6


def _file(case: Path, expected: dict[str, object], name: str, default: str) -> bytes:
    files = expected.get("files", {})
    assert isinstance(files, dict)
    return (case / str(files.get(name, default))).read_bytes()


@pytest.mark.parametrize("case", _conformance_cases(), ids=lambda p: p.name)
def test_conformance_quote(case: Path) -> None:
    expected = json.loads((case / "expected.json").read_text())
    files = expected.get("files", {})
    attest = _file(case, expected, "attest", "quote.tpms_attest")
    if "signature_raw" in files:  # Azure vTPM: a raw RSASSA-SHA256 signature and a JWK AK
        key = quote.load_public_key(_file(case, expected, "ak_public_jwk", ""))
        sig = quote.plain_signature(key, _file(case, expected, "signature_raw", ""), "rsassa", 0x0B)
    else:  # GCP: TPMT_SIGNATURE and TPMT_PUBLIC
        key = quote.load_public_key(_file(case, expected, "ak_public", "ak.tpmt_public"))
        sig = quote.unmarshal_signature(_file(case, expected, "signature", "quote.tpmt_signature"))
    pcrs = {
        hash_alg_from_name(bank): {int(i): bytes.fromhex(v) for i, v in values.items()}
        for bank, values in expected["pcrs"].items()
    }
    nonce = bytes.fromhex(expected["nonce"])
    v = quote.verify_quote(attest, sig, key, nonce, pcrs=pcrs, pcrs_source="pcrs")
    assert v.to_json()["verdict"] == expected["expected"]
    if case.name.endswith("pcr7-changed"):
        assert failures(v) == [("pcr_digest", "PCR_DIGEST_MISMATCH")]
    if case.name.endswith("pcrdigest-flipped"):
        assert failures(v)[0] == ("signature", "SIGNATURE_INVALID")
    fields = expected.get("attest")
    if isinstance(fields, dict) and v.attest is not None and "pcrdigest" not in case.name:
        out = v.to_json()["quote"]
        for name in ("type", "qualifiedSigner", "extraData", "clock", "resetCount", "pcrDigest"):
            assert out[name] == fields[name], name  # type: ignore[index]
    if key.tpm_public is not None and "ak" in expected:
        assert key.object_attributes == int(expected["ak"]["attrs"], 16)


# ---- the generated vectors, re-checked by cryptography ---------------------------------


@pytest.fixture(scope="module")
def vector_file() -> dict[str, object]:
    return vectors_quote.build_file()


def test_vectors_shape(vector_file: dict[str, object]) -> None:
    import jsonschema

    schema = vectors_quote.build_schema(sorted(vector_file["notes"]))  # type: ignore[arg-type]
    jsonschema.validate(vector_file, schema)
    assert 40 <= vector_file["numberOfTests"] <= 80  # type: ignore[operator]
    tests = [t for g in vector_file["testGroups"] for t in g["tests"]]  # type: ignore[attr-defined]
    assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
    flags = {f for t in tests for f in t["flags"]}
    required = {
        "BadMagic", "WrongType", "NonceMismatch", "PcrDigestMismatch", "SignatureOfOtherMessage",
        "WrongHashInScheme", "Truncated", "TrailingBytes", "PcrValuesMissing", "BitFlip",
        "KeyNotRestricted",
    }  # fmt: skip
    assert required <= flags
    for t in tests:
        assert (t["result"] == "valid") == (t["expected"]["verdict"] == "accept")
        assert (t["result"] == "valid") == (t["expected"]["failures"] == [])


def _crypto_verifies(test: dict[str, object]) -> bool:
    """cryptography's verdict on the vector's signature over its attest, with keyPem."""
    public = serialization.load_pem_public_key(str(test["keyPem"]).encode())
    sig = quote.unmarshal_signature(bytes.fromhex(str(test["signature"])))
    algorithm = {0x04: hashes.SHA1(), 0x0B: hashes.SHA256(), 0x0C: hashes.SHA384()}[sig.hash_alg]
    message = bytes.fromhex(str(test["attest"]))
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            der = utils.encode_dss_signature(sig.ecdsa_r or 0, sig.ecdsa_s or 0)
            public.verify(der, message, ec.ECDSA(algorithm))
        elif isinstance(public, rsa.RSAPublicKey) and sig.sig_alg == 0x16:
            pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=padding.PSS.AUTO)
            public.verify(sig.rsa_signature or b"", message, pss, algorithm)
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(sig.rsa_signature or b"", message, padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        return False
    return True


def test_vectors_signatures_agree_with_cryptography(vector_file: dict[str, object]) -> None:
    checked = 0
    for group in vector_file["testGroups"]:  # type: ignore[attr-defined]
        for t in group["tests"]:
            codes = {f["code"] for f in t["expected"]["failures"]}
            if codes & {"TRUNCATED", "TRAILING_BYTES", "SCHEME_KEY_MISMATCH"}:
                continue  # the signature is not what fails (or is not checked)
            assert _crypto_verifies(t) == ("SIGNATURE_INVALID" not in codes), t["tcId"]
            key = quote.load_public_key(bytes.fromhex(t["key"]))
            pem_key = quote.load_public_key(t["keyPem"].encode())
            assert (key.n, key.e, key.x, key.y) == (pem_key.n, pem_key.e, pem_key.x, pem_key.y)
            checked += 1
    assert checked >= 40
