"""The event-log specification (spec/eventlog.py) against logs built here byte by byte.

Logs are built from the PFP's structure definitions (TCG_PCR_EVENT, TCG_PCR_EVENT2,
TCG_EfiSpecIdEvent, TCG_EfiStartupLocalityEvent, UEFI_VARIABLE_DATA, UEFI_GPT_DATA) by a
small builder below; expected PCR values are computed here with hashlib, never by the
code under test. The last tests replay the real logs of ../shared/conformance/eventlog.
"""

from __future__ import annotations

import hashlib
import json
import struct
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from chainoftrust.spec import eventlog as el
from chainoftrust.spec.errors import ErrorCode, MalformedInputError

from tests.conftest import require_data

SHA1, SHA256, SHA384 = 0x0004, 0x000B, 0x000C
SIZES = {SHA1: 20, SHA256: 32, SHA384: 48}
NAMES = {SHA1: "sha1", SHA256: "sha256", SHA384: "sha384"}

# PFP Events table (RESEARCH.md A.4; ADR 0002 amendment 1.4 for GPT_EVENT2 and SPDM)
EV_PREBOOT_CERT = 0x0
EV_POST_CODE = 0x1
EV_UNUSED = 0x2
EV_NO_ACTION = 0x3
EV_SEPARATOR = 0x4
EV_ACTION = 0x5
EV_EVENT_TAG = 0x6
EV_S_CRTM_VERSION = 0x8
EV_PLATFORM_CONFIG_FLAGS = 0xA
EV_TABLE_OF_DEVICES = 0xB
EV_IPL = 0xD
EV_NONHOST_INFO = 0x11
EV_OMIT_BOOT_DEVICE_EVENTS = 0x12
EV_EFI_VARIABLE_DRIVER_CONFIG = 0x80000001
EV_EFI_VARIABLE_BOOT = 0x80000002
EV_EFI_BOOT_SERVICES_APPLICATION = 0x80000003
EV_EFI_GPT_EVENT = 0x80000006
EV_EFI_ACTION = 0x80000007
EV_EFI_VARIABLE_BOOT2 = 0x8000000C
EV_EFI_GPT_EVENT2 = 0x8000000D
EV_EFI_HCRTM_EVENT = 0x80000010
EV_EFI_VARIABLE_AUTHORITY = 0x800000E0
EV_EFI_SPDM_FIRMWARE_BLOB = 0x800000E1
EV_EFI_SPDM_FIRMWARE_CONFIG = 0x800000E2
EV_EFI_SPDM_DEVICE_POLICY = 0x800000E3
EV_EFI_SPDM_DEVICE_AUTHORITY = 0x800000E4

# UEFI EFI_GLOBAL_VARIABLE 8be4df61-93ca-11d2-aa0d-00e098032b8c, as stored (first 3 fields LE).
GLOBAL_GUID = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")
GLOBAL_GUID_TEXT = "8be4df61-93ca-11d2-aa0d-00e098032b8c"


# ---------------------------------------------------------------- builder (PFP structures)


def h(alg: int, data: bytes) -> bytes:
    return hashlib.new(NAMES[alg], data).digest()


def extend(alg: int, old: bytes, digest: bytes) -> bytes:
    return h(alg, old + digest)


def pcr_event(pcr: int, etype: int, digest: bytes, data: bytes) -> bytes:
    """TCG_PCR_EVENT: PCRIndex, EventType, Digest[20], EventSize, Event."""
    return struct.pack("<II", pcr, etype) + digest + struct.pack("<I", len(data)) + data


def spec_id_data(
    algs: list[tuple[int, int]],
    *,
    major: int = 2,
    minor: int = 0,
    errata: int = 2,
    uintn: int = 2,
    vendor: bytes = b"",
    vendor_size: int | None = None,
) -> bytes:
    """TCG_EfiSpecIdEvent."""
    out = b"Spec ID Event03\x00" + struct.pack("<IBBBB", 0, minor, major, errata, uintn)
    out += struct.pack("<I", len(algs)) + b"".join(struct.pack("<HH", a, s) for a, s in algs)
    return out + bytes([len(vendor) if vendor_size is None else vendor_size]) + vendor


def header(algs: list[tuple[int, int]] | None = None, **kwargs: object) -> bytes:
    algs = [(SHA1, 20), (SHA256, 32)] if algs is None else algs
    return pcr_event(0, EV_NO_ACTION, bytes(20), spec_id_data(algs, **kwargs))  # type: ignore[arg-type]


def event2(pcr: int, etype: int, digests: list[tuple[int, bytes]], data: bytes) -> bytes:
    """TCG_PCR_EVENT2: PCRIndex, EventType, TPML_DIGEST_VALUES, EventSize, Event."""
    out = struct.pack("<III", pcr, etype, len(digests))
    out += b"".join(struct.pack("<H", a) + d for a, d in digests)
    return out + struct.pack("<I", len(data)) + data


def measured(pcr: int, etype: int, data: bytes, algs: tuple[int, ...] = (SHA1, SHA256)) -> bytes:
    """An event whose digests are H(data) in each bank."""
    return event2(pcr, etype, [(a, h(a, data)) for a in algs], data)


def locality_event(locality: int, pcr: int = 0) -> bytes:
    """EV_NO_ACTION TCG_EfiStartupLocalityEvent with zero digests."""
    data = b"StartupLocality\x00" + bytes([locality])
    return event2(pcr, EV_NO_ACTION, [(SHA1, bytes(20)), (SHA256, bytes(32))], data)


def variable(name: str, value: bytes, guid: bytes = GLOBAL_GUID) -> bytes:
    """UEFI_VARIABLE_DATA: GUID, UnicodeNameLength (CHAR16s), VariableDataLength, name, data."""
    return guid + struct.pack("<QQ", len(name), len(value)) + name.encode("utf-16-le") + value


def agile(*events: bytes) -> bytes:
    return header() + b"".join(events)


def replayed(log: bytes, **kwargs: bool) -> dict[str, dict[str, str]]:
    return as_json(el.replay_event_log(el.parse_event_log(log), **kwargs))["pcrs"]  # type: ignore[no-any-return]


def warnings_of(log: bytes) -> list[tuple[str, int | None]]:
    """The findings other than amendment 3's MISSING_SEPARATOR (tested on its own below:
    most logs here are too short to carry separators)."""
    replay = el.replay_event_log(el.parse_event_log(log))
    return [(w.code.value, w.event) for w in replay.warnings if w.code != "MISSING_SEPARATOR"]


def as_json(value: el.EventLog | el.Replay | el.Verdict) -> Any:
    """A to_json() output as plain JSON (round-tripped: what a consumer reads)."""
    return json.loads(json.dumps(value.to_json()))


def zero(alg: int) -> bytes:
    return bytes(SIZES[alg])


# ---------------------------------------------------------------- formats


def test_sha1_log_replays_each_pcr_from_zero() -> None:
    d1, d2, d3 = h(SHA1, b"a"), h(SHA1, b"b"), h(SHA1, b"c")
    log = (
        pcr_event(0, EV_POST_CODE, d1, b"x")
        + pcr_event(0, EV_POST_CODE, d2, b"")
        + pcr_event(7, EV_EFI_ACTION, d3, b"y")
    )
    parsed = el.parse_event_log(log)
    assert parsed.format == "sha1" and parsed.spec_id is None and len(parsed.events) == 3
    assert replayed(log) == {
        "sha1": {
            "0": extend(SHA1, extend(SHA1, zero(SHA1), d1), d2).hex(),
            "7": extend(SHA1, zero(SHA1), d3).hex(),
        }
    }


def test_crypto_agile_log_replays_every_listed_bank() -> None:
    log = agile(measured(0, EV_S_CRTM_VERSION, b"v1"), measured(4, EV_EFI_ACTION, b"go"))
    parsed = el.parse_event_log(log)
    assert parsed.format == "crypto-agile"
    assert parsed.events[0].to_json()["parsed"] == {
        "kind": "spec_id",
        "platformClass": 0,
        "specVersion": "2.0.2",
        "uintnSize": 2,
        "algorithms": [{"alg": "sha1", "digestSize": 20}, {"alg": "sha256", "digestSize": 32}],
    }
    assert parsed.to_json()["specId"] == parsed.events[0].parsed
    expected = {
        NAMES[a]: {
            "0": extend(a, zero(a), h(a, b"v1")).hex(),
            "4": extend(a, zero(a), h(a, b"go")).hex(),
        }
        for a in (SHA1, SHA256)
    }
    assert replayed(log) == expected


def test_event_json_shape() -> None:
    log = agile(measured(4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option\x00"))
    event = as_json(el.parse_event_log(log))["events"][1]
    assert event == {
        "index": 1,
        "offset": len(header()),
        "pcr": 4,
        "type": EV_EFI_ACTION,
        "typeName": "EV_EFI_ACTION",
        "digests": [
            {
                "alg": "sha1",
                "digest": h(SHA1, b"Calling EFI Application from Boot Option\x00").hex(),
            },
            {
                "alg": "sha256",
                "digest": h(SHA256, b"Calling EFI Application from Boot Option\x00").hex(),
            },
        ],
        "data": b"Calling EFI Application from Boot Option\x00".hex(),
        "parsed": {"kind": "string", "text": "Calling EFI Application from Boot Option"},
    }


def test_event_type_codes() -> None:
    # RESEARCH.md A.4 / PFP Events table, plus ADR 0002 amendment 1.4
    expected = {
        "EV_PREBOOT_CERT": 0x0,
        "EV_NO_ACTION": 0x3,
        "EV_OMIT_BOOT_DEVICE_EVENTS": 0x12,
        "EV_EFI_VARIABLE_DRIVER_CONFIG": 0x80000001,
        "EV_EFI_HANDOFF_TABLES2": 0x8000000B,
        "EV_EFI_VARIABLE_BOOT2": 0x8000000C,
        "EV_EFI_GPT_EVENT2": 0x8000000D,
        "EV_EFI_HCRTM_EVENT": 0x80000010,
        "EV_EFI_VARIABLE_AUTHORITY": 0x800000E0,
        "EV_EFI_SPDM_FIRMWARE_BLOB": 0x800000E1,
        "EV_EFI_SPDM_FIRMWARE_CONFIG": 0x800000E2,
        "EV_EFI_SPDM_DEVICE_POLICY": 0x800000E3,
        "EV_EFI_SPDM_DEVICE_AUTHORITY": 0x800000E4,
    }
    for name, code in expected.items():
        assert el.EventType[name] == code
    assert len(el.EventType) == 19 + 12 + 2 + 5  # 0x0-0x12, EFI +1..+0xC, +0xF/+0x10, +E0..+E4
    log = agile(measured(7, EV_EFI_SPDM_DEVICE_POLICY, b"policy"))
    assert el.parse_event_log(log).events[1].to_json()["typeName"] == "EV_EFI_SPDM_DEVICE_POLICY"
    assert warnings_of(log) == []


def test_event_log_json_keys() -> None:
    out = as_json(el.parse_event_log(agile(measured(4, EV_EFI_ACTION, b"a"))))
    assert list(out) == ["format", "specId", "events"]
    sha1 = as_json(el.parse_event_log(pcr_event(0, EV_POST_CODE, h(SHA1, b"x"), b"x")))
    assert (sha1["format"], sha1["specId"]) == ("sha1", None)


def test_text_that_does_not_decode_is_replaced() -> None:
    # ADR 0002 amendment 1.8: replacement characters, never "not parsed"
    action = el.parse_event_log(agile(measured(4, EV_EFI_ACTION, b"ok\xff\x80!\x00\x00")))
    assert action.events[1].parsed == {"kind": "string", "text": "ok\ufffd\ufffd!"}
    lone_surrogate = b"A\x00\x00\xd8B\x00"  # "A", a lone high surrogate, "B"
    name_data = GLOBAL_GUID + struct.pack("<QQ", 3, 1) + lone_surrogate + b"\x07"
    parsed = el.parse_event_log(agile(measured(1, EV_EFI_VARIABLE_BOOT, name_data)))
    assert parsed.events[1].parsed == {
        "kind": "uefi_variable",
        "variableName": GLOBAL_GUID_TEXT,
        "unicodeName": "A\ufffdB",
        "variableData": "07",
    }


def test_unknown_event_type_is_named_unknown_and_still_extends() -> None:
    log = agile(measured(8, 0x1234, b"x"))
    parsed = el.parse_event_log(log)
    assert parsed.events[1].to_json()["typeName"] == "UNKNOWN"
    assert replayed(log)["sha1"]["8"] == extend(SHA1, zero(SHA1), h(SHA1, b"x")).hex()
    assert warnings_of(log) == [("UNKNOWN_EVENT_TYPE", 1)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(parsed, strict=True)
    assert info.value.code == ErrorCode.UNKNOWN_EVENT_TYPE and info.value.field == "events[1]"


# ---------------------------------------------------------------- StartupLocality, H-CRTM, DRTM


@pytest.mark.parametrize("locality", [0, 3, 4])
def test_startup_locality_sets_pcr0_last_byte(locality: int) -> None:
    log = agile(locality_event(locality), measured(0, EV_S_CRTM_VERSION, b"v"))
    for alg in (SHA1, SHA256):
        start = bytes(SIZES[alg] - 1) + bytes([locality])
        assert replayed(log)[NAMES[alg]]["0"] == extend(alg, start, h(alg, b"v")).hex()
    assert el.parse_event_log(log).events[1].parsed == {
        "kind": "startup_locality",
        "locality": locality,
    }


def test_startup_locality_alone_names_pcr0() -> None:
    assert replayed(agile(locality_event(3))) == {
        "sha1": {"0": (bytes(19) + b"\x03").hex()},
        "sha256": {"0": (bytes(31) + b"\x03").hex()},
    }


@pytest.mark.parametrize("locality", [1, 2, 5, 0xFF])
def test_invalid_startup_locality(locality: int) -> None:
    log = agile(locality_event(locality))
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log))
    assert info.value.code == ErrorCode.INVALID_STARTUP_LOCALITY
    assert info.value.offset == len(header())
    assert info.value.field == "events[1].event.startupLocality"


def test_startup_locality_after_pcr0_extend_is_ignored() -> None:
    log = agile(measured(0, EV_S_CRTM_VERSION, b"v"), locality_event(3))
    assert replayed(log)["sha1"]["0"] == extend(SHA1, zero(SHA1), h(SHA1, b"v")).hex()
    assert warnings_of(log) == [("STARTUP_LOCALITY_AFTER_EXTEND", 2)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.STARTUP_LOCALITY_AFTER_EXTEND


def test_second_startup_locality_is_ignored() -> None:
    log = agile(locality_event(3), locality_event(0), measured(0, EV_S_CRTM_VERSION, b"v"))
    start = bytes(19) + b"\x03"
    assert replayed(log)["sha1"]["0"] == extend(SHA1, start, h(SHA1, b"v")).hex()
    assert warnings_of(log) == [("DUPLICATE_STARTUP_LOCALITY", 2)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.DUPLICATE_STARTUP_LOCALITY


@pytest.mark.parametrize("bad", [1, 2, 5, 0xFF])
def test_invalid_value_in_an_ignored_startup_locality_is_only_a_warning(bad: int) -> None:
    # ADR 0002 amendment 1.5: duplicate and after-extend are decided before the value
    duplicate = agile(locality_event(3), locality_event(bad))
    assert warnings_of(duplicate) == [("DUPLICATE_STARTUP_LOCALITY", 2)]
    assert replayed(duplicate)["sha256"]["0"] == (bytes(31) + b"\x03").hex()
    late = agile(measured(0, EV_S_CRTM_VERSION, b"v"), locality_event(bad))
    assert warnings_of(late) == [("STARTUP_LOCALITY_AFTER_EXTEND", 2)]
    assert replayed(late)["sha1"]["0"] == extend(SHA1, zero(SHA1), h(SHA1, b"v")).hex()


def test_duplicate_is_detected_before_after_extend() -> None:
    # the third record is both a second StartupLocality and after an extend of PCR 0
    log = agile(measured(0, EV_S_CRTM_VERSION, b"v"), locality_event(3), locality_event(0))
    assert warnings_of(log) == [
        ("STARTUP_LOCALITY_AFTER_EXTEND", 2),
        ("DUPLICATE_STARTUP_LOCALITY", 3),
    ]


def test_startup_locality_outside_pcr0_changes_nothing() -> None:
    assert replayed(agile(locality_event(3, pcr=1))) == {"sha1": {}, "sha256": {}}


def test_hcrtm_event_starts_pcr0_at_four() -> None:
    hcrtm = event2(
        0, EV_EFI_HCRTM_EVENT, [(SHA1, h(SHA1, b"crtm")), (SHA256, h(SHA256, b"crtm"))], b"HCRTM"
    )
    expected = {
        NAMES[a]: extend(a, bytes(SIZES[a] - 1) + b"\x04", h(a, b"crtm")).hex()
        for a in (SHA1, SHA256)
    }
    for log in (agile(hcrtm), agile(locality_event(4), hcrtm)):
        got = replayed(log)
        assert {bank: got[bank]["0"] for bank in got} == expected
    # not the first extend of PCR 0: an ordinary extend
    later = replayed(agile(measured(0, EV_S_CRTM_VERSION, b"v"), hcrtm))["sha1"]["0"]
    assert later == extend(SHA1, extend(SHA1, zero(SHA1), h(SHA1, b"v")), h(SHA1, b"crtm")).hex()


def test_drtm_pcrs_start_all_ff() -> None:
    log = agile(measured(17, EV_EFI_ACTION, b"drtm"), measured(23, EV_EFI_ACTION, b"app"))
    got = replayed(log)
    for alg in (SHA1, SHA256):
        assert got[NAMES[alg]]["17"] == extend(alg, b"\xff" * SIZES[alg], h(alg, b"drtm")).hex()
        assert got[NAMES[alg]]["23"] == extend(alg, zero(alg), h(alg, b"app")).hex()


# ---------------------------------------------------------------- banks and algorithms


def test_missing_bank_leaves_that_bank_unchanged() -> None:
    log = agile(event2(4, EV_EFI_ACTION, [(SHA256, h(SHA256, b"x"))], b"x"))
    got = replayed(log)
    assert got["sha1"]["4"] == zero(SHA1).hex()
    assert got["sha256"]["4"] == extend(SHA256, zero(SHA256), h(SHA256, b"x")).hex()
    assert warnings_of(log) == [("MISSING_BANK_DIGEST", 1)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.MISSING_BANK_DIGEST


def test_unknown_algorithm_is_skipped_by_its_declared_size() -> None:
    odd = 0x00FF
    log = header([(SHA1, 20), (odd, 7)]) + event2(
        4, EV_EFI_ACTION, [(odd, b"\x01" * 7), (SHA1, h(SHA1, b"x"))], b"x"
    )
    parsed = el.parse_event_log(log)
    assert parsed.events[1].to_json()["digests"] == [
        {"alg": "0x00ff", "digest": "01" * 7},
        {"alg": "sha1", "digest": h(SHA1, b"x").hex()},
    ]
    replay = el.replay_event_log(parsed, strict=True)  # a warning, never a strict error
    assert replay.to_json() == {
        "pcrs": {"sha1": {"4": extend(SHA1, zero(SHA1), h(SHA1, b"x")).hex()}},
        "warnings": [
            {
                "code": "UNKNOWN_ALGORITHM_SKIPPED",
                "event": None,
                "message": replay.warnings[0].message,
            },
            # amendment 3: PCR 4 extended, no EV_SEPARATOR (per-log, after the skipped alg)
            {"code": "MISSING_SEPARATOR", "event": None, "message": replay.warnings[1].message},
        ],
    }


def test_event_with_algorithm_not_in_spec_id_is_rejected() -> None:
    log = agile(event2(4, EV_EFI_ACTION, [(SHA384, bytes(48))], b"x"))
    with pytest.raises(MalformedInputError) as info:
        el.parse_event_log(log)
    assert info.value.code == ErrorCode.UNKNOWN_ALGORITHM
    assert info.value.field == "events[1].digests[0].hashAlg"
    assert info.value.offset == len(header())


def test_event_with_a_bank_twice_is_rejected() -> None:
    log = agile(event2(4, EV_EFI_ACTION, [(SHA1, bytes(20)), (SHA1, bytes(20))], b"x"))
    with pytest.raises(MalformedInputError) as info:
        el.parse_event_log(log)
    assert info.value.code == ErrorCode.DUPLICATE_BANK


def test_ev_no_action_never_extends() -> None:
    log = agile(event2(3, EV_NO_ACTION, [(SHA1, b"\x01" * 20), (SHA256, b"\x01" * 32)], b"info"))
    assert replayed(log) == {"sha1": {}, "sha256": {}}


def test_pcr_out_of_range_is_not_replayed() -> None:
    log = agile(measured(0xFFFFFFFF, EV_EFI_ACTION, b"x"))
    assert replayed(log) == {"sha1": {}, "sha256": {}}
    assert warnings_of(log) == [("PCR_OUT_OF_RANGE", 1)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.PCR_OUT_OF_RANGE


# ---------------------------------------------------------------- placement and separators


def test_type_in_a_pcr_the_pfp_does_not_place_it() -> None:
    log = agile(measured(2, EV_EFI_GPT_EVENT, b"not a gpt"))
    assert ("UNEXPECTED_PCR", 1) in warnings_of(log)
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.UNEXPECTED_PCR


@pytest.mark.parametrize("etype", [EV_PREBOOT_CERT, EV_UNUSED, EV_EVENT_TAG, EV_IPL])
def test_unrestricted_types_are_allowed_in_every_pcr(etype: int) -> None:
    # ADR 0002 amendment 1.4: EV_EVENT_TAG, EV_IPL, EV_PREBOOT_CERT, EV_UNUSED anywhere
    log = agile(*(measured(pcr, etype, b"any") for pcr in range(24)))
    assert [code for code, _ in warnings_of(log)] == []


def test_placement_is_checked_only_in_pcrs_0_to_7() -> None:
    # EV_EFI_GPT_EVENT belongs in PCR 5 (PFP); in PCR 4 it is flagged, in PCR 8-23 it is not
    log = agile(*(measured(pcr, EV_EFI_GPT_EVENT, b"gpt") for pcr in (4, 8, 14, 23)))
    assert warnings_of(log) == [("UNEXPECTED_PCR", 1)]


@pytest.mark.parametrize(
    ("etype", "allowed"),
    [
        (EV_EFI_GPT_EVENT2, {5}),
        (EV_EFI_SPDM_FIRMWARE_BLOB, {0, 2}),
        (EV_EFI_SPDM_FIRMWARE_CONFIG, {1, 3}),
        (EV_EFI_SPDM_DEVICE_POLICY, {7}),
        (EV_EFI_SPDM_DEVICE_AUTHORITY, {7}),
    ],
)
def test_new_types_are_placed_as_the_pfp_says(etype: int, allowed: set[int]) -> None:
    # PFP 1.06 / edk2 UefiTcgPlatform.h: SPDM policy and authority go to PCR 7, device
    # firmware to PCR 0 or 2, its configuration to PCR 1 or 3, GPT_EVENT2 to PCR 5
    log = agile(*(measured(pcr, etype, b"d") for pcr in range(8)))
    flagged = {index - 1 for code, index in warnings_of(log) if code == "UNEXPECTED_PCR"}
    assert flagged == set(range(8)) - allowed


def test_a_second_separator_is_an_event_after_separator() -> None:
    sep = measured(0, EV_SEPARATOR, bytes(4))
    log = agile(sep, sep)
    assert warnings_of(log) == [("EVENT_AFTER_SEPARATOR", 2)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.EVENT_AFTER_SEPARATOR
    assert info.value.offset == len(header()) + len(sep)
    assert info.value.field == "events[2]"
    # the second separator still extends (it is in the TPM's PCR either way)
    want = extend(SHA1, extend(SHA1, zero(SHA1), h(SHA1, bytes(4))), h(SHA1, bytes(4)))
    assert replayed(log)["sha1"]["0"] == want.hex()


def test_secure_boot_policy_after_pcr7_separator() -> None:
    policy = variable("SecureBoot", b"\x01")
    log = agile(
        measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, policy),
        measured(7, EV_SEPARATOR, bytes(4)),
        measured(7, EV_EFI_VARIABLE_DRIVER_CONFIG, policy),
    )
    assert warnings_of(log) == [("EVENT_AFTER_SEPARATOR", 3)]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert (info.value.code, info.value.field) == (ErrorCode.EVENT_AFTER_SEPARATOR, "events[3]")


def test_other_events_after_a_separator_are_not_flagged() -> None:
    # ADR 0002 amendment 1.1: only a second separator, or PCR 7 policy after PCR 7's
    # separator; firmware measures boot applications, the GPT and boot variables later
    log = agile(
        *(measured(pcr, EV_SEPARATOR, bytes(4)) for pcr in range(8)),
        measured(0, EV_POST_CODE, b"late code"),
        measured(1, EV_EFI_VARIABLE_BOOT, variable("BootOrder", b"\x01\x00")),
        measured(1, EV_EFI_VARIABLE_DRIVER_CONFIG, variable("Setup", b"x")),
        measured(3, EV_EFI_VARIABLE_DRIVER_CONFIG, variable("Setup", b"x")),
        measured(4, EV_EFI_BOOT_SERVICES_APPLICATION, b"image-load-event"),
        measured(4, EV_EFI_ACTION, b"Calling EFI Application from Boot Option"),
        measured(5, EV_EFI_GPT_EVENT, b"gpt"),
        measured(5, EV_EFI_ACTION, b"Exit Boot Services Invocation"),
        measured(7, EV_EFI_VARIABLE_AUTHORITY, variable("db", b"certificate")),
        measured(8, EV_SEPARATOR, bytes(4)),
        measured(8, EV_SEPARATOR, bytes(4)),  # PCR 8-23: not the firmware's separators
    )
    el.replay_event_log(el.parse_event_log(log), strict=True)


# ---------------------------------------------------------------- order of findings


def test_pcr_out_of_range_stops_every_other_check() -> None:
    # unknown type, one bank missing, a wrong digest: only PCR_OUT_OF_RANGE is reported
    log = agile(event2(0xFFFFFFFF, 0x1234, [(SHA256, h(SHA256, b"other"))], b"x"))
    assert warnings_of(log) == [("PCR_OUT_OF_RANGE", 1)]
    bad_action = event2(24, EV_EFI_ACTION, [(a, h(a, b"other")) for a in (SHA1, SHA256)], b"x")
    assert warnings_of(agile(bad_action)) == [("PCR_OUT_OF_RANGE", 1)]


def test_findings_of_one_event_in_amendment_order() -> None:
    # EV_EFI_ACTION in PCR 0 (the PFP places it in 1-7), no SHA-1, a wrong SHA-256
    event = event2(0, EV_EFI_ACTION, [(SHA256, h(SHA256, b"other"))], b"act")
    log = agile(event)
    assert warnings_of(log) == [
        ("UNEXPECTED_PCR", 1),
        ("MISSING_BANK_DIGEST", 1),
        ("DATA_DIGEST_MISMATCH", 1),
    ]
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.UNEXPECTED_PCR


def test_after_separator_then_missing_banks_ascending_then_data() -> None:
    # Spec ID lists sha384, sha1, sha256; the event carries sha256 only (wrong)
    algs = [(SHA384, 48), (SHA1, 20), (SHA256, 32)]
    sep = measured(3, EV_SEPARATOR, bytes(4), algs=(SHA384, SHA1, SHA256))
    late = event2(3, EV_SEPARATOR, [(SHA256, h(SHA256, b"\x01" * 4))], bytes(4))
    replay = el.replay_event_log(el.parse_event_log(header(algs) + sep + late))
    findings = [(w.code.value, w.event) for w in replay.warnings]
    assert findings == [
        ("EVENT_AFTER_SEPARATOR", 2),
        ("MISSING_BANK_DIGEST", 2),
        ("MISSING_BANK_DIGEST", 2),
        ("DATA_DIGEST_MISMATCH", 2),
    ]
    # banks ascending TPM_ALG_ID: sha1 (0x0004) before sha384 (0x000C)
    assert "sha1" in replay.warnings[1].message and "sha384" in replay.warnings[2].message


def test_unknown_type_then_missing_bank() -> None:
    log = agile(event2(3, 0x1234, [(SHA256, h(SHA256, b"x"))], b"x"))
    assert warnings_of(log) == [("UNKNOWN_EVENT_TYPE", 1), ("MISSING_BANK_DIGEST", 1)]


# ---------------------------------------------------------------- event data checks


def checks_of(log: bytes) -> list[dict[str, object]]:
    return [c.to_json() for c in el.check_event_data(el.parse_event_log(log))]


def test_separator_normal_and_mismatch() -> None:
    bad = event2(
        3, EV_SEPARATOR, [(SHA1, h(SHA1, bytes(4))), (SHA256, h(SHA256, b"\x02" * 4))], bytes(4)
    )
    log = agile(measured(2, EV_SEPARATOR, bytes(4)), bad)
    assert checks_of(log) == [
        {
            "event": 1,
            "type": "EV_SEPARATOR",
            "status": "match",
            "banks": {"sha1": "match", "sha256": "match"},
            "quirk": None,
        },
        {
            "event": 2,
            "type": "EV_SEPARATOR",
            "status": "mismatch",
            "banks": {"sha1": "match", "sha256": "mismatch"},
            "quirk": None,
        },
    ]
    assert el.parse_event_log(log).events[1].parsed == {"kind": "separator", "value": 0}
    assert ("DATA_DIGEST_MISMATCH", 2) in warnings_of(log)
    with pytest.raises(MalformedInputError) as info:
        el.replay_event_log(el.parse_event_log(log), strict=True)
    assert info.value.code == ErrorCode.DATA_DIGEST_MISMATCH and info.value.field == "events[2]"


@pytest.mark.parametrize("value", [b"\x01\x00\x00\x00", b"\xff\xff\xff\xff"])
def test_separator_error_values(value: bytes) -> None:
    [check] = checks_of(agile(measured(0, EV_SEPARATOR, value)))
    assert check["status"] == "separator_error"
    assert check["banks"] == {"sha1": "match", "sha256": "match"}


@pytest.mark.parametrize(
    "etype",
    [
        EV_EFI_ACTION,
        EV_ACTION,
        EV_EFI_GPT_EVENT,
        EV_OMIT_BOOT_DEVICE_EVENTS,
        EV_EFI_VARIABLE_DRIVER_CONFIG,
    ],
)
def test_whole_data_types(etype: int) -> None:
    good = measured(1, etype, b"payload")
    bad = event2(1, etype, [(SHA1, h(SHA1, b"other")), (SHA256, h(SHA256, b"payload"))], b"payload")
    first, second = checks_of(agile(good, bad))
    assert (first["status"], first["quirk"]) == ("match", None)
    assert second["status"] == "mismatch"
    assert second["banks"] == {"sha1": "mismatch", "sha256": "match"}


@pytest.mark.parametrize(
    "etype",
    [
        EV_S_CRTM_VERSION,
        EV_EVENT_TAG,
        EV_PLATFORM_CONFIG_FLAGS,
        EV_TABLE_OF_DEVICES,
        EV_NONHOST_INFO,
        EV_POST_CODE,
        EV_EFI_BOOT_SERVICES_APPLICATION,
        EV_EFI_GPT_EVENT2,
        EV_EFI_HCRTM_EVENT,
        EV_NO_ACTION,
    ],
)
def test_unchecked_types_are_not_listed(etype: int) -> None:
    # ADR 0002 amendment 1.2: real firmware digests something other than the data here
    log = agile(event2(0, etype, [(a, h(a, b"elsewhere")) for a in (SHA1, SHA256)], b"data"))
    assert checks_of(log) == []
    assert "DATA_DIGEST_MISMATCH" not in [code for code, _ in warnings_of(log)]


def test_variable_boot_conventions() -> None:
    # EV_EFI_VARIABLE_BOOT: the PFP digests VariableData; the whole structure is the quirk
    data = variable("BootOrder", b"\x01\x00\x00\x00")
    etype = EV_EFI_VARIABLE_BOOT
    pfp = event2(1, etype, [(a, h(a, b"\x01\x00\x00\x00")) for a in (SHA1, SHA256)], data)
    whole = measured(1, etype, data)
    neither = event2(1, etype, [(a, h(a, b"nope")) for a in (SHA1, SHA256)], data)
    results = checks_of(agile(pfp, whole, neither))
    assert [(r["status"], r["quirk"]) for r in results] == [
        ("match", None),
        ("match_quirk", "efi_variable_boot_whole_data"),
        ("mismatch", None),
    ]
    assert el.parse_event_log(agile(pfp)).events[1].parsed == {
        "kind": "uefi_variable",
        "variableName": GLOBAL_GUID_TEXT,
        "unicodeName": "BootOrder",
        "variableData": "01000000",
    }


def test_variable_boot2_conventions() -> None:
    # EV_EFI_VARIABLE_BOOT2: the whole UEFI_VARIABLE_DATA; VariableData only is the quirk
    data = variable("Boot0001", b"load-option")
    etype = EV_EFI_VARIABLE_BOOT2
    whole = measured(1, etype, data)
    value_only = event2(1, etype, [(a, h(a, b"load-option")) for a in (SHA1, SHA256)], data)
    neither = event2(1, etype, [(a, h(a, b"nope")) for a in (SHA1, SHA256)], data)
    results = checks_of(agile(whole, value_only, neither))
    assert [(r["status"], r["quirk"]) for r in results] == [
        ("match", None),
        ("match_quirk", "efi_variable_boot2_data_only"),
        ("mismatch", None),
    ]
    assert results[2]["type"] == "EV_EFI_VARIABLE_BOOT2"
    assert warnings_of(agile(value_only)) == []
    assert warnings_of(agile(neither)) == [("DATA_DIGEST_MISMATCH", 1)]


def test_variable_authority_and_shim_trailing_byte() -> None:
    data = variable("db", b"signature-data")
    shim = data + b"\x00"
    shim_event = event2(
        7, EV_EFI_VARIABLE_AUTHORITY, [(a, h(a, data)) for a in (SHA1, SHA256)], shim
    )
    results = checks_of(agile(measured(7, EV_EFI_VARIABLE_AUTHORITY, data), shim_event))
    assert [(r["status"], r["quirk"]) for r in results] == [
        ("match", None),
        ("match_quirk", "efi_variable_authority_trailing_byte"),
    ]
    assert warnings_of(agile(shim_event)) == []


def test_gpt_event_is_parsed() -> None:
    disk = bytes(range(16))
    hdr = bytearray(92)
    hdr[0:8] = b"EFI PART"
    hdr[56:72] = disk
    struct.pack_into("<II", hdr, 80, 1, 128)
    entry = bytearray(128)
    entry[0:16] = GLOBAL_GUID
    entry[16:32] = bytes(range(16, 32))
    struct.pack_into("<QQQ", entry, 32, 2048, 4095, 1 << 63)
    entry[56 : 56 + 6] = "EFI".encode("utf-16-le")
    data = bytes(hdr) + struct.pack("<Q", 1) + bytes(entry)
    parsed = el.parse_event_log(agile(measured(5, EV_EFI_GPT_EVENT, data))).events[1].parsed
    gpt2 = el.parse_event_log(agile(measured(5, EV_EFI_GPT_EVENT2, data))).events[1].parsed
    assert gpt2 == parsed  # ADR 0002 amendment 1.8: both GPT event types
    assert parsed == {
        "kind": "gpt",
        "diskGuid": "03020100-0504-0706-0809-0a0b0c0d0e0f",
        "partitions": [
            {
                "typeGuid": GLOBAL_GUID_TEXT,
                "uniqueGuid": "13121110-1514-1716-1819-1a1b1c1d1e1f",
                "startingLba": 2048,
                "endingLba": 4095,
                "attributes": 1 << 63,
                "name": "EFI",
            }
        ],
    }
    # a partition name that is not UTF-16 is decoded with a replacement character
    entry[56 : 56 + 6] = b"E\x00\x00\xdcI\x00"  # "E", a lone low surrogate, "I"
    odd = bytes(hdr) + struct.pack("<Q", 1) + bytes(entry)
    odd_parsed = el.parse_event_log(agile(measured(5, EV_EFI_GPT_EVENT, odd))).events[1].parsed
    assert odd_parsed is not None
    assert odd_parsed["partitions"][0]["name"] == "E\ufffdI"  # type: ignore[index]
    # a partition count that does not fit the data: not parsed, never an error
    lying = bytes(hdr) + struct.pack("<Q", 1 << 60) + bytes(entry)
    assert el.parse_event_log(agile(measured(5, EV_EFI_GPT_EVENT, lying))).events[1].parsed is None


def test_hostile_variable_lengths_are_not_parsed() -> None:
    lying = GLOBAL_GUID + struct.pack("<QQ", 1 << 62, 1 << 62) + b"x"
    log = agile(measured(1, EV_EFI_VARIABLE_BOOT, lying))
    assert el.parse_event_log(log).events[1].parsed is None
    [check] = checks_of(log)
    assert (check["status"], check["quirk"]) == ("match_quirk", "efi_variable_boot_whole_data")
    [check2] = checks_of(agile(measured(1, EV_EFI_VARIABLE_BOOT2, lying)))
    assert (check2["status"], check2["quirk"]) == ("match", None)


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    "log",
    [
        pcr_event(0, EV_POST_CODE, bytes(20), b"ab")
        + pcr_event(1, EV_POST_CODE, bytes(20), b"cde"),
        agile(
            measured(0, EV_S_CRTM_VERSION, b"v"),
            locality_event(3),
            measured(7, EV_SEPARATOR, bytes(4)),
        ),
    ],
    ids=["sha1", "crypto-agile"],
)
def test_truncated_at_every_offset(log: bytes) -> None:
    boundaries = {event.offset for event in el.parse_event_log(log).events} - {0}
    for cut in range(len(log)):
        if cut in boundaries:  # a whole number of records: a shorter, valid log
            assert len(el.parse_event_log(log[:cut]).events) >= 1
            continue
        with pytest.raises(MalformedInputError) as info:
            el.parse_event_log(log[:cut])
        assert info.value.code == ErrorCode.TRUNCATED, cut
        assert info.value.field is not None and info.value.field.startswith("events[")
        assert info.value.offset is not None and info.value.offset <= cut


def test_empty_log_is_truncated() -> None:
    with pytest.raises(MalformedInputError) as info:
        el.parse_event_log(b"")
    assert (info.value.code, info.value.field, info.value.offset) == (
        ErrorCode.TRUNCATED,
        "events[0].pcrIndex",
        0,
    )


@pytest.mark.parametrize(
    ("log", "field"),
    [
        (
            pcr_event(0, EV_POST_CODE, bytes(20), b"")[:-4] + struct.pack("<I", 0xFFFFFFFF),
            "events[0].eventSize",
        ),
        (header() + struct.pack("<III", 0, EV_POST_CODE, 0xFFFFFFFF), "events[1].digests.count"),
        (
            header()
            + struct.pack("<IIIH", 0, 1, 1, SHA1)
            + bytes(20)
            + struct.pack("<I", 0xFFFFFFFF),
            "events[1].eventSize",
        ),
    ],
    ids=["sha1-event-size", "digest-count", "agile-event-size"],
)
def test_giant_declared_sizes_allocate_nothing(log: bytes, field: str) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(MalformedInputError) as info:
            el.parse_event_log(log)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (info.value.code, info.value.field) == (ErrorCode.TRUNCATED, field)
    assert peak < 1 << 20  # memory, not time: no timed assertions in tests


@pytest.mark.parametrize(
    ("spec_id", "field"),
    [
        (spec_id_data([(SHA1, 20)], major=1), "specVersionMajor"),
        (spec_id_data([(SHA1, 20)], minor=1), "specVersionMajor"),
        (spec_id_data([(SHA1, 20)], uintn=3), "uintnSize"),
        (spec_id_data([]), "numberOfAlgorithms"),
        (
            spec_id_data([(SHA1, 20)])[:24] + struct.pack("<I", 0xFFFFFFFF) + bytes(5),
            "numberOfAlgorithms",
        ),
        (spec_id_data([(SHA256, 20)]), "digestSizes[0]"),
        (spec_id_data([(SHA1, 20), (SHA1, 20)]), "digestSizes[1]"),
        (spec_id_data([(SHA1, 20)], vendor=b"abc", vendor_size=9), "vendorInfoSize"),
        (spec_id_data([(SHA1, 20)])[:-1], "vendorInfoSize"),
        (b"Spec ID Event03\x00" + bytes(4), "size"),
    ],
)
def test_invalid_spec_id_event(spec_id: bytes, field: str) -> None:
    with pytest.raises(MalformedInputError) as info:
        el.parse_event_log(pcr_event(0, EV_NO_ACTION, bytes(20), spec_id))
    assert info.value.code == ErrorCode.INVALID_SPEC_ID_EVENT
    assert (info.value.field, info.value.offset) == (f"events[0].event.{field}", 0)


def test_spec_id_signature_in_a_non_header_record_is_a_sha1_log() -> None:
    # PCR 1 instead of 0: not the crypto-agile header, so the log is SHA-1 format
    log = pcr_event(1, EV_NO_ACTION, bytes(20), spec_id_data([(SHA1, 20)]))
    assert el.parse_event_log(log).format == "sha1"


def test_not_bytes_is_rejected() -> None:
    with pytest.raises(MalformedInputError) as info:
        el.parse_event_log("not bytes")  # type: ignore[arg-type]
    assert info.value.code == ErrorCode.INVALID_DOCUMENT


# ---------------------------------------------------------------- verification


def test_verify_rows_and_claims() -> None:
    log = el.parse_event_log(
        agile(measured(0, EV_S_CRTM_VERSION, b"v"), measured(4, EV_EFI_ACTION, b"a"))
    )
    good0 = extend(SHA256, zero(SHA256), h(SHA256, b"v"))
    verdict = el.verify_event_log(log, {"sha256": {4: bytes(32), 0: good0, 9: bytes(32)}})
    out = as_json(verdict)
    assert out["result"] == "mismatch"
    assert out["firstMismatch"] == {"bank": "sha256", "pcr": 4}
    assert [(r["pcr"], r["status"], r["events"]) for r in out["pcrs"]] == [
        (0, "matched", [1]),
        (4, "mismatched", [2]),
        (9, "not_in_log", []),
    ]
    assert out["pcrs"][2]["replayed"] is None
    assert all("trusted" not in claim.lower() for claim in out["claims"])
    ok = as_json(el.verify_event_log(log, {"sha256": {0: good0}, "sha384": {0: bytes(48)}}))
    assert ok["result"] == "match" and ok["firstMismatch"] is None
    assert ok["pcrs"][1]["status"] == "not_in_log"


def test_verify_row_events_are_per_bank() -> None:
    # ADR 0002 amendment 1.6: the events that extended that PCR in that bank
    log = el.parse_event_log(
        agile(
            measured(4, EV_EFI_ACTION, b"both"),
            event2(4, EV_EFI_ACTION, [(SHA256, h(SHA256, b"one"))], b"one"),
        )
    )
    pcr4 = {
        SHA1: extend(SHA1, zero(SHA1), h(SHA1, b"both")),
        SHA256: extend(SHA256, extend(SHA256, zero(SHA256), h(SHA256, b"both")), h(SHA256, b"one")),
    }
    out = as_json(el.verify_event_log(log, {"sha1": {4: pcr4[SHA1]}, "sha256": {4: pcr4[SHA256]}}))
    assert out["result"] == "match"
    assert [(r["bank"], r["status"], r["events"]) for r in out["pcrs"]] == [
        ("sha1", "matched", [1]),
        ("sha256", "matched", [1, 2]),
    ]


def test_verify_never_counts_absent_pcrs_as_verified() -> None:
    log = el.parse_event_log(agile(measured(4, EV_EFI_ACTION, b"a")))
    # only not_in_log rows: mismatch (ADR 0002 amendment 1.6), even if the values are zero
    verdict = el.verify_event_log(log, {"sha1": {10: bytes(20)}, "sha256": {0: bytes(32)}})
    assert verdict.result == el.VerdictResult.MISMATCH
    assert {row.status for row in verdict.pcrs} == {el.PcrStatus.NOT_IN_LOG}
    assert verdict.first_mismatch is None


@pytest.mark.parametrize(
    ("pcrs", "code"),
    [
        ({}, ErrorCode.INVALID_PCR_VALUES),
        ({"md5": {0: bytes(16)}}, ErrorCode.UNKNOWN_ALGORITHM),
        ({"sha1": {24: bytes(20)}}, ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ({"sha1": {0: bytes(32)}}, ErrorCode.DIGEST_SIZE_MISMATCH),
    ],
)
def test_verify_rejects_bad_pcr_values(pcrs: dict[str, dict[int, bytes]], code: ErrorCode) -> None:
    log = el.parse_event_log(agile(measured(4, EV_EFI_ACTION, b"a")))
    with pytest.raises(MalformedInputError) as info:
        el.verify_event_log(log, pcrs)
    assert info.value.code == code


def test_verify_strict_raises() -> None:
    log = el.parse_event_log(agile(measured(0xFFFFFFFF, EV_EFI_ACTION, b"a")))
    with pytest.raises(MalformedInputError) as info:
        el.verify_event_log(log, {"sha1": {0: bytes(20)}}, strict=True)
    assert info.value.code == ErrorCode.PCR_OUT_OF_RANGE
    assert el.verify_event_log(log, {"sha1": {0: bytes(20)}}).warnings[0].event == 1


def test_parse_pcr_values_yaml_and_json() -> None:
    yaml = (
        "sha1:\n  0 : 0x"
        + "AB" * 20
        + "\n  17: 0x"
        + "ff" * 20
        + "\nsha256:\n  0 : 0x"
        + "00" * 32
        + "\n"
    )
    expected = {"sha1": {0: b"\xab" * 20, 17: b"\xff" * 20}, "sha256": {0: bytes(32)}}
    assert el.parse_pcr_values(yaml) == expected
    document = {"sha1": {"0": "ab" * 20, "17": "ff" * 20}, "sha256": {"0": "00" * 32}}
    assert el.parse_pcr_values(json.dumps({"pcrs": document})) == expected
    assert el.parse_pcr_values(json.dumps(document)) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", ErrorCode.INVALID_PCR_VALUES),
        ("sha1:\n  0 : 0xzz\n", ErrorCode.INVALID_PCR_VALUES),
        ("sha1:\n  0 : 0xabc\n", ErrorCode.INVALID_HEX),
        ("sha1:\n  30 : 0x" + "00" * 20 + "\n", ErrorCode.PCR_INDEX_OUT_OF_RANGE),
        ("sha1:\n  0 : 0x" + "00" * 19 + "\n", ErrorCode.DIGEST_SIZE_MISMATCH),
        ("md4:\n  0 : 0x00\n", ErrorCode.UNKNOWN_ALGORITHM),
        ("  0 : 0x00\n", ErrorCode.INVALID_PCR_VALUES),
        ('{"sha1": {"0": 5}}', ErrorCode.INVALID_HEX),
        ('{"sha1": [1]}', ErrorCode.INVALID_PCR_VALUES),
        ("{not json", ErrorCode.INVALID_PCR_VALUES),
    ],
)
def test_parse_pcr_values_rejects(text: str, code: ErrorCode) -> None:
    with pytest.raises(MalformedInputError) as info:
        el.parse_pcr_values(text)
    assert info.value.code == code


# ---------------------------------------------------------------- real logs


CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "eventlog"


def _cases() -> list[str]:
    return sorted(p.name for p in CONFORMANCE.iterdir()) if CONFORMANCE.is_dir() else []


def _require_conformance() -> None:
    require_data(CONFORMANCE)


def test_conformance_folder_present() -> None:
    _require_conformance()
    assert len(_cases()) >= 20


@pytest.mark.parametrize("case", _cases() or ["(none)"])
def test_real_log(case: str) -> None:
    _require_conformance()
    folder = CONFORMANCE / case
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    data = (folder / expected["files"]["log"]).read_bytes()
    if expected["expected_result"] == "reject":
        with pytest.raises(MalformedInputError):
            el.parse_event_log(data)
        return
    log = el.parse_event_log(data)
    want_format = "sha1" if "sha1-legacy" in expected["format"] else "crypto-agile"
    assert log.format == want_format
    replay = el.replay_event_log(log)
    skip = set(expected.get("pcrs_not_derivable_from_log", []))
    supplied = {
        bank: {int(p): bytes.fromhex(v) for p, v in values.items() if p not in skip}
        for bank, values in expected.get("expected_pcrs", {}).items()
    }
    if not supplied:  # parse-ok cases (no PCR values)
        return
    verdict = el.verify_event_log(log, supplied)
    rows = {(r.bank.name.lower(), r.pcr): r for r in verdict.pcrs}
    if expected["expected_result"] == "match":
        for (bank, pcr), row in rows.items():
            if row.status == el.PcrStatus.NOT_IN_LOG:  # not named by the log: start value
                start = b"\xff" if pcr in el.DRTM_PCRS else b"\x00"
                assert row.expected == start * len(row.expected), (bank, pcr)
            else:
                assert row.status == el.PcrStatus.MATCHED, (bank, pcr)
        assert verdict.result == el.VerdictResult.MATCH
    elif expected["expected_result"] == "mismatch":
        assert verdict.result == el.VerdictResult.MISMATCH
        wanted = expected.get("expected_mismatching_pcrs")
        if wanted:
            got = [f"{b}:{p}" for (b, p), r in rows.items() if r.status == el.PcrStatus.MISMATCHED]
            assert got == wanted
    assert replay.to_json()["pcrs"]  # the log names at least one PCR


def test_real_log_digest_flip_is_caught_by_the_data_check() -> None:
    _require_conformance()
    data = (CONFORMANCE / "derived-neg-rhel8-sha256-digest-flipped" / "eventlog.bin").read_bytes()
    checks = el.check_event_data(el.parse_event_log(data))
    bad = [c for c in checks if c.status == el.DataStatus.MISMATCH]
    assert [(c.to_json()["type"], c.to_json()["banks"]) for c in bad] == [
        ("EV_SEPARATOR", {"sha1": "match", "sha256": "mismatch", "sha384": "match"})
    ]


def test_real_log_shim_authority_quirk() -> None:
    _require_conformance()
    data = (CONFORMANCE / "ga-sb-cert-ima-pcr10" / "eventlog.bin").read_bytes()
    quirks = {c.quirk for c in el.check_event_data(el.parse_event_log(data))}
    assert "efi_variable_authority_trailing_byte" in quirks


def test_missing_separator_per_pcr_0_to_7_ascending_after_the_other_findings() -> None:
    """ADR 0002 amendment 3: a PCR 0-7 extended without an EV_SEPARATOR is a per-log
    warning (ascending PCR, after the event findings); separators, PCRs >= 8, a PCR 0
    named only by StartupLocality, and EV_NO_ACTION give none; never a strict error."""
    log = agile(
        locality_event(3),
        measured(7, EV_EFI_ACTION, b"a separator relabelled"),
        measured(2, EV_SEPARATOR, bytes(4)),
        measured(4, EV_EFI_ACTION, b"x"),
        measured(10, EV_EFI_ACTION, b"y"),
        event2(5, EV_NO_ACTION, [(SHA1, bytes(20)), (SHA256, bytes(32))], b"z"),
    )
    replay = el.replay_event_log(el.parse_event_log(log), strict=True)
    found = [(w.code.value, w.event) for w in replay.warnings]
    assert found == [("MISSING_SEPARATOR", None), ("MISSING_SEPARATOR", None)]
    assert "PCR 4" in replay.warnings[0].message and "PCR 7" in replay.warnings[1].message
