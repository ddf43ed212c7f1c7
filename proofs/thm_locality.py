"""Theorems about init values and localities: DRTM values cannot be forged, the startup
locality is visible in PCR 0, and the PCR reset rules of the PC Client table."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom, Explain, Query
from chainoftrust.proofs.model import (
    DROPS_OLD,
    HASH_INJECTIVE,
    HISTORY,
    IGNORES_START,
    INIT_DISTINCT,
    INIT_NOT_HASH,
    INIT_VALUES,
    PCR,
    REPLAY,
    TPM,
    Digest,
    ExtendModel,
    Namer,
    distinct_axioms,
    hash_axioms,
    replay_at,
    replay_start,
    replay_step,
)
from chainoftrust.proofs.registry import Model, Part, theorem

PCR_COUNT = 24
LOCALITIES = 5

SPEC_TABLE = Assumption(
    "spec_pcr_attribute_table",
    "extend_allowed, reset_allowed and state_saved are the spec's is_extend_allowed, "
    "is_reset_allowed and is_state_saved evaluated at every PCR 0-23 and locality 0-4 "
    "(the PTP PCR attribute table as chainoftrust.spec.pcr encodes it)",
)
SPEC_INIT = Assumption(
    "spec_init_values",
    "bytes_of(v) is the SHA-256 bank value the spec's Tpm produces: PCR 0 after "
    "Startup(CLEAR) at locality 0 and 3, PCR 17 after Startup, the value an H-CRTM "
    "extends (checked: spec PCR 0 = extend(0...04, H(data))), the value a DRTM and "
    "TPM2_PCR_Reset leave (checked: spec PCR 17 = extend(0...00, H(data)), PCR 16 = 0...00)",
)

# ---------------------------------------------------------------- init values


class AnchorError(Exception):
    """The spec does not behave as the symbolic model assumes."""


@dataclass(frozen=True)
class InitModel(Model):
    """Where the init values' bytes come from: the spec, or a broken replayer."""

    values: Callable[[], dict[str, bytes]] = field(default=lambda: {})


def _spec_init_values() -> dict[str, bytes]:
    pcr = importlib.import_module("chainoftrust.spec.pcr")
    hashes = importlib.import_module("chainoftrust.spec.hashes")
    alg, data = hashes.HashAlg.SHA256, b"chainoftrust"
    measured = hashes.compute_digest(alg, data)
    out: dict[str, bytes] = {}
    for locality, label in ((0, "0...00"), (3, "0...03")):
        tpm = pcr.Tpm([alg])
        tpm.startup("clear", locality)
        out[label] = tpm.read()[alg][0]
        if label == "0...00":
            out["ff...ff"] = tpm.read()[alg][17]
            tpm.drtm(data)
            if tpm.read()[alg][17] != pcr.compute_extend(alg, out["0...00"], measured):
                raise AnchorError("spec DRTM: PCR 17 is not extend(0...00, H(data))")
            tpm.reset(16, 0)
            if tpm.read()[alg][16] != out["0...00"]:
                raise AnchorError("spec TPM2_PCR_Reset does not leave 0...00")
    tpm = pcr.Tpm([alg])
    tpm.hcrtm(data)
    tpm.startup("clear", 0)
    out["0...04"] = bytes(31) + b"\x04"
    if tpm.read()[alg][0] != pcr.compute_extend(alg, out["0...04"], measured):
        raise AnchorError("spec H-CRTM: PCR 0 is not extend(0...04, H(data))")
    return out


def _ignoring_locality() -> dict[str, bytes]:
    values = _spec_init_values()
    values["0...03"] = values["0...00"]
    return values


def _no_ff_init() -> dict[str, bytes]:
    values = _spec_init_values()
    values["ff...ff"] = values["0...00"]
    return values


SPEC_INIT_MODEL = InitModel(
    "spec", "init values read off chainoftrust.spec.pcr.Tpm", _spec_init_values
)
IGNORES_LOCALITY = InitModel(
    "replay ignores StartupLocality",
    "PCR 0 starts at 0...00 even after a locality-3 Startup",
    _ignoring_locality,
)
NO_FF_INIT = InitModel(
    "DRTM PCRs start at zero", "PCR 17-22 start at 0...00 like the others", _no_ff_init
)
_BYTES_OF = z3.Function("bytes_of", Digest, z3.BitVecSort(256))


def _init_query(labels: tuple[str, ...]) -> Callable[[InitModel], Query]:
    def build(model: InitModel) -> Query:
        values = model.values()
        consts = [INIT_VALUES[label] for label in labels]
        axioms = tuple(
            Axiom(SPEC_INIT, _BYTES_OF(INIT_VALUES[label]) == int.from_bytes(values[label], "big"))
            for label in labels
        )

        def explain(m: z3.ModelRef) -> str:
            same = [
                f"{a} and {b} are the same value ({values[a].hex()})"
                for i, a in enumerate(labels)
                for b in labels[i + 1 :]
                if m.eval(INIT_VALUES[a] == INIT_VALUES[b], model_completion=True)
            ]
            return "\n".join(same) or "(no equal pair)"

        return Query(axioms=axioms, premises=(), goal=z3.Distinct(*consts), explain=explain)

    return build


# ---------------------------------------------------------------- disjoint chains

_ka, _kb, _n, _m, _m0 = z3.Ints("ka kb n m m0")
_xs, _ys = z3.Const("xs", HISTORY), z3.Const("ys", HISTORY)


def _pick(k: z3.ArithRef, starts: tuple[z3.ExprRef, ...]) -> z3.ExprRef:
    value = starts[-1]
    for i in range(len(starts) - 2, -1, -1):
        value = z3.If(k == i, starts[i], value)
    return value


_sa, _sb = z3.Consts("sa sb", Digest)


def _choice(starts: tuple[z3.ExprRef, ...]) -> list[z3.BoolRef]:
    """Chain A starts at starts[ka], chain B at starts[kb], ka != kb."""
    last = len(starts) - 1
    return [
        *(z3.And(k >= 0, k <= last) for k in (_ka, _kb)),
        _ka != _kb,
        _sa == _pick(_ka, starts),
        _sb == _pick(_kb, starts),
    ]


def _explain_chains(
    starts: tuple[z3.ExprRef, ...], labels: tuple[str, ...], len_a: z3.ArithRef, len_b: z3.ArithRef
) -> Explain:
    def explain(m: z3.ModelRef) -> str:
        name = Namer(m)
        ka, kb = name.number(_ka), name.number(_kb)
        la, lb = name.number(len_a), name.number(len_b)
        sa, sb = _sa, _sb
        return "\n".join(
            [
                f"chain A from {labels[ka]}: {la} extend(s) by {name.history(_xs, la)}"
                f" -> {name(PCR(sa, _xs, len_a))}",
                f"chain B from {labels[kb]}: {lb} extend(s) by {name.history(_ys, lb)}"
                f" -> {name(PCR(sb, _ys, len_b))}",
                "the two chains reach the same PCR value",
            ]
        )

    return explain


def _chains_base(
    starts: tuple[z3.ExprRef, ...], labels: tuple[str, ...]
) -> Callable[[ExtendModel], Query]:
    def build(model: ExtendModel) -> Query:
        sa, sb = _sa, _sb
        return Query(
            axioms=hash_axioms()
            + distinct_axioms()
            + model.extra()
            + (replay_start(model, sa, _xs), replay_at(model, sb, _ys, _m0)),
            premises=(*_choice(starts), _m0 >= 0),
            goal=PCR(sa, _xs, 0) != PCR(sb, _ys, _m0),
            explain=_explain_chains(starts, labels, z3.IntVal(0), _m0),
        )

    return build


def _chains_step(
    starts: tuple[z3.ExprRef, ...], labels: tuple[str, ...]
) -> Callable[[ExtendModel], Query]:
    def build(model: ExtendModel) -> Query:
        sa, sb = _sa, _sb
        hyp = z3.ForAll(
            [_m],
            z3.Implies(_m >= 0, PCR(sa, _xs, _n) != PCR(sb, _ys, _m)),
            patterns=[PCR(sb, _ys, _m)],
        )
        return Query(
            axioms=hash_axioms()
            + model.extra()
            + (replay_step(model, sa, _xs, _n), replay_at(model, sb, _ys, _m0)),
            premises=(*_choice(starts), _n >= 0, _m0 >= 0, hyp),
            goal=PCR(sa, _xs, _n + 1) != PCR(sb, _ys, _m0),
            explain=_explain_chains(starts, labels, _n + 1, _m0),
        )

    return build


# ---------------------------------------------------------------- the PCR table


@dataclass(frozen=True)
class TableModel(Model):
    """The PCR attribute table as three predicates."""

    source: Callable[[], Any] = field(default=lambda: None)
    patch: Callable[[str, int, int, bool], bool] = field(default=lambda kind, p, loc, v: v)


def _spec_pcr() -> Any:
    return importlib.import_module("chainoftrust.spec.pcr")


SPEC_TABLE_MODEL = TableModel("spec", "chainoftrust.spec.pcr's table", _spec_pcr)

EXT = z3.Function("extend_allowed", z3.IntSort(), z3.IntSort(), z3.BoolSort())
RST = z3.Function("reset_allowed", z3.IntSort(), z3.IntSort(), z3.BoolSort())
SAVED = z3.Function("state_saved", z3.IntSort(), z3.BoolSort())


def table_axioms(model: TableModel, assumption: Assumption = SPEC_TABLE) -> tuple[Axiom, ...]:
    """The table's 24 x 5 x 2 + 24 entries as ground equations."""
    mod = model.source()
    out = []
    for p in range(PCR_COUNT):
        out.append(Axiom(assumption, SAVED(p) == model.patch("saved", p, 0, mod.is_state_saved(p))))
        for loc in range(LOCALITIES):
            ext = model.patch("extend", p, loc, mod.is_extend_allowed(p, loc))
            rst = model.patch("reset", p, loc, mod.is_reset_allowed(p, loc))
            out.append(Axiom(assumption, EXT(p, loc) == ext))
            out.append(Axiom(assumption, RST(p, loc) == rst))
    return tuple(out)


_p, _loc = z3.Ints("p loc")


def _explain_table(m: z3.ModelRef) -> str:
    p = m.eval(_p, model_completion=True)
    loc = m.eval(_loc, model_completion=True)
    ext = m.eval(EXT(_p, _loc), model_completion=True)
    rst = m.eval(RST(_p, _loc), model_completion=True)
    saved = m.eval(SAVED(_p), model_completion=True)
    return (
        f"PCR {p}, locality {loc}: TPM2_PCR_Reset allowed = {rst}, "
        f"TPM2_PCR_Extend allowed = {ext}, state saved = {saved}"
    )


def _drtm_table_query(model: TableModel) -> Query:
    return Query(
        axioms=table_axioms(model),
        premises=(_p >= 17, _p <= 19, _loc >= 0, _loc <= 3),
        goal=z3.And(z3.Not(RST(_p, _loc)), z3.Implies(_loc <= 1, z3.Not(EXT(_p, _loc)))),
        explain=_explain_table,
    )


LOC3_RESETS_17 = TableModel(
    "locality 3 may reset PCR 17",
    "the spec's table with PCR 17's reset mask widened to locality 3",
    _spec_pcr,
    lambda kind, p, loc, v: True if (kind, p, loc) == ("reset", 17, 3) else v,
)
LOC4_RESETS = TableModel(
    "non-DRTM reset rule",
    "TPM2_PCR_Reset at locality 4 follows the reset mask (a TPM without the DRTM rule)",
    _spec_pcr,
    lambda kind, p, loc, v: True if (kind, loc) == ("reset", 4) and 17 <= p <= 22 else v,
)

_DRTM_STARTS = (INIT_VALUES["ff...ff"], INIT_VALUES["0...00"])
_DRTM_LABELS = ("ff...ff (no DRTM since Startup)", "0...00 (DRTM launch / reset)")


@theorem(
    name="drtm_unforgeable",
    claim=(
        "A DRTM value cannot be forged without a DRTM: from ff...ff (PCR 17-19 after "
        "Startup) no sequence of extends of any length reaches any value of a chain from "
        "0...00 (where a DRTM launch, and only it, restarts PCR 17-19), and no operation "
        "at localities 0-3 can reset PCRs 17-19 (localities 0-1 cannot even extend them). "
        "Chains: induction on the length of the ff...ff chain, for every length of the "
        "other; table: the spec's PCR attribute table."
    ),
    spec="Spec: PTP PCR Attributes - D-RTM PCRs 17-19: reset only by a D-RTM event",
    assumptions=(HASH_INJECTIVE, INIT_NOT_HASH, INIT_DISTINCT, REPLAY, SPEC_TABLE, SPEC_INIT),
)
def drtm_unforgeable() -> list[Part[Any]]:
    return [
        Part("init_values", _init_query(("ff...ff", "0...00")), SPEC_INIT_MODEL, NO_FF_INIT),
        Part("base", _chains_base(_DRTM_STARTS, _DRTM_LABELS), TPM, IGNORES_START),
        Part("step", _chains_step(_DRTM_STARTS, _DRTM_LABELS), TPM, DROPS_OLD),
        Part("no_reset_17_19", _drtm_table_query, SPEC_TABLE_MODEL, LOC3_RESETS_17),
    ]


_PCR0_STARTS = (INIT_VALUES["0...00"], INIT_VALUES["0...03"], INIT_VALUES["0...04"])
_PCR0_LABELS = (
    "0...00 (Startup at locality 0)",
    "0...03 (Startup at locality 3)",
    "0...04 (H-CRTM)",
)


@theorem(
    name="startup_locality_visible",
    claim=(
        "A boot that started at locality 3, one that started at locality 0 and one with an "
        "H-CRTM never end with the same PCR 0, after any numbers of extends: the chains "
        "from 0...00, 0...03 and 0...04 are pairwise disjoint. Induction on the length of "
        "one chain, for every length of the other."
    ),
    spec="Spec: PTP PCR Initial and Reset Values - PCR 0 after Startup ends in the locality",
    assumptions=(HASH_INJECTIVE, INIT_NOT_HASH, INIT_DISTINCT, REPLAY, SPEC_INIT),
)
def startup_locality_visible() -> list[Part[Any]]:
    return [
        Part(
            "init_values",
            _init_query(("0...00", "0...03", "0...04")),
            SPEC_INIT_MODEL,
            IGNORES_LOCALITY,
        ),
        Part("base", _chains_base(_PCR0_STARTS, _PCR0_LABELS), TPM, IGNORES_START),
        Part("step", _chains_step(_PCR0_STARTS, _PCR0_LABELS), TPM, DROPS_OLD),
    ]


def _reset_rules_query(model: TableModel) -> Query:
    return Query(
        axioms=table_axioms(model),
        premises=(_p >= 0, _p < PCR_COUNT, _loc >= 0, _loc < LOCALITIES),
        goal=z3.And(
            z3.Implies(_p <= 15, z3.Not(RST(_p, _loc))),
            z3.Not(RST(_p, 4)),
            z3.Implies(SAVED(_p), z3.Not(RST(_p, _loc))),
            z3.Implies(RST(_p, _loc), EXT(_p, _loc)),
        ),
        explain=_explain_table,
    )


@theorem(
    name="pcr_reset_rules",
    claim=(
        "In the PC Client PCR table: no locality resets PCRs 0-15 by TPM2_PCR_Reset; "
        "TPM2_PCR_Reset at locality 4 resets nothing (a DRTM TPM); no state-saved PCR is "
        "resettable; and a locality that may reset a PCR may also extend it."
    ),
    spec="Spec: MSREF PCR.c PCRIsResetAllowed - reset rules of the PC Client table",
    assumptions=(SPEC_TABLE,),
)
def pcr_reset_rules() -> list[Part[TableModel]]:
    return [Part("claim", _reset_rules_query, SPEC_TABLE_MODEL, LOC4_RESETS)]
