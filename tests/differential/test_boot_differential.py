"""Spec vs impl on trusted boot (docs/adr/0005-boot-contract.md): generated chains and
signed policies, well-formed and mutated. Both readings must load the same chain and
policy or refuse them with the same code and field, and boot to the same JSON (PCRs,
halt, claims) and the same event-log bytes."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chainoftrust.impl import boot as ib
from chainoftrust.impl.errors import ImplError
from chainoftrust.spec import _ed25519 as sed
from chainoftrust.spec import boot as sb
from chainoftrust.spec.errors import SpecError
from hypothesis import event, given, settings
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
    """("ok", the result) or ("error", (error class name, code, field)): the class name
    too, so that a UsageError on one side and a MalformedInputError on the other differ."""
    try:
        return "ok", action(side)
    except errors as err:
        return "error", (type(err).__name__, str(err.code), err.field)  # type: ignore[attr-defined]


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


# --- the call arguments: mode and now (ADR 0005 amendment 1 item 6) -------------------------


@given(
    data=st.data(),
    mode=st.sampled_from(("Trusted", "", "secure", "measured", "trusted")),
    naive=st.booleans(),
)
def test_bad_mode_and_naive_now_are_refused_alike(
    data: st.DataObject, mode: str, naive: bool
) -> None:
    chain = data.draw(chains())
    policy = data.draw(policies(chain))
    now = NOW.replace(tzinfo=None) if naive else NOW

    def action(side: Any) -> Any:
        result = side.run_boot(
            side.load_chain(chain, Path(".")), side.parse_signed_policy(policy), mode, now
        )
        return result.to_json()

    spec_out = _outcome(sb, SpecError, action)
    impl_out = _outcome(ib, ImplError, action)
    assert spec_out == impl_out
    if naive or mode not in ("measured", "trusted"):
        assert spec_out[1][:2] == ("UsageError", "INVALID_DOCUMENT")


# --- Ed25519 keys and signatures (ADR 0005 amendment 2) -----------------------------------

_P = 2**255 - 19
_ED_SIGNER = SIGNERS[0]
#: libsodium's ge25519_has_small_order y list (sign bit masked), then both sign bits:
#: the 8 small-order points and their non-canonical spellings.
_SMALL = [
    (y | (sign << 255)).to_bytes(32, "little")
    for y in (
        0,
        1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
        _P - 1,
        _P,
        _P + 1,
    )
    for sign in (0, 1)
]
_REVIEW_KEY = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
_ORDER_2 = bytes.fromhex("ec" + "ff" * 30 + "7f")


def _store_outcome(side: Any, errors: type[Exception], document: Any, key: bytes) -> Any:
    def action(s: Any) -> Any:
        candidate = s.parse_signed_policy(document)
        result = s.PolicyStore([("ed25519", key)]).update(candidate, NOW)
        return result.accepted, None if result.code is None else str(result.code)

    return _outcome(side, errors, action)


def _ed_document(version: int, key: bytes, sig: bytes) -> dict[str, Any]:
    body = {"name": "p", "version": version, "expires": "2027-01-01T00:00:00Z", "layers": {}}
    return {"policy": body, "signature": {"alg": "ed25519", "key": key.hex(), "sig": sig.hex()}}


def test_review_torsion_key_same_verdict() -> None:
    """The review's order-8 key with (0, -1) || 0: versions 0, 4, 12 were impl-only and
    1, 3, 19 spec-only; now both refuse the key, for every version."""
    for version in (0, 1, 3, 4, 12, 17, 19, 21, 26, 62):
        document = _ed_document(version, _REVIEW_KEY, _ORDER_2 + bytes(32))
        spec_out = _store_outcome(sb, SpecError, document, _REVIEW_KEY)
        impl_out = _store_outcome(ib, ImplError, document, _REVIEW_KEY)
        assert spec_out == impl_out
        assert spec_out == ("error", ("MalformedInputError", "INVALID_POLICY", "signature.key"))


def _torsion_signed(document: dict[str, Any], torsion: int, nonce: int) -> tuple[Any, bytes]:
    """The signer's key plus a point T of order dividing 8, A' = [s]B + T, and R = [r]B,
    S = r + (k mod L) s with k = SHA-512(R || A' || M) (RFC 8032 5.1.6 with A'): it verifies
    iff [k]T is the identity, and whether k is reduced mod L first decides that."""
    seed = hashlib.sha256(b"signer 1").digest()  # SIGNERS[0]'s secret key (the machine's)
    buffer = bytearray(hashlib.sha512(seed).digest()[:32])
    buffer[0] &= 248
    buffer[31] = (buffer[31] & 127) | 64
    scalar = int.from_bytes(buffer, "little")
    t_point = sed.scalar_mult(torsion, sed.decode_point(_REVIEW_KEY))  # type: ignore[arg-type]
    key = sed.encode_point(sed.point_add(sed.scalar_mult(scalar, sed.BASE), t_point))
    body = document["policy"]
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    message = b"chainoftrust-policy-v1\n" + text.encode()
    point_r = sed.encode_point(sed.scalar_mult(nonce, sed.BASE))
    k = int.from_bytes(hashlib.sha512(point_r + key + message).digest(), "little")
    sig = point_r + ((nonce + (k % sed.L) * scalar) % sed.L).to_bytes(32, "little")
    document["signature"].update(key=key.hex(), sig=sig.hex())
    return document, key


@st.composite
def ed25519_cases(draw: st.DrawFn) -> tuple[dict[str, Any], bytes]:
    """A policy signed by the machine's Ed25519 signer, then its key and/or signature
    mutated: small-order and non-canonical points, the key plus a torsion point, random
    octets, R swapped for a small-order point, S zero, one, S + L, or a flipped bit."""
    version = draw(st.integers(0, 63))
    document = _ED_SIGNER.sign(
        {"name": "p", "version": version, "expires": "2027-01-01T00:00:00Z", "layers": {}}
    )
    key = _ED_SIGNER.public
    sig = bytes.fromhex(document["signature"]["sig"])
    key_change = draw(
        st.sampled_from(("keep", "keep", "small", "torsion", "torsion_signed", "random"))
    )
    if key_change == "torsion_signed":  # A' = A + T, and a signature made for A' (see below)
        return _torsion_signed(document, draw(st.integers(1, 7)), draw(st.integers(1, 2**64)))
    if key_change == "small":
        key = draw(st.sampled_from(_SMALL))
    elif key_change == "torsion":
        a = sed.decode_point(key)
        t = sed.scalar_mult(draw(st.integers(1, 7)), sed.decode_point(_REVIEW_KEY))  # type: ignore[arg-type]
        key = sed.encode_point(sed.point_add(a, t))  # type: ignore[arg-type]
    elif key_change == "random":
        key = draw(st.binary(min_size=32, max_size=32))
    r_change = draw(st.sampled_from(("keep", "keep", "small")))
    if r_change == "small":
        sig = draw(st.sampled_from(_SMALL)) + sig[32:]
    s_change = draw(st.sampled_from(("keep", "keep", "zero", "one", "plus_l", "flip")))
    s_value = int.from_bytes(sig[32:], "little")
    if s_change == "zero":
        s_value = 0
    elif s_change == "one":
        s_value = 1
    elif s_change == "plus_l":
        s_value = (s_value + sed.L) % 2**256
    elif s_change == "flip":
        s_value ^= 1 << draw(st.integers(0, 252))
    sig = sig[:32] + s_value.to_bytes(32, "little")
    document["signature"].update(key=key.hex(), sig=sig.hex())
    return document, key


@settings(max_examples=150, deadline=None)
@given(case=ed25519_cases())
def test_mutated_ed25519_keys_and_signatures_agree(case: tuple[dict[str, Any], bytes]) -> None:
    """PolicyStore.update (the key trusted as given) on both sides: the same verdict, or the
    same refusal (class, code, field) of the document or of the trust store."""
    document, key = case
    spec_out = _store_outcome(sb, SpecError, document, key)
    impl_out = _store_outcome(ib, ImplError, document, key)
    event(f"{spec_out[0]} {spec_out[1]}")
    assert spec_out == impl_out
