"""ECDSA over NIST P-256 and P-384: verification, RFC 6979 signing, point arithmetic.

Spec: FIPS-186-5 6.4 - ECDSA Signature Generation and Verification; SP-800-186 3.2.1 -
the curves P-256 and P-384; SEC-1 2.2.1 - elliptic curve addition over F_p; RFC-6979 3.2 -
deterministic generation of k.

Points are affine pairs (x, y) of ints, and None is the point at infinity O. The
arithmetic is the textbook chord-and-tangent rule (SEC 1 2.2.1) with one modular
inversion per step: slow, but short and plainly correct. Speed is not the spec's job.
Private module: other spec modules import `ecdsa_verify`, `ecdsa_sign_rfc6979`,
`ecdsa_public` and `is_on_curve` (signatures fixed by docs/adr/0004-quote-contract.md);
`curve` is "P-256" or "P-384" and `hash_alg` a TPM_ALG_ID.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size

#: An affine point, or None for the point at infinity O.
Point = tuple[int, int] | None


@dataclass(frozen=True, slots=True)
class Curve:
    """A short Weierstrass curve y^2 = x^3 + a x + b over F_p with base point G of order n."""

    name: str
    p: int  # the field prime
    a: int  # coefficient a (p - 3 for the NIST curves)
    b: int  # coefficient b
    gx: int  # base point G, x
    gy: int  # base point G, y
    n: int  # the order of G (cofactor h = 1)
    size: int  # octets of a field element: ceil(log2(p) / 8)


# SP 800-186 3.2.1.3 P-256 (FIPS 186-5 names it): p = 2^256 - 2^224 + 2^192 + 2^96 - 1.
_P256: Final = Curve(
    name="P-256",
    p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
    a=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFC,
    b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
    gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    size=32,
)
# SP 800-186 3.2.1.4 P-384: p = 2^384 - 2^128 - 2^96 + 2^32 - 1.
_P384: Final = Curve(
    name="P-384",
    p=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE"
        "FFFFFFFF0000000000000000FFFFFFFF",
        16,
    ),
    a=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFE"
        "FFFFFFFF0000000000000000FFFFFFFC",
        16,
    ),
    b=int(
        "B3312FA7E23EE7E4988E056BE3F82D19181D9C6EFE8141120314088F5013875A"
        "C656398D8A2ED19D2A85C8EDD3EC2AEF",
        16,
    ),
    gx=int(
        "AA87CA22BE8B05378EB1C71EF320AD746E1D3B628BA79B9859F741E082542A38"
        "5502F25DBF55296C3A545E3872760AB7",
        16,
    ),
    gy=int(
        "3617DE4A96262C6F5D9E98BF9292DC29F8F41DBD289A147CE9DA3113B5F0B8C0"
        "0A60B1CE1D7E819D7A431D7C90EA0E5F",
        16,
    ),
    n=int(
        "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
        "581A0DB248B0A77AECEC196ACCC52973",
        16,
    ),
    size=48,
)
#: The curves by the names JOSE / FIPS 186-5 use.
CURVES: Final[dict[str, Curve]] = {"P-256": _P256, "P-384": _P384}

#: FIPS 180-4 1 (Figure 1): message block size in octets, for HMAC (FIPS 198-1 / RFC 2104 B).
BLOCK_SIZES: Final[dict[int, int]] = {
    HashAlg.SHA1: 64,
    HashAlg.SHA256: 64,
    HashAlg.SHA384: 128,
    HashAlg.SHA512: 128,
}


def curve_by_name(curve: str) -> Curve:
    """Spec: SP-800-186 3.2.1 - P-256 or P-384 by name, else UNSUPPORTED_KEY."""
    found = CURVES.get(curve) if isinstance(curve, str) else None
    if found is None:
        raise MalformedInputError(ErrorCode.UNSUPPORTED_KEY, f"unsupported curve {curve!r}")
    return found


def _add(c: Curve, p1: Point, p2: Point) -> Point:
    """Spec: SEC-1 2.2.1 - addition of two points of E(F_p) (chord and tangent).

    Steps:
      (1) O + P = P + O = P;
      (2) (x, y) + (x, -y) = O;
      (3) P != Q: lambda = (y2 - y1) / (x2 - x1); P = Q: lambda = (3 x1^2 + a) / (2 y1);
      (4) x3 = lambda^2 - x1 - x2, y3 = lambda (x1 - x3) - y1.
    """
    # (1)
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    # (2)
    if x1 == x2 and (y1 + y2) % c.p == 0:
        return None
    # (3)
    if x1 == x2:
        lam = (3 * x1 * x1 + c.a) * pow(2 * y1, -1, c.p) % c.p
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, c.p) % c.p
    # (4)
    x3 = (lam * lam - x1 - x2) % c.p
    return x3, (lam * (x1 - x3) - y1) % c.p


def _multiply(c: Curve, k: int, point: Point) -> Point:
    """Spec: SEC-1 3.2.1 - scalar multiplication kP by double-and-add over the bits of k,
    from the most significant bit down (k >= 0)."""
    result: Point = None
    for bit in bin(k)[2:] if k > 0 else "":
        result = _add(c, result, result)
        if bit == "1":
            result = _add(c, result, point)
    return result


def is_on_curve(curve: str, x: int, y: int) -> bool:
    """Spec: SEC-1 3.2.2.1 - (x, y) is a point of E: 0 <= x, y < p and y^2 = x^3 + a x + b.

    The NIST curves have cofactor 1, so a point on the curve other than O is in the
    group generated by G (SEC 1 3.2.2.1 step 4 is then implied). Unknown curve: False.
    """
    c = CURVES.get(curve) if isinstance(curve, str) else None
    if c is None or not (0 <= x < c.p and 0 <= y < c.p):
        return False
    return (y * y - (x * x * x + c.a * x + c.b)) % c.p == 0


def ecdsa_public(curve: str, d: int) -> tuple[int, int]:
    """Spec: FIPS-186-5 6.2.1 - the public key Q = dG of a private key d in [1, n-1]."""
    c = curve_by_name(curve)
    if not 1 <= d < c.n:
        raise MalformedInputError(ErrorCode.INVALID_KEY, "private key d is not in [1, n-1]")
    q = _multiply(c, d, (c.gx, c.gy))
    if q is None:  # cannot happen for d in [1, n-1]; fail closed anyway
        raise MalformedInputError(ErrorCode.INVALID_KEY, "dG is the point at infinity")
    return q


def _hash_to_int(c: Curve, hash_alg: int, message: bytes) -> int:
    """Spec: FIPS-186-5 6.4.1 - e: the leftmost min(nlen, hlen) bits of Hash(M) as an integer
    (RFC 6979 2.3.2 bits2int of H(m))."""
    return _bits2int(c, compute_digest(HashAlg(hash_alg), message))


def ecdsa_verify(  # noqa: PLR0917 - the signature ADR 0004 fixes
    curve: str, x: int, y: int, hash_alg: int, message: bytes, r: int, s: int
) -> bool:
    """Spec: FIPS-186-5 6.4.2 - ECDSA Signature Verification Algorithm.

    Steps:
      (0) the curve is P-256/P-384, the hash is SHA-1/256/384/512 and Q = (x, y) is a
          point on the curve (SEC 1 3.2.2.1), else False;
      (1) r and s are integers in [1, n-1], else False;
      (2)-(3) e = the leftmost nlen bits of Hash(M), as an integer;
      (4) s^-1 mod n;
      (5) u = e s^-1 mod n, v = r s^-1 mod n;
      (6) R1 = uG + vQ; R1 = O -> False;
      (7) r1 = x(R1) mod n;
      (8) valid iff r1 == r.
    Never raises for bad values: every failure is False.
    """
    # (0)
    c = CURVES.get(curve) if isinstance(curve, str) else None
    if c is None or hash_alg not in BLOCK_SIZES or not is_on_curve(curve, x, y):
        return False
    # (1)
    if not (1 <= r < c.n and 1 <= s < c.n):
        return False
    # (2)-(3)
    e = _hash_to_int(c, hash_alg, message)
    # (4)
    s_inv = pow(s, -1, c.n)
    # (5)
    u, v = e * s_inv % c.n, r * s_inv % c.n
    # (6)
    r1_point = _add(c, _multiply(c, u, (c.gx, c.gy)), _multiply(c, v, (x, y)))
    if r1_point is None:
        return False
    # (7)-(8)
    return r1_point[0] % c.n == r


def hmac(hash_alg: int, key: bytes, data: bytes) -> bytes:
    """Spec: FIPS-198-1 4 - HMAC(K, text) = H((K0 ^ opad) || H((K0 ^ ipad) || text)).

    Steps:
      (1)-(3) K0: K hashed if longer than the block size B, then zero-padded to B octets;
      (4)-(9) inner hash with ipad (0x36 repeated), outer hash with opad (0x5c repeated).
    """
    alg = HashAlg(hash_alg)
    block = BLOCK_SIZES[alg]
    # (1)-(3)
    k0 = compute_digest(alg, key) if len(key) > block else key
    k0 = k0.ljust(block, b"\x00")
    # (4)-(9)
    inner = compute_digest(alg, bytes(b ^ 0x36 for b in k0) + data)
    return compute_digest(alg, bytes(b ^ 0x5C for b in k0) + inner)


def _bits2int(c: Curve, octets: bytes) -> int:
    """Spec: RFC-6979 2.3.2 - bits2int: the leftmost qlen bits of a bit string, as an integer."""
    qlen = c.n.bit_length()
    value = int.from_bytes(octets, "big")
    blen = 8 * len(octets)
    return value >> (blen - qlen) if blen > qlen else value


def _int2octets(c: Curve, value: int) -> bytes:
    """Spec: RFC-6979 2.3.3 - int2octets: value (< q) as rlen = 8 ceil(qlen / 8) bits."""
    return value.to_bytes((c.n.bit_length() + 7) // 8, "big")


def _bits2octets(c: Curve, octets: bytes) -> bytes:
    """Spec: RFC-6979 2.3.4 - bits2octets: z1 = bits2int(b), z2 = z1 mod q, int2octets(z2)."""
    z1 = _bits2int(c, octets)
    z2 = z1 - c.n if z1 >= c.n else z1
    return _int2octets(c, z2)


def _rfc6979_k_candidates(c: Curve, d: int, hash_alg: int, h1: bytes) -> Iterator[int]:
    """Spec: RFC-6979 3.2 - steps b-h: the candidates for k (each in [1, q-1]), in order.

    Steps: (b) V = 0x01 * hlen; (c) K = 0x00 * hlen;
      (d) K = HMAC_K(V || 0x00 || int2octets(x) || bits2octets(h1)); (e) V = HMAC_K(V);
      (f) K = HMAC_K(V || 0x01 || int2octets(x) || bits2octets(h1)); (g) V = HMAC_K(V);
      (h) T = V = HMAC_K(V) ... until tlen >= qlen; k = bits2int(T); a k outside
          [1, q-1] is skipped; after each k: K = HMAC_K(V || 0x00), V = HMAC_K(V).
    """
    hlen = digest_size(HashAlg(hash_alg))
    seed = _int2octets(c, d) + _bits2octets(c, h1)
    # (b)-(c)
    v, k = b"\x01" * hlen, b"\x00" * hlen
    # (d)-(g)
    k = hmac(hash_alg, k, v + b"\x00" + seed)
    v = hmac(hash_alg, k, v)
    k = hmac(hash_alg, k, v + b"\x01" + seed)
    v = hmac(hash_alg, k, v)
    # (h)
    while True:
        t = b""
        while 8 * len(t) < c.n.bit_length():
            v = hmac(hash_alg, k, v)
            t += v
        candidate = _bits2int(c, t)
        if 1 <= candidate < c.n:
            yield candidate
        k = hmac(hash_alg, k, v + b"\x00")
        v = hmac(hash_alg, k, v)


def ecdsa_sign_rfc6979(curve: str, d: int, hash_alg: int, message: bytes) -> tuple[int, int]:
    """Spec: RFC-6979 3.2 - deterministic ECDSA signature (r, s) of message with key d.

    Steps (FIPS 186-5 6.4.1 with k from RFC 6979 3.2):
      (1) h1 = H(m) (RFC 6979 3.2 a); e = bits2int(h1);
      (2) k = the first candidate of RFC 6979 3.2 h for which r and s are not 0;
      (3) R = kG, r = x(R) mod n;
      (4) s = k^-1 (e + r d) mod n.
    The hash must be SHA-1/256/384/512 (UNKNOWN_ALGORITHM otherwise).
    """
    c = curve_by_name(curve)
    if hash_alg not in BLOCK_SIZES:
        raise MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, f"hash {hash_alg!r} not usable")
    ecdsa_public(curve, d)  # d in [1, n-1]
    # (1)
    h1 = compute_digest(HashAlg(hash_alg), message)
    e = _bits2int(c, h1)
    # (2)
    for k in _rfc6979_k_candidates(c, d, hash_alg, h1):
        point = _multiply(c, k, (c.gx, c.gy))
        if point is None:  # cannot happen for k in [1, n-1]
            continue
        # (3)
        r = point[0] % c.n
        # (4)
        s = pow(k, -1, c.n) * (e + r * d) % c.n
        if r != 0 and s != 0:
            return r, s
    raise AssertionError("unreachable: the candidate stream is endless")  # pragma: no cover
