"""FIPS 180-4 Secure Hash Standard: SHA-1, SHA-256, SHA-384, SHA-512, step by step.

Spec: FIPS-180-4 6 - Secure Hash Algorithms (Secure Hash Standard, August 2015).

Every function names the section it encodes. Words are Python ints kept in
range by masking after each addition ("addition modulo 2^w", FIPS 180-4 3.2).
Messages are byte strings, so the message length l is a multiple of 8 bits.
Speed is not the point: the code follows the standard's text, one step a line.
"""

from __future__ import annotations

MASK32 = 0xFFFFFFFF  # FIPS 180-4 3.2: 32-bit words, addition modulo 2^32
MASK64 = 0xFFFFFFFFFFFFFFFF  # FIPS 180-4 3.2: 64-bit words, addition modulo 2^64

# FIPS 180-4 4.2.1 SHA-1 Constants: K_t for 0<=t<=19, 20<=t<=39, 40<=t<=59, 60<=t<=79.
SHA1_K = (0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6)

# FIPS 180-4 4.2.2 SHA-224 and SHA-256 Constants: K_0{256} .. K_63{256}, the first 32 bits
# of the fractional parts of the cube roots of the first 64 primes (tests re-derive them).
SHA256_K = (
    0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4, 0xAB1C5ED5,
    0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE, 0x9BDC06A7, 0xC19BF174,
    0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F, 0x4A7484AA, 0x5CB0A9DC, 0x76F988DA,
    0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7, 0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967,
    0x27B70A85, 0x2E1B2138, 0x4D2C6DFC, 0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85,
    0xA2BFE8A1, 0xA81A664B, 0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070,
    0x19A4C116, 0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
    0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7, 0xC67178F2,
)  # fmt: skip

# FIPS 180-4 4.2.3 SHA-384, SHA-512, SHA-512/224 and SHA-512/256 Constants: K_0{512} ..
# K_79{512}, the first 64 bits of the fractional parts of the cube roots of the first 80 primes.
SHA512_K = (
    0x428A2F98D728AE22, 0x7137449123EF65CD, 0xB5C0FBCFEC4D3B2F, 0xE9B5DBA58189DBBC,
    0x3956C25BF348B538, 0x59F111F1B605D019, 0x923F82A4AF194F9B, 0xAB1C5ED5DA6D8118,
    0xD807AA98A3030242, 0x12835B0145706FBE, 0x243185BE4EE4B28C, 0x550C7DC3D5FFB4E2,
    0x72BE5D74F27B896F, 0x80DEB1FE3B1696B1, 0x9BDC06A725C71235, 0xC19BF174CF692694,
    0xE49B69C19EF14AD2, 0xEFBE4786384F25E3, 0x0FC19DC68B8CD5B5, 0x240CA1CC77AC9C65,
    0x2DE92C6F592B0275, 0x4A7484AA6EA6E483, 0x5CB0A9DCBD41FBD4, 0x76F988DA831153B5,
    0x983E5152EE66DFAB, 0xA831C66D2DB43210, 0xB00327C898FB213F, 0xBF597FC7BEEF0EE4,
    0xC6E00BF33DA88FC2, 0xD5A79147930AA725, 0x06CA6351E003826F, 0x142929670A0E6E70,
    0x27B70A8546D22FFC, 0x2E1B21385C26C926, 0x4D2C6DFC5AC42AED, 0x53380D139D95B3DF,
    0x650A73548BAF63DE, 0x766A0ABB3C77B2A8, 0x81C2C92E47EDAEE6, 0x92722C851482353B,
    0xA2BFE8A14CF10364, 0xA81A664BBC423001, 0xC24B8B70D0F89791, 0xC76C51A30654BE30,
    0xD192E819D6EF5218, 0xD69906245565A910, 0xF40E35855771202A, 0x106AA07032BBD1B8,
    0x19A4C116B8D2D0C8, 0x1E376C085141AB53, 0x2748774CDF8EEB99, 0x34B0BCB5E19B48A8,
    0x391C0CB3C5C95A63, 0x4ED8AA4AE3418ACB, 0x5B9CCA4F7763E373, 0x682E6FF3D6B2B8A3,
    0x748F82EE5DEFB2FC, 0x78A5636F43172F60, 0x84C87814A1F0AB72, 0x8CC702081A6439EC,
    0x90BEFFFA23631E28, 0xA4506CEBDE82BDE9, 0xBEF9A3F7B2C67915, 0xC67178F2E372532B,
    0xCA273ECEEA26619C, 0xD186B8C721C0C207, 0xEADA7DD6CDE0EB1E, 0xF57D4F7FEE6ED178,
    0x06F067AA72176FBA, 0x0A637DC5A2C898A6, 0x113F9804BEF90DAE, 0x1B710B35131C471B,
    0x28DB77F523047D84, 0x32CAAB7B40C72493, 0x3C9EBE0A15C9BEBC, 0x431D67C49C100D4C,
    0x4CC5D4BECB3E42B6, 0x597F299CFC657E2A, 0x5FCB6FAB3AD6FAEC, 0x6C44198C4A475817,
)  # fmt: skip

# FIPS 180-4 5.3.1 SHA-1 initial hash value H^(0).
SHA1_H0 = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0)

# FIPS 180-4 5.3.3 SHA-256 initial hash value H^(0): first 32 bits of the fractional parts of
# the square roots of the first 8 primes.
SHA256_H0 = (
    0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19,
)  # fmt: skip

# FIPS 180-4 5.3.4 SHA-384 initial hash value H^(0): first 64 bits of the fractional parts of
# the square roots of the ninth through sixteenth primes.
SHA384_H0 = (
    0xCBBB9D5DC1059ED8, 0x629A292A367CD507, 0x9159015A3070DD17, 0x152FECD8F70E5939,
    0x67332667FFC00B31, 0x8EB44A8768581511, 0xDB0C2E0D64F98FA7, 0x47B5481DBEFA4FA4,
)  # fmt: skip

# FIPS 180-4 5.3.5 SHA-512 initial hash value H^(0): first 64 bits of the fractional parts of
# the square roots of the first 8 primes.
SHA512_H0 = (
    0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
    0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
)  # fmt: skip


# --- FIPS 180-4 3.2 Operations on Words -------------------------------------------------------


def rotl32(x: int, n: int) -> int:
    """Spec: FIPS-180-4 3.2(4) - ROTL^n(x) = (x << n) OR (x >> w - n), w = 32."""
    return ((x << n) | (x >> (32 - n))) & MASK32


def rotr32(x: int, n: int) -> int:
    """Spec: FIPS-180-4 3.2(5) - ROTR^n(x) = (x >> n) OR (x << w - n), w = 32."""
    return ((x >> n) | (x << (32 - n))) & MASK32


def rotr64(x: int, n: int) -> int:
    """Spec: FIPS-180-4 3.2(5) - ROTR^n(x) = (x >> n) OR (x << w - n), w = 64."""
    return ((x >> n) | (x << (64 - n))) & MASK64


# --- FIPS 180-4 4.1 Functions ------------------------------------------------------------------


def ch(x: int, y: int, z: int, mask: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.2),4.1.3(4.8) - Ch(x, y, z) = (x AND y) XOR (NOT x AND z)."""
    return (x & y) ^ ((x ^ mask) & z)


def parity(x: int, y: int, z: int) -> int:
    """Spec: FIPS-180-4 4.1.1(4.1) - Parity(x, y, z) = x XOR y XOR z."""
    return x ^ y ^ z


def maj(x: int, y: int, z: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.3),4.1.3(4.9) - Maj = (x AND y) XOR (x AND z) XOR (y AND z)."""
    return (x & y) ^ (x & z) ^ (y & z)


def sha1_f(t: int, x: int, y: int, z: int) -> int:
    """Spec: FIPS-180-4 4.1.1(4.1) - f_t is Ch (0..19), Parity (20..39, 60..79), Maj (40..59)."""
    if t <= 19:
        return ch(x, y, z, MASK32)
    if 40 <= t <= 59:
        return maj(x, y, z)
    return parity(x, y, z)


def big_sigma0_256(x: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.4) - SIGMA0{256}(x) = ROTR^2 XOR ROTR^13 XOR ROTR^22."""
    return rotr32(x, 2) ^ rotr32(x, 13) ^ rotr32(x, 22)


def big_sigma1_256(x: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.5) - SIGMA1{256}(x) = ROTR^6 XOR ROTR^11 XOR ROTR^25."""
    return rotr32(x, 6) ^ rotr32(x, 11) ^ rotr32(x, 25)


def small_sigma0_256(x: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.6) - sigma0{256}(x) = ROTR^7 XOR ROTR^18 XOR SHR^3."""
    return rotr32(x, 7) ^ rotr32(x, 18) ^ (x >> 3)


def small_sigma1_256(x: int) -> int:
    """Spec: FIPS-180-4 4.1.2(4.7) - sigma1{256}(x) = ROTR^17 XOR ROTR^19 XOR SHR^10."""
    return rotr32(x, 17) ^ rotr32(x, 19) ^ (x >> 10)


def big_sigma0_512(x: int) -> int:
    """Spec: FIPS-180-4 4.1.3(4.10) - SIGMA0{512}(x) = ROTR^28 XOR ROTR^34 XOR ROTR^39."""
    return rotr64(x, 28) ^ rotr64(x, 34) ^ rotr64(x, 39)


def big_sigma1_512(x: int) -> int:
    """Spec: FIPS-180-4 4.1.3(4.11) - SIGMA1{512}(x) = ROTR^14 XOR ROTR^18 XOR ROTR^41."""
    return rotr64(x, 14) ^ rotr64(x, 18) ^ rotr64(x, 41)


def small_sigma0_512(x: int) -> int:
    """Spec: FIPS-180-4 4.1.3(4.12) - sigma0{512}(x) = ROTR^1 XOR ROTR^8 XOR SHR^7."""
    return rotr64(x, 1) ^ rotr64(x, 8) ^ (x >> 7)


def small_sigma1_512(x: int) -> int:
    """Spec: FIPS-180-4 4.1.3(4.13) - sigma1{512}(x) = ROTR^19 XOR ROTR^61 XOR SHR^6."""
    return rotr64(x, 19) ^ rotr64(x, 61) ^ (x >> 6)


# --- FIPS 180-4 5 Preprocessing ----------------------------------------------------------------


def pad(message: bytes, block_bytes: int, length_bytes: int) -> bytes:
    """Spec: FIPS-180-4 5.1.1,5.1.2 - padding to 512-bit (1024-bit) blocks, 64 (128)-bit length.

    Append the bit "1", then k zero bits with l + 1 + k = 448 mod 512 (896 mod 1024), then
    l, the message length in bits, as a big-endian integer of 64 (128) bits. With l a multiple
    of 8 the "1" bit and the first seven zero bits are the byte 0x80.
    """
    length_bits = 8 * len(message)
    # k/8 zero bytes: the smallest k >= 0 with l + 1 + k = 448 mod 512 (896 mod 1024), in bytes
    zero_bytes = (block_bytes - length_bytes - (len(message) + 1)) % block_bytes
    return message + b"\x80" + b"\x00" * zero_bytes + length_bits.to_bytes(length_bytes, "big")


def parse(padded: bytes, block_bytes: int, word_bytes: int) -> list[list[int]]:
    """Spec: FIPS-180-4 5.2.1,5.2.2 - N blocks M^(i), each sixteen big-endian words M_j^(i)."""
    blocks = []
    for start in range(0, len(padded), block_bytes):
        block = padded[start : start + block_bytes]
        words = [
            int.from_bytes(block[j : j + word_bytes], "big")
            for j in range(0, block_bytes, word_bytes)
        ]
        blocks.append(words)
    return blocks


# --- FIPS 180-4 6 Secure Hash Algorithms -------------------------------------------------------


def sha1(message: bytes) -> bytes:
    """Spec: FIPS-180-4 6.1.2 - SHA-1 Hash Computation (after 5.1.1 padding, 5.2.1 parsing).

    For each block: (1) prepare the message schedule W_0..W_79; (2) initialise a..e with
    H^(i-1); (3) 80 rounds; (4) H^(i) = H^(i-1) + a..e. The digest is H_0..H_4 big-endian.
    """
    h = list(SHA1_H0)
    for m in parse(pad(message, 64, 8), 64, 4):
        # (1) W_t = M_t for t <= 15, else ROTL^1(W_t-3 XOR W_t-8 XOR W_t-14 XOR W_t-16)
        w = list(m)
        for t in range(16, 80):
            w.append(rotl32(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1))
        # (2) the five working variables
        a, b, c, d, e = h
        # (3) T = ROTL^5(a) + f_t(b, c, d) + e + K_t + W_t; e=d; d=c; c=ROTL^30(b); b=a; a=T
        for t in range(80):
            temp = (rotl32(a, 5) + sha1_f(t, b, c, d) + e + SHA1_K[t // 20] + w[t]) & MASK32
            e, d, c, b, a = d, c, rotl32(b, 30), a, temp
        # (4) the i-th intermediate hash value
        h = [(x + y) & MASK32 for x, y in zip(h, (a, b, c, d, e), strict=True)]
    return b"".join(x.to_bytes(4, "big") for x in h)


def _sha256_block(h: list[int], m: list[int]) -> list[int]:
    """FIPS 180-4 6.2.2 steps 1-4 for one block M^(i): returns H^(i) from H^(i-1)."""
    # (1) W_t = M_t for t <= 15, else sigma1(W_t-2) + W_t-7 + sigma0(W_t-15) + W_t-16
    w = list(m)
    for t in range(16, 64):
        s = small_sigma1_256(w[t - 2]) + w[t - 7] + small_sigma0_256(w[t - 15]) + w[t - 16]
        w.append(s & MASK32)
    # (2) the eight working variables
    a, b, c, d, e, f, g, hh = h
    # (3) T1 = h + SIGMA1(e) + Ch(e,f,g) + K_t + W_t; T2 = SIGMA0(a) + Maj(a,b,c); shift
    for t in range(64):
        t1 = hh + big_sigma1_256(e) + ch(e, f, g, MASK32) + SHA256_K[t] + w[t]
        t2 = big_sigma0_256(a) + maj(a, b, c)
        hh, g, f, e = g, f, e, (d + t1) & MASK32
        d, c, b, a = c, b, a, (t1 + t2) & MASK32
    # (4) H_j^(i) = working variable + H_j^(i-1)
    return [(x + y) & MASK32 for x, y in zip(h, (a, b, c, d, e, f, g, hh), strict=True)]


def sha256(message: bytes) -> bytes:
    """Spec: FIPS-180-4 6.2 - SHA-256: 5.1.1 pad, 5.2.1 parse, H^(0) of 5.3.3, 6.2.2 per block.

    The digest is H_0^(N) || ... || H_7^(N), each word big-endian.
    """
    h = list(SHA256_H0)
    for m in parse(pad(message, 64, 8), 64, 4):
        h = _sha256_block(h, m)
    return b"".join(x.to_bytes(4, "big") for x in h)


def _sha512_block(h: list[int], m: list[int]) -> list[int]:
    """FIPS 180-4 6.4.2 steps 1-4 for one block M^(i): returns H^(i) from H^(i-1)."""
    # (1) W_t = M_t for t <= 15, else sigma1(W_t-2) + W_t-7 + sigma0(W_t-15) + W_t-16
    w = list(m)
    for t in range(16, 80):
        s = small_sigma1_512(w[t - 2]) + w[t - 7] + small_sigma0_512(w[t - 15]) + w[t - 16]
        w.append(s & MASK64)
    # (2) the eight working variables
    a, b, c, d, e, f, g, hh = h
    # (3) T1 = h + SIGMA1(e) + Ch(e,f,g) + K_t + W_t; T2 = SIGMA0(a) + Maj(a,b,c); shift
    for t in range(80):
        t1 = hh + big_sigma1_512(e) + ch(e, f, g, MASK64) + SHA512_K[t] + w[t]
        t2 = big_sigma0_512(a) + maj(a, b, c)
        hh, g, f, e = g, f, e, (d + t1) & MASK64
        d, c, b, a = c, b, a, (t1 + t2) & MASK64
    # (4) H_j^(i) = working variable + H_j^(i-1)
    return [(x + y) & MASK64 for x, y in zip(h, (a, b, c, d, e, f, g, hh), strict=True)]


def sha512(message: bytes) -> bytes:
    """Spec: FIPS-180-4 6.4 - SHA-512: 5.1.2 pad, 5.2.2 parse, H^(0) of 5.3.5, 6.4.2 per block.

    The digest is H_0^(N) || ... || H_7^(N), each word big-endian.
    """
    h = list(SHA512_H0)
    for m in parse(pad(message, 128, 16), 128, 8):
        h = _sha512_block(h, m)
    return b"".join(x.to_bytes(8, "big") for x in h)


def sha384(message: bytes) -> bytes:
    """Spec: FIPS-180-4 6.5 - SHA-384: as 6.4 with H^(0) of 5.3.4; the left-most 384 bits."""
    h = list(SHA384_H0)
    for m in parse(pad(message, 128, 16), 128, 8):
        h = _sha512_block(h, m)
    return b"".join(x.to_bytes(8, "big") for x in h[:6])
