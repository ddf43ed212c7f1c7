"""The proof suite: every theorem proved with its vacuity check and negative control,
and the runner shown to fail when it must (false claim, missing checks, toothless
negative control, unknown result, broken implementation)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import z3
from chainoftrust.proofs import runner
from chainoftrust.proofs.kernel import Assumption, Axiom, Query
from chainoftrust.proofs.model import DROPS_OLD, TPM, Digest, ExtendModel, Namer, hash_axioms
from chainoftrust.proofs.registry import Model, Part, Registry, discover, theorem

REGISTRY = discover()
IGNORES_DIGEST = ExtendModel("extend ignores the digest", "PCR := PCR", extend=lambda old, d: old)
SPEC = "Spec: PROJECT proofs.test - runner self-test"


def _details(res: runner.TheoremResult) -> str:
    return "\n".join(res.details())


@pytest.mark.proof
@pytest.mark.parametrize("name", REGISTRY.names())
def test_theorem_is_proved_with_both_checks(name: str) -> None:
    res = runner.run_theorem(REGISTRY.theorems[name], timeout=60)
    assert res.result == runner.PROVED, _details(res)
    assert res.vacuity == runner.OK
    assert res.negative_control == runner.OK
    for part in res.parts:
        assert part.negative_counterexample, "a negative control must show its counterexample"


def test_the_suite_has_the_promised_theorems() -> None:
    expected = {
        "quote_decision_fail_closed",
        "quote_binds_nonce",
        "quote_binds_pcr_values",
        "boot_safety",
        "boot_measure_before_execute",
        "boot_halt_is_final",
        "boot_completion_fold",
        "boot_measured_mode_never_halts",
        "policy_update_monotone",
        "extend_order_sensitive",
        "history_unique",
        "no_rollback",
        "drtm_unforgeable",
        "startup_locality_visible",
        "pcr_reset_rules",
        "composite_digest_binds_values",
        "quote_binds_selection",
        "refinement_pcr_selection",
        "refinement_pcr_attributes",
        "refinement_digest_sizes",
    }
    assert expected <= set(REGISTRY.names())
    inductions = (
        "history_unique",
        "no_rollback",
        "boot_safety",
        "boot_measure_before_execute",
        "boot_halt_is_final",
        "boot_completion_fold",
        "policy_update_monotone",
    )
    for name in inductions:
        parts = [p.name for p in REGISTRY.theorems[name].parts()]
        assert parts == ["base", "step"], "an induction is a base and a step query"


def test_the_readme_lists_every_theorem_with_its_assumptions() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in REGISTRY.names():
        assert f"### `{name}`" in readme, f"README lacks a section for theorem {name}"
        section = readme.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        assert "Assumptions:" in section, f"README section of {name} lists no assumptions"


# ---------------------------------------------------------------- the runner fails


def _commutes(model: ExtendModel) -> Query:
    """A false claim: extend is commutative."""
    s, a, b = z3.Consts("s a b", Digest)
    ab, ba = model.extend(model.extend(s, a), b), model.extend(model.extend(s, b), a)

    def explain(m: z3.ModelRef) -> str:
        name = Namer(m)
        return (
            f"from {name(s)}: extend {name(a)} then {name(b)} gives {name(ab)}, "
            f"the other order {name(ba)}"
        )

    return Query(hash_axioms(), (a != b,), ab == ba, explain)


def _order(model: ExtendModel) -> Query:
    s, a, b = z3.Consts("s a b", Digest)
    ab, ba = model.extend(model.extend(s, a), b), model.extend(model.extend(s, b), a)
    return Query(hash_axioms(), (a != b,), ab != ba, lambda m: "order")


def _declare(build: object, model: Model, broken: Model | None, **kw: object) -> runner.Theorem:
    reg = Registry()
    assumptions = kw.get("assumptions", (hash_axioms()[0].assumption, hash_axioms()[-1].assumption))

    @theorem(name="t", claim="test", spec=SPEC, assumptions=assumptions, registry=reg)  # type: ignore[arg-type]
    def t() -> list[Part[Model]]:
        return [Part("claim", build, model, broken)]  # type: ignore[arg-type]

    return t


def test_a_false_claim_gives_a_readable_counterexample() -> None:
    res = runner.run_theorem(_declare(_commutes, TPM, DROPS_OLD), timeout=2)
    assert res.result == runner.FAILED
    text = _details(res)
    assert "COUNTEREXAMPLE" in text
    assert "extend d" in text and "the other order" in text, text
    assert "!val!" not in text, "domain names, not raw z3 values"


def test_a_theorem_without_negative_control_is_incomplete() -> None:
    res = runner.run_theorem(_declare(_order, TPM, None))
    assert res.parts[0].proof == runner.PROVED
    assert res.result == runner.INCOMPLETE
    assert res.negative_control == runner.MISSING


def test_a_theorem_without_vacuity_check_is_incomplete() -> None:
    def no_premises(model: ExtendModel) -> Query:
        q = _order(model)
        return Query(q.axioms, None, z3.Implies(z3.And(*q.premises or ()), q.goal), q.explain)

    res = runner.run_theorem(_declare(no_premises, TPM, IGNORES_DIGEST))
    assert res.result == runner.INCOMPLETE
    assert res.vacuity == runner.MISSING


def test_a_negative_control_without_counterexample_fails() -> None:
    res = runner.run_theorem(_declare(_order, TPM, TPM))
    assert res.parts[0].proof == runner.PROVED
    assert res.result == runner.FAILED
    assert res.negative_control == "NO COUNTEREXAMPLE"


def test_vacuous_premises_fail() -> None:
    def vacuous(model: ExtendModel) -> Query:
        q = _order(model)
        s, t = z3.Consts("s t", Digest)
        return Query(q.axioms, (s == t, s != t), q.goal, q.explain)

    res = runner.run_theorem(_declare(vacuous, TPM, IGNORES_DIGEST))
    assert res.result == runner.FAILED
    assert res.vacuity == "VACUOUS"


def test_an_undeclared_assumption_is_an_error() -> None:
    res = runner.run_theorem(_declare(_order, TPM, IGNORES_DIGEST, assumptions=()))
    assert res.result == runner.ERROR
    assert "undeclared" in _details(res)


def test_an_unknown_result_saves_smt_lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    hard = Assumption("hard", "nonlinear integer arithmetic Z3 cannot decide quickly")

    def fermat(model: Model) -> Query:
        x, y, z = z3.Ints("x y z")
        axioms = (Axiom(hard, z3.And(x >= 1, y >= 1, z >= 1)),)
        return Query(axioms, (), x * x * x + y * y * y != z * z * z, str)

    thm = _declare(fermat, Model("m", "m"), Model("b", "b"), assumptions=(hard,))
    res = runner.run_theorem(thm, timeout=0.5)
    assert res.result in {runner.UNKNOWN, runner.FAILED}
    assert res.parts[0].proof == runner.UNKNOWN
    saved = sorted((tmp_path / "proof-failures").glob("*.smt2"))
    assert saved, "an unknown result must leave the SMT-LIB query"
    assert "(assert" in saved[0].read_text(encoding="utf-8")


def test_a_broken_impl_encoder_fails_refinement(monkeypatch: pytest.MonkeyPatch) -> None:
    from chainoftrust.impl import selection

    def msb_first(indices: object) -> bytes:
        bitmap = bytearray(3)
        for index in indices:  # type: ignore[attr-defined]
            bitmap[index // 8] |= 1 << (7 - index % 8)
        return bytes(bitmap)

    monkeypatch.setattr(selection, "encode_pcr_select", msb_first)
    res = runner.run_theorem(REGISTRY.theorems["refinement_pcr_selection"])
    assert res.result == runner.FAILED
    text = _details(res)
    assert "impl encode_pcr_select: PCRs [0] <-> octets 01 00 00" in text, text
    assert "encode gives 80 00 00" in text


# ---------------------------------------------------------------- the CLI


def test_cli_unknown_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert runner.run_cli(["no_such_theorem"], None, 10) == runner.EXIT_USAGE
    err = capsys.readouterr().err
    assert "no_such_theorem" in err and "history_unique" in err


def test_cli_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = tmp_path / "proofs.json"
    code = runner.run_cli(["history_unique", "pcr_reset_rules"], str(out_file), 30)
    assert code == runner.EXIT_OK
    captured = capsys.readouterr()
    assert "[ 1/2] PROVED" in captured.err
    header = captured.out.splitlines()[0].split()
    assert header[:2] == ["theorem", "result"] and "vacuity" in header
    report = json.loads(out_file.read_text(encoding="utf-8"))
    assert report["ok"] is True
    first = report["theorems"][0]
    for key in (
        "theorem",
        "result",
        "vacuity",
        "negative_control",
        "seconds",
        "spec",
        "claim",
        "assumptions",
    ):
        assert key in first
    assert first["spec"].startswith("Spec: ")
    assert {a["name"] for a in first["assumptions"]} >= {"hash_injective"}
