"""Spec vs impl on trusted boot (docs/adr/0005-boot-contract.md): generated chains and
signed policies, well-formed and mutated. Both readings must load the same chain and
policy or refuse them with the same code and field, and boot to the same JSON (PCRs,
halt, claims) and the same event-log bytes."""

from __future__ import annotations

import copy
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chainoftrust.impl import boot as ib
from chainoftrust.impl.errors import ImplError
from chainoftrust.spec import boot as sb
from chainoftrust.spec.errors import SpecError
from hypothesis import given
from hypothesis import strategies as st

from tests.stateful.test_boot_machine import SIGNERS

BANKS = ("sha1", "sha256", "sha384", "sha512")
TYPES = ("EV_POST_CODE", "EV_IPL", "EV_COMPACT_HASH", 1, 13, 0x80000003, 7, 0x80000008)
PCRS = (*range(17), 23)
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@st.composite
def chains(draw: st.DrawFn) -> dict[str, Any]:
    banks = draw(st.lists(st.sampled_from(BANKS), min_size=1, max_size=3, unique=True))
    count = draw(st.integers(1, 6))
    layers = [
        {
            "name": f"layer-{i}",
            "data": draw(st.binary(max_size=24)).hex(),
            "pcr": draw(st.sampled_from(PCRS)),
            "eventType": draw(st.sampled_from(TYPES)),
        }
        for i in range(count)
    ]
    return {"banks": banks, "layers": layers}


def _digest(bank: str, data_hex: str) -> str:
    return hashlib.new(bank, bytes.fromhex(data_hex)).hexdigest()


@st.composite
def policies(draw: st.DrawFn, chain: dict[str, Any]) -> dict[str, Any]:
    """A signed policy for `chain`: each layer allowed, tampered (another digest), missing,
    or revoked; sometimes expired; signed by one of the machine's signers."""
    layers: dict[str, Any] = {}
    revoked: dict[str, list[str]] = {}
    for layer in chain["layers"]:
        fate = draw(st.sampled_from(("allowed", "allowed", "allowed", "other", "none", "revoked")))
        banks = draw(st.lists(st.sampled_from(chain["banks"]), min_size=1, unique=True))
        if fate == "none":
            continue
        if fate == "revoked":
            revoked.setdefault(banks[0], []).append(_digest(banks[0], layer["data"]))
        digest = layer["data"] if fate != "other" else (layer["data"] + "00")
        layers[layer["name"]] = {b: [_digest(b, digest)] for b in banks}
    expires = draw(st.sampled_from(("2027-01-01T00:00:00Z", "2026-12-01T00:00:00Z")))
    body = {"name": "p", "version": draw(st.integers(0, 5)), "expires": expires}
    body |= {"layers": layers, "revoked": revoked}
    return SIGNERS[draw(st.integers(0, 1))].sign(body)


def _outcome(side: Any, errors: type[Exception], action: Any) -> tuple[str, Any]:
    try:
        return "ok", action(side)
    except errors as err:
        return "error", (str(err.code), err.field)  # type: ignore[attr-defined]


def _boot(side: Any, chain: dict[str, Any], policy: dict[str, Any], mode: str) -> Any:
    result = side.run_boot(
        side.load_chain(chain, Path(".")), side.parse_signed_policy(policy), mode, NOW
    )
    return result.to_json(), result.event_log


@given(data=st.data(), mode=st.sampled_from(("trusted", "measured")))
def test_boots_agree(data: st.DataObject, mode: str) -> None:
    chain = data.draw(chains())
    policy = data.draw(policies(chain))
    spec_out = _outcome(sb, SpecError, lambda s: _boot(s, chain, policy, mode))
    impl_out = _outcome(ib, ImplError, lambda s: _boot(s, chain, policy, mode))
    assert spec_out == impl_out
    assert spec_out[0] == "ok"


_MUTATIONS = (
    ("banks", []),
    ("banks", ["sha1", "sha1"]),
    ("banks", ["md5"]),
    ("layers", []),
    ("layers.0.pcr", 17),
    ("layers.0.pcr", 24),
    ("layers.0.pcr", True),
    ("layers.0.name", ""),
    ("layers.0.name", "a b"),
    ("layers.0.data", "abc"),
    ("layers.0.eventType", "EV_SEPARATOR"),
    ("layers.0.eventType", 3),
    ("layers.0.extra", 1),
    ("extra", 1),
    ("policy.version", -1),
    ("policy.expires", "2027-01-01T00:00:00+00:00"),
    ("policy.layers", []),
    ("policy.revoked", {"md5": []}),
    ("signature.alg", "rsa"),
    ("signature.alg", {}),
    ("signature.key", "00"),
    ("signature.sig", "zz"),
)


def _mutate(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    node: Any = out
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


@given(data=st.data(), mutation=st.sampled_from(_MUTATIONS))
def test_malformed_documents_are_refused_alike(
    data: st.DataObject, mutation: tuple[str, Any]
) -> None:
    chain = data.draw(chains())
    policy = data.draw(policies(chain))
    path, value = mutation
    if path.startswith(("policy", "signature")):
        policy = _mutate(policy, path, value)
    else:
        chain = _mutate(chain, path, value)
    spec_out = _outcome(sb, SpecError, lambda s: _boot(s, chain, policy, "trusted"))
    impl_out = _outcome(ib, ImplError, lambda s: _boot(s, chain, policy, "trusted"))
    assert spec_out == impl_out
    assert spec_out[0] == "error", mutation
