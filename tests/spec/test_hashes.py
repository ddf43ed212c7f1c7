"""spec.hashes: the pure-Python digests against the standards' examples and against hashlib.

Expected values come from the standards' published examples (FIPS 180-4 / NIST CSRC
"Examples with Intermediate Values", FIPS 202 / NIST CSRC SHA-3 examples, GB/T 32905-2016
Appendix A) and from real third parties (hashlib, and pyca/cryptography for SM3 when the
local OpenSSL has no sm3 in hashlib). The round-constant tables are re-derived here from the
rules the standards state for them, independently of the code under test.
"""

from __future__ import annotations

import hashlib
import math
import random

import pytest
from chainoftrust.spec import _sha2, _sha3, _sm3
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    compute_digest,
    digest_size,
    hash_alg_from_name,
    hash_alg_name,
)
from hypothesis import given
from hypothesis import strategies as st

# --- the third party ----------------------------------------------------------------------------

_HASHLIB_NAMES = {
    HashAlg.SHA1: "sha1",
    HashAlg.SHA256: "sha256",
    HashAlg.SHA384: "sha384",
    HashAlg.SHA512: "sha512",
    HashAlg.SM3_256: "sm3",
    HashAlg.SHA3_256: "sha3_256",
    HashAlg.SHA3_384: "sha3_384",
    HashAlg.SHA3_512: "sha3_512",
}


def _sm3_by_cryptography(data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes

    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def _hashlib_has_sm3() -> bool:
    try:
        hashlib.new("sm3", b"")
    except ValueError:
        return False
    return True


_HAS_SM3 = _hashlib_has_sm3()


def reference_digest(alg: HashAlg, data: bytes) -> bytes:
    """The digest by a real third party: hashlib, or pyca/cryptography for SM3 without it."""
    if alg == HashAlg.SM3_256 and not _HAS_SM3:
        return _sm3_by_cryptography(data)
    return hashlib.new(_HASHLIB_NAMES[alg], data).digest()


ALL_ALGS = list(HashAlg)

# --- known answers from the standards ------------------------------------------------------------

ABC = b"abc"
# FIPS 180-4 examples: the 448-bit two-block message (SHA-1, SHA-256) ...
MSG_448 = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
# ... and the 896-bit message (SHA-384, SHA-512).
MSG_896 = (
    b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
    b"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
)
# NIST SHA-3 examples: the 1600-bit message of 200 bytes 0xa3.
MSG_1600_A3 = b"\xa3" * 200
# GB/T 32905-2016 Appendix A.2: the 512-bit message "abcd" repeated 16 times.
MSG_ABCD16 = b"abcd" * 16
MILLION_A = b"a" * 1_000_000

KNOWN_ANSWERS = [
    # FIPS 180-4 / NIST CSRC examples: SHA1.pdf, SHA256.pdf, SHA384.pdf, SHA512.pdf
    (HashAlg.SHA1, ABC, "a9993e364706816aba3e25717850c26c9cd0d89d"),
    (HashAlg.SHA1, MSG_448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
    (
        HashAlg.SHA256,
        ABC,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    (
        HashAlg.SHA256,
        MSG_448,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ),
    (
        HashAlg.SHA384,
        ABC,
        "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded163"
        "1a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7",
    ),
    (
        HashAlg.SHA384,
        MSG_896,
        "09330c33f71147e83d192fc782cd1b4753111b173b3b05d2"
        "2fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039",
    ),
    (
        HashAlg.SHA512,
        ABC,
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    ),
    (
        HashAlg.SHA512,
        MSG_896,
        "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
        "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909",
    ),
    # FIPS 202 / NIST CSRC SHA-3 examples: the empty message (SHA3-*_Msg0) ...
    (
        HashAlg.SHA3_256,
        b"",
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
    ),
    (
        HashAlg.SHA3_384,
        b"",
        "0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61"
        "995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004",
    ),
    (
        HashAlg.SHA3_512,
        b"",
        "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
        "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
    ),
    # ... "abc" (NIST CSRC "Example Values" for SHA-3) ...
    (
        HashAlg.SHA3_256,
        ABC,
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
    ),
    (
        HashAlg.SHA3_384,
        ABC,
        "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c25"
        "96da7cf0e49be4b298d88cea927ac7f539f1edf228376d25",
    ),
    (
        HashAlg.SHA3_512,
        ABC,
        "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
        "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
    ),
    # ... and the 1600-bit message (SHA3-*_1600)
    (
        HashAlg.SHA3_256,
        MSG_1600_A3,
        "79f38adec5c20307a98ef76e8324afbfd46cfd81b22e3973c65fa1bd9de31787",
    ),
    (
        HashAlg.SHA3_384,
        MSG_1600_A3,
        "1881de2ca7e41ef95dc4732b8f5f002b189cc1e42b74168e"
        "d1732649ce1dbcdd76197a31fd55ee989f2d7050dd473e8f",
    ),
    (
        HashAlg.SHA3_512,
        MSG_1600_A3,
        "e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca8"
        "1b7c13c30adf52a3659584739a2df46be589c51ca1a4a8416df6545a1ce8ba00",
    ),
    # GB/T 32905-2016 Appendix A.1 ("abc") and A.2 ("abcd" x 16)
    (
        HashAlg.SM3_256,
        ABC,
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    ),
    (
        HashAlg.SM3_256,
        MSG_ABCD16,
        "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
    ),
]


@pytest.mark.parametrize(
    ("alg", "message", "expected"),
    KNOWN_ANSWERS,
    ids=[f"{alg.name}-{len(msg)}B" for alg, msg, _ in KNOWN_ANSWERS],
)
def test_known_answer_from_the_standard(alg: HashAlg, message: bytes, expected: str) -> None:
    assert compute_digest(alg, message).hex() == expected


MILLION_A_ANSWERS = [
    # FIPS 180-4 / NIST CSRC examples: one million repetitions of "a"
    pytest.param(HashAlg.SHA1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f", id="SHA1"),
    pytest.param(
        HashAlg.SHA256,
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        id="SHA256",
    ),
    pytest.param(
        HashAlg.SHA384,
        "9d0e1809716474cb086e834e310a4a1ced149e9c00f24852"
        "7972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985",
        id="SHA384",
    ),
    pytest.param(
        HashAlg.SHA512,
        "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
        "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b",
        id="SHA512",
    ),
    # NIST CSRC SHA-3 example values (one million "a"); > 5 s in pure Python, hence slow
    pytest.param(
        HashAlg.SHA3_256,
        "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1",
        id="SHA3_256",
        marks=pytest.mark.slow,
    ),
]


@pytest.mark.parametrize(("alg", "expected"), MILLION_A_ANSWERS)
def test_known_answer_one_million_a(alg: HashAlg, expected: str) -> None:
    assert compute_digest(alg, MILLION_A).hex() == expected


def test_known_answers_agree_with_the_third_party() -> None:
    """The transcribed expected values are themselves what hashlib computes."""
    for alg, message, expected in KNOWN_ANSWERS:
        assert reference_digest(alg, message).hex() == expected


# --- differential against hashlib ---------------------------------------------------------------


@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
def test_every_length_0_to_300_matches_hashlib(alg: HashAlg) -> None:
    """Every padding case: lengths 0..300 cross each block/rate boundary (64, 128, 72..136)."""
    rng = random.Random(int(alg))  # seeded: the same bytes on every run
    for length in range(301):
        data = rng.randbytes(length)
        assert compute_digest(alg, data) == reference_digest(alg, data), length


@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
@given(data=st.binary(max_size=700))
def test_digest_matches_hashlib(alg: HashAlg, data: bytes) -> None:
    assert compute_digest(alg, data) == reference_digest(alg, data)


@pytest.mark.parametrize("length", [10_000, 100_001])
@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
def test_long_message_matches_hashlib(alg: HashAlg, length: int) -> None:
    data = random.Random(length).randbytes(length)
    assert compute_digest(alg, data) == reference_digest(alg, data)


@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
def test_bytes_like_input_digests_its_bytes(alg: HashAlg) -> None:
    data = b"bytes-like input"
    expected = reference_digest(alg, data)
    assert compute_digest(alg, bytearray(data)) == expected  # type: ignore[arg-type]
    assert compute_digest(alg, memoryview(data)) == expected  # type: ignore[arg-type]


def test_sm3_agrees_with_both_third_parties() -> None:
    """hashlib's SM3 (OpenSSL) and pyca/cryptography's agree with the spec when both exist."""
    data = random.Random(32905).randbytes(1000)
    assert compute_digest(HashAlg.SM3_256, data) == _sm3_by_cryptography(data)
    if _HAS_SM3:
        assert hashlib.new("sm3", data).digest() == _sm3_by_cryptography(data)


# --- registry: ids, names, sizes ------------------------------------------------------------------

# TCG Algorithm Registry, TPM_ALG_ID: (value, tpm2-tools name, digest size in bytes).
REGISTRY = {
    "SHA1": (0x0004, "sha1", 20),
    "SHA256": (0x000B, "sha256", 32),
    "SHA384": (0x000C, "sha384", 48),
    "SHA512": (0x000D, "sha512", 64),
    "SM3_256": (0x0012, "sm3_256", 32),
    "SHA3_256": (0x0027, "sha3_256", 32),
    "SHA3_384": (0x0028, "sha3_384", 48),
    "SHA3_512": (0x0029, "sha3_512", 64),
}


def test_hash_algs_are_the_registry_ones() -> None:
    assert {alg.name: int(alg) for alg in HashAlg} == {k: v[0] for k, v in REGISTRY.items()}


@pytest.mark.parametrize("alg", ALL_ALGS, ids=lambda a: a.name)
def test_name_and_size_match_the_registry(alg: HashAlg) -> None:
    _, name, size = REGISTRY[alg.name]
    assert hash_alg_name(alg) == name
    assert hash_alg_from_name(name) is alg
    assert digest_size(alg) == size
    assert len(compute_digest(alg, b"")) == size
    assert size == hashlib.new(_HASHLIB_NAMES[alg]).digest_size


@pytest.mark.parametrize(
    "name",
    ["", "SHA256", "Sha1", "sha-256", "sha 256", " sha1", "sha1 ", "sm3", "sha224", "md5",
     "null", "sha3-256", "sha512_256", "shake256", "0x000b", "11", "sha256\x00"],
)  # fmt: skip
def test_invalid_unknown_name_is_rejected(name: str) -> None:
    with pytest.raises(MalformedInputError) as caught:
        hash_alg_from_name(name)
    assert caught.value.code == ErrorCode.UNKNOWN_ALGORITHM


@pytest.mark.parametrize("value", [0x0000, 0x0005, 0x0010, 0x0013, 0x002A, 0xFFFF, -4, True])
def test_invalid_unknown_alg_id_is_rejected(value: int) -> None:
    """TPM_ALG_HMAC, TPM_ALG_NULL, TPM_ALG_SM4, SHAKE128... are not hash banks: fail closed."""
    for function in (hash_alg_name, digest_size):
        with pytest.raises(MalformedInputError) as caught:
            function(value)  # type: ignore[arg-type]
        assert caught.value.code == ErrorCode.UNKNOWN_ALGORITHM
    with pytest.raises(MalformedInputError) as caught:
        compute_digest(value, b"")  # type: ignore[arg-type]
    assert caught.value.code == ErrorCode.UNKNOWN_ALGORITHM


def test_plain_int_ids_are_accepted() -> None:
    """A TPM_ALG_ID read off the wire as an int names the same algorithm."""
    assert digest_size(0x000B) == 32  # type: ignore[arg-type]
    assert compute_digest(0x0004, ABC) == compute_digest(HashAlg.SHA1, ABC)  # type: ignore[arg-type]


# --- the constant tables, re-derived from the standards' own rules ------------------------------


def _primes(count: int) -> list[int]:
    found: list[int] = []
    candidate = 2
    while len(found) < count:
        if all(candidate % p for p in found if p * p <= candidate):
            found.append(candidate)
        candidate += 1
    return found


def _icbrt(n: int) -> int:
    """floor(n ** (1/3)) for an int n >= 1, exactly (Newton's method on integers)."""
    root = 1 << -(-n.bit_length() // 3)  # a power of two >= the cube root
    while True:
        smaller = (2 * root + n // (root * root)) // 3
        if smaller >= root:
            return root
        root = smaller


def _frac_bits_of_root(prime: int, degree: int, bits: int) -> int:
    """The first `bits` bits of the fractional part of prime ** (1/degree), exactly."""
    scaled = prime << (degree * bits)
    root = math.isqrt(scaled) if degree == 2 else _icbrt(scaled)
    return root & ((1 << bits) - 1)


def test_sha256_k_is_the_cube_roots_of_the_first_64_primes() -> None:
    """FIPS 180-4 4.2.2: K{256} from the fractional parts of the cube roots of 64 primes."""
    assert _sha2.SHA256_K == tuple(_frac_bits_of_root(p, 3, 32) for p in _primes(64))


def test_sha512_k_is_the_cube_roots_of_the_first_80_primes() -> None:
    """FIPS 180-4 4.2.3: K{512} from the fractional parts of the cube roots of 80 primes."""
    assert _sha2.SHA512_K == tuple(_frac_bits_of_root(p, 3, 64) for p in _primes(80))


def test_sha2_initial_values_are_square_roots_of_primes() -> None:
    """FIPS 180-4 5.3.3 / 5.3.4 / 5.3.5: H^(0) from the square roots of primes 1-8 and 9-16."""
    primes = _primes(16)
    assert _sha2.SHA256_H0 == tuple(_frac_bits_of_root(p, 2, 32) for p in primes[:8])
    assert _sha2.SHA512_H0 == tuple(_frac_bits_of_root(p, 2, 64) for p in primes[:8])
    assert _sha2.SHA384_H0 == tuple(_frac_bits_of_root(p, 2, 64) for p in primes[8:16])


def test_sha1_k_is_two_to_the_30_times_root_2_3_5_10() -> None:
    """FIPS 180-4 4.2.1's four words are floor(2^30 * sqrt(n)) for n = 2, 3, 5, 10.

    FIPS 180-4 does not state this origin; it is the well-known one, checked against the table.
    """
    assert _sha2.SHA1_K == tuple(math.isqrt(n << 60) for n in (2, 3, 5, 10))


def _rc_bit(t: int) -> int:
    """FIPS 202 3.2.5 Algorithm 5 rc(t): the LFSR x^8 + x^6 + x^5 + x^4 + 1, R[0] first."""
    if t % 255 == 0:
        return 1
    r = [1, 0, 0, 0, 0, 0, 0, 0]
    for _ in range(t % 255):
        r = [0, *r]
        r[0] ^= r[8]
        r[4] ^= r[8]
        r[5] ^= r[8]
        r[6] ^= r[8]
        r = r[:8]
    return r[0]


def test_keccak_round_constants_come_from_algorithm_5() -> None:
    """FIPS 202 3.2.5 Algorithm 6 step 3: RC[2^j - 1] = rc(j + 7 i_r) for j = 0..l (l = 6)."""
    derived = tuple(sum(_rc_bit(j + 7 * i_r) << (2**j - 1) for j in range(7)) for i_r in range(24))
    assert derived == _sha3.ROUND_CONSTANTS


def test_keccak_rho_offsets_come_from_algorithm_2() -> None:
    """FIPS 202 3.2.2 Algorithm 2: (x, y) = (1, 0), then offset (t+1)(t+2)/2 mod w for t < 24
    and (x, y) = (y, (2x + 3y) mod 5)."""
    offsets = [[0] * 5 for _ in range(5)]
    x, y = 1, 0
    for t in range(24):
        offsets[x][y] = ((t + 1) * (t + 2) // 2) % 64
        x, y = y, (2 * x + 3 * y) % 5
    assert tuple(tuple(column) for column in offsets) == _sha3.RHO_OFFSETS


# --- the lane-level Keccak step mappings against FIPS 202's bit-level formulas ------------------

Bits = list[list[list[int]]]


def _to_bits(a: _sha3.State) -> Bits:
    return [[[(a[x][y] >> z) & 1 for z in range(64)] for y in range(5)] for x in range(5)]


def _bit_theta(a: Bits) -> Bits:
    """FIPS 202 3.2.1: C[x,z], D[x,z] = C[x-1,z] ^ C[x+1,z-1], A'[x,y,z] = A[x,y,z] ^ D[x,z]."""
    c = [[a[x][0][z] ^ a[x][1][z] ^ a[x][2][z] ^ a[x][3][z] ^ a[x][4][z] for z in range(64)]
         for x in range(5)]  # fmt: skip
    d = [[c[(x - 1) % 5][z] ^ c[(x + 1) % 5][(z - 1) % 64] for z in range(64)] for x in range(5)]
    return [[[a[x][y][z] ^ d[x][z] for z in range(64)] for y in range(5)] for x in range(5)]


def _bit_rho(a: Bits) -> Bits:
    """FIPS 202 3.2.2 Algorithm 2, bit by bit."""
    out = [[list(a[x][y]) for y in range(5)] for x in range(5)]
    x, y = 1, 0
    for t in range(24):
        for z in range(64):
            out[x][y][z] = a[x][y][(z - (t + 1) * (t + 2) // 2) % 64]
        x, y = y, (2 * x + 3 * y) % 5
    return out


def _bit_pi(a: Bits) -> Bits:
    """FIPS 202 3.2.3: A'[x,y,z] = A[(x + 3y) mod 5, x, z]."""
    return [[[a[(x + 3 * y) % 5][x][z] for z in range(64)] for y in range(5)] for x in range(5)]


def _bit_chi(a: Bits) -> Bits:
    """FIPS 202 3.2.4: A'[x,y,z] = A[x,y,z] ^ ((A[x+1,y,z] ^ 1) * A[x+2,y,z])."""
    return [
        [
            [a[x][y][z] ^ ((a[(x + 1) % 5][y][z] ^ 1) & a[(x + 2) % 5][y][z]) for z in range(64)]
            for y in range(5)
        ]
        for x in range(5)
    ]


@pytest.mark.parametrize("seed", range(5))
def test_lane_step_mappings_equal_the_bit_formulas(seed: int) -> None:
    rng = random.Random(seed)
    state = [[rng.getrandbits(64) for _ in range(5)] for _ in range(5)]
    bits = _to_bits(state)
    assert _to_bits(_sha3.theta(state)) == _bit_theta(bits)
    assert _to_bits(_sha3.rho(state)) == _bit_rho(bits)
    assert _to_bits(_sha3.pi(state)) == _bit_pi(bits)
    assert _to_bits(_sha3.chi(state)) == _bit_chi(bits)


# --- padding, as the standards print it -----------------------------------------------------------


def test_sha256_padding_of_abc_is_the_fips_180_4_example() -> None:
    """FIPS 180-4 5.1.1: "abc" becomes 61626380 00..00 (zeros) 00000000 00000018."""
    padded = _sha2.pad(ABC, 64, 8)
    assert padded == b"abc\x80" + b"\x00" * 52 + (24).to_bytes(8, "big")


@pytest.mark.parametrize(("block", "length_bytes"), [(64, 8), (128, 16)])
def test_sha2_padding_fills_whole_blocks_and_ends_with_the_length(
    block: int, length_bytes: int
) -> None:
    for n in range(3 * block):
        padded = _sha2.pad(b"\xff" * n, block, length_bytes)
        assert len(padded) % block == 0
        assert len(padded) - n - 1 - length_bytes < block  # k is the smallest solution
        assert padded[n] == 0x80
        assert int.from_bytes(padded[-length_bytes:], "big") == 8 * n


@pytest.mark.parametrize("rate", [136, 104, 72])
def test_sha3_padding_is_appendix_b2(rate: int) -> None:
    """FIPS 202 B.2: q = 1 gives 0x86, q = 2 gives 0x06 0x80, else 0x06 0x00.. 0x80."""
    assert _sha3.pad_sha3(b"\x00" * (rate - 1), rate)[-1:] == b"\x86"
    assert _sha3.pad_sha3(b"\x00" * (rate - 2), rate)[-2:] == b"\x06\x80"
    empty = _sha3.pad_sha3(b"", rate)
    assert empty == b"\x06" + b"\x00" * (rate - 2) + b"\x80"
    assert len(_sha3.pad_sha3(b"\x00" * rate, rate)) == 2 * rate


def test_sm3_padding_of_abc_is_the_appendix_a1_example() -> None:
    """GB/T 32905-2016 A.1: 61626380 00..00 00000018 (one 512-bit block)."""
    assert _sm3.pad(ABC) == b"abc\x80" + b"\x00" * 52 + (24).to_bytes(8, "big")
