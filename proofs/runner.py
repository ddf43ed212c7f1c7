"""The proof runner behind `chainoftrust prove [NAME...] [--json FILE] [--timeout S]`.

For every part of every theorem it runs three Z3 checks: the proof (unsat of the
negated goal), the vacuity check (axioms + premises satisfiable) and the negative
control (the same query over a broken model must be sat). A theorem is PROVED only
when all three pass for every part; a missing vacuity check or negative control makes
it INCOMPLETE, which fails the run like any other failure.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import z3
from chainoftrust.proofs.kernel import (
    CounterexampleError,
    NegativeControlError,
    ProofUnknownError,
    Proved,
    Query,
    VacuousError,
    check_vacuity,
    prove,
    refute,
)
from chainoftrust.proofs.registry import Part, Theorem, discover

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

PROVED = "PROVED"
FAILED = "FAILED"
UNKNOWN = "UNKNOWN"
INCOMPLETE = "INCOMPLETE"
ERROR = "ERROR"
OK = "ok"
MISSING = "missing"
_SEVERITY = {ERROR: 4, FAILED: 3, UNKNOWN: 2, INCOMPLETE: 1, PROVED: 0}
_CHECK_SEVERITY = {ERROR: 5, "VACUOUS": 4, "NO COUNTEREXAMPLE": 4, UNKNOWN: 3, MISSING: 2, OK: 0}


@dataclass
class PartResult:
    """The three checks of one part of a theorem."""

    part: str
    proof: str = ERROR
    vacuity: str = ERROR
    negative_control: str = ERROR
    seconds: float = 0.0
    used: tuple[str, ...] = ()
    details: list[str] = field(default_factory=list)
    negative_counterexample: str | None = None

    @property
    def verdict(self) -> str:
        checks = (self.vacuity, self.negative_control)
        if ERROR in (self.proof, *checks):
            return ERROR
        if self.proof != PROVED or "VACUOUS" in checks or "NO COUNTEREXAMPLE" in checks:
            return FAILED
        if UNKNOWN in checks:
            return UNKNOWN
        if MISSING in checks:
            return INCOMPLETE
        return PROVED


@dataclass
class TheoremResult:
    """A theorem's verdict: the worst of its parts'."""

    theorem: Theorem
    parts: list[PartResult]
    seconds: float
    error: str | None = None

    @property
    def result(self) -> str:
        if self.error is not None or not self.parts:
            return ERROR
        return max((p.verdict for p in self.parts), key=_SEVERITY.__getitem__)

    def _worst(self, attr: str) -> str:
        if not self.parts:
            return ERROR
        values = [getattr(p, attr) for p in self.parts]
        return max(values, key=lambda v: _CHECK_SEVERITY.get(v, 5))

    @property
    def vacuity(self) -> str:
        return self._worst("vacuity")

    @property
    def negative_control(self) -> str:
        return self._worst("negative_control")

    @property
    def ok(self) -> bool:
        return self.result == PROVED

    def details(self) -> list[str]:
        out = [] if self.error is None else [self.error]
        for part in self.parts:
            out.extend(f"[{part.part}] {d}" for d in part.details)
        return out

    def to_json(self) -> dict[str, Any]:
        thm = self.theorem
        return {
            "theorem": thm.name,
            "result": self.result,
            "vacuity": self.vacuity,
            "negative_control": self.negative_control,
            "seconds": round(self.seconds, 3),
            "spec": thm.spec,
            "claim": thm.claim,
            "assumptions": [{"name": a.name, "reason": a.reason} for a in thm.assumptions],
            "parts": [
                {
                    "part": p.part,
                    "result": p.verdict,
                    "proof": p.proof,
                    "vacuity": p.vacuity,
                    "negative_control": p.negative_control,
                    "seconds": round(p.seconds, 3),
                    "axioms_used": list(p.used),
                    "details": p.details,
                    "negative_control_counterexample": p.negative_counterexample,
                }
                for p in self.parts
            ],
            "error": self.error,
        }


def _build(part: Part[Any], broken: bool) -> Query:
    model = part.broken if broken else part.model
    return part.build(model)


def _undeclared(thm: Theorem, query: Query) -> list[str]:
    declared = {a.name for a in thm.assumptions}
    return sorted({a.assumption.name for a in query.axioms} - declared)


def _run_proof(thm: Theorem, part: Part[Any], res: PartResult, timeout: float) -> Query | None:
    try:
        query = _build(part, broken=False)
    except Exception as exc:  # noqa: BLE001 (a broken builder is reported, never hidden)
        res.details.append(f"building the query raised {type(exc).__name__}: {exc}")
        return None
    undeclared = _undeclared(thm, query)
    if undeclared:
        res.details.append(f"axioms under undeclared assumptions: {', '.join(undeclared)}")
        return None
    try:
        proved: Proved = prove(query, theorem=thm.name, part=part.name, timeout=timeout)
    except CounterexampleError as exc:
        res.proof = FAILED
        res.details.append(
            "COUNTEREXAMPLE (the claim is false under the model):\n" + exc.countermodel
        )
    except ProofUnknownError as exc:
        res.proof = UNKNOWN
        res.details.append(exc.message)
    except Exception as exc:  # noqa: BLE001 (reported as ERROR, never hidden)
        res.details.append(f"the proof raised {type(exc).__name__}: {exc}")
    else:
        res.proof = PROVED
        res.used = proved.used
    return query


def _run_vacuity(thm: Theorem, part: Part[Any], query: Query, res: PartResult, t: float) -> None:
    if query.premises is None:
        res.vacuity = MISSING
        res.details.append("no vacuity check declared (the query has no premises)")
        return
    try:
        check_vacuity(query, theorem=thm.name, part=part.name, timeout=t)
    except VacuousError as exc:
        res.vacuity = "VACUOUS"
        res.details.append(exc.message)
    except ProofUnknownError as exc:
        res.vacuity = UNKNOWN
        res.details.append("vacuity check: " + exc.message)
    except Exception as exc:  # noqa: BLE001 (reported as ERROR, never hidden)
        res.details.append(f"vacuity check raised {type(exc).__name__}: {exc}")
    else:
        res.vacuity = OK


def _run_negative(thm: Theorem, part: Part[Any], res: PartResult, timeout: float) -> None:
    if part.broken is None:
        res.negative_control = MISSING
        res.details.append("no negative control declared (no broken model)")
        return
    try:
        query = _build(part, broken=True)
        cex = refute(query, theorem=thm.name, part=part.name, timeout=timeout)
    except NegativeControlError as exc:
        res.negative_control = "NO COUNTEREXAMPLE"
        res.details.append(f"negative control '{part.broken.name}': {exc.message}")
    except ProofUnknownError as exc:
        res.negative_control = UNKNOWN
        res.details.append("negative control: " + exc.message)
    except Exception as exc:  # noqa: BLE001 (reported as ERROR, never hidden)
        res.details.append(f"negative control raised {type(exc).__name__}: {exc}")
    else:
        res.negative_control = OK
        res.negative_counterexample = f"broken model '{part.broken.name}': {cex}"


def run_part(thm: Theorem, part: Part[Any], timeout: float) -> PartResult:
    """Run the proof, the vacuity check and the negative control of one part."""
    res = PartResult(part=part.name)
    start = time.perf_counter()
    query = _run_proof(thm, part, res, timeout)
    if query is not None:
        _run_vacuity(thm, part, query, res, timeout)
        _run_negative(thm, part, res, timeout)
    res.seconds = time.perf_counter() - start
    return res


def run_theorem(thm: Theorem, timeout: float = 60.0) -> TheoremResult:
    """Run every part of a theorem; never raises for a failing theorem."""
    start = time.perf_counter()
    try:
        parts = list(thm.parts())
    except Exception as exc:  # noqa: BLE001 (reported as ERROR, with the exception)
        msg = f"declaring the parts raised {type(exc).__name__}: {exc}"
        return TheoremResult(thm, [], time.perf_counter() - start, error=msg)
    if not parts:
        return TheoremResult(thm, [], time.perf_counter() - start, error="no parts declared")
    results = [run_part(thm, part, timeout) for part in parts]
    return TheoremResult(thm, results, time.perf_counter() - start)


def _table(results: Sequence[TheoremResult]) -> str:
    header = ("theorem", "result", "vacuity", "negative control", "seconds", "spec section")
    rows = [
        (
            r.theorem.name,
            r.result,
            r.vacuity,
            r.negative_control,
            f"{r.seconds:.2f}",
            r.theorem.spec.removeprefix("Spec: "),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(5)]

    def fmt(row: tuple[str, ...]) -> str:
        cells = [row[i].ljust(widths[i]) for i in range(5)]
        cells[4] = row[4].rjust(widths[4])
        return "  ".join([*cells, row[5]]).rstrip()

    rule = "  ".join("-" * w for w in widths) + "  " + "-" * 12
    return "\n".join([fmt(header), rule, *(fmt(row) for row in rows)])


def run_all(
    theorems: Iterable[Theorem], timeout: float, progress: TextIO | None = None
) -> list[TheoremResult]:
    """Run theorems in order, writing one progress line per theorem as it finishes."""
    todo = list(theorems)
    results = []
    for i, thm in enumerate(todo, 1):
        res = run_theorem(thm, timeout)
        results.append(res)
        if progress is not None:
            progress.write(
                f"[{i:2d}/{len(todo)}] {res.result:<10} {thm.name} ({res.seconds:.2f} s)\n"
            )
            progress.flush()
    return results


def to_json(results: Sequence[TheoremResult], seconds: float) -> dict[str, Any]:
    """The JSON report: one object per theorem, plus the run's totals."""
    return {
        "ok": all(r.ok for r in results),
        "seconds": round(seconds, 3),
        "z3": z3.get_version_string(),
        "theorems": [r.to_json() for r in results],
    }


def run_cli(names: list[str], json_out: str | None, timeout: float) -> int:
    """`chainoftrust prove`: exit 0 only when every theorem is PROVED with both checks."""
    registry = discover()
    unknown = [n for n in names if n not in registry.theorems]
    if unknown:
        sys.stderr.write(f"chainoftrust prove: unknown theorem(s): {', '.join(unknown)}\n")
        sys.stderr.write("theorems:\n" + "".join(f"  {n}\n" for n in registry.names()))
        return EXIT_USAGE
    chosen = [registry.theorems[n] for n in (names or registry.names())]
    start = time.perf_counter()
    results = run_all(chosen, timeout, progress=sys.stderr)
    total = time.perf_counter() - start
    out = sys.stdout
    out.write(_table(results) + "\n")
    for res in results:
        if not res.ok:
            out.write(f"\n{res.theorem.name}: {res.result}\n")
            out.write("".join(f"  {line}\n" for d in res.details() for line in d.splitlines()))
    proved = sum(r.ok for r in results)
    out.write(f"\n{proved}/{len(results)} theorems proved in {total:.2f} s\n")
    if json_out is not None:
        Path(json_out).write_text(
            json.dumps(to_json(results, total), indent=2) + "\n", encoding="utf-8"
        )
    return EXIT_OK if proved == len(results) else EXIT_FAILURE
