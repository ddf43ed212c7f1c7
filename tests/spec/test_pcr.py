"""chainoftrust.spec.pcr against the documents and hashlib.

Expected values come from the PC Client PCR attribute table (PTP / MSREF PCR.c
s_initAttributes, typed in below row by row), from TPM2-P3 (extend = H(old || digest),
H-CRTM = H(0..04 || H(data)), D-RTM = H(0..0 || H(data))), from the TPM_RC values of
TPM2-P2, and from hashlib -- never from the code under test.
"""

from __future__ import annotations

import hashlib

import pytest
from chainoftrust.spec.errors import (
    ErrorCode,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.spec.hashes import HashAlg
from chainoftrust.spec.pcr import (
    PCR_COUNT,
    Tpm,
    compute_extend,
    compute_startup_value,
    is_extend_allowed,
    is_reset_allowed,
    is_state_saved,
)
from hypothesis import given
from hypothesis import strategies as st

HASHLIB = {
    HashAlg.SHA1: "sha1",
    HashAlg.SHA256: "sha256",
    HashAlg.SHA384: "sha384",
    HashAlg.SHA512: "sha512",
    HashAlg.SHA3_256: "sha3_256",
    HashAlg.SHA3_384: "sha3_384",
    HashAlg.SHA3_512: "sha3_512",
}
SHA1, SHA256, SHA384 = HashAlg.SHA1, HashAlg.SHA256, HashAlg.SHA384

# TPM2-P2 TPM_RC: TPM_RC_INITIALIZE, TPM_RC_LOCALITY, TPM_RCS_VALUE + TPM_RC_P + TPM_RC_1.
RC_INITIALIZE, RC_LOCALITY, RC_VALUE_P1 = 0x100, 0x907, 0x1C4

# PTP PCR attributes / MSREF s_initAttributes: (stateSave, reset localities, extend localities).
ALL = {0, 1, 2, 3, 4}
TABLE = (
    [(True, set(), ALL)] * 16  # PCR 0-15
    + [
        (False, {0, 1, 2, 3}, ALL),  # PCR 16 debug
        (False, {4}, {2, 3, 4}),  # PCR 17
        (False, {4}, {2, 3, 4}),  # PCR 18
        (False, {4}, {2, 3}),  # PCR 19
        (False, {2, 4}, {1, 2, 3}),  # PCR 20
        (False, {2, 4}, {2}),  # PCR 21
        (False, {2, 4}, {2}),  # PCR 22
        (False, {0, 1, 2, 3}, ALL),  # PCR 23 application
    ]
)


def h(alg: HashAlg, data: bytes) -> bytes:
    return hashlib.new(HASHLIB[alg], data).digest()


def size(alg: HashAlg) -> int:
    return hashlib.new(HASHLIB[alg]).digest_size


def started(*banks: HashAlg, locality: int = 0) -> Tpm:
    tpm = Tpm(list(banks) or [SHA1, SHA256])
    tpm.startup("clear", locality)
    return tpm


def check_rc(info: pytest.ExceptionInfo[TpmRefusalError], code: ErrorCode, rc: int) -> None:
    assert info.value.code is code
    assert info.value.tpm_rc == rc


# --- the attribute table, row by row -------------------------------------------------


def test_table_has_24_rows() -> None:
    assert len(TABLE) == PCR_COUNT == 24


@pytest.mark.parametrize("pcr", range(24))
def test_attribute_row(pcr: int) -> None:
    state_save, reset, extend = TABLE[pcr]
    assert is_state_saved(pcr) is state_save
    for locality in range(5):
        assert is_extend_allowed(pcr, locality) is (locality in extend), (pcr, locality)
        # MSREF PCRIsResetAllowed: a D-RTM TPM never resets by command at locality 4.
        want_reset = locality in reset and locality != 4
        assert is_reset_allowed(pcr, locality) is want_reset, (pcr, locality)


@pytest.mark.parametrize("pcr", range(24))
def test_reset_at_locality_4_is_always_refused(pcr: int) -> None:
    assert is_reset_allowed(pcr, 4) is False


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (-1, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        (24, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        (1000, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        # ADR 0001: the type first (a bool is not an integer), then the range
        (True, ErrorCode.INVALID_DOCUMENT),
        ("1", ErrorCode.INVALID_DOCUMENT),
        (None, ErrorCode.INVALID_DOCUMENT),
        (1.0, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_pcr_index(bad: object, code: ErrorCode) -> None:
    for check in (
        lambda: is_extend_allowed(bad, 0),  # type: ignore[arg-type]
        lambda: is_reset_allowed(bad, 0),  # type: ignore[arg-type]
        lambda: is_state_saved(bad),  # type: ignore[arg-type]
    ):
        with pytest.raises(MalformedInputError) as info:
            check()
        assert info.value.code is code
        assert info.value.field == "pcr"


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        (-1, ErrorCode.INVALID_LOCALITY),
        (5, ErrorCode.INVALID_LOCALITY),
        (255, ErrorCode.INVALID_LOCALITY),
        (False, ErrorCode.INVALID_DOCUMENT),
        ("0", ErrorCode.INVALID_DOCUMENT),
        (None, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_locality(bad: object, code: ErrorCode) -> None:
    for check in (
        lambda: is_extend_allowed(0, bad),  # type: ignore[arg-type]
        lambda: is_reset_allowed(0, bad),  # type: ignore[arg-type]
    ):
        with pytest.raises(MalformedInputError) as info:
            check()
        assert info.value.code is code
        assert info.value.field == "locality"


# --- compute_extend / compute_startup_value ------------------------------------------


@pytest.mark.parametrize("alg", list(HASHLIB))
def test_compute_extend_is_hash_of_concatenation(alg: HashAlg) -> None:
    old = bytes(range(size(alg)))
    digest = h(alg, b"measurement")
    assert compute_extend(alg, old, digest) == h(alg, old + digest)


@given(st.lists(st.binary(max_size=64), max_size=6))
def test_extend_chain_matches_hashlib(events: list[bytes]) -> None:
    value = bytes(32)
    expected = bytes(32)
    for event in events:
        digest = hashlib.sha256(event).digest()
        value = compute_extend(SHA256, value, digest)
        expected = hashlib.sha256(expected + digest).digest()
    assert value == expected


@pytest.mark.parametrize(
    ("old", "digest", "field"),
    [(bytes(31), bytes(32), "old"), (bytes(32), bytes(33), "digest"), (bytes(32), b"", "digest")],
)
def test_compute_extend_rejects_wrong_lengths(old: bytes, digest: bytes, field: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_extend(SHA256, old, digest)
    assert info.value.code is ErrorCode.DIGEST_SIZE_MISMATCH
    assert info.value.field == field


@pytest.mark.parametrize(
    ("alg", "code"),
    [
        (0x0010, ErrorCode.UNKNOWN_ALGORITHM),  # TPM_ALG_NULL
        (0x0005, ErrorCode.UNKNOWN_ALGORITHM),  # TPM_ALG_HMAC
        (0xFFFF, ErrorCode.UNKNOWN_ALGORITHM),
        (-1, ErrorCode.UNKNOWN_ALGORITHM),
        ("sha256", ErrorCode.INVALID_DOCUMENT),
        (True, ErrorCode.INVALID_DOCUMENT),
        (None, ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_compute_extend_rejects_unknown_algorithm(alg: object, code: ErrorCode) -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_extend(alg, bytes(32), bytes(32))  # type: ignore[arg-type]
    assert info.value.code is code


def test_compute_extend_rejects_non_bytes() -> None:
    with pytest.raises(MalformedInputError) as info:
        compute_extend(SHA256, "00" * 32, bytes(32))  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_DOCUMENT


def test_compute_extend_accepts_an_int_alg_id() -> None:
    # TPM_ALG_SHA256 = 0x000B (TCG-ALG)
    assert compute_extend(0x000B, bytes(32), bytes(32)) == h(SHA256, bytes(64))  # type: ignore[arg-type]


@pytest.mark.parametrize("pcr", range(24))
def test_startup_values(pcr: int) -> None:
    # PTP PCR Initial and Reset Values: 17-22 all ones, others zero, PCR 0 = locality.
    for alg in (SHA1, SHA256, SHA384):
        n = size(alg)
        fill = b"\xff" * n if 17 <= pcr <= 22 else bytes(n)
        assert compute_startup_value(alg, pcr, 0) == fill
        if pcr == 0:
            assert compute_startup_value(alg, 0, 3) == bytes(n - 1) + b"\x03"
        else:
            assert compute_startup_value(alg, pcr, 3) == fill


# --- Tpm construction ----------------------------------------------------------------


def test_tpm_starts_not_started_and_read_is_refused() -> None:
    tpm = Tpm([SHA256])
    assert tpm.started is False
    with pytest.raises(TpmRefusalError) as info:
        tpm.read()
    check_rc(info, ErrorCode.NOT_STARTED, RC_INITIALIZE)


@pytest.mark.parametrize(
    ("banks", "code"),
    [
        ([], ErrorCode.NO_BANKS),
        ((), ErrorCode.NO_BANKS),
        ([SHA256, SHA256], ErrorCode.DUPLICATE_BANK),
        ([SHA1, SHA256, SHA1], ErrorCode.DUPLICATE_BANK),
        ([0x0010], ErrorCode.UNKNOWN_ALGORITHM),
        (["sha256"], ErrorCode.INVALID_DOCUMENT),
        ([True], ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_banks(banks: list[object], code: ErrorCode) -> None:
    with pytest.raises(MalformedInputError) as info:
        Tpm(banks)  # type: ignore[arg-type]
    assert info.value.code is code


def test_read_lists_banks_in_ascending_alg_id() -> None:
    tpm = started(SHA384, SHA1, SHA256)
    values = tpm.read()
    assert list(values) == [SHA1, SHA256, SHA384]  # 0x0004 < 0x000B < 0x000C
    for alg, bank in values.items():
        assert len(bank) == 24
        assert all(len(v) == size(alg) for v in bank)


# --- TPM2_Startup --------------------------------------------------------------------


@pytest.mark.parametrize("locality", [0, 3])
def test_startup_clear_values(locality: int) -> None:
    tpm = started(SHA1, SHA256, locality=locality)
    assert tpm.started is True
    for alg, bank in tpm.read().items():
        n = size(alg)
        assert bank[0] == bytes(n - 1) + bytes([locality])
        for pcr in range(1, 24):
            assert bank[pcr] == (b"\xff" * n if 17 <= pcr <= 22 else bytes(n)), pcr


@pytest.mark.parametrize("locality", [1, 2, 4])
def test_startup_locality_not_allowed(locality: int) -> None:
    tpm = Tpm([SHA256])
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("clear", locality)
    check_rc(info, ErrorCode.LOCALITY_NOT_ALLOWED, RC_LOCALITY)
    assert tpm.started is False


@pytest.mark.parametrize(
    ("locality", "code"),
    [
        (-1, ErrorCode.INVALID_LOCALITY),
        (5, ErrorCode.INVALID_LOCALITY),
        (True, ErrorCode.INVALID_DOCUMENT),
        ("0", ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_startup_invalid_locality(locality: object, code: ErrorCode) -> None:
    with pytest.raises(MalformedInputError) as info:
        Tpm([SHA256]).startup("clear", locality)  # type: ignore[arg-type]
    assert info.value.code is code


@pytest.mark.parametrize("kind", ["CLEAR", "", "reset", None, 0])
def test_startup_invalid_type(kind: object) -> None:
    with pytest.raises(MalformedInputError) as info:
        Tpm([SHA256]).startup(kind, 0)  # type: ignore[arg-type]
    assert info.value.code is ErrorCode.INVALID_DOCUMENT


def test_startup_twice_is_already_started() -> None:
    tpm = started(SHA256)
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("clear", 0)
    check_rc(info, ErrorCode.ALREADY_STARTED, RC_INITIALIZE)
    # started check comes before the locality rule (ADR 0001 order of checks)
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("clear", 1)
    check_rc(info, ErrorCode.ALREADY_STARTED, RC_INITIALIZE)


def test_startup_state_without_shutdown_is_no_saved_state() -> None:
    tpm = Tpm([SHA256])
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.NO_SAVED_STATE, RC_VALUE_P1)
    tpm.startup("clear", 0)  # the failed command changed nothing
    assert tpm.started


def test_startup_state_after_shutdown_clear_is_no_saved_state() -> None:
    # swtpm/libtpms 0.9.2: Startup(STATE) after Shutdown(CLEAR) -> TPM_RC_VALUE (0x1C4)
    tpm = started(SHA256)
    tpm.shutdown("clear")
    assert tpm.started is False
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.NO_SAVED_STATE, RC_VALUE_P1)


def _booted_and_measured(locality: int = 0, hcrtm: bytes | None = None) -> Tpm:
    tpm = Tpm([SHA1, SHA256])
    if hcrtm is not None:
        tpm.hcrtm(hcrtm)
    tpm.startup("clear", locality)
    for pcr in (0, 7, 15, 16, 23):
        tpm.event(pcr, 0, b"event %d" % pcr)
    tpm.event(20, 2, b"dynamic")
    return tpm


def test_resume_restores_state_saved_pcrs_and_reinitialises_the_rest() -> None:
    tpm = _booted_and_measured()
    before = tpm.read()
    tpm.shutdown("state")
    tpm.startup("state", 0)
    after = tpm.read()
    for alg in (SHA1, SHA256):
        n = size(alg)
        for pcr in range(16):
            assert after[alg][pcr] == before[alg][pcr], pcr
        assert after[alg][16] == bytes(n)
        assert after[alg][23] == bytes(n)
        for pcr in range(17, 23):
            assert after[alg][pcr] == b"\xff" * n


def test_resume_consumes_the_saved_state() -> None:
    tpm = _booted_and_measured()
    tpm.shutdown("state")
    tpm.startup("state", 0)
    tpm.shutdown("clear")
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.NO_SAVED_STATE, RC_VALUE_P1)


def test_restart_after_shutdown_state_reinitialises_and_consumes() -> None:
    # TPM2-P3 9.3: TPM Restart = Startup(CLEAR) after Shutdown(STATE): PCRs to defaults.
    tpm = _booted_and_measured()
    tpm.shutdown("state")
    tpm.startup("clear", 0)
    assert tpm.read()[SHA256][7] == bytes(32)
    tpm.shutdown("clear")
    with pytest.raises(TpmRefusalError):
        tpm.startup("state", 0)


def test_resume_with_locality_3_keeps_the_saved_pcr0() -> None:
    tpm = _booted_and_measured(locality=3)
    pcr0 = tpm.read()[SHA256][0]
    tpm.shutdown("state")
    tpm.startup("state", 3)
    assert tpm.read()[SHA256][0] == pcr0


@pytest.mark.parametrize(("saved_at", "resumed_at"), [(3, 0), (0, 3)])
def test_resume_locality_3_mismatch(saved_at: int, resumed_at: int) -> None:
    tpm = _booted_and_measured(locality=saved_at)
    tpm.shutdown("state")
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", resumed_at)
    check_rc(info, ErrorCode.STARTUP_LOCALITY_MISMATCH, RC_LOCALITY)
    tpm.startup("state", saved_at)  # state unchanged by the refusal


def test_resume_hcrtm_mismatch_saved_with_hcrtm() -> None:
    tpm = _booted_and_measured(hcrtm=b"crtm")
    tpm.shutdown("state")
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.HCRTM_STATE_MISMATCH, RC_VALUE_P1)


def test_resume_hcrtm_mismatch_saved_without_hcrtm() -> None:
    tpm = _booted_and_measured()
    tpm.shutdown("state")
    tpm.hcrtm(b"crtm")
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.HCRTM_STATE_MISMATCH, RC_VALUE_P1)


def test_resume_with_hcrtm_again_restores_pcr0() -> None:
    tpm = _booted_and_measured(hcrtm=b"crtm")
    pcr0 = tpm.read()[SHA256][0]
    tpm.shutdown("state")
    tpm.hcrtm(b"other crtm data")
    tpm.startup("state", 3)  # H-CRTM: locality counts as 0, so the flags still match
    assert tpm.read()[SHA256][0] == pcr0


def test_no_saved_state_is_checked_before_hcrtm_mismatch() -> None:
    tpm = Tpm([SHA256])
    tpm.hcrtm(b"x")
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 0)
    check_rc(info, ErrorCode.NO_SAVED_STATE, RC_VALUE_P1)


def test_hcrtm_mismatch_is_checked_before_locality_mismatch() -> None:
    tpm = _booted_and_measured(locality=3)
    tpm.shutdown("state")
    tpm.hcrtm(b"x")  # now H-CRTM differs, and the locality-3 flag differs too
    with pytest.raises(TpmRefusalError) as info:
        tpm.startup("state", 3)
    check_rc(info, ErrorCode.HCRTM_STATE_MISMATCH, RC_VALUE_P1)


# --- H-CRTM --------------------------------------------------------------------------


@pytest.mark.parametrize("locality", [0, 3])
def test_hcrtm_before_startup(locality: int) -> None:
    # TPM2-P3 22.11: PCR[0] := H(0...04 || H(hash_data)); Startup leaves it alone.
    tpm = Tpm([SHA1, SHA256, SHA384])
    tpm.hcrtm(b"abc")
    tpm.startup("clear", locality)
    for alg, bank in tpm.read().items():
        n = size(alg)
        assert bank[0] == h(alg, bytes(n - 1) + b"\x04" + h(alg, b"abc"))
        assert bank[1] == bytes(n)
        assert bank[17] == b"\xff" * n


def test_hcrtm_swtpm_value() -> None:
    # swtpm/libtpms 0.9.2: PCR0 = sha256(00*31 || 04 || sha256(data))
    tpm = Tpm([SHA256])
    tpm.hcrtm(b"abc")
    tpm.startup("clear", 0)
    want = hashlib.sha256(bytes(31) + b"\x04" + hashlib.sha256(b"abc").digest()).digest()
    assert tpm.read()[SHA256][0] == want


def test_second_hcrtm_replaces_the_first() -> None:
    tpm = Tpm([SHA256])
    tpm.hcrtm(b"first")
    tpm.hcrtm(b"second")
    tpm.startup("clear", 0)
    want = h(SHA256, bytes(31) + b"\x04" + h(SHA256, b"second"))
    assert tpm.read()[SHA256][0] == want


def test_hcrtm_after_startup_is_a_usage_error() -> None:
    tpm = started(SHA256)
    before = tpm.read()
    with pytest.raises(UsageError) as info:
        tpm.hcrtm(b"x")
    assert info.value.code is ErrorCode.HCRTM_AFTER_STARTUP
    assert tpm.read() == before


def test_hcrtm_is_forgotten_at_the_next_power_cycle() -> None:
    tpm = Tpm([SHA256])
    tpm.hcrtm(b"x")
    tpm.startup("clear", 3)
    tpm.shutdown("clear")
    tpm.startup("clear", 3)
    assert tpm.read()[SHA256][0] == bytes(31) + b"\x03"


def test_hcrtm_rejects_non_bytes() -> None:
    with pytest.raises(MalformedInputError):
        Tpm([SHA256]).hcrtm("abc")  # type: ignore[arg-type]


# --- D-RTM ---------------------------------------------------------------------------


def test_drtm_resets_dynamic_pcrs_and_extends_pcr17() -> None:
    tpm = started(SHA1, SHA256)
    tpm.event(20, 2, b"before")
    tpm.event(16, 0, b"debug")
    tpm.event(23, 0, b"app")
    tpm.event(4, 0, b"static")
    before = tpm.read()
    tpm.drtm(b"abc")
    after = tpm.read()
    for alg in (SHA1, SHA256):
        n = size(alg)
        assert after[alg][17] == h(alg, bytes(n) + h(alg, b"abc"))
        for pcr in range(18, 23):
            assert after[alg][pcr] == bytes(n), pcr
        for pcr in [*range(17), 23]:
            assert after[alg][pcr] == before[alg][pcr], pcr


def test_drtm_swtpm_value() -> None:
    # swtpm_ioctl -h "abc": sha256 PCR17 = sha256(00*32 || sha256("abc")), PCR18 = 0
    tpm = started(SHA256)
    tpm.drtm(b"abc")
    bank = tpm.read()[SHA256]
    assert bank[17] == hashlib.sha256(bytes(32) + hashlib.sha256(b"abc").digest()).digest()
    assert bank[18] == bytes(32)


def test_drtm_before_startup_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as info:
        Tpm([SHA256]).drtm(b"x")
    assert info.value.code is ErrorCode.DRTM_BEFORE_STARTUP


def test_drtm_rejects_non_bytes() -> None:
    with pytest.raises(MalformedInputError):
        started(SHA256).drtm(bytearray(b"x"))  # type: ignore[arg-type]


# --- TPM2_PCR_Extend -----------------------------------------------------------------


def test_extend_each_listed_bank() -> None:
    tpm = started(SHA1, SHA256)
    d1, d256 = h(SHA1, b"a"), h(SHA256, b"a")
    tpm.extend(8, 0, [(SHA1, d1), (SHA256, d256)])
    bank = tpm.read()
    assert bank[SHA1][8] == hashlib.sha1(bytes(20) + d1).digest()
    assert bank[SHA256][8] == hashlib.sha256(bytes(32) + d256).digest()


def test_extend_leaves_unlisted_banks_alone() -> None:
    tpm = started(SHA1, SHA256)
    tpm.extend(8, 0, [(SHA256, h(SHA256, b"a"))])
    assert tpm.read()[SHA1][8] == bytes(20)


def test_extend_ignores_digest_for_unallocated_bank() -> None:
    # TPM2-P3 22.2: "If a digest is present and the PCR in that bank is not implemented,
    # the digest value is not used"; swtpm does the same.
    tpm = started(SHA256)
    before = tpm.read()
    tpm.extend(8, 0, [(SHA384, bytes(48))])
    assert tpm.read() == before


def test_extend_empty_list_is_a_no_op() -> None:
    tpm = started(SHA256)
    before = tpm.read()
    tpm.extend(8, 0, [])
    assert tpm.read() == before


def test_extend_a_bank_listed_twice_extends_twice() -> None:
    # TPM2-P3 22.2 NOTE 3: the semantics allow multiple extends to a single bank.
    tpm = started(SHA256)
    a, b = h(SHA256, b"a"), h(SHA256, b"b")
    tpm.extend(8, 0, [(SHA256, a), (SHA256, b)])
    once = hashlib.sha256(bytes(32) + a).digest()
    assert tpm.read()[SHA256][8] == hashlib.sha256(once + b).digest()


@pytest.mark.parametrize("pcr", range(24))
def test_extend_locality_rule_per_pcr(pcr: int) -> None:
    for locality in range(5):
        tpm = started(SHA256)
        before = tpm.read()[SHA256][pcr]
        digest = h(SHA256, b"x")
        if locality in TABLE[pcr][2]:
            tpm.extend(pcr, locality, [(SHA256, digest)])
            assert tpm.read()[SHA256][pcr] == hashlib.sha256(before + digest).digest()
        else:
            with pytest.raises(TpmRefusalError) as info:
                tpm.extend(pcr, locality, [(SHA256, digest)])
            check_rc(info, ErrorCode.LOCALITY_NOT_ALLOWED, RC_LOCALITY)
            assert tpm.read()[SHA256][pcr] == before


@pytest.mark.parametrize(
    ("digests", "code"),
    [
        ([(SHA256, bytes(31))], ErrorCode.DIGEST_SIZE_MISMATCH),
        ([(SHA256, bytes(20))], ErrorCode.DIGEST_SIZE_MISMATCH),
        ([(SHA384, bytes(32))], ErrorCode.DIGEST_SIZE_MISMATCH),  # unallocated, still checked
        ([(0x0010, bytes(32))], ErrorCode.UNKNOWN_ALGORITHM),
        ([(SHA256, bytes(32)), (0x9999, bytes(32))], ErrorCode.UNKNOWN_ALGORITHM),
        ([(SHA256, "00" * 32)], ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_extend_invalid_digests(digests: list[tuple[object, object]], code: ErrorCode) -> None:
    tpm = started(SHA256)
    before = tpm.read()
    with pytest.raises(MalformedInputError) as info:
        tpm.extend(8, 0, digests)  # type: ignore[arg-type]
    assert info.value.code is code
    assert tpm.read() == before


def test_extend_validates_before_the_started_check() -> None:
    tpm = Tpm([SHA256])
    with pytest.raises(MalformedInputError) as info:
        tpm.extend(24, 0, [])
    assert info.value.code is ErrorCode.PCR_INDEX_OUT_OF_RANGE
    with pytest.raises(MalformedInputError) as info:
        tpm.extend(0, 7, [])
    assert info.value.code is ErrorCode.INVALID_LOCALITY
    with pytest.raises(TpmRefusalError) as refused:
        tpm.extend(17, 0, [])  # not started comes before the locality rule
    check_rc(refused, ErrorCode.NOT_STARTED, RC_INITIALIZE)


# --- TPM2_PCR_Event ------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"abc", bytes(1024)])
def test_event_hashes_per_bank(data: bytes) -> None:
    tpm = started(SHA1, SHA256, SHA384)
    tpm.event(9, 0, data)
    for alg, bank in tpm.read().items():
        assert bank[9] == h(alg, bytes(size(alg)) + h(alg, data))


def test_event_data_too_large() -> None:
    tpm = started(SHA256)
    with pytest.raises(MalformedInputError) as info:
        tpm.event(9, 0, bytes(1025))
    assert info.value.code is ErrorCode.EVENT_DATA_TOO_LARGE


def test_event_locality_refused_and_not_started() -> None:
    tpm = started(SHA256)
    with pytest.raises(TpmRefusalError) as info:
        tpm.event(21, 3, b"x")  # PCR 21: extend only at locality 2
    check_rc(info, ErrorCode.LOCALITY_NOT_ALLOWED, RC_LOCALITY)
    tpm.event(21, 2, b"x")
    with pytest.raises(TpmRefusalError) as info:
        Tpm([SHA256]).event(0, 0, b"x")
    check_rc(info, ErrorCode.NOT_STARTED, RC_INITIALIZE)


def test_event_invalid_inputs() -> None:
    tpm = started(SHA256)
    with pytest.raises(MalformedInputError, match="PCR_INDEX_OUT_OF_RANGE"):
        tpm.event(-1, 0, b"")
    with pytest.raises(MalformedInputError, match="INVALID_LOCALITY"):
        tpm.event(0, 5, b"")
    with pytest.raises(MalformedInputError, match="INVALID_DOCUMENT"):
        tpm.event(0, 0, "text")  # type: ignore[arg-type]


# --- TPM2_PCR_Reset ------------------------------------------------------------------


@pytest.mark.parametrize("pcr", range(24))
def test_reset_rule_per_pcr_and_locality(pcr: int) -> None:
    for locality in range(5):
        tpm = started(SHA1, SHA256)
        if locality in TABLE[pcr][2]:
            tpm.extend(pcr, locality, [(SHA1, h(SHA1, b"x")), (SHA256, h(SHA256, b"x"))])
        before = tpm.read()
        if locality in TABLE[pcr][1] and locality != 4:
            tpm.reset(pcr, locality)
            after = tpm.read()
            assert after[SHA1][pcr] == bytes(20)  # TPM2-P3 22.8: reset to zero
            assert after[SHA256][pcr] == bytes(32)
        else:
            with pytest.raises(TpmRefusalError) as info:
                tpm.reset(pcr, locality)
            check_rc(info, ErrorCode.LOCALITY_NOT_ALLOWED, RC_LOCALITY)
            assert tpm.read() == before


def test_reset_swtpm_facts() -> None:
    # swtpm: PCR16 reset at locality 0 works; PCR17 reset at locality 4 -> TPM_RC_LOCALITY.
    tpm = started(SHA256)
    tpm.event(16, 0, b"x")
    tpm.reset(16, 0)
    assert tpm.read()[SHA256][16] == bytes(32)
    with pytest.raises(TpmRefusalError) as info:
        tpm.reset(17, 4)
    check_rc(info, ErrorCode.LOCALITY_NOT_ALLOWED, RC_LOCALITY)


def test_reset_dynamic_pcr_from_all_ones_to_zero() -> None:
    tpm = started(SHA256)
    assert tpm.read()[SHA256][20] == b"\xff" * 32
    tpm.reset(20, 2)
    assert tpm.read()[SHA256][20] == bytes(32)


def test_reset_invalid_and_not_started() -> None:
    with pytest.raises(MalformedInputError, match="PCR_INDEX_OUT_OF_RANGE"):
        Tpm([SHA256]).reset(24, 0)
    with pytest.raises(MalformedInputError, match="INVALID_LOCALITY"):
        Tpm([SHA256]).reset(16, -1)
    with pytest.raises(TpmRefusalError) as info:
        Tpm([SHA256]).reset(16, 0)
    check_rc(info, ErrorCode.NOT_STARTED, RC_INITIALIZE)


# --- TPM2_Shutdown -------------------------------------------------------------------


def test_shutdown_errors() -> None:
    with pytest.raises(TpmRefusalError) as info:
        Tpm([SHA256]).shutdown("clear")
    check_rc(info, ErrorCode.NOT_STARTED, RC_INITIALIZE)
    with pytest.raises(MalformedInputError) as bad:
        started(SHA256).shutdown("STATE")
    assert bad.value.code is ErrorCode.INVALID_DOCUMENT


def test_shutdown_power_cycles() -> None:
    tpm = started(SHA256)
    tpm.shutdown("state")
    assert tpm.started is False
    for command in (
        tpm.read,
        lambda: tpm.event(0, 0, b""),
        lambda: tpm.shutdown("clear"),
    ):
        with pytest.raises(TpmRefusalError) as info:
            command()
        check_rc(info, ErrorCode.NOT_STARTED, RC_INITIALIZE)
    tpm.hcrtm(b"allowed before startup")
