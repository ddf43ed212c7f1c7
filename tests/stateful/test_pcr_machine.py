"""A state machine drives impl.pcr.Tpm with spec.pcr.Tpm as the model.

After every step both TPMs read equal and report the same `started`; a step either
succeeds on both or fails on both with the same error class, code and TPM_RC, and a
failed step changes nothing. Independent invariants (expected values from hashlib and
the PC Client PCR attribute table, not from the code under test):
- read() returns exactly the allocated banks, ascending TPM_ALG_ID, 24 values each of
  the bank's digest size; an extend naming only unallocated banks changes nothing;
- PCR17..22 read all-0xFF until a DRTM, a reset or an extend touches them since the last
  Startup; right after a reset all-zero; right after a DRTM 18..22 zero and
  PCR17 = H(0...0 || H(data));
- after Startup(CLEAR), PCR1..16 and 23 are zero and PCR0 is 0...0||locality, or
  H(0...04 || H(data)) after an H-CRTM; after Startup(STATE), PCR0..15 are what they were
  at Shutdown(STATE) and 16..23 are re-initialised.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import hashes as impl_hashes
from chainoftrust.impl import pcr as impl_pcr
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import hashes as spec_hashes
from chainoftrust.spec import pcr as spec_pcr
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from tests.strategies import ALGORITHM_IDS, ALGORITHMS

ID_TO_NAME = {alg_id: name for name, (alg_id, _) in ALGORITHMS.items()}
SIZE = {alg_id: size for alg_id, size in ALGORITHMS.values()}
DYNAMIC = range(17, 23)  # the PCRs whose startup value is all-0xFF (reset at locality 4)

Bank = dict[int, tuple[bytes, ...]]  # TPM_ALG_ID -> 24 values
Step = tuple[Any, ...]


def _h(alg_id: int, data: bytes) -> bytes:
    name = ID_TO_NAME[alg_id]
    return hashlib.new("sm3" if name == "sm3_256" else name, data).digest()


def _localities() -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, 4), st.integers(0, 4), st.sampled_from((-1, 5)))


def _pcrs() -> st.SearchStrategy[int]:
    # A few PCRs of each attribute class often (so steps interact), any PCR sometimes.
    return st.sampled_from((0, 7, 16, 17, 19, 20, 22, 23) * 4 + tuple(range(24)) + (-1, 24))


class PcrMachine(RuleBasedStateMachine):
    """impl.Tpm against spec.Tpm, with the invariants of the module docstring."""

    def __init__(self) -> None:
        super().__init__()
        self.banks: tuple[int, ...] = ()
        self.spec: Any = None
        self.impl: Any = None
        # Per bank, expected PCR17..22: b"ff", b"zero", ("drtm", data) or None (extended).
        self.dynamic: dict[int, dict[int, Any]] = {}
        self.hcrtm_data: bytes | None = None  # H-CRTM since the last power cycle
        self.saved_low: Bank | None = None  # PCR0..15 at the last Shutdown(STATE)

    @initialize(banks=st.lists(st.sampled_from(ALGORITHM_IDS), min_size=1, max_size=4, unique=True))
    def allocate(self, banks: list[int]) -> None:
        self.banks = tuple(sorted(banks))
        self.spec = spec_pcr.Tpm([spec_hashes.HashAlg(b) for b in banks])
        self.impl = impl_pcr.Tpm([impl_hashes.HashAlg(b) for b in banks])
        self._reinit_dynamic(b"ff")

    def _reinit_dynamic(self, value: bytes) -> None:
        self.dynamic = {alg: dict.fromkeys(DYNAMIC, value) for alg in self.banks}

    # --- running one step on both --------------------------------------------------------

    def _read(self, tpm: Any) -> Bank:
        """Both packages refuse read() before Startup (NOT_STARTED): an empty dict then."""
        try:
            values = tpm.read()
        except (spec_errors.TpmRefusalError, impl_errors.TpmRefusalError) as err:
            assert str(err.code) == "NOT_STARTED"
            assert not tpm.started
            return {}
        return {int(alg): tuple(v) for alg, v in values.items()}

    def _both(self, step: Callable[[Any, Any], None]) -> bool:
        """Run step(tpm, hashes module) on both; compare; True when both succeeded."""
        before = (self._read(self.spec), self.spec.started)
        results: list[Step] = []
        for tpm, hashes in ((self.spec, spec_hashes), (self.impl, impl_hashes)):
            try:
                step(tpm, hashes)
                results.append(("ok",))
            except (spec_errors.SpecError, impl_errors.ImplError) as err:
                results.append(
                    ("error", type(err).__name__, str(err.code), getattr(err, "tpm_rc", None))
                )
        assert results[0] == results[1], f"spec {results[0]} != impl {results[1]}"
        if results[0][0] == "error":  # a refused or malformed step changes nothing
            assert (self._read(self.spec), self.spec.started) == before
            assert (self._read(self.impl), self.impl.started) == before
            return False
        return True

    # --- rules ---------------------------------------------------------------------------

    @rule(
        startup_type=st.sampled_from(("clear", "clear", "state", "restart")), locality=_localities()
    )
    def startup(self, startup_type: str, locality: int) -> None:
        if not self._both(lambda tpm, _: tpm.startup(startup_type, locality)):
            return
        values = self._read(self.spec)
        for alg, bank in values.items():
            size = SIZE[alg]
            if startup_type == "state":
                assert self.saved_low, "a resume succeeded without Shutdown(STATE)"
                assert self.saved_low is not None, "a resume succeeded without Shutdown(STATE)"
                assert bank[:16] == self.saved_low[alg], "resume must restore PCR0..15"
            elif self.hcrtm_data is not None:
                expected = _h(alg, bytes(size - 1) + b"\x04" + _h(alg, self.hcrtm_data))
                assert bank[0] == expected, "PCR0 after H-CRTM"
            else:
                assert bank[0] == bytes(size - 1) + bytes([locality]), "PCR0 = startup locality"
            if startup_type == "clear":
                assert all(v == bytes(size) for v in bank[1:16]), "PCR1..15 start at zero"
            assert bank[16] == bank[23] == bytes(size), "PCR16, 23 start at zero"
        self._reinit_dynamic(b"ff")
        self.saved_low = None  # Startup consumes the saved state (ADR 0001 semantics 2)
        self.hcrtm_data = None

    @rule(shutdown_type=st.sampled_from(("clear", "state", "state", "hibernate")))
    def shutdown(self, shutdown_type: str) -> None:
        low = {alg: bank[:16] for alg, bank in self._read(self.spec).items()}
        if self._both(lambda tpm, _: tpm.shutdown(shutdown_type)):
            self.saved_low = low if shutdown_type == "state" else None
            self.hcrtm_data = None

    @rule(
        pcr=_pcrs(),
        locality=_localities(),
        entries=st.lists(
            st.tuples(
                st.sampled_from(ALGORITHM_IDS),
                st.sampled_from((0, 0, 0, 0, -1, 1)),
                st.binary(min_size=64, max_size=64),
            ),
            max_size=4,
        ),
    )
    def extend(self, pcr: int, locality: int, entries: list[tuple[int, int, bytes]]) -> None:
        pairs = [(alg, seed[: SIZE[alg] + delta]) for alg, delta, seed in entries]
        before = self._read(self.spec)
        ok = self._both(
            lambda tpm, h: tpm.extend(pcr, locality, [(h.HashAlg(a), d) for a, d in pairs])
        )
        if not ok:
            return
        if not any(alg in self.banks for alg, _ in pairs):
            assert self._read(self.spec) == before, "extend of unallocated banks only"
        for alg, _ in pairs:
            if alg in self.dynamic and pcr in DYNAMIC:
                self.dynamic[alg][pcr] = None

    @rule(
        pcr=_pcrs(),
        locality=_localities(),
        data=st.one_of(st.binary(max_size=40), st.binary(min_size=1020, max_size=1030)),
    )
    def event(self, pcr: int, locality: int, data: bytes) -> None:
        if self._both(lambda tpm, _: tpm.event(pcr, locality, data)) and pcr in DYNAMIC:
            for bank in self.dynamic.values():
                bank[pcr] = None

    @rule(pcr=_pcrs(), locality=_localities())
    def reset(self, pcr: int, locality: int) -> None:
        if self._both(lambda tpm, _: tpm.reset(pcr, locality)):
            for alg, values in self._read(self.spec).items():
                assert values[pcr] == bytes(SIZE[alg]), "TPM2_PCR_Reset sets zero"
            if pcr in DYNAMIC:
                for expected in self.dynamic.values():
                    expected[pcr] = b"zero"

    @rule(data=st.binary(max_size=40))
    def hcrtm(self, data: bytes) -> None:
        if self._both(lambda tpm, _: tpm.hcrtm(data)):
            self.hcrtm_data = data

    @rule(data=st.binary(max_size=40))
    def drtm(self, data: bytes) -> None:
        if self._both(lambda tpm, _: tpm.drtm(data)):
            self._reinit_dynamic(b"zero")
            for bank in self.dynamic.values():
                bank[17] = ("drtm", data)

    # --- invariants ----------------------------------------------------------------------

    @precondition(lambda self: self.spec is not None)
    @invariant()
    def spec_and_impl_agree(self) -> None:
        assert self._read(self.spec) == self._read(self.impl)
        assert self.spec.started == self.impl.started

    @precondition(lambda self: self.spec is not None and self.spec.started)
    @invariant()
    def banks_are_the_allocated_ones(self) -> None:
        values = self._read(self.impl)
        assert list(values) == list(self.banks)
        for alg, bank in values.items():
            assert len(bank) == 24
            assert all(len(v) == SIZE[alg] for v in bank)

    @precondition(lambda self: self.spec is not None and self.spec.started)
    @invariant()
    def dynamic_pcrs_come_from_drtm_or_reset(self) -> None:
        for alg, bank in self._read(self.impl).items():
            size = SIZE[alg]
            for pcr, expected in self.dynamic[alg].items():
                if expected == b"ff":
                    assert bank[pcr] == b"\xff" * size, f"PCR{pcr} untouched since Startup"
                elif expected == b"zero":
                    assert bank[pcr] == bytes(size), f"PCR{pcr} reset"
                elif expected is not None:
                    assert bank[pcr] == _h(alg, bytes(size) + _h(alg, expected[1])), "DRTM"
                else:
                    assert bank[pcr] != b"\xff" * size, f"PCR{pcr} extended from a known value"


TestPcrMachine = PcrMachine.TestCase
