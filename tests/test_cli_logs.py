"""The CLI's event-log and IMA commands, end to end on the real data of ../shared/conformance:
exit codes, JSON shapes of the issue's contract, and values from the cases' sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


def _need_conformance() -> None:
    if not CONFORMANCE.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CONFORMANCE} is missing (CI=true: a failure, not a skip)")
        pytest.skip(f"{CONFORMANCE} is missing")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainoftrust", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _case(name: str) -> tuple[Path, dict[str, object]]:
    _need_conformance()
    folder = CONFORMANCE / "eventlog" / name
    return folder, json.loads((folder / "expected.json").read_text(encoding="utf-8"))


def _tpm2_pcrread_text(pcrs: dict[str, dict[str, str]]) -> str:
    """The YAML that tpm2_pcrread prints (tpm2-tools 5.x), for the given values."""
    lines = []
    for bank, values in pcrs.items():
        lines.append(f"  {bank}:")
        for index in sorted(values, key=int):
            lines.append(f"    {int(index):<2}: 0x{values[index].upper()}")
    return "\n".join(lines) + "\n"


def test_eventlog_replay_json_matches_the_machine_s_pcrs() -> None:
    folder, expected = _case("gtt-gdc-host-startup-locality3")
    out = run("eventlog", "replay", str(folder / "eventlog.bin"), "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"pcrs", "warnings"}
    for bank, values in expected["expected_pcrs"].items():  # type: ignore[attr-defined]
        for index, value in values.items():
            assert result["pcrs"][bank][index] == value, (bank, index)


def test_eventlog_verify_exit_codes(tmp_path: Path) -> None:
    folder, expected = _case("gtt-gdc-host-startup-locality3")
    pcrs = expected["expected_pcrs"]
    good = tmp_path / "pcrs.yaml"
    good.write_text(_tpm2_pcrread_text(pcrs), encoding="utf-8")  # type: ignore[arg-type]
    ok = run("eventlog", "verify", str(folder / "eventlog.bin"), "--pcrs", str(good), "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    verdict = json.loads(ok.stdout)
    assert verdict["result"] == "match"
    assert "trusted" not in json.dumps(verdict["claims"]).lower()
    bad_values = {b: dict(v) for b, v in pcrs.items()}  # type: ignore[attr-defined]
    bad_values["sha256"]["7"] = "00" * 32
    bad = tmp_path / "bad.yaml"
    bad.write_text(_tpm2_pcrread_text(bad_values), encoding="utf-8")
    no = run("eventlog", "verify", str(folder / "eventlog.bin"), "--pcrs", str(bad), "--json")
    assert no.returncode == 1
    verdict = json.loads(no.stdout)
    assert verdict["result"] == "mismatch"
    assert verdict["firstMismatch"] == {"bank": "sha256", "pcr": 7}


def test_eventlog_show_lists_events_by_name() -> None:
    folder, _ = _case("gtt-gdc-host-startup-locality3")
    out = run("eventlog", "show", str(folder / "eventlog.bin"))
    assert out.returncode == 0, out.stderr
    assert "EV_SEPARATOR" in out.stdout and "EV_EFI_VARIABLE_DRIVER_CONFIG" in out.stdout


def test_eventlog_truncated_log_is_a_typed_error() -> None:
    folder, expected = _case("derived-neg-rhel8-truncated")
    assert expected["expected_result"] == "reject"
    out = run("eventlog", "replay", str(folder / "eventlog.bin"), "--json")
    assert out.returncode == 1
    error = json.loads(out.stdout)["error"]
    assert error["code"] == "TRUNCATED"
    # the byte offset is in the error object, and it is the spec's (the other reading)
    from chainoftrust.spec.errors import MalformedInputError
    from chainoftrust.spec.eventlog import parse_event_log

    try:
        parse_event_log((folder / "eventlog.bin").read_bytes())
    except MalformedInputError as err:
        assert (error["code"], error["offset"]) == (str(err.code), err.offset)
    else:
        raise AssertionError("the spec accepts the truncated log")
    text = run("eventlog", "replay", str(folder / "eventlog.bin"))
    assert f"at offset {error['offset']}" in text.stderr
    assert "Traceback" not in out.stderr


def test_eventlog_unreadable_file_exits_2(tmp_path: Path) -> None:
    out = run("eventlog", "replay", str(tmp_path / "absent.bin"))
    assert out.returncode == 2
    assert "cannot read" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    "case", ["sml-ima-ng-sha1", "sml-ima-sha1", "sml-ima-sig-sha256", "sml-ima-sha1-invalidated"]
)
def test_ima_replay_gives_the_case_s_pcr10(case: str) -> None:
    _need_conformance()
    folder = CONFORMANCE / "ima" / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    args = ["ima", "replay", str(folder / "binary_runtime_measurements"), "--json"]
    if expected["trailing_bytes"]:
        args.append("--allow-partial-tail")
    out = run(*args)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["pcrs"]["sha1"]["10"] == expected["pcr10_sha1_aggregate"]
    assert result["entries"] == expected["entries"]
    assert result["violations"] == expected["violations"]
    assert result["templateHashFailures"] == []


def test_ima_trailing_bytes_are_refused_unless_allowed() -> None:
    _need_conformance()
    path = CONFORMANCE / "ima" / "sml-ima-ng-sha1" / "binary_runtime_measurements"
    out = run("ima", "replay", str(path), "--json")
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"]["code"] == "TRUNCATED"


def test_ima_verify_matches_a_prefix_and_rejects_a_wrong_value(tmp_path: Path) -> None:
    _need_conformance()
    folder = CONFORMANCE / "ima" / "sml-ima-ng-sha1"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    listing = str(folder / "binary_runtime_measurements")
    good = tmp_path / "pcrs.json"
    good.write_text(json.dumps({"sha1": {"10": expected["pcr10_sha1_aggregate"]}}), "utf-8")
    ok = run("ima", "verify", listing, "--allow-partial-tail", "--pcrs", str(good), "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert json.loads(ok.stdout)["matchedEntries"] == expected["entries"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sha1": {"10": "11" * 20}}), "utf-8")
    no = run("ima", "verify", listing, "--allow-partial-tail", "--pcrs", str(bad), "--json")
    assert no.returncode == 1
    assert json.loads(no.stdout)["result"] == "mismatch"
