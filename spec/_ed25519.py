"""Ed25519 (RFC 8032 5.1), pure Python: keys, signing and verification of policy signatures.

Spec: RFC-8032 5.1 Ed25519ph, Ed25519ctx, and Ed25519 - the pure Ed25519 variant only (no
context, no prehash: dom2 is the empty string). Points are kept in the extended homogeneous
coordinates of 5.1.4, (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z. SHA-512 is the spec's
own (chainoftrust.spec.hashes, FIPS 180-4). Not constant time: the spec signs only with
public test keys, for vectors.
"""

from __future__ import annotations

from typing import Final

from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg, compute_digest

#: RFC 8032 5.1: the prime of the field GF(p).
P: Final = 2**255 - 19
#: RFC 8032 5.1: the curve constant d = -121665/121666 of edwards25519.
D: Final = -121665 * pow(121666, P - 2, P) % P
#: RFC 8032 5.1: the order L of the base point B.
L: Final = 2**252 + 27742317777372353535851937790883648493
#: RFC 8032 5.1: B = (X(P),Y(P)) with y = 4/5 and x positive (even); these are its values.
B_X: Final = 15112221349535400772501151409588531511454012693041857206046113283949847762202
B_Y: Final = 46316835694926478169428394003475163141307993866256225615783033603165251855960
#: RFC 8032 5.1.3 step 3: 2^((p-1)/4), a square root of -1 modulo p.
SQRT_M1: Final = pow(2, (P - 1) // 4, P)
#: RFC 8032 5.1: b = 256: keys, encoded points and the scalar S are b/8 = 32 octets.
KEY_SIZE: Final = 32
SIGNATURE_SIZE: Final = 64

Point = tuple[int, int, int, int]  # extended homogeneous coordinates (X, Y, Z, T)

#: The neutral element (0, 1) and the base point B, in extended coordinates.
NEUTRAL: Final[Point] = (0, 1, 1, 0)
BASE: Final[Point] = (B_X, B_Y, 1, B_X * B_Y % P)


def _sha512(data: bytes) -> bytes:
    """RFC 8032 5.1: H is SHA-512 (FIPS 180-4 6.4, the spec's own)."""
    return compute_digest(HashAlg.SHA512, data)


def _le_int(octets: bytes) -> int:
    """RFC 8032 5.1.2: integers are encoded little-endian."""
    return int.from_bytes(octets, "little")


def point_add(p1: Point, p2: Point) -> Point:
    """Spec: RFC-8032 5.1.4 Point Addition - (X1:Y1:Z1:T1) + (X2:Y2:Z2:T2), complete formulas.

    Steps: A = (Y1-X1)*(Y2-X2), B = (Y1+X1)*(Y2+X2), C = T1*2*d*T2, D = Z1*2*Z2,
    E = B-A, F = D-C, G = D+C, H = B+A; X3 = E*F, Y3 = G*H, T3 = E*H, Z3 = F*G.
    """
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_double(p1: Point) -> Point:
    """Spec: RFC-8032 5.1.4 Point Addition - doubling (X1:Y1:Z1:T1).

    Steps: A = X1^2, B = Y1^2, C = 2*Z1^2, H = A+B, E = H-(X1+Y1)^2, G = A-B, F = C+G;
    X3 = E*F, Y3 = G*H, T3 = E*H, Z3 = F*G.
    """
    x1, y1, z1, _ = p1
    a = x1 * x1 % P
    b = y1 * y1 % P
    c = 2 * z1 * z1 % P
    h = a + b
    e = h - (x1 + y1) * (x1 + y1)
    g = a - b
    f = c + g
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def scalar_mult(k: int, point: Point) -> Point:
    """Spec: RFC-8032 5.1.4 Point Addition - [k]P by double-and-add over the bits of k >= 0."""
    result = NEUTRAL
    for bit in bin(k)[2:]:  # most significant bit first
        result = point_double(result)
        if bit == "1":
            result = point_add(result, point)
    return result


def encode_point(point: Point) -> bytes:
    """Spec: RFC-8032 5.1.2 Encoding - y little-endian in 32 octets, x's low bit in bit 255.

    Steps:
      (1) the affine coordinates x = X/Z, y = Y/Z;
      (2) y as a 32-octet little-endian string (y < p < 2^255, so bit 255 is free);
      (3) the least significant bit of x goes into the most significant bit of the last octet.
    """
    # (1)
    x1, y1, z1, _ = point
    z_inv = pow(z1, P - 2, P)
    x, y = x1 * z_inv % P, y1 * z_inv % P
    # (2)
    octets = bytearray(y.to_bytes(KEY_SIZE, "little"))
    # (3)
    octets[31] |= (x & 1) << 7
    return bytes(octets)


def _recover_x(y: int, x_0: int) -> int | None:
    """RFC 8032 5.1.3 steps 2-4: x from y and its sign bit x_0, or None (decoding fails)."""
    # (2) u = y^2 - 1, v = d y^2 + 1; candidate root x = u v^3 (u v^7)^((p-5)/8)
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    # (3) v x^2 = u: a root; v x^2 = -u: x * 2^((p-1)/4) is one; else no square root
    if (v * x * x - u) % P == 0:
        pass
    elif (v * x * x + u) % P == 0:
        x = x * SQRT_M1 % P
    else:
        return None
    # (4) x = 0 with x_0 = 1 fails; otherwise pick the root whose low bit is x_0
    if x == 0 and x_0 == 1:
        return None
    return P - x if x_0 != x & 1 else x


def decode_point(octets: bytes) -> Point | None:
    """Spec: RFC-8032 5.1.3 Decoding - a 32-octet string to a point, or None when it fails.

    Steps:
      (1) the string is 32 octets; as a little-endian integer, bit 255 is x_0 and the rest
          is y; y >= p fails (a non-canonical encoding);
      (2)-(3) x^2 = (y^2 - 1) / (d y^2 + 1): the square root, or fail;
      (4) x = 0 with x_0 = 1 fails (non-canonical); else the root with low bit x_0.
    """
    # (1)
    if not isinstance(octets, bytes) or len(octets) != KEY_SIZE:
        return None
    value = _le_int(octets)
    x_0, y = value >> 255, value & ((1 << 255) - 1)
    if y >= P:
        return None
    # (2)-(4)
    x = _recover_x(y, x_0)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _secret_expand(secret: bytes) -> tuple[int, bytes]:
    """RFC 8032 5.1.5 steps 1-3: the secret scalar s and the prefix (the hash's upper half).

    Steps:
      (1) h = SHA-512(secret key), 64 octets;
      (2) the first half, with the lowest three bits of the first octet cleared, the highest
          bit of the last octet cleared and its second highest bit set;
      (3) that buffer as a little-endian integer is s.
    """
    if not isinstance(secret, bytes) or len(secret) != KEY_SIZE:
        raise MalformedInputError(
            ErrorCode.INVALID_KEY, "an Ed25519 secret key is 32 octets", field="secret"
        )
    # (1)
    h = _sha512(secret)
    # (2)
    buffer = bytearray(h[:32])
    buffer[0] &= 0b11111000
    buffer[31] &= 0b01111111
    buffer[31] |= 0b01000000
    # (3)
    return _le_int(bytes(buffer)), h[32:]


def ed25519_public(secret: bytes) -> bytes:
    """Spec: RFC-8032 5.1.5 Key Generation - the 32-octet public key of a 32-octet secret.

    Steps: (1)-(3) s from the hashed secret (pruned); (4) A = [s]B, encoded (5.1.2).
    """
    s, _ = _secret_expand(secret)
    return encode_point(scalar_mult(s, BASE))


def ed25519_sign(secret: bytes, message: bytes) -> bytes:
    """Spec: RFC-8032 5.1.6 Sign - the 64-octet signature R || S of a message (dom2 empty).

    Steps:
      (1) s, prefix and A = [s]B from the secret (5.1.5);
      (2) r = SHA-512(prefix || M) as a little-endian integer, reduced modulo L;
      (3) R = [r]B, encoded;
      (4) k = SHA-512(R || A || M) as a little-endian integer, reduced modulo L;
      (5) S = (r + k * s) mod L;
      (6) the signature is R || S (S as 32 octets little-endian).
    """
    # (1)
    s, prefix = _secret_expand(secret)
    public = encode_point(scalar_mult(s, BASE))
    # (2)
    r = _le_int(_sha512(prefix + message)) % L
    # (3)
    encoded_r = encode_point(scalar_mult(r, BASE))
    # (4)
    k = _le_int(_sha512(encoded_r + public + message)) % L
    # (5)
    big_s = (r + k * s) % L
    # (6)
    return encoded_r + big_s.to_bytes(KEY_SIZE, "little")


def _same_point(p1: Point, p2: Point) -> bool:
    """Two points in extended coordinates are equal: X1*Z2 = X2*Z1 and Y1*Z2 = Y2*Z1."""
    x1, y1, z1, _ = p1
    x2, y2, z2, _ = p2
    return (x1 * z2 - x2 * z1) % P == 0 and (y1 * z2 - y2 * z1) % P == 0


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Spec: RFC-8032 5.1.7 Verify - is signature a valid Ed25519 signature of message by public.

    Steps:
      (1) the signature is 64 octets: R (first half) decodes as a point, S (second half) as
          an integer with 0 <= S < L, and the public key A decodes as a point (5.1.3, with its
          canonical checks); any failure is invalid;
      (2) k = SHA-512(R || A || M) as a little-endian integer (the octet strings as
          received), reduced modulo L. RFC 8032 5.1.7 does not reduce k; for A in the
          prime-order subgroup (order L) [k]A = [k mod L]A, so the reduction changes nothing
          there. For a key outside it (one with a small-order component) the two differ, and
          reducing pins the verdict to the one OpenSSL and libsodium give (PROJECT adr.0005
          amendment 2; small-order keys themselves are refused before this, see
          has_small_order);
      (3) the cofactorless group equation [S]B = R + [k]A' (5.1.7 allows it in place of the
          equation multiplied by 8).
    Never raises for octet strings of any length: every failure is False.
    """
    # (1)
    if not (isinstance(signature, bytes) and isinstance(message, bytes)):
        return False
    if len(signature) != SIGNATURE_SIZE:
        return False
    point_r, point_a = decode_point(signature[:32]), decode_point(public)
    big_s = _le_int(signature[32:])
    if point_r is None or point_a is None or big_s >= L:
        return False
    # (2)
    k = _le_int(_sha512(signature[:32] + public + message)) % L
    # (3)
    left = scalar_mult(big_s, BASE)
    right = point_add(point_r, scalar_mult(k, point_a))
    return _same_point(left, right)


def has_small_order(public: bytes) -> bool:
    """Spec: RFC-8032 5.1.3 Decoding - does a public key decode to a point A with [8]A = (0, 1).

    Steps:
      (1) decode the key (5.1.3); a key that does not decode is not small-order (it fails
          verification instead);
      (2) [8]A by three doublings (5.1.4); A has small order (1, 2, 4 or 8: the cofactor 8
          of edwards25519 kills it) exactly when the result is the neutral element (0, 1).
    PROJECT adr.0005 amendment 2 refuses such keys: every signature check with them is
    about the torsion component only, and verifiers disagree on it.
    """
    # (1)
    point = decode_point(public)
    if point is None:
        return False
    # (2)
    eight_a = point_double(point_double(point_double(point)))
    return _same_point(eight_a, NEUTRAL)
