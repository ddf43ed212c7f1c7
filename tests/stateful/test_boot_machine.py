"""Trusted boot as a state machine: boots, tampered and upgraded layers, policy updates,
rollbacks and expiry, with the spec as the model and the implementation under test.

Each step does the same thing to both readings (docs/adr/0005-boot-contract.md) and
requires the same outcome: the update accepted or refused with the same code, the same
installed version, the same boot JSON and event-log bytes. The machine also keeps its
own bookkeeping (hashlib digests, the versions it published) and checks the ADR's rules
against it: a trusted boot runs a layer only when its digest is in the installed policy
and not revoked, halts at the first one that is not, and the installed version never
goes down. Policies are signed with `cryptography` (Ed25519 and ECDSA P-256) by two
trusted signers and one the trust store does not know.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from chainoftrust.impl import boot as ib
from chainoftrust.spec import boot as sb
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

LAYERS = ("crtm", "firmware", "bootloader", "kernel")
PCRS = (0, 2, 4, 8)
START = datetime(2026, 12, 1, tzinfo=UTC)


def _raw(public: Any) -> bytes:
    if isinstance(public, ed25519.Ed25519PublicKey):
        return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


class Signer:
    """A policy signer: an Ed25519 or ECDSA P-256 key made by cryptography."""

    def __init__(self, alg: str, seed: int) -> None:
        self.alg = alg
        if alg == "ed25519":
            self.private: Any = ed25519.Ed25519PrivateKey.from_private_bytes(
                hashlib.sha256(b"signer %d" % seed).digest()
            )
        else:
            self.private = ec.derive_private_key(seed + 12345, ec.SECP256R1())
        self.public = _raw(self.private.public_key())

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        # ADR 0005 "Signed bytes", written out here (not the code under test's function)
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        message = b"chainoftrust-policy-v1\n" + text.encode()
        if self.alg == "ed25519":
            sig = self.private.sign(message)
        else:
            r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
            sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return {
            "policy": body,
            "signature": {"alg": self.alg, "key": self.public.hex(), "sig": sig.hex()},
        }


SIGNERS = (Signer("ed25519", 1), Signer("ecdsa-p256-sha256", 2), Signer("ed25519", 3))
TRUSTED = [(s.alg, s.public) for s in SIGNERS[:2]]  # SIGNERS[2] is unknown to the store


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BootMachine(RuleBasedStateMachine):
    """Spec is the model; impl must do the same at every step."""

    @initialize()
    def start(self) -> None:
        self.spec_store = sb.PolicyStore(TRUSTED)
        self.impl_store = ib.PolicyStore(TRUSTED)
        self.layers = {name: f"{name} v1".encode() for name in LAYERS}
        self.now = START
        self.versions: list[int] = []  # versions the machine saw installed, in order
        # each store's installed policy after the previous step (versions_only_go_up)
        self.previous: dict[str, Any] = {"spec": None, "impl": None}
        self.installed_body: dict[str, Any] | None = None
        # the device ships with version 0 of the policy, allowing what it ships with
        self.publish_policy(0, 0, 30, True, None, False)
        assert self.versions == [0]

    def _chain(self) -> dict[str, Any]:
        return {
            "banks": ["sha256"],
            "layers": [
                {"name": n, "data": self.layers[n].hex(), "pcr": p, "eventType": "EV_POST_CODE"}
                for n, p in zip(LAYERS, PCRS, strict=True)
            ],
        }

    # ------------------------------------------------------------------ the rules

    @rule(
        version=st.integers(0, 12),
        signer=st.sampled_from((0, 0, 1, 1, 2)),  # 2: not in the trust store
        lifetime_days=st.sampled_from((30, 30, 30, 0, -1)),
        allow_current=st.sampled_from((True, True, True, False)),
        revoke=st.sampled_from((None, None, None, *LAYERS)),
        corrupt=st.sampled_from((False, False, False, False, True)),
    )
    def publish_policy(  # noqa: PLR0917 (one argument per drawn value)
        self,
        version: int,
        signer: int,
        lifetime_days: int,
        allow_current: bool,
        revoke: str | None,
        corrupt: bool,
    ) -> None:
        """A candidate policy reaches the device: both stores decide the same way."""
        allowed = {
            n: {"sha256": [_sha256(self.layers[n]) if allow_current else _sha256(b"other")]}
            for n in LAYERS
        }
        expires = self.now + timedelta(days=lifetime_days)
        body = {
            "name": "fleet",
            "version": version,
            "expires": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "layers": allowed,
            "revoked": {"sha256": [] if revoke is None else [_sha256(self.layers[revoke])]},
        }
        document = SIGNERS[signer].sign(body)
        if corrupt:  # one bit of the signature flipped
            sig = bytearray.fromhex(document["signature"]["sig"])
            sig[5] ^= 0x01
            document["signature"]["sig"] = sig.hex()
        before = self.spec_store.installed
        got_spec = self.spec_store.update(sb.parse_signed_policy(document), self.now)
        got_impl = self.impl_store.update(ib.parse_signed_policy(document), self.now)
        assert (got_spec.accepted, got_spec.code) == (got_impl.accepted, got_impl.code)
        # the machine's own reading of ADR 0005 "Policy updates"
        expired = lifetime_days <= 0
        want = (
            "UNKNOWN_SIGNER"
            if signer == 2
            else "POLICY_SIGNATURE_INVALID"
            if corrupt
            else "POLICY_EXPIRED"
            if expired
            else "POLICY_ROLLBACK"
            if self.versions and version <= self.versions[-1]
            else None
        )
        assert got_spec.code == want
        event(f"update {got_spec.code or 'accepted'}")
        if got_spec.accepted:
            self.versions.append(version)
            self.installed_body = body
        else:
            assert self.spec_store.installed is before  # a refusal changes nothing

    @rule(layer=st.sampled_from(LAYERS), change=st.binary(min_size=1, max_size=8))
    def change_layer(self, layer: str, change: bytes) -> None:
        """A layer is tampered with or upgraded (the policy decides which)."""
        self.layers[layer] = self.layers[layer] + change

    @rule(days=st.integers(1, 40))
    def time_passes(self, days: int) -> None:
        self.now += timedelta(days=days)

    @rule(mode=st.sampled_from(("trusted", "trusted", "measured")))
    def boot(self, mode: str) -> None:
        chain_doc = self._chain()
        spec_result = sb.run_boot(
            sb.load_chain(chain_doc, Path(".")), self.spec_store.installed, mode, self.now
        )
        impl_result = ib.run_boot(
            ib.load_chain(chain_doc, Path(".")), self.impl_store.installed, mode, self.now
        )
        assert spec_result.to_json() == impl_result.to_json()
        assert spec_result.event_log == impl_result.event_log
        out = spec_result.to_json()
        event(f"{mode} boot {'completed' if out['completed'] else 'halted'}")
        if mode == "measured":
            assert out["completed"] and out["ran"] == list(LAYERS)
            return
        # the ADR's trusted-boot rules, from the machine's own bookkeeping
        body = self.installed_body
        assert body is not None
        expired = self.now >= datetime.strptime(body["expires"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=UTC
        )
        first_bad = None
        for index, name in enumerate(LAYERS):
            digest = _sha256(self.layers[name])
            if (
                expired
                or digest in body["revoked"]["sha256"]
                or digest not in body["layers"][name]["sha256"]
            ):
                first_bad = index
                break
        if first_bad is None:
            assert out["completed"] and out["ran"] == list(LAYERS)
        else:
            assert not out["completed"]
            assert out["ran"] == list(LAYERS[:first_bad])
            assert out["measured"] == list(LAYERS[: first_bad + 1])  # measured, then halted
            assert out["halt"]["index"] == first_bad

    # ------------------------------------------------------------------ invariants

    @invariant()
    def same_installed_policy(self) -> None:
        spec_installed, impl_installed = self.spec_store.installed, self.impl_store.installed
        assert (spec_installed is None) == (impl_installed is None)
        if spec_installed is not None and impl_installed is not None:
            assert spec_installed.version == impl_installed.version
            assert spec_installed.version == self.versions[-1]

    @invariant()
    def versions_only_go_up(self) -> None:
        """Each store's installed policy, read from the store itself after every step: once
        there is one there always is, and when it changes the version strictly increases."""
        assert all(a < b for a, b in zip(self.versions, self.versions[1:], strict=False))
        for side, store in (("spec", self.spec_store), ("impl", self.impl_store)):
            installed, previous = store.installed, self.previous[side]
            if previous is not None:
                assert installed is not None, side
                if installed is not previous:
                    assert installed.version > previous.version, side
            self.previous[side] = installed


BootMachine.TestCase.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, derandomize=True
)
TestBootMachine = BootMachine.TestCase
