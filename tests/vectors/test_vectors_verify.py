"""The verdict vectors (eventlog_verify, ima_verify): schema with teeth, impl passes them,
a tampered vector fails, and the supplied values of the bug-class vectors are what the
named buggy replayer computes (recomputed here with hashlib, not with the spec)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from chainoftrust.impl.vectors_verify import run_eventlog_verify, run_ima_verify
from jsonschema import Draft202012Validator

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
LOG_FILE = VECTORS / "eventlog" / "eventlog_verify_test.json"
IMA_FILE = VECTORS / "ima" / "ima_verify_test.json"


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _tests(path: Path) -> list[dict[str, Any]]:
    return [t for g in _load(path)["testGroups"] for t in g["tests"]]


def _by_flag(path: Path, flag: str) -> list[dict[str, Any]]:
    return [t for t in _tests(path) if flag in t["flags"]]


def test_impl_passes_every_verdict_vector() -> None:
    for path, run in ((LOG_FILE, run_eventlog_verify), (IMA_FILE, run_ima_verify)):
        group = _load(path)["testGroups"][0]
        failures = [(t["tcId"], run(group, t)) for t in group["tests"]]
        assert [f for f in failures if f[1] is not None] == []
        assert len(failures) >= 8


def test_a_tampered_verdict_vector_fails() -> None:
    group = _load(LOG_FILE)["testGroups"][0]
    test = copy.deepcopy(next(t for t in group["tests"] if t["verdict"]["result"] == "match"))
    test["verdict"]["result"] = "mismatch"
    assert run_eventlog_verify(group, test) is not None
    test = copy.deepcopy(_by_flag(LOG_FILE, "Mismatch")[0])
    test["verdict"]["firstMismatch"] = None
    assert run_eventlog_verify(group, test) is not None


def test_schemas_have_teeth() -> None:
    for path in (LOG_FILE, IMA_FILE):
        content = _load(path)
        validator = Draft202012Validator(_load(VECTORS / "schemas" / content["schema"]))
        assert validator.is_valid(content)
        broken = copy.deepcopy(content)
        broken["testGroups"][0]["tests"][0]["verdict"]["result"] = "trusted"
        assert not validator.is_valid(broken)
        broken = copy.deepcopy(content)
        del broken["testGroups"][0]["tests"][0]["pcrs"]
        assert not validator.is_valid(broken)


def _extend(name: str, old: bytes, digest: bytes) -> bytes:
    return hashlib.new(name, old + digest).digest()


def test_zero_start_and_ignored_locality_values_are_the_naive_replays() -> None:
    """hashlib: PCR 17 from zero (not ff), PCR 0 from zero (not 00..03 / 00..04)."""
    for flag, pcr, data in (
        ("ZeroStartDrtm", 17, b"acm"),
        ("IgnoresStartupLocality", 0, b"post"),
        ("IgnoresHcrtm", 0, b"hcrtm"),
    ):
        (test,) = _by_flag(LOG_FILE, flag)
        for bank in ("sha1", "sha256"):
            size = hashlib.new(bank).digest_size
            naive = _extend(bank, bytes(size), hashlib.new(bank, data).digest())
            assert test["pcrs"][bank][str(pcr)] == naive.hex(), flag
        assert test["verdict"]["result"] == "mismatch"
        assert test["verdict"]["firstMismatch"] == {"bank": "sha1", "pcr": pcr}


def test_the_honoured_twins_match_hashlib_replays() -> None:
    matched = {t["comment"]: t for t in _by_flag(LOG_FILE, "AllMatch")}
    drtm = matched["DRTM PCRs 17-18 from ff"]
    start = b"\xff" * 32
    assert (
        drtm["pcrs"]["sha256"]["17"]
        == _extend("sha256", start, hashlib.sha256(b"acm").digest()).hex()
    )
    loc3 = matched["StartupLocality 3 honoured"]
    start = bytes(31) + b"\x03"
    assert (
        loc3["pcrs"]["sha256"]["0"]
        == _extend("sha256", start, hashlib.sha256(b"post").digest()).hex()
    )
    for test in (drtm, loc3):
        assert test["verdict"]["result"] == "match"


def test_ima_violation_vectors() -> None:
    """A violation extends all-ff (the kernel's substitution); zeros is the bug."""
    (naive,) = _by_flag(IMA_FILE, "ViolationAsZeros")
    assert naive["verdict"]["result"] == "mismatch"
    # hashlib: PCR 10 (sha1) = H(H(0^20 || template hash of entry 0) || 0^20), the violation
    # extended as its zero template hash instead of ff..ff
    first_hash = bytes.fromhex(naive["list"])[4:24]
    zeros = hashlib.sha1(hashlib.sha1(bytes(20) + first_hash).digest() + bytes(20)).hexdigest()
    assert naive["pcrs"]["sha1"]["10"] == zeros
    (grew,) = _by_flag(IMA_FILE, "ListGrew")
    assert grew["verdict"] == {**grew["verdict"], "result": "match", "matchedEntries": 2}
