"""impl.eventlog: logs built byte by byte from the PFP structures, expected values from hashlib.

Structures (TCG PC Client PFP 1.05r23): TCG_PCR_EVENT = u32 PCRIndex, u32 EventType,
Digest[20], u32 EventSize, Event; TCG_PCR_EVENT2 = u32 PCRIndex, u32 EventType,
u32 count, {u16 hashAlg, digest}[count], u32 EventSize, Event; TCG_EfiSpecIdEvent;
TCG_EfiStartupLocalityEvent; UEFI_VARIABLE_DATA; UEFI_GPT_DATA. All little-endian.
"""

from __future__ import annotations

import hashlib
import json
import struct
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.eventlog import (
    EventType,
    check_event_data,
    format_event_table,
    format_verdict,
    parse_event_log,
    parse_pcr_values,
    replay_event_log,
    verify_event_log,
)

SHA1, SHA256, SHA384 = 0x0004, 0x000B, 0x000C
HASH: dict[int, Callable[[bytes], Any]] = {
    SHA1: hashlib.sha1,
    SHA256: hashlib.sha256,
    SHA384: hashlib.sha384,
}
NAME = {SHA1: "sha1", SHA256: "sha256", SHA384: "sha384"}
SIZE = {SHA1: 20, SHA256: 32, SHA384: 48}
EV_NO_ACTION, EV_SEPARATOR, EV_ACTION, EV_EVENT_TAG = 3, 4, 5, 6
EV_S_CRTM_VERSION, EV_PLATFORM_CONFIG_FLAGS, EV_TABLE_OF_DEVICES = 8, 0xA, 0xB
EV_IPL, EV_NONHOST_INFO, EV_OMIT_BOOT_DEVICE_EVENTS = 0xD, 0x11, 0x12
EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_VARIABLE_BOOT = 0x80000001, 0x80000002
EV_EFI_BOOT_SERVICES_APPLICATION, EV_EFI_GPT_EVENT = 0x80000003, 0x80000006
EV_EFI_ACTION, EV_EFI_VARIABLE_BOOT2 = 0x80000007, 0x8000000C
EV_EFI_HCRTM_EVENT, EV_EFI_VARIABLE_AUTHORITY = 0x80000010, 0x800000E0
GLOBAL_VARIABLE = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")  # EFI_GLOBAL_VARIABLE GUID


def h(alg: int, data: bytes) -> bytes:
    return HASH[alg](data).digest()


def ext(alg: int, old: bytes, digest: bytes) -> bytes:
    return h(alg, old + digest)


def sha1_record(pcr: int, etype: int, digest: bytes, data: bytes) -> bytes:
    return struct.pack("<II", pcr, etype) + digest + struct.pack("<I", len(data)) + data


def spec_id(
    algs: Sequence[tuple[int, int]] = ((SHA1, 20), (SHA256, 32)),
    *,
    vendor: bytes = b"",
    major: int = 2,
    minor: int = 0,
    count: int | None = None,
    vendor_size: int | None = None,
) -> bytes:
    body = b"Spec ID Event03\x00" + struct.pack(
        "<IBBBBI", 0, minor, major, 2, 2, len(algs) if count is None else count
    )
    body += b"".join(struct.pack("<HH", a, s) for a, s in algs)
    body += bytes([len(vendor) if vendor_size is None else vendor_size]) + vendor
    return sha1_record(0, EV_NO_ACTION, bytes(20), body)


def record2(pcr: int, etype: int, digests: Sequence[tuple[int, bytes]], data: bytes) -> bytes:
    out = struct.pack("<III", pcr, etype, len(digests))
    out += b"".join(struct.pack("<H", a) + d for a, d in digests)
    return out + struct.pack("<I", len(data)) + data


def measured(
    pcr: int,
    etype: int,
    data: bytes,
    algs: Sequence[int] = (SHA1, SHA256),
    over: bytes | None = None,
) -> bytes:
    """A TCG_PCR_EVENT2 whose digests are H(over or data) in each bank."""
    return record2(pcr, etype, [(a, h(a, data if over is None else over)) for a in algs], data)


def locality_event(value: int, pcr: int = 0) -> bytes:
    data = b"StartupLocality\x00" + bytes([value])
    return record2(pcr, EV_NO_ACTION, [(SHA1, bytes(20)), (SHA256, bytes(32))], data)


def uefi_variable(name: str, value: bytes, guid: bytes = GLOBAL_VARIABLE) -> bytes:
    return guid + struct.pack("<QQ", len(name), len(value)) + name.encode("utf-16-le") + value


def start(alg: int, pcr: int) -> bytes:
    """PCR value after TPM2_Startup(CLEAR) (PC Client: 17-22 all ones, others zero)."""
    return b"\xff" * SIZE[alg] if 17 <= pcr <= 22 else bytes(SIZE[alg])


def codes(warnings: Sequence[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """The findings other than amendment 3's MISSING_SEPARATOR (tested on its own below:
    most logs here are too short to carry separators)."""
    return [(w["code"], w["event"]) for w in warnings if w["code"] != "MISSING_SEPARATOR"]


def event_findings(replay: Any) -> list[Any]:
    return [w for w in replay.warnings if w.code != "MISSING_SEPARATOR"]


SEP0 = b"\x00\x00\x00\x00"


# ---------------------------------------------------------------- parsing and formats


def test_crypto_agile_replay_equals_hashlib() -> None:
    crtm = measured(0, EV_S_CRTM_VERSION, b"1\x002\x00")
    ipl = measured(8, EV_IPL, b"grub_cmd: linux /vmlinuz")
    log_bytes = spec_id() + crtm + measured(0, EV_SEPARATOR, SEP0) + ipl
    log = parse_event_log(log_bytes)
    assert log.format == "crypto-agile"
    assert log.spec_id is not None and log.spec_id.algorithms == ((SHA1, 20), (SHA256, 32))
    assert [e.index for e in log.events] == [0, 1, 2, 3]
    assert log.events[1].offset == len(spec_id())
    out = replay_event_log(log).to_json()
    for alg in (SHA1, SHA256):
        pcr0 = ext(alg, ext(alg, bytes(SIZE[alg]), h(alg, b"1\x002\x00")), h(alg, SEP0))
        pcr8 = ext(alg, bytes(SIZE[alg]), h(alg, b"grub_cmd: linux /vmlinuz"))
        assert out["pcrs"][NAME[alg]] == {"0": pcr0.hex(), "8": pcr8.hex()}
    assert list(out["pcrs"]) == ["sha1", "sha256"]  # ascending TPM_ALG_ID
    assert codes(out["warnings"]) == []
    assert json.loads(json.dumps(log.to_json()))["format"] == "crypto-agile"


def test_sha1_format_replay() -> None:
    d1, d2 = h(SHA1, b"a"), h(SHA1, SEP0)
    log = parse_event_log(sha1_record(0, 8, d1, b"a") + sha1_record(0, EV_SEPARATOR, d2, SEP0))
    assert log.format == "sha1" and log.spec_id is None and len(log.events) == 2
    out = replay_event_log(log).to_json()
    assert out["pcrs"] == {"sha1": {"0": ext(SHA1, ext(SHA1, bytes(20), d1), d2).hex()}}
    assert log.to_json()["events"][0]["digests"] == [{"alg": "sha1", "digest": d1.hex()}]


def test_first_no_action_without_signature_is_a_sha1_log() -> None:
    data = b"StartupLocality\x00\x03"
    log = parse_event_log(sha1_record(0, EV_NO_ACTION, bytes(20), data))
    assert log.format == "sha1"
    out = replay_event_log(log).to_json()
    assert out["pcrs"] == {"sha1": {"0": (bytes(19) + b"\x03").hex()}}


def test_pcrs_17_to_22_start_all_ones() -> None:
    log = parse_event_log(spec_id() + measured(17, EV_EVENT_TAG, b"x") + measured(23, 6, b"y"))
    out = replay_event_log(log).to_json()["pcrs"]
    for alg in (SHA1, SHA256):
        assert out[NAME[alg]]["17"] == ext(alg, b"\xff" * SIZE[alg], h(alg, b"x")).hex()
        assert out[NAME[alg]]["23"] == ext(alg, bytes(SIZE[alg]), h(alg, b"y")).hex()


def test_zero_size_events() -> None:
    log = parse_event_log(spec_id() + measured(9, EV_IPL, b"") + measured(9, EV_IPL, b""))
    assert [len(e.data) for e in log.events[1:]] == [0, 0]
    out = replay_event_log(log).to_json()["pcrs"]["sha256"]["9"]
    empty = h(SHA256, b"")
    assert out == ext(SHA256, ext(SHA256, bytes(32), empty), empty).hex()


def test_no_action_never_extends() -> None:
    noisy = record2(0, EV_NO_ACTION, [(SHA1, b"\x11" * 20), (SHA256, b"\x22" * 32)], b"SP800")
    log = parse_event_log(spec_id() + noisy + measured(0, EV_S_CRTM_VERSION, b"v"))
    out = replay_event_log(log).to_json()
    assert out["pcrs"]["sha1"]["0"] == ext(SHA1, bytes(20), h(SHA1, b"v")).hex()
    only = replay_event_log(parse_event_log(spec_id() + noisy)).to_json()
    assert only["pcrs"] == {"sha1": {}, "sha256": {}}


# ---------------------------------------------------------------- StartupLocality, H-CRTM


@pytest.mark.parametrize("locality", [0, 3, 4])
def test_startup_locality_sets_pcr0(locality: int) -> None:
    log = parse_event_log(spec_id() + locality_event(locality) + measured(0, 8, b"v"))
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == []
    assert log.to_json()["events"][1]["parsed"] == {
        "kind": "startup_locality",
        "locality": locality,
    }
    for alg in (SHA1, SHA256):
        init = bytes(SIZE[alg] - 1) + bytes([locality])
        assert out["pcrs"][NAME[alg]]["0"] == ext(alg, init, h(alg, b"v")).hex()


def test_startup_locality_alone_names_pcr0() -> None:
    out = replay_event_log(parse_event_log(spec_id() + locality_event(3))).to_json()
    assert out["pcrs"]["sha256"] == {"0": (bytes(31) + b"\x03").hex()}


@pytest.mark.parametrize("locality", [1, 2, 5, 0xFF])
def test_invalid_startup_locality(locality: int) -> None:
    log = parse_event_log(spec_id() + locality_event(locality))
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log)
    assert info.value.code == ErrorCode.INVALID_STARTUP_LOCALITY
    assert info.value.field == "events[1].event"
    assert info.value.offset == len(spec_id())


def test_startup_locality_after_extend_is_ignored() -> None:
    log = parse_event_log(spec_id() + measured(0, 8, b"v") + locality_event(3))
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("STARTUP_LOCALITY_AFTER_EXTEND", 2)]
    assert out["pcrs"]["sha1"]["0"] == ext(SHA1, bytes(20), h(SHA1, b"v")).hex()
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert info.value.code == ErrorCode.STARTUP_LOCALITY_AFTER_EXTEND


def test_duplicate_startup_locality_is_ignored() -> None:
    log = parse_event_log(spec_id() + locality_event(3) + locality_event(0) + measured(0, 8, b"v"))
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("DUPLICATE_STARTUP_LOCALITY", 2)]
    init = bytes(19) + b"\x03"
    assert out["pcrs"]["sha1"]["0"] == ext(SHA1, init, h(SHA1, b"v")).hex()


def test_startup_locality_outside_pcr0_is_not_one() -> None:
    log = parse_event_log(spec_id() + locality_event(3, pcr=6) + measured(0, 8, b"v"))
    out = replay_event_log(log).to_json()
    assert out["pcrs"]["sha1"] == {"0": ext(SHA1, bytes(20), h(SHA1, b"v")).hex()}


def test_hcrtm_event_starts_pcr0_at_4() -> None:
    hcrtm = measured(0, EV_EFI_HCRTM_EVENT, b"HCRTM", over=b"crtm image")
    for prefix in (b"", locality_event(4)):
        log = parse_event_log(spec_id() + prefix + hcrtm + measured(0, 8, b"v"))
        out = replay_event_log(log).to_json()
        assert codes(out["warnings"]) == []
        for alg in (SHA1, SHA256):
            v = ext(alg, bytes(SIZE[alg] - 1) + b"\x04", h(alg, b"crtm image"))
            assert out["pcrs"][NAME[alg]]["0"] == ext(alg, v, h(alg, b"v")).hex()


def test_hcrtm_event_not_first_is_a_plain_extend() -> None:
    hcrtm = measured(0, EV_EFI_HCRTM_EVENT, b"HCRTM", over=b"c")
    log = parse_event_log(spec_id() + measured(0, 8, b"v") + hcrtm)
    out = replay_event_log(log).to_json()["pcrs"]["sha1"]["0"]
    assert out == ext(SHA1, ext(SHA1, bytes(20), h(SHA1, b"v")), h(SHA1, b"c")).hex()


# ---------------------------------------------------------------- banks and algorithms


def test_missing_bank_digest() -> None:
    log = parse_event_log(spec_id() + measured(8, EV_IPL, b"x", algs=(SHA256,)))
    out = replay_event_log(log).to_json()
    assert out["pcrs"]["sha1"]["8"] == bytes(20).hex()
    assert out["pcrs"]["sha256"]["8"] == ext(SHA256, bytes(32), h(SHA256, b"x")).hex()
    assert codes(out["warnings"]) == [("MISSING_BANK_DIGEST", 1)]
    assert "sha1" in out["warnings"][0]["message"]
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert (info.value.code, info.value.field) == (
        ErrorCode.MISSING_BANK_DIGEST,
        "events[1].digests",
    )


def test_unknown_algorithm_skipped_by_its_declared_size() -> None:
    odd = 0x0099
    header = spec_id(((SHA1, 20), (odd, 7), (SHA256, 32)))
    body = record2(
        8, EV_IPL, [(SHA1, h(SHA1, b"x")), (odd, b"\x07" * 7), (SHA256, h(SHA256, b"x"))], b"x"
    )
    log = parse_event_log(header + body)
    assert log.events[1].to_json()["digests"][1] == {"alg": "0x0099", "digest": "07" * 7}
    assert log.to_json()["specId"]["algorithms"][1] == {"alg": "0x0099", "digestSize": 7}
    out = replay_event_log(log, strict=True).to_json()
    assert list(out["pcrs"]) == ["sha1", "sha256"]
    assert codes(out["warnings"]) == [("UNKNOWN_ALGORITHM_SKIPPED", None)]


def test_event_algorithm_not_in_spec_id() -> None:
    bad = record2(8, EV_IPL, [(SHA384, h(SHA384, b"x"))], b"x")
    with pytest.raises(MalformedInputError) as info:
        parse_event_log(spec_id() + bad)
    err = info.value
    assert (err.code, err.field, err.offset) == (
        ErrorCode.UNKNOWN_ALGORITHM,
        "events[1].digests[0].hashAlg",
        len(spec_id()),
    )


def test_duplicate_digest_in_one_event() -> None:
    bad = record2(8, EV_IPL, [(SHA1, bytes(20)), (SHA1, bytes(20))], b"")
    with pytest.raises(MalformedInputError) as info:
        parse_event_log(spec_id() + bad)
    assert info.value.code == ErrorCode.DUPLICATE_BANK


@pytest.mark.parametrize(
    ("header", "field"),
    [
        (spec_id(major=1), "events[0].event.specVersion"),
        (spec_id(()), "events[0].event.numberOfAlgorithms"),
        (spec_id(count=0xFFFFFFFF), "events[0].event.numberOfAlgorithms"),
        (spec_id(((SHA1, 20), (SHA1, 20))), "events[0].event.algorithms[1]"),
        (spec_id(((SHA256, 20),)), "events[0].event.algorithms[0].digestSize"),
        (spec_id(vendor=b"ab", vendor_size=5), "events[0].event.vendorInfoSize"),
        (spec_id(vendor=b"ab", vendor_size=1), "events[0].event.vendorInfoSize"),
    ],
)
def test_invalid_spec_id_event(header: bytes, field: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        parse_event_log(header)
    assert (info.value.code, info.value.field, info.value.offset) == (
        ErrorCode.INVALID_SPEC_ID_EVENT,
        field,
        0,
    )


def test_spec_id_json() -> None:
    log = parse_event_log(spec_id(((SHA256, 32),), vendor=b"v"))
    assert log.to_json()["events"][0]["parsed"] == {
        "kind": "spec_id",
        "platformClass": 0,
        "specVersion": "2.0.2",
        "uintnSize": 2,
        "algorithms": [{"alg": "sha256", "digestSize": 32}],
    }
    assert log.spec_id is not None and log.spec_id.vendor_info == b"v"


# ---------------------------------------------------------------- findings and strict mode


def test_unknown_event_type() -> None:
    log = parse_event_log(spec_id() + measured(9, 0x12345, b"x"))
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("UNKNOWN_EVENT_TYPE", 1)]
    assert log.events[1].to_json()["typeName"] == "UNKNOWN"
    assert out["pcrs"]["sha1"]["9"] == ext(SHA1, bytes(20), h(SHA1, b"x")).hex()
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert (info.value.code, info.value.field) == (
        ErrorCode.UNKNOWN_EVENT_TYPE,
        "events[1].eventType",
    )


def test_unexpected_pcr() -> None:
    # PFP Events table: EV_S_CRTM_VERSION goes to PCR 0 only
    log = parse_event_log(spec_id() + measured(3, EV_S_CRTM_VERSION, b"v"))
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("UNEXPECTED_PCR", 1)]
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert info.value.code == ErrorCode.UNEXPECTED_PCR
    assert info.value.offset == len(spec_id())


def test_pcr_out_of_range_not_replayed() -> None:
    log = parse_event_log(spec_id() + measured(0xFFFFFFFF, EV_EVENT_TAG, b"w"))
    out = replay_event_log(log).to_json()
    assert out["pcrs"] == {"sha1": {}, "sha256": {}}
    assert codes(out["warnings"]) == [("PCR_OUT_OF_RANGE", 1)]
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert info.value.code == ErrorCode.PCR_OUT_OF_RANGE


def test_second_separator_is_event_after_separator() -> None:
    # ADR 0002 Amendment 1 item 1 (a): a second EV_SEPARATOR in the same PCR 0-7
    sep = measured(4, EV_SEPARATOR, SEP0)
    log = parse_event_log(spec_id() + sep + sep)
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("EVENT_AFTER_SEPARATOR", 2)]
    # the second one is still extended (a finding, not a skip)
    pcr4 = ext(SHA256, ext(SHA256, bytes(32), h(SHA256, SEP0)), h(SHA256, SEP0))
    assert out["pcrs"]["sha256"]["4"] == pcr4.hex()
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert (info.value.code, info.value.field) == (ErrorCode.EVENT_AFTER_SEPARATOR, "events[2]")
    assert info.value.offset == len(spec_id()) + len(sep)


def test_separators_in_different_pcrs_and_above_7_are_no_finding() -> None:
    events = [measured(p, EV_SEPARATOR, SEP0) for p in range(8)]
    events += [measured(8, EV_SEPARATOR, SEP0), measured(8, EV_SEPARATOR, SEP0)]
    log = parse_event_log(spec_id() + b"".join(events))
    assert event_findings(replay_event_log(log, strict=True)) == []


def test_secure_boot_policy_after_pcr7_separator() -> None:
    # ADR 0002 Amendment 1 item 1 (b): EV_EFI_VARIABLE_DRIVER_CONFIG in PCR 7 after
    # PCR 7's EV_SEPARATOR (Secure Boot policy changed after the transition)
    policy = measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("db", b"cert"))
    log = parse_event_log(spec_id() + measured(7, EV_SEPARATOR, SEP0) + policy)
    out = replay_event_log(log).to_json()
    assert codes(out["warnings"]) == [("EVENT_AFTER_SEPARATOR", 2)]
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(log, strict=True)
    assert (info.value.code, info.value.field) == (ErrorCode.EVENT_AFTER_SEPARATOR, "events[2]")
    # before the separator, the same event is the normal Secure Boot policy measurement
    ok = parse_event_log(spec_id() + policy + measured(7, EV_SEPARATOR, SEP0))
    assert event_findings(replay_event_log(ok, strict=True)) == []


@pytest.mark.parametrize(
    ("pcr", "etype", "data", "over"),
    [
        # firmware measures these after the separators (ADR 0002 Amendment 1 item 1)
        (4, EV_EFI_BOOT_SERVICES_APPLICATION, b"image path", b"PE image"),
        (5, EV_EFI_GPT_EVENT, b"EFI PART" + bytes(100), None),
        (1, EV_EFI_VARIABLE_BOOT, uefi_variable("Boot0001", b"\x01"), b"\x01"),
        (5, EV_EFI_ACTION, b"Exit Boot Services Invocation", None),
        (7, EV_EFI_VARIABLE_AUTHORITY, uefi_variable("db", b"cert"), None),
        # EV_EFI_VARIABLE_DRIVER_CONFIG is a finding in PCR 7 only
        (1, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("SecureBoot", b"\x01"), None),
        (5, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("SecureBoot", b"\x01"), None),
    ],
)
def test_events_allowed_after_separator(
    pcr: int, etype: int, data: bytes, over: bytes | None
) -> None:
    log = parse_event_log(
        spec_id() + measured(pcr, EV_SEPARATOR, SEP0) + measured(pcr, etype, data, over=over)
    )
    assert event_findings(replay_event_log(log, strict=True)) == []


# ---------------------------------------------------------------- event data checks


@pytest.mark.parametrize(
    ("pcr", "etype", "data"),
    [
        (0, EV_SEPARATOR, SEP0),
        (7, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("SecureBoot", b"\x01")),
        (5, EV_EFI_ACTION, b"Exit Boot Services Invocation"),
        (4, EV_ACTION, b"Calling INT 19h"),
        (5, EV_EFI_GPT_EVENT, b"EFI PART" + bytes(100)),
        (4, EV_OMIT_BOOT_DEVICE_EVENTS, b"omit"),
        (7, EV_EFI_VARIABLE_AUTHORITY, uefi_variable("db", b"cert")),
    ],
)
def test_data_check_whole_data(pcr: int, etype: int, data: bytes) -> None:
    good = parse_event_log(spec_id() + measured(pcr, etype, data))
    (check,) = check_event_data(good)
    assert check.to_json() == {
        "event": 1,
        "type": EventType(etype).name,
        "status": "match",
        "banks": {"sha1": "match", "sha256": "match"},
        "quirk": None,
    }
    assert event_findings(replay_event_log(good, strict=True)) == []
    lie = record2(pcr, etype, [(SHA1, h(SHA1, data)), (SHA256, h(SHA256, data + b"!"))], data)
    bad = parse_event_log(spec_id() + lie)
    (check,) = check_event_data(bad)
    assert check.status == "mismatch"
    assert check.banks == {"sha1": "match", "sha256": "mismatch"}
    assert codes(replay_event_log(bad).to_json()["warnings"]) == [("DATA_DIGEST_MISMATCH", 1)]
    with pytest.raises(MalformedInputError) as info:
        replay_event_log(bad, strict=True)
    assert info.value.code == ErrorCode.DATA_DIGEST_MISMATCH


def test_data_check_variable_boot() -> None:
    # ADR 0002 Amendment 1 item 3: EV_EFI_VARIABLE_BOOT digests VariableData (PFP);
    # a digest of the whole UEFI_VARIABLE_DATA is the quirk efi_variable_boot_whole_data
    value = b"\x01\x00\x02\x00"
    var = uefi_variable("BootOrder", value)
    pfp = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT, var, over=value))
    assert check_event_data(pfp)[0].to_json() == {
        "event": 1,
        "type": "EV_EFI_VARIABLE_BOOT",
        "status": "match",
        "banks": {"sha1": "match", "sha256": "match"},
        "quirk": None,
    }
    whole = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT, var))
    assert check_event_data(whole)[0].to_json() == {
        "event": 1,
        "type": "EV_EFI_VARIABLE_BOOT",
        "status": "match_quirk",
        "banks": {"sha1": "match", "sha256": "match"},
        "quirk": "efi_variable_boot_whole_data",
    }
    assert event_findings(replay_event_log(whole, strict=True)) == []
    wrong = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT, var, over=b"x"))
    (check,) = check_event_data(wrong)
    assert (check.status, check.quirk) == ("mismatch", None)
    assert codes(replay_event_log(wrong).to_json()["warnings"]) == [("DATA_DIGEST_MISMATCH", 1)]


def test_data_check_variable_boot2() -> None:
    # ADR 0002 Amendment 1 item 3: EV_EFI_VARIABLE_BOOT2 digests the whole
    # UEFI_VARIABLE_DATA (PFP 1.05); VariableData only is the quirk efi_variable_boot2_data_only
    value = b"\x01\x00\x02\x00"
    var = uefi_variable("BootOrder", value)
    pfp = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT2, var))
    assert check_event_data(pfp)[0].to_json() == {
        "event": 1,
        "type": "EV_EFI_VARIABLE_BOOT2",
        "status": "match",
        "banks": {"sha1": "match", "sha256": "match"},
        "quirk": None,
    }
    only = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT2, var, over=value))
    assert check_event_data(only)[0].to_json() == {
        "event": 1,
        "type": "EV_EFI_VARIABLE_BOOT2",
        "status": "match_quirk",
        "banks": {"sha1": "match", "sha256": "match"},
        "quirk": "efi_variable_boot2_data_only",
    }
    assert event_findings(replay_event_log(only, strict=True)) == []
    wrong = parse_event_log(spec_id() + measured(1, EV_EFI_VARIABLE_BOOT2, var, over=b"x"))
    (check,) = check_event_data(wrong)
    assert (check.status, check.quirk) == ("mismatch", None)
    assert check.banks == {"sha1": "mismatch", "sha256": "mismatch"}


@pytest.mark.parametrize("etype", [EV_EFI_VARIABLE_BOOT, EV_EFI_VARIABLE_BOOT2])
def test_data_check_variable_boot_too_short_to_decode(etype: int) -> None:
    # data that is no UEFI_VARIABLE_DATA: only the whole-data digest can be compared
    data = b"short"
    match = parse_event_log(spec_id() + measured(1, etype, data))
    (check,) = check_event_data(match)
    expected = "match" if etype == EV_EFI_VARIABLE_BOOT2 else "match_quirk"
    assert check.status == expected
    bad = parse_event_log(spec_id() + measured(1, etype, data, over=b"x"))
    assert check_event_data(bad)[0].banks == {"sha1": "mismatch", "sha256": "mismatch"}


def test_data_check_mixed_banks_is_mismatch() -> None:
    # sha1 over VariableData, sha256 over the whole structure: neither convention holds
    value = b"\x05\x00"
    var = uefi_variable("BootOrder", value)
    record = record2(
        1, EV_EFI_VARIABLE_BOOT, [(SHA1, h(SHA1, value)), (SHA256, h(SHA256, var))], var
    )
    (check,) = check_event_data(parse_event_log(spec_id() + record))
    assert (check.status, check.quirk) == ("mismatch", None)
    assert check.banks == {"sha1": "match", "sha256": "mismatch"}


def test_data_check_shim_trailing_byte() -> None:
    var = uefi_variable("MokListRT", b"cert")
    log = parse_event_log(
        spec_id() + measured(7, EV_EFI_VARIABLE_AUTHORITY, var + b"\x00", over=var)
    )
    (check,) = check_event_data(log)
    assert (check.status, check.quirk) == ("match_quirk", "efi_variable_authority_trailing_byte")
    assert event_findings(replay_event_log(log, strict=True)) == []


@pytest.mark.parametrize("value", [b"\x01\x00\x00\x00", b"\xff\xff\xff\xff"])
def test_error_separator(value: bytes) -> None:
    log = parse_event_log(spec_id() + measured(0, EV_SEPARATOR, value))
    (check,) = check_event_data(log)
    assert check.status == "separator_error"
    parsed = log.events[1].to_json()["parsed"]
    assert parsed == {"kind": "separator", "value": int.from_bytes(value, "little")}


@pytest.mark.parametrize(
    ("pcr", "etype"),
    [
        (4, EV_EFI_BOOT_SERVICES_APPLICATION),
        # not checked since ADR 0002 Amendment 1 item 2 (firmware digests other bytes)
        (0, EV_S_CRTM_VERSION),
        (9, EV_EVENT_TAG),
        (1, EV_PLATFORM_CONFIG_FLAGS),
        (1, EV_TABLE_OF_DEVICES),
        (0, EV_NONHOST_INFO),
    ],
)
def test_data_checks_skip_other_types(pcr: int, etype: int) -> None:
    log = parse_event_log(spec_id() + measured(pcr, etype, b"x", over=b"ACPI DATA behind"))
    assert check_event_data(log) == ()
    assert event_findings(replay_event_log(log, strict=True)) == []


# ---------------------------------------------------------------- parsed data


def test_parsed_uefi_variable_and_string() -> None:
    var = uefi_variable("SecureBoot", b"\x01")
    log = parse_event_log(
        spec_id()
        + measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, var)
        + measured(4, EV_EFI_ACTION, b"Hi\x00\x00")
    )
    assert log.events[1].to_json()["parsed"] == {
        "kind": "uefi_variable",
        "variableName": "8be4df61-93ca-11d2-aa0d-00e098032b8c",
        "unicodeName": "SecureBoot",
        "variableData": "01",
    }
    assert log.events[2].to_json()["parsed"] == {"kind": "string", "text": "Hi"}


def test_parsed_gpt() -> None:
    header = bytearray(92)
    header[0:8] = b"EFI PART"
    header[56:72] = bytes(range(16))
    header[84:88] = struct.pack("<I", 128)
    entry = bytes(range(16, 32)) + bytes(range(32, 48)) + struct.pack("<QQQ", 2048, 4095, 1 << 63)
    entry += "EFI".encode("utf-16-le").ljust(72, b"\x00")
    data = bytes(header) + struct.pack("<Q", 1) + entry
    log = parse_event_log(spec_id() + measured(5, EV_EFI_GPT_EVENT, data))
    assert log.events[1].to_json()["parsed"] == {
        "kind": "gpt",
        "diskGuid": "03020100-0504-0706-0809-0a0b0c0d0e0f",
        "partitions": [
            {
                "typeGuid": "13121110-1514-1716-1819-1a1b1c1d1e1f",
                "uniqueGuid": "23222120-2524-2726-2829-2a2b2c2d2e2f",
                "startingLba": 2048,
                "endingLba": 4095,
                "attributes": 1 << 63,
                "name": "EFI",
            }
        ],
    }


def test_event_json_shape() -> None:
    log = parse_event_log(spec_id() + measured(9, EV_IPL, b"\x01"))
    assert log.events[1].to_json() == {
        "index": 1,
        "offset": len(spec_id()),
        "pcr": 9,
        "type": EV_IPL,
        "typeName": "EV_IPL",
        "digests": [
            {"alg": "sha1", "digest": h(SHA1, b"\x01").hex()},
            {"alg": "sha256", "digest": h(SHA256, b"\x01").hex()},
        ],
        "data": "01",
        "parsed": None,
    }


# ---------------------------------------------------------------- hostile input


SMALL_LOG_PARTS = [
    spec_id(),
    measured(0, EV_S_CRTM_VERSION, b"v"),
    measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("PK", b"")),
    measured(4, EV_SEPARATOR, SEP0),
]


def test_truncated_at_every_offset() -> None:
    log = b"".join(SMALL_LOG_PARTS)
    boundaries = {}
    pos = 0
    for i, part in enumerate(SMALL_LOG_PARTS):
        pos += len(part)
        boundaries[pos] = i + 1
    for cut in range(len(log)):
        if cut in boundaries:
            assert len(parse_event_log(log[:cut]).events) == boundaries[cut]
            continue
        with pytest.raises(MalformedInputError) as info:
            parse_event_log(log[:cut])
        assert info.value.code == ErrorCode.TRUNCATED, cut
        assert info.value.field is not None and info.value.field.startswith("events[")
        assert info.value.offset is not None and info.value.offset <= cut


@pytest.mark.parametrize(
    ("tail", "field"),
    [
        (struct.pack("<III", 8, EV_IPL, 0xFFFFFFFF), "events[1].digests.count"),
        (struct.pack("<III", 8, EV_IPL, 0) + struct.pack("<I", 0xFFFFFFFF), "events[1].eventSize"),
        (
            struct.pack("<III", 8, EV_IPL, 1) + struct.pack("<H", SHA256) + bytes(5),
            "events[1].digests[0].digest",
        ),
    ],
)
def test_giant_declared_sizes_allocate_nothing(tail: bytes, field: str) -> None:
    data = spec_id() + tail
    tracemalloc.start()
    try:
        with pytest.raises(MalformedInputError) as info:
            parse_event_log(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.value.code, info.value.field) == (ErrorCode.TRUNCATED, field)
    assert peak < 64 * 1024


def test_giant_sha1_event_size() -> None:
    data = struct.pack("<II", 0, 8) + bytes(20) + struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(MalformedInputError) as info:
        parse_event_log(data)
    assert (info.value.code, info.value.field, info.value.offset) == (
        ErrorCode.TRUNCATED,
        "events[0].eventSize",
        0,
    )


def test_empty_and_non_bytes_input() -> None:
    with pytest.raises(MalformedInputError) as info:
        parse_event_log(b"")
    assert info.value.code == ErrorCode.TRUNCATED
    with pytest.raises(MalformedInputError) as info:
        parse_event_log("not bytes")  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.INVALID_DOCUMENT


def test_memoryview_and_bytearray_input() -> None:
    log = b"".join(SMALL_LOG_PARTS)
    expected = parse_event_log(log).to_json()
    assert parse_event_log(bytearray(log)).to_json() == expected
    assert parse_event_log(memoryview(log)).to_json() == expected


# ---------------------------------------------------------------- verification


def _pcr_log() -> tuple[bytes, dict[str, dict[int, bytes]]]:
    log = spec_id() + measured(0, EV_S_CRTM_VERSION, b"v") + measured(4, EV_SEPARATOR, SEP0)
    values = {
        NAME[a]: {
            0: ext(a, bytes(SIZE[a]), h(a, b"v")),
            4: ext(a, bytes(SIZE[a]), h(a, SEP0)),
        }
        for a in (SHA1, SHA256)
    }
    return log, values


def test_verify_match_and_not_in_log() -> None:
    log_bytes, values = _pcr_log()
    values["sha256"][10] = b"\x05" * 32
    verdict = verify_event_log(parse_event_log(log_bytes), values)
    out = verdict.to_json()
    assert out["result"] == "match" and out["firstMismatch"] is None
    rows = [(r["bank"], r["pcr"], r["status"]) for r in out["pcrs"]]
    assert rows == [
        ("sha1", 0, "matched"),
        ("sha1", 4, "matched"),
        ("sha256", 0, "matched"),
        ("sha256", 4, "matched"),
        ("sha256", 10, "not_in_log"),
    ]
    assert out["pcrs"][0]["events"] == [1] and out["pcrs"][1]["events"] == [2]
    assert out["pcrs"][4]["replayed"] is None and out["pcrs"][4]["events"] == []
    assert out["claims"] and all("trusted" not in c.lower() for c in out["claims"])
    assert any("10" in c and "not verified" in c for c in out["claims"])
    text = format_verdict(verdict)
    assert "result: match" in text and "trusted" not in text.lower()


def test_verify_mismatch_names_first() -> None:
    log_bytes, values = _pcr_log()
    values["sha256"][4] = b"\x00" * 32
    values["sha1"][4] = b"\x01" * 20
    out = verify_event_log(parse_event_log(log_bytes), values).to_json()
    assert out["result"] == "mismatch"
    assert out["firstMismatch"] == {"bank": "sha1", "pcr": 4}
    assert [r["status"] for r in out["pcrs"]] == ["matched", "mismatched", "matched", "mismatched"]
    assert all("trusted" not in c.lower() for c in out["claims"])


def test_verify_bank_not_in_log() -> None:
    log_bytes, _ = _pcr_log()
    out = verify_event_log(parse_event_log(log_bytes), {"sha384": {0: bytes(48)}}).to_json()
    assert out["pcrs"][0]["status"] == "not_in_log"
    assert out["result"] == "mismatch"  # nothing verified is not a match


def test_verify_strict_raises() -> None:
    log = parse_event_log(spec_id() + measured(3, EV_S_CRTM_VERSION, b"v"))
    good = {"sha1": {3: ext(SHA1, bytes(20), h(SHA1, b"v"))}}
    out = verify_event_log(log, good).to_json()
    assert out["result"] == "match" and codes(out["warnings"]) == [("UNEXPECTED_PCR", 1)]
    with pytest.raises(MalformedInputError):
        verify_event_log(log, good, strict=True)


@pytest.mark.parametrize(
    ("pcrs", "code"),
    [
        ({}, ErrorCode.INVALID_PCR_VALUES),
        ({"md5": {0: bytes(16)}}, ErrorCode.UNKNOWN_ALGORITHM),
        ({"sha1": {24: bytes(20)}}, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ({"sha1": {0: bytes(19)}}, ErrorCode.DIGEST_SIZE_MISMATCH),
    ],
)
def test_verify_invalid_pcr_values(pcrs: dict[str, dict[int, bytes]], code: ErrorCode) -> None:
    log_bytes, _ = _pcr_log()
    with pytest.raises(MalformedInputError) as info:
        verify_event_log(parse_event_log(log_bytes), pcrs)
    assert info.value.code == code


# ---------------------------------------------------------------- PCR values input

# The layout tpm2_pcrread (tpm2-tools 5.x) prints: bank names indented two spaces, then
# "<index> : 0x<HEX>" lines indented four, hex in upper case.
PCRREAD_OUTPUT = """\
  sha1:
    0 : 0x0000000000000000000000000000000000000003
    10: 0xB2A83B0EBF2F8374299A5B2BDFC31EA955AD7236
  sha256:
    0 : 0x3D458CFE55CC03EA1F443F1562BEEC8DF51C75E14A9FCF9A7234A13F198E7969
"""


def test_parse_pcrread_output() -> None:
    assert parse_pcr_values(PCRREAD_OUTPUT) == {
        "sha1": {
            0: bytes(19) + b"\x03",
            10: bytes.fromhex("b2a83b0ebf2f8374299a5b2bdfc31ea955ad7236"),
        },
        "sha256": {
            0: bytes.fromhex("3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969")
        },
    }


def test_parse_pcr_values_json() -> None:
    wrapped = {"pcrs": {"sha1": {"7": "00" * 20}}}
    assert parse_pcr_values(json.dumps(wrapped)) == {"sha1": {7: bytes(20)}}
    assert parse_pcr_values(json.dumps(wrapped["pcrs"])) == {"sha1": {7: bytes(20)}}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.INVALID_PCR_VALUES),
        ("  md5:\n    0 : 0x00\n", ErrorCode.UNKNOWN_ALGORITHM),
        ("  sha1:\n    0 : 0xzz\n", ErrorCode.INVALID_PCR_VALUES),
        ("  sha1:\n    0 : 0x0000\n", ErrorCode.DIGEST_SIZE_MISMATCH),
        ("  sha1:\n    0 : 0x000\n", ErrorCode.INVALID_HEX),
        ("  sha1:\n    30 : 0x" + "00" * 20 + "\n", ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ("    0 : 0x" + "00" * 20 + "\n", ErrorCode.INVALID_PCR_VALUES),
        (
            "  sha1:\n    0 : 0x" + "00" * 20 + "\n    0 : 0x" + "00" * 20,
            ErrorCode.INVALID_PCR_VALUES,
        ),
        ('{"sha1": {"x": "00"}}', ErrorCode.INVALID_PCR_VALUES),
        ('{"sha1": ', ErrorCode.INVALID_PCR_VALUES),
    ],
)
def test_invalid_pcr_values_text(text: str, code: ErrorCode) -> None:
    with pytest.raises(MalformedInputError) as info:
        parse_pcr_values(text)
    assert info.value.code == code


# ---------------------------------------------------------------- text listing


def test_format_event_table_style() -> None:
    log = parse_event_log(
        spec_id() + measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, uefi_variable("PK", b""))
    )
    text = format_event_table(log, check_event_data(log))
    for needle in (
        "- EventNum: 0",
        "  EventType: EV_NO_ACTION",
        "  SpecID:",
        "- EventNum: 1",
        "  PCRIndex: 7",
        "  EventType: EV_EFI_VARIABLE_DRIVER_CONFIG",
        "  DigestCount: 2",
        "  - AlgorithmId: sha256",
        "  EventSize: 36",
        '    UnicodeName: "PK"',
        "  DataCheck: match",
    ):
        assert needle in text, needle


def test_missing_separator_finding() -> None:
    """ADR 0002 amendment 3: a PCR 0-7 extended without an EV_SEPARATOR, per log, ascending;
    a separator relabelled EV_EFI_ACTION in PCR 7 is caught this way (the PCR value is
    the same as with the real separator); never a strict error."""
    sep = b"\x00\x00\x00\x00"
    honest = spec_id() + measured(7, EV_SEPARATOR, sep) + measured(1, EV_SEPARATOR, sep)
    relabelled = spec_id() + measured(7, EV_EFI_ACTION, sep) + measured(1, EV_SEPARATOR, sep)
    a = replay_event_log(parse_event_log(honest), strict=True)
    b = replay_event_log(parse_event_log(relabelled), strict=True)
    assert a.pcrs == b.pcrs
    assert [w.code for w in a.warnings] == []
    assert [(w.code, w.event) for w in b.warnings] == [("MISSING_SEPARATOR", None)]
    assert "PCR 7" in b.warnings[0].message
    only_locality = spec_id() + locality_event(3)
    assert replay_event_log(parse_event_log(only_locality)).warnings == ()
