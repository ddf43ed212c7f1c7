"""impl.boot: the trusted-boot engine, its event log, and signed policies (ADR 0005).

Expected values come from outside the code under test: PCR values and digests from
hashlib (PCR_new = H(PCR_old || H(layer)), start values as after TPM2_Startup(CLEAR) at
locality 0: PCRs 17-22 all ff, the others zero); the event log's header bytes from the
PFP layout written out here; its replay from impl.eventlog and from tpm2_eventlog;
signatures from `cryptography` keys signing the ADR's signed bytes (prefix + canonical
JSON, built here, not with the module's function).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import re
import struct
import subprocess
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl._boot_policy import _verify_ed25519
from chainoftrust.impl.boot import (
    NOT_COVERED_SENTENCE,
    Chain,
    Layer,
    PolicyStore,
    SignedPolicy,
    key_id,
    load_chain,
    parse_signed_policy,
    parse_trust_store,
    policy_signing_bytes,
    run_boot,
    verify_policy_signature,
)
from chainoftrust.impl.errors import ErrorCode, ImplError, MalformedInputError, UsageError
from chainoftrust.impl.eventlog import parse_event_log, replay_event_log
from chainoftrust.impl.vectors_boot import run_boot_run, run_policy_update
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import require_tools

HASH: dict[str, Callable[[bytes], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
ALG_ID = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
SIZE = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
LOCALITY0_PCRS = (*range(17), 23)  # PTP: what locality 0 may extend (ADR 0005 amendment 1)
NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
EXPIRES = "2027-06-30T00:00:00Z"
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
ED_P = 2**255 - 19
ED_L = 2**252 + 27742317777372353535851937790883648493


# ------------------------------------------------------------------ independent models


def start_values(bank: str) -> list[bytes]:
    """PCRs after TPM2_Startup(CLEAR) at locality 0 (PC Client: 17..22 are all ones)."""
    size = SIZE[bank]
    return [b"\xff" * size if 17 <= i <= 22 else bytes(size) for i in range(24)]


def expected_pcrs(banks: list[str], layers: list[tuple[int, bytes]]) -> dict[str, dict[str, str]]:
    out = {}
    for bank in banks:
        values = start_values(bank)
        for pcr, data in layers:
            values[pcr] = HASH[bank](values[pcr] + HASH[bank](data).digest()).digest()
        out[bank] = {str(i): v.hex() for i, v in enumerate(values)}
    return out


def chain_doc(
    names: list[str], banks: tuple[str, ...] = ("sha256", "sha384"), pcrs: list[int] | None = None
) -> dict[str, Any]:
    pcrs = pcrs or [(0, 2, 4, 4, 7)[i % 5] for i in range(len(names))]
    return {
        "banks": list(banks),
        "layers": [
            {"name": n, "data": n.encode().hex() * 3, "pcr": p, "eventType": "EV_IPL"}
            for n, p in zip(names, pcrs, strict=True)
        ],
    }


def layer_digest(doc: dict[str, Any], index: int, bank: str) -> str:
    digest: str = HASH[bank](bytes.fromhex(doc["layers"][index]["data"])).hexdigest()
    return digest


def body_for(doc: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A policy body whose entries allow exactly the chain's layers, in every chain bank."""
    layers = {
        layer["name"]: {b: [layer_digest(doc, i, b)] for b in doc["banks"]}
        for i, layer in enumerate(doc["layers"])
    }
    body = {"name": "fleet-a", "version": 3, "expires": EXPIRES, "layers": layers}
    body.update(extra)
    return body


def signed_bytes(body: object) -> bytes:
    """ADR 0005: prefix + JSON with sorted keys, no spaces, ASCII escapes."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return b"chainoftrust-policy-v1\n" + text.encode()


class Signer:
    """A cryptography key pair and the ADR's encodings of its public key and signatures."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        if alg == "ed25519":
            self.private: Any = ed25519.Ed25519PrivateKey.generate()
            self.public = self.private.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self.public = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )

    def sign_bytes(self, message: bytes) -> bytes:
        if self.alg == "ed25519":
            sig: bytes = self.private.sign(message)
            return sig
        r, s = decode_dss_signature(self.private.sign(message, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def document(self, body: dict[str, Any]) -> dict[str, Any]:
        sig = self.sign_bytes(signed_bytes(body))
        return {
            "policy": body,
            "signature": {"alg": self.alg, "key": self.public.hex(), "sig": sig.hex()},
        }

    def policy(self, body: dict[str, Any]) -> SignedPolicy:
        return parse_signed_policy(self.document(body))

    @property
    def pair(self) -> tuple[str, bytes]:
        return (self.alg, self.public)


@pytest.fixture(scope="module", params=["ed25519", "ecdsa-p256-sha256"])
def signer(request: pytest.FixtureRequest) -> Signer:
    return Signer(request.param)


@pytest.fixture(scope="module")
def ed_signer() -> Signer:
    return Signer("ed25519")


def boot(doc: dict[str, Any], policy: SignedPolicy | None, mode: str, now: datetime = NOW) -> Any:
    return run_boot(load_chain(doc, Path(".")), policy, mode, now)


NAMES = ["crtm", "firmware", "bootloader", "kernel", "initrd"]


# ------------------------------------------------------------------ measured boot


def test_measured_boot_pcrs_equal_hashlib_and_claims_have_scope() -> None:
    doc = chain_doc(NAMES)
    result = boot(doc, None, "measured")
    layers = [(lay["pcr"], bytes.fromhex(lay["data"])) for lay in doc["layers"]]
    assert result.pcrs == expected_pcrs(["sha256", "sha384"], layers)
    out = result.to_json()
    assert out["completed"] is True and out["halt"] is None
    assert out["measured"] == out["ran"] == NAMES
    assert out["claims"][0] == {
        "kind": "layers_measured",
        "layers": NAMES,
        "banks": ["sha256", "sha384"],
    }
    assert [c["bank"] for c in out["claims"][1:]] == ["sha256", "sha384"]
    for claim in out["claims"][1:]:
        assert claim["kind"] == "pcrs"
        assert set(claim["values"]) == {"0", "2", "4", "7"}
        assert all(claim["values"][i] == result.pcrs[claim["bank"]][i] for i in claim["values"])
    assert out["notCovered"] == [NOT_COVERED_SENTENCE]
    assert "trusted" not in json.dumps(out["claims"]).lower()
    assert list(out) == [
        "completed",
        "mode",
        "measured",
        "ran",
        "halt",
        "pcrs",
        "claims",
        "notCovered",
    ]


def test_measured_mode_never_halts_and_ignores_a_policy(ed_signer: Signer) -> None:
    doc = chain_doc(NAMES)
    hostile = ed_signer.policy(
        {"name": "x", "version": 1, "expires": "2000-01-01T00:00:00Z", "layers": {}}
    )
    with_policy = boot(doc, hostile, "measured")
    without = boot(doc, None, "measured")
    assert with_policy.completed and with_policy.ran == tuple(NAMES)
    assert with_policy.to_json() == without.to_json()
    assert with_policy.event_log == without.event_log


def test_pcrs_17_to_22_are_refused_and_23_starts_at_zero() -> None:
    """ADR 0005 amendment 1: the boot runs at locality 0, which cannot extend 17-22 (PTP);
    PCR 23 (resettable, extendable at any locality) starts at zero."""
    for pcr in range(17, 23):
        doc = {
            "banks": ["sha1"],
            "layers": [{"name": "x", "data": "ab", "pcr": pcr, "eventType": 1}],
        }
        with pytest.raises(ImplError) as caught:
            load_chain(doc, Path("."))
        assert (caught.value.code, caught.value.field) == ("INVALID_CHAIN", "layers[0].pcr")
        with pytest.raises(ImplError) as caught:  # nor may a Layer built in memory name one
            Layer(name="x", data=b"\xab", pcr=pcr, event_type=1)
        assert (caught.value.code, caught.value.field) == ("INVALID_CHAIN", "pcr")
    for pcr in LOCALITY0_PCRS:
        assert Layer(name="x", data=b"", pcr=pcr, event_type=1).pcr == pcr
    doc = {"banks": ["sha1"], "layers": [{"name": "app", "data": "ab", "pcr": 23, "eventType": 1}]}
    result = boot(doc, None, "measured")
    assert result.pcrs == expected_pcrs(["sha1"], [(23, b"\xab")])
    assert result.pcrs["sha1"]["18"] == "ff" * 20


# ------------------------------------------------------------------ trusted boot


def test_trusted_boot_completes_when_every_layer_matches(signer: Signer) -> None:
    doc = chain_doc(NAMES)
    policy = signer.policy(body_for(doc))
    result = boot(doc, policy, "trusted")
    out = result.to_json()
    assert out["completed"] is True and out["ran"] == NAMES and out["halt"] is None
    kid = f"{signer.alg}:{hashlib.sha256(signer.public).hexdigest()[:16]}"
    assert out["claims"][0] == {
        "kind": "layers_matched",
        "layers": NAMES,
        "policy": "fleet-a",
        "version": 3,
        "signer": kid,
        "banks": ["sha256", "sha384"],
        "at": "2026-12-01T12:00:00Z",
    }
    assert result.to_json()["pcrs"] == boot(doc, None, "measured").to_json()["pcrs"]


@pytest.mark.parametrize("position", range(len(NAMES)))
def test_halt_at_each_position_measures_the_layer_and_nothing_after(
    position: int, ed_signer: Signer
) -> None:
    doc = chain_doc(NAMES)
    body = body_for(doc)
    tampered = copy.deepcopy(doc)
    tampered["layers"][position]["data"] = "ee" + doc["layers"][position]["data"]
    result = boot(tampered, ed_signer.policy(body), "trusted")
    out = result.to_json()
    assert out["completed"] is False
    assert out["measured"] == NAMES[: position + 1]
    assert out["ran"] == NAMES[:position]
    layers = [(lay["pcr"], bytes.fromhex(lay["data"])) for lay in tampered["layers"]]
    assert out["pcrs"] == expected_pcrs(["sha256", "sha384"], layers[: position + 1])
    halt = out["halt"]
    assert (
        halt
        == {
            "index": position,
            "layer": NAMES[position],
            "pcr": doc["layers"][position]["pcr"],
            "code": "DIGEST_NOT_ALLOWED",
            "actual": {b: layer_digest(tampered, position, b) for b in ("sha256", "sha384")},
            "expected": body["layers"][NAMES[position]],
            "policy": {
                "name": "fleet-a",
                "version": 3,  # ADR 0005 key_id: alg + ":" + SHA-256(public key)[:16] in hex
                "signer": "ed25519:" + hashlib.sha256(ed_signer.public).hexdigest()[:16],
            },
        }
    )
    assert out["notCovered"] == [*NAMES[position + 1 :], NOT_COVERED_SENTENCE]
    log = parse_event_log(result.event_log)
    assert [e.data.decode() for e in log.events[1:]] == NAMES[: position + 1]
    if position == 0:
        assert out["claims"][0]["kind"] == "pcrs"  # nothing ran: no layers_matched claim
    else:
        assert out["claims"][0]["layers"] == NAMES[:position]


def _halt_code(
    signer: Signer, doc: dict[str, Any], body: dict[str, Any], now: datetime = NOW
) -> Any:
    halt = boot(doc, signer.policy(body), "trusted", now).halt
    return None if halt is None else (halt.index, halt.code)


def test_check_order_expired_revoked_no_reference_not_allowed(ed_signer: Signer) -> None:
    doc = chain_doc(NAMES[:2])
    d0 = layer_digest(doc, 0, "sha256")
    good = body_for(doc)
    # (a) expiry first, even when everything else is wrong too; now == expires is expired
    bad_all = {**good, "layers": {}, "revoked": {"sha256": [d0]}}
    at_expiry = datetime(2027, 6, 30, tzinfo=UTC)
    assert _halt_code(ed_signer, doc, bad_all, at_expiry) == (0, "POLICY_EXPIRED")
    assert _halt_code(ed_signer, doc, good, at_expiry - timedelta(seconds=1)) is None
    # (b) revocation beats an allowed digest and beats a missing entry
    assert _halt_code(ed_signer, doc, {**good, "revoked": {"sha256": [d0]}}) == (
        0,
        "DIGEST_REVOKED",
    )
    assert _halt_code(ed_signer, doc, bad_all) == (0, "DIGEST_REVOKED")
    # ... but a revoked list of a bank the chain does not measure is ignored
    assert _halt_code(ed_signer, doc, {**good, "revoked": {"sha1": ["00" * 20]}}) is None
    # (c) no entry, or an entry naming no chain bank
    no_entry = {**good, "layers": {NAMES[0]: good["layers"][NAMES[0]]}}
    assert _halt_code(ed_signer, doc, no_entry) == (1, "NO_REFERENCE")
    other_bank = {**good, "layers": {**good["layers"], NAMES[1]: {"sha1": ["00" * 20]}}}
    assert _halt_code(ed_signer, doc, other_bank) == (1, "NO_REFERENCE")
    empty_entry = {**good, "layers": {**good["layers"], NAMES[1]: {}}}
    assert _halt_code(ed_signer, doc, empty_entry) == (1, "NO_REFERENCE")
    # (d) a wrong digest in any chain bank the entry names; other banks ignored
    one_bank_wrong = copy.deepcopy(good)
    one_bank_wrong["layers"][NAMES[1]]["sha384"] = ["00" * 48]
    assert _halt_code(ed_signer, doc, one_bank_wrong) == (1, "DIGEST_NOT_ALLOWED")
    empty_list = copy.deepcopy(good)
    empty_list["layers"][NAMES[1]]["sha256"] = []
    assert _halt_code(ed_signer, doc, empty_list) == (1, "DIGEST_NOT_ALLOWED")
    partial = copy.deepcopy(good)
    del partial["layers"][NAMES[1]]["sha384"]
    partial["layers"][NAMES[1]]["sha1"] = ["00" * 20]  # not measured: ignored
    assert _halt_code(ed_signer, doc, partial) is None
    several = copy.deepcopy(good)
    several["layers"][NAMES[1]]["sha256"].insert(0, "11" * 32)
    assert _halt_code(ed_signer, doc, several) is None


def test_layers_matched_claim_names_only_the_banks_checked(ed_signer: Signer) -> None:
    doc = chain_doc(NAMES[:2])
    body = body_for(doc)
    for name in NAMES[:2]:
        del body["layers"][name]["sha384"]
    claim = boot(doc, ed_signer.policy(body), "trusted").to_json()["claims"][0]
    assert claim["kind"] == "layers_matched" and claim["banks"] == ["sha256"]


def test_expected_is_the_policy_entry_or_empty(ed_signer: Signer) -> None:
    doc = chain_doc(NAMES[:2])
    body = body_for(doc)
    del body["layers"][NAMES[1]]
    halt = boot(doc, ed_signer.policy(body), "trusted").to_json()["halt"]
    assert halt["code"] == "NO_REFERENCE" and halt["expected"] == {}


@given(
    st.integers(min_value=1, max_value=12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.integers(min_value=0, max_value=n - 1),
            st.sampled_from(["DIGEST_NOT_ALLOWED", "NO_REFERENCE", "DIGEST_REVOKED"]),
            st.lists(st.sampled_from(LOCALITY0_PCRS), min_size=n, max_size=n),
        )
    )
)
def test_property_nothing_after_a_halt_is_measured_logged_or_run(
    case: tuple[int, int, str, list[int]],
) -> None:
    count, position, code, pcrs = case
    signer = _ED_SIGNER
    names = [f"layer-{i}" for i in range(count)]
    doc = chain_doc(names, banks=("sha256",), pcrs=pcrs)
    body = body_for(doc)
    digest = layer_digest(doc, position, "sha256")
    if code == "DIGEST_NOT_ALLOWED":
        body["layers"][names[position]]["sha256"] = ["00" * 32]
    elif code == "NO_REFERENCE":
        del body["layers"][names[position]]
    else:
        body["revoked"] = {"sha256": [digest]}
    result = boot(doc, signer.policy(body), "trusted")
    # an earlier layer with the same data would halt first: the first occurrence counts
    first = next(i for i in range(count) if layer_digest(doc, i, "sha256") == digest)
    stop = first if code == "DIGEST_REVOKED" else position
    assert result.halt is not None and (result.halt.index, result.halt.code) == (stop, code)
    assert result.measured == tuple(names[: stop + 1]) and result.ran == tuple(names[:stop])
    layers = [(p, bytes.fromhex(lay["data"])) for p, lay in zip(pcrs, doc["layers"], strict=True)]
    assert result.pcrs == expected_pcrs(["sha256"], layers[: stop + 1])
    replay = replay_event_log(parse_event_log(result.event_log)).to_json()
    assert len(parse_event_log(result.event_log).events) == stop + 2
    for index, value in replay["pcrs"]["sha256"].items():
        assert result.pcrs["sha256"][index] == value


_ED_SIGNER = Signer("ed25519")


# ------------------------------------------------------------------ the event log


def test_event_log_bytes_follow_the_pfp_layout() -> None:
    doc = {
        "banks": ["sha384", "sha1"],
        "layers": [{"name": "crtm", "data": "00", "pcr": 0, "eventType": "EV_S_CRTM_CONTENTS"}],
    }
    log = boot(doc, None, "measured").event_log
    spec_id = (
        b"Spec ID Event03\x00"
        + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 2)
        + struct.pack("<HHHH", 0x000C, 48, 0x0004, 20)
        + b"\x00"
    )
    header = struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec_id)) + spec_id
    event = (
        struct.pack("<III", 0, 7, 2)
        + struct.pack("<H", 0x000C)
        + hashlib.sha384(b"\x00").digest()
        + struct.pack("<H", 0x0004)
        + hashlib.sha1(b"\x00").digest()
        + struct.pack("<I", 4)
        + b"crtm"
    )
    assert log == header + event


@given(
    st.lists(
        st.sampled_from(["sha1", "sha256", "sha384", "sha512"]), min_size=1, max_size=4, unique=True
    ),
    st.lists(
        st.tuples(st.sampled_from(LOCALITY0_PCRS), st.binary(max_size=64)),
        min_size=1,
        max_size=10,
    ),
)
def test_property_the_log_replays_to_the_pcrs(
    banks: list[str], layers: list[tuple[int, bytes]]
) -> None:
    doc = {
        "banks": banks,
        "layers": [
            {"name": f"l{i}", "data": data.hex(), "pcr": pcr, "eventType": 0x80000008}
            for i, (pcr, data) in enumerate(layers)
        ],
    }
    result = boot(doc, None, "measured")
    assert result.pcrs == expected_pcrs(banks, layers)
    log = parse_event_log(result.event_log)
    assert log.format == "crypto-agile"
    assert [a for a, _ in log.spec_id.algorithms] == [ALG_ID[b] for b in banks]  # type: ignore[union-attr]
    replay = replay_event_log(log).to_json()
    assert not [w for w in replay["warnings"] if w["code"] == "MISSING_BANK_DIGEST"]
    named = {str(p) for p, _ in layers}
    for bank in banks:
        assert set(replay["pcrs"][bank]) == named
        assert all(result.pcrs[bank][i] == v for i, v in replay["pcrs"][bank].items())


def test_tpm2_eventlog_reads_the_log_and_agrees_on_the_pcrs(tmp_path: Path) -> None:
    require_tools("tpm2_eventlog")
    # tpm2_eventlog decodes the data of the EFI image and blob types as structures, so
    # those layers get names at least as long as the structures' fixed parts.
    long = "-structure-sized-name-0123456789"
    doc = {
        "banks": ["sha1", "sha256", "sha384"],
        "layers": [
            {"name": "crtm" + long, "data": "01", "pcr": 0, "eventType": "EV_S_CRTM_CONTENTS"},
            {"name": "post", "data": "02", "pcr": 0, "eventType": "EV_POST_CODE"},
            {"name": "blob" + long, "data": "03", "pcr": 2, "eventType": 0x80000008},
            {"name": "shim" + long, "data": "04", "pcr": 4, "eventType": 0x80000003},
            {"name": "grub", "data": "05", "pcr": 4, "eventType": "EV_IPL"},
            {"name": "hash", "data": "06", "pcr": 23, "eventType": "EV_COMPACT_HASH"},
        ],
    }
    result = boot(doc, None, "measured")
    path = tmp_path / "boot.log"
    path.write_bytes(result.event_log)
    done = subprocess.run(["tpm2_eventlog", str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    section = done.stdout[done.stdout.index("\npcrs:") :]
    seen: dict[str, dict[str, str]] = {}
    bank = ""
    for line in section.splitlines():
        if m := re.match(r"^  (\w+):\s*$", line):
            bank = m.group(1)
            seen[bank] = {}
        elif m := re.match(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$", line):
            seen[bank][m.group(1)] = m.group(2).lower()
    assert set(seen) == {"sha1", "sha256", "sha384"}
    for name, values in seen.items():
        assert set(values) == {"0", "2", "4", "23"}
        assert all(result.pcrs[name][i] == v for i, v in values.items())


# ------------------------------------------------------------------ policies


def test_key_id_and_signing_bytes_are_the_adr_s() -> None:
    key = bytes(range(32))
    assert key_id("ed25519", key) == "ed25519:" + hashlib.sha256(key).hexdigest()[:16]
    body = {"name": "é", "version": 1, "layers": {}, "expires": EXPIRES}
    assert policy_signing_bytes(body) == signed_bytes(body)
    assert b"\\u00e9" in policy_signing_bytes(body)


def test_policy_store_first_install_and_later_updates(signer: Signer) -> None:
    doc = chain_doc(NAMES[:1])
    v3 = signer.policy(body_for(doc))
    store = PolicyStore([signer.pair])
    assert store.installed is None
    assert store.update(v3, NOW).to_json() == {"accepted": True, "code": None}
    assert store.installed is v3
    for version, code in ((2, "POLICY_ROLLBACK"), (3, "POLICY_ROLLBACK"), (4, None)):
        candidate = signer.policy(body_for(doc, version=version))
        result = store.update(candidate, NOW)
        assert (result.accepted, result.code) == (code is None, code)
        assert store.installed is (candidate if code is None else v3 if version < 4 else None)
        if code is None:
            assert store.installed.version == 4
    with pytest.raises((AttributeError, FrozenInstanceError)):
        store.installed = v3


def test_policy_store_checks_in_order(signer: Signer) -> None:
    doc = chain_doc(NAMES[:1])
    stranger = Signer(signer.alg)
    installed = signer.policy(body_for(doc, version=5))
    expired_old = body_for(doc, version=1, expires="2026-01-01T00:00:00Z")

    def refused(candidate: SignedPolicy) -> str | None:
        store = PolicyStore([signer.pair], installed=installed)
        code = store.update(candidate, NOW).code
        assert store.installed is (installed if code is not None else candidate)
        return code

    # 1 unknown signer, before the signature is even looked at
    assert refused(stranger.policy(expired_old)) == "UNKNOWN_SIGNER"
    # 2 a bad signature, before expiry and rollback
    forged = signer.document(expired_old)
    forged["policy"]["version"] = 9  # the signature no longer covers the body
    assert refused(parse_signed_policy(forged)) == "POLICY_SIGNATURE_INVALID"
    flipped = signer.document(expired_old)
    sig = bytearray.fromhex(flipped["signature"]["sig"])
    sig[5] ^= 1
    flipped["signature"]["sig"] = sig.hex()
    assert refused(parse_signed_policy(flipped)) == "POLICY_SIGNATURE_INVALID"
    # 3 expiry, before rollback; now == expires is expired
    assert refused(signer.policy(expired_old)) == "POLICY_EXPIRED"
    at = body_for(doc, version=9, expires="2026-12-01T12:00:00Z")
    assert refused(signer.policy(at)) == "POLICY_EXPIRED"
    # 4 rollback
    assert refused(signer.policy(body_for(doc, version=5))) == "POLICY_ROLLBACK"
    assert refused(signer.policy(body_for(doc, version=6))) is None


def test_signature_is_domain_separated(signer: Signer) -> None:
    body = body_for(chain_doc(NAMES[:1]))
    plain = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    document = signer.document(body)
    document["signature"]["sig"] = signer.sign_bytes(plain).hex()
    with pytest.raises(MalformedInputError) as info:
        verify_policy_signature(parse_signed_policy(document))
    assert info.value.code == ErrorCode.POLICY_SIGNATURE_INVALID


def test_signature_verifies_over_any_key_order_and_hex_case(ed_signer: Signer) -> None:
    body = body_for(chain_doc(NAMES[:2]))
    document = ed_signer.document(body)
    reordered = {"policy": dict(reversed(list(body.items()))), "signature": document["signature"]}
    assert verify_policy_signature(parse_signed_policy(reordered)).version == 3
    upper = copy.deepcopy(document)
    upper["signature"]["sig"] = upper["signature"]["sig"].upper()
    assert verify_policy_signature(parse_signed_policy(upper)).version == 3


def _ed_variant(
    ed_signer: Signer, change: Callable[[bytes, bytes], tuple[bytes, bytes]]
) -> str | None:
    body = body_for(chain_doc(NAMES[:1]))
    document = ed_signer.document(body)
    key, sig = change(ed_signer.public, bytes.fromhex(document["signature"]["sig"]))
    document["signature"].update(key=key.hex(), sig=sig.hex())
    policy = parse_signed_policy(document)
    return PolicyStore([("ed25519", key)]).update(policy, NOW).code


def _ed_code(key: bytes, sig: bytes) -> str | None:
    document = {"policy": BODY, "signature": {"alg": "ed25519", "key": key.hex(), "sig": sig.hex()}}
    return PolicyStore([("ed25519", key)]).update(parse_signed_policy(document), NOW).code


def test_ed25519_non_canonical_encodings_are_refused(ed_signer: Signer) -> None:
    def s_plus_l(key: bytes, sig: bytes) -> tuple[bytes, bytes]:
        s = int.from_bytes(sig[32:], "little") + ED_L  # still < 2^256: same S mod L
        return key, sig[:32] + s.to_bytes(32, "little")

    assert _ed_variant(ed_signer, lambda k, s: (k, s)) is None
    assert _ed_variant(ed_signer, s_plus_l) == "POLICY_SIGNATURE_INVALID"
    # With A = R = the identity (y = 1) and S = 0, [S]B = R + [k]A holds for every
    # message: RFC 8032 5.1.7 verifies it, so ADR 0005 amendment 2 refuses the key itself
    # (a small-order key) wherever it is read. The identity's non-canonical encodings
    # (y + p, and x = 0 with the sign bit set; RFC 8032 5.1.3 steps 1 and 4) must be
    # refused by verification, as A and as R; OpenSSL 3.0 alone accepts them as A, so this
    # checks the decoding rules here.
    identity = (1).to_bytes(32, "little")
    y_plus_p = (1 + ED_P).to_bytes(32, "little")
    negative_zero = bytes(identity[:31]) + bytes([0x80])
    sig = identity + bytes(32)
    document = {"policy": BODY, "signature": {**SIG, "key": identity.hex(), "sig": sig.hex()}}
    assert _policy_error(document) == ("INVALID_POLICY", "signature.key")
    with pytest.raises(UsageError) as caught:
        PolicyStore([("ed25519", identity)])
    assert (caught.value.code, caught.value.field) == ("INVALID_POLICY", "keys[0]")
    message = signed_bytes(BODY)
    assert _verify_ed25519(identity, identity + bytes(32), message)  # the RFC's verdict
    assert not _verify_ed25519(y_plus_p, identity + bytes(32), message)
    assert not _verify_ed25519(negative_zero, identity + bytes(32), message)
    assert not _verify_ed25519(identity, y_plus_p + bytes(32), message)
    assert not _verify_ed25519(identity, negative_zero + bytes(32), message)
    # the non-canonical keys are not small-order keys: they reach the signature check
    assert _ed_code(y_plus_p, identity + bytes(32)) == "POLICY_SIGNATURE_INVALID"
    assert _ed_code(negative_zero, identity + bytes(32)) == "POLICY_SIGNATURE_INVALID"


# libsodium's ge25519_has_small_order list (jedisct1/libsodium,
# src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c): y-coordinates, sign bit masked,
# of the points of order 1, 2, 4 and 8, with p and p + 1 (non-canonical spellings of 0, 1).
LIBSODIUM_SMALL_ORDER_Y = (
    0,
    1,
    2707385501144840649318225287225658788936804267575313519463743609750303402022,
    55188659117513257062467267217118295137698188065244968500265048394206261417927,
    ED_P - 1,
    ED_P,
    ED_P + 1,
)


def _encode_y(y: int, sign: int) -> bytes:
    return (y | (sign << 255)).to_bytes(32, "little")


# Canonical (RFC 8032 5.1.3: y < p, and x = 0 only with sign bit 0; x = 0 when y = +-1)
SMALL_ORDER_KEYS = [
    _encode_y(y, sign)
    for y in LIBSODIUM_SMALL_ORDER_Y
    for sign in (0, 1)
    if y < ED_P and not (sign == 1 and y in (1, ED_P - 1))
]
NON_CANONICAL_SMALL = [
    _encode_y(y, sign)
    for y in LIBSODIUM_SMALL_ORDER_Y
    for sign in (0, 1)
    if y >= ED_P or (sign == 1 and y in (1, ED_P - 1))
]


def test_small_order_keys_are_refused_everywhere() -> None:
    """ADR 0005 amendment 2: the 8 canonical small-order keys are INVALID_POLICY as
    signature.key and as keys[i].key, and PolicyStore will not trust one."""
    assert len(SMALL_ORDER_KEYS) == 8
    for key in SMALL_ORDER_KEYS:
        document = {"policy": BODY, "signature": {**SIG, "key": key.hex()}}
        assert _policy_error(document) == ("INVALID_POLICY", "signature.key"), key.hex()
        store = {
            "keys": [{"alg": "ed25519", "key": SIG["key"]}, {"alg": "ed25519", "key": key.hex()}]
        }
        with pytest.raises(MalformedInputError) as caught:
            parse_trust_store(store)
        assert (caught.value.code, caught.value.field) == ("INVALID_POLICY", "keys[1].key")
        with pytest.raises(UsageError) as usage:
            PolicyStore([("ed25519", bytes.fromhex(SIG["key"])), ("ed25519", key)])
        assert (usage.value.code, usage.value.field) == ("INVALID_POLICY", "keys[1]")
        # the rule is Ed25519's: the same octets paired with another algorithm are no concern
        assert PolicyStore([("ecdsa-p256-sha256", key)]).installed is None
    # encodings that do not decode are left to the signature check (they never verify)
    for key in NON_CANONICAL_SMALL:
        assert parse_signed_policy({"policy": BODY, "signature": {**SIG, "key": key.hex()}})
        code = _ed_code(key, (1).to_bytes(32, "little") + bytes(32))
        assert code == "POLICY_SIGNATURE_INVALID", key.hex()


def test_torsion_key_of_the_review_is_refused() -> None:
    """The review's order-8 key: with the signature (0, -1) || 0 the RFC equation holds
    for some messages (its verdict depends on k mod 8); the key is refused before that."""
    key = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
    sig = bytes.fromhex("ec" + "ff" * 30 + "7f") + bytes(32)
    for version in (0, 1, 3, 4, 12, 19):
        body = {**BODY, "version": version}
        document = {
            "policy": body,
            "signature": {"alg": "ed25519", "key": key.hex(), "sig": sig.hex()},
        }
        assert _policy_error(document) == ("INVALID_POLICY", "signature.key")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "other"),
        ("version", 99),
        ("expires", datetime(2099, 1, 1, tzinfo=UTC)),
        ("layers", {"crtm": {"sha256": (hashlib.sha256(b"evil").digest(),)}}),
        ("revoked", {"sha256": (hashlib.sha256(b"crtm").digest(),)}),
    ],
)
def test_fields_not_in_the_signed_body_are_refused(
    signer: Signer, field: str, value: object
) -> None:
    """ADR 0005 amendment 2: a SignedPolicy whose checked fields differ from its signed
    `policy` body (dataclasses.replace keeps the body and the signature) is refused."""
    doc = chain_doc(NAMES[:1])
    genuine = signer.policy(body_for(doc, version=1, expires="2026-12-01T12:00:01Z"))
    assert verify_policy_signature(genuine) is genuine
    forged = dataclasses.replace(genuine, **{field: value})
    store = PolicyStore([signer.pair])
    assert store.update(forged, NOW).code == "POLICY_SIGNATURE_INVALID"
    assert store.installed is None
    with pytest.raises(MalformedInputError) as caught:
        verify_policy_signature(forged)
    assert caught.value.code == "POLICY_SIGNATURE_INVALID"
    assert store.update(genuine, NOW).accepted


def test_a_signed_body_that_does_not_parse_is_refused(ed_signer: Signer) -> None:
    """A SignedPolicy built by hand around a validly signed body that is no policy (fields
    missing): its fields cannot be the signed body's: POLICY_SIGNATURE_INVALID."""
    body: dict[str, Any] = {"name": "fleet-a", "version": 5}
    made = SignedPolicy(
        policy=body,
        name="fleet-a",
        version=5,
        expires=datetime(2027, 6, 30, tzinfo=UTC),
        layers={},
        revoked={},
        alg="ed25519",
        key=ed_signer.public,
        sig=ed_signer.sign_bytes(signed_bytes(body)),
    )
    store = PolicyStore([ed_signer.pair])
    assert store.update(made, NOW).code == "POLICY_SIGNATURE_INVALID"
    with pytest.raises(MalformedInputError) as caught:
        verify_policy_signature(made)
    assert caught.value.code == "POLICY_SIGNATURE_INVALID"


def _ecdsa_variant(change: Callable[[bytes, int, int], tuple[bytes, int, int]]) -> str | None:
    p256 = _P256_SIGNER
    body = body_for(chain_doc(NAMES[:1]))
    document = p256.document(body)
    sig = bytes.fromhex(document["signature"]["sig"])
    key, r, s = change(
        p256.public, int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    )
    size = max(32, (max(r, s).bit_length() + 7) // 8)
    document["signature"].update(
        key=key.hex(), sig=(r.to_bytes(size, "big") + s.to_bytes(size, "big")).hex()
    )
    return PolicyStore([("ecdsa-p256-sha256", key)]).update(parse_signed_policy(document), NOW).code


_P256_SIGNER = Signer("ecdsa-p256-sha256")


def test_ecdsa_encodings() -> None:
    assert _ecdsa_variant(lambda k, r, s: (k, r, s)) is None
    # FIPS 186-5 accepts (r, n - s) as well: no low-s rule; cryptography agrees
    assert _ecdsa_variant(lambda k, r, s: (k, r, P256_N - s)) is None
    invalid = "POLICY_SIGNATURE_INVALID"
    assert _ecdsa_variant(lambda k, r, s: (k, 0, s)) == invalid
    assert _ecdsa_variant(lambda k, r, s: (k, r, 0)) == invalid
    assert _ecdsa_variant(lambda k, r, s: (k, P256_N, s)) == invalid  # FIPS 186-5: r < n
    assert _ecdsa_variant(lambda k, r, s: (k, r, P256_N)) == invalid
    assert _ecdsa_variant(lambda k, r, s: (k, r, s ^ 1)) == invalid
    off_curve = _P256_SIGNER.public[:64] + bytes([_P256_SIGNER.public[64] ^ 1])
    assert _ecdsa_variant(lambda k, r, s: (off_curve, r, s)) == invalid


def test_trust_store_document() -> None:
    pairs = parse_trust_store({"keys": [{"alg": "ed25519", "key": "AA" * 32}]})
    assert pairs == (("ed25519", b"\xaa" * 32),)
    for bad, where in (
        ({"keys": [{"alg": "rsa", "key": "00"}]}, "keys[0].alg"),
        ({"keys": [{"alg": "ed25519", "key": "0"}]}, "keys[0].key"),
        ({"keys": [{"alg": "ed25519"}]}, "keys[0].key"),
        ({"keys": {}}, "keys"),
        ({"keys": [], "x": 1}, "x"),
        ({"keys": [{"alg": "ed25519", "key": "00" * 31}]}, "keys[0].key"),
        ({"keys": [{"alg": "ecdsa-p256-sha256", "key": "02" + "00" * 32}]}, "keys[0].key"),
        ({"keys": [{"alg": "ecdsa-p256-sha256", "key": "05" + "00" * 64}]}, "keys[0].key"),
    ):
        with pytest.raises(MalformedInputError) as info:
            parse_trust_store(bad)
        assert (info.value.code, info.value.field) == (ErrorCode.INVALID_POLICY, where)


# ------------------------------------------------------------------ hostile documents


def _chain_error(doc: object, base: Path = Path(".")) -> tuple[str, str | None]:
    with pytest.raises(MalformedInputError) as info:
        load_chain(doc, base)
    return str(info.value.code), info.value.field


GOOD_LAYER = {"name": "a", "data": "00", "pcr": 0, "eventType": "EV_IPL"}


@pytest.mark.parametrize(
    ("doc", "code", "field"),
    [
        ([], "INVALID_CHAIN", "$"),
        ({"banks": ["sha256"], "layers": [GOOD_LAYER], "x": 1}, "INVALID_CHAIN", "x"),
        ({"layers": [GOOD_LAYER]}, "INVALID_CHAIN", "banks"),
        ({"banks": [], "layers": [GOOD_LAYER]}, "INVALID_CHAIN", "banks"),
        ({"banks": ["sha1"] * 9, "layers": [GOOD_LAYER]}, "INVALID_CHAIN", "banks"),
        ({"banks": ["sha256", "sha256"], "layers": [GOOD_LAYER]}, "INVALID_CHAIN", "banks[1]"),
        ({"banks": ["sha256", "md5"], "layers": [GOOD_LAYER]}, "UNKNOWN_ALGORITHM", "banks[1]"),
        ({"banks": [11], "layers": [GOOD_LAYER]}, "INVALID_CHAIN", "banks[0]"),
        ({"banks": ["sha256"], "layers": []}, "INVALID_CHAIN", "layers"),
        ({"banks": ["sha256"], "layers": [GOOD_LAYER] * 1025}, "INVALID_CHAIN", "layers"),
        ({"banks": ["sha256"], "layers": [1]}, "INVALID_CHAIN", "layers[0]"),
    ],
)
def test_invalid_chain_document(doc: object, code: str, field: str) -> None:
    assert _chain_error(doc) == (code, field)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"extra": 1}, "layers[1].extra"),
        ({"name": "a b"}, "layers[1].name"),
        ({"name": ""}, "layers[1].name"),
        ({"name": "n" * 65}, "layers[1].name"),
        ({"name": "é"}, "layers[1].name"),
        ({"name": "a"}, "layers[1].name"),  # duplicate
        ({"name": 7}, "layers[1].name"),
        ({"data": "0"}, "layers[1].data"),
        ({"data": "zz"}, "layers[1].data"),
        ({"data": "0x00"}, "layers[1].data"),
        ({"data": None}, "layers[1].data"),
        ({"file": "x.bin"}, "layers[1].file"),  # both file and data
        ({"pcr": 24}, "layers[1].pcr"),
        ({"pcr": -1}, "layers[1].pcr"),
        ({"pcr": True}, "layers[1].pcr"),
        ({"pcr": "4"}, "layers[1].pcr"),
        ({"pcr": 4.0}, "layers[1].pcr"),
        ({"eventType": "EV_SEPARATOR"}, "layers[1].eventType"),
        ({"eventType": 4}, "layers[1].eventType"),
        ({"eventType": "ev_ipl"}, "layers[1].eventType"),
        ({"eventType": True}, "layers[1].eventType"),
        ({"eventType": 0x80000001}, "layers[1].eventType"),
    ],
)
def test_invalid_layer_names_the_field(change: dict[str, Any], field: str) -> None:
    second = {**GOOD_LAYER, "name": "b", **change}
    doc = {"banks": ["sha256"], "layers": [GOOD_LAYER, second]}
    assert _chain_error(doc) == ("INVALID_CHAIN", field)


def test_layer_missing_keys_and_neither_content() -> None:
    for key in ("name", "pcr", "eventType"):
        layer = {k: v for k, v in GOOD_LAYER.items() if k != key}
        assert _chain_error({"banks": ["sha256"], "layers": [layer]}) == (
            "INVALID_CHAIN",
            f"layers[0].{key}",
        )
    layer = {k: v for k, v in GOOD_LAYER.items() if k != "data"}
    assert _chain_error({"banks": ["sha256"], "layers": [layer]}) == (
        "INVALID_CHAIN",
        "layers[0].file",
    )
    # fields are checked in order, a missing one when it is reached
    bad_name_no_pcr = {"name": "a b", "data": "00", "eventType": 1}
    assert _chain_error({"banks": ["sha256"], "layers": [bad_name_no_pcr]}) == (
        "INVALID_CHAIN",
        "layers[0].name",
    )
    assert _chain_error({"banks": None}) == ("INVALID_CHAIN", "banks")


def test_layer_files_relative_absolute_and_unreadable(tmp_path: Path) -> None:
    (tmp_path / "layers").mkdir()
    (tmp_path / "layers" / "crtm.bin").write_bytes(b"crtm bytes")
    other = tmp_path / "abs.bin"
    other.write_bytes(b"absolute")
    doc: dict[str, Any] = {
        "banks": ["sha256"],
        "layers": [
            {"name": "crtm", "file": "layers/crtm.bin", "pcr": 0, "eventType": 7},
            {"name": "abs", "file": str(other), "pcr": 1, "eventType": "EV_POST_CODE"},
        ],
    }
    chain = load_chain(doc, tmp_path)
    assert [layer.data for layer in chain.layers] == [b"crtm bytes", b"absolute"]
    assert chain.layers[0].event_type == 7 and chain.layers[1].event_type == 1
    missing = copy.deepcopy(doc)
    missing["layers"][1]["file"] = "nope.bin"
    assert _chain_error(missing, tmp_path) == ("LAYER_UNREADABLE", "layers[1].file")
    directory = copy.deepcopy(doc)
    directory["layers"][0]["file"] = "layers"
    assert _chain_error(directory, tmp_path) == ("LAYER_UNREADABLE", "layers[0].file")
    # the document is checked whole before any file is read
    both = copy.deepcopy(missing)
    both["layers"][1]["pcr"] = 99
    assert _chain_error(both, tmp_path) == ("INVALID_CHAIN", "layers[1].pcr")


def _policy_error(document: object) -> tuple[str, str | None]:
    with pytest.raises(MalformedInputError) as info:
        parse_signed_policy(document)
    return str(info.value.code), info.value.field


# RFC 8032 7.1 TEST 1's public key: a key of the prime-order subgroup (not small-order)
SIG = {
    "alg": "ed25519",
    "key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "sig": "00" * 64,
}
BODY = {"name": "p", "version": 1, "expires": EXPIRES, "layers": {"a": {"sha256": ["00" * 32]}}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"version": -1}, "policy.version"),
        ({"version": 2**63}, "policy.version"),
        ({"version": True}, "policy.version"),
        ({"version": "3"}, "policy.version"),
        ({"version": 3.0}, "policy.version"),
        ({"name": None}, "policy.name"),
        ({"expires": "2027-06-30T00:00:00+00:00"}, "policy.expires"),
        ({"expires": "2027-06-30 00:00:00Z"}, "policy.expires"),
        ({"expires": "2027-06-30T00:00:00.5Z"}, "policy.expires"),
        ({"expires": "2027-06-30t00:00:00z"}, "policy.expires"),
        ({"expires": "2027-02-30T00:00:00Z"}, "policy.expires"),
        ({"expires": "2027-06-30T24:00:00Z"}, "policy.expires"),
        ({"expires": "2027-06-30T23:59:60Z"}, "policy.expires"),
        ({"expires": "\uff12\uff10\uff12\uff17-06-30T00:00:00Z"}, "policy.expires"),
        ({"expires": 1798675200}, "policy.expires"),
        ({"layers": []}, "policy.layers"),
        ({"layers": {"a": []}}, "policy.layers.a"),
        ({"layers": {"a": {"md5": []}}}, "policy.layers.a.md5"),
        ({"layers": {"a": {"sha256": "00"}}}, "policy.layers.a.sha256"),
        ({"layers": {"a": {"sha256": ["00" * 31]}}}, "policy.layers.a.sha256[0]"),
        ({"layers": {"a": {"sha256": ["0" * 63]}}}, "policy.layers.a.sha256[0]"),
        ({"layers": {"a": {"sha256": [7]}}}, "policy.layers.a.sha256[0]"),
        ({"revoked": {"sha1": ["00" * 32]}}, "policy.revoked.sha1[0]"),
        ({"revoked": []}, "policy.revoked"),
        ({"extra": 1}, "policy.extra"),
    ],
)
def test_invalid_policy_body_names_the_field(change: dict[str, Any], field: str) -> None:
    assert _policy_error({"policy": {**BODY, **change}, "signature": SIG}) == (
        "INVALID_POLICY",
        field,
    )


def test_invalid_policy_envelope_names_the_field() -> None:
    for key in ("name", "version", "expires", "layers"):
        body = {k: v for k, v in BODY.items() if k != key}
        assert _policy_error({"policy": body, "signature": SIG}) == (
            "INVALID_POLICY",
            f"policy.{key}",
        )
    cases: list[tuple[object, str]] = [
        ("x", "$"),
        ({"policy": BODY}, "signature"),
        ({"signature": SIG}, "policy"),
        ({"policy": {}}, "policy.name"),  # the policy's fields before the signature's
        ({"policy": BODY, "signature": SIG, "x": 1}, "x"),
        ({"policy": BODY, "signature": {**SIG, "key": "00" * 31}}, "signature.key"),
        ({"policy": BODY, "signature": {**SIG, "sig": "00" * 65}}, "signature.sig"),
        (
            {"policy": BODY, "signature": {**SIG, "alg": "ecdsa-p256-sha256", "key": "00" * 65}},
            "signature.key",
        ),
        ({"policy": BODY, "signature": {**SIG, "alg": "rsa"}}, "signature.alg"),
        ({"policy": BODY, "signature": {**SIG, "alg": ["ed25519"]}}, "signature.alg"),
        ({"policy": BODY, "signature": {**SIG, "key": "xyz"}}, "signature.key"),
        ({"policy": BODY, "signature": {**SIG, "sig": 5}}, "signature.sig"),
        ({"policy": BODY, "signature": {**SIG, "extra": ""}}, "signature.extra"),
    ]
    for document, where in cases:
        assert _policy_error(document) == ("INVALID_POLICY", where)


def test_revoked_absent_is_empty_and_policy_is_a_copy() -> None:
    body = copy.deepcopy(BODY)
    policy = parse_signed_policy({"policy": body, "signature": SIG})
    assert policy.revoked == {} and policy.expires == datetime(2027, 6, 30, tzinfo=UTC)
    body["version"] = 99
    assert policy.policy["version"] == 1


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_property_hostile_json_gives_typed_errors_only(value: object) -> None:
    for call in (
        lambda: load_chain(value, Path("/nonexistent")),
        lambda: load_chain({"banks": ["sha256"], "layers": [value]}, Path("/nonexistent")),
        lambda: parse_signed_policy(value),
        lambda: parse_signed_policy({"policy": value, "signature": SIG}),
        lambda: parse_signed_policy({"policy": {**BODY, "layers": value}, "signature": SIG}),
        lambda: parse_trust_store(value),
    ):
        try:
            call()
        except MalformedInputError as err:
            assert err.code in {
                ErrorCode.INVALID_CHAIN,
                ErrorCode.INVALID_POLICY,
                ErrorCode.UNKNOWN_ALGORITHM,
                ErrorCode.LAYER_UNREADABLE,
            }
            assert err.field is not None


# ------------------------------------------------------------------ usage


def test_run_boot_usage_errors(ed_signer: Signer) -> None:
    chain = load_chain(chain_doc(NAMES[:1]), Path("."))
    with pytest.raises(UsageError) as info:
        run_boot(chain, None, "trusted", NOW)
    assert info.value.code == ErrorCode.NO_POLICY
    with pytest.raises(UsageError):
        run_boot(chain, None, "secure", NOW)
    with pytest.raises(UsageError):
        run_boot(chain, None, "measured", datetime(2026, 1, 1))  # naive: no instant
    with pytest.raises(ImplError):
        run_boot(chain_doc(NAMES[:1]), None, "measured", NOW)  # type: ignore[arg-type]
    with pytest.raises(ImplError):
        Chain(banks=(), layers=chain.layers)


def test_a_long_chain_is_fast_enough() -> None:
    names = [f"layer-{i}" for i in range(1024)]
    doc = chain_doc(
        names,
        banks=("sha1", "sha256", "sha384", "sha512"),
        pcrs=[LOCALITY0_PCRS[i % 18] for i in range(1024)],
    )
    result = boot(doc, None, "measured")
    assert len(result.measured) == 1024
    assert len(parse_event_log(result.event_log).events) == 1025


# ------------------------------------------------------------------ the vector checkers


def _measured_vector() -> dict[str, Any]:
    """A boot vector written out by hand: PCRs by hashlib, the log by the PFP layout."""
    data = b"\x01\x02"
    digest = hashlib.sha256(data).digest()
    spec_id = b"Spec ID Event03\x00" + struct.pack("<IBBBBIHHB", 0, 0, 2, 0, 2, 1, 0x000B, 32, 0)
    log = (
        struct.pack("<II", 0, 3) + bytes(20) + struct.pack("<I", len(spec_id)) + spec_id
        + struct.pack("<IIIH", 5, 1, 1, 0x000B) + digest + struct.pack("<I", 3) + b"fw0"
    )  # fmt: skip
    pcrs = expected_pcrs(["sha256"], [(5, data)])
    return {
        "tcId": 1,
        "chain": {
            "banks": ["sha256"],
            "layers": [{"name": "fw0", "data": "0102", "pcr": 5, "eventType": 1}],
        },
        "policy": None,
        "keys": {"keys": []},
        "mode": "measured",
        "now": "2026-12-01T00:00:00Z",
        "result": "valid",
        "expected": {
            "completed": True,
            "mode": "measured",
            "measured": ["fw0"],
            "ran": ["fw0"],
            "halt": None,
            "pcrs": pcrs,
            "claims": [
                {"kind": "layers_measured", "layers": ["fw0"], "banks": ["sha256"]},
                {"kind": "pcrs", "bank": "sha256", "values": {"5": pcrs["sha256"]["5"]}},
            ],
            "notCovered": [NOT_COVERED_SENTENCE],
            "eventLog": log.hex(),
        },
    }


def test_boot_run_checker_passes_a_true_vector_and_catches_wrong_ones(ed_signer: Signer) -> None:
    vector = _measured_vector()
    assert run_boot_run({}, vector) is None
    for key, value in (("eventLog", "00"), ("ran", []), ("claims", [])):
        wrong = copy.deepcopy(vector)
        wrong["expected"][key] = value
        assert run_boot_run({}, wrong) is not None
    wrong = copy.deepcopy(vector)
    wrong["expected"]["pcrs"]["sha256"]["5"] = "00" * 32
    assert "pcrs" in (run_boot_run({}, wrong) or "")
    # a halting trusted boot: result invalid, errorCode = the halt's code
    doc = vector["chain"]
    body = {
        "name": "v",
        "version": 1,
        "expires": EXPIRES,
        "layers": {"fw0": {"sha256": ["00" * 32]}},
    }
    halting = copy.deepcopy(vector)
    halting.update(policy=ed_signer.document(body), mode="trusted", result="invalid")
    halting["errorCode"] = "DIGEST_NOT_ALLOWED"
    halting.pop("expected")
    with pytest.raises(ValueError, match="expected"):
        run_boot_run({}, halting)  # a vector without its expected output is malformed
    halting["errorCode"] = "NO_REFERENCE"
    halting["expected"] = {}
    assert "NO_REFERENCE" in (run_boot_run({}, halting) or "")
    # an invalid chain: the parser's code
    broken = copy.deepcopy(vector)
    broken["chain"]["layers"][0]["pcr"] = 24
    broken.update(result="invalid", errorCode="INVALID_CHAIN")
    assert run_boot_run({}, broken) is None
    broken["errorCode"] = "INVALID_POLICY"
    assert run_boot_run({}, broken) is not None
    assert doc["banks"] == ["sha256"]


def test_policy_update_checker(signer: Signer) -> None:
    doc = chain_doc(NAMES[:1])
    keys = {"keys": [{"alg": signer.alg, "key": signer.public.hex()}]}
    vector: dict[str, Any] = {
        "keys": keys,
        "installed": signer.document(body_for(doc, version=3)),
        "candidate": signer.document(body_for(doc, version=4)),
        "now": "2026-12-01T00:00:00Z",
        "result": "valid",
        "expected": {"accepted": True, "code": None},
    }
    assert run_policy_update({}, vector) is None
    rollback = {**vector, "candidate": signer.document(body_for(doc, version=3))}
    rollback.update(result="invalid", errorCode="POLICY_ROLLBACK")
    rollback["expected"] = {"accepted": False, "code": "POLICY_ROLLBACK"}
    assert run_policy_update({}, rollback) is None
    assert run_policy_update({}, {**rollback, "errorCode": "POLICY_EXPIRED"}) is not None
    wrong = {**vector, "expected": {"accepted": False, "code": "UNKNOWN_SIGNER"}}
    assert run_policy_update({}, wrong) is not None
    first = {**vector, "installed": None, "keys": keys["keys"]}  # keys also as a bare list
    assert run_policy_update({}, first) is None
