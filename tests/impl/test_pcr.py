"""impl.hashes and impl.pcr: known answers, the PC Client attribute table, the Tpm model.

Expected values come from the documents (FIPS 180-4 / FIPS 202 / GB/T 32905 examples,
the TCG Algorithm Registry, the PTP PCR table as ms-tpm-20-ref encodes it), from hashlib
computations written out here, and from swtpm (libtpms 0.9.2) runs by the lead.
"""

from __future__ import annotations

import hashlib

import pytest
from chainoftrust.impl.errors import (
    ErrorCode,
    ImplError,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.impl.hashes import (
    HashAlg,
    compute_digest,
    digest_size,
    hash_alg_from_name,
    hash_alg_name,
)
from chainoftrust.impl.pcr import (
    PCR_COUNT,
    Tpm,
    compute_extend,
    is_extend_allowed,
    is_reset_allowed,
    is_state_saved,
)
from hypothesis import given
from hypothesis import strategies as st

# --- hashes -----------------------------------------------------------------------

# TCG Algorithm Registry: name -> (TPM_ALG_ID, digest size); names as tpm2-tools.
REGISTRY = {
    "sha1": (0x0004, 20),
    "sha256": (0x000B, 32),
    "sha384": (0x000C, 48),
    "sha512": (0x000D, 64),
    "sm3_256": (0x0012, 32),
    "sha3_256": (0x0027, 32),
    "sha3_384": (0x0028, 48),
    "sha3_512": (0x0029, 64),
}

# Digests of "abc": FIPS 180-4 examples (SHA-1/256/384/512), FIPS 202 examples (SHA3),
# GB/T 32905-2016 Appendix A example 1 (SM3).
ABC = {
    "sha1": "a9993e364706816aba3e25717850c26c9cd0d89d",
    "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    "sha384": "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
    "8086072ba1e7cc2358baeca134c825a7",
    "sha512": "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    "sm3_256": "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
    "sha3_256": "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
    "sha3_384": "ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b2"
    "98d88cea927ac7f539f1edf228376d25",
    "sha3_512": "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
    "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
}

HASHLIB = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
    "sha3_256": hashlib.sha3_256,
    "sha3_384": hashlib.sha3_384,
    "sha3_512": hashlib.sha3_512,
}


def h(name: str, data: bytes) -> bytes:
    """A third party's digest: hashlib (SM3 through OpenSSL's 'sm3')."""
    if name == "sm3_256":
        return hashlib.new("sm3", data).digest()
    return HASHLIB[name](data).digest()


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_hash_algorithms_match_the_registry(name: str) -> None:
    alg_id, size = REGISTRY[name]
    alg = hash_alg_from_name(name)
    assert int(alg) == alg_id
    assert HashAlg(alg_id) is alg
    assert hash_alg_name(alg) == name
    assert hash_alg_name(alg_id) == name
    assert digest_size(alg) == size
    assert len(HashAlg) == len(REGISTRY)


@pytest.mark.parametrize("name", sorted(ABC))
def test_compute_digest_known_answers(name: str) -> None:
    assert compute_digest(hash_alg_from_name(name), b"abc").hex() == ABC[name]


@given(data=st.binary(max_size=300), name=st.sampled_from(sorted(REGISTRY)))
def test_compute_digest_equals_hashlib(data: bytes, name: str) -> None:
    assert compute_digest(hash_alg_from_name(name), data) == h(name, data)


@pytest.mark.parametrize("name", ["SHA256", "sha-256", "md5", "sm3", "", "null", None, 11, b"sha1"])
def test_invalid_hash_alg_name(name: object) -> None:
    with pytest.raises(MalformedInputError) as info:
        hash_alg_from_name(name)
    assert info.value.code is ErrorCode.UNKNOWN_ALGORITHM


@pytest.mark.parametrize("alg", [0, 0x0010, 0x0005, 0x0013, 0x002A, -1, True, "sha256", 11.0])
def test_invalid_hash_alg_id(alg: object) -> None:
    for fn in (digest_size, hash_alg_name):
        with pytest.raises(MalformedInputError) as info:
            fn(alg)
        assert info.value.code is ErrorCode.UNKNOWN_ALGORITHM
    with pytest.raises(MalformedInputError):
        compute_digest(alg, b"")  # type: ignore[arg-type]


def test_invalid_compute_digest_data() -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_digest(HashAlg.SHA256, "abc")  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_DOCUMENT
    assert compute_digest(HashAlg.SHA256, bytearray(b"abc")).hex() == ABC["sha256"]


# --- the PC Client PCR attribute table ------------------------------------------------

# PTP PCR attributes as ms-tpm-20-ref PCR.c s_initAttributes encodes them (localities).
EXTEND_LOCALITIES: dict[int, set[int]] = {
    **{pcr: {0, 1, 2, 3, 4} for pcr in range(17)},
    17: {2, 3, 4},
    18: {2, 3, 4},
    19: {2, 3},
    20: {1, 2, 3},
    21: {2},
    22: {2},
    23: {0, 1, 2, 3, 4},
}
# TPM2_PCR_Reset: the attribute's localities, minus locality 4 (a DRTM TPM refuses it).
RESET_LOCALITIES: dict[int, set[int]] = {
    **{pcr: set() for pcr in range(16)},
    16: {0, 1, 2, 3},
    17: set(),
    18: set(),
    19: set(),
    20: {2},
    21: {2},
    22: {2},
    23: {0, 1, 2, 3},
}


@pytest.mark.parametrize("pcr", range(24))
def test_attribute_table(pcr: int) -> None:
    for locality in range(5):
        assert is_extend_allowed(pcr, locality) == (locality in EXTEND_LOCALITIES[pcr])
        assert is_reset_allowed(pcr, locality) == (locality in RESET_LOCALITIES[pcr])
    assert is_state_saved(pcr) == (pcr < 16)
    assert not is_reset_allowed(pcr, 4)


@pytest.mark.parametrize(
    ("pcr", "code"),
    [
        (24, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        (-1, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        (2**64, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        (True, ErrorCode.INVALID_DOCUMENT),
        (7.0, ErrorCode.INVALID_DOCUMENT),
        ("7", ErrorCode.INVALID_DOCUMENT),
        (None, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_pcr_index(pcr: object, code: ErrorCode) -> None:
    calls = (
        lambda: is_extend_allowed(pcr, 0),  # type: ignore[arg-type]
        lambda: is_reset_allowed(pcr, 0),  # type: ignore[arg-type]
        lambda: is_state_saved(pcr),  # type: ignore[arg-type]
    )
    for call in calls:
        with pytest.raises(MalformedInputError) as info:
            call()
        assert info.value.code is code
        assert info.value.field == "pcr"


@pytest.mark.parametrize(
    ("locality", "code"),
    [
        (5, ErrorCode.INVALID_LOCALITY),
        (-1, ErrorCode.INVALID_LOCALITY),
        (255, ErrorCode.INVALID_LOCALITY),
        (False, ErrorCode.INVALID_DOCUMENT),
        (0.0, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_locality(locality: object, code: ErrorCode) -> None:
    for call in (is_extend_allowed, is_reset_allowed):
        with pytest.raises(MalformedInputError) as info:
            call(0, locality)  # type: ignore[arg-type]
        assert info.value.code is code
        assert info.value.field == "locality"


# --- compute_extend -------------------------------------------------------------------


@given(name=st.sampled_from(sorted(REGISTRY)), seed=st.binary(max_size=8))
def test_compute_extend_equals_hashlib(name: str, seed: bytes) -> None:
    size = REGISTRY[name][1]
    old = h(name, b"old" + seed)[:size]
    digest = h(name, b"digest" + seed)[:size]
    assert compute_extend(hash_alg_from_name(name), old, digest) == h(name, old + digest)


def test_compute_extend_sha256_from_zero() -> None:
    digest = bytes.fromhex(ABC["sha256"])
    expected = hashlib.sha256(bytes(32) + digest).digest()
    assert compute_extend(HashAlg.SHA256, bytes(32), digest) == expected


@pytest.mark.parametrize(
    ("old", "digest", "field"),
    [(bytes(31), bytes(32), "old"), (bytes(32), bytes(20), "digest"), (b"", b"", "old")],
)
def test_invalid_compute_extend_sizes(old: bytes, digest: bytes, field: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_extend(HashAlg.SHA256, old, digest)
    assert info.value.code is ErrorCode.DIGEST_SIZE_MISMATCH
    assert info.value.field == field


def test_invalid_compute_extend_algorithm() -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_extend(0x0010, bytes(32), bytes(32))  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.UNKNOWN_ALGORITHM


# --- Tpm --------------------------------------------------------------------------------

ALL = [hash_alg_from_name(n) for n in REGISTRY]


def started(banks: list[HashAlg] | None = None, locality: int = 0) -> Tpm:
    tpm = Tpm(banks or [HashAlg.SHA256])
    tpm.startup("clear", locality)
    return tpm


def refused(call: object, code: ErrorCode, tpm_rc: int) -> TpmRefusalError:
    with pytest.raises(TpmRefusalError) as info:
        call()  # type: ignore[operator]
    assert info.value.code is code
    assert info.value.tpm_rc == tpm_rc
    return info.value


def test_invalid_banks() -> None:
    cases: list[tuple[object, ErrorCode]] = [
        ([], ErrorCode.NO_BANKS),
        ((), ErrorCode.NO_BANKS),
        ([HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA1], ErrorCode.DUPLICATE_BANK),
        ([HashAlg.SHA256, 0x0B], ErrorCode.DUPLICATE_BANK),
        ([HashAlg.SHA256, 0x10], ErrorCode.UNKNOWN_ALGORITHM),
        (["sha256"], ErrorCode.UNKNOWN_ALGORITHM),
        (None, ErrorCode.INVALID_DOCUMENT),
        ("sha256", ErrorCode.INVALID_DOCUMENT),
    ]
    for banks, code in cases:
        with pytest.raises(MalformedInputError) as info:
            Tpm(banks)  # type: ignore[arg-type]
        assert info.value.code is code, banks


def test_startup_clear_initial_values_every_bank() -> None:
    for locality in (0, 3):
        tpm = Tpm(list(reversed(ALL)))
        assert not tpm.started
        tpm.startup("clear", locality)
        assert tpm.started
        values = tpm.read()
        assert list(values) == sorted(ALL), "banks in ascending TPM_ALG_ID"
        for alg, bank in values.items():
            size = digest_size(alg)
            assert len(bank) == PCR_COUNT
            # PTP: PCR0 = startup locality in the last byte; 17..22 all ones; others zero.
            assert bank[0] == bytes(size - 1) + bytes([locality])
            for pcr in range(1, 24):
                expected = b"\xff" * size if 17 <= pcr <= 22 else bytes(size)
                assert bank[pcr] == expected, (alg, pcr)


def test_startup_at_locality_3_matches_swtpm() -> None:
    # swtpm (libtpms 0.9.2): Startup at locality 3 gives PCR0 = 00..03.
    assert started(locality=3).read()[HashAlg.SHA256][0].hex() == "00" * 31 + "03"


@pytest.mark.parametrize("locality", [1, 2, 4])
def test_invalid_startup_locality(locality: int) -> None:
    tpm = Tpm([HashAlg.SHA256])
    refused(lambda: tpm.startup("clear", locality), ErrorCode.LOCALITY_NOT_ALLOWED, 0x907)
    assert not tpm.started


def test_invalid_startup_arguments() -> None:
    tpm = Tpm([HashAlg.SHA256])
    for bad in ("CLEAR", "restart", "", None, 0, True):
        with pytest.raises(MalformedInputError) as info:
            tpm.startup(bad, 0)  # type: ignore[arg-type]
        assert info.value.code is ErrorCode.INVALID_DOCUMENT
    with pytest.raises(MalformedInputError) as info:
        tpm.startup("clear", 5)
    assert info.value.code is ErrorCode.INVALID_LOCALITY


def test_second_startup_is_refused() -> None:
    tpm = started()
    refused(lambda: tpm.startup("clear", 0), ErrorCode.ALREADY_STARTED, 0x100)
    # The started check comes before the locality rule (ADR 0001 order of checks).
    refused(lambda: tpm.startup("clear", 1), ErrorCode.ALREADY_STARTED, 0x100)


def test_resume_without_saved_state() -> None:
    refused(lambda: Tpm([HashAlg.SHA256]).startup("state", 0), ErrorCode.NO_SAVED_STATE, 0x1C4)
    # swtpm (libtpms 0.9.2): Startup(STATE) after Shutdown(CLEAR) gives TPM_RC_VALUE 0x1C4.
    tpm = started()
    tpm.shutdown("clear")
    refused(lambda: tpm.startup("state", 0), ErrorCode.NO_SAVED_STATE, 0x1C4)
    tpm.startup("clear", 0)
    assert tpm.started


def digest_of(text: bytes) -> bytes:
    return hashlib.sha256(text).digest()


def test_resume_restores_pcr_0_to_15_only() -> None:
    tpm = started([HashAlg.SHA1, HashAlg.SHA256])
    for pcr in (0, 7, 15, 16, 23):
        tpm.event(pcr, 0, b"measured")
    before = tpm.read()
    tpm.shutdown("state")
    assert not tpm.started
    refused(tpm.read, ErrorCode.NOT_STARTED, 0x100)
    tpm.startup("state", 0)
    after = tpm.read()
    for alg in before:
        size = digest_size(alg)
        assert after[alg][:16] == before[alg][:16]
        assert after[alg][16] == bytes(size)
        assert after[alg][23] == bytes(size)
        assert after[alg][17] == b"\xff" * size
    # The saved state is consumed: another resume needs another Shutdown(STATE).
    tpm.shutdown("clear")
    refused(lambda: tpm.startup("state", 0), ErrorCode.NO_SAVED_STATE, 0x1C4)


def test_startup_clear_after_shutdown_state_is_a_restart() -> None:
    tpm = started()
    tpm.event(7, 0, b"x")
    tpm.shutdown("state")
    tpm.startup("clear", 0)
    assert tpm.read()[HashAlg.SHA256][7] == bytes(32)
    tpm.shutdown("clear")
    refused(lambda: tpm.startup("state", 0), ErrorCode.NO_SAVED_STATE, 0x1C4)


def test_resume_needs_the_same_startup_locality() -> None:
    tpm = started(locality=3)
    tpm.shutdown("state")
    refused(lambda: tpm.startup("state", 0), ErrorCode.STARTUP_LOCALITY_MISMATCH, 0x907)
    tpm.startup("state", 3)  # a failed resume leaves the saved state in place
    assert tpm.read()[HashAlg.SHA256][0].hex() == "00" * 31 + "03"
    tpm.shutdown("state")
    tpm.startup("state", 3)
    tpm2 = started(locality=0)
    tpm2.shutdown("state")
    refused(lambda: tpm2.startup("state", 3), ErrorCode.STARTUP_LOCALITY_MISMATCH, 0x907)


def hcrtm_value(data: bytes) -> bytes:
    # swtpm (libtpms 0.9.2): PCR0 = sha256(00*31 || 04 || sha256(data)).
    return hashlib.sha256(bytes(31) + b"\x04" + hashlib.sha256(data).digest()).digest()


def test_hcrtm_before_startup() -> None:
    tpm = Tpm([HashAlg.SHA1, HashAlg.SHA256])
    tpm.hcrtm(b"first")
    tpm.hcrtm(b"crtm")  # each sequence starts over from 00..04
    tpm.startup("clear", 3)  # after an H-CRTM, PCR0 keeps the H-CRTM value
    values = tpm.read()
    assert values[HashAlg.SHA256][0] == hcrtm_value(b"crtm")
    sha1 = hashlib.sha1(bytes(19) + b"\x04" + hashlib.sha1(b"crtm").digest()).digest()
    assert values[HashAlg.SHA1][0] == sha1
    assert values[HashAlg.SHA256][1] == bytes(32)


def test_hcrtm_state_must_match_on_resume() -> None:
    tpm = Tpm([HashAlg.SHA256])
    tpm.hcrtm(b"crtm")
    tpm.startup("clear", 3)  # counts as locality 0: the H-CRTM flag wins
    tpm.event(0, 0, b"firmware")
    saved_pcr0 = tpm.read()[HashAlg.SHA256][0]
    tpm.shutdown("state")
    refused(lambda: tpm.startup("state", 0), ErrorCode.HCRTM_STATE_MISMATCH, 0x1C4)
    tpm.hcrtm(b"other")
    tpm.startup("state", 3)
    assert tpm.read()[HashAlg.SHA256][0] == saved_pcr0, "resume restores PCR0"
    tpm.shutdown("clear")
    tpm.startup("clear", 0)
    tpm.shutdown("state")  # saved without H-CRTM: a cycle with one cannot resume it
    tpm.hcrtm(b"crtm")
    refused(lambda: tpm.startup("state", 0), ErrorCode.HCRTM_STATE_MISMATCH, 0x1C4)


def test_invalid_hcrtm_after_startup() -> None:
    tpm = started()
    with pytest.raises(UsageError) as info:
        tpm.hcrtm(b"late")
    assert info.value.code is ErrorCode.HCRTM_AFTER_STARTUP


def test_drtm_matches_swtpm() -> None:
    tpm = started([HashAlg.SHA1, HashAlg.SHA256])
    for pcr in (16, 17, 18, 20, 23):
        tpm.extend(pcr, 2, [(HashAlg.SHA256, bytes(range(32)))])
    before = tpm.read()
    tpm.drtm(b"abc")
    after = tpm.read()
    # swtpm (libtpms 0.9.2, swtpm_ioctl -h "abc"): PCR17 = sha256(00*32 || sha256("abc")),
    # PCR18 = 0.
    assert after[HashAlg.SHA256][17] == hashlib.sha256(bytes(32) + digest_of(b"abc")).digest()
    sha1 = hashlib.sha1(bytes(20) + hashlib.sha1(b"abc").digest()).digest()
    assert after[HashAlg.SHA1][17] == sha1
    for alg, bank in after.items():
        for pcr in (18, 19, 20, 21, 22):
            assert bank[pcr] == bytes(digest_size(alg))
        for pcr in (*range(17), 23):
            assert bank[pcr] == before[alg][pcr]


def test_invalid_drtm_before_startup() -> None:
    with pytest.raises(UsageError) as info:
        Tpm([HashAlg.SHA256]).drtm(b"abc")
    assert info.value.code is ErrorCode.DRTM_BEFORE_STARTUP


@given(digests=st.lists(st.binary(min_size=32, max_size=32), max_size=20))
def test_extend_chain_equals_hashlib(digests: list[bytes]) -> None:
    tpm = started([HashAlg.SHA256, HashAlg.SHA384])
    expected = bytes(32)
    for d in digests:
        tpm.extend(10, 0, [(HashAlg.SHA256, d)])
        expected = hashlib.sha256(expected + d).digest()
    values = tpm.read()
    assert values[HashAlg.SHA256][10] == expected
    assert values[HashAlg.SHA384][10] == bytes(48), "a bank not listed is not extended"


def test_extend_every_algorithm() -> None:
    tpm = started(ALL)
    pairs = [(alg, h(hash_alg_name(alg), b"x")) for alg in ALL]
    tpm.extend(4, 0, pairs)
    for alg, bank in tpm.read().items():
        name = hash_alg_name(alg)
        assert bank[4] == h(name, bytes(digest_size(alg)) + h(name, b"x"))


def test_extend_ignores_unallocated_banks_and_empty_lists() -> None:
    # swtpm (libtpms 0.9.2): a digest for an implemented, unallocated bank is ignored.
    tpm = started([HashAlg.SHA256])
    tpm.extend(7, 0, [(HashAlg.SHA1, bytes(20)), (HashAlg.SHA512, bytes(64))])
    tpm.extend(7, 0, [])
    tpm.extend(7, 0, ())
    assert tpm.read()[HashAlg.SHA256][7] == bytes(32)


def test_extend_accepts_ids_bytearrays_and_iterables() -> None:
    tpm = started()
    d = digest_of(b"d")
    tpm.extend(7, 0, [(0x000B, bytearray(d))])  # type: ignore[list-item]
    tpm.extend(7, 0, iter([(HashAlg.SHA256, d)]))  # type: ignore[arg-type]
    tpm.extend(7, 0, [(HashAlg.SHA256, d), (HashAlg.SHA256, d)])  # listed twice: twice
    expected = bytes(32)
    for _ in range(4):
        expected = hashlib.sha256(expected + d).digest()
    assert tpm.read()[HashAlg.SHA256][7] == expected


@pytest.mark.parametrize(
    ("digests", "code", "field"),
    [
        ([(HashAlg.SHA256, bytes(31))], ErrorCode.DIGEST_SIZE_MISMATCH, "digests[0].digest"),
        ([(HashAlg.SHA1, bytes(32))], ErrorCode.DIGEST_SIZE_MISMATCH, "digests[0].digest"),
        (
            [(HashAlg.SHA256, bytes(32)), (0x0010, bytes(32))],
            ErrorCode.UNKNOWN_ALGORITHM,
            "digests[1].hashAlg",
        ),
        ([("sha256", bytes(32))], ErrorCode.UNKNOWN_ALGORITHM, "digests[0].hashAlg"),
        ([(HashAlg.SHA256, "00" * 32)], ErrorCode.INVALID_DOCUMENT, "digests[0].digest"),
        ([(HashAlg.SHA256,)], ErrorCode.INVALID_DOCUMENT, "digests[0]"),
        ([b"ab"], ErrorCode.INVALID_DOCUMENT, "digests[0]"),
        ([None], ErrorCode.INVALID_DOCUMENT, "digests[0]"),
        (None, ErrorCode.INVALID_DOCUMENT, "digests"),
        ("ab", ErrorCode.INVALID_DOCUMENT, "digests"),
    ],
)
def test_invalid_extend_digests_change_nothing(
    digests: object, code: ErrorCode, field: str
) -> None:
    tpm = started()
    good = (HashAlg.SHA256, bytes(32))
    before = tpm.read()
    with pytest.raises(MalformedInputError) as info:
        tpm.extend(7, 0, digests)  # type: ignore[arg-type]
    assert info.value.code is code
    assert info.value.field == field
    if isinstance(digests, list):
        with pytest.raises(MalformedInputError):
            tpm.extend(7, 0, [good, *digests])
    assert tpm.read() == before


def test_extend_locality_rules() -> None:
    tpm = started()
    d = bytes(32)
    for pcr in range(24):
        for locality in range(5):
            before = tpm.read()[HashAlg.SHA256][pcr]
            if locality in EXTEND_LOCALITIES[pcr]:
                tpm.extend(pcr, locality, [(HashAlg.SHA256, d)])
                assert tpm.read()[HashAlg.SHA256][pcr] == hashlib.sha256(before + d).digest()
            else:
                call = lambda: tpm.extend(pcr, locality, [(HashAlg.SHA256, d)])  # noqa: E731, B023
                refused(call, ErrorCode.LOCALITY_NOT_ALLOWED, 0x907)
                assert tpm.read()[HashAlg.SHA256][pcr] == before


def test_checks_before_not_started() -> None:
    tpm = Tpm([HashAlg.SHA256])
    d = [(HashAlg.SHA256, bytes(32))]
    # Argument errors come first, then NOT_STARTED, then the locality rule.
    with pytest.raises(MalformedInputError):
        tpm.extend(24, 0, d)
    with pytest.raises(MalformedInputError):
        tpm.extend(0, 0, [(HashAlg.SHA256, b"")])
    refused(lambda: tpm.extend(17, 0, d), ErrorCode.NOT_STARTED, 0x100)
    refused(lambda: tpm.event(17, 0, b""), ErrorCode.NOT_STARTED, 0x100)
    refused(lambda: tpm.reset(17, 4), ErrorCode.NOT_STARTED, 0x100)
    refused(lambda: tpm.shutdown("state"), ErrorCode.NOT_STARTED, 0x100)
    refused(tpm.read, ErrorCode.NOT_STARTED, 0x100)
    with pytest.raises(MalformedInputError):
        tpm.shutdown("STATE")


def test_event_extends_every_bank_with_the_data_digest() -> None:
    tpm = started([HashAlg.SM3_256, HashAlg.SHA3_256, HashAlg.SHA1])
    tpm.event(8, 1, b"grub")
    for alg, bank in tpm.read().items():
        name = hash_alg_name(alg)
        assert bank[8] == h(name, bytes(digest_size(alg)) + h(name, b"grub"))


def test_event_data_limit() -> None:
    tpm = started()
    tpm.event(23, 0, bytes(1024))
    with pytest.raises(MalformedInputError) as info:
        tpm.event(23, 0, bytes(1025))
    assert info.value.code is ErrorCode.EVENT_DATA_TOO_LARGE
    with pytest.raises(MalformedInputError) as info:
        tpm.event(23, 0, "data")  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_DOCUMENT
    refused(lambda: tpm.event(17, 0, b""), ErrorCode.LOCALITY_NOT_ALLOWED, 0x907)


def test_reset_rules_match_swtpm() -> None:
    tpm = started([HashAlg.SHA1, HashAlg.SHA256])
    tpm.event(16, 0, b"debug")
    tpm.reset(16, 0)  # swtpm: PCR_Reset of PCR16 at locality 0 works
    assert tpm.read()[HashAlg.SHA256][16] == bytes(32)
    assert tpm.read()[HashAlg.SHA1][16] == bytes(20)
    # swtpm: PCR17 reset at locality 4 gives TPM_RC_LOCALITY
    refused(lambda: tpm.reset(17, 4), ErrorCode.LOCALITY_NOT_ALLOWED, 0x907)
    assert tpm.read()[HashAlg.SHA256][17] == b"\xff" * 32
    tpm.reset(20, 2)  # TPM2_PCR_Reset sets zero, not the all-ones startup value
    assert tpm.read()[HashAlg.SHA256][20] == bytes(32)


def test_reset_locality_rules() -> None:
    tpm = started()
    for pcr in range(24):
        for locality in range(5):
            if locality in RESET_LOCALITIES[pcr]:
                tpm.reset(pcr, locality)
                assert tpm.read()[HashAlg.SHA256][pcr] == bytes(32)
            else:
                call = lambda: tpm.reset(pcr, locality)  # noqa: E731, B023
                refused(call, ErrorCode.LOCALITY_NOT_ALLOWED, 0x907)


def test_error_classes() -> None:
    assert issubclass(TpmRefusalError, ImplError)
    assert issubclass(UsageError, ImplError)
    tpm = Tpm([HashAlg.SHA256])
    err = refused(tpm.read, ErrorCode.NOT_STARTED, 0x100)
    assert "NOT_STARTED" in str(err)
