"""Where theorems are declared (once each) and found.

A theorem is a name, a claim in words, the `Spec:` section it covers, its named
assumptions, and one or more *parts* (a plain theorem has one part, "claim"; an
induction has "base" and "step"; a theorem may add a lemma part). Each part is a
`build(model) -> Query` together with the model it is proved under and the
deliberately broken model (the negative control) under which the same `build` must
yield a counterexample. The vacuity check is the query's `premises` (None = missing).

Declare with the `theorem` decorator on a function returning the parts; the decorator
writes the function's docstring from the declaration and registers it. The runner
imports every `thm_*` module of this package (`discover`).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from chainoftrust.proofs.kernel import Assumption, Query

SPEC_KEYS = (
    "TPM2-P1",
    "TPM2-P2",
    "TPM2-P3",
    "PTP",
    "PFP",
    "TCG-ALG",
    "FIPS-180-4",
    "FIPS-202",
    "GBT-32905",
    "MSREF",
    "PROJECT",
)
_SPEC_LINE = re.compile(r"^Spec: (?P<key>[A-Z0-9-]+) \S.* - \S.*$")


@dataclass(frozen=True)
class Model:
    """A model a query is built over: the real one, or a broken twin (negative control)."""

    name: str
    description: str


M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Part(Generic[M]):
    """One obligation of a theorem, with its model and its broken twin."""

    name: str
    build: Callable[[M], Query]
    model: M
    broken: M | None


@dataclass(frozen=True)
class Theorem:
    """A declared theorem; `parts()` builds its obligations lazily."""

    name: str
    claim: str
    spec: str
    assumptions: tuple[Assumption, ...]
    parts: Callable[[], Sequence[Part[Any]]]
    module: str = ""


@dataclass
class Registry:
    """Theorems by name, in declaration order; a name is declared once."""

    theorems: dict[str, Theorem] = field(default_factory=dict)

    def add(self, thm: Theorem) -> Theorem:
        if thm.name in self.theorems:
            raise ValueError(f"theorem {thm.name!r} declared twice")
        self.theorems[thm.name] = thm
        return thm

    def names(self) -> list[str]:
        return list(self.theorems)


REGISTRY = Registry()


def check_spec_line(spec: str) -> None:
    """A theorem's section is a `Spec: KEY locator - title` line with a known key."""
    match = _SPEC_LINE.match(spec)
    if match is None or match.group("key") not in SPEC_KEYS:
        raise ValueError(f"not a Spec line with a known key: {spec!r}")


def theorem(
    *,
    name: str,
    claim: str,
    spec: str,
    assumptions: Sequence[Assumption],
    registry: Registry | None = None,
) -> Callable[[Callable[[], Sequence[Part[Any]]]], Theorem]:
    """Declare a theorem: the decorated function returns its parts."""
    check_spec_line(spec)

    def wrap(fn: Callable[[], Sequence[Part[Any]]]) -> Theorem:
        lines = [claim, "", spec, "", "Assumptions:"]
        lines += [f"- {a.name}: {a.reason}" for a in assumptions]
        fn.__doc__ = "\n".join(lines)
        thm = Theorem(name, claim, spec, tuple(assumptions), fn, fn.__module__)
        return (REGISTRY if registry is None else registry).add(thm)

    return wrap


def discover() -> Registry:
    """Import every `thm_*` module of chainoftrust.proofs; return the global registry."""
    package = importlib.import_module("chainoftrust.proofs")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name.startswith("thm_"):
            importlib.import_module(f"chainoftrust.proofs.{info.name}")
    return REGISTRY
