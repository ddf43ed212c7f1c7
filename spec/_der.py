"""The little DER the quote verifier needs: SubjectPublicKeyInfo, Ecdsa-Sig-Value, DigestInfo.

Spec: X-690 8, 10 - Basic and Distinguished Encoding Rules (the DER subset: definite,
minimal lengths; low tag numbers; minimal INTEGERs); RFC-8017 A.1, A.2.4 - RSAPublicKey,
rsaEncryption and DigestInfo; RFC-5480 2 - id-ecPublicKey and the named curves;
RFC-5480 2.2 / SEC-1 2.3.3-2.3.4 - the ECPoint octets; RFC-3279 2.2.3 - Ecdsa-Sig-Value.

Readers are strict: every length is checked against the bytes present before anything
is sliced, a declared length past the end allocates nothing, and a value that is not
DER (long form where the short form fits, leading zero octets, a non-minimal INTEGER,
trailing octets) is refused with the caller's error code and the offset of the bad TLV.
"""

from __future__ import annotations

from typing import Final

from chainoftrust.spec import _ecc
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg

# X.690 8.1.2 / X.680 8.4 universal tags (primitive unless noted).
TAG_INTEGER: Final = 0x02
TAG_BIT_STRING: Final = 0x03
TAG_OCTET_STRING: Final = 0x04
TAG_NULL: Final = 0x05
TAG_OID: Final = 0x06
TAG_SEQUENCE: Final = 0x30  # SEQUENCE, constructed (bit 6 set)


def encode_oid(dotted: str) -> bytes:
    """Spec: X-690 8.19 - the contents octets of an OBJECT IDENTIFIER.

    Steps: (1) the first two arcs make one subidentifier 40 X + Y; (2) each
    subidentifier is base 128, most significant group first, bit 8 set on all but the
    last octet (8.19.2: the fewest octets, no leading 0x80).
    """
    arcs = [int(a) for a in dotted.split(".")]
    # (1)
    subids = [40 * arcs[0] + arcs[1], *arcs[2:]]
    out = b""
    # (2)
    for subid in subids:
        groups = [subid & 0x7F]
        rest = subid >> 7
        while rest:
            groups.append(0x80 | (rest & 0x7F))
            rest >>= 7
        out += bytes(reversed(groups))
    return out


# RFC 8017 A.1 rsaEncryption; RFC 5480 2.1.1 id-ecPublicKey; RFC 5480 2.1.1.1 named curves;
# RFC 8017 A.2.4 / NIST CSOR id-sha*: the DigestInfo algorithm identifiers.
OID_RSA_ENCRYPTION: Final = encode_oid("1.2.840.113549.1.1.1")
OID_EC_PUBLIC_KEY: Final = encode_oid("1.2.840.10045.2.1")
OID_CURVES: Final[dict[str, bytes]] = {
    "P-256": encode_oid("1.2.840.10045.3.1.7"),  # prime256v1 / secp256r1
    "P-384": encode_oid("1.3.132.0.34"),  # secp384r1
}
OID_HASHES: Final[dict[int, bytes]] = {
    HashAlg.SHA1: encode_oid("1.3.14.3.2.26"),  # id-sha1
    HashAlg.SHA256: encode_oid("2.16.840.1.101.3.4.2.1"),  # id-sha256
    HashAlg.SHA384: encode_oid("2.16.840.1.101.3.4.2.2"),  # id-sha384
    HashAlg.SHA512: encode_oid("2.16.840.1.101.3.4.2.3"),  # id-sha512
}


def encode_tlv(tag: int, contents: bytes) -> bytes:
    """Spec: X-690 8.1.3, 10.1 - identifier, definite length in the fewest octets, contents.

    Short form (one octet) below 128; else 0x80 | k followed by k length octets.
    """
    size = len(contents)
    if size < 0x80:
        return bytes([tag, size]) + contents
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + contents


def encode_integer(value: int) -> bytes:
    """Spec: X-690 8.3 - an INTEGER: two's complement, big-endian, in the fewest octets."""
    size = value.bit_length() // 8 + 1  # room for the sign bit
    return encode_tlv(TAG_INTEGER, value.to_bytes(size, "big", signed=True))


def encode_sequence(*parts: bytes) -> bytes:
    """Spec: X-690 8.9 - a SEQUENCE of already-encoded components, in order."""
    return encode_tlv(TAG_SEQUENCE, b"".join(parts))


def digest_info(hash_alg: int, digest: bytes) -> bytes:
    """Spec: RFC-8017 9.2 - DigestInfo ::= SEQUENCE { digestAlgorithm, digest OCTET STRING }.

    digestAlgorithm is SEQUENCE { id-shaX, NULL } (RFC 8017 A.2.4; 9.2 Note 1 lists the
    resulting prefixes). Only SHA-1/256/384/512 (KeyError otherwise).
    """
    algorithm = encode_sequence(
        encode_tlv(TAG_OID, OID_HASHES[hash_alg]), encode_tlv(TAG_NULL, b"")
    )
    return encode_sequence(algorithm, encode_tlv(TAG_OCTET_STRING, digest))


def encode_spki_rsa(n: int, e: int) -> bytes:
    """Spec: RFC-8017 A.1.1 - SubjectPublicKeyInfo of an RSA key (rsaEncryption, NULL params,
    BIT STRING holding RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER })."""
    algorithm = encode_sequence(encode_tlv(TAG_OID, OID_RSA_ENCRYPTION), encode_tlv(TAG_NULL, b""))
    key = encode_sequence(encode_integer(n), encode_integer(e))
    return encode_sequence(algorithm, encode_tlv(TAG_BIT_STRING, b"\x00" + key))


def encode_spki_ec(curve: str, x: int, y: int) -> bytes:
    """Spec: RFC-5480 2 - SubjectPublicKeyInfo of an EC key: id-ecPublicKey, namedCurve,
    and the uncompressed ECPoint 04 || X || Y, each padded to the field size (SEC 1 2.3.3)."""
    size = _ecc.curve_by_name(curve).size
    algorithm = encode_sequence(
        encode_tlv(TAG_OID, OID_EC_PUBLIC_KEY), encode_tlv(TAG_OID, OID_CURVES[curve])
    )
    point = b"\x04" + x.to_bytes(size, "big") + y.to_bytes(size, "big")
    return encode_sequence(algorithm, encode_tlv(TAG_BIT_STRING, b"\x00" + point))


def encode_ecdsa_sig(r: int, s: int) -> bytes:
    """Spec: RFC-3279 2.2.3 - Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, in DER."""
    return encode_sequence(encode_integer(r), encode_integer(s))


class Reader:
    """Reads DER TLVs from data[start:end], never past `end`; errors carry `code`."""

    def __init__(self, data: bytes, code: ErrorCode, start: int = 0, end: int | None = None):
        self.data = data
        self.code = code
        self.offset = start
        self.end = len(data) if end is None else end

    def fail(self, message: str, offset: int) -> MalformedInputError:
        """The caller's error, at `offset` in the outermost input."""
        return MalformedInputError(self.code, f"DER: {message}", field="der", offset=offset)

    def tlv(self, tag: int) -> tuple[int, int]:
        """Spec: X-690 8.1, 10.1 - the next TLV, which must carry `tag`: (start, end) of its
        contents. Steps: (1) identifier octet equals tag; (2) length: short form, or long
        form 0x81..0x84 with no leading zero octet and a value >= 128 (10.1: the fewest
        octets; 0x80, indefinite, is not DER); (3) the contents fit before `end`."""
        at = self.offset
        # (1)
        if self.end - at < 2:
            raise self.fail("truncated TLV header", at)
        if self.data[at] != tag:
            raise self.fail(f"tag {self.data[at]:#04x}, expected {tag:#04x}", at)
        # (2)
        first = self.data[at + 1]
        head = 2
        size = first
        if first & 0x80:
            count = first & 0x7F
            if not 1 <= count <= 4 or self.end - at - 2 < count:
                raise self.fail("bad or truncated long-form length", at)
            size = int.from_bytes(self.data[at + 2 : at + 2 + count], "big")
            if self.data[at + 2] == 0 or size < 0x80:
                raise self.fail("length not in the fewest octets", at)
            head += count
        # (3)
        if self.end - at - head < size:
            raise self.fail("contents run past the end", at)
        self.offset = at + head + size
        return at + head, at + head + size

    def contents(self, tag: int) -> bytes:
        """The contents octets of the next TLV with `tag`."""
        start, end = self.tlv(tag)
        return self.data[start:end]

    def integer(self) -> int:
        """Spec: X-690 8.3.2 - an INTEGER: at least one octet, and the first nine bits not
        all equal (minimal two's complement)."""
        at = self.offset
        value = self.contents(TAG_INTEGER)
        if not value:
            raise self.fail("empty INTEGER", at)
        if len(value) > 1 and (
            (value[0] == 0 and value[1] < 0x80) or (value[0] == 0xFF and value[1] >= 0x80)
        ):
            raise self.fail("INTEGER not in the fewest octets", at)
        return int.from_bytes(value, "big", signed=True)

    def sequence(self) -> Reader:
        """A reader over the contents of the next SEQUENCE (offsets stay absolute)."""
        start, end = self.tlv(TAG_SEQUENCE)
        return Reader(self.data, self.code, start, end)

    def finish(self) -> None:
        """Nothing may follow the last component (X.690 8.9: the SEQUENCE is exactly them)."""
        if self.offset != self.end:
            raise self.fail("octets after the last component", self.offset)


def parse_ecdsa_sig(data: bytes, code: ErrorCode) -> tuple[int, int]:
    """Spec: RFC-3279 2.2.3 - (r, s) from a DER Ecdsa-Sig-Value; nothing may follow it."""
    outer = Reader(data, code)
    seq = outer.sequence()
    r, s = seq.integer(), seq.integer()
    seq.finish()
    outer.finish()
    return r, s


def parse_spki(data: bytes) -> tuple[str, int, int, str | None]:
    """Spec: RFC-5480 2 - SubjectPublicKeyInfo: ("rsa", n, e, None) or ("ecc", x, y, curve).

    Steps:
      (1) SEQUENCE { algorithm SEQUENCE { OID, parameters }, subjectPublicKey BIT STRING },
          nothing after it; the BIT STRING has 0 unused bits (X.690 8.6.2.2);
      (2) rsaEncryption: parameters NULL (RFC 8017 A.1), the key is RSAPublicKey;
      (3) id-ecPublicKey: parameters a namedCurve OID of P-256/P-384 (others
          UNSUPPORTED_KEY), the key an ECPoint (SEC 1 2.3.4);
      (4) any other algorithm: UNSUPPORTED_KEY.
    Malformed DER: INVALID_KEY with the offset of the bad TLV.
    """
    # (1)
    outer = Reader(data, ErrorCode.INVALID_KEY)
    spki = outer.sequence()
    algorithm = spki.sequence()
    oid = algorithm.contents(TAG_OID)
    key_at = spki.offset
    bits = spki.contents(TAG_BIT_STRING)
    spki.finish()
    outer.finish()
    if not bits or bits[0] != 0:
        raise spki.fail("BIT STRING with unused bits", key_at)
    # (2)
    if oid == OID_RSA_ENCRYPTION:
        null_at = algorithm.offset
        if algorithm.contents(TAG_NULL) != b"":
            raise algorithm.fail("NULL with contents", null_at)
        algorithm.finish()
        return ("rsa", *_rsa_public_key(data, key_at), None)
    # (3)
    if oid == OID_EC_PUBLIC_KEY:
        curve_oid = algorithm.contents(TAG_OID)
        algorithm.finish()
        for name, known in OID_CURVES.items():
            if curve_oid == known:
                return ("ecc", *decode_point(name, bits[1:], key_at), name)
        raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, "named curve not P-256/P-384")
    # (4)
    raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, "key algorithm not RSA or EC")


def spki_key_offset(data: bytes) -> int:
    """Spec: RFC-5480 2 - the offset of a well-formed SubjectPublicKeyInfo's BIT STRING
    (subjectPublicKey), where errors in the key itself are reported (ADR 0004 amendment 1)."""
    spki = Reader(data, ErrorCode.INVALID_KEY).sequence()
    spki.sequence()
    return spki.offset


def _rsa_public_key(data: bytes, key_at: int) -> tuple[int, int]:
    """Spec: RFC-8017 A.1.1 - RSAPublicKey ::= SEQUENCE { modulus, publicExponent } inside
    the BIT STRING that starts at key_at (after its 0 unused-bits octet)."""
    bit_string = Reader(data, ErrorCode.INVALID_KEY, key_at)
    start, end = bit_string.tlv(TAG_BIT_STRING)
    inner = Reader(data, ErrorCode.INVALID_KEY, start + 1, end)
    try:
        key = inner.sequence()
        n, e = key.integer(), key.integer()
        key.finish()
        inner.finish()
    except MalformedInputError as err:
        # PROJECT adr.0004 amendment 1: an error inside the key is reported at its BIT STRING
        raise MalformedInputError(err.code, err.message, field=err.field, offset=key_at) from err
    return n, e


def decode_point(curve: str, octets: bytes, offset: int) -> tuple[int, int]:
    """Spec: SEC-1 2.3.4 - Octet-String-to-Elliptic-Curve-Point conversion.

    Steps:
      (1) 04 || X || Y with X, Y of exactly the field size (uncompressed), or
          02/03 || X (compressed: y is the square root of x^3 + a x + b with the parity
          the prefix gives; p = 3 mod 4 for both curves, so y = w^((p+1)/4));
      (2) the point is on the curve; O (a single 00) is not a public key.
    Anything else: INVALID_KEY at `offset`.
    """
    c = _ecc.curve_by_name(curve)
    bad = MalformedInputError(
        ErrorCode.INVALID_KEY, f"not a {curve} point", field="subjectPublicKey", offset=offset
    )
    # (1)
    if len(octets) == 1 + 2 * c.size and octets[0] == 0x04:
        x = int.from_bytes(octets[1 : 1 + c.size], "big")
        y = int.from_bytes(octets[1 + c.size :], "big")
    elif len(octets) == 1 + c.size and octets[0] in (0x02, 0x03):
        x = int.from_bytes(octets[1:], "big")
        w = pow(x, 3, c.p) + c.a * x + c.b
        y = pow(w, (c.p + 1) // 4, c.p)
        if y % 2 != octets[0] - 2:
            y = (c.p - y) % c.p
    else:
        raise bad
    # (2)
    if not _ecc.is_on_curve(curve, x, y):
        raise bad
    return x, y
