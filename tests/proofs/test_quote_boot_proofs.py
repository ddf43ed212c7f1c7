"""The quote and boot theorems (issues 5 and 6): each proved with both checks, each
negative control failing for the reason it was built for, the proofs sensitive to the
model they are about, and the quote decision model equal to spec's and impl's
verify_quote on every combination of check outcomes."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from chainoftrust.proofs import runner, thm_boot, thm_quote
from chainoftrust.proofs.registry import discover

REGISTRY = discover()
NEW = {
    "quote_decision_fail_closed": ["claim", "parse_gate"],
    "quote_binds_nonce": ["claim", "unforgeable", "magic", "type"],
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
    ("quote_binds_pcr_values", "claim"): ["accepted with two PCR vectors", "PCR 23"],
    ("quote_binds_pcr_values", "signed_values"): ["differ from the TPM's", "never made"],
    ("boot_safety", "base"): ["check failed True, ran True", "policy check fails"],
    ("boot_safety", "step"): ["check failed True, ran True", "policy check fails"],
    ("boot_measure_before_execute", "base"): ["not yet the last log entry"],
    ("boot_measure_before_execute", "step"): ["not yet the last log entry"],
    ("boot_halt_is_final", "base"): ["check failed True, ran True"],
    ("boot_halt_is_final", "step"): ["halted True", "a step after the halt changed"],
    ("boot_completion_fold", "base"): ["revoked True", "non-revoked reference value: False"],
    ("boot_completion_fold", "step"): ["the replay of the log is"],
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
    assert res.seconds < 10, "every theorem is proved in a few seconds"


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


class Forced:
    """verify_quote's helpers replaced by ones that return the chosen outcomes."""

    def __init__(self, side: str, monkeypatch: pytest.MonkeyPatch) -> None:
        self.side = side
        self.quote = importlib.import_module(f"chainoftrust.{side}.quote")
        self.errors = importlib.import_module(f"chainoftrust.{side}.errors")
        self.ok: dict[str, bool] = {}
        patches: dict[str, Any] = {"unmarshal_attest": self._unmarshal, "_claims": self._claims}
        if side == "spec":
            patches["_signature_holds"] = lambda key, message, sig: self.ok["signature"]
            patches["_check_pcr_values"] = lambda attest, pcrs: self._problem(
                "pcr_values", "PCR_VALUES_MISSING"
            )
            patches["_check_pcr_digest"] = lambda attest, sig, pcrs: self._problem(
                "pcr_digest", "PCR_DIGEST_MISMATCH"
            )
        else:
            patches["verify_signature"] = lambda key, message, sig: self.ok["signature"]
            patches["_pcr_values_problem"] = lambda attest, pcrs: self._problem(
                "pcr_values", "PCR_VALUES_MISSING"
            )
            patches["compute_composite_digest"] = lambda alg, selection, pcrs: (
                b"digest" if self.ok["pcr_digest"] else b"another digest"
            )
        for name, value in patches.items():
            assert hasattr(self.quote, name), f"{side}.quote has no {name}"
            monkeypatch.setattr(self.quote, name, value)

    def _problem(self, check: str, code: str) -> tuple[Any, str] | None:
        return None if self.ok[check] else (self.errors.ErrorCode(code), "forced")

    def _claims(self, *args: object) -> tuple[()]:
        return ()

    def _unmarshal(self, data: bytes) -> SimpleNamespace:
        if not self.ok["parse"]:
            raise self.errors.MalformedInputError(
                self.errors.ErrorCode.TRUNCATED, "forced", field="attest", offset=0
            )
        hashes = importlib.import_module(f"chainoftrust.{self.side}.hashes")
        quote = self.ok["type"]
        return SimpleNamespace(
            magic=0xFF544347 if self.ok["magic"] else 0,
            type=0x8018 if quote else 0x8017,
            extra_data=b"nonce",
            selection=((hashes.HashAlg.SHA256, frozenset({0})),) if quote else None,
            pcr_digest=b"digest",
            raw=data,
        )

    def verdict(self, ok: dict[str, bool], pcrs_given: bool) -> tuple[bool, tuple[str, ...]]:
        self.ok = ok
        attributes = (1 << 16 | 1 << 18) if ok["key_attributes"] else 1 << 18
        key = SimpleNamespace(
            kind="ecc",
            bits=256,
            curve="P-256",
            scheme=None,
            scheme_hash=None,
            object_attributes=attributes,
            tpm_public=b"public area",
        )
        sig = SimpleNamespace(sig_alg=0x0018 if ok["scheme"] else 0x0014, hash_alg=0x000B)
        verdict = self.quote.verify_quote(
            b"attest",
            sig,
            key,
            b"nonce" if ok["nonce"] else b"other",
            pcrs={} if pcrs_given else None,
            allowed_hashes=None if ok["hash"] else frozenset({0x000C}),
        )
        return verdict.accepted, tuple(f.check for f in verdict.failures)


def _combinations() -> Iterator[tuple[dict[str, bool], bool]]:
    yield from thm_quote.outcome_combinations()


@pytest.mark.parametrize("side", ["spec", "impl"])
def test_decision_model_equals_verify_quote_on_every_combination(
    side: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    forced = Forced(side, monkeypatch)
    combos = list(_combinations())
    assert len(combos) == 2**10 * 2
    accepted = 0
    for ok, pcrs_given in combos:
        got = forced.verdict(ok, pcrs_given)
        assert got == thm_quote.evaluate(ok, pcrs_given), (side, ok, pcrs_given, got)
        accepted += got[0]
    # checks 1-8 pass: without PCR values whatever 9-10 would say (4), with them only all (1)
    assert accepted == 4 + 1


def test_decision_model_rejects_a_skipped_signature() -> None:
    ok = dict.fromkeys(thm_quote.CHECKS, True) | {"scheme": False}
    assert thm_quote.evaluate(ok, pcrs_given=False) == (False, ("scheme",))
