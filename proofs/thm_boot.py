"""Theorems about ADR 0005's boot: run_boot as a transition system, for chains of any
length (induction: a base query and a step query), and PolicyStore.update.

The state after the engine has handled `next` layers: the PCR value, the number of log
entries, the number of layers that ran, and the halted flag (`BootState`). The event
log, the list of the layers that ran, and a ghost record of what held at the moment
each layer ran are write-once arrays indexed by position: a step constrains only the
entry it appends (LOG[loglen] = digest), so earlier entries never change (the log is
append-only) and the replay pcr(0...00, LOG, k) of model.py applies to the log as it
stands at any time.

One step for layer i = next (digest DIG[i], name NAME[i]) composes the engine's
micro-actions in its order; ADR 0005's engine measures (extend and log, steps 1-2),
then checks (trusted mode, step 3), then runs (step 4), and does nothing once halted.
The broken engines reorder or drop those actions. `boot_step` (on concrete chains) and
`policy_update` (on concrete update sequences) are evaluated and compared with
chainoftrust.spec.boot by tests/proofs/test_boot_model.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import z3
from chainoftrust.proofs.kernel import Assumption, Axiom, Explain, Query
from chainoftrust.proofs.model import (
    DROPS_OLD,
    HASH_INJECTIVE,
    INIT_NOT_HASH,
    PCR,
    REPLAY,
    TPM,
    ZERO,
    Digest,
    Namer,
    hash_axioms,
    replay_start,
    replay_step,
)
from chainoftrust.proofs.registry import Model, Part, theorem

LayerName = z3.DeclareSort("LayerName")
_INT, _BOOL = z3.IntSort(), z3.BoolSort()

TRUSTED = z3.Bool("trusted_mode")
EXPIRED = z3.Bool("policy_expired")  # ADR 0005 3a: now >= expires (fixed for one boot)
REVOKED = z3.Function("revoked", Digest, _BOOL)  # 3b: digest in revoked[bank]
HAS_REF = z3.Function("has_reference", LayerName, _BOOL)  # 3c: an entry for the name
LISTED = z3.Function("listed", LayerName, Digest, _BOOL)  # 3d: digest in the entry's list

ONE_PCR = Assumption(
    "one_pcr_one_bank",
    "the layers' measurements are modelled in one bank and one PCR: a bank extends its "
    "own digest of the same layer at the same step, and a PCR sees the subsequence of "
    "layers that name it, so what is proved about measuring, logging, running and halting "
    "holds for each bank and PCR; the policy check is one verdict per layer (spec "
    "check_layer over all of the layer's digests), so what is proved about its rules holds "
    "for revocation (3b) in every measured bank and for the reference values (3d) in "
    "every bank the layer's policy entry names (check_layer ignores the banks the entry "
    "does not name)",
)
POLICY_PREDICATES = Assumption(
    "policy_check_predicates",
    "ADR 0005 step 3 is the conjunction of four uninterpreted predicates over the "
    "installed policy: not expired (3a), no digest of the layer revoked (3b), an entry for "
    "the layer's name that names a measured bank (3c), the digest listed in that entry in "
    "every bank the entry names (3d); every policy is allowed",
)
SPEC_STEP = Assumption(
    "spec_boot_step",
    "boot_step mirrors chainoftrust.spec.boot (run_boot steps 1-4); "
    "tests/proofs/test_boot_model.py (test_boot_step_model_matches_spec) evaluates it on "
    "random concrete chains and policies and compares the PCR, log, layers run and halt "
    "with the spec's after every step",
)

# ---------------------------------------------------------------- the transition


@dataclass(frozen=True)
class Chain:
    """One boot's symbols: the layers' digests and names, and the write-once records."""

    dig: z3.ArrayRef
    name: z3.ArrayRef
    log: z3.ArrayRef
    ran: z3.ArrayRef
    seen: z3.ArrayRef

    @staticmethod
    def fresh(tag: str = "") -> Chain:
        sfx = f"_{tag}" if tag else ""
        return Chain(
            z3.Array(f"digest{sfx}", _INT, Digest),
            z3.Array(f"name{sfx}", _INT, LayerName),
            z3.Array(f"log{sfx}", _INT, Digest),
            z3.Array(f"ran{sfx}", _INT, _INT),
            z3.Array(f"seen{sfx}", _INT, _BOOL),
        )

    def allowed(self, i: z3.ArithRef, revocation: bool = True) -> z3.BoolRef:
        """ADR 0005 step 3 passes for layer i: (a) not expired, (b) not revoked,
        (c) the policy has an entry for the name, (d) the digest is listed in it."""
        d, nm = self.dig[i], self.name[i]
        not_revoked = z3.Not(REVOKED(d)) if revocation else z3.BoolVal(True)
        return z3.And(z3.Not(EXPIRED), not_revoked, HAS_REF(nm), LISTED(nm, d))

    def reference(self, j: z3.ArithRef) -> z3.BoolRef:
        """Layer j's digest is a reference value of the policy's entry, not revoked."""
        return z3.And(LISTED(self.name[j], self.dig[j]), z3.Not(REVOKED(self.dig[j])))


@dataclass(frozen=True)
class BootState:
    """The engine's state after `next` layers."""

    next: z3.ArithRef
    pcr: z3.ExprRef
    loglen: z3.ArithRef
    ranlen: z3.ArithRef
    halted: z3.BoolRef

    @staticmethod
    def fresh(tag: str) -> BootState:
        return BootState(
            z3.Int(f"{tag}_next"),
            z3.Const(f"{tag}_pcr", Digest),
            z3.Int(f"{tag}_loglen"),
            z3.Int(f"{tag}_ranlen"),
            z3.Bool(f"{tag}_halted"),
        )

    @staticmethod
    def initial() -> BootState:
        """After TPM2_Startup(CLEAR) at locality 0: the PCR is 0...00, nothing logged."""
        zero = z3.IntVal(0)
        return BootState(zero, ZERO, zero, zero, z3.BoolVal(False))

    def well_formed(self) -> z3.BoolRef:
        return z3.And(self.next >= 0, self.loglen >= 0, self.ranlen >= 0)


@dataclass(frozen=True)
class BootEngine(Model):
    """A boot engine: the order of its micro-actions and how it halts."""

    order: tuple[str, ...] = ("measure", "check", "run")
    halt_is_final: bool = True
    checks_in_measured_mode: bool = False
    checks_revocation: bool = True
    extend: Callable[[z3.ExprRef, z3.ExprRef], z3.ExprRef] = field(default=TPM.extend)


@dataclass(frozen=True)
class Step:
    """One step: the state after it, the constraints on the records it appends to,
    and what happened to the layer."""

    after: BootState
    writes: tuple[z3.BoolRef, ...]
    measured: z3.BoolRef
    failed: z3.BoolRef
    ran: z3.BoolRef


def boot_step(engine: BootEngine, chain: Chain, s: BootState) -> Step:
    """Handle layer `s.next`: the engine's micro-actions in its order."""
    i, d = s.next, chain.dig[s.next]
    pcr, loglen, ranlen, halted = s.pcr, s.loglen, s.ranlen, s.halted
    false = z3.BoolVal(False)
    measured, failed, ran = false, false, false
    writes: list[z3.BoolRef] = []
    for action in engine.order:
        live = z3.Not(halted) if engine.halt_is_final else z3.BoolVal(True)
        if action == "measure":  # (1)-(2): extend the PCR, append the event record
            writes.append(z3.Implies(live, chain.log[loglen] == d))
            pcr = z3.If(live, engine.extend(pcr, d), pcr)
            loglen = loglen + z3.If(live, 1, 0)
            measured = live
        elif action == "check":  # (3): trusted mode, a failing rule halts
            mode = z3.BoolVal(True) if engine.checks_in_measured_mode else TRUSTED
            failed = z3.And(live, mode, z3.Not(chain.allowed(i, engine.checks_revocation)))
            halted = z3.Or(halted, failed)
        else:  # (4): the layer runs; the ghost records what held at that moment
            go = z3.And(live, z3.Not(failed))
            seen = z3.And(
                loglen >= 1, chain.log[loglen - 1] == d, pcr == PCR(ZERO, chain.log, loglen)
            )
            writes.append(z3.Implies(go, chain.ran[ranlen] == i))
            writes.append(z3.Implies(go, chain.seen[ranlen] == seen))
            ranlen = ranlen + z3.If(go, 1, 0)
            ran = go
    return Step(BootState(i + 1, pcr, loglen, ranlen, halted), tuple(writes), measured, failed, ran)


ADR_ENGINE = BootEngine("adr 0005", "measure (extend, log), then check, then run; a halt is final")
CHECK_AFTER_RUN = BootEngine(
    "checks after executing",
    "measures, runs the layer, and only then checks it against the policy",
    order=("measure", "run", "check"),
)
RUN_BEFORE_MEASURE = BootEngine(
    "executes before measuring",
    "checks the layer, runs it, and only then extends the PCR and logs it",
    order=("check", "run", "measure"),
)
KEEPS_GOING = BootEngine(
    "keeps going after a mismatch",
    "a mismatching layer does not run, but the engine goes on measuring and running the "
    "next layers",
    halt_is_final=False,
)
NO_REVOCATION = BootEngine(
    "skips the revocation list",
    "step 3b is not checked: a revoked digest that the entry still lists is accepted",
    checks_revocation=False,
)
CHECKS_MEASURED = BootEngine(
    "checks in measured mode",
    "the engine applies the policy check whatever the mode",
    checks_in_measured_mode=True,
)
EXTEND_DROPS_OLD = BootEngine(
    "extend drops the old value",
    "the engine's PCR := H(0...00 || digest): only the last layer counts",
    extend=DROPS_OLD.extend,
)
EXTEND_IGNORES_DIGEST = BootEngine(
    "extend ignores the digest",
    "the engine's PCR := PCR: the measurement never reaches the register",
    extend=lambda old, d: old,
)

# ---------------------------------------------------------------- counterexamples


def _b(m: z3.ModelRef, e: z3.BoolRef) -> bool:
    return z3.is_true(m.eval(e, model_completion=True))


class _Names(Namer):
    """Digests as in model.py (d1, d2, ...); layer names n1, n2, ..."""

    def layer(self, term: z3.ExprRef) -> str:
        key = "name:" + str(self.model.eval(term, model_completion=True))
        if key not in self.names:
            self.names[key] = f"n{sum(n.startswith('n') for n in self.names.values()) + 1}"
        return self.names[key]


def _state(m: z3.ModelRef, name: _Names, s: BootState) -> str:
    return (
        f"PCR {name(s.pcr)}, {name.number(s.loglen)} log entries, "
        f"{name.number(s.ranlen)} layer(s) ran, halted {_b(m, s.halted)}"
    )


def _layer(m: z3.ModelRef, name: _Names, c: Chain, i: z3.ArithRef) -> str:
    d, nm = c.dig[i], c.name[i]
    return (
        f"layer {name.number(i)} '{name.layer(nm)}' with digest {name(d)} (policy: expired "
        f"{_b(m, EXPIRED)}, revoked {_b(m, REVOKED(d))}, has an entry {_b(m, HAS_REF(nm))}, "
        f"listed {_b(m, LISTED(nm, d))}; mode {'trusted' if _b(m, TRUSTED) else 'measured'})"
    )


def _explain_step(c: Chain, s: BootState, st: Step, note: Callable[..., str]) -> Explain:
    def explain(m: z3.ModelRef) -> str:
        name = _Names(m)
        lines = [
            f"before: {_state(m, name, s)}",
            f"{_layer(m, name, c, s.next)}: measured {_b(m, st.measured)}, "
            f"check failed {_b(m, st.failed)}, ran {_b(m, st.ran)}",
            f"after: {_state(m, name, st.after)}",
        ]
        extra = note(m, name)
        return "\n".join([*lines, extra] if extra else lines)

    return explain


def _ran_layers(
    m: z3.ModelRef, name: _Names, c: Chain, s: BootState, bad: Callable[..., z3.BoolRef]
) -> str:
    out = []
    for k in range(min(name.number(s.ranlen), 8)):
        if _b(m, bad(z3.IntVal(k))):
            out.append(f"run #{k} is {_layer(m, name, c, c.ran[k])}")
    return "\n".join(out)


# ---------------------------------------------------------------- 1 boot_safety

_C = Chain.fresh()
_S = BootState.fresh("s")
_k, _j = z3.Ints("k j")


def _safe(c: Chain, s: BootState) -> z3.BoolRef:
    body = z3.Implies(z3.And(_k >= 0, _k < s.ranlen), c.allowed(c.ran[_k]))
    return z3.ForAll([_k], body, patterns=[c.ran[_k]])


def _safety(base: bool) -> Callable[[BootEngine], Query]:
    def build(engine: BootEngine) -> Query:
        s = BootState.initial() if base else _S
        st = boot_step(engine, _C, s)
        hyp = () if base else (s.well_formed(), _safe(_C, s))

        def note(m: z3.ModelRef, name: _Names) -> str:
            bad = _ran_layers(m, name, _C, st.after, lambda k: z3.Not(_C.allowed(_C.ran[k])))
            return bad + "\na layer ran although the policy check fails for it"

        return Query(
            axioms=(),
            premises=(TRUSTED, *hyp, *st.writes),
            goal=_safe(_C, st.after),
            explain=_explain_step(_C, s, st, note),
        )

    return build


@theorem(
    name="boot_safety",
    claim=(
        "In trusted mode, for chains of any length, every layer that runs passes the "
        "installed policy's check: the policy has not expired, the layer's digest is not "
        "revoked, the policy has an entry for the layer's name and the digest is listed in "
        "it (in every bank the entry names). Induction on the number of layers handled: "
        "base = the first layer from the state after Startup, step = any state satisfying "
        "the claim and any next layer."
    ),
    spec="Spec: PROJECT adr.0005 run_boot step 3 - a layer runs only after its check passed",
    assumptions=(ONE_PCR, POLICY_PREDICATES, SPEC_STEP),
)
def boot_safety() -> list[Part[BootEngine]]:
    return [
        Part("base", _safety(True), ADR_ENGINE, CHECK_AFTER_RUN),
        Part("step", _safety(False), ADR_ENGINE, CHECK_AFTER_RUN),
    ]


# ---------------------------------------------------------------- 2 measure before execute


def _measured_first(c: Chain, s: BootState) -> z3.BoolRef:
    body = z3.Implies(z3.And(_k >= 0, _k < s.ranlen), c.seen[_k])
    return z3.And(
        s.loglen >= 0,
        s.pcr == PCR(ZERO, c.log, s.loglen),
        z3.ForAll([_k], body, patterns=[c.seen[_k]]),
    )


def _mbe(base: bool) -> Callable[[BootEngine], Query]:
    def build(engine: BootEngine) -> Query:
        s = BootState.initial() if base else _S
        st = boot_step(engine, _C, s)
        hyp = () if base else (s.well_formed(), _measured_first(_C, s))

        def note(m: z3.ModelRef, name: _Names) -> str:
            ok = _b(m, st.after.pcr == PCR(ZERO, _C.log, st.after.loglen))
            return (
                f"the PCR after the step {'equals' if ok else 'differs from'} the replay of "
                f"the log; when the layer ran, its digest was "
                f"{'' if _b(m, z3.Implies(st.ran, _C.seen[s.ranlen])) else 'not yet '}"
                "the last log entry folded into the PCR"
            )

        return Query(
            axioms=(replay_start(TPM, ZERO, _C.log), replay_step(TPM, ZERO, _C.log, s.loglen)),
            premises=(*hyp, *st.writes),
            goal=_measured_first(_C, st.after),
            explain=_explain_step(_C, s, st, note),
        )

    return build


@theorem(
    name="boot_measure_before_execute",
    claim=(
        "In both modes, for chains of any length, every layer that runs has been measured "
        "first: at the moment it runs, its digest is the last entry of the event log and the "
        "PCR equals the replay of the log (so the digest has been extended into it); and at "
        "every step the PCR equals the replay of the log. Induction on the number of layers "
        "handled: base = the first layer after Startup, step = any next layer."
    ),
    spec="Spec: PROJECT adr.0005 run_boot steps 1-2 - extend and log before the layer runs",
    assumptions=(ONE_PCR, POLICY_PREDICATES, REPLAY, SPEC_STEP),
)
def boot_measure_before_execute() -> list[Part[BootEngine]]:
    return [
        Part("base", _mbe(True), ADR_ENGINE, RUN_BEFORE_MEASURE),
        Part("step", _mbe(False), ADR_ENGINE, RUN_BEFORE_MEASURE),
    ]


# ---------------------------------------------------------------- 3 halt is final


def _halt_base(engine: BootEngine) -> Query:
    st = boot_step(engine, _C, _S)
    after = st.after

    def note(m: z3.ModelRef, name: _Names) -> str:
        return "the layer whose check fails ran, or the engine did not halt, or it was not logged"

    return Query(
        axioms=(),
        premises=(
            TRUSTED,
            _S.well_formed(),
            z3.Not(_S.halted),
            z3.Not(_C.allowed(_S.next)),
            *st.writes,
        ),
        goal=z3.And(after.halted, after.ranlen == _S.ranlen, after.loglen == _S.loglen + 1),
        explain=_explain_step(_C, _S, st, note),
    )


def _halt_step(engine: BootEngine) -> Query:
    st = boot_step(engine, _C, _S)
    after = st.after

    def note(m: z3.ModelRef, name: _Names) -> str:
        changed = [
            what
            for what, same in (
                ("the halt flag", after.halted),
                ("the PCR", after.pcr == _S.pcr),
                ("the log", after.loglen == _S.loglen),
                ("the layers that ran", after.ranlen == _S.ranlen),
            )
            if not _b(m, same)
        ]
        return f"a step after the halt changed {', '.join(changed) or 'nothing'}"

    return Query(
        axioms=(),
        premises=(_S.well_formed(), _S.halted, *st.writes),
        goal=z3.And(
            after.halted,
            after.pcr == _S.pcr,
            after.loglen == _S.loglen,
            after.ranlen == _S.ranlen,
        ),
        explain=_explain_step(_C, _S, st, note),
    )


@theorem(
    name="boot_halt_is_final",
    claim=(
        "A trusted boot halts at the first layer whose check fails: that layer is measured "
        "and logged (the log shows what failed) but does not run, and after the halt no "
        "step of any later layer extends the PCR, appends to the log or runs a layer. "
        "Induction on the number m of steps after the halt: base m = 0 (the halting step), "
        "step m -> m+1 (a halted state is left unchanged by any layer)."
    ),
    spec="Spec: PROJECT adr.0005 run_boot step 3 - on failure nothing is measured, logged or run",
    assumptions=(ONE_PCR, POLICY_PREDICATES, SPEC_STEP),
)
def boot_halt_is_final() -> list[Part[BootEngine]]:
    return [
        Part("base", _halt_base, ADR_ENGINE, CHECK_AFTER_RUN),
        Part("step", _halt_step, ADR_ENGINE, KEEPS_GOING),
    ]


# ---------------------------------------------------------------- 4 completion fold


def _folded(c: Chain, s: BootState) -> z3.BoolRef:
    body = z3.Implies(
        z3.And(_j >= 0, _j < s.loglen), z3.And(c.log[_j] == c.dig[_j], c.reference(_j))
    )
    return z3.Implies(
        z3.Not(s.halted),
        z3.And(
            s.loglen == s.next,
            s.ranlen == s.next,
            s.pcr == PCR(ZERO, c.log, s.loglen),
            z3.ForAll([_j], body, patterns=[c.log[_j]]),
        ),
    )


def _fold(base: bool) -> Callable[[BootEngine], Query]:
    def build(engine: BootEngine) -> Query:
        s = BootState.initial() if base else _S
        st = boot_step(engine, _C, s)
        hyp = () if base else (s.well_formed(), _folded(_C, s))

        def note(m: z3.ModelRef, name: _Names) -> str:
            after = st.after
            replay = PCR(ZERO, _C.log, after.loglen)
            same = _b(m, after.pcr == replay)
            return (
                f"not halted, yet: the PCR {name(after.pcr)} "
                f"{'equals' if same else 'differs from'} the replay of the log "
                f"{name(replay)}; the layer's digest is a non-revoked reference value: "
                f"{_b(m, _C.reference(s.next))}"
            )

        return Query(
            axioms=(replay_start(TPM, ZERO, _C.log), replay_step(TPM, ZERO, _C.log, s.loglen)),
            premises=(TRUSTED, *hyp, *st.writes),
            goal=_folded(_C, st.after),
            explain=_explain_step(_C, s, st, note),
        )

    return build


@theorem(
    name="boot_completion_fold",
    claim=(
        "A trusted boot of any number n of layers that is not halted after its last layer "
        "has run all n layers and logged exactly their n digests in order, none revoked and, "
        "in every bank the installed policy's entry for that layer's name names, each a "
        "reference value the entry lists; its PCR equals the fold pcr(0...00, log, n) = "
        "H(...H(H(0...00, r0), r1)..., r(n-1)) of those logged digests: the log replays to "
        "the PCR. Induction on n: base n = 1 (n = 0 is the Startup state), step n -> n+1."
    ),
    spec="Spec: PROJECT adr.0005 run_boot - a completed trusted boot extends its reference values",
    assumptions=(ONE_PCR, POLICY_PREDICATES, REPLAY, SPEC_STEP),
)
def boot_completion_fold() -> list[Part[BootEngine]]:
    return [
        Part("base", _fold(True), ADR_ENGINE, NO_REVOCATION),
        Part("step", _fold(False), ADR_ENGINE, EXTEND_DROPS_OLD),
    ]


# ---------------------------------------------------------------- 5 measured mode


def _running(s: BootState) -> z3.BoolRef:
    return z3.And(z3.Not(s.halted), s.loglen == s.next, s.ranlen == s.next)


def _never_halts(base: bool) -> Callable[[BootEngine], Query]:
    def build(engine: BootEngine) -> Query:
        s = BootState.initial() if base else _S
        st = boot_step(engine, _C, s)
        hyp = () if base else (s.well_formed(), _running(s))

        def note(m: z3.ModelRef, name: _Names) -> str:
            return "a measured boot halted or skipped a layer"

        return Query(
            axioms=(),
            premises=(z3.Not(TRUSTED), *hyp, *st.writes),
            goal=_running(st.after),
            explain=_explain_step(_C, s, st, note),
        )

    return build


_C1, _C2 = Chain.fresh("1"), Chain.fresh("2")
_S1, _S2 = BootState.fresh("s1"), BootState.fresh("s2")


def _same_layers(n: z3.ArithRef) -> z3.BoolRef:
    body = z3.Implies(z3.And(_j >= 0, _j < n), _C1.dig[_j] == _C2.dig[_j])
    return z3.ForAll([_j], body, patterns=[_C1.dig[_j]])


def _determines(base: bool) -> Callable[[BootEngine], Query]:
    def build(engine: BootEngine) -> Query:
        s1, s2 = (BootState.initial(),) * 2 if base else (_S1, _S2)
        st1, st2 = boot_step(engine, _C1, s1), boot_step(engine, _C2, s2)
        hyp = (
            ()
            if base
            else (
                s1.well_formed(),
                s1.next == s2.next,
                _running(s1),
                _running(s2),
                z3.Implies(s1.pcr == s2.pcr, _same_layers(s1.next)),
            )
        )

        def explain(m: z3.ModelRef) -> str:
            name = _Names(m)
            n = name.number(s1.next) + 1
            diff = [j for j in range(min(n, 8)) if not _b(m, _C1.dig[j] == _C2.dig[j])]
            return (
                f"two measured boots of {n} layer(s) end with the same PCR "
                f"{name(st1.after.pcr)}; boot 1 measured {name(_C1.dig[s1.next])} last, boot 2 "
                f"{name(_C2.dig[s2.next])}; their digests differ at layer(s) {diff}"
            )

        return Query(
            axioms=hash_axioms(),
            premises=(
                z3.Not(TRUSTED),
                *hyp,
                *st1.writes,
                *st2.writes,
                st1.after.pcr == st2.after.pcr,
            ),
            goal=_same_layers(s1.next + 1),
            explain=explain,
        )

    return build


@theorem(
    name="boot_measured_mode_never_halts",
    claim=(
        "A measured boot of any number of layers never halts: every layer is measured, "
        "logged and run, whatever the policy says. Its PCR determines the sequence of the "
        "layers' digests: two measured boots of n layers that end with the same PCR "
        "measured the same digests in the same order (history_unique's assumptions). "
        "Inductions on the number of layers: base = the first layer, step = any next one."
    ),
    spec="Spec: PROJECT adr.0005 run_boot - measured mode never checks and never halts",
    assumptions=(ONE_PCR, POLICY_PREDICATES, HASH_INJECTIVE, INIT_NOT_HASH, SPEC_STEP),
)
def boot_measured_mode_never_halts() -> list[Part[BootEngine]]:
    return [
        Part("base", _never_halts(True), ADR_ENGINE, CHECKS_MEASURED),
        Part("step", _never_halts(False), ADR_ENGINE, CHECKS_MEASURED),
        Part("determines_base", _determines(True), ADR_ENGINE, EXTEND_IGNORES_DIGEST),
        Part("determines_step", _determines(False), ADR_ENGINE, EXTEND_DROPS_OLD),
    ]


# ---------------------------------------------------------------- 6 policy updates

SignedPolicy = z3.DeclareSort("SignedPolicy")
VERSION = z3.Function("version", SignedPolicy, _INT)
KNOWN_SIGNER = z3.Function("signer_in_trust_store", SignedPolicy, _BOOL)
SIGNATURE_OK = z3.Function("signature_verifies", SignedPolicy, _BOOL)

VERSION_RANGE = Assumption(
    "policy_version_range",
    "a signed policy's version is an integer 0..2^63-1: spec/_boot_policy.py rejects any "
    "other value when it parses the policy (MAX_VERSION, 'must be an integer 0..2^63-1'), "
    "so every candidate PolicyStore.update sees has VERSION(candidate) >= 0, above the "
    "empty store's -1 (tests/proofs/test_boot_model.py checks the bounds)",
)
SPEC_STORE = Assumption(
    "spec_policy_store",
    "policy_update mirrors chainoftrust.spec.boot PolicyStore.update (checks 1-4); "
    "tests/proofs/test_boot_model.py (test_policy_update_model_matches_spec) evaluates it "
    "on random sequences of updates (signer, signature, expiry, version) and compares the "
    "decision, the installed policy and its version with the spec's after every update",
)
SIGNATURE_PREDICATE = Assumption(
    "policy_signature_predicate",
    "whether a signed policy's (alg, key) is in the trust store and whether its "
    "signature verifies over policy_signing_bytes are uninterpreted predicates of the "
    "signed policy (Ed25519 / ECDSA P-256 verification is tested, not modelled)",
)


@dataclass(frozen=True)
class StoreState:
    """PolicyStore: is a policy installed, which one, and (ghost) the greatest version
    ever installed (-1 before the first install)."""

    has: z3.BoolRef
    installed: z3.ExprRef
    maxv: z3.ArithRef

    @staticmethod
    def fresh(tag: str) -> StoreState:
        return StoreState(
            z3.Bool(f"{tag}_has"), z3.Const(f"{tag}_installed", SignedPolicy), z3.Int(f"{tag}_max")
        )

    @staticmethod
    def empty() -> StoreState:
        return StoreState(z3.BoolVal(False), z3.Const("no_policy", SignedPolicy), z3.IntVal(-1))


@dataclass(frozen=True)
class StoreModel(Model):
    """PolicyStore.update: the ADR's checks, or a broken twin."""

    first_install_checked: bool = True
    accepts_equal: bool = False


def policy_update(
    model: StoreModel, s: StoreState, c: z3.ExprRef, expired: z3.BoolRef
) -> tuple[StoreState, z3.BoolRef]:
    """ADR 0005 PolicyStore.update: (1) signer in the trust store, (2) signature valid,
    (3) not expired, (4) version greater than the installed one (when one is)."""
    signed = z3.And(KNOWN_SIGNER(c), SIGNATURE_OK(c))  # (1), (2)
    if not model.first_install_checked:
        signed = z3.Or(z3.Not(s.has), signed)
    newer = (
        VERSION(c) >= VERSION(s.installed)
        if model.accepts_equal
        else VERSION(c) > VERSION(s.installed)
    )
    accepted = z3.And(signed, z3.Not(expired), z3.Or(z3.Not(s.has), newer))  # (3), (4)
    maxv = z3.If(z3.And(accepted, VERSION(c) > s.maxv), VERSION(c), s.maxv)
    after = StoreState(z3.Or(s.has, accepted), z3.If(accepted, c, s.installed), maxv)
    return after, accepted


def _store_inv(s: StoreState) -> z3.BoolRef:
    p = s.installed
    return z3.And(
        z3.Implies(s.has, z3.And(VERSION(p) == s.maxv, KNOWN_SIGNER(p), SIGNATURE_OK(p))),
        z3.Implies(z3.Not(s.has), s.maxv == -1),
    )


_CAND = z3.Const("candidate", SignedPolicy)
_EXPIRED_NOW = z3.Bool("candidate_expired")
_T = StoreState.fresh("store")


def _update(base: bool) -> Callable[[StoreModel], Query]:
    def build(model: StoreModel) -> Query:
        s = StoreState.empty() if base else _T
        after, accepted = policy_update(model, s, _CAND, _EXPIRED_NOW)
        rules = z3.And(
            KNOWN_SIGNER(_CAND),
            SIGNATURE_OK(_CAND),
            z3.Not(_EXPIRED_NOW),
            z3.Implies(s.has, VERSION(_CAND) > s.maxv),
        )
        hyp = () if base else (_store_inv(s),)

        def explain(m: z3.ModelRef) -> str:
            def v(e: z3.ExprRef) -> str:
                return str(m.eval(e, model_completion=True))

            before = (
                f"installed version {v(VERSION(s.installed))} (greatest ever {v(s.maxv)})"
                if _b(m, s.has)
                else "no policy installed"
            )
            return (
                f"{before}; candidate version {v(VERSION(_CAND))}, signer in trust store "
                f"{_b(m, KNOWN_SIGNER(_CAND))}, signature verifies {_b(m, SIGNATURE_OK(_CAND))}, "
                f"expired {_b(m, _EXPIRED_NOW)}: accepted {_b(m, accepted)}; after: installed "
                f"version {v(VERSION(after.installed))} (greatest ever {v(after.maxv)})"
            )

        return Query(
            axioms=(Axiom(VERSION_RANGE, z3.And(VERSION(_CAND) >= 0, VERSION(_CAND) < 2**63)),),
            premises=hyp,
            goal=z3.And(_store_inv(after), z3.Implies(accepted, rules)),
            explain=explain,
        )

    return build


ADR_STORE = StoreModel("adr 0005", "checks 1-4 in order; the first install runs checks 1-3")
FIRST_INSTALL_UNCHECKED = StoreModel(
    "first install unchecked",
    "trust on first use: the first policy is installed without checking its signer or signature",
    first_install_checked=False,
)
ACCEPTS_EQUAL = StoreModel(
    "accepts equal versions",
    "the rollback check is version >= installed version",
    accepts_equal=True,
)


@theorem(
    name="policy_update_monotone",
    claim=(
        "PolicyStore.update accepts a policy only if its signer is in the trust store, its "
        "signature verifies, it has not expired and its version is greater than the "
        "installed one's; over any sequence of updates the installed policy is always "
        "signed by an authorised key and has the greatest version ever installed, and each "
        "accepted update strictly increases it: no sequence of updates installs a lower or "
        "equal version. Induction on the number of updates: base = the first update of an "
        "empty store, step = any update of a store satisfying the invariant."
    ),
    spec="Spec: PROJECT adr.0005 PolicyStore.update - signed, not expired, greater version",
    assumptions=(SIGNATURE_PREDICATE, VERSION_RANGE, SPEC_STORE),
)
def policy_update_monotone() -> list[Part[StoreModel]]:
    return [
        Part("base", _update(True), ADR_STORE, FIRST_INSTALL_UNCHECKED),
        Part("step", _update(False), ADR_STORE, ACCEPTS_EQUAL),
    ]
