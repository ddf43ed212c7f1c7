"""The whole chain on a real TPM: a trusted boot measured into swtpm, a quote of its PCRs,
and a verifier that has only the quote, the AK, its nonce and the boot's event log.

1. `chainoftrust boot run CHAIN --policy P --keys K --tpm swtpm --eventlog LOG` boots four
   layers (ADR 0005): each is extended into swtpm by the engine, the log is written, and
   the engine compares swtpm's PCRs with its own.
2. `tpm2_quote` (tpm2-tools) quotes those PCRs with a fresh nonce under an ECC AK.
3. `chainoftrust quote verify --eventlog LOG` replays the log (ADR 0002) and checks the
   quote (ADR 0004): accept, with a claim naming the event log as the values' source.
   tpm2_checkquote agrees with the PCR values read from the TPM.
4. A log that is not the one the TPM measured (a layer swapped, an event dropped) and a
   stale nonce are rejected, each naming the first failed check.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.conftest import require_tools
from tests.real.swtpm import TOOLS, Swtpm
from tests.real.swtpm_quote import QUOTE_TOOLS, QuoteTpm

pytestmark = pytest.mark.swtpm

LAYERS = (("crtm", 0, b"crtm v1"), ("firmware", 2, b"fw v7"), ("loader", 4, b"loader 2.06"))
LAYERS += (("kernel", 8, b"vmlinuz-6.1"),)
SELECTION = "sha256:0,2,4,8,23+sha1:0,2,4,8"
EXPIRES = "2030-01-01T00:00:00Z"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chainoftrust", path=str(Path(sys.executable).parent))
    command = [exe] if exe else [sys.executable, "-m", "chainoftrust"]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=120, check=False
    )


def _chain(folder: Path, layers: tuple[tuple[str, int, bytes], ...]) -> Path:
    entries = []
    for name, pcr, data in layers:
        (folder / f"{name}.bin").write_bytes(data)
        entries.append({"name": name, "file": f"{name}.bin", "pcr": pcr, "eventType": "EV_IPL"})
    path = folder / "chain.json"
    path.write_text(json.dumps({"banks": ["sha1", "sha256"], "layers": entries}))
    return path


def _policy(folder: Path) -> tuple[Path, Path]:
    """A policy allowing exactly LAYERS, signed by a fresh Ed25519 key via the CLI."""
    key = ed25519.Ed25519PrivateKey.generate()
    (folder / "signer.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    layers = {name: {"sha256": [hashlib.sha256(data).hexdigest()]} for name, _pcr, data in LAYERS}
    body = {"name": "lab", "version": 1, "expires": EXPIRES, "layers": layers, "revoked": {}}
    (folder / "body.json").write_text(json.dumps(body))
    (folder / "keys.json").write_text(
        json.dumps({"keys": [{"alg": "ed25519", "key": public.hex()}]})
    )
    signed = _cli(
        "boot", "policy", "sign", str(folder / "body.json"), "--key",
        str(folder / "signer.pem"), "--alg", "ed25519", "--out", str(folder / "policy.json"),
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    return folder / "policy.json", folder / "keys.json"


@pytest.fixture(scope="module")
def attested(swtpm: Swtpm, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    require_tools(*TOOLS, *QUOTE_TOOLS)  # the boot engine's tools and every one QuoteTpm runs
    folder = tmp_path_factory.mktemp("attestation")
    tpm = QuoteTpm(swtpm, folder)
    tpm.prepare(("sha1", "sha256"))
    swtpm.set_locality(0)
    policy, keys = _policy(folder)
    booted = _cli(
        "boot", "run", str(_chain(folder, LAYERS)), "--policy", str(policy), "--keys",
        str(keys), "--now", "2026-12-01T00:00:00Z", "--tpm", f"127.0.0.1:{swtpm.data_port}",
        "--eventlog", str(folder / "boot.log"), "--json",
    )  # fmt: skip
    ak = tpm.create_ak("ecc-ecdsa")
    nonce = os.urandom(32)
    quote = tpm.quote(ak, nonce, SELECTION)
    return {"folder": folder, "boot": booted, "tpm": tpm, "ak": ak, "quote": quote}


def _verify(attested: dict[str, Any], log: Path, nonce: bytes | None = None) -> Any:
    quote = attested["quote"]
    done = _cli(
        "quote", "verify", "--message", str(quote.message_path), "--signature",
        str(quote.signature_path), "--ak", str(attested["ak"].public_path), "--nonce",
        (quote.nonce if nonce is None else nonce).hex(), "--eventlog", str(log), "--json",
    )  # fmt: skip
    return done.returncode, json.loads(done.stdout)


def test_the_boot_ran_on_the_tpm_and_matched_its_policy(attested: dict[str, Any]) -> None:
    booted = attested["boot"]
    assert booted.returncode == 0, booted.stdout + booted.stderr
    result = json.loads(booted.stdout)
    assert result["completed"] and result["ran"] == [name for name, _, _ in LAYERS]
    assert result["claims"][0]["kind"] == "layers_matched"


def test_the_quote_verifies_against_the_boot_log(attested: dict[str, Any]) -> None:
    code, verdict = _verify(attested, attested["folder"] / "boot.log")
    assert code == 0 and verdict["verdict"] == "accept", verdict["failures"]
    pcr_claims = [c for c in verdict["claims"] if c["kind"] == "pcrs"]
    assert {(c["bank"], tuple(c["pcrs"])) for c in pcr_claims} == {
        ("sha256", (0, 2, 4, 8, 23)),
        ("sha1", (0, 2, 4, 8)),
    }
    assert all(c["valuesFrom"] == "eventlog" for c in pcr_claims)
    # the third party, on the TPM's own PCR values
    quote = attested["quote"]
    agreed = attested["tpm"].checkquote(
        attested["ak"].pem_path, quote.message, quote.signature, quote.pcrs_out, quote.nonce
    )
    assert agreed.accepted, agreed.stderr


def test_a_log_the_tpm_did_not_measure_is_rejected(attested: dict[str, Any]) -> None:
    folder: Path = attested["folder"] / "forged"
    folder.mkdir(exist_ok=True)
    swapped = (LAYERS[0], LAYERS[1], ("loader", 4, b"loader 2.06 (patched)"), LAYERS[3])
    for name, layers in (("swapped", swapped), ("dropped", LAYERS[:3])):
        chain = _chain(folder, layers)
        made = _cli("boot", "run", str(chain), "--eventlog", str(folder / f"{name}.log"))
        assert made.returncode == 0, made.stderr
        code, verdict = _verify(attested, folder / f"{name}.log")
        assert code == 1 and verdict["verdict"] == "reject"
        assert [f["code"] for f in verdict["failures"]] == ["PCR_DIGEST_MISMATCH"], name
        assert verdict["claims"] == []


def test_a_stale_nonce_is_rejected(attested: dict[str, Any]) -> None:
    code, verdict = _verify(attested, attested["folder"] / "boot.log", nonce=os.urandom(32))
    assert code == 1
    assert [f["code"] for f in verdict["failures"]] == ["NONCE_MISMATCH"]
