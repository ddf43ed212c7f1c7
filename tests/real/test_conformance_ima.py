"""Real IMA lists (../shared/conformance/ima/*/): impl (and spec when present) against each
case's expected.json.

expected.json gives `entries`, `violations`, `trailing_bytes` (bytes after the last
complete entry; -1 = the last entry is one byte short), `pcr10_sha1_aggregate` (SHA-1
extends of every entry's template hash, 0xff.. for violations, from zero; the cases'
entries all name one PCR, 10 except one invalidated case whose entry names 13) and
`expected_result: template-hashes-valid`.
"""

from __future__ import annotations

import importlib
import json
import os
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
IMA_DIR = CONFORMANCE / "ima"
CASES = sorted(p.parent.name for p in IMA_DIR.glob("*/expected.json"))


def _require_conformance() -> None:
    if not IMA_DIR.is_dir() or not CASES:
        message = f"conformance data missing: {IMA_DIR}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _sides() -> list[str]:
    try:
        importlib.import_module("chainoftrust.spec.ima")
    except ImportError:
        return ["impl"]
    return ["impl", "spec"]


def _module(side: str) -> ModuleType:
    return importlib.import_module(f"chainoftrust.{side}.ima")


def _errors(side: str) -> type[Exception]:
    return importlib.import_module(f"chainoftrust.{side}.errors").MalformedInputError  # type: ignore[no-any-return]


def _case(name: str) -> tuple[dict[str, Any], bytes]:
    folder = IMA_DIR / name
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    return expected, (folder / expected["files"]["log"]).read_bytes()


def _check_complete_list(mod: ModuleType, expected: dict[str, Any], log: Any) -> None:
    assert len(log.entries) == expected["entries"]
    assert sum(e.violation for e in log.entries) == expected["violations"]
    assert set(expected["templates"]) == {e.template_name for e in log.entries}
    assert expected["expected_result"] == "template-hashes-valid"
    assert tuple(mod.check_template_hashes(log)) == ()
    replay = mod.replay_ima(log, ("sha1",)).to_json()
    assert replay["entries"] == expected["entries"]
    assert replay["violations"] == expected["violations"]
    assert replay["templateHashFailures"] == []
    (pcr,) = {e.pcr for e in log.entries}
    assert replay["pcrs"]["sha1"] == {str(pcr): expected["pcr10_sha1_aggregate"]}
    # the value read with the list verifies it, at its full length
    value = {"sha1": {pcr: bytes.fromhex(expected["pcr10_sha1_aggregate"])}}
    verdict = mod.verify_ima(log, value).to_json()
    assert verdict["result"] == "match"
    assert verdict["matchedEntries"] in range(expected["entries"] + 1)


@pytest.mark.parametrize("side", _sides())
@pytest.mark.parametrize("name", CASES or ["(none)"])
def test_conformance_case(side: str, name: str) -> None:
    _require_conformance()
    mod = _module(side)
    expected, data = _case(name)
    assert expected["category"] == "ima"
    trailing = expected["trailing_bytes"]
    if trailing == -1:
        # the last entry is one byte short: strict parsing fails closed at its start, the
        # tolerant parse keeps the complete entries before it and counts the rest as tail
        with pytest.raises(_errors(side)) as info:
            mod.parse_ima_binary(data)
        assert str(info.value.code) == "TRUNCATED"
        start = info.value.offset
        partial = mod.parse_ima_binary(data, allow_partial_tail=True)
        assert partial.tail == len(data) - start
        assert len(partial.entries) == expected["entries"] - 1
        # the missing byte is the NUL that ends the last n-ng name: with it, the list is whole
        _check_complete_list(mod, expected, mod.parse_ima_binary(data + b"\x00"))
        return
    if trailing:
        with pytest.raises(_errors(side)) as info:
            mod.parse_ima_binary(data)
        assert str(info.value.code) == "TRUNCATED"
        assert info.value.offset == len(data) - trailing
    log = mod.parse_ima_binary(data, allow_partial_tail=True)
    assert log.tail == trailing
    _check_complete_list(mod, expected, log)


@pytest.mark.parametrize("name", CASES or ["(none)"])
def test_conformance_ascii_round_trip(name: str) -> None:
    """The ASCII form the kernel would print for each list parses to the same entries."""
    _require_conformance()
    mod = _module("impl")
    expected, data = _case(name)
    if expected["trailing_bytes"] == -1:
        data += b"\x00"
    log = mod.parse_ima_binary(data, allow_partial_tail=True)
    lines = []
    for e in log.entries:
        fields = e.fields
        assert fields is not None
        parts = [
            fields["digest"]
            if e.template_name == "ima"
            else f"{fields['digestAlg']}:{fields['digest']}",
            fields["name"],
        ]
        if e.template_name == "ima-sig":
            parts.append(fields["signature"])
        lines.append(f"{e.pcr:2d} {e.template_hash.hex()} {e.template_name} " + " ".join(parts))
    text = "\n".join(lines) + "\n"
    ascii_log = mod.parse_ima_ascii(text)
    assert [e.to_json() for e in ascii_log.entries] == [e.to_json() for e in log.entries]


@pytest.mark.parametrize("side", _sides())
def test_sides_agree_on_every_case(side: str) -> None:
    _require_conformance()
    if side == "impl":
        return
    impl, spec = _module("impl"), _module("spec")
    for name in CASES:
        _, data = _case(name)
        a = impl.parse_ima_binary(data, allow_partial_tail=True)
        b = spec.parse_ima_binary(data, allow_partial_tail=True)
        assert [e.to_json() for e in a.entries] == [e.to_json() for e in b.entries], name
        assert impl.replay_ima(a).to_json()["pcrs"] == spec.replay_ima(b).to_json()["pcrs"], name
