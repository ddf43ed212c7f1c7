"""RSA signatures: RSASSA-PKCS1-v1_5 and RSASSA-PSS, and deterministic test keys.

Spec: RFC-8017 5.2, 8.1, 8.2, 9.1, 9.2, B.2.1 - PKCS #1 v2.2 signature primitives,
schemes, encodings and MGF1.

Verification never raises for bad signature values (wrong length, representative out
of range, bad encoding, a hash other than SHA-1/256/384/512): it returns False.
`rsa_generate` makes keys for test vectors only, deterministically from a seed (see its
docstring); it is not a FIPS 186-5 key generation and its keys protect nothing.
Private module; names and signatures fixed by docs/adr/0004-quote-contract.md.
"""

from __future__ import annotations

from math import gcd, lcm
from typing import Final

from chainoftrust.spec import _der
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size

#: RFC 8017 9.1 / 9.2 Note 1: the hash functions this module signs and verifies with.
HASHES: Final = frozenset({HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384, HashAlg.SHA512})
#: Public exponent of generated keys (F4 = 2^16 + 1).
PUBLIC_EXPONENT: Final = 65537
#: Odd primes below 2000, for trial division of prime candidates (a speed-up only).
_SMALL_PRIMES: Final = tuple(
    p for p in range(3, 2000, 2) if all(p % q for q in range(3, int(p**0.5) + 1, 2))
)
#: Miller-Rabin rounds per candidate: error at most 4^-40 for any composite.
_MR_ROUNDS: Final = 40


def _modulus_octets(n: int) -> int:
    """RFC 8017 2: k, the length in octets of the modulus n."""
    return (n.bit_length() + 7) // 8


def i2osp(x: int, length: int) -> bytes | None:
    """Spec: RFC-8017 4.1 - I2OSP: x as `length` big-endian octets; None if x >= 256^length."""
    if x < 0 or x >= 256**length:
        return None
    return x.to_bytes(length, "big")


def rsavp1(n: int, e: int, s: int) -> int | None:
    """Spec: RFC-8017 5.2.2 - RSAVP1: m = s^e mod n; None when s is not in [0, n-1]."""
    if not 0 <= s < n:
        return None
    return pow(s, e, n)


def rsasp1(n: int, d: int, m: int) -> int:
    """Spec: RFC-8017 5.2.1 - RSASP1: s = m^d mod n (m in [0, n-1])."""
    if not 0 <= m < n:
        raise MalformedInputError(ErrorCode.INVALID_KEY, "message representative out of range")
    return pow(m, d, n)


def emsa_pkcs1_v15_encode(hash_alg: int, message: bytes, em_len: int) -> bytes | None:
    """Spec: RFC-8017 9.2 - EMSA-PKCS1-v1_5-ENCODE: 0x00 || 0x01 || PS || 0x00 || T.

    Steps: (1) H = Hash(M); (2) T = DigestInfo(H); (3) emLen < tLen + 11 -> None;
    (4) PS = emLen - tLen - 3 octets 0xff; (5) EM = 0x00 || 0x01 || PS || 0x00 || T.
    """
    # (1)-(2)
    t = _der.digest_info(hash_alg, compute_digest(HashAlg(hash_alg), message))
    # (3)
    if em_len < len(t) + 11:
        return None
    # (4)-(5)
    return b"\x00\x01" + b"\xff" * (em_len - len(t) - 3) + b"\x00" + t


def rsa_verify_pkcs1v15(n: int, e: int, hash_alg: int, message: bytes, signature: bytes) -> bool:
    """Spec: RFC-8017 8.2.2 - RSASSA-PKCS1-V1_5-VERIFY.

    Steps: (1) len(S) = k, else False; (2) s = OS2IP(S), m = RSAVP1(s) (False if s >= n),
    EM = I2OSP(m, k); (3) EM' = EMSA-PKCS1-v1_5-ENCODE(M, k); (4) valid iff EM == EM'.
    """
    if hash_alg not in HASHES or n < 3:
        return False
    k = _modulus_octets(n)
    # (1)
    if len(signature) != k:
        return False
    # (2)
    m = rsavp1(n, e, int.from_bytes(signature, "big"))
    if m is None:
        return False
    em = i2osp(m, k)
    # (3)-(4)
    expected = emsa_pkcs1_v15_encode(hash_alg, message, k)
    return em is not None and expected is not None and em == expected


def rsa_sign_pkcs1v15(n: int, d: int, hash_alg: int, message: bytes) -> bytes:
    """Spec: RFC-8017 8.2.1 - RSASSA-PKCS1-V1_5-SIGN: S = I2OSP(RSASP1(OS2IP(EM)), k)."""
    k = _modulus_octets(n)
    em = emsa_pkcs1_v15_encode(hash_alg, message, k) if hash_alg in HASHES else None
    if em is None:
        raise MalformedInputError(ErrorCode.INVALID_KEY, "modulus too short or hash unknown")
    return rsasp1(n, d, int.from_bytes(em, "big")).to_bytes(k, "big")


def mgf1(hash_alg: int, seed: bytes, mask_len: int) -> bytes:
    """Spec: RFC-8017 B.2.1 - MGF1: the first maskLen octets of
    Hash(seed || I2OSP(0, 4)) || Hash(seed || I2OSP(1, 4)) || ..."""
    alg = HashAlg(hash_alg)
    blocks = -(-mask_len // digest_size(alg))
    t = b"".join(compute_digest(alg, seed + c.to_bytes(4, "big")) for c in range(blocks))
    return t[:mask_len]


def emsa_pss_encode(hash_alg: int, message: bytes, em_bits: int, salt: bytes) -> bytes:
    """Spec: RFC-8017 9.1.1 - EMSA-PSS-ENCODE with MGF1 of the same hash and the given salt.

    Steps: (2) mHash = Hash(M); (3) emLen < hLen + sLen + 2 -> error;
    (5)-(6) H = Hash(0x00 * 8 || mHash || salt); (7)-(8) DB = PS || 0x01 || salt;
    (9)-(10) maskedDB = DB xor MGF(H, emLen - hLen - 1); (11) clear the leftmost
    8 emLen - emBits bits; (12) EM = maskedDB || H || 0xbc.
    """
    alg = HashAlg(hash_alg)
    h_len, em_len = digest_size(alg), -(-em_bits // 8)
    # (2)-(3)
    m_hash = compute_digest(alg, message)
    if em_len < h_len + len(salt) + 2:
        raise MalformedInputError(ErrorCode.INVALID_KEY, "encoding error: emLen too short")
    # (5)-(6)
    h = compute_digest(alg, b"\x00" * 8 + m_hash + salt)
    # (7)-(8)
    db = b"\x00" * (em_len - len(salt) - h_len - 2) + b"\x01" + salt
    # (9)-(10)
    masked = bytes(a ^ b for a, b in zip(db, mgf1(alg, h, em_len - h_len - 1), strict=True))
    # (11)
    masked = bytes([masked[0] & (0xFF >> (8 * em_len - em_bits))]) + masked[1:]
    # (12)
    return masked + h + b"\xbc"


def emsa_pss_verify(hash_alg: int, message: bytes, em: bytes, em_bits: int) -> bool:
    """Spec: RFC-8017 9.1.2 - EMSA-PSS-VERIFY, the salt length recovered from EM.

    Steps: (2) mHash = Hash(M); (3) emLen < hLen + 2 -> inconsistent; (4) last octet
    0xbc; (5) maskedDB, H; (6) the leftmost 8 emLen - emBits bits of maskedDB are 0;
    (7)-(9) DB = maskedDB xor MGF(H, ...), leftmost bits cleared; (10) DB = 0x00 ...
    0x00 || 0x01 || salt (the first non-zero octet is 0x01: this fixes sLen); (11) salt;
    (12)-(14) consistent iff H == Hash(0x00 * 8 || mHash || salt).
    """
    alg = HashAlg(hash_alg)
    h_len, em_len = digest_size(alg), -(-em_bits // 8)
    # (2)-(4)
    m_hash = compute_digest(alg, message)
    if len(em) != em_len or em_len < h_len + 2 or em[-1] != 0xBC:
        return False
    # (5)-(6)
    masked, h = em[: em_len - h_len - 1], em[em_len - h_len - 1 : -1]
    top = 0xFF >> (8 * em_len - em_bits)
    if masked[0] & ~top & 0xFF:
        return False
    # (7)-(9)
    db = bytes(a ^ b for a, b in zip(masked, mgf1(alg, h, len(masked)), strict=True))
    db = bytes([db[0] & top]) + db[1:]
    # (10)-(11)
    rest = db.lstrip(b"\x00")
    if not rest or rest[0] != 0x01:
        return False
    salt = rest[1:]
    # (12)-(14)
    return compute_digest(alg, b"\x00" * 8 + m_hash + salt) == h


def rsa_verify_pss(n: int, e: int, hash_alg: int, message: bytes, signature: bytes) -> bool:
    """Spec: RFC-8017 8.1.2 - RSASSA-PSS-VERIFY (MGF1 with the same hash, any salt length).

    Steps: (1) len(S) = k; (2) m = RSAVP1(OS2IP(S)) (False if s >= n); emLen =
    ceil((modBits - 1) / 8); EM = I2OSP(m, emLen) (False if m does not fit);
    (3) EMSA-PSS-VERIFY(M, EM, modBits - 1).
    """
    if hash_alg not in HASHES or n < 3:
        return False
    k, em_bits = _modulus_octets(n), n.bit_length() - 1
    # (1)
    if len(signature) != k:
        return False
    # (2)
    m = rsavp1(n, e, int.from_bytes(signature, "big"))
    em = None if m is None else i2osp(m, -(-em_bits // 8))
    # (3)
    return em is not None and emsa_pss_verify(hash_alg, message, em, em_bits)


def rsa_sign_pss(n: int, d: int, hash_alg: int, message: bytes, salt: bytes) -> bytes:
    """Spec: RFC-8017 8.1.1 - RSASSA-PSS-SIGN: EM = EMSA-PSS-ENCODE(M, modBits - 1) with the
    given salt; S = I2OSP(RSASP1(OS2IP(EM)), k)."""
    if hash_alg not in HASHES:
        raise MalformedInputError(ErrorCode.UNKNOWN_ALGORITHM, f"hash {hash_alg!r} not usable")
    em = emsa_pss_encode(hash_alg, message, n.bit_length() - 1, salt)
    return rsasp1(n, d, int.from_bytes(em, "big")).to_bytes(_modulus_octets(n), "big")


class _Stream:
    """The octet stream SHA-256(seed || I2OSP(0, 4)) || SHA-256(seed || I2OSP(1, 4)) || ..."""

    def __init__(self, seed: bytes) -> None:
        self.seed = seed
        self.counter = 0
        self.buffer = b""

    def take(self, count: int) -> bytes:
        """The next `count` octets of the stream."""
        while len(self.buffer) < count:
            block = self.seed + self.counter.to_bytes(4, "big")
            self.buffer += compute_digest(HashAlg.SHA256, block)
            self.counter += 1
        out, self.buffer = self.buffer[:count], self.buffer[count:]
        return out


def _is_probable_prime(candidate: int, stream: _Stream) -> bool:
    """Spec: FIPS-186-5 B.3.1 - Miller-Rabin probabilistic primality test, with the bases
    drawn from the stream: b = 2 + (stream integer mod (w - 3)), _MR_ROUNDS rounds.
    Trial division by the odd primes below 2000 comes first (a speed-up only)."""
    if any(candidate % p == 0 for p in _SMALL_PRIMES):
        return candidate in _SMALL_PRIMES
    # (1)-(2) w - 1 = 2^a m with m odd
    a, m = 0, candidate - 1
    while m % 2 == 0:
        a, m = a + 1, m // 2
    size = (candidate.bit_length() + 7) // 8 + 8
    for _ in range(_MR_ROUNDS):
        # (4.1)-(4.2) a base in [2, w-2]
        b = 2 + int.from_bytes(stream.take(size), "big") % (candidate - 3)
        # (4.3)-(4.7)
        z = pow(b, m, candidate)
        if z in (1, candidate - 1):
            continue
        for _ in range(a - 1):
            z = z * z % candidate
            if z == candidate - 1:
                break
        else:
            return False
    return True


def _prime(stream: _Stream, bits: int) -> int:
    """A prime of exactly `bits` bits with its two top bits set, p - 1 prime to e.

    Candidates are the next bits/8 octets of the stream with the two top bits and the low
    bit set; the first that passes trial division and Miller-Rabin (bases from the same
    stream) and has GCD(p - 1, e) = 1 is taken.
    """
    while True:
        raw = int.from_bytes(stream.take(bits // 8), "big")
        candidate = raw | (3 << (bits - 2)) | 1
        if gcd(candidate - 1, PUBLIC_EXPONENT) == 1 and _is_probable_prime(candidate, stream):
            return candidate


def rsa_generate(bits: int, seed: bytes) -> tuple[int, int, int]:
    """Spec: RFC-8017 3.1, 3.2 - a deterministic RSA key (n, e, d) from a seed, for vectors.

    Steps:
      (1) bits is a multiple of 16, at least 512 (each prime is bits/2 bits, whole octets);
      (2) one octet stream: SHA-256(seed || I2OSP(counter, 4)) for counter = 0, 1, ...;
      (3) p = the first prime candidate from the stream (see _prime: top two bits set, so
          n = p q has exactly `bits` bits; Miller-Rabin bases from the same stream);
      (4) q = the next one, q != p;
      (5) n = p q, e = 65537, d = e^-1 mod lcm(p - 1, q - 1) (RFC 8017 3.1, 3.2 (1)).
    The same (bits, seed) always gives the same key. Not FIPS 186-5 A.1.3: no |p - q|
    bound, no auxiliary primes; test keys only.
    """
    # (1)
    if bits % 16 or bits < 512:
        raise MalformedInputError(ErrorCode.INVALID_KEY, f"{bits} bits: need a multiple of 16")
    # (2)
    stream = _Stream(seed)
    # (3)
    p = _prime(stream, bits // 2)
    # (4)
    q = _prime(stream, bits // 2)
    while q == p:
        q = _prime(stream, bits // 2)
    # (5)
    d = pow(PUBLIC_EXPONENT, -1, lcm(p - 1, q - 1))
    return p * q, PUBLIC_EXPONENT, d
