"""`chainoftrust boot`: exit codes, --json shapes and human output (ADR 0005, "CLI").

Runs the commands in-process through the real front door, `chainoftrust.cli.build_parser`
(so a `boot` command it does not know fails here). Keys are generated with
`cryptography` and written as PEM; expected digests come from hashlib.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl.eventlog import parse_event_log, replay_event_log
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from chainoftrust import cli as cli_module
from chainoftrust.cli import build_parser

NOW = "2026-12-01T12:00:00Z"


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        args = build_parser().parse_args(list(argv))
        code = args.func(args)
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def write_json(path: Path, obj: object) -> Path:
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


class World:
    """A chain with one layer from a file, two signers (PEM keys), a trust store."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "layers").mkdir()
        (root / "layers" / "crtm.bin").write_bytes(b"crtm image")
        self.layers = {"crtm": b"crtm image", "bootloader": b"hello", "kernel": b"vmlinuz"}
        self.chain = write_json(
            root / "CHAIN.json",
            {
                "banks": ["sha256", "sha384"],
                "layers": [
                    {"name": "crtm", "file": "layers/crtm.bin", "pcr": 0, "eventType": 7},
                    {"name": "bootloader", "data": b"hello".hex(), "pcr": 4, "eventType": "EV_IPL"},
                    {"name": "kernel", "data": b"vmlinuz".hex(), "pcr": 4, "eventType": "EV_IPL"},
                ],
            },
        )
        self.ed_key = ed25519.Ed25519PrivateKey.generate()
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.ed_pem = self._pem("ed.pem", self.ed_key)
        self.ec_pem = self._pem("ec.pem", self.ec_key)
        ed_pub = self.ed_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        ec_pub = self.ec_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.ed_id = "ed25519:" + hashlib.sha256(ed_pub).hexdigest()[:16]
        self.keys = write_json(
            root / "KEYS.json",
            {
                "keys": [
                    {"alg": "ed25519", "key": ed_pub.hex()},
                    {"alg": "ecdsa-p256-sha256", "key": ec_pub.hex()},
                ]
            },
        )

    def _pem(self, name: str, key: Any) -> Path:
        path = self.root / name
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return path

    def body(self, version: int = 3, tamper: str | None = None, **extra: Any) -> Path:
        layers = {
            name: {
                "sha256": [hashlib.sha256(data + (b"!" if name == tamper else b"")).hexdigest()],
                "sha384": [hashlib.sha384(data).hexdigest()],
            }
            for name, data in self.layers.items()
        }
        body = {"name": "fleet-a", "version": version, "expires": "2027-06-30T00:00:00Z"}
        body.update(layers=layers, **extra)
        return write_json(self.root / f"body-{version}-{tamper}.json", body)


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def signed(
    capsys: pytest.CaptureFixture[str], world: World, alg: str = "ed25519", **kw: Any
) -> Path:
    out = world.root / f"signed-{alg}-{kw.get('version', 3)}-{kw.get('tamper')}.json"
    key = world.ed_pem if alg == "ed25519" else world.ec_pem
    code, stdout, err = cli(
        capsys, "boot", "policy", "sign", str(world.body(**kw)), "--key", str(key), "--alg", alg,
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert "signed policy fleet-a" in stdout
    return out


# ------------------------------------------------------------------ boot run


def test_measured_run_json_pcrs_and_eventlog(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    log = world.root / "boot.log"
    code, out, err = cli(capsys, "boot", "run", str(world.chain), "--json", "--eventlog", str(log))
    assert code == 0, err
    result = json.loads(out)
    assert list(result) == [
        "completed",
        "mode",
        "measured",
        "ran",
        "halt",
        "pcrs",
        "claims",
        "notCovered",
    ]
    assert result["mode"] == "measured" and result["ran"] == ["crtm", "bootloader", "kernel"]
    pcr4 = bytes(32)
    for data in (b"hello", b"vmlinuz"):
        pcr4 = hashlib.sha256(pcr4 + hashlib.sha256(data).digest()).digest()
    assert result["pcrs"]["sha256"]["4"] == pcr4.hex()
    replay = replay_event_log(parse_event_log(log.read_bytes())).to_json()
    assert replay["pcrs"]["sha256"]["4"] == pcr4.hex()


@pytest.mark.parametrize("alg", ["ed25519", "ecdsa-p256-sha256"])
def test_trusted_run_completes_with_a_matching_policy(
    capsys: pytest.CaptureFixture[str], world: World, alg: str
) -> None:
    policy = signed(capsys, world, alg)
    code, out, err = cli(
        capsys, "boot", "run", str(world.chain), "--policy", str(policy), "--keys",
        str(world.keys), "--now", NOW,
    )  # fmt: skip
    assert code == 0, err
    assert out.count("MATCH") == 3 and "HALT" not in out
    assert "completed: 3 layer(s) ran" in out and "not covered:" in out
    assert "trusted" not in out.replace("trusted boot", "")


def test_trusted_run_halts_with_exit_3(capsys: pytest.CaptureFixture[str], world: World) -> None:
    policy = signed(capsys, world, tamper="bootloader")
    args = ["boot", "run", str(world.chain), "--policy", str(policy), "--keys", str(world.keys)]
    code, out, _ = cli(capsys, *args, "--now", NOW, "--json")
    assert code == 3
    result = json.loads(out)
    assert (
        result["halt"]["code"] == "DIGEST_NOT_ALLOWED" and result["halt"]["layer"] == "bootloader"
    )
    assert result["halt"]["policy"]["signer"] == world.ed_id
    assert result["measured"] == ["crtm", "bootloader"] and result["ran"] == ["crtm"]
    assert result["notCovered"][0] == "kernel"
    code, text, _ = cli(capsys, *args, "--now", NOW)
    assert code == 3
    lines = text.splitlines()
    assert any("crtm" in line and "PCR  0" in line and "MATCH" in line for line in lines)
    assert any("bootloader" in line and "HALT" in line for line in lines)
    assert any("kernel" in line and "not measured" in line for line in lines)
    assert "halted at layer 1 (bootloader, PCR 4): DIGEST_NOT_ALLOWED" in text


def _error(out: str) -> dict[str, Any]:
    error: dict[str, Any] = json.loads(out)["error"]
    return error


def test_refused_policies_exit_1(capsys: pytest.CaptureFixture[str], world: World) -> None:
    policy = signed(capsys, world)
    base = ["boot", "run", str(world.chain), "--policy", str(policy), "--json"]
    code, out, _ = cli(capsys, *base, "--keys", str(world.keys), "--now", "2027-06-30T00:00:00Z")
    assert (code, _error(out)["code"]) == (1, "POLICY_EXPIRED")
    code, out, _ = cli(capsys, *base, "--now", NOW)  # no --keys: an empty trust store
    assert (code, _error(out)["code"]) == (1, "UNKNOWN_SIGNER")
    forged = json.loads(policy.read_text(encoding="utf-8"))
    forged["policy"]["version"] = 4
    bad = write_json(world.root / "forged.json", forged)
    code, out, _ = cli(
        capsys, "boot", "run", str(world.chain), "--policy", str(bad), "--keys", str(world.keys),
        "--now", NOW, "--json",
    )  # fmt: skip
    assert (code, _error(out)["code"]) == (1, "POLICY_SIGNATURE_INVALID")
    code, out, _ = cli(capsys, "boot", "run", str(world.chain), "--mode", "trusted", "--json")
    assert (code, _error(out)["code"]) == (1, "NO_POLICY")


def test_measured_mode_ignores_the_policy(capsys: pytest.CaptureFixture[str], world: World) -> None:
    policy = signed(capsys, world, tamper="crtm")
    code, out, err = cli(
        capsys, "boot", "run", str(world.chain), "--policy", str(policy), "--mode", "measured",
        "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["completed"] is True
    assert "ignored" in err


def test_invalid_and_unreadable_inputs(capsys: pytest.CaptureFixture[str], world: World) -> None:
    code, _, err = cli(capsys, "boot", "run", str(world.root / "missing.json"))
    assert code == 2 and "cannot read" in err
    (world.root / "layers" / "crtm.bin").unlink()
    code, out, _ = cli(capsys, "boot", "run", str(world.chain), "--json")
    assert (code, _error(out)["code"], _error(out)["field"]) == (
        2,
        "LAYER_UNREADABLE",
        "layers[0].file",
    )
    (world.root / "layers" / "crtm.bin").write_bytes(b"crtm image")
    bad = world.root / "bad.json"
    bad.write_text('{"banks": ["sha256"], "banks": []}', encoding="utf-8")
    code, out, _ = cli(capsys, "boot", "run", str(bad), "--json")
    assert (code, _error(out)["code"]) == (1, "INVALID_CHAIN")
    hostile = write_json(
        world.root / "hostile.json", {"banks": ["sha256"], "layers": [{"name": "x"}]}
    )
    code, _, err = cli(capsys, "boot", "run", str(hostile))
    assert code == 1 and "INVALID_CHAIN" in err and "layers[0]" in err
    code, _, err = cli(capsys, "boot", "run", str(world.chain), "--now", "2026-12-01 12:00:00")
    assert code == 2 and "YYYY-MM-DDTHH:MM:SSZ" in err
    code, _, _ = cli(capsys, "boot", "run", str(world.chain), "--tpm", "localhost")
    assert code == 2
    code, _, _ = cli(capsys, "boot", "run", str(world.chain), "--policy", str(bad), "--json")
    assert code == 1


def test_unreachable_tpm_exit_2(capsys: pytest.CaptureFixture[str], world: World) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code, _, err = cli(capsys, "boot", "run", str(world.chain), "--tpm", f"127.0.0.1:{port}")
    assert code == 2 and "cannot talk to the TPM" in err


def test_eventlog_write_failure_exit_2(capsys: pytest.CaptureFixture[str], world: World) -> None:
    out = world.root / "no-such-dir" / "boot.log"
    code, _, err = cli(capsys, "boot", "run", str(world.chain), "--eventlog", str(out))
    assert code == 2 and "cannot write" in err


# ------------------------------------------------------------------ boot policy


def test_policy_verify(capsys: pytest.CaptureFixture[str], world: World) -> None:
    policy = signed(capsys, world, "ecdsa-p256-sha256")
    code, out, _ = cli(
        capsys, "boot", "policy", "verify", str(policy), "--keys", str(world.keys), "--now", NOW
    )
    assert code == 0 and "verified: policy fleet-a version 3" in out
    code, out, _ = cli(
        capsys, "boot", "policy", "verify", str(policy), "--keys", str(world.keys),
        "--now", "2027-07-01T00:00:00Z", "--json",
    )  # fmt: skip
    result = json.loads(out)
    assert code == 1 and result["accepted"] is False and result["code"] == "POLICY_EXPIRED"
    assert result["policy"]["expires"] == "2027-06-30T00:00:00Z"


def test_policy_update_rollback_and_upgrade(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    v3 = signed(capsys, world)
    v2 = signed(capsys, world, "ecdsa-p256-sha256", version=2)
    v4 = signed(capsys, world, "ecdsa-p256-sha256", version=4)
    keys = ["--keys", str(world.keys), "--now", NOW]
    for candidate, expected in ((v2, "POLICY_ROLLBACK"), (v3, "POLICY_ROLLBACK")):
        code, out, _ = cli(
            capsys, "boot", "policy", "update", "--installed", str(v3), "--candidate",
            str(candidate), *keys,
        )  # fmt: skip
        assert code == 1 and out.startswith(f"refused: {expected}")
    target = world.root / "installed.json"
    code, out, _ = cli(
        capsys, "boot", "policy", "update", "--installed", str(v3), "--candidate", str(v4),
        *keys, "--out", str(target), "--json",
    )  # fmt: skip
    assert code == 0 and json.loads(out)["accepted"] is True
    assert target.read_bytes() == v4.read_bytes()


def test_policy_update_writes_the_bytes_it_verified(
    capsys: pytest.CaptureFixture[str], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--out` gets exactly the candidate bytes that were checked: the candidate is read
    once. Here the file changes between reads (first a tampered copy, then the genuine
    one): the tampered copy is the one judged (refused) and nothing is written."""
    v3 = signed(capsys, world)
    v4 = signed(capsys, world, "ecdsa-p256-sha256", version=4)
    genuine = v4.read_bytes()
    tampered_doc = json.loads(genuine)
    tampered_doc["policy"]["name"] = "tampered"
    contents = [json.dumps(tampered_doc).encode(), genuine]
    reads: list[str] = []
    real_read = cli_module._read_bytes

    def read_bytes(path: str) -> bytes | None:
        if path == str(v4):
            reads.append(path)
            return contents[min(len(reads), len(contents)) - 1]
        return real_read(path)

    monkeypatch.setattr(cli_module, "_read_bytes", read_bytes)
    target = world.root / "installed-once.json"
    code, out, _ = cli(
        capsys, "boot", "policy", "update", "--installed", str(v3), "--candidate", str(v4),
        "--keys", str(world.keys), "--now", NOW, "--out", str(target), "--json",
    )  # fmt: skip
    assert reads == [str(v4)]
    assert code == 1 and json.loads(out)["code"] == "POLICY_SIGNATURE_INVALID"
    assert not target.exists()


def test_policy_sign_refuses_bad_keys_and_bodies(
    capsys: pytest.CaptureFixture[str], world: World
) -> None:
    body = world.body()
    out = str(world.root / "s.json")
    code, _, err = cli(
        capsys, "boot", "policy", "sign", str(body), "--key", str(world.ed_pem), "--alg",
        "ecdsa-p256-sha256", "--out", out,
    )  # fmt: skip
    assert code == 1 and "UNSUPPORTED_KEY" in err
    garbage = world.root / "garbage.pem"
    garbage.write_text("not a key", encoding="utf-8")
    code, _, err = cli(
        capsys, "boot", "policy", "sign", str(body), "--key", str(garbage), "--alg", "ed25519",
        "--out", out,
    )  # fmt: skip
    assert code == 1 and "INVALID_KEY" in err
    bad_body = write_json(
        world.root / "bad-body.json", {**json.loads(body.read_text()), "version": -1}
    )
    code, _, err = cli(
        capsys, "boot", "policy", "sign", str(bad_body), "--key", str(world.ed_pem), "--alg",
        "ed25519", "--out", out,
    )  # fmt: skip
    assert code == 1 and "INVALID_POLICY" in err and "policy.version" in err
    code, _, _ = cli(
        capsys, "boot", "policy", "sign", str(world.root / "none.json"), "--key",
        str(world.ed_pem), "--alg", "ed25519", "--out", out,
    )  # fmt: skip
    assert code == 2


def test_default_now_is_the_clock(capsys: pytest.CaptureFixture[str], world: World) -> None:
    soon = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    policy = signed(capsys, world, expires=soon)
    check: Callable[..., tuple[int, str, str]] = cli
    code, _, _ = check(capsys, "boot", "policy", "verify", str(policy), "--keys", str(world.keys))
    assert code == 0
    code, _, _ = check(
        capsys, "boot", "policy", "verify", str(policy), "--keys", str(world.keys), "--now", soon
    )
    assert code == 1
