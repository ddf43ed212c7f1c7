"""spec, impl and a real TPM (swtpm/libtpms via tpm2-tools) agree on PCR values and refusals.

Expected values in the example tests come from hashlib and the documents (PTP PCR
attribute table, TPM 2.0 Part 3 TPM2_Startup / _TPM_Hash_End), and swtpm must show them
too; spec and impl must then equal swtpm. Observability (see tests/real/swtpm.py):
ALREADY_STARTED is observed through a raw TPM2_Startup frame (tpm2_startup hides
TPM_RC_INITIALIZE); NOT_STARTED through tpm2-tools' own error report (TPM_RC_INITIALIZE
from the refused command). HCRTM_AFTER_STARTUP / DRTM_BEFORE_STARTUP are project usage
errors with no TPM response code (swtpm runs the other sequence instead), so the
generated documents here never contain them.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl.predict import predict as impl_predict
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec.predict import predict as spec_predict
from hypothesis import event, given, settings

from tests.conftest import IN_CI
from tests.real.swtpm import SWTPM_BANKS, Outcome, Swtpm
from tests.strategies import LOCALITIES, valid_operation_documents

pytestmark = pytest.mark.swtpm

# At least 200 generated documents in CI (the ci profile), the profile's count otherwise.
_PROFILE_EXAMPLES = settings().max_examples  # the loaded profile's count
EXAMPLES = max(200, _PROFILE_EXAMPLES) if IN_CI else _PROFILE_EXAMPLES

TPM_RC_INITIALIZE = 0x100
TPM_RC_LOCALITY = 0x907
TPM_RC_VALUE_P1 = 0x1C4  # TPM_RC_VALUE + TPM_RC_P + TPM_RC_1 (Part 2, Table 2:16)


def _predicted(predict: Any, document: dict[str, Any]) -> Outcome:
    """Run a predict function and express its result like a swtpm Outcome."""
    try:
        result = predict(copy.deepcopy(document))
    except (spec_errors.TpmRefusalError, impl_errors.TpmRefusalError) as err:
        return Outcome(None, err.operation, err.tpm_rc)
    return Outcome(result["pcrs"])


def _three_way(tpm: Swtpm, document: dict[str, Any]) -> Outcome:
    """swtpm's outcome, after checking spec and impl give exactly the same one."""
    real = tpm.run_document(document)
    spec = _predicted(spec_predict, document)
    impl = _predicted(impl_predict, document)
    assert spec == real, f"spec differs from swtpm on {document}"
    assert impl == real, f"impl differs from swtpm on {document}"
    if real.pcrs is not None:
        assert list(spec_predict(copy.deepcopy(document))["pcrs"]) == _ascending(document)
    return real


def _ascending(document: dict[str, Any]) -> list[str]:
    return [b for b in SWTPM_BANKS if b in document["banks"]]  # SWTPM_BANKS: ascending ALG_ID


def _h(alg: str, data: bytes) -> bytes:
    return hashlib.new(alg, data).digest()


def _size(alg: str) -> int:
    return hashlib.new(alg).digest_size


# --- generated documents ------------------------------------------------------------------


@settings(max_examples=EXAMPLES)
@given(
    document=valid_operation_documents(
        SWTPM_BANKS,
        localities=LOCALITIES,
        startup_localities=LOCALITIES,
        max_operations=10,
        misuse=True,
        usage_errors=False,
        extra_algorithms=SWTPM_BANKS,
    )
)
def test_generated_documents_agree_with_swtpm(swtpm: Swtpm, document: dict[str, Any]) -> None:
    real = _three_way(swtpm, document)
    event("swtpm: PCR values" if real.pcrs is not None else f"swtpm: TPM_RC {real.tpm_rc:#05x}")


def _single(pcr: int, locality: int, kind: str) -> dict[str, Any]:
    op: dict[str, Any] = {"op": kind, "pcr": pcr, "locality": locality}
    if kind == "extend":
        op["digests"] = {"sha256": "ab" * 32, "sha1": "cd" * 20}
    elif kind == "empty_extend":
        op["op"], op["digests"] = "extend", {}
    elif kind == "event":
        op["data"] = "00ff"
    return {
        "banks": ["sha1", "sha256"],
        "operations": [{"op": "startup", "type": "clear", "locality": 3}, op],
    }


@pytest.mark.parametrize(
    ("kind", "pcrs"),
    [
        ("extend", range(24)),
        ("reset", range(24)),
        # TPM2_PCR_Event and an empty TPM2_PCR_Extend use the extend rule too; the rows
        # where localities differ are enough for them.
        ("event", (0, *range(15, 24))),
        ("empty_extend", (0, *range(15, 24))),
    ],
)
def test_locality_grid_agrees_with_swtpm(swtpm: Swtpm, kind: str, pcrs: Sequence[int]) -> None:
    """Every (PCR, locality) pair, one command after Startup: the PTP attribute table."""
    for pcr in pcrs:
        for locality in LOCALITIES:
            _three_way(swtpm, _single(pcr, locality, kind))


# --- scenarios with expected values from the documents -------------------------------------


def test_drtm(swtpm: Swtpm) -> None:
    """_TPM_Hash_End after Startup: PCR17..22 (resettable at locality 4) go to 0, then
    PCR17 = H(0...0 || H(data)) in every bank."""
    data = b"drtm measurement"
    doc = {
        "banks": ["sha1", "sha256", "sha384"],
        "operations": [
            {"op": "startup", "type": "clear"},
            {"op": "extend", "pcr": 18, "locality": 3, "digests": {"sha256": "11" * 32}},
            {"op": "drtm", "data": data.hex()},
        ],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    for alg, values in real.pcrs.items():
        size = _size(alg)
        assert values["17"] == _h(alg, bytes(size) + _h(alg, data)).hex()
        for pcr in range(18, 23):
            assert values[str(pcr)] == bytes(size).hex()
        assert values["0"] == bytes(size).hex()


def test_hcrtm(swtpm: Swtpm) -> None:
    """H-CRTM before Startup: PCR0 = H(0...04 || H(data)); PCR17..22 stay 0xFF."""
    data = b"h-crtm image"
    doc = {
        "banks": ["sha256", "sha512"],
        "operations": [{"op": "hcrtm", "data": data.hex()}, {"op": "startup", "type": "clear"}],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    for alg, values in real.pcrs.items():
        size = _size(alg)
        assert values["0"] == _h(alg, bytes(size - 1) + b"\x04" + _h(alg, data)).hex()
        assert values["17"] == (b"\xff" * size).hex()


@pytest.mark.parametrize("locality", [0, 3])
def test_startup_locality(swtpm: Swtpm, locality: int) -> None:
    """Startup(CLEAR) at locality 0 or 3: PCR0 = 0...0 || locality."""
    doc = {
        "banks": ["sha1", "sha256"],
        "operations": [{"op": "startup", "type": "clear", "locality": locality}],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    for alg, values in real.pcrs.items():
        assert values["0"] == (bytes(_size(alg) - 1) + bytes([locality])).hex()


@pytest.mark.parametrize("locality", [1, 2, 4])
def test_startup_refused_at_other_localities(swtpm: Swtpm, locality: int) -> None:
    doc = {
        "banks": ["sha256"],
        "operations": [{"op": "startup", "type": "clear", "locality": locality}],
    }
    assert _three_way(swtpm, doc) == Outcome(None, 0, TPM_RC_LOCALITY)


@pytest.mark.parametrize("pcr", [16, 17, 20, 23])
def test_reset_refused_at_locality_4(swtpm: Swtpm, pcr: int) -> None:
    """A DRTM-capable TPM never resets a PCR at locality 4 (TPM2_PCR_Reset)."""
    doc = {
        "banks": ["sha256"],
        "operations": [
            {"op": "startup", "type": "clear"},
            {"op": "reset", "pcr": pcr, "locality": 4},
        ],
    }
    assert _three_way(swtpm, doc) == Outcome(None, 1, TPM_RC_LOCALITY)


def test_reset_at_locality_2_zeroes_pcr_20(swtpm: Swtpm) -> None:
    doc = {
        "banks": ["sha256"],
        "operations": [
            {"op": "startup", "type": "clear"},
            {"op": "reset", "pcr": 20, "locality": 2},
        ],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    assert real.pcrs["sha256"]["20"] == bytes(32).hex()
    assert real.pcrs["sha256"]["21"] == (b"\xff" * 32).hex()


def test_unallocated_bank_is_ignored(swtpm: Swtpm) -> None:
    """TPM2_PCR_Extend: a digest for an implemented but unallocated bank changes nothing."""
    digest = bytes(range(32))
    doc = {
        "banks": ["sha256"],
        "operations": [
            {"op": "startup", "type": "clear"},
            {"op": "extend", "pcr": 7, "digests": {"sha1": "22" * 20, "sha384": "33" * 48}},
            {"op": "extend", "pcr": 8, "digests": {"sha512": "44" * 64, "sha256": digest.hex()}},
        ],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    assert list(real.pcrs) == ["sha256"]
    assert real.pcrs["sha256"]["7"] == bytes(32).hex()
    assert real.pcrs["sha256"]["8"] == _h("sha256", bytes(32) + digest).hex()


def test_resume_restores_0_to_15_and_reinitialises_16_to_23(swtpm: Swtpm) -> None:
    digest = {"sha1": "5a" * 20, "sha256": "a5" * 32}
    # Locality 2 may extend every PCR (PTP PCR attribute table).
    extends = [{"op": "extend", "pcr": p, "locality": 2, "digests": digest} for p in range(24)]
    doc = {
        "banks": ["sha1", "sha256"],
        "operations": [
            {"op": "startup", "type": "clear", "locality": 3},
            *extends,
            {"op": "shutdown", "type": "state"},
            {"op": "startup", "type": "state", "locality": 3},
        ],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    for alg, values in real.pcrs.items():
        size, d = _size(alg), bytes.fromhex(digest[alg])
        assert values["0"] == _h(alg, bytes(size - 1) + b"\x03" + d).hex()
        for pcr in range(1, 16):
            assert values[str(pcr)] == _h(alg, bytes(size) + d).hex()
        for pcr in (16, 23):
            assert values[str(pcr)] == bytes(size).hex()
        for pcr in range(17, 23):
            assert values[str(pcr)] == (b"\xff" * size).hex()


def test_event_extends_every_allocated_bank(swtpm: Swtpm) -> None:
    data = b"\x00event\xff" * 100
    doc = {
        "banks": ["sha1", "sha256", "sha384", "sha512"],
        "operations": [
            {"op": "startup", "type": "clear"},
            {"op": "event", "pcr": 9, "data": data.hex()},
        ],
    }
    real = _three_way(swtpm, doc)
    assert real.pcrs is not None
    for alg, values in real.pcrs.items():
        assert values["9"] == _h(alg, bytes(_size(alg)) + _h(alg, data)).hex()


def test_already_started(swtpm: Swtpm) -> None:
    doc = {"banks": ["sha256"], "operations": [{"op": "startup", "type": "clear"}] * 2}
    assert _three_way(swtpm, doc) == Outcome(None, 1, TPM_RC_INITIALIZE)


def test_not_started(swtpm: Swtpm) -> None:
    doc = {"banks": ["sha256"], "operations": [{"op": "reset", "pcr": 16}]}
    assert _three_way(swtpm, doc) == Outcome(None, 0, TPM_RC_INITIALIZE)


def test_document_ending_not_started(swtpm: Swtpm) -> None:
    doc = {
        "banks": ["sha256"],
        "operations": [{"op": "startup", "type": "clear"}, {"op": "shutdown", "type": "state"}],
    }
    assert _three_way(swtpm, doc) == Outcome(None, None, TPM_RC_INITIALIZE)


@pytest.mark.parametrize(
    ("operations", "refusal"),
    [
        pytest.param(
            [{"op": "startup", "type": "state"}],
            Outcome(None, 0, TPM_RC_VALUE_P1),
            id="no-saved-state",
        ),
        pytest.param(
            [
                {"op": "startup", "type": "clear"},
                {"op": "shutdown", "type": "clear"},
                {"op": "startup", "type": "state"},
            ],
            Outcome(None, 2, TPM_RC_VALUE_P1),
            id="after-shutdown-clear",
        ),
        pytest.param(
            [
                {"op": "startup", "type": "clear"},
                {"op": "shutdown", "type": "state"},
                {"op": "startup", "type": "state"},
                {"op": "shutdown", "type": "clear"},
                {"op": "startup", "type": "state"},
            ],
            Outcome(None, 4, TPM_RC_VALUE_P1),
            id="second-resume-after-clear",
        ),
        pytest.param(
            [
                {"op": "hcrtm", "data": "00"},
                {"op": "startup", "type": "clear"},
                {"op": "shutdown", "type": "state"},
                {"op": "startup", "type": "state"},
            ],
            Outcome(None, 3, TPM_RC_VALUE_P1),
            id="hcrtm-mismatch",
        ),
        pytest.param(
            [
                {"op": "startup", "type": "clear", "locality": 3},
                {"op": "shutdown", "type": "state"},
                {"op": "startup", "type": "state", "locality": 0},
            ],
            Outcome(None, 2, TPM_RC_LOCALITY),
            id="locality-mismatch",
        ),
    ],
)
def test_resume_refusals(swtpm: Swtpm, operations: list[dict[str, Any]], refusal: Outcome) -> None:
    assert _three_way(swtpm, {"banks": ["sha256"], "operations": operations}) == refusal
