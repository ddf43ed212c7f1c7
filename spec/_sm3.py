"""GB/T 32905-2016 SM3 cryptographic hash algorithm, step by step.

Spec: GBT-32905 5 - the SM3 algorithm (Information security techniques - SM3
cryptographic hash algorithm, 2016).

Sections: 4.1 initial value IV, 4.2 constants T_j, 4.3 boolean functions FF_j and GG_j,
4.4 permutations P_0 and P_1, 5.2 padding, 5.3.1 iteration, 5.3.2 message expansion,
5.3.3 compression function CF, 5.4 the hash value. Words are 32 bits, big-endian.
"""

from __future__ import annotations

MASK32 = 0xFFFFFFFF  # GB/T 32905 3 / 4: 32-bit words; "+" is addition modulo 2^32

# GB/T 32905 4.1 initial value IV (256 bits) as eight words A..H.
SM3_IV = (
    0x7380166F, 0x4914B2B9, 0x172442D7, 0xDA8A0600, 0xA96F30BC, 0x163138AA, 0xE38DEE4D, 0xB0FB0E4E,
)  # fmt: skip

# GB/T 32905 4.2 constants: T_j = 79cc4519 for 0 <= j <= 15, 7a879d8a for 16 <= j <= 63.
SM3_T_LOW = 0x79CC4519
SM3_T_HIGH = 0x7A879D8A


def rotl32(x: int, n: int) -> int:
    """Spec: GBT-32905 3 - "<<< k", cyclic left shift of a 32-bit word by k bits."""
    n %= 32
    return ((x << n) | (x >> (32 - n))) & MASK32


def t_j(j: int) -> int:
    """Spec: GBT-32905 4.2 - the constant T_j."""
    return SM3_T_LOW if j <= 15 else SM3_T_HIGH


def ff_j(j: int, x: int, y: int, z: int) -> int:
    """Spec: GBT-32905 4.3 - FF_j = X xor Y xor Z (j <= 15), (X and Y) or (X and Z) or (Y and Z)."""
    if j <= 15:
        return x ^ y ^ z
    return (x & y) | (x & z) | (y & z)


def gg_j(j: int, x: int, y: int, z: int) -> int:
    """Spec: GBT-32905 4.3 - GG_j = X xor Y xor Z (j <= 15), (X and Y) or (not X and Z)."""
    if j <= 15:
        return x ^ y ^ z
    return (x & y) | ((x ^ MASK32) & z)


def p0(x: int) -> int:
    """Spec: GBT-32905 4.4 - P_0(X) = X xor (X <<< 9) xor (X <<< 17)."""
    return x ^ rotl32(x, 9) ^ rotl32(x, 17)


def p1(x: int) -> int:
    """Spec: GBT-32905 4.4 - P_1(X) = X xor (X <<< 15) xor (X <<< 23)."""
    return x ^ rotl32(x, 15) ^ rotl32(x, 23)


def pad(message: bytes) -> bytes:
    """Spec: GBT-32905 5.2 - m || "1" || k zero bits || l as 64 bits, l + 1 + k = 448 mod 512.

    With l a multiple of 8 the "1" bit and the next seven zero bits are the byte 0x80.
    """
    length_bits = 8 * len(message)
    zero_bytes = (64 - 8 - (len(message) + 1)) % 64  # k/8, the smallest k >= 0
    return message + b"\x80" + b"\x00" * zero_bytes + length_bits.to_bytes(8, "big")


def expand(block: bytes) -> tuple[list[int], list[int]]:
    """Spec: GBT-32905 5.3.2 - message expansion of B^(i) into W_0..W_67 and W'_0..W'_63.

    (a) W_0..W_15 are the block's sixteen big-endian words; (b) for j = 16..67
    W_j = P_1(W_j-16 xor W_j-9 xor (W_j-3 <<< 15)) xor (W_j-13 <<< 7) xor W_j-6;
    (c) for j = 0..63 W'_j = W_j xor W_j+4.
    """
    w = [int.from_bytes(block[4 * j : 4 * j + 4], "big") for j in range(16)]  # (a)
    for j in range(16, 68):  # (b)
        w.append(p1(w[j - 16] ^ w[j - 9] ^ rotl32(w[j - 3], 15)) ^ rotl32(w[j - 13], 7) ^ w[j - 6])
    w_prime = [w[j] ^ w[j + 4] for j in range(64)]  # (c)
    return w, w_prime


def compress(v: tuple[int, ...], block: bytes) -> tuple[int, ...]:
    """Spec: GBT-32905 5.3.3 - compression function V^(i+1) = CF(V^(i), B^(i)).

    (1) ABCDEFGH = V^(i); (2) for j = 0..63: SS1 = ((A <<< 12) + E + (T_j <<< (j mod 32)))
    <<< 7; SS2 = SS1 xor (A <<< 12); TT1 = FF_j(A,B,C) + D + SS2 + W'_j; TT2 = GG_j(E,F,G)
    + H + SS1 + W_j; D = C; C = B <<< 9; B = A; A = TT1; H = G; G = F <<< 19; F = E;
    E = P_0(TT2); (3) V^(i+1) = ABCDEFGH xor V^(i).
    """
    w, w_prime = expand(block)
    a, b, c, d, e, f, g, h = v  # (1)
    for j in range(64):  # (2)
        ss1 = rotl32((rotl32(a, 12) + e + rotl32(t_j(j), j % 32)) & MASK32, 7)
        ss2 = ss1 ^ rotl32(a, 12)
        tt1 = (ff_j(j, a, b, c) + d + ss2 + w_prime[j]) & MASK32
        tt2 = (gg_j(j, e, f, g) + h + ss1 + w[j]) & MASK32
        d, c, b, a = c, rotl32(b, 9), a, tt1
        h, g, f, e = g, rotl32(f, 19), e, p0(tt2)
    return tuple(x ^ y for x, y in zip((a, b, c, d, e, f, g, h), v, strict=True))  # (3)


def sm3(message: bytes) -> bytes:
    """Spec: GBT-32905 5.3.1,5.4 - iteration and hash value: V^(n) as 256 bits, big-endian words.

    (1) pad m to m' (5.2); (2) split m' into n blocks B^(0)..B^(n-1) of 512 bits;
    (3) V^(0) = IV, V^(i+1) = CF(V^(i), B^(i)); (4) y = ABCDEFGH of V^(n).
    """
    padded = pad(message)  # (1)
    v: tuple[int, ...] = SM3_IV
    for start in range(0, len(padded), 64):  # (2) and (3)
        v = compress(v, padded[start : start + 64])
    return b"".join(x.to_bytes(4, "big") for x in v)  # (4)
