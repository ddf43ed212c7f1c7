"""The event-log replay vectors: valid against their schema, reproduced by impl, and
anchored to hashlib for the values a reader can recompute by hand."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from chainoftrust.impl.vectors_logs import run_eventlog_replay
from jsonschema import Draft202012Validator

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
FILE = VECTORS / "eventlog" / "eventlog_replay_test.json"
SCHEMA = VECTORS / "schemas" / "eventlog_replay_schema_v1.json"


def _content() -> dict[str, Any]:
    return json.loads(FILE.read_text(encoding="utf-8"))


def _tests() -> list[dict[str, Any]]:
    return [t for g in _content()["testGroups"] for t in g["tests"]]


def test_the_file_validates_and_the_schema_has_teeth() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    content = _content()
    validator.validate(content)
    broken = json.loads(json.dumps(content))
    broken["testGroups"][0]["tests"][0]["result"] = "invalid"  # invalid without errorCode
    assert not validator.is_valid(broken)


def test_tcids_flags_and_notes() -> None:
    content = _content()
    tests = _tests()
    assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
    assert content["numberOfTests"] == len(tests)
    used = {f for t in tests for f in t["flags"]}
    assert used == set(content["notes"])


def test_impl_reproduces_every_vector() -> None:
    failures = [(t["tcId"], run_eventlog_replay({}, t)) for t in _tests()]
    assert [f for f in failures if f[1] is not None] == []


def test_a_tampered_vector_fails() -> None:
    test = next(t for t in _tests() if t["comment"] == "startup locality 3")
    test["replay"]["pcrs"]["sha256"]["0"] = "00" * 32
    assert run_eventlog_replay({}, test) is not None


def test_startup_locality_3_vector_matches_hashlib() -> None:
    """PCR 0 starts 00..03 and is never extended here: its value is that start value;
    PCR 7 is sha256(0^32 || sha256(00000000)) for the separator."""
    test = next(t for t in _tests() if t["comment"] == "startup locality 3")
    pcrs = test["replay"]["pcrs"]["sha256"]
    assert pcrs["0"] == (bytes(31) + b"\x03").hex()
    sep = hashlib.sha256(bytes(4)).digest()
    assert pcrs["7"] == hashlib.sha256(bytes(32) + sep).hexdigest()


# ------------------------------------------------------------------- IMA replay vectors

IMA_FILE = VECTORS / "ima" / "ima_replay_test.json"
IMA_SCHEMA = VECTORS / "schemas" / "ima_replay_schema_v1.json"


def _ima_tests() -> list[dict[str, Any]]:
    content = json.loads(IMA_FILE.read_text(encoding="utf-8"))
    return [t for g in content["testGroups"] for t in g["tests"]]


def test_ima_file_validates_and_impl_reproduces_it() -> None:
    from chainoftrust.impl.vectors_ima import run_ima_replay

    content = json.loads(IMA_FILE.read_text(encoding="utf-8"))
    schema = json.loads(IMA_SCHEMA.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    validator.validate(content)
    tests = _ima_tests()
    assert [t["tcId"] for t in tests] == list(range(1, len(tests) + 1))
    assert {f for t in tests for f in t["flags"]} == set(content["notes"])
    assert [(t["tcId"], run_ima_replay({}, t)) for t in tests if run_ima_replay({}, t)] == []
    tampered = next(t for t in tests if t["comment"] == "two ima-ng entries")
    tampered["replay"]["entries"] = 3
    assert run_ima_replay({}, tampered) is not None


def test_ima_violation_vector_matches_hashlib() -> None:
    """sha1 PCR 10 = fold of H(old || template hash) with all-ff for the violation."""
    test = next(t for t in _ima_tests() if t["comment"] == "a violation between two entries")
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
