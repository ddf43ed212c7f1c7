"""The proof kernel: every Z3 query of the suite goes through `prove`, `check_vacuity`
or `refute` (STYLE.md section 8; after knuckledragger's `kernel.py`).

- `prove` asserts the axioms and premises and the *negated* goal; unsat returns a
  frozen `Proved` record, sat raises `CounterexampleError` with the countermodel decoded
  into domain terms, unknown/timeout raises `ProofUnknownError` and saves the SMT-LIB
  text of the query under `proof-failures/` (relative to the working directory).
- `check_vacuity` asserts the axioms and premises alone: they must be satisfiable,
  else every conclusion would follow vacuously (`VacuousError`).
- `refute` runs a query built over a deliberately broken model (the negative
  control): it must be sat, and returns the decoded counterexample; unsat raises
  `NegativeControlError` (the query cannot tell a broken model from a correct one).

`z3.prove` is never used: it only prints.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import z3

FAILURES_DIR = Path("proof-failures")

Explain = Callable[[z3.ModelRef], str]


@dataclass(frozen=True, slots=True)
class Assumption:
    """A named modelling assumption, with the reason it is justified."""

    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Axiom:
    """A formula asserted under a named assumption."""

    assumption: Assumption
    formula: z3.BoolRef


@dataclass(frozen=True)
class Query:
    """One Z3 obligation: under `axioms` and `premises`, `goal` holds.

    `premises` are the hypotheses of the claim (including an induction hypothesis);
    `None` means no vacuity check was declared. `explain` decodes a model of
    axioms + premises + not(goal) into domain terms (PCRs, operations, values).
    """

    axioms: tuple[Axiom, ...]
    premises: tuple[z3.BoolRef, ...] | None
    goal: z3.BoolRef
    explain: Explain


@dataclass(frozen=True, slots=True)
class Proved:
    """The record of a discharged obligation (unsat of axioms + premises + not goal)."""

    theorem: str
    part: str
    seconds: float
    axioms: tuple[str, ...]
    used: tuple[str, ...]


class ProofError(Exception):
    """Root of the kernel's failures; names the theorem and the part."""

    def __init__(self, theorem: str, part: str, message: str) -> None:
        super().__init__(f"{theorem} [{part}]: {message}")
        self.theorem = theorem
        self.part = part
        self.message = message


class CounterexampleError(ProofError):
    """The negated goal is satisfiable: `countermodel` says how, in domain terms."""

    def __init__(self, theorem: str, part: str, countermodel: str) -> None:
        super().__init__(theorem, part, "counterexample:\n" + countermodel)
        self.countermodel = countermodel


class ProofUnknownError(ProofError):
    """Z3 answered unknown (timeout, incompleteness); the query is saved as SMT-LIB."""

    def __init__(self, theorem: str, part: str, reason: str, smt2_path: Path) -> None:
        super().__init__(theorem, part, f"unknown ({reason}); SMT-LIB query saved to {smt2_path}")
        self.reason = reason
        self.smt2_path = smt2_path


class VacuousError(ProofError):
    """The axioms and premises are unsatisfiable: the proof would hold vacuously."""


class NegativeControlError(ProofError):
    """The query found no counterexample under a deliberately broken model."""


def _solver(timeout: float) -> z3.Solver:
    solver = z3.Solver()
    solver.set("timeout", max(1, int(timeout * 1000)))
    return solver


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def save_smt2(solver: z3.Solver, theorem: str, part: str, check: str) -> Path:
    """Write the solver's assertions as SMT-LIB 2 to proof-failures/ and return the path."""
    FAILURES_DIR.mkdir(parents=True, exist_ok=True)
    path = FAILURES_DIR / f"{_safe(theorem)}.{_safe(part)}.{_safe(check)}.smt2"
    header = f"; chainoftrust proof suite: theorem {theorem}, part {part}, check {check}\n"
    path.write_text(header + solver.to_smt2(), encoding="utf-8")
    return path


def _add_tracked(solver: z3.Solver, named: list[tuple[str, z3.BoolRef]]) -> None:
    grouped: dict[str, list[z3.BoolRef]] = {}
    for name, formula in named:
        grouped.setdefault(name, []).append(formula)
    for name, formulas in grouped.items():
        solver.assert_and_track(z3.And(*formulas), z3.Bool(f"axiom:{name}"))


def _ground_terms(formulas: list[z3.ExprRef]) -> list[z3.ExprRef]:
    """Every application with arguments and no bound variable in `formulas`, each once
    (iterative: enumerated tables are deep if-then-else chains)."""
    has_var: dict[int, bool] = {}
    found: list[z3.ExprRef] = []
    stack: list[tuple[z3.ExprRef, bool]] = [(f, False) for f in formulas]
    while stack:
        e, children_done = stack.pop()
        key = e.get_id()
        if key in has_var:
            continue
        if z3.is_var(e) or z3.is_quantifier(e):
            has_var[key] = True  # terms under a binder are not ground instances
            continue
        kids = e.children()
        if not children_done:
            stack.append((e, True))
            stack.extend((c, False) for c in kids if c.get_id() not in has_var)
            continue
        has_var[key] = any(has_var.get(c.get_id(), False) for c in kids)
        if not has_var[key] and kids:
            found.append(e)
    return found


def _instances(q: z3.QuantifierRef, terms: list[z3.ExprRef]) -> list[z3.BoolRef]:
    """Instances of a single-pattern universal axiom at the ground terms matching it."""
    if q.num_patterns() != 1 or q.pattern(0).num_args() != 1:
        raise ValueError(f"axiom needs exactly one single-term pattern: {q}")
    pat = q.pattern(0).arg(0)
    slots = [z3.get_var_index(a) if z3.is_var(a) else -1 for a in pat.children()]
    if sorted(slots) != list(range(q.num_vars())):
        raise ValueError(f"the pattern must be f(bound variables): {q}")
    out = []
    for t in terms:
        if t.decl().eq(pat.decl()) and t.num_args() == len(slots):
            values = [t.arg(slots.index(idx)) for idx in range(q.num_vars())]
            out.append(z3.substitute_vars(q.body(), *values))
    return out


def ground_axioms(query: Query) -> list[tuple[str, z3.BoolRef]]:
    """The axioms, each universal one replaced by its instances at the query's terms,
    with the name of the assumption each formula comes from.

    The hash axioms (injective H whose image misses the init values) have only infinite
    models, which Z3's model finder cannot build; the satisfiability checks (vacuity,
    negative control, and the search for a counterexample) therefore use the axioms'
    instances at every ground application in the query.
    """
    plain = [
        (a.assumption.name, a.formula) for a in query.axioms if not z3.is_quantifier(a.formula)
    ]
    if len(plain) == len(query.axioms):
        return plain
    terms = _ground_terms([f for _, f in plain] + [*(query.premises or ()), query.goal])
    out = list(plain)
    for axiom in query.axioms:
        if z3.is_quantifier(axiom.formula):
            out.extend((axiom.assumption.name, f) for f in _instances(axiom.formula, terms))
    return out


def _check(solver: z3.Solver, theorem: str, part: str, check: str) -> z3.CheckSatResult:
    result = solver.check()
    if result == z3.unknown:
        path = save_smt2(solver, theorem, part, check)
        raise ProofUnknownError(theorem, part, solver.reason_unknown(), path)
    return result


def _explain(query: Query, model: z3.ModelRef) -> str:
    try:
        return query.explain(model)
    except z3.Z3Exception as exc:  # the decoder itself must not hide the countermodel
        return f"(decoder failed: {exc})\n{model}"


def prove(query: Query, *, theorem: str, part: str, timeout: float) -> Proved:
    """Discharge `query`: unsat of axioms + premises + not(goal) returns `Proved`.

    First with the axioms' ground instances at the query's terms (decidable, and
    sound: instances are consequences); if that is sat, with the universal axioms
    themselves (E-matching may need terms the query does not mention). A model of the
    first query is reported as the counterexample when the second one is not unsat.
    """
    names = tuple(dict.fromkeys(a.assumption.name for a in query.axioms))
    start = time.perf_counter()
    attempts = [ground_axioms(query)]
    if any(z3.is_quantifier(a.formula) for a in query.axioms):
        attempts.append([(a.assumption.name, a.formula) for a in query.axioms])
    countermodel: str | None = None
    for i, axioms in enumerate(attempts):
        solver = _solver(timeout)
        _add_tracked(solver, axioms)
        solver.add(*(query.premises or ()))
        solver.add(z3.Not(query.goal))
        result = solver.check()
        if result == z3.unsat:
            used = tuple(sorted(str(c).removeprefix("axiom:") for c in solver.unsat_core()))
            seconds = time.perf_counter() - start
            return Proved(theorem=theorem, part=part, seconds=seconds, axioms=names, used=used)
        if result == z3.sat:
            countermodel = _explain(query, solver.model())
            if i == len(attempts) - 1 or i > 0:
                break
            continue
        if countermodel is None:  # unknown, and no ground model to show
            path = save_smt2(solver, theorem, part, "proof")
            raise ProofUnknownError(theorem, part, solver.reason_unknown(), path)
    if countermodel is None:  # pragma: no cover (every path above sets it or returns)
        raise ProofError(theorem, part, "no answer")
    if len(attempts) > 1:
        countermodel += (
            "\n(a model of every instance of the axioms at the query's terms; Z3 cannot "
            "build the infinite models of the universal axioms themselves)"
        )
    raise CounterexampleError(theorem, part, countermodel)


def check_vacuity(query: Query, *, theorem: str, part: str, timeout: float) -> None:
    """The axioms and premises of `query` must be satisfiable together."""
    if query.premises is None:
        raise ValueError("no vacuity check declared")
    solver = _solver(timeout)
    solver.add(*(f for _, f in ground_axioms(query)))
    solver.add(*query.premises)
    if _check(solver, theorem, part, "vacuity") == z3.unsat:
        raise VacuousError(theorem, part, "axioms and premises are unsatisfiable")


def refute(query: Query, *, theorem: str, part: str, timeout: float) -> str:
    """A query over a broken model must be sat; returns the decoded counterexample."""
    solver = _solver(timeout)
    solver.add(*(f for _, f in ground_axioms(query)))
    solver.add(*(query.premises or ()))
    solver.add(z3.Not(query.goal))
    if _check(solver, theorem, part, "negative-control") == z3.unsat:
        raise NegativeControlError(
            theorem, part, "the broken model yields no counterexample: the query cannot fail"
        )
    return _explain(query, solver.model())
