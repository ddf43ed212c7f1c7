"""Against real firmware's TPM: a log's replay equals what swtpm (libtpms) holds.

A generated crypto-agile log (tests/eventlog_strategies.py `tpm_boots`) says: TPM2_Startup
at locality 0 or 3 (StartupLocality event), optionally an H-CRTM sequence before it
(EV_EFI_HCRTM_EVENT whose digests are H(measured data)), then events in PCRs 0-16 and 23.
The same boot is executed on swtpm: `swtpm_ioctl -h` (H-CRTM, before Startup), a raw
TPM2_Startup(CLEAR) at that locality, and each event's digests through tpm2_pcrextend at
locality 0 (several events per call, in log order). tpm2_pcrread then gives the PCRs; spec
and impl replays must equal them for every PCR the log names, and verify_event_log must
say `match`. The CLI (`python -m chainoftrust eventlog verify LOG --pcrs FILE --json`)
reads the tpm2_pcrread output itself: exit 0 / match, and exit 1 / mismatch when one PCR
value in the file is altered.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from chainoftrust.impl import eventlog as impl
from chainoftrust.spec import eventlog as spec
from hypothesis import event, given, settings
from hypothesis import strategies as st

from tests.conftest import IN_CI, require_tools
from tests.eventlog_strategies import (
    EVENT_TYPES,
    HCRTM_DATA,
    LOG_ALGORITHMS,
    EventLogModel,
    LogEvent,
    SpecIdFields,
    TpmBoot,
    no_action_event,
    startup_locality_data,
    tpm_boots,
)
from tests.real.swtpm import Swtpm

pytestmark = pytest.mark.swtpm

EXAMPLES = 50 if IN_CI else 15
TOOLS = ("swtpm", "swtpm_ioctl", "tpm2_pcrextend", "tpm2_pcrread")
_EXTENDS_PER_CALL = 8
_CLI = (sys.executable, "-m", "chainoftrust")
_BANK = re.compile(r"^\s*(\w+):\s*$")
_VALUE = re.compile(r"^\s*(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$")

PcrValues = dict[str, dict[int, bytes]]


def _run_on_tpm(tpm: Swtpm, boot: TpmBoot) -> tuple[PcrValues, str]:
    """Execute `boot` on a fresh swtpm; (PCR values of every bank, tpm2_pcrread's text)."""
    banks = list(boot.model.banks)
    tpm.fresh(banks)
    if boot.hcrtm_data is not None:
        tpm.hash_sequence(boot.hcrtm_data)  # _TPM_Hash_Start/Data/End before Startup
    tpm.set_locality(boot.locality)
    assert tpm.startup("clear") == 0, "TPM2_Startup(CLEAR) refused"
    tpm.set_locality(0)
    specs = [
        f"{pcr}:" + ",".join(f"{name}={digest.hex()}" for name, digest in digests)
        for pcr, digests in boot.extends
    ]
    for at in range(0, len(specs), _EXTENDS_PER_CALL):
        done = tpm.tool("tpm2_pcrextend", *specs[at : at + _EXTENDS_PER_CALL])
        assert isinstance(done, subprocess.CompletedProcess), f"tpm2_pcrextend refused: {done}"
    read = tpm.tool("tpm2_pcrread", "+".join(f"{b}:all" for b in banks))
    assert isinstance(read, subprocess.CompletedProcess), f"tpm2_pcrread refused: {read}"
    return _read_pcrread(read.stdout), read.stdout


def _read_pcrread(text: str) -> PcrValues:
    """tpm2_pcrread's YAML, read here (not by the code under test)."""
    values: PcrValues = {}
    bank = None
    for line in text.splitlines():
        if match := _BANK.match(line):
            bank = match.group(1)
            values[bank] = {}
        elif (match := _VALUE.match(line)) and bank is not None:
            values[bank][int(match.group(1))] = bytes.fromhex(match.group(2))
    return values


def _named_pcrs(model: EventLogModel) -> set[int]:
    """PCRs the log names: every extending event's PCR, and PCR 0 (StartupLocality)."""
    return {0} | {e.pcr for e in model.events if e.type != EVENT_TYPES["EV_NO_ACTION"]}


def _check_against_tpm(boot: TpmBoot, tpm_values: PcrValues) -> None:
    data = boot.model.to_bytes()
    named = _named_pcrs(boot.model)
    for side in (spec, impl):
        log = side.parse_event_log(data)
        replay = side.replay_event_log(log).to_json()
        assert list(replay["pcrs"]) == list(boot.model.banks)
        for bank, pcrs in replay["pcrs"].items():
            assert {int(p) for p in pcrs} == named, side.__name__
            for pcr, value in pcrs.items():
                assert value == tpm_values[bank][int(pcr)].hex(), (
                    f"{side.__name__}: {bank} PCR {pcr} replays to {value}, "
                    f"swtpm has {tpm_values[bank][int(pcr)].hex()}"
                )
        supplied = {b: {p: tpm_values[b][p] for p in named} for b in boot.model.banks}
        verdict = side.verify_event_log(log, supplied).to_json()
        assert verdict["result"] == "match", verdict
        assert {r["status"] for r in verdict["pcrs"]} == {"matched"}
        everything = side.verify_event_log(log, tpm_values).to_json()
        assert everything["result"] == "match"
        assert sum(r["status"] == "not_in_log" for r in everything["pcrs"]) == (
            len(tpm_values) * (24 - len(named))
        )


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require_tools(*TOOLS)


@settings(max_examples=EXAMPLES, derandomize=True)
@given(boot=st.sampled_from((("sha1", "sha256"), ("sha1", "sha256", "sha384"))).flatmap(tpm_boots))
def test_generated_logs_replay_to_the_tpm_pcrs(swtpm: Swtpm, boot: TpmBoot) -> None:
    event(f"startup locality {boot.locality}, H-CRTM {boot.hcrtm_data is not None}")
    event(f"{len(boot.model.banks)} banks")
    event(f"logged StartupLocality {boot.model.events[0].data[-1]}")
    if any(len(d) < len(boot.model.banks) for _pcr, d in boot.extends):
        event("an event misses a bank")
    tpm_values, _text = _run_on_tpm(swtpm, boot)
    _check_against_tpm(boot, tpm_values)


def _h(name: str, data: bytes) -> bytes:
    return hashlib.new(name, data).digest()


def _boot(
    locality: int,
    hcrtm: bytes | None,
    banks: tuple[str, ...],
    pcrs: list[int],
    logged_locality: int | None = None,
) -> TpmBoot:
    """An explicit log: StartupLocality (`logged_locality`, default the Startup locality),
    optional H-CRTM, one EV_EFI_ACTION per PCR."""
    spec_banks = tuple(LOG_ALGORITHMS[n] for n in banks)
    logged = locality if logged_locality is None else logged_locality
    events = [no_action_event(spec_banks, startup_locality_data(logged))]
    if hcrtm is not None:
        digests = tuple((LOG_ALGORITHMS[n][0], _h(n, hcrtm)) for n in banks)
        events.append(LogEvent(0, EVENT_TYPES["EV_EFI_HCRTM_EVENT"], digests, HCRTM_DATA))
    extends = []
    for pcr in pcrs:
        text = f"event in PCR {pcr}".encode()
        digests_by_name = tuple((n, _h(n, text)) for n in banks)
        extends.append((pcr, digests_by_name))
        digests = tuple((LOG_ALGORITHMS[n][0], d) for n, d in digests_by_name)
        events.append(LogEvent(pcr, EVENT_TYPES["EV_EFI_ACTION"], digests, text))
    model = EventLogModel(SpecIdFields(spec_banks), tuple(events))
    return TpmBoot(model, locality, hcrtm, tuple(extends))


def test_locality_3_with_hcrtm(swtpm: Swtpm) -> None:
    """PCR 0 = H(H(0..04 || H(crtm)) || H(event)) in each bank (ms-tpm-20-ref PcrDrtm
    before Startup; TPM 2.0 Part 3 TPM2_PCR_Extend), from hashlib and from swtpm."""
    banks = ("sha1", "sha256", "sha384")
    boot = _boot(3, b"crtm image", banks, [0, 7, 16, 23])
    tpm_values, _text = _run_on_tpm(swtpm, boot)
    for name in banks:
        size = LOG_ALGORITHMS[name][1]
        start = bytes(size - 1) + b"\x04"
        pcr0 = _h(name, _h(name, start + _h(name, b"crtm image")) + _h(name, b"event in PCR 0"))
        assert tpm_values[name][0] == pcr0
    _check_against_tpm(boot, tpm_values)


def test_startup_locality_4_logged_with_hcrtm(swtpm: Swtpm) -> None:
    """edk2 logs StartupLocality 4 then the H-CRTM event; the TPM started at locality 0."""
    boot = _boot(0, b"hcrtm", ("sha1", "sha256"), [0, 1], logged_locality=4)
    tpm_values, _text = _run_on_tpm(swtpm, boot)
    _check_against_tpm(boot, tpm_values)


def test_locality_0_across_pcrs(swtpm: Swtpm) -> None:
    boot = _boot(0, None, ("sha1", "sha256"), [*range(17), 23, 4, 4])
    tpm_values, _text = _run_on_tpm(swtpm, boot)
    assert tpm_values["sha256"][1] == _h("sha256", bytes(32) + _h("sha256", b"event in PCR 1"))
    _check_against_tpm(boot, tpm_values)


def test_startup_locality_3_without_extends_of_pcr_0(swtpm: Swtpm) -> None:
    """The StartupLocality event alone names PCR 0: 00..03 (PTP; MSREF PCRStartup)."""
    boot = _boot(3, None, ("sha1", "sha256"), [5])
    tpm_values, _text = _run_on_tpm(swtpm, boot)
    assert tpm_values["sha1"][0] == bytes(19) + b"\x03"
    _check_against_tpm(boot, tpm_values)


def _cli_verify(log: Path, pcrs: Path) -> tuple[int, dict[str, object]]:
    done = subprocess.run(
        [*_CLI, "eventlog", "verify", str(log), "--pcrs", str(pcrs), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, json.loads(done.stdout)


def test_cli_verify_reads_tpm2_pcrread_output(swtpm: Swtpm, tmp_path: Path) -> None:
    boot = _boot(3, b"firmware volume", ("sha1", "sha256"), [0, 2, 7, 14, 23])
    _values, text = _run_on_tpm(swtpm, boot)
    log = tmp_path / "binary_bios_measurements"
    log.write_bytes(boot.model.to_bytes())
    assert spec.parse_pcr_values(text) == impl.parse_pcr_values(text) == _read_pcrread(text)
    pcrs = tmp_path / "pcrs.yaml"
    pcrs.write_text(text)
    code, verdict = _cli_verify(log, pcrs)
    assert code == 0, verdict
    assert verdict["result"] == "match"
    # alter one value of a PCR the log names (sha256 PCR 7): exit 1, mismatch there
    lines = text.splitlines(keepends=True)
    bank = None
    for i, line in enumerate(lines):
        if match := _BANK.match(line):
            bank = match.group(1)
        elif (match := _VALUE.match(line)) and bank == "sha256" and match.group(1) == "7":
            digit = "0" if match.group(2)[-1] != "0" else "1"
            lines[i] = line.rstrip()[:-1] + digit + "\n"
    pcrs.write_text("".join(lines))
    code, verdict = _cli_verify(log, pcrs)
    assert code == 1, verdict
    assert verdict["result"] == "mismatch"
    assert verdict["firstMismatch"] == {"bank": "sha256", "pcr": 7}
