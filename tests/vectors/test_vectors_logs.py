"""The event-log and IMA replay vectors: valid against their schemas, reproduced by impl,
consistent between their lenient and strict twins, and anchored to hashlib (and to
hand-built bytes) for the values a reader can recompute by hand."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.impl.vectors_ima import run_ima_replay
from chainoftrust.impl.vectors_logs import run_eventlog_replay
from jsonschema import Draft202012Validator

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
FILE = VECTORS / "eventlog" / "eventlog_replay_test.json"
SCHEMA = VECTORS / "schemas" / "eventlog_replay_schema_v1.json"
IMA_FILE = VECTORS / "ima" / "ima_replay_test.json"
IMA_SCHEMA = VECTORS / "schemas" / "ima_replay_schema_v1.json"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _tests() -> list[dict[str, Any]]:
    return [t for g in _load(FILE)["testGroups"] for t in g["tests"]]


def _by_comment(comment: str) -> dict[str, Any]:
    return next(t for t in _tests() if t["comment"] == comment)


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _validator(schema: Path) -> Draft202012Validator:
    content = _load(schema)
    Draft202012Validator.check_schema(content)
    return Draft202012Validator(content, format_checker=Draft202012Validator.FORMAT_CHECKER)


# ------------------------------------------------------------------ event-log vectors


def test_the_file_validates_and_the_schema_has_teeth() -> None:
    validator = _validator(SCHEMA)
    content = _load(FILE)
    validator.validate(content)
    edits = [
        lambda t: t.update(result="invalid"),  # invalid without errorCode
        lambda t: t.update(log="ABCD"),  # upper-case hex
        lambda t: t["replay"].update(extra=1),
        lambda t: t["replay"]["warnings"].append({"code": "X"}),  # no event index
    ]
    for n, edit in enumerate(edits):
        broken = copy.deepcopy(content)
        edit(broken["testGroups"][0]["tests"][0])
        assert not validator.is_valid(broken), f"edit {n} was accepted"


def test_tcids_flags_and_notes() -> None:
    content = _load(FILE)
    tests = _tests()
    assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
    assert content["numberOfTests"] == len(tests)
    assert {f for t in tests for f in t["flags"]} == set(content["notes"])


def test_impl_reproduces_every_vector() -> None:
    failures = [(t["tcId"], run_eventlog_replay({}, t)) for t in _tests()]
    assert [f for f in failures if f[1] is not None] == []


def test_a_tampered_vector_fails() -> None:
    edits = [
        lambda t: t["replay"]["pcrs"]["sha256"].update({"0": "00" * 32}),
        lambda t: t["replay"]["warnings"].append({"code": "UNEXPECTED_PCR", "event": 1}),
        lambda t: t.update(dataChecks=[]),
    ]
    for edit in edits:
        test = copy.deepcopy(_by_comment("startup locality 3"))
        edit(test)
        assert run_eventlog_replay({}, test) is not None
    bad = copy.deepcopy(_by_comment("an empty log"))
    bad["errorOffset"] = 1
    assert run_eventlog_replay({}, bad) is not None


def test_the_brief_is_covered() -> None:
    """Every behaviour issue 4 names has at least one vector; strict and lenient both."""
    flags = {f for t in _tests() for f in t["flags"]}
    wanted = {
        "CryptoAgile", "CryptoAgileOneBank", "CryptoAgileThreeBanks", "Sha1Log",
        "StartupLocality3", "StartupLocality4", "HcrtmPcr0", "DrtmPcrStartFF",
        "MissingBankDigest", "UnknownAlgorithmSkipped", "NoActionNeverExtends",
        "SeparatorError", "SeparatorsAllPcrs", "VariableBootDataOnly", "VariableBootWholeData",
        "VariableBoot2", "AuthorityTrailingByte", "TypeRelabelled", "TypeRelabelledUnflagged",
        "DataDigestMismatch", "StartupLocalityAfterExtend", "EventAfterSeparator",
        "DriverConfigAfterSeparator", "TruncatedRecord", "OversizedLength", "GiantDigestCount",
        "AlgorithmNotInSpecId", "InvalidStartupLocality",
    }  # fmt: skip
    assert wanted <= flags, wanted - flags
    statuses = {(c["status"], c["quirk"]) for t in _tests() for c in t.get("dataChecks", [])}
    assert {
        ("match", None),
        ("mismatch", None),
        ("separator_error", None),
        ("match_quirk", "efi_variable_boot_whole_data"),
        ("match_quirk", "efi_variable_boot2_data_only"),
        ("match_quirk", "efi_variable_authority_trailing_byte"),
    } <= statuses


def test_strict_twins_raise_the_first_warning_of_their_lenient_twin() -> None:
    """A `..., strict` vector's error is its lenient twin's first warning, at that
    event's record offset (the offsets are recomputed by walking the records)."""
    twins = 0
    for strict in (t for t in _tests() if t["comment"].endswith(", strict")):
        lenient = [t for t in _tests() if t["comment"] == strict["comment"][: -len(", strict")]]
        if not lenient or strict["errorCode"] == "INVALID_STARTUP_LOCALITY":
            continue
        twins += 1
        (twin,) = lenient
        assert twin["log"] == strict["log"] and not twin["strict"] and strict["strict"]
        first = twin["replay"]["warnings"][0]
        assert first["code"] == strict["errorCode"], strict["tcId"]
        assert _record_offsets(bytes.fromhex(twin["log"]))[first["event"]] == strict["errorOffset"]
    assert twins >= 7


def _record_offsets(log: bytes) -> list[int]:
    """Offsets of the records of a crypto-agile log with sha1+sha256 digests (by hand)."""
    sizes = {0x0004: 20, 0x000B: 32}
    offsets, pos = [0], 32 + int.from_bytes(log[28:32], "little")
    while pos < len(log):
        offsets.append(pos)
        count = int.from_bytes(log[pos + 8 : pos + 12], "little")
        pos += 12
        for _ in range(count):
            pos += 2 + sizes[int.from_bytes(log[pos : pos + 2], "little")]
        pos += 4 + int.from_bytes(log[pos : pos + 4], "little")
    return offsets


def test_startup_locality_3_vector_matches_hashlib() -> None:
    """PCR 0 starts 00..03 and is never extended here: its value is that start value;
    PCR 7 is sha256(0^32 || sha256(00000000)) for the separator."""
    pcrs = _by_comment("startup locality 3")["replay"]["pcrs"]["sha256"]
    assert pcrs["0"] == (bytes(31) + b"\x03").hex()
    assert pcrs["7"] == _sha256(bytes(32) + _sha256(bytes(4))).hex()


def test_relabelled_separators_keep_the_pcr_values() -> None:
    """Relabelling an event does not change a PCR: the verifier cannot see it in PCRs."""
    base = _by_comment("startup locality 3")["replay"]["pcrs"]
    post = _by_comment("separator relabelled EV_POST_CODE, not strict: PCRs equal tcId 2's")
    action = _by_comment(
        "separator relabelled EV_EFI_ACTION, strict: PCRs equal tcId 2's, MISSING_SEPARATOR only"
    )
    assert post["replay"]["pcrs"] == base == action["replay"]["pcrs"]
    # ADR 0002 amendment 3: PCR 7 extended with no EV_SEPARATOR, a per-log finding
    missing = {"code": "MISSING_SEPARATOR", "event": None}
    assert post["replay"]["warnings"] == [{"code": "UNEXPECTED_PCR", "event": 2}, missing]
    assert post["dataChecks"] == []  # the separator's data check disappeared
    assert action["replay"]["warnings"] == [missing]
    assert [c["type"] for c in action["dataChecks"]] == ["EV_EFI_ACTION"]


def test_more_start_values_match_hashlib() -> None:
    """H-CRTM without StartupLocality, DRTM PCRs, one sha256 bank, a sha384 bank."""
    hcrtm = _by_comment("H-CRTM event first in PCR 0, no StartupLocality")["replay"]["pcrs"]
    value = _sha256(bytes(31) + b"\x04" + _sha256(b"HCRTM"))
    assert hcrtm["sha256"]["0"] == _sha256(value + _sha256(b"post")).hex()
    drtm = _by_comment("events in PCRs 17, 18, 22 (start ff) and 23 (starts 00)")["replay"]
    assert drtm["pcrs"]["sha256"]["17"] == _sha256(b"\xff" * 32 + _sha256(b"d")).hex()
    assert drtm["pcrs"]["sha256"]["23"] == _sha256(bytes(32) + _sha256(b"d")).hex()
    one = _by_comment("one sha256 bank: locality 0, S-CRTM version, separator")["replay"]
    assert list(one["pcrs"]) == ["sha256"]
    three = _by_comment("three banks: locality 3, post code, separators 0-7")["replay"]["pcrs"]
    sha384 = hashlib.sha384
    start = bytes(47) + b"\x03"
    pcr0 = sha384(sha384(start + sha384(b"bios").digest()).digest() + sha384(bytes(4)).digest())
    assert three["sha384"]["0"] == pcr0.hexdigest()
    assert list(three) == ["sha1", "sha256", "sha384"]
    assert sorted(three["sha1"], key=int) == [str(p) for p in range(8)]


# ------------------------------------------------------------------- IMA replay vectors


def _ima_groups() -> list[dict[str, Any]]:
    return list(_load(IMA_FILE)["testGroups"])


def _ima_tests() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(g, t) for g in _ima_groups() for t in g["tests"]]


def _ima(comment: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return next((g, t) for g, t in _ima_tests() if t["comment"] == comment)


def test_ima_file_validates_and_impl_reproduces_it() -> None:
    content = _load(IMA_FILE)
    validator = _validator(IMA_SCHEMA)
    validator.validate(content)
    broken = copy.deepcopy(content)
    broken["testGroups"][-1]["tests"][0]["list"] = "00"  # ASCII group takes no binary
    assert not validator.is_valid(broken)
    tests = [t for _, t in _ima_tests()]
    assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
    assert content["numberOfTests"] == len(tests)
    assert {f for t in tests for f in t["flags"]} == set(content["notes"])
    assert [(t["tcId"], r) for g, t in _ima_tests() if (r := run_ima_replay(g, t))] == []


@pytest.mark.parametrize("form", ["list", "ascii"])
def test_a_tampered_ima_vector_fails_in_either_form(form: str) -> None:
    group, test = _ima("two ima-ng entries")
    test = copy.deepcopy(test)
    if form == "list":
        del test["ascii"]
    else:  # the ASCII text alone, as the ASCII group gives it
        del test["list"]
        group = {**group, "type": "ImaAsciiReplayTest"}
    assert run_ima_replay(group, test) is None
    test["replay"]["entries"] = 3
    assert run_ima_replay(group, test) is not None


def test_every_valid_binary_ima_vector_but_one_has_its_ascii_twin() -> None:
    binary = [t for g, t in _ima_tests() if g["type"] == "ImaReplayTest"]
    lacking = [t["comment"] for t in binary if t["result"] == "valid" and "ascii" not in t]
    assert lacking == ["an unknown template (binary only)"]


def test_ima_violation_vector_matches_hashlib() -> None:
    """sha1 PCR 10 = fold of H(old || template hash) with all-ff for the violation."""
    _, test = _ima("a violation between two entries")
    data = bytes.fromhex(test["list"])
    value, pos = bytes(20), 0
    while pos < len(data):
        thash = data[pos + 4 : pos + 24]
        name_len = int.from_bytes(data[pos + 24 : pos + 28], "little")
        at = pos + 28 + name_len
        data_len = int.from_bytes(data[at : at + 4], "little")
        value = hashlib.sha1(value + (b"\xff" * 20 if thash == bytes(20) else thash)).digest()
        pos = at + 4 + data_len
    assert test["replay"]["pcrs"]["sha1"]["10"] == value.hex()
    assert test["replay"]["violations"] == 1


def test_ima_ascii_and_sha384_match_hashlib() -> None:
    """The legacy `ima` line and hash from IMA-templates.rst's rule, built by hand; the
    sha384 bank from H384 over the template data, all-ff for the violation."""
    _, legacy = _ima("legacy ima")
    digest = hashlib.sha1(b"/init").digest()
    thash = hashlib.sha1(digest + b"/init".ljust(256, b"\x00")).digest()
    assert legacy["ascii"] == f"10 {thash.hex()} ima {digest.hex()} /init\n"
    assert legacy["replay"]["pcrs"]["sha1"]["10"] == hashlib.sha1(bytes(20) + thash).hexdigest()
    group, test = _ima("ima-ng, a violation and ima-sig into sha1, sha256 and sha384")
    assert group["banks"] == ["sha1", "sha256", "sha384"]
    data, pos, value = bytes.fromhex(test["list"]), 0, bytes(48)
    while pos < len(data):
        violation = data[pos + 4 : pos + 24] == bytes(20)
        at = pos + 28 + int.from_bytes(data[pos + 24 : pos + 28], "little")
        size = int.from_bytes(data[at : at + 4], "little")
        measured = b"\xff" * 48 if violation else hashlib.sha384(data[at + 4 : at + 4 + size])
        step = measured if isinstance(measured, bytes) else measured.digest()
        value = hashlib.sha384(value + step).digest()
        pos = at + 4 + size
    assert test["replay"]["pcrs"]["sha384"]["10"] == value.hex()
