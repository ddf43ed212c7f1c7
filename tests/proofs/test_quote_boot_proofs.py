"""The quote and boot theorems (issues 5 and 6): each proved with both checks, each
negative control failing for the reason it was built for, the proofs sensitive to the
model they are about, and the quote decision model equal to spec's and impl's
verify_quote on every combination of check outcomes."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from chainoftrust.proofs import runner, thm_boot, thm_quote
from chainoftrust.proofs.registry import discover
from cryptography.hazmat.primitives.asymmetric import ec

REGISTRY = discover()
NEW = {
    "quote_decision_fail_closed": ["claim", "parse_gate"],
    "quote_binds_nonce": ["claim", "unforgeable", "magic", "type", "key_attributes"],
    "quote_binds_pcr_values": ["claim", "signed_values"],
    "boot_safety": ["base", "step"],
    "boot_measure_before_execute": ["base", "step"],
    "boot_halt_is_final": ["base", "step"],
    "boot_completion_fold": ["base", "step"],
    "boot_measured_mode_never_halts": ["base", "step", "determines_base", "determines_step"],
    "policy_update_monotone": ["base", "step"],
}

# What each negative control's counterexample must show (theorem, part) -> phrases.
EXPECTED = {
    ("quote_decision_fail_closed", "claim"): ["8 nonce FAIL", "decides accept"],
    ("quote_decision_fail_closed", "parse_gate"): ["1 parse FAIL", "decides accept"],
    ("quote_binds_nonce", "claim"): ["the TPM's own quote, replayed", "extraData n"],
    ("quote_binds_nonce", "unforgeable"): ["a forgery", "extraData n'"],
    ("quote_binds_nonce", "magic"): ["TPM2_Sign", "extraData n'"],
    ("quote_binds_nonce", "type"): ["another type", "extraData n'"],
    ("quote_binds_nonce", "key_attributes"): [
        "TPM2_Sign with an unrestricted key",
        "extraData n'",
        "key not restricted, given with its TPM public area",
    ],
    ("quote_binds_pcr_values", "claim"): ["accepted with two PCR vectors", "PCR 23"],
    ("quote_binds_pcr_values", "signed_values"): ["differ from the TPM's", "never made"],
    ("boot_safety", "base"): ["check failed True, ran True", "policy check fails"],
    ("boot_safety", "step"): ["check failed True, ran True", "policy check fails"],
    ("boot_measure_before_execute", "base"): ["not yet the last log entry"],
    ("boot_measure_before_execute", "step"): ["not yet the last log entry"],
    ("boot_halt_is_final", "base"): ["check failed True, ran True"],
    ("boot_halt_is_final", "step"): ["halted True", "a step after the halt changed the"],
    ("boot_completion_fold", "base"): ["revoked True", "non-revoked reference value: False"],
    ("boot_completion_fold", "step"): ["differs from the replay"],
    ("boot_measured_mode_never_halts", "base"): ["mode measured", "halted True"],
    ("boot_measured_mode_never_halts", "step"): ["mode measured", "halted True"],
    ("boot_measured_mode_never_halts", "determines_base"): ["same PCR", "differ at layer(s) [0]"],
    ("boot_measured_mode_never_halts", "determines_step"): ["same PCR", "differ at layer(s)"],
    ("policy_update_monotone", "base"): ["no policy installed", "signature verifies False"],
    ("policy_update_monotone", "step"): ["accepted True"],
}


@pytest.fixture(scope="module")
def results() -> dict[str, runner.TheoremResult]:
    return {name: runner.run_theorem(REGISTRY.theorems[name], timeout=60) for name in NEW}


@pytest.mark.proof
@pytest.mark.parametrize("name", sorted(NEW))
def test_new_theorem_is_proved_with_both_checks(
    name: str, results: dict[str, runner.TheoremResult]
) -> None:
    res = results[name]
    assert res.result == runner.PROVED, "\n".join(res.details())
    assert (res.vacuity, res.negative_control) == (runner.OK, runner.OK)
    assert [p.part for p in res.parts] == NEW[name]


@pytest.mark.proof
@pytest.mark.parametrize(("name", "part"), sorted(EXPECTED))
def test_negative_control_shows_its_counterexample(
    name: str, part: str, results: dict[str, runner.TheoremResult]
) -> None:
    (found,) = [p for p in results[name].parts if p.part == part]
    text = found.negative_counterexample or ""
    for phrase in EXPECTED[name, part]:
        assert phrase in text, text
    assert "!val!" not in text, "domain names, not raw z3 values"


def test_every_new_part_has_an_expected_counterexample() -> None:
    assert {(n, p) for n, parts in NEW.items() for p in parts} == set(EXPECTED)


def test_each_theorem_has_a_spec_line_and_named_assumptions() -> None:
    for name in NEW:
        thm = REGISTRY.theorems[name]
        assert thm.spec.startswith("Spec: ")
        assert thm.assumptions and all(a.reason for a in thm.assumptions)


# ---------------------------------------------------------------- the proofs have teeth


@pytest.mark.proof
@pytest.mark.parametrize(
    ("name", "attribute", "broken", "phrase"),
    [
        ("boot_halt_is_final", "ADR_ENGINE", thm_boot.KEEPS_GOING, "after the halt changed"),
        ("boot_safety", "ADR_ENGINE", thm_boot.CHECK_AFTER_RUN, "policy check fails"),
        ("policy_update_monotone", "ADR_STORE", thm_boot.ACCEPTS_EQUAL, "accepted True"),
    ],
)
def test_a_broken_engine_fails_the_theorem(
    name: str, attribute: str, broken: object, phrase: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(thm_boot, attribute, broken)
    res = runner.run_theorem(REGISTRY.theorems[name], timeout=30)
    assert res.result == runner.FAILED
    text = "\n".join(res.details())
    assert "COUNTEREXAMPLE" in text and phrase in text, text


@pytest.mark.proof
def test_a_decision_ignoring_the_nonce_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(thm_quote, "ADR_DECISION", thm_quote.IGNORES_NONCE)
    res = runner.run_theorem(REGISTRY.theorems["quote_decision_fail_closed"], timeout=30)
    assert res.result == runner.FAILED
    assert "8 nonce FAIL" in "\n".join(res.details())


# ---------------------------------------------------------------- the decision model

_SHA256 = 0x000B
_UNKNOWN_HASH = 0x0099  # no hash: check 6 fails and the composite cannot be computed
_PCR0 = bytes(32)
_G = ec.derive_private_key(1, ec.SECP256R1()).public_key().public_numbers()  # a P-256 point


def _tpm2b(data: bytes) -> bytes:
    return len(data).to_bytes(2, "big") + data


def _attest_bytes(ok: dict[str, bool]) -> bytes:
    """A TPMS_ATTEST (TPM2-P2) whose checks 1-3 and 10 have the chosen outcomes: a quote of
    SHA-256 PCR 0 or another type, and pcrDigest the composite of `_PCR0` or not."""
    if not ok["parse"]:
        return b"\xff\x54\x43"  # truncated in the magic
    magic = 0xFF544347 if ok["magic"] else 0
    kind = 0x8018 if ok["type"] else 0x8017  # TPM_ST_ATTEST_QUOTE or _CERTIFY
    head = magic.to_bytes(4, "big") + kind.to_bytes(2, "big") + _tpm2b(b"") + _tpm2b(b"nonce")
    clock = (1000).to_bytes(8, "big") + (1).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x01"
    head += clock + (7).to_bytes(8, "big")
    if not ok["type"]:
        return head + _tpm2b(b"") + _tpm2b(b"")  # TPMS_CERTIFY_INFO: name, qualifiedName
    selection = (1).to_bytes(4, "big") + _SHA256.to_bytes(2, "big") + b"\x03\x01\x00\x00"
    digest = hashlib.sha256(_PCR0 if ok["pcr_digest"] else b"other values").digest()
    return head + selection + _tpm2b(digest)


class Forced:
    """verify_quote on real TPMS_ATTEST octets, keys and signatures chosen so that each
    check has the chosen outcome; only the signature verification (check 7's primitive,
    verify_signature) is replaced, by one that returns the chosen outcome for the attest
    octets. Every check's decision logic, the gates, and the composite digest are the
    module's own."""

    def __init__(self, side: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.quote = importlib.import_module(f"chainoftrust.{side}.quote")
        self.ok: dict[str, bool] = {}
        self.attest = b""
        monkeypatch.setattr(self.quote, "verify_signature", self._verify_signature)

    def _verify_signature(self, key: object, message: bytes, sig: object) -> bool:
        return self.ok["signature"] and bytes(message) == self.attest

    def verdict(
        self, ok: dict[str, bool], pcrs_given: bool, computable: bool, has_tpm_public: bool
    ) -> tuple[bool, tuple[str, ...]]:
        self.ok = ok
        self.attest = _attest_bytes(ok)
        # TPMA_OBJECT sign (bit 18), and restricted (bit 16) when check 4 is to pass; a key
        # without its TPM public area (as from PEM, JWK or DER) has no attributes at all
        attributes = (1 << 16 | 1 << 18) if ok["key_attributes"] else 1 << 18
        key = self.quote.PublicKey(
            "ecc",
            256,
            curve="P-256",
            x=_G.x,
            y=_G.y,
            tpm_public=b"TPMT_PUBLIC" if has_tpm_public else None,
            object_attributes=attributes if has_tpm_public else None,
        )
        hash_alg = _SHA256 if computable else _UNKNOWN_HASH
        scheme = 0x0018 if ok["scheme"] else 0x0016  # ECDSA fits the key, RSAPSS does not
        sig = self.quote.Signature(scheme, hash_alg, ecdsa_r=1, ecdsa_s=1)
        verdict = self.quote.verify_quote(
            self.attest,
            sig,
            key,
            b"nonce" if ok["nonce"] else b"other",
            pcrs=({_SHA256: {0: _PCR0}} if ok["pcr_values"] else {}) if pcrs_given else None,
            allowed_hashes=None if ok["hash"] else frozenset({0x000C}),
        )
        return verdict.accepted, tuple(f.check for f in verdict.failures)


@pytest.mark.parametrize("side", ["spec", "impl"])
def test_decision_model_equals_verify_quote_on_every_combination(
    side: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forced = Forced(side, monkeypatch)
    combos = thm_quote.outcome_combinations()
    # 2^10 outcomes x PCR values given or not x TPM public area or not, and when check 6
    # fails (2^9 of the outcomes) a hash that can or cannot compute the composite
    assert len(combos) == 2**10 * 2 * 2 + 2**9 * 2 * 2 == 6144
    assert {c for _, _, c, _ in combos} == {True, False}
    accepted = 0
    for ok, pcrs_given, computable, public in combos:
        got = forced.verdict(ok, pcrs_given, computable, public)
        expected = thm_quote.evaluate(ok, pcrs_given, computable, public)
        assert got == expected, (side, ok, pcrs_given, computable, public, got)
        accepted += got[0]
    # checks 1-8 pass: without PCR values whatever 9-10 would say (4), with them only all
    # (1); without the TPM public area check 4's outcome does not matter (x2)
    assert accepted == (4 + 1) + (4 + 1) * 2


def test_decision_model_rejects_a_skipped_signature() -> None:
    ok = dict.fromkeys(thm_quote.CHECKS, True) | {"scheme": False}
    assert thm_quote.evaluate(ok, pcrs_given=False) == (False, ("scheme",))


def test_decision_model_makes_check_4_only_with_a_tpm_public_area() -> None:
    ok = dict.fromkeys(thm_quote.CHECKS, True) | {"key_attributes": False}
    assert thm_quote.evaluate(ok, pcrs_given=False) == (False, ("key_attributes",))
    assert thm_quote.evaluate(ok, pcrs_given=False, has_tpm_public=False) == (True, ())


def test_decision_model_skips_check_10_when_the_hash_cannot_compute_it() -> None:
    ok = dict.fromkeys(thm_quote.CHECKS, True) | {"hash": False, "pcr_digest": False}
    assert thm_quote.evaluate(ok, True, computable=True) == (False, ("hash", "pcr_digest"))
    assert thm_quote.evaluate(ok, True, computable=False) == (False, ("hash",))
