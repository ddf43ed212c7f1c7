"""FIPS 202 SHA-3: KECCAK-p[1600, 24], the sponge, pad10*1 and SHA3-256/384/512.

Spec: FIPS-202 6.1 - SHA-3 Hash Functions (SHA-3 Standard: Permutation-Based Hash and
Extendable-Output Functions, August 2015).

The state A is held as 25 lanes of w = 64 bits, A[x][y] = Lane(x, y) (FIPS 202 3.1.2-3.1.4),
bit z of a lane being bit z of the Python int. Byte strings map to the state as in FIPS 202
Appendix B.1: lane (x, y) is bytes 8(5y + x) .. 8(5y + x) + 7, little-endian. Step mappings
act on whole lanes; each names the bit-level formula of FIPS 202 3.2 it computes.
"""

from __future__ import annotations

W = 64  # FIPS 202 Table 1: b = 1600, w = 64, l = 6
LANE_MASK = (1 << W) - 1
B_BITS = 1600  # FIPS 202 3: width b of KECCAK-p[1600, 24]
NR = 24  # FIPS 202 5.2: KECCAK[c] = SPONGE[KECCAK-p[1600, 24], pad10*1, 1600 - c]

# FIPS 202 3.2.2 Table 2: offsets of rho, (t+1)(t+2)/2 mod 64, here indexed RHO_OFFSETS[x][y]
# (Table 2 prints the columns x = 3, 4, 0, 1, 2 and rows y = 2, 1, 0, 4, 3; tests re-derive it).
RHO_OFFSETS = (
    (0, 36, 3, 41, 18),  # x = 0, y = 0..4
    (1, 44, 10, 45, 2),  # x = 1
    (62, 6, 43, 15, 61),  # x = 2
    (28, 55, 25, 21, 56),  # x = 3
    (27, 20, 39, 8, 14),  # x = 4
)

# FIPS 202 3.2.5: the round constant RC of round i_r for w = 64, bit 2^j - 1 being rc(j + 7 i_r)
# of Algorithm 5 (tests re-derive each from the LFSR of Algorithm 5).
ROUND_CONSTANTS = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip

State = list[list[int]]


def rot(lane: int, n: int) -> int:
    """Spec: FIPS-202 3.2.1,3.2.2 - a lane with bit z moved to bit (z + n) mod w (index z - n)."""
    n %= W
    return ((lane << n) | (lane >> (W - n))) & LANE_MASK


def theta(a: State) -> State:
    """Spec: FIPS-202 3.2.1 - Algorithm 1 theta(A).

    (1) C[x] = A[x,0] XOR .. XOR A[x,4]; (2) D[x,z] = C[(x-1) mod 5, z] XOR
    C[(x+1) mod 5, (z-1) mod w]; (3) A'[x,y,z] = A[x,y,z] XOR D[x,z].
    """
    c = [a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4] for x in range(5)]  # (1)
    d = [c[(x - 1) % 5] ^ rot(c[(x + 1) % 5], 1) for x in range(5)]  # (2)
    return [[a[x][y] ^ d[x] for y in range(5)] for x in range(5)]  # (3)


def rho(a: State) -> State:
    """Spec: FIPS-202 3.2.2 - Algorithm 2 rho(A): A'[x,y,z] = A[x,y,(z - (t+1)(t+2)/2) mod w].

    The offset of each lane is Table 2 (A'[0,0] = A[0,0], offset 0).
    """
    return [[rot(a[x][y], RHO_OFFSETS[x][y]) for y in range(5)] for x in range(5)]


def pi(a: State) -> State:
    """Spec: FIPS-202 3.2.3 - Algorithm 3 pi(A): A'[x,y,z] = A[(x + 3y) mod 5, x, z]."""
    return [[a[(x + 3 * y) % 5][x] for y in range(5)] for x in range(5)]


def chi(a: State) -> State:
    """Spec: FIPS-202 3.2.4 - Algorithm 4 chi(A).

    A'[x,y,z] = A[x,y,z] XOR ((A[(x+1) mod 5, y, z] XOR 1) AND A[(x+2) mod 5, y, z]).
    """
    return [
        [a[x][y] ^ ((a[(x + 1) % 5][y] ^ LANE_MASK) & a[(x + 2) % 5][y]) for y in range(5)]
        for x in range(5)
    ]


def iota(a: State, i_r: int) -> State:
    """Spec: FIPS-202 3.2.5 - Algorithm 6 iota(A, i_r): A'[0,0] = A[0,0] XOR RC."""
    out = [list(column) for column in a]
    out[0][0] ^= ROUND_CONSTANTS[i_r]
    return out


def keccak_p(a: State) -> State:
    """Spec: FIPS-202 3.3,3.4 - Algorithm 7 KECCAK-p[1600, 24] = KECCAK-f[1600].

    Rnd(A, i_r) = iota(chi(pi(rho(theta(A)))), i_r) for i_r = 12 + 2l - n_r .. 12 + 2l - 1,
    which for l = 6, n_r = 24 is 0 .. 23.
    """
    for i_r in range(NR):
        a = iota(chi(pi(rho(theta(a)))), i_r)
    return a


def absorb_block(a: State, block: bytes) -> State:
    """Spec: FIPS-202 4 - Algorithm 8 step 6: S XOR (P_i || 0^c), with strings mapped as in B.1."""
    out = [list(column) for column in a]
    for i in range(len(block) // 8):  # lane i of the string is (x, y) = (i mod 5, i div 5)
        out[i % 5][i // 5] ^= int.from_bytes(block[8 * i : 8 * i + 8], "little")
    return out


def state_bytes(a: State) -> bytes:
    """Spec: FIPS-202 3.1.3,B.1 - the state as a byte string, lanes (x, y) in order 5y + x."""
    return b"".join(a[i % 5][i // 5].to_bytes(8, "little") for i in range(25))


def pad_sha3(message: bytes, rate_bytes: int) -> bytes:
    """Spec: FIPS-202 6.1,5.1,B.2 - M || 01 then pad10*1 (Algorithm 9), in bytes.

    pad10*1(x, m) = 1 || 0^j || 1, j = (-m - 2) mod x. For a byte-aligned M the suffix 01 and
    the first padding bit fill the byte 0x06 (bits taken least significant first, B.1); the
    last bit is 0x80 of the final byte; with one byte left the two overlap as 0x86.
    """
    q = rate_bytes - (len(message) % rate_bytes)  # B.2: number of padding bytes, 1 <= q <= r/8
    if q == 1:
        return message + b"\x86"
    return message + b"\x06" + b"\x00" * (q - 2) + b"\x80"


def keccak_sha3(message: bytes, capacity_bits: int, digest_bits: int) -> bytes:
    """Spec: FIPS-202 6.1,4 - SHA3-d(M) = KECCAK[c](M || 01, d), the sponge (Algorithm 8).

    (1)-(2) P = N || pad(r, len(N)), n = len(P)/r; (3) c = b - r; (4) split P into P_0..P_n-1;
    (5) S = 0^b; (6) absorb each P_i with f; (7) Z empty; (8) Z = Z || Trunc_r(S);
    (9) return Trunc_d(Z) when d <= |Z|; (10) else S = f(S) and go to (8).
    """
    rate_bytes = (B_BITS - capacity_bits) // 8  # (3) r = b - c
    padded = pad_sha3(message, rate_bytes)  # (1)-(2)
    state: State = [[0] * 5 for _ in range(5)]  # (5)
    for start in range(0, len(padded), rate_bytes):  # (4) and (6)
        state = keccak_p(absorb_block(state, padded[start : start + rate_bytes]))
    z = b""  # (7)
    while True:
        z += state_bytes(state)[:rate_bytes]  # (8)
        if digest_bits <= 8 * len(z):  # (9)
            return z[: digest_bits // 8]
        state = keccak_p(state)  # (10)


def sha3_256(message: bytes) -> bytes:
    """Spec: FIPS-202 6.1 - SHA3-256(M) = KECCAK[512](M || 01, 256)."""
    return keccak_sha3(message, 512, 256)


def sha3_384(message: bytes) -> bytes:
    """Spec: FIPS-202 6.1 - SHA3-384(M) = KECCAK[768](M || 01, 384)."""
    return keccak_sha3(message, 768, 384)


def sha3_512(message: bytes) -> bytes:
    """Spec: FIPS-202 6.1 - SHA3-512(M) = KECCAK[1024](M || 01, 512)."""
    return keccak_sha3(message, 1024, 512)
