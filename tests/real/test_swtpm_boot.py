"""`boot run --tpm` against a real TPM 2.0 (swtpm / libtpms), read back with tpm2_pcrread.

The engine sends raw TPM2_PCR_Extend / TPM2_PCR_Read frames to swtpm's data port; the
test then reads every PCR of every bank with tpm2-tools (through the harness's proxy)
and requires them to equal the engine's `pcrs`. One test starts swtpm exactly as the
ADR describes (`--flags not-need-init,startup-clear`); the others reuse the module's
swtpm (tests/real/conftest.py), brought to "just after TPM2_Startup(CLEAR) at locality
0" with every bank allocated.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.conftest import require_tools
from tests.real.swtpm import PROXY, TOOLS, Swtpm, _free_port, _Refusal
from tests.test_cli_boot import cli

pytestmark = pytest.mark.swtpm

BANKS = ["sha1", "sha256", "sha384", "sha512"]
HASH = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
        "sha512": hashlib.sha512}  # fmt: skip
LAYERS = [
    ("crtm", 0, b"crtm"), ("firmware", 0, b"fw"), ("config", 1, b"cfg"), ("option-rom", 2, b"rom"),
    ("shim", 4, b"shim"), ("grub", 4, b"grub"), ("secureboot", 7, b"sb"), ("debug", 16, b"dbg"),
    ("kernel", 4, b"vmlinuz"), ("app", 23, b"app"),
]  # fmt: skip


def chain_file(root: Path, layers: list[tuple[str, int, bytes]] = LAYERS) -> Path:
    doc = {
        "banks": BANKS,
        "layers": [
            {"name": name, "data": data.hex(), "pcr": pcr, "eventType": "EV_IPL"}
            for name, pcr, data in layers
        ],
    }
    path = root / "CHAIN.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def started(tpm: Swtpm) -> None:
    """Fresh TPM, all four banks, then TPM2_Startup(CLEAR) at locality 0."""
    tpm.fresh(BANKS)
    tpm.set_locality(0)
    assert tpm.startup("clear") == 0


def pcrread(tpm: Swtpm) -> dict[str, dict[str, str]]:
    values = tpm.read_pcrs(BANKS)
    assert not isinstance(values, _Refusal), values
    return values


def test_measured_boot_on_swtpm_equals_the_engine(
    swtpm: Swtpm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started(swtpm)
    code, out, err = cli(
        capsys, "boot", "run", str(chain_file(tmp_path)), "--tpm",
        f"127.0.0.1:{swtpm.data_port}", "--json",
    )  # fmt: skip
    assert code == 0, out + err
    result = json.loads(out)
    assert pcrread(swtpm) == result["pcrs"]
    # and both equal hashlib's H(old || H(data)) from the start values
    old = bytes(32)
    for _, pcr, data in LAYERS:
        if pcr == 4:
            old = hashlib.sha256(old + hashlib.sha256(data).digest()).digest()
    assert result["pcrs"]["sha256"]["4"] == old.hex()


def _policy(root: Path, tamper: str) -> tuple[Path, Path]:
    key = ed25519.Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    body: dict[str, Any] = {
        "name": "lab",
        "version": 1,
        "expires": "2099-01-01T00:00:00Z",
        "layers": {
            name: {"sha256": [hashlib.sha256(data + (b"x" if name == tamper else b"")).hexdigest()]}
            for name, _, data in LAYERS
        },
    }
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    sig = key.sign(b"chainoftrust-policy-v1\n" + text.encode())
    signed = {
        "policy": body,
        "signature": {"alg": "ed25519", "key": public.hex(), "sig": sig.hex()},
    }
    policy = root / "POLICY.json"
    policy.write_text(json.dumps(signed), encoding="utf-8")
    keys = root / "KEYS.json"
    keys.write_text(json.dumps({"keys": [{"alg": "ed25519", "key": public.hex()}]}), "utf-8")
    return policy, keys


def test_halted_boot_leaves_only_the_measured_layers_in_the_tpm(
    swtpm: Swtpm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started(swtpm)
    policy, keys = _policy(tmp_path, tamper="grub")
    code, out, err = cli(
        capsys, "boot", "run", str(chain_file(tmp_path)), "--policy", str(policy), "--keys",
        str(keys), "--now", "2026-12-01T00:00:00Z", "--tpm", f"127.0.0.1:{swtpm.data_port}",
        "--json",
    )  # fmt: skip
    assert code == 3, out + err
    result = json.loads(out)
    assert result["halt"]["layer"] == "grub" and result["measured"][-1] == "grub"
    tpm_values = pcrread(swtpm)
    assert tpm_values == result["pcrs"]
    kernel_pcr = 4
    expected = bytes(48)
    for _name, pcr, data in LAYERS[:6]:  # up to and including grub; kernel never measured
        if pcr == kernel_pcr:
            expected = hashlib.sha384(expected + hashlib.sha384(data).digest()).digest()
    assert tpm_values["sha384"]["4"] == expected.hex()
    assert tpm_values["sha256"]["23"] == "00" * 32  # "app" was never measured


def test_a_tpm_that_differs_is_exit_1(
    swtpm: Swtpm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started(swtpm)
    extra = swtpm.tool("tpm2_pcrextend", f"7:sha256={'ab' * 32}")
    assert not isinstance(extra, _Refusal)
    code, out, _ = cli(
        capsys, "boot", "run", str(chain_file(tmp_path)), "--tpm",
        f"127.0.0.1:{swtpm.data_port}", "--json",
    )  # fmt: skip
    error = json.loads(out)["error"]
    assert (code, error["code"], error["field"]) == (1, "TPM_PCR_MISMATCH", "pcrs.sha256.7")


def test_the_tpm_refuses_pcr_17_at_locality_0(
    swtpm: Swtpm, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Why a chain may not name PCRs 17-22 (ADR 0005 amendment 1): at locality 0 the TPM
    refuses the extend (TPM_RC_LOCALITY); the engine refuses such a chain when it loads."""
    from chainoftrust.impl._boot_tpm import SwtpmClient
    from chainoftrust.impl.errors import TpmRefusalError

    started(swtpm)
    with SwtpmClient("127.0.0.1", swtpm.data_port) as client:
        with pytest.raises(TpmRefusalError) as refused:
            client.pcr_extend(17, [(0x000B, bytes(32))])
        assert refused.value.tpm_rc == 0x907  # TPM_RC_LOCALITY (Part 2, TPM_RC)
        client.pcr_extend(16, [(0x000B, bytes(32))])  # PCR 16: any locality may extend
    chain = chain_file(tmp_path, [("drtm", 17, b"x")])
    code, out, _ = cli(
        capsys, "boot", "run", str(chain), "--tpm", f"127.0.0.1:{swtpm.data_port}", "--json"
    )
    error = json.loads(out)["error"]
    assert code == 1 and error["code"] == "INVALID_CHAIN" and error["field"] == "layers[0].pcr"


@pytest.fixture
def startup_clear_swtpm(tmp_path: Path) -> Iterator[int]:
    """swtpm started as the ADR says, its data port; stopped by its own process id."""
    require_tools(*TOOLS)
    state = tmp_path / "state"
    state.mkdir()
    for _attempt in range(5):
        port = _free_port()
        process = subprocess.Popen(
            [
                "swtpm", "socket", "--tpm2",
                "--server", f"type=tcp,port={port},bindaddr=127.0.0.1",
                "--ctrl", f"type=tcp,port={port + 1},bindaddr=127.0.0.1",
                "--tpmstate", f"dir={state}",
                "--flags", "not-need-init,startup-clear",
            ],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.02)
        if process.poll() is None:
            try:
                yield port
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=10)
            return
    pytest.fail("swtpm did not start")


def test_swtpm_started_with_startup_clear(
    startup_clear_swtpm: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = startup_clear_swtpm
    code, out, err = cli(
        capsys, "boot", "run", str(chain_file(tmp_path)), "--tpm", f"127.0.0.1:{port}",
        "--eventlog", str(tmp_path / "boot.log"),
    )  # fmt: skip
    assert code == 0, out + err
    assert "every PCR of every bank equals the computed value" in out
    proxy = f"{sys.executable} -I -S {PROXY} 127.0.0.1 {port}"
    done = subprocess.run(
        ["tpm2_pcrread", "sha256:4,23"],
        env={**os.environ, "TPM2TOOLS_TCTI": f"cmd:{proxy}"},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    old = bytes(32)
    for _, pcr, data in LAYERS:
        if pcr == 4:
            old = hashlib.sha256(old + hashlib.sha256(data).digest()).digest()
    assert f"0x{old.hex().upper()}" in done.stdout
    assert (
        f"0x{hashlib.sha256(bytes(32) + hashlib.sha256(b'app').digest()).hexdigest().upper()}"
        in (done.stdout)
    )
