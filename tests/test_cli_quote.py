"""`chainoftrust quote verify` (chainoftrust.cli_quote), through chainoftrust's parser.

chainoftrust.cli.build_parser adds the command (via cli_quote.add_quote_parser); these
tests parse with it and call the handler it sets. Inputs: the real GCP and Azure quotes in
../shared/conformance/tpm-quote/ (expected results from their expected.json), and quotes
signed here with `cryptography` keys.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from chainoftrust.cli import build_parser, main

CONFORMANCE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "tpm-quote"
GCP = CONFORMANCE / "gcp-windows-shielded-vm-sha1"
AZURE = CONFORMANCE / "azure-snp-vtpm-v1-milan"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = build_parser().parse_args(argv)
    code = args.func(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def need(folder: Path) -> dict[str, Any]:
    path = folder / "expected.json"
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"conformance data missing: {path} (CI=true)")
        pytest.skip(f"conformance data missing: {path}")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def gcp_args(*extra: str, nonce: str = "") -> list[str]:
    return [
        "quote",
        "verify",
        "--message",
        str(GCP / "quote.tpms_attest"),
        "--signature",
        str(GCP / "quote.tpmt_signature"),
        "--ak",
        str(GCP / "ak.tpmt_public"),
        "--nonce",
        nonce,
        *extra,
    ]


def pcrs_file(tmp_path: Path, doc: dict[str, Any], name: str = "pcrs.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(doc["pcrs"]))
    return str(path)


def test_gcp_quote_accepts_with_pcrs_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = need(GCP)
    code, out, _ = run(gcp_args("--pcrs", pcrs_file(tmp_path, doc), "--json"), capsys)
    assert code == 0
    result = json.loads(out)
    assert list(result) == ["verdict", "failures", "claims", "quote"]
    assert result["verdict"] == "accept" and result["failures"] == []
    assert [c["kind"] for c in result["claims"]] == ["signature", "freshness", "pcrs", "clock"]
    sig = result["claims"][0]
    assert (sig["keyType"], sig["scheme"], sig["hash"]) == ("rsa-2048", "rsassa", "sha1")
    assert sig["keyAttributes"] == "restricted-signing"
    pcrs = result["claims"][2]
    assert (pcrs["bank"], pcrs["pcrs"], pcrs["valuesFrom"]) == ("sha1", list(range(24)), "pcrs")
    assert pcrs["pcrDigest"] == doc["attest"]["pcrDigest"]
    assert result["quote"]["clock"] == doc["attest"]["clock"]
    assert result["quote"]["extraData"] == ""


def test_gcp_quote_accepts_with_tpm2_pcrread_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = need(GCP)
    lines = ["sha1:"] + [f"  {i:<2}: 0x{v.upper()}" for i, v in doc["pcrs"]["sha1"].items()]
    path = tmp_path / "pcrs.yaml"
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run(gcp_args("--pcrs", str(path)), capsys)
    assert code == 0
    assert out.startswith("quote: ACCEPT\n")
    assert "  pcr_digest      PASS" in out
    assert "values from pcrs" in out


def test_gcp_quote_with_its_event_log(capsys: pytest.CaptureFixture[str]) -> None:
    need(GCP)
    code, out, _ = run(gcp_args("--eventlog", str(GCP / "eventlog.bin"), "--json"), capsys)
    assert code == 0, out
    claims = json.loads(out)["claims"]
    assert claims[2]["valuesFrom"] == "eventlog"
    code, out, _ = run(gcp_args("--eventlog", str(GCP / "eventlog.bin")), capsys)
    assert code == 0 and "  eventlog        PASS" in out


def test_unparsable_event_log_is_an_eventlog_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need(GCP)
    log = tmp_path / "log.bin"
    log.write_bytes(b"\x00" * 10)
    code, out, _ = run(gcp_args("--eventlog", str(log), "--json"), capsys)
    assert code == 1
    result = json.loads(out)
    assert result["verdict"] == "reject" and result["claims"] == []
    assert [f["check"] for f in result["failures"]] == ["eventlog"]
    assert result["failures"][0]["code"] == "TRUNCATED"


def test_gcp_quote_without_pcrs_accepts_signature_and_nonce_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    need(GCP)
    code, out, _ = run(gcp_args(), capsys)
    assert code == 0
    assert "  pcr_values      not made" in out
    assert "values NOT verified" in out


def test_tampered_nonce_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = need(GCP)
    code, out, _ = run(gcp_args("--pcrs", pcrs_file(tmp_path, doc), "--json", nonce="00"), capsys)
    assert code == 1
    result = json.loads(out)
    assert result["verdict"] == "reject" and result["claims"] == []
    assert [(f["check"], f["code"]) for f in result["failures"]] == [("nonce", "NONCE_MISMATCH")]
    code, out, _ = run(gcp_args(nonce="00"), capsys)
    assert code == 1 and out.startswith("quote: REJECT\n")
    assert "  nonce           FAIL  NONCE_MISMATCH" in out


def test_changed_pcr_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = need(CONFORMANCE / "derived-neg-gcp-windows-pcr7-changed")
    code, out, _ = run(gcp_args("--pcrs", pcrs_file(tmp_path, doc), "--json"), capsys)
    assert code == 1
    failures = json.loads(out)["failures"]
    assert [(f["check"], f["code"]) for f in failures] == [("pcr_digest", "PCR_DIGEST_MISMATCH")]


def test_hash_policy(capsys: pytest.CaptureFixture[str]) -> None:
    need(GCP)
    code, out, _ = run(gcp_args("--allow-hash", "sha256", "--json"), capsys)
    assert code == 1
    assert json.loads(out)["failures"][0]["code"] == "HASH_NOT_ALLOWED"
    code, _, _ = run(gcp_args("--allow-hash", "sha256", "--allow-hash", "sha1"), capsys)
    assert code == 0


def test_unreadable_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    need(GCP)
    argv = gcp_args()
    argv[argv.index("--ak") + 1] = str(tmp_path / "missing.pub")
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert "cannot read" in err
    code, _, _ = run(gcp_args("--pcrs", str(tmp_path / "none.json")), capsys)
    assert code == 2


def test_azure_raw_signature_and_jwk(capsys: pytest.CaptureFixture[str]) -> None:
    doc = need(AZURE)
    argv = [
        "quote",
        "verify",
        "--message",
        str(AZURE / "quote.tpms_attest"),
        "--signature",
        str(AZURE / "quote.rsassa_sha256.sig"),
        "--ak",
        str(AZURE / "ak_hclakpub.jwk.json"),
        "--nonce",
        doc["nonce"],
        "--json",
    ]
    code, out, _ = run(argv, capsys)
    assert code == 0
    claim = json.loads(out)["claims"][0]
    assert (claim["scheme"], claim["hash"]) == ("rsassa", "sha256")
    assert claim["keyAttributes"].startswith("unknown")
    # the same raw signature read as a TPMT_SIGNATURE is unusable input: exit 1
    code, out, _ = run([*argv, "--signature-format", "tpmt"], capsys)
    assert code == 1
    assert json.loads(out)["error"]["code"] in {"TRUNCATED", "UNSUPPORTED_SIGNATURE_ALGORITHM"}
    # plain with the wrong scheme: the signature does not verify
    code, out, _ = run([*argv, "--scheme", "rsapss"], capsys)
    assert code == 1 and json.loads(out)["failures"][0]["code"] == "SIGNATURE_INVALID"


def test_plain_ecdsa_signature_with_pem_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A TPMS_ATTEST built by hand (Part 2 layout), signed with a P-384 cryptography key,
    signature in DER (what `tpm2_quote -f plain` writes for ECDSA)."""
    selection = struct.pack(">IHB3s", 1, 0x000C, 3, b"\x00\x00\x00")
    digest = hashes.Hash(hashes.SHA384()).finalize()  # no PCR selected: H(empty)
    body = struct.pack(">IH", 0xFF544347, 0x8018) + struct.pack(">H", 0)
    body += struct.pack(">H", 2) + b"\xab\xcd" + struct.pack(">QIIBQ", 5, 1, 0, 1, 9)
    attest = body + selection + struct.pack(">H", len(digest)) + digest
    priv = ec.generate_private_key(ec.SECP384R1())
    (tmp_path / "q.msg").write_bytes(attest)
    (tmp_path / "q.sig").write_bytes(priv.sign(attest, ec.ECDSA(hashes.SHA384())))
    (tmp_path / "ak.pem").write_bytes(
        priv.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    base = ["quote", "verify", "--message", str(tmp_path / "q.msg")]
    base += ["--signature", str(tmp_path / "q.sig"), "--ak", str(tmp_path / "ak.pem")]
    base += ["--nonce", "ABCD"]
    code, out, _ = run([*base, "--hash", "sha384", "--json"], capsys)
    assert code == 0, out
    result = json.loads(out)
    assert result["claims"][0]["keyType"] == "ecc-P-384"
    assert result["claims"][2] == {
        "kind": "pcrs",
        "bank": "sha384",
        "pcrs": [],
        "valuesFrom": "none",
        "pcrDigest": digest.hex(),
    }
    # the default hash for a key without a TPM scheme is sha256: the signature fails
    code, out, _ = run([*base, "--json"], capsys)
    assert code == 1 and json.loads(out)["failures"][0]["code"] == "SIGNATURE_INVALID"


def test_bad_key_file_is_an_error_object(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    need(GCP)
    bad = tmp_path / "ak.pem"
    bad.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    argv = gcp_args("--json")
    argv[argv.index("--ak") + 1] = str(bad)
    code, out, _ = run(argv, capsys)
    assert code == 1
    assert json.loads(out)["error"]["code"] == "UNSUPPORTED_KEY"
    argv.remove("--json")
    code, _, err = run(argv, capsys)
    assert code == 1 and "UNSUPPORTED_KEY" in err


def test_bad_arguments_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (gcp_args(nonce="xyz"), gcp_args("--hash", "md5"), gcp_args("--scheme", "ecdaa")):
        with pytest.raises(SystemExit) as info:
            run(argv, capsys)
        assert info.value.code == 2


def test_strict_without_eventlog_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--strict only qualifies --eventlog's replay: alone (or with --pcrs) it is refused
    with exit 2 before any file is read, instead of being silently ignored."""
    missing = str(tmp_path / "missing")
    argv = ["quote", "verify", "--message", missing, "--signature", missing, "--ak", missing]
    argv += ["--nonce", ""]
    for extra in (["--strict"], ["--strict", "--pcrs", missing]):
        with pytest.raises(SystemExit) as info:
            run([*argv, *extra], capsys)
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "--strict needs --eventlog" in err and "cannot read" not in err
        with pytest.raises(SystemExit) as info:
            main([*argv, *extra])
        assert info.value.code == 2


def test_strict_with_eventlog_runs(capsys: pytest.CaptureFixture[str]) -> None:
    need(GCP)
    code, out, _ = run(gcp_args("--eventlog", str(GCP / "eventlog.bin"), "--strict"), capsys)
    assert code == 0 and out.startswith("quote: ACCEPT\n"), out
    assert "  eventlog        PASS" in out


def test_wired_into_the_chainoftrust_command(capsys: pytest.CaptureFixture[str]) -> None:
    """build_parser adds `quote`; `chainoftrust quote verify` (main) runs its handler."""
    need(GCP)
    choices = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert "quote" in choices
    assert main(gcp_args("--json")) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "accept"
    assert main(gcp_args(nonce="01")) == 1
