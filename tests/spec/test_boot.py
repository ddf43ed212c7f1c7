"""chainoftrust.spec.boot against docs/adr/0005-boot-contract.md, hashlib and cryptography.

Expected PCR values are computed here with hashlib (TPM2-P3 22.2: PCR := H(PCR || digest));
signatures are made and checked with pyca/cryptography; event logs are replayed with both
readings of ADR 0002 (chainoftrust.spec.eventlog and chainoftrust.impl.eventlog); the
event records are rebuilt here from the PFP layouts. The policy rules are the ADR's.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import struct
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
from chainoftrust.impl import eventlog as impl_eventlog
from chainoftrust.spec import boot, vectors_boot
from chainoftrust.spec import eventlog as spec_eventlog
from chainoftrust.spec.errors import ErrorCode, MalformedInputError, SpecError, UsageError
from chainoftrust.spec.hashes import HashAlg, hash_alg_from_name
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

NOW = datetime(2026, 12, 1, tzinfo=UTC)
EXPIRES = "2027-06-30T00:00:00Z"
EXPIRES_AT = datetime(2027, 6, 30, tzinfo=UTC)
ED_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
ED_PUBLIC = ED_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
EC_KEY = ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1())
EC_PUBLIC = EC_KEY.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
PREFIX = b"chainoftrust-policy-v1\n"  # ADR 0005 Signed bytes
LOCALITY0_PCRS = (*range(17), 23)  # PTP: what locality 0 may extend (ADR 0005 amendment 1)
START = {i: (b"\xff" if 17 <= i <= 22 else b"\x00") for i in range(24)}  # ADR 0001 start values
SENTENCE = (
    "a matching reference value says nothing about a layer's fitness, only that it is the "
    "layer the policy names"
)


def h(bank: str, data: bytes) -> bytes:
    return hashlib.new(bank.replace("_", "-") if bank.startswith("sha3") else bank, data).digest()


def signing_bytes(body: dict[str, object]) -> bytes:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return PREFIX + text.encode()


def sign_doc(body: dict[str, object], alg: str = "ed25519") -> dict[str, object]:
    """A POLICY.json signed with cryptography (Ed25519, or ECDSA P-256 r||s)."""
    message = signing_bytes(body)
    if alg == "ed25519":
        sig, key = ED_KEY.sign(message), ED_PUBLIC
    else:
        r, s = decode_dss_signature(EC_KEY.sign(message, ec.ECDSA(hashes.SHA256())))
        sig, key = r.to_bytes(32, "big") + s.to_bytes(32, "big"), EC_PUBLIC
    return {"policy": body, "signature": {"alg": alg, "key": key.hex(), "sig": sig.hex()}}


def body_for(
    layers: dict[str, bytes], banks: tuple[str, ...] = ("sha256",), **extra: object
) -> dict[str, object]:
    entries = {name: {b: [h(b, data).hex()] for b in banks} for name, data in layers.items()}
    return {"name": "fleet-a", "version": 3, "expires": EXPIRES, "layers": entries, **extra}


def chain_doc(layers: list[tuple[str, bytes, int]], banks: tuple[str, ...] = ("sha256",)) -> dict:
    return {
        "banks": list(banks),
        "layers": [
            {"name": n, "data": d.hex(), "pcr": p, "eventType": "EV_POST_CODE"}
            for n, d, p in layers
        ],
    }


LAYERS = [("crtm", b"crtm", 0), ("bootloader", b"shim", 4), ("kernel", b"linux", 4)]
REFERENCE = {name: data for name, data, _ in LAYERS}
TRUSTED_KEYS = [("ed25519", ED_PUBLIC), ("ecdsa-p256-sha256", EC_PUBLIC)]


def expected_pcrs(layers: list[tuple[str, bytes, int]], banks: tuple[str, ...]) -> dict:
    """TPM2-P3 22.2 with hashlib, from the ADR 0001 start values."""
    pcrs = {b: {i: START[i] * len(h(b, b"")) for i in range(24)} for b in banks}
    for _, data, pcr in layers:
        for b in banks:
            pcrs[b][pcr] = h(b, pcrs[b][pcr] + h(b, data))
    return {b: {str(i): v.hex() for i, v in values.items()} for b, values in pcrs.items()}


def run(
    layers: list[tuple[str, bytes, int]],
    body: dict[str, object] | None,
    mode: str = "trusted",
    banks: tuple[str, ...] = ("sha256",),
    now: datetime = NOW,
) -> boot.BootResult:
    chain = boot.load_chain(chain_doc(layers, banks), Path())
    policy = None if body is None else boot.parse_signed_policy(sign_doc(body))
    return boot.run_boot(chain, policy, mode, now)


def replayed(event_log: bytes) -> tuple[dict, dict]:
    spec_replay = spec_eventlog.replay_event_log(spec_eventlog.parse_event_log(event_log))
    impl_replay = impl_eventlog.replay_event_log(impl_eventlog.parse_event_log(event_log))
    return spec_replay.to_json()["pcrs"], impl_replay.to_json()["pcrs"]


# --- the boot ------------------------------------------------------------------------------


def test_trusted_boot_completes() -> None:
    result = run(LAYERS, body_for(REFERENCE))
    assert result.completed and result.halt is None
    assert result.measured == result.ran == ("crtm", "bootloader", "kernel")
    assert result.pcrs == expected_pcrs(LAYERS, ("sha256",))
    out = result.to_json()
    assert set(out) == {
        "completed",
        "mode",
        "measured",
        "ran",
        "halt",
        "pcrs",
        "claims",
        "notCovered",
    }
    signer = "ed25519:" + hashlib.sha256(ED_PUBLIC).hexdigest()[:16]
    assert out["claims"][0] == {
        "kind": "layers_matched",
        "layers": ["crtm", "bootloader", "kernel"],
        "policy": "fleet-a",
        "version": 3,
        "signer": signer,
        "banks": ["sha256"],
        "at": "2026-12-01T00:00:00Z",
    }
    pcrs = expected_pcrs(LAYERS, ("sha256",))["sha256"]
    values = {"0": pcrs["0"], "4": pcrs["4"]}
    assert out["claims"][1] == {"kind": "pcrs", "bank": "sha256", "values": values}
    assert out["notCovered"] == [SENTENCE]
    assert "trusted" not in json.dumps(out["claims"])


@settings(max_examples=30)
@given(
    count=st.integers(1, 6),
    data=st.data(),
    banks=st.lists(
        st.sampled_from(["sha1", "sha256", "sha384", "sha512"]), min_size=1, max_size=3, unique=True
    ),
)
def test_halts_at_the_tampered_layer(count: int, data: st.DataObject, banks: list[str]) -> None:
    """boot.halt: the tampered layer is measured and logged, not run; nothing after it."""
    layers = [
        (f"l{i}", data.draw(st.binary(max_size=40)), data.draw(st.sampled_from(LOCALITY0_PCRS)))
        for i in range(count)
    ]
    tamper = data.draw(st.integers(0, count - 1))
    body = body_for({n: d for n, d, _ in layers}, tuple(banks))
    actual = list(layers)
    name, payload, pcr = actual[tamper]
    actual[tamper] = (name, payload + b"!", pcr)
    result = run(actual, body, banks=tuple(banks))
    assert not result.completed
    assert result.halt is not None and result.halt.index == tamper
    assert result.halt.code == ErrorCode.DIGEST_NOT_ALLOWED
    assert result.halt.actual == {b: h(b, payload + b"!").hex() for b in banks}
    assert result.halt.expected == {b: [h(b, payload).hex()] for b in banks}
    assert result.ran == tuple(n for n, _, _ in layers[:tamper])
    assert result.measured == tuple(n for n, _, _ in layers[: tamper + 1])
    assert result.pcrs == expected_pcrs(actual[: tamper + 1], tuple(banks))
    assert result.not_covered == (*(n for n, _, _ in layers[tamper + 1 :]), SENTENCE)
    # the log holds the header and one record per measured layer, nothing after the halt
    events = spec_eventlog.parse_event_log(result.event_log).events
    assert [e.data for e in events[1:]] == [n.encode() for n, _, _ in layers[: tamper + 1]]
    # the log replays (both readings of ADR 0002) to the PCRs it names
    spec_pcrs, impl_pcrs = replayed(result.event_log)
    assert spec_pcrs == impl_pcrs
    for bank, values in spec_pcrs.items():
        for index, value in values.items():
            assert result.pcrs[bank][index] == value
    # measured mode: the same chain completes, every layer runs
    measured = run(actual, body, "measured", tuple(banks))
    assert measured.completed and measured.ran == tuple(n for n, _, _ in layers)
    assert measured.pcrs == expected_pcrs(actual, tuple(banks))


def test_event_log_layout() -> None:
    """PFP 10.2: TCG_PCR_EVENT header with the Spec ID Event03, then TCG_PCR_EVENT2 records."""
    banks = ("sha384", "sha1")
    result = run([("fw", b"firmware", 2)], None, "measured", banks)
    spec_id = (
        b"Spec ID Event03\x00"
        + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 2)
        + struct.pack("<HHHH", 0x000C, 48, 0x0004, 20)
        + b"\x00"
    )
    header = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec_id)) + spec_id
    record = (
        struct.pack("<III", 2, 1, 2)
        + struct.pack("<H", 0x000C)
        + h("sha384", b"firmware")
        + struct.pack("<H", 0x0004)
        + h("sha1", b"firmware")
        + struct.pack("<I", 2)
        + b"fw"
    )
    assert result.event_log == header + record
    parsed = impl_eventlog.parse_event_log(result.event_log).to_json()
    assert parsed["specId"]["specVersion"] == "2.0.0"
    assert parsed["specId"]["uintnSize"] == 2


@pytest.mark.parametrize(
    ("body_changes", "now", "code", "index"),
    [
        ({}, EXPIRES_AT, "POLICY_EXPIRED", 0),  # now == expires counts as expired
        ({"revoked": {"sha256": [h("sha256", b"shim").hex()]}}, NOW, "DIGEST_REVOKED", 1),
        ({"revoked": {"sha1": [h("sha1", b"shim").hex()]}}, NOW, None, None),  # bank not measured
        ({"revoked": {"sha256": [h("sha256", b"crtm").hex()]}}, EXPIRES_AT, "POLICY_EXPIRED", 0),
        ({"layers": {"bootloader": None}}, NOW, "NO_REFERENCE", 1),
        ({"layers": {"crtm": {"sha1": [h("sha1", b"crtm").hex()]}}}, NOW, "NO_REFERENCE", 0),
        ({"layers": {"crtm": {}}}, NOW, "NO_REFERENCE", 0),
        (
            {
                "layers": {"crtm": {"sha256": []}},
                "revoked": {"sha256": [h("sha256", b"crtm").hex()]},
            },
            NOW,
            "DIGEST_REVOKED",
            0,
        ),
        ({"layers": {"crtm": {"sha256": []}}}, NOW, "DIGEST_NOT_ALLOWED", 0),
    ],
)
def test_check_rules_in_order(
    body_changes: dict[str, object], now: datetime, code: str | None, index: int | None
) -> None:
    """boot.check a-d, first failing rule wins; an entry's other banks are ignored."""
    body = body_for(REFERENCE)
    if "layers" in body_changes:
        merged = {**body["layers"], **body_changes["layers"]}  # type: ignore[dict-item]
        body["layers"] = {name: entry for name, entry in merged.items() if entry is not None}
    if "revoked" in body_changes:
        body["revoked"] = body_changes["revoked"]
    result = run(LAYERS, body, now=now)
    if code is None:
        assert result.completed
        return
    assert result.halt is not None
    assert (result.halt.code, result.halt.index) == (code, index)
    assert result.halt.to_json()["expected"] == body["layers"].get(LAYERS[index][0], {})  # type: ignore[union-attr]


def test_entry_bank_the_chain_does_not_measure_is_ignored() -> None:
    body = body_for(REFERENCE)
    body["layers"]["crtm"]["sha512"] = ["00" * 64]  # type: ignore[index]
    assert run(LAYERS, body).completed


def test_halted_state_is_returned_unchanged() -> None:
    """boot.halt: boot_step on a halted state measures, logs and runs nothing."""
    chain = boot.load_chain(chain_doc(LAYERS), Path())
    body = body_for({"crtm": b"other"})
    policy = boot.parse_signed_policy(sign_doc(body))
    state = boot.initial_state(chain.banks)
    layer = chain.layers[0]
    halted = boot.boot_step(
        state, boot.measure_layer(chain.banks, layer), layer, policy, "trusted", NOW
    )
    assert halted.halted is not None and halted.ran == () and len(halted.log) == 1
    for later in chain.layers[1:]:
        again = boot.boot_step(
            halted, boot.measure_layer(chain.banks, later), later, policy, "trusted", NOW
        )
        assert again is halted


def test_measured_mode_ignores_the_policy() -> None:
    body = body_for({"crtm": b"nothing like it"}, expires="2000-01-01T00:00:00Z")
    result = run(LAYERS, body, "measured")
    assert result.completed and result.ran == ("crtm", "bootloader", "kernel")
    kinds = [claim["kind"] for claim in result.to_json()["claims"]]  # type: ignore[index]
    assert kinds == ["layers_measured", "pcrs"]


def test_invalid_trusted_without_policy() -> None:
    chain = boot.load_chain(chain_doc(LAYERS), Path())
    with pytest.raises(UsageError) as info:
        boot.run_boot(chain, None, "trusted", NOW)
    assert info.value.code == ErrorCode.NO_POLICY


@pytest.mark.parametrize("mode", ["Trusted", "", "secure"])
def test_invalid_mode(mode: str) -> None:
    """ADR 0005 amendment 1 item 6: INVALID_DOCUMENT, a UsageError."""
    chain = boot.load_chain(chain_doc(LAYERS), Path())
    with pytest.raises(UsageError) as info:
        boot.run_boot(chain, None, mode, NOW)
    assert info.value.code == ErrorCode.INVALID_DOCUMENT
    assert info.value.field == "mode"
    state = boot.initial_state(chain.banks)
    layer = chain.layers[0]
    with pytest.raises(UsageError) as info:
        boot.boot_step(state, boot.measure_layer(chain.banks, layer), layer, None, mode, NOW)
    assert info.value.code == ErrorCode.INVALID_DOCUMENT


def test_invalid_naive_now() -> None:
    """ADR 0005 amendment 1 item 6: INVALID_DOCUMENT, a UsageError (run_boot and update)."""
    chain = boot.load_chain(chain_doc(LAYERS), Path())
    naive = datetime(2026, 1, 1)
    with pytest.raises(UsageError) as info:
        boot.run_boot(chain, None, "measured", naive)
    assert (info.value.code, info.value.field) == (ErrorCode.INVALID_DOCUMENT, "now")
    with pytest.raises(UsageError) as info:
        boot.PolicyStore(TRUSTED_KEYS).update(policy(), naive)
    assert (info.value.code, info.value.field) == (ErrorCode.INVALID_DOCUMENT, "now")


def test_now_in_another_offset_compares_as_utc() -> None:
    """2027-06-30T01:00+02:00 is before the expiry 2027-06-30T00:00Z."""
    early = datetime(2027, 6, 30, 1, tzinfo=timezone(timedelta(hours=2)))
    assert run(LAYERS, body_for(REFERENCE), now=early).completed
    late = datetime(2027, 6, 30, 1, tzinfo=timezone(timedelta(hours=-2)))
    assert not run(LAYERS, body_for(REFERENCE), now=late).completed


# --- the documents ------------------------------------------------------------------------


def test_load_chain_reads_files(tmp_path: Path) -> None:
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "crtm.bin").write_bytes(b"crtm bytes")
    absolute = tmp_path / "abs.bin"
    absolute.write_bytes(b"abs")
    document = {
        "banks": ["sha256"],
        "layers": [
            {
                "name": "crtm",
                "file": "layers/crtm.bin",
                "pcr": 0,
                "eventType": "EV_S_CRTM_CONTENTS",
            },
            {"name": "abs", "file": str(absolute), "pcr": 4, "eventType": 2147483651},
            {"name": "bootloader", "data": "68656C6C6F", "pcr": 4, "eventType": 13},
        ],
    }
    chain = boot.load_chain(document, tmp_path)
    assert chain.banks == (HashAlg.SHA256,)
    assert chain.layers == (
        boot.Layer("crtm", b"crtm bytes", 0, 7),
        boot.Layer("abs", b"abs", 4, 0x80000003),
        boot.Layer("bootloader", b"hello", 4, 0xD),
    )


@pytest.mark.parametrize("name", ["missing.bin", "nul\x00byte", "."])
def test_invalid_unreadable_layer(tmp_path: Path, name: str) -> None:
    document = {
        "banks": ["sha256"],
        "layers": [{"name": "x", "file": name, "pcr": 0, "eventType": 1}],
    }
    with pytest.raises(SpecError) as info:
        boot.load_chain(document, tmp_path)
    assert (info.value.code, info.value.field) == (ErrorCode.LAYER_UNREADABLE, "layers[0].file")


GOOD_LAYER = {"name": "crtm", "data": "00", "pcr": 0, "eventType": "EV_POST_CODE"}
CHAIN_CASES: list[tuple[str, Callable[[dict], object], ErrorCode, str]] = [
    ("not an object", lambda d: [d], ErrorCode.INVALID_CHAIN, "$"),
    ("unknown key", lambda d: d.update(extra=1), ErrorCode.INVALID_CHAIN, "extra"),
    ("no banks", lambda d: d.pop("banks") and None, ErrorCode.INVALID_CHAIN, "banks"),
    ("empty banks", lambda d: d.update(banks=[]), ErrorCode.INVALID_CHAIN, "banks"),
    ("nine banks", lambda d: d.update(banks=["sha256"] * 9), ErrorCode.INVALID_CHAIN, "banks"),
    (
        "unknown bank",
        lambda d: d.update(banks=["sha256", "md5"]),
        ErrorCode.UNKNOWN_ALGORITHM,
        "banks[1]",
    ),
    ("bank twice", lambda d: d.update(banks=["sha1", "sha1"]), ErrorCode.INVALID_CHAIN, "banks[1]"),
    ("bank not a string", lambda d: d.update(banks=[11]), ErrorCode.INVALID_CHAIN, "banks[0]"),
    ("no layers", lambda d: d.update(layers=[]), ErrorCode.INVALID_CHAIN, "layers"),
    (
        "1025 layers",
        lambda d: d.update(layers=[GOOD_LAYER] * 1025),
        ErrorCode.INVALID_CHAIN,
        "layers",
    ),
    (
        "layer unknown key",
        lambda d: d["layers"][0].update(hash="00"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].hash",
    ),
    (
        "empty name",
        lambda d: d["layers"][0].update(name=""),
        ErrorCode.INVALID_CHAIN,
        "layers[0].name",
    ),
    (
        "65-char name",
        lambda d: d["layers"][0].update(name="a" * 65),
        ErrorCode.INVALID_CHAIN,
        "layers[0].name",
    ),
    (
        "slash in name",
        lambda d: d["layers"][0].update(name="a/b"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].name",
    ),
    (
        "non-ASCII name",
        lambda d: d["layers"][0].update(name="k\u0661"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].name",
    ),
    (
        "duplicate name",
        lambda d: d["layers"].append(dict(GOOD_LAYER)),
        ErrorCode.INVALID_CHAIN,
        "layers[1].name",
    ),
    (
        "file and data",
        lambda d: d["layers"][0].update(file="x"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].file",
    ),
    ("neither", lambda d: d["layers"][0].pop("data"), ErrorCode.INVALID_CHAIN, "layers[0].file"),
    (
        "odd hex",
        lambda d: d["layers"][0].update(data="abc"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].data",
    ),
    (
        "0x hex",
        lambda d: d["layers"][0].update(data="0x00"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].data",
    ),
    ("pcr 24", lambda d: d["layers"][0].update(pcr=24), ErrorCode.INVALID_CHAIN, "layers[0].pcr"),
    ("pcr -1", lambda d: d["layers"][0].update(pcr=-1), ErrorCode.INVALID_CHAIN, "layers[0].pcr"),
    (
        "pcr true",
        lambda d: d["layers"][0].update(pcr=True),
        ErrorCode.INVALID_CHAIN,
        "layers[0].pcr",
    ),
    ("pcr missing", lambda d: d["layers"][0].pop("pcr"), ErrorCode.INVALID_CHAIN, "layers[0].pcr"),
    (
        "EV_SEPARATOR",
        lambda d: d["layers"][0].update(eventType="EV_SEPARATOR"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].eventType",
    ),
    (
        "type 4",
        lambda d: d["layers"][0].update(eventType=4),
        ErrorCode.INVALID_CHAIN,
        "layers[0].eventType",
    ),
    (
        "type '7'",
        lambda d: d["layers"][0].update(eventType="7"),
        ErrorCode.INVALID_CHAIN,
        "layers[0].eventType",
    ),
    (
        "type 1.0",
        lambda d: d["layers"][0].update(eventType=1.0),
        ErrorCode.INVALID_CHAIN,
        "layers[0].eventType",
    ),
]


@pytest.mark.parametrize(
    ("why", "change", "code", "field"), CHAIN_CASES, ids=[c[0] for c in CHAIN_CASES]
)
def test_invalid_chain_documents(
    why: str, change: Callable[[dict], object], code: ErrorCode, field: str
) -> None:
    document = {"banks": ["sha256"], "layers": [dict(GOOD_LAYER)]}
    replaced = change(document)
    if isinstance(replaced, list):
        document = replaced  # type: ignore[assignment]
    with pytest.raises(MalformedInputError) as info:
        boot.load_chain(document, Path())
    assert (info.value.code, info.value.field) == (code, field), why


GOOD_BODY = body_for({"crtm": b"crtm"}, revoked={"sha1": [h("sha1", b"x").hex()]})
POLICY_CASES: list[tuple[str, Callable[[dict], object], str]] = [
    ("unknown top key", lambda d: d.update(extra={}), "extra"),
    ("no signature", lambda d: d.pop("signature"), "signature"),
    ("policy a list", lambda d: d.update(policy=[]), "policy"),
    ("unknown policy key", lambda d: d["policy"].update(owner="x"), "policy.owner"),
    ("name missing", lambda d: d["policy"].pop("name"), "policy.name"),
    ("name a number", lambda d: d["policy"].update(name=1), "policy.name"),
    ("version -1", lambda d: d["policy"].update(version=-1), "policy.version"),
    ("version 2^63", lambda d: d["policy"].update(version=2**63), "policy.version"),
    ("version 3.0", lambda d: d["policy"].update(version=3.0), "policy.version"),
    ("version true", lambda d: d["policy"].update(version=True), "policy.version"),
    (
        "expires with offset",
        lambda d: d["policy"].update(expires="2027-06-30T00:00:00+00:00"),
        "policy.expires",
    ),
    (
        "expires lower z",
        lambda d: d["policy"].update(expires="2027-06-30T00:00:00z"),
        "policy.expires",
    ),
    (
        "expires fraction",
        lambda d: d["policy"].update(expires="2027-06-30T00:00:00.5Z"),
        "policy.expires",
    ),
    ("expires date only", lambda d: d["policy"].update(expires="2027-06-30"), "policy.expires"),
    (
        "expires Feb 30",
        lambda d: d["policy"].update(expires="2027-02-30T00:00:00Z"),
        "policy.expires",
    ),
    (
        "expires hour 24",
        lambda d: d["policy"].update(expires="2027-06-30T24:00:00Z"),
        "policy.expires",
    ),
    (
        "expires Arabic digits",
        lambda d: d["policy"].update(expires="\u0662027-06-30T00:00:00Z"),
        "policy.expires",
    ),
    ("layers a list", lambda d: d["policy"].update(layers=[]), "policy.layers"),
    ("entry a list", lambda d: d["policy"]["layers"].update(crtm=[]), "policy.layers.crtm"),
    (
        "unknown bank",
        lambda d: d["policy"]["layers"].update(crtm={"md5": []}),
        "policy.layers.crtm.md5",
    ),
    (
        "digests a string",
        lambda d: d["policy"]["layers"].update(crtm={"sha256": "00"}),
        "policy.layers.crtm.sha256",
    ),
    (
        "short digest",
        lambda d: d["policy"]["layers"].update(crtm={"sha256": ["00" * 31]}),
        "policy.layers.crtm.sha256[0]",
    ),
    (
        "bad hex digest",
        lambda d: d["policy"]["layers"].update(crtm={"sha256": ["zz" * 32]}),
        "policy.layers.crtm.sha256[0]",
    ),
    ("revoked a list", lambda d: d["policy"].update(revoked=[]), "policy.revoked"),
    (
        "revoked size",
        lambda d: d["policy"].update(revoked={"sha1": ["00" * 32]}),
        "policy.revoked.sha1[0]",
    ),
    ("unknown alg", lambda d: d["signature"].update(alg="rsa"), "signature.alg"),
    ("sig key missing", lambda d: d["signature"].pop("key"), "signature.key"),
    ("short key", lambda d: d["signature"].update(key="00" * 31), "signature.key"),
    ("short sig", lambda d: d["signature"].update(sig="00" * 63), "signature.sig"),
    ("sig extra", lambda d: d["signature"].update(comment=""), "signature.comment"),
    (
        "ecdsa key not 04",
        lambda d: d["signature"].update(alg="ecdsa-p256-sha256", key="02" + "00" * 64),
        "signature.key",
    ),
]


@pytest.mark.parametrize(("why", "change", "field"), POLICY_CASES, ids=[c[0] for c in POLICY_CASES])
def test_invalid_policy_documents(why: str, change: Callable[[dict], object], field: str) -> None:
    document = sign_doc(copy.deepcopy(GOOD_BODY))
    change(document)
    with pytest.raises(MalformedInputError) as info:
        boot.parse_signed_policy(document)
    assert (info.value.code, info.value.field) == (ErrorCode.INVALID_POLICY, field), why


def test_parse_signed_policy_fields() -> None:
    body = body_for({"crtm": b"crtm"}, ("sha256", "sha1"))
    document = sign_doc(body)
    policy = boot.parse_signed_policy(document)
    assert policy.policy == body and policy.policy is not body
    assert (policy.name, policy.version, policy.expires) == ("fleet-a", 3, EXPIRES_AT)
    assert policy.layers == {
        "crtm": {HashAlg.SHA256: (h("sha256", b"crtm"),), HashAlg.SHA1: (h("sha1", b"crtm"),)}
    }
    assert policy.revoked == {}
    assert (policy.alg, policy.key) == ("ed25519", ED_PUBLIC)
    document["policy"]["name"] = "changed"  # type: ignore[index]
    assert policy.policy["name"] == "fleet-a"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 30) | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=60)
@given(
    document=st.fixed_dictionaries(
        {},
        optional={
            "banks": st.one_of(
                json_values, st.lists(st.sampled_from(["sha1", "sha256", "md5"]), max_size=3)
            ),
            "layers": json_values,
            "x": json_values,
        },
    )
)
def test_hostile_chains_give_typed_errors(document: dict) -> None:
    try:
        boot.load_chain(document, Path("/nonexistent-chainoftrust-dir"))
    except MalformedInputError as err:
        assert err.code in {ErrorCode.INVALID_CHAIN, ErrorCode.UNKNOWN_ALGORITHM}
        assert err.field
    except SpecError as err:
        assert err.code == ErrorCode.LAYER_UNREADABLE


@settings(max_examples=60)
@given(policy=json_values, signature=json_values, extra=st.booleans())
def test_hostile_policies_give_typed_errors(policy: object, signature: object, extra: bool) -> None:
    document = {"policy": policy, "signature": signature} | ({"z": 1} if extra else {})
    with pytest.raises(MalformedInputError) as info:
        boot.parse_signed_policy(document)
    assert info.value.code == ErrorCode.INVALID_POLICY
    assert info.value.field


def test_policy_signing_bytes_and_key_id() -> None:
    """ADR 0005: prefix + sorted, compact, ASCII-escaped JSON; key id = alg:sha256[:16]."""
    got = boot.policy_signing_bytes({"b": 1, "a": "\u00e9", "c": {"y": [1, 2], "x": None}})
    assert got == b'chainoftrust-policy-v1\n{"a":"\\u00e9","b":1,"c":{"x":null,"y":[1,2]}}'
    assert (
        boot.key_id("ed25519", ED_PUBLIC) == "ed25519:" + hashlib.sha256(ED_PUBLIC).hexdigest()[:16]
    )


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256-sha256"])
def test_verify_policy_signature(alg: str) -> None:
    document = sign_doc(body_for(REFERENCE), alg)
    policy = boot.parse_signed_policy(document)
    assert boot.verify_policy_signature(policy) is policy
    document["policy"]["version"] = 4  # type: ignore[index]
    with pytest.raises(SpecError) as info:
        boot.verify_policy_signature(boot.parse_signed_policy(document))
    assert info.value.code == ErrorCode.POLICY_SIGNATURE_INVALID


def test_invalid_ecdsa_key_off_the_curve() -> None:
    """A trusted ECDSA key that is no curve point: the signature is invalid, nothing raises."""
    document = sign_doc(body_for(REFERENCE), "ecdsa-p256-sha256")
    bogus = "04" + "00" * 63 + "07"
    document["signature"]["key"] = bogus  # type: ignore[index]
    candidate = boot.parse_signed_policy(document)
    store = boot.PolicyStore([("ecdsa-p256-sha256", bytes.fromhex(bogus))])
    assert store.update(candidate, NOW) == boot.UpdateResult(False, "POLICY_SIGNATURE_INVALID")


def test_invalid_step_inputs() -> None:
    chain = boot.load_chain(chain_doc(LAYERS, ("sha1", "sha256")), Path())
    state = boot.initial_state(chain.banks)
    layer = chain.layers[0]
    only_one = {HashAlg.SHA256: h("sha256", layer.data)}
    with pytest.raises(MalformedInputError) as info:
        boot.boot_step(state, only_one, layer, None, "measured", NOW)
    assert info.value.code == ErrorCode.MISSING_BANK_DIGEST
    outside = boot.Layer("x", b"", 24, 1)
    with pytest.raises(MalformedInputError) as info:
        boot.boot_step(
            state, boot.measure_layer(chain.banks, outside), outside, None, "measured", NOW
        )
    assert info.value.code == ErrorCode.PCR_INDEX_OUT_OF_RANGE
    for pcr in range(17, 23):  # ADR 0005 amendment 1 item 1: locality 0 cannot extend them
        locked = boot.Layer("x", b"", pcr, 1)
        with pytest.raises(MalformedInputError) as info:
            boot.boot_step(
                state, boot.measure_layer(chain.banks, locked), locked, None, "measured", NOW
            )
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_CHAIN, "layer.pcr")


def test_parse_trusted_keys() -> None:
    store = {
        "keys": [
            {"alg": "ed25519", "key": ED_PUBLIC.hex()},
            {"alg": "ecdsa-p256-sha256", "key": EC_PUBLIC.hex()},
        ]
    }
    assert boot.parse_trusted_keys(store) == tuple(TRUSTED_KEYS)
    with pytest.raises(MalformedInputError) as info:
        boot.parse_trusted_keys({"keys": [{"alg": "ed25519", "key": "00"}]})
    assert info.value.field == "keys[0].key"


# libsodium's ge25519_has_small_order list (jedisct1/libsodium,
# src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c), y with the sign bit masked; the
# canonical encodings among them (y < p; x = 0, i.e. y = +-1, only with sign bit 0) are
# the 8 points of order 1, 2, 4 and 8.
_P = 2**255 - 19
SMALL_ORDER_KEYS = [
    (y | (sign << 255)).to_bytes(32, "little")
    for y in (
        0,
        1,
        2707385501144840649318225287225658788936804267575313519463743609750303402022,
        55188659117513257062467267217118295137698188065244968500265048394206261417927,
        _P - 1,
    )
    for sign in (0, 1)
    if not (sign == 1 and y in (1, _P - 1))
]


def test_small_order_keys_are_refused() -> None:
    """ADR 0005 amendment 2: INVALID_POLICY as signature.key and keys[i].key; PolicyStore
    refuses to trust one (UsageError at keys[i])."""
    assert len(SMALL_ORDER_KEYS) == 8
    for key in SMALL_ORDER_KEYS:
        document = sign_doc(body_for(REFERENCE))
        document["signature"]["key"] = key.hex()  # type: ignore[index]
        with pytest.raises(MalformedInputError) as info:
            boot.parse_signed_policy(document)
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_POLICY, "signature.key")
        store = {
            "keys": [
                {"alg": "ed25519", "key": ED_PUBLIC.hex()},
                {"alg": "ed25519", "key": key.hex()},
            ]
        }
        with pytest.raises(MalformedInputError) as info:
            boot.parse_trusted_keys(store)
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_POLICY, "keys[1].key")
        with pytest.raises(UsageError) as usage:
            boot.PolicyStore([*TRUSTED_KEYS, ("ed25519", key)])
        assert (usage.value.code, usage.value.field) == (ErrorCode.INVALID_POLICY, "keys[2]")


def test_torsion_key_of_the_review_is_refused() -> None:
    """The review's order-8 key, whose verdict with the signature (0, -1) || 0 depended on
    k mod 8 and so on the message (the version): refused at parse for every version."""
    key = "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"
    sig = "ec" + "ff" * 30 + "7f" + "00" * 32
    for version in (0, 1, 3, 4, 12, 19):
        body = body_for(REFERENCE, version=version)
        document = {"policy": body, "signature": {"alg": "ed25519", "key": key, "sig": sig}}
        with pytest.raises(MalformedInputError) as info:
            boot.parse_signed_policy(document)
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_POLICY, "signature.key")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "other"),
        ("version", 99),
        ("expires", datetime(2099, 1, 1, tzinfo=UTC)),
        ("layers", {"crtm": {HashAlg.SHA256: (h("sha256", b"evil"),)}}),
        ("revoked", {HashAlg.SHA256: (h("sha256", b"crtm"),)}),
    ],
)
@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256-sha256"])
def test_fields_not_in_the_signed_body_are_refused(alg: str, field: str, value: object) -> None:
    """ADR 0005 amendment 2: dataclasses.replace keeps `policy` and the signature but
    changes a checked field: POLICY_SIGNATURE_INVALID, nothing installed."""
    genuine = boot.parse_signed_policy(sign_doc(body_for(REFERENCE, version=1), alg))
    assert boot.verify_policy_signature(genuine) is genuine
    forged = dataclasses.replace(genuine, **{field: value})
    store = boot.PolicyStore(TRUSTED_KEYS)
    assert store.update(forged, NOW) == boot.UpdateResult(False, "POLICY_SIGNATURE_INVALID")
    assert store.installed is None
    with pytest.raises(SpecError) as info:
        boot.verify_policy_signature(forged)
    assert info.value.code == ErrorCode.POLICY_SIGNATURE_INVALID
    assert store.update(genuine, NOW).accepted


def test_a_signed_body_that_does_not_parse_is_refused() -> None:
    """A SignedPolicy built by hand around a body that is validly signed but is no policy
    (fields missing): its fields cannot be the signed body's, so check 2 refuses it."""
    body: dict[str, object] = {"name": "fleet-a", "version": 5}
    document = sign_doc(body)
    made = boot.SignedPolicy(
        policy=body,
        name="fleet-a",
        version=5,
        expires=EXPIRES_AT,
        layers={},
        revoked={},
        alg="ed25519",
        key=ED_PUBLIC,
        sig=bytes.fromhex(document["signature"]["sig"]),  # type: ignore[index]
    )
    store = boot.PolicyStore(TRUSTED_KEYS)
    assert store.update(made, NOW) == boot.UpdateResult(False, "POLICY_SIGNATURE_INVALID")
    with pytest.raises(SpecError) as info:
        boot.verify_policy_signature(made)
    assert info.value.code == ErrorCode.POLICY_SIGNATURE_INVALID


# --- policy updates -----------------------------------------------------------------------


def policy(version: int = 3, alg: str = "ed25519", expires: str = EXPIRES) -> boot.SignedPolicy:
    body = body_for(REFERENCE)
    body.update(version=version, expires=expires)
    return boot.parse_signed_policy(sign_doc(body, alg))


def test_update_rules() -> None:
    store = boot.PolicyStore(TRUSTED_KEYS)
    first = policy(3)
    assert store.update(first, NOW) == boot.UpdateResult(True, None)
    assert store.installed is first
    for candidate, code in [
        (policy(2), "POLICY_ROLLBACK"),
        (policy(3, "ecdsa-p256-sha256"), "POLICY_ROLLBACK"),  # equal version
        (policy(4, expires="2026-12-01T00:00:00Z"), "POLICY_EXPIRED"),  # now == expires
        (policy(2, expires="2026-01-01T00:00:00Z"), "POLICY_EXPIRED"),  # before rollback
    ]:
        assert store.update(candidate, NOW) == boot.UpdateResult(False, code)
        assert store.installed is first
    upgrade = policy(4, "ecdsa-p256-sha256")
    assert store.update(upgrade, NOW).accepted
    assert store.installed is upgrade


def test_update_refuses_unknown_signer_before_the_signature() -> None:
    other = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    other_public = other.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    body = body_for(REFERENCE, version=9)
    document = {
        "policy": body,
        "signature": {"alg": "ed25519", "key": other_public.hex(), "sig": "00" * 64},
    }
    store = boot.PolicyStore(TRUSTED_KEYS)
    assert store.update(boot.parse_signed_policy(document), NOW) == boot.UpdateResult(
        False, "UNKNOWN_SIGNER"
    )
    good = {
        **document,
        "signature": {**document["signature"], "sig": other.sign(signing_bytes(body)).hex()},
    }  # type: ignore[dict-item]
    assert store.update(boot.parse_signed_policy(good), NOW).code == "UNKNOWN_SIGNER"
    assert (
        boot.PolicyStore([*TRUSTED_KEYS, ("ed25519", other_public)])
        .update(boot.parse_signed_policy(good), NOW)
        .accepted
    )


def test_update_refuses_a_bad_signature_before_expiry() -> None:
    document = sign_doc(body_for(REFERENCE, expires="2000-01-01T00:00:00Z"))
    document["policy"]["name"] = "altered"  # type: ignore[index]
    store = boot.PolicyStore(TRUSTED_KEYS)
    result = store.update(boot.parse_signed_policy(document), NOW)
    assert result == boot.UpdateResult(False, "POLICY_SIGNATURE_INVALID")
    assert store.installed is None


def test_update_refuses_a_key_of_the_other_algorithm() -> None:
    """The trust store holds (alg, key) pairs: the same bytes under another alg are unknown."""
    store = boot.PolicyStore([("ecdsa-p256-sha256", ED_PUBLIC)])
    assert store.update(policy(), NOW).code == "UNKNOWN_SIGNER"


# --- the vectors ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, object]]:
    return vectors_boot.build_files()


def test_vectors_are_deterministic_and_valid(files: dict[str, dict[str, object]]) -> None:
    assert json.dumps(files) == json.dumps(vectors_boot.build_files())
    schemas = vectors_boot.build_schemas(files)
    assert sorted(files) == ["boot/boot_run_test.json", "boot/policy_update_test.json"]
    assert sorted(schemas) == [
        "schemas/boot_run_schema_v1.json",
        "schemas/policy_update_schema_v1.json",
    ]
    for content in files.values():
        schema = schemas[f"schemas/{content['operation']}_schema_v1.json"]
        jsonschema.Draft202012Validator.check_schema(schema)
        jsonschema.validate(content, schema)
        tests = content["testGroups"][0]["tests"]  # type: ignore[index]
        assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
        assert content["numberOfTests"] == len(tests)
    flags = {f for c in files.values() for t in c["testGroups"][0]["tests"] for f in t["flags"]}  # type: ignore[index]
    assert {
        "TamperedLayer",
        "RevokedDigest",
        "ExpiredPolicy",
        "Rollback",
        "EqualVersion",
        "UnknownSigner",
        "BadSignature",
        "NoReference",
    } <= flags


def _third_party_verify(alg: str, key: bytes, message: bytes, sig: bytes) -> bool:
    try:
        if alg == "ed25519":
            Ed25519PublicKey.from_public_bytes(key).verify(sig, message)
        else:
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
            der = encode_dss_signature(
                int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
            )
            public.verify(der, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def test_vector_signatures_agree_with_cryptography(files: dict[str, dict[str, object]]) -> None:
    for test in files["boot/policy_update_test.json"]["testGroups"][0]["tests"]:  # type: ignore[index]
        candidate = test["candidate"]
        signature = candidate["signature"]
        valid = _third_party_verify(
            signature["alg"],
            bytes.fromhex(signature["key"]),
            signing_bytes(candidate["policy"]),
            bytes.fromhex(signature["sig"]),
        )
        trusted = {(k["alg"], k["key"]) for k in test["keys"]["keys"]}
        if (signature["alg"], signature["key"]) in trusted:
            assert valid == (test["expected"]["code"] != "POLICY_SIGNATURE_INVALID"), test[
                "comment"
            ]
    for test in files["boot/boot_run_test.json"]["testGroups"][0]["tests"]:  # type: ignore[index]
        if test["policy"] is not None:
            signature = test["policy"]["signature"]
            assert _third_party_verify(
                signature["alg"],
                bytes.fromhex(signature["key"]),
                signing_bytes(test["policy"]["policy"]),
                bytes.fromhex(signature["sig"]),
            ), test["comment"]


def test_vector_boots_replay_and_match_hashlib(files: dict[str, dict[str, object]]) -> None:
    for test in files["boot/boot_run_test.json"]["testGroups"][0]["tests"]:  # type: ignore[index]
        expected = test["expected"]
        layers = [
            (layer["name"], bytes.fromhex(layer["data"]), layer["pcr"])
            for layer in test["chain"]["layers"]
        ]
        measured = layers[: len(expected["measured"])]
        banks = tuple(test["chain"]["banks"])
        assert expected["pcrs"] == expected_pcrs(measured, banks), test["comment"]
        spec_pcrs, impl_pcrs = replayed(bytes.fromhex(expected["eventLog"]))
        assert spec_pcrs == impl_pcrs
        for bank, values in spec_pcrs.items():
            for index, value in values.items():
                assert expected["pcrs"][bank][index] == value
        assert (test["result"] == "valid") == expected["completed"]
        assert test.get("errorCode") == (expected["halt"] or {}).get("code")


def test_bank_names_used_in_tests_are_known() -> None:
    for name in ("sha1", "sha256", "sha384", "sha512", "sha3_256"):
        assert hash_alg_from_name(name)


def test_vector_keys_follow_the_header_rule(files: dict[str, dict[str, object]]) -> None:
    """The header's key derivation, redone with cryptography, gives the vectors' keys."""

    def seed(label: bytes) -> bytes:
        return hashlib.sha256(b"chainoftrust boot vectors: " + label).digest()

    n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # P-256 order
    ed_public = Ed25519PrivateKey.from_private_bytes(seed(b"signer A")).public_key()
    d = int.from_bytes(seed(b"signer B"), "big") % (n - 1) + 1
    ec_public = ec.derive_private_key(d, ec.SECP256R1()).public_key()
    expected = [
        {"alg": "ed25519", "key": ed_public.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()},
        {
            "alg": "ecdsa-p256-sha256",
            "key": ec_public.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint).hex(),
        },
    ]
    test = files["boot/boot_run_test.json"]["testGroups"][0]["tests"][0]  # type: ignore[index]
    assert test["keys"]["keys"] == expected
