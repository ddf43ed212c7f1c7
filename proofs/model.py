"""The symbolic PCR model shared by the chain theorems (RESEARCH.md C.4).

A PCR value is an element of an uninterpreted sort `Digest`; extend is the
uninterpreted function `H(old, new)` standing for hash(old || new). The only
properties of the hash the proofs use are the named assumptions below (the
Dolev-Yao idealisation ProVerif and Tamarin make); concrete SHA-2 stays in the
Hypothesis and swtpm tests. A history is an array `xs: Int -> Digest` with a
length; `pcr(s, xs, k)` is the value after extending `s` by `xs[0..k)`, defined by
ground instances of `pcr(s, xs, 0) = s` and `pcr(s, xs, k+1) = H(pcr(s, xs, k), xs[k])`.

Init values: PCR 0 after Startup at locality 0 (0...00) or 3 (0...03), before an
H-CRTM (0...04), the DRTM PCRs 17-22 after Startup (ff...ff), every PCR after a reset
or a DRTM's reset (0...00).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom
from chainoftrust.proofs.registry import Model

Digest = z3.DeclareSort("Digest")
H = z3.Function("H", Digest, Digest, Digest)
FST = z3.Function("fst", Digest, Digest)
SND = z3.Function("snd", Digest, Digest)
RANK = z3.Function("rank", Digest, z3.IntSort())
HISTORY = z3.ArraySort(z3.IntSort(), Digest)
PCR = z3.Function("pcr", Digest, HISTORY, z3.IntSort(), Digest)

ZERO = z3.Const("ZERO", Digest)  # 0...00: reset value, PCR0 after Startup at locality 0
LOC3 = z3.Const("LOC3", Digest)  # 0...03: PCR0 after Startup at locality 3
LOC4 = z3.Const("LOC4", Digest)  # 0...04: PCR0 before the H-CRTM extend
ONES = z3.Const("ONES", Digest)  # ff...ff: PCRs 17-22 after Startup (no DRTM yet)
INIT_VALUES = {"0...00": ZERO, "0...03": LOC3, "0...04": LOC4, "ff...ff": ONES}

HASH_INJECTIVE = Assumption(
    "hash_injective",
    "collision resistance: H(old, d) determines old and d, stated as projections "
    "fst(H(a, b)) = a and snd(H(a, b)) = b; an extend hashes old || d, both of the "
    "bank's fixed digest size, so a collision of the pair is a collision of the hash",
)
INIT_NOT_HASH = Assumption(
    "init_values_not_hash_outputs",
    "preimage resistance: no extend yields an init or reset value "
    "(0...00, 0...03, 0...04, ff...ff); finding one would invert the hash",
)
INIT_DISTINCT = Assumption(
    "init_values_distinct",
    "0...00, 0...03, 0...04 and ff...ff are different byte strings (the spec's "
    "Startup, H-CRTM and DRTM values; the init_values part checks them against the spec)",
)
RANK_AXIOM = Assumption(
    "rank",
    "well-foundedness: every PCR value ends a finite extend chain from an init value; "
    "rank counts its extends: rank(H(a, b)) = rank(a) + 1 and rank(init) = 0 "
    "(true in the free term model the injectivity assumption describes)",
)
REPLAY = Assumption(
    "replay_definition",
    "pcr(s, xs, 0) = s and pcr(s, xs, k+1) = extend(pcr(s, xs, k), xs[k]) "
    "(TPM2-P3 TPM2_PCR_Extend applied k times); ground instances at the lengths used",
)
UNDOABLE = Assumption(
    "broken_undoable_extend",
    "negative control only: X(X(v, d), d) = v, an extend that a second identical "
    "extend undoes (an XOR accumulator)",
)


@dataclass(frozen=True)
class ExtendModel(Model):
    """How a PCR is initialised and extended: the TPM's way, or a broken twin."""

    extend: Callable[[z3.ExprRef, z3.ExprRef], z3.ExprRef] = field(default=H)
    start: Callable[[z3.ExprRef], z3.ExprRef] = field(default=lambda s: s)
    extra: Callable[[], tuple[Axiom, ...]] = field(default=lambda: ())


_X = z3.Function("X", Digest, Digest, Digest)


def _undoable_axioms() -> tuple[Axiom, ...]:
    v, d = z3.Consts("v d", Digest)
    body = _X(_X(v, d), d) == v
    return (Axiom(UNDOABLE, z3.ForAll([v, d], body, patterns=[_X(v, d)])),)


TPM = ExtendModel("tpm", "PCR := H(PCR || digest), PCRs start at their init value", extend=H)
DROPS_OLD = ExtendModel(
    "extend drops the old value",
    "PCR := H(0...00 || digest): the register keeps only the last measurement",
    extend=lambda old, d: H(ZERO, d),
)
IGNORES_START = ExtendModel(
    "replay ignores the init value",
    "every PCR replayed from 0...00, whatever its real init value (the replayer bug "
    "RESEARCH.md 0.1 describes)",
    start=lambda s: ZERO,
)
UNDOABLE_EXTEND = ExtendModel(
    "undoable extend",
    "PCR := X(PCR, digest) where extending twice by the same digest restores the value",
    extend=_X,
    extra=_undoable_axioms,
)


def hash_axioms() -> tuple[Axiom, ...]:
    """Injectivity of H by projections, and init values outside H's image."""
    a, b = z3.Consts("a b", Digest)
    pat = [H(a, b)]
    axioms = [
        Axiom(HASH_INJECTIVE, z3.ForAll([a, b], FST(H(a, b)) == a, patterns=pat)),
        Axiom(HASH_INJECTIVE, z3.ForAll([a, b], SND(H(a, b)) == b, patterns=pat)),
    ]
    axioms += [
        Axiom(INIT_NOT_HASH, z3.ForAll([a, b], H(a, b) != init, patterns=pat))
        for init in INIT_VALUES.values()
    ]
    return tuple(axioms)


def distinct_axioms() -> tuple[Axiom, ...]:
    return (Axiom(INIT_DISTINCT, z3.Distinct(*INIT_VALUES.values())),)


def rank_axioms() -> tuple[Axiom, ...]:
    a, b = z3.Consts("a b", Digest)
    axioms = [
        Axiom(RANK_AXIOM, z3.ForAll([a, b], RANK(H(a, b)) == RANK(a) + 1, patterns=[H(a, b)]))
    ]
    axioms += [Axiom(RANK_AXIOM, RANK(init) == 0) for init in INIT_VALUES.values()]
    return tuple(axioms)


def replay_start(model: ExtendModel, s: z3.ExprRef, xs: z3.ArrayRef) -> Axiom:
    """pcr(s, xs, 0) = start value."""
    return Axiom(REPLAY, PCR(s, xs, 0) == model.start(s))


def replay_step(model: ExtendModel, s: z3.ExprRef, xs: z3.ArrayRef, k: z3.ArithRef) -> Axiom:
    """pcr(s, xs, k+1) = extend(pcr(s, xs, k), xs[k]), for k >= 0."""
    return Axiom(
        REPLAY, z3.Implies(k >= 0, PCR(s, xs, k + 1) == model.extend(PCR(s, xs, k), xs[k]))
    )


def replay_at(model: ExtendModel, s: z3.ExprRef, xs: z3.ArrayRef, k: z3.ArithRef) -> Axiom:
    """The definition at a symbolic k >= 0: the start value if k = 0, else one extend."""
    value = z3.If(k == 0, model.start(s), model.extend(PCR(s, xs, k - 1), xs[k - 1]))
    return Axiom(REPLAY, z3.Implies(k >= 0, PCR(s, xs, k) == value))


class Namer:
    """Names the elements of `Digest` in a countermodel: init values by their bytes,
    the rest d1, d2, ... in order of first mention."""

    def __init__(self, model: z3.ModelRef) -> None:
        self.model = model
        self.names: dict[str, str] = {}
        for label, const in INIT_VALUES.items():
            self.names.setdefault(str(model.eval(const, model_completion=True)), label)

    def __call__(self, term: z3.ExprRef) -> str:
        key = str(self.model.eval(term, model_completion=True))
        if key not in self.names:
            self.names[key] = f"d{sum(n.startswith('d') for n in self.names.values()) + 1}"
        return self.names[key]

    def number(self, term: z3.ArithRef) -> int:
        value = self.model.eval(term, model_completion=True)
        return value.as_long() if isinstance(value, z3.IntNumRef) else 0

    def history(self, xs: z3.ArrayRef, length: int, limit: int = 6) -> str:
        """The events xs[0..length): all of a short history, the ends of a long one."""
        if length <= limit:
            return "[" + ", ".join(self(xs[i]) for i in range(length)) + "]"
        head = ", ".join(self(xs[i]) for i in range(3))
        tail = ", ".join(f"[{i}] {self(xs[i])}" for i in range(length - 2, length))
        return f"[{head}, ... {tail}] ({length} events)"
