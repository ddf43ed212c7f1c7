"""The Z3 boot transition of proofs/thm_boot.py, evaluated on concrete chains, agrees with
chainoftrust.spec.boot (boot_step, run_boot, PolicyStore.update).

The symbolic model abstracts a boot to one bank and one PCR and the policy check to four
predicates (thm_boot's assumptions one_pcr_one_bank and policy_check_predicates); these
tests instantiate the abstraction on random concrete chains: every layer extends the
same PCR of a SHA-256 chain, the predicates are read off the policy document (ADR 0005
3a-3d), the digest constants are the layers' SHA-256 digests and H is SHA-256 over
old || new (hashlib, not the spec). After every step the model's PCR, log, layers run
and halt must equal the spec's: the evidence for thm_boot's assumption spec_boot_step.
PolicyStore.update is compared the same way with thm_boot.policy_update (the evidence for
spec_policy_store), and the parser's version range with policy_version_range.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import z3
from chainoftrust.proofs import thm_boot as tb
from chainoftrust.proofs.model import ZERO, Digest, H
from chainoftrust.spec import boot
from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import HashAlg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import example, given, settings
from hypothesis import strategies as st

SHA256 = HashAlg.SHA256
NOW = datetime(2027, 1, 1, tzinfo=UTC)
POOL = (b"crtm", b"bootloader", b"kernel")
POOL_DIGESTS = tuple(hashlib.sha256(d).digest() for d in POOL)


@dataclass(frozen=True)
class LayerCase:
    data: int  # index into POOL
    entry: str  # "none" | "other-bank" | "list"
    listed: frozenset[int]  # pool indices in the entry's sha256 list


@dataclass(frozen=True)
class BootCase:
    layers: tuple[LayerCase, ...]
    pcr: int
    revoked: frozenset[int]
    expired: bool
    trusted: bool


_pool_sets = st.frozensets(st.integers(0, len(POOL) - 1))
_layer_cases = st.builds(
    LayerCase,
    data=st.integers(0, len(POOL) - 1),
    entry=st.sampled_from(("none", "other-bank", "list", "list", "list")),
    listed=_pool_sets,
)
boot_cases = st.builds(
    BootCase,
    layers=st.lists(_layer_cases, min_size=1, max_size=5).map(tuple),
    pcr=st.integers(0, 15),
    revoked=_pool_sets.filter(lambda s: len(s) <= 1),
    expired=st.booleans(),
    trusted=st.booleans(),
)


def _policy(case: BootCase) -> boot.SignedPolicy:
    layers: dict[str, dict[HashAlg, tuple[bytes, ...]]] = {}
    for i, layer in enumerate(case.layers):
        if layer.entry == "other-bank":
            layers[f"l{i}"] = {HashAlg.SHA384: (bytes(48),)}
        elif layer.entry == "list":
            layers[f"l{i}"] = {SHA256: tuple(POOL_DIGESTS[k] for k in sorted(layer.listed))}
    expires = datetime(2026 if case.expired else 2028, 1, 1, tzinfo=UTC)
    revoked = {SHA256: tuple(POOL_DIGESTS[k] for k in sorted(case.revoked))}
    return boot.SignedPolicy({}, "p", 1, expires, layers, revoked, "ed25519", bytes(32), bytes(64))


class Concrete:
    """The symbolic chain instantiated: digest and name constants, predicate values."""

    def __init__(self, case: BootCase) -> None:
        self.case = case
        self.digests = [z3.Const(f"D{k}", Digest) for k in range(len(POOL))]
        self.names = [z3.Const(f"l{i}", tb.LayerName) for i in range(len(case.layers))]
        dig = z3.K(z3.IntSort(), self.digests[0])
        name = z3.K(z3.IntSort(), self.names[0])
        for i, layer in enumerate(case.layers):
            dig = z3.Store(dig, i, self.digests[layer.data])
            name = z3.Store(name, i, self.names[i])
        self.chain = tb.Chain(
            dig,
            name,
            z3.Array("log", z3.IntSort(), Digest),
            z3.Array("ran", z3.IntSort(), z3.IntSort()),
            z3.Array("seen", z3.IntSort(), z3.BoolSort()),
        )
        self.facts = self._facts()

    def _facts(self) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
        """ADR 0005 3a-3d in the one-bank abstraction, read off the policy document."""
        case = self.case
        facts = [(tb.TRUSTED, z3.BoolVal(case.trusted)), (tb.EXPIRED, z3.BoolVal(case.expired))]
        for k, d in enumerate(self.digests):
            facts.append((tb.REVOKED(d), z3.BoolVal(k in case.revoked)))
        for i, layer in enumerate(case.layers):
            nm = self.names[i]
            facts.append((tb.HAS_REF(nm), z3.BoolVal(layer.entry == "list")))
            for k, d in enumerate(self.digests):
                listed = layer.entry == "list" and k in layer.listed
                facts.append((tb.LISTED(nm, d), z3.BoolVal(listed)))
        return facts

    def concrete(self, e: z3.ExprRef) -> z3.ExprRef:
        return z3.simplify(z3.substitute(z3.simplify(e), *self.facts))

    def step(self, s: tb.BootState) -> tuple[tb.BootState, list[tuple[str, int, z3.ExprRef]]]:
        st_ = tb.boot_step(tb.ADR_ENGINE, self.chain, s)
        a = st_.after
        after = tb.BootState(
            *(self.concrete(x) for x in (a.next, a.pcr, a.loglen, a.ranlen, a.halted))
        )
        writes = []
        for w in st_.writes:
            c = self.concrete(w)
            if z3.is_true(c):
                continue  # a write whose condition is false
            assert z3.is_eq(c), c
            lhs, rhs = c.arg(0), c.arg(1)
            if z3.is_select(rhs):
                lhs, rhs = rhs, lhs
            array = lhs.arg(0).decl().name()
            if array != "seen":
                writes.append((array, lhs.arg(1).as_long(), rhs))
        return after, writes

    def pcr_bytes(self, term: z3.ExprRef, start: bytes) -> bytes:
        """The PCR term as bytes: ZERO is the PCR's start value, D_k the pool digests,
        H(a, b) SHA-256(a || b)."""
        if term.eq(ZERO):
            return start
        for k, d in enumerate(self.digests):
            if term.eq(d):
                return POOL_DIGESTS[k]
        assert term.decl().eq(H), term
        return hashlib.sha256(
            self.pcr_bytes(term.arg(0), start) + self.pcr_bytes(term.arg(1), start)
        ).digest()


def _num(e: z3.ExprRef) -> int:
    assert z3.is_int_value(e), e
    return e.as_long()


@settings(max_examples=40)
@given(boot_cases)
@example(  # a revoked digest the entry still lists (3b before 3d)
    BootCase((LayerCase(1, "list", frozenset({1})),), 7, frozenset({1}), False, True)
)
@example(  # measured mode: nothing listed, nothing halts
    BootCase((LayerCase(0, "none", frozenset()),) * 2, 0, frozenset({0}), True, False)
)
def test_boot_step_model_matches_spec(case: BootCase) -> None:
    model = Concrete(case)
    chain = boot.Chain(
        (SHA256,),
        tuple(
            boot.Layer(f"l{i}", POOL[x.data], case.pcr, 0x80000003)
            for i, x in enumerate(case.layers)
        ),
    )
    policy = _policy(case)
    mode = boot.TRUSTED if case.trusted else boot.MEASURED
    spec_state = boot.initial_state(chain.banks)
    start = spec_state.pcrs[SHA256][case.pcr]
    state = tb.BootState.initial()
    log: dict[int, z3.ExprRef] = {}
    ran: dict[int, int] = {}
    for layer in chain.layers:
        digests = boot.measure_layer(chain.banks, layer)
        spec_state = boot.boot_step(
            spec_state, digests, layer, policy if case.trusted else None, mode, NOW
        )
        state, writes = model.step(state)
        for array, k, value in writes:
            target = log if array == "log" else ran
            assert k not in target, "a write-once record was written twice"
            target[k] = value if array == "log" else _num(value)
        assert z3.is_true(state.halted) == (spec_state.halted is not None)
        assert _num(state.loglen) == len(spec_state.log) == len(log)
        assert tuple(f"l{ran[k]}" for k in range(_num(state.ranlen))) == spec_state.ran
        logged = [model.pcr_bytes(log[k], start) for k in range(len(log))]
        assert logged == [dict(e.digests)[SHA256] for e in spec_state.log]
        assert model.pcr_bytes(state.pcr, start) == spec_state.pcrs[SHA256][case.pcr]
    result = boot.run_boot(chain, policy, mode, NOW)
    assert result.completed == z3.is_false(state.halted)
    assert result.ran == spec_state.ran
    assert len(result.measured) == _num(state.loglen)
    assert result.pcrs["sha256"][str(case.pcr)] == model.pcr_bytes(state.pcr, start).hex()


def test_the_model_halts_where_the_spec_halts() -> None:
    """A fixed chain: layer 1 is not listed; both stop there, layer 0 alone ran."""
    case = BootCase(
        (
            LayerCase(0, "list", frozenset({0})),
            LayerCase(1, "list", frozenset({0})),
            LayerCase(2, "list", frozenset({2})),
        ),
        pcr=4,
        revoked=frozenset(),
        expired=False,
        trusted=True,
    )
    model = Concrete(case)
    state = tb.BootState.initial()
    for _ in case.layers:
        state, _writes = model.step(state)
    assert z3.is_true(state.halted)
    assert (_num(state.loglen), _num(state.ranlen)) == (2, 1)


# ---------------------------------------------------------------- PolicyStore

_TRUSTED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


TRUST_STORE = (("ed25519", _raw_public(_TRUSTED_KEY)),)


@dataclass(frozen=True)
class UpdateCase:
    version: int
    trusted_signer: bool
    good_signature: bool
    expired: bool


update_cases = st.builds(
    UpdateCase,
    version=st.integers(0, 4),
    trusted_signer=st.sampled_from((True, True, False)),
    good_signature=st.sampled_from((True, True, True, False)),
    expired=st.sampled_from((False, False, False, True)),
)


def _signed(case: UpdateCase, index: int) -> boot.SignedPolicy:
    body = {
        "name": f"fleet-{index}",
        "version": case.version,
        "expires": "2026-01-01T00:00:00Z" if case.expired else "2028-01-01T00:00:00Z",
        "layers": {"crtm": {"sha256": [POOL_DIGESTS[0].hex()]}},
        "revoked": {},
    }
    key = _TRUSTED_KEY if case.trusted_signer else _OTHER_KEY
    sig = bytearray(key.sign(boot.policy_signing_bytes(body)))
    if not case.good_signature:
        sig[0] ^= 1
    document = {
        "policy": body,
        "signature": {"alg": "ed25519", "key": _raw_public(key).hex(), "sig": bytes(sig).hex()},
    }
    return boot.parse_signed_policy(document)


def _substitute(e: z3.ExprRef, facts: list[tuple[z3.ExprRef, z3.ExprRef]]) -> z3.ExprRef:
    return z3.simplify(z3.substitute(e, *facts))


@settings(max_examples=25)
@given(st.lists(update_cases, min_size=1, max_size=5))
def test_policy_update_model_matches_spec(cases: list[UpdateCase]) -> None:
    store = boot.PolicyStore(TRUST_STORE)
    state = tb.StoreState.empty()
    consts = [z3.Const(f"candidate{i}", tb.SignedPolicy) for i in range(len(cases))]
    facts: list[tuple[z3.ExprRef, z3.ExprRef]] = [(tb.VERSION(state.installed), z3.IntVal(-1))]
    installed: int | None = None
    for i, (case, c) in enumerate(zip(cases, consts, strict=True)):
        facts += [
            (tb.VERSION(c), z3.IntVal(case.version)),
            (tb.KNOWN_SIGNER(c), z3.BoolVal(case.trusted_signer)),
            (tb.SIGNATURE_OK(c), z3.BoolVal(case.good_signature)),
        ]
        after, accepted = tb.policy_update(tb.ADR_STORE, state, c, z3.BoolVal(case.expired))
        state = tb.StoreState(
            *(_substitute(x, facts) for x in (after.has, after.installed, after.maxv))
        )
        result = store.update(_signed(case, i), NOW)
        assert result.accepted == z3.is_true(_substitute(accepted, facts)), (case, result)
        if result.accepted:
            installed = i
        assert z3.is_true(state.has) == (store.installed is not None)
        if installed is not None:
            assert state.installed.eq(consts[installed])
            assert store.installed is not None and store.installed.name == f"fleet-{installed}"
            assert _num(state.maxv) == store.installed.version


def test_policy_versions_are_in_the_modelled_range() -> None:
    """policy_version_range: the parser admits exactly the versions 0..2^63-1, so every
    candidate of PolicyStore.update has VERSION >= 0 (above the empty store's -1)."""
    for version in (0, 2**63 - 1):
        assert _signed(UpdateCase(version, True, True, False), 0).version == version
    for version in (-1, 2**63):
        with pytest.raises(MalformedInputError) as err:
            _signed(UpdateCase(version, True, True, False), 0)
        assert (err.value.code, err.value.field) == (ErrorCode.INVALID_POLICY, "policy.version")
