"""The public PCR vector corpus: reproducible, schema-valid, consistent, and passed by impl.

The generator is chainoftrust.spec.vectors; the checker is chainoftrust.impl.vectors.
A few vectors are also anchored here to values computed with hashlib from the
documents' formulas, so the corpus does not rest on the spec alone.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl.vectors import check
from chainoftrust.spec.vectors import generate
from jsonschema import Draft202012Validator

from chainoftrust.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "vectors"
VECTOR_FILES = sorted((VECTORS / "pcr").glob("*_test.json"))
ALL_VECTOR_FILES = sorted(VECTORS.glob("*/*_test.json"))  # pcr/, eventlog/, ima/
OPERATIONS = ["pcr_composite", "pcr_extend", "pcr_predict"]


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _tests(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for g in content["testGroups"] for t in g["tests"]]


def _find(content: dict[str, Any], comment: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for group in content["testGroups"]:
        for test in group["tests"]:
            if test["comment"] == comment:
                return group, test
    raise LookupError(comment)


def _rewrite_manifest(root: Path) -> None:
    """Recompute the manifest's digests with hashlib (to isolate a vector tamper)."""
    manifest = _load(root / "MANIFEST.json")
    for entry in manifest["files"]:
        data = (root / entry["path"]).read_bytes()
        entry["size"] = len(data)
        for name in ("sha256", "sha384"):
            digest = hashlib.new(name, data).hexdigest()
            entry[name] = {key: digest for key in entry[name]}
    (root / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("vectors")
    written = generate(out)
    assert written[-1] == out / "MANIFEST.json"
    assert sorted(written) == sorted(out.rglob("*.json"))
    return out


# ------------------------------------------------------------------ reproducibility


def test_the_committed_corpus_exists() -> None:
    assert [p.name for p in VECTOR_FILES] == [f"{op}_test.json" for op in OPERATIONS]


def test_regeneration_is_byte_identical(regenerated: Path) -> None:
    generated = sorted(p.relative_to(regenerated) for p in regenerated.rglob("*.json"))
    committed = sorted(
        p.relative_to(VECTORS)
        for p in VECTORS.rglob("*.json")
        if p.parent.name in {"pcr", "eventlog", "ima", "quote", "boot", "schemas"}
        or p.name == "MANIFEST.json"
    )
    assert generated == committed
    for rel in generated:
        assert (regenerated / rel).read_bytes() == (VECTORS / rel).read_bytes(), rel


def test_generate_returns_every_file_manifest_last(regenerated: Path) -> None:
    manifest = _load(regenerated / "MANIFEST.json")
    assert [e["path"] for e in manifest["files"]] == sorted(
        p.relative_to(regenerated).as_posix()
        for p in regenerated.rglob("*.json")
        if p.name != "MANIFEST.json"
    )


# ------------------------------------------------------------------------- schemas


@pytest.mark.parametrize("path", ALL_VECTOR_FILES, ids=lambda p: p.name)
def test_every_file_validates_against_its_schema(path: Path) -> None:
    content = _load(path)
    schema = _load(VECTORS / "schemas" / content["schema"])
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(content)]
    assert not errors, errors[:5]


def test_the_manifest_validates_against_its_schema() -> None:
    schema = _load(VECTORS / "schemas" / "manifest_schema_v1.json")
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert not list(validator.iter_errors(_load(VECTORS / "MANIFEST.json")))


def test_schemas_reject_broken_vectors() -> None:
    """The schemas are not vacuous: each of these edits makes a file invalid."""
    content = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    validator = Draft202012Validator(_load(VECTORS / "schemas" / "pcr_predict_schema_v1.json"))
    invalid = next(t for t in _tests(content) if t["result"] == "invalid")
    valid = next(t for t in _tests(content) if t["result"] == "valid")
    edits = [
        lambda c: _tests(c)[_tests(c).index(invalid)].pop("errorCode"),
        lambda c: _tests(c)[_tests(c).index(valid)].update(errorCode="NO_BANKS"),
        lambda c: _tests(c)[0].update(extra=1),
        lambda c: _tests(c)[_tests(c).index(valid)]["pcrs"]["sha1"].update({"0": "AB"}),
        lambda c: _tests(c)[_tests(c).index(valid)]["pcrs"]["sha1"].pop("23"),
        lambda c: c["notes"].update(NotAFlag=c["notes"]["ExtendPerBank"]),
        lambda c: c.update(operation="pcr_extend"),
        lambda c: _tests(c)[0].update(result="maybe"),
    ]
    for n, edit in enumerate(edits):
        broken = copy.deepcopy(content)
        edit(broken)
        assert not validator.is_valid(broken), f"edit {n} was accepted"


# ------------------------------------------------------------------------ manifest


def test_the_manifest_lists_every_file_with_both_digests() -> None:
    manifest = _load(VECTORS / "MANIFEST.json")
    listed = [entry["path"] for entry in manifest["files"]]
    on_disk = sorted(
        p.relative_to(VECTORS).as_posix()
        for folder in ("boot", "eventlog", "ima", "pcr", "quote", "schemas")
        for p in (VECTORS / folder).glob("*.json")
    )
    assert listed == on_disk
    assert set(manifest["implementations"]) == {"chainoftrust.spec.hashes", "hashlib"}
    for entry in manifest["files"]:
        data = (VECTORS / entry["path"]).read_bytes()
        assert entry["size"] == len(data)
        for name in ("sha256", "sha384"):
            expected = hashlib.new(name, data).hexdigest()
            assert entry[name] == {"chainoftrust.spec.hashes": expected, "hashlib": expected}


# ---------------------------------------------------------------- file consistency


@pytest.mark.parametrize("path", ALL_VECTOR_FILES, ids=lambda p: p.name)
def test_tc_ids_are_unique_and_sequential(path: Path) -> None:
    content = _load(path)
    ids = [t["tcId"] for t in _tests(content)]
    assert ids == list(range(1, len(ids) + 1))
    assert content["numberOfTests"] == len(ids)


@pytest.mark.parametrize("path", ALL_VECTOR_FILES, ids=lambda p: p.name)
def test_every_flag_has_a_note_and_every_note_is_used(path: Path) -> None:
    content = _load(path)
    used = {flag for t in _tests(content) for flag in t["flags"]}
    assert used == set(content["notes"])
    assert all(t["flags"] for t in _tests(content)), "every vector names what it tests"


@pytest.mark.parametrize("path", ALL_VECTOR_FILES, ids=lambda p: p.name)
def test_invalid_vectors_carry_an_error_code(path: Path) -> None:
    for test in _tests(_load(path)):
        assert ("errorCode" in test) == (test["result"] == "invalid"), test["tcId"]


def test_the_corpus_covers_issue_2() -> None:
    """The flags the issue asks for are all present."""
    flags = {f for p in VECTOR_FILES for t in _tests(_load(p)) for f in t["flags"]}
    wanted = {
        "ExtendPerBank", "MultiBankExtend", "UnallocatedBankIgnored", "Event",
        "ResetAllowed", "ResetRefused", "ResetLocality4Refused", "StartupLocality3",
        "StartupLocality4Refused", "HcrtmPcr0", "DrtmFF", "DrtmPcr17",
        "DrtmResetsDynamicPcrs", "ResumeRestoresStateSaved", "ResumeWithoutSavedState",
        "ResumeLocalityMismatch", "ResumeHcrtmMismatch", "CompositeSingleBank",
        "CompositeMultiBank", "CompositeSelectionOrder", "CompositeEmptySelection",
        "DigestSizeMismatch", "UnknownAlgorithm", "PcrIndexOutOfRange", "InvalidLocality",
        "InvalidHex", "UnknownOperation", "EventDataTooLarge", "Truncated", "TrailingBytes",
    }  # fmt: skip
    assert wanted <= flags, wanted - flags
    predict = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    reset = {(t["document"]["operations"][-1]["pcr"]) for t in _tests(predict)
             if "ResetAllowed" in t["flags"] or "ResetRefused" in t["flags"]
             or "ResetLocality4Refused" in t["flags"]}  # fmt: skip
    classes = [{0, 7, 10, 15}, {16}, {17, 18, 19}, {20}, {21, 22}, {23}]
    assert all(reset & cls for cls in classes), reset
    extend = _load(VECTORS / "pcr" / "pcr_extend_test.json")
    assert [g["hash"] for g in extend["testGroups"]] == [
        "sha1", "sha256", "sha384", "sha512", "sm3_256", "sha3_256", "sha3_384", "sha3_512",
    ]  # fmt: skip


# -------------------------------------------------- anchors computed with hashlib


def test_anchor_extend_from_zero() -> None:
    content = _load(VECTORS / "pcr" / "pcr_extend_test.json")
    for group in content["testGroups"]:
        name = group["hash"].replace("sm3_256", "sm3")
        _, test = _find({"testGroups": [group]}, "zero PCR extended with a zero digest")
        size = group["digestSize"]
        assert test["new"] == hashlib.new(name, bytes(2 * size)).hexdigest()


def test_anchor_startup_locality_3_and_drtm_pcrs() -> None:
    content = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    _, test = _find(content, "Startup(CLEAR) at locality 3: PCR 0 ends in 0x03")
    pcrs = test["pcrs"]["sha256"]
    assert pcrs["0"] == "00" * 31 + "03"
    assert all(pcrs[str(i)] == "ff" * 32 for i in range(17, 23))
    assert all(pcrs[str(i)] == "00" * 32 for i in [*range(1, 17), 23])


def test_anchor_hcrtm_and_drtm() -> None:
    content = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    sha = hashlib.sha256
    _, test = _find(
        content, "H-CRTM then Startup(CLEAR) at locality 0: PCR 0 = H(0..04 || H(data))"
    )
    expected = sha(bytes(31) + b"\x04" + sha(b"h-crtm image").digest()).hexdigest()
    assert test["pcrs"]["sha256"]["0"] == expected
    _, test = _find(content, "DRTM: PCR 17 = H(0..0 || H(data)); PCR 18-22 reset to zero")
    assert test["pcrs"]["sha256"]["17"] == sha(bytes(32) + sha(b"mle").digest()).hexdigest()
    assert all(test["pcrs"]["sha256"][str(i)] == "00" * 32 for i in range(18, 23))


def test_anchor_event_and_reset() -> None:
    content = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    _, test = _find(content, "event 'abc' on PCR 8 extends sha1 and sha256 with H(data)")
    for name, size in (("sha1", 20), ("sha256", 32)):
        data = hashlib.new(name, b"abc").digest()
        assert test["pcrs"][name]["8"] == hashlib.new(name, bytes(size) + data).hexdigest()
    _, test = _find(
        content, "reset PCR 21 at locality 2 straight after startup: 0xff..ff becomes 0"
    )
    assert test["pcrs"]["sha256"]["21"] == "00" * 32


def test_anchor_composite_digests() -> None:
    content = _load(VECTORS / "pcr" / "pcr_composite_test.json")
    group, test = _find(content, "PCR 0-7 of sha256")
    values = group["pcrValues"]["sha256"]
    blob = b"".join(bytes.fromhex(values[str(i)]) for i in range(8))
    assert test["compositeDigest"] == hashlib.sha256(blob).hexdigest()
    assert test["pcrSelection"] == "00000001" + "000b" + "03" + "ff0000"
    _, test = _find(content, "empty selection: the digest of nothing")
    assert test["compositeDigest"] == hashlib.sha256(b"").hexdigest()
    assert test["pcrSelection"] == "00000000"
    _, test = _find(content, "sha256 then sha1: list order changes the digest")
    sha1, sha256 = group["pcrValues"]["sha1"], group["pcrValues"]["sha256"]
    blob = b"".join(bytes.fromhex(v[str(i)]) for v in (sha256, sha1) for i in range(3))
    assert test["compositeDigest"] == hashlib.sha256(blob).hexdigest()


def _hashlib_name(bank: str) -> str:
    return "sm3" if bank == "sm3_256" else bank


# TPM_ALG_ID (TCG Algorithm Registry), written out here independently of the code.
ALG_IDS = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
ALG_IDS |= {"sm3_256": 0x0012, "sha3_256": 0x0027, "sha3_384": 0x0028, "sha3_512": 0x0029}


def test_every_valid_extend_vector_matches_hashlib() -> None:
    """new = H(old || digest) (TPM 2.0 Part 1, PCR Extend), recomputed with hashlib."""
    content = _load(VECTORS / "pcr" / "pcr_extend_test.json")
    checked = 0
    for group in content["testGroups"]:
        for test in group["tests"]:
            if test["result"] != "valid":
                assert len(bytes.fromhex(test["digest"])) != group["digestSize"]
                continue
            data = bytes.fromhex(test["old"]) + bytes.fromhex(test["digest"])
            assert test["new"] == hashlib.new(_hashlib_name(group["hash"]), data).hexdigest()
            checked += 1
    assert checked >= 8 * 6


def test_every_valid_composite_vector_matches_hashlib_and_struct() -> None:
    """pcrDigest = H_scheme(values of each entry, list order, PCRs ascending); the
    selection bytes are TPML_PCR_SELECTION (Part 2), both rebuilt here independently."""
    content = _load(VECTORS / "pcr" / "pcr_composite_test.json")
    checked = 0
    for group in content["testGroups"]:
        for test in group["tests"]:
            if group["type"] != "PcrCompositeTest" or test["result"] != "valid":
                continue
            blob, marshalled = b"", struct.pack(">I", len(test["selection"]))
            for entry in test["selection"]:
                bitmap = sum(1 << i for i in entry["pcrs"]).to_bytes(3, "little")
                marshalled += struct.pack(">HB", ALG_IDS[entry["hash"]], 3) + bitmap
                values = group["pcrValues"][entry["hash"]]
                blob += b"".join(bytes.fromhex(values[str(i)]) for i in sorted(entry["pcrs"]))
            digest = hashlib.new(_hashlib_name(group["scheme"]), blob).hexdigest()
            assert test["compositeDigest"] == digest, test["tcId"]
            assert test["pcrSelection"] == marshalled.hex(), test["tcId"]
            checked += 1
    assert checked >= 30


# -------------------------------------------------------------- impl and the checker


def test_impl_passes_every_vector() -> None:
    report = check(VECTORS)
    assert report.ok, report.to_text()
    counts = {f.path: f.passed for f in report.files}
    assert counts == {
        p.relative_to(VECTORS).as_posix(): _load(p)["numberOfTests"] for p in ALL_VECTOR_FILES
    }
    assert report.to_json()["ok"] is True
    assert "0 failed" in report.to_text()


def test_a_tampered_vector_fails_the_check(tmp_path: Path) -> None:
    corpus = tmp_path / "vectors"
    shutil.copytree(VECTORS, corpus)
    path = corpus / "pcr" / "pcr_composite_test.json"
    content = _load(path)
    _, test = _find(content, "PCR 0-7 of sha256")
    test["compositeDigest"] = "00" + test["compositeDigest"][2:]
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    # The manifest catches the edit ...
    report = check(corpus)
    assert not report.ok
    assert any("pcr_composite_test.json" in f for f in report.manifest_failures)
    # ... and with the manifest recomputed, the vector itself fails.
    _rewrite_manifest(corpus)
    report = check(corpus)
    assert not report.ok and not report.manifest_failures
    failed = report.to_json()["files"]["pcr/pcr_composite_test.json"]  # type: ignore[index]
    assert [f["tcId"] for f in failed["failures"]] == [test["tcId"]]
    assert "compositeDigest" in failed["failures"][0]["reason"]


def test_a_tampered_error_code_fails_the_check(tmp_path: Path) -> None:
    corpus = tmp_path / "vectors"
    shutil.copytree(VECTORS, corpus)
    path = corpus / "pcr" / "pcr_predict_test.json"
    content = _load(path)
    _, test = _find(content, "Startup at locality 4")
    test["errorOperation"] = 1
    path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    _rewrite_manifest(corpus)
    report = check(corpus)
    assert not report.ok
    assert "operation" in report.to_text()


def test_an_unlisted_or_empty_corpus_fails(tmp_path: Path) -> None:
    assert not check(tmp_path).ok
    corpus = tmp_path / "vectors"
    shutil.copytree(VECTORS, corpus)
    shutil.copy(corpus / "pcr" / "pcr_extend_test.json", corpus / "pcr" / "extra_test.json")
    report = check(corpus)
    assert not report.ok
    assert any("extra_test.json" in f for f in report.manifest_failures)


def test_cli_vectors_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["vectors", "check", "--dir", str(VECTORS), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True
    assert set(out["files"]) == {p.relative_to(VECTORS).as_posix() for p in ALL_VECTOR_FILES}


# ------------------------------------------------------------- confirmed by swtpm

SWTPM_CATEGORIES = {"functionality", "edge_case", "tpm_refusal"}


def swtpm_confirmable(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Predict vectors a real TPM can run: well-formed documents, banks swtpm allocates,
    and an expected result that is PCR values or a TPM refusal (not a project error)."""
    from tests.real.swtpm import SWTPM_BANKS

    notes = content["notes"]
    return [
        t
        for t in _tests(content)
        if all(notes[f]["category"] in SWTPM_CATEGORIES for f in t["flags"])
        and set(t["document"]["banks"]) <= set(SWTPM_BANKS)
        and (t["result"] == "valid" or t.get("tpmRc") is not None)
    ]


@pytest.mark.swtpm
def test_predict_vectors_are_confirmed_by_swtpm(tmp_path: Path) -> None:
    """Every swtpm-confirmable predict vector gives the same PCRs or refusal on swtpm."""
    from tests.conftest import require_tools
    from tests.real.swtpm import TOOLS, Outcome, Swtpm

    require_tools(*TOOLS)
    content = _load(VECTORS / "pcr" / "pcr_predict_test.json")
    vectors = swtpm_confirmable(content)
    assert len(vectors) >= 100
    mismatches = []
    with Swtpm(tmp_path) as tpm:
        for test in vectors:
            real = tpm.run_document(test["document"])
            if test["result"] == "valid":
                expected = Outcome(test["pcrs"])
            else:
                expected = Outcome(None, test["errorOperation"], test["tpmRc"])
            if real != expected:
                mismatches.append((test["tcId"], test["comment"], real.operation, real.tpm_rc))
    assert not mismatches, mismatches
