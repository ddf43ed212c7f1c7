"""Theorems about extend chains: order sensitivity, history uniqueness, no rollback."""

from __future__ import annotations

import itertools

import z3
from chainoftrust.proofs.kernel import Explain, Query
from chainoftrust.proofs.model import (
    DROPS_OLD,
    HASH_INJECTIVE,
    HISTORY,
    IGNORES_START,
    INIT_DISTINCT,
    INIT_NOT_HASH,
    PCR,
    RANK,
    RANK_AXIOM,
    REPLAY,
    TPM,
    UNDOABLE_EXTEND,
    Digest,
    ExtendModel,
    Namer,
    distinct_axioms,
    hash_axioms,
    rank_axioms,
    replay_start,
    replay_step,
)
from chainoftrust.proofs.registry import Part, theorem

_EXTEND_SPEC = "Spec: TPM2-P3 22.2 TPM2_PCR_Extend - PCR := H(PCR || digest)"


def _order_query(model: ExtendModel) -> Query:
    s, a, b, c = z3.Consts("s a b c", Digest)
    orders = list(itertools.permutations((a, b, c)))

    def run(seq: tuple[z3.ExprRef, ...]) -> z3.ExprRef:
        value = s
        for d in seq:
            value = model.extend(value, d)
        return value

    finals = [run(o) for o in orders]
    two = model.extend(model.extend(s, a), b) != model.extend(model.extend(s, b), a)

    def explain(m: z3.ModelRef) -> str:
        name = Namer(m)
        lines = [f"start s = {name(s)}, digests a = {name(a)}, b = {name(b)}, c = {name(c)}"]
        for (o1, f1), (o2, f2) in itertools.combinations(zip(orders, finals, strict=True), 2):
            if m.eval(f1 == f2, model_completion=True):
                seq1, seq2 = ("".join(str(d) for d in o) for o in (o1, o2))
                lines.append(f"extending in order {seq1} and in order {seq2} both give {name(f1)}")
        lines.append(
            f"(ab vs ba: {name(model.extend(model.extend(s, a), b))} vs "
            f"{name(model.extend(model.extend(s, b), a))})"
        )
        return "\n".join(lines)

    return Query(
        axioms=hash_axioms() + model.extra(),
        premises=(z3.Distinct(a, b, c),),
        goal=z3.And(two, z3.Distinct(*finals)),
        explain=explain,
    )


@theorem(
    name="extend_order_sensitive",
    claim=(
        "For any start value and distinct digests a, b (and a, b, c), extending in "
        "different orders gives different PCR values: ab != ba, and the six orders of "
        "a, b, c give six different values (every length: history_unique)."
    ),
    spec=_EXTEND_SPEC,
    assumptions=(HASH_INJECTIVE, INIT_NOT_HASH),
)
def extend_order_sensitive() -> list[Part[ExtendModel]]:
    return [Part("claim", _order_query, TPM, DROPS_OLD)]


_s, _t = z3.Consts("s t", Digest)
_xs, _ys = z3.Const("xs", HISTORY), z3.Const("ys", HISTORY)
_n = z3.Int("n")
_i = z3.Int("i")


def _same_history(length: z3.ArithRef) -> z3.BoolRef:
    body = z3.Implies(z3.And(_i >= 0, _i < length), _xs[_i] == _ys[_i])
    return z3.And(_s == _t, z3.ForAll([_i], body, patterns=[_xs[_i]]))


def _explain_histories(length: z3.ArithRef) -> Explain:
    def explain(m: z3.ModelRef) -> str:
        name = Namer(m)
        k = name.number(length)
        fin_x, fin_y = PCR(_s, _xs, length), PCR(_t, _ys, length)
        return "\n".join(
            [
                f"two histories of length {k}:",
                f"  start {name(_s)}, events {name.history(_xs, k)} -> PCR {name(fin_x)}",
                f"  start {name(_t)}, events {name.history(_ys, k)} -> PCR {name(fin_y)}",
                "same final PCR value, yet the start values or the events differ",
            ]
        )

    return explain


def _unique_base(model: ExtendModel) -> Query:
    return Query(
        axioms=hash_axioms()
        + distinct_axioms()
        + model.extra()
        + (replay_start(model, _s, _xs), replay_start(model, _t, _ys)),
        premises=(PCR(_s, _xs, 0) == PCR(_t, _ys, 0),),
        goal=_same_history(z3.IntVal(0)),
        explain=_explain_histories(z3.IntVal(0)),
    )


def _unique_step(model: ExtendModel) -> Query:
    hypothesis = z3.Implies(PCR(_s, _xs, _n) == PCR(_t, _ys, _n), _same_history(_n))
    return Query(
        axioms=hash_axioms()
        + model.extra()
        + (replay_step(model, _s, _xs, _n), replay_step(model, _t, _ys, _n)),
        premises=(_n >= 0, hypothesis, PCR(_s, _xs, _n + 1) == PCR(_t, _ys, _n + 1)),
        goal=_same_history(_n + 1),
        explain=_explain_histories(_n + 1),
    )


@theorem(
    name="history_unique",
    claim=(
        "For every length n: two histories of n extends that end in the same PCR value "
        "start from the same value and consist of the same digests in the same order "
        "(in particular, from the same start value equal PCRs mean identical histories). "
        "Induction on n: base n = 0, step n -> n+1."
    ),
    spec=_EXTEND_SPEC,
    assumptions=(HASH_INJECTIVE, INIT_NOT_HASH, INIT_DISTINCT, REPLAY),
)
def history_unique() -> list[Part[ExtendModel]]:
    return [
        Part("base", _unique_base, TPM, IGNORES_START),
        Part("step", _unique_step, TPM, DROPS_OLD),
    ]


_v = z3.Const("v", Digest)
_m = z3.Int("m")


def _no_return(length: z3.ArithRef) -> z3.BoolRef:
    final = PCR(_v, _xs, length)
    return z3.And(RANK(final) == RANK(_v) + length, final != _v)


def _explain_rollback(length: z3.ArithRef) -> Explain:
    def explain(m: z3.ModelRef) -> str:
        name = Namer(m)
        k = name.number(length)
        final = PCR(_v, _xs, length)
        return (
            f"from PCR value {name(_v)} (rank {m.eval(RANK(_v), model_completion=True)}), "
            f"{k} extend(s) by {name.history(_xs, k)} give {name(final)} "
            f"(rank {m.eval(RANK(final), model_completion=True)}): "
            + ("back to the start value" if m.eval(final == _v) else "rank did not grow by one")
        )

    return explain


def _rollback_base(model: ExtendModel) -> Query:
    return Query(
        axioms=hash_axioms()
        + rank_axioms()
        + model.extra()
        + (replay_start(model, _v, _xs), replay_step(model, _v, _xs, z3.IntVal(0))),
        premises=(),
        goal=_no_return(z3.IntVal(1)),
        explain=_explain_rollback(z3.IntVal(1)),
    )


def _rollback_step(model: ExtendModel) -> Query:
    return Query(
        axioms=hash_axioms() + rank_axioms() + model.extra() + (replay_step(model, _v, _xs, _m),),
        premises=(_m >= 1, _no_return(_m)),
        goal=_no_return(_m + 1),
        explain=_explain_rollback(_m + 1),
    )


@theorem(
    name="no_rollback",
    claim=(
        "No non-empty sequence of extends, of any length m >= 1, returns a PCR to its "
        "value before the sequence: not to its reset value, not to any earlier value "
        "(rank(after) = rank(before) + m). Induction on m: base m = 1, step m -> m+1."
    ),
    spec=_EXTEND_SPEC,
    assumptions=(HASH_INJECTIVE, INIT_NOT_HASH, RANK_AXIOM, REPLAY),
)
def no_rollback() -> list[Part[ExtendModel]]:
    return [
        Part("base", _rollback_base, TPM, DROPS_OLD),
        Part("step", _rollback_step, TPM, UNDOABLE_EXTEND),
    ]
