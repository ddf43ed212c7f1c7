"""impl.ima: IMA lists built byte by byte from the kernel's layout, expected values from hashlib.

Layout (torvalds/linux security/integrity/ima/ima_fs.c `ima_measurements_show`): u32 pcr,
20-byte template hash, u32 template name length, name; then u32 template data length and
the data, except for the `ima` template, shown as the raw 20-byte `d` then u32 strlen(n)
and n without its NUL. Template data of the other templates: each field as u32 len || data;
d-ng = "<alg>:" NUL digest; n-ng = name NUL (ima_template_lib.c). Template hash: SHA-1 over
the fields as hashed by ima_calc_field_array_hash_tfm (for `ima`: d || n padded with zeros
to 256 bytes). ASCII (`ima_ascii_measurements_show`): "%2d " pcr, hex hash, name, then " "
and each field, nothing for an empty one. Violations: all-zero template hash, PCR extended
with all-0xff (ima_queue.c). All integers little-endian.
"""

from __future__ import annotations

import hashlib
import struct
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.ima import (
    ImaLog,
    check_template_hashes,
    format_ima_replay,
    format_ima_verdict,
    parse_ima_ascii,
    parse_ima_binary,
    parse_pcr_values,
    replay_ima,
    verify_ima,
)
from hypothesis import given
from hypothesis import strategies as st

ZERO20 = bytes(20)
HASHES: dict[str, Callable[[bytes], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
}


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


def field(data: bytes) -> bytes:
    return u32(len(data)) + data


def d_ng(alg: str, digest: bytes) -> bytes:
    return alg.encode() + b":\x00" + digest


# ------------------------------------------------------------------ entry builders


class Entry:
    """One measurement as the test builds it: its binary and ASCII forms and the bytes
    each PCR bank hashes (all derived here, from the kernel's layout)."""

    def __init__(
        self,
        template: str,
        shown: bytes,
        hashed: bytes,
        ascii_fields: list[str],
        *,
        pcr: int = 10,
        violation: bool = False,
        template_hash: bytes | None = None,
    ) -> None:
        self.template = template
        self.shown = shown  # bytes after the template name in the binary list
        self.hashed = hashed  # what every bank hashes
        self.pcr = pcr
        self.violation = violation
        if template_hash is None:
            template_hash = ZERO20 if violation else hashlib.sha1(hashed).digest()
        self.template_hash = template_hash
        self.ascii_fields = ascii_fields

    def binary(self) -> bytes:
        name = self.template.encode()
        return u32(self.pcr) + self.template_hash + u32(len(name)) + name + self.shown

    def ascii(self) -> str:
        head = f"{self.pcr:2d} {self.template_hash.hex()} {self.template}"
        return head + "".join(" " + f for f in self.ascii_fields) + "\n"

    def extend_digest(self, bank: str) -> bytes:
        size = HASHES[bank](b"").digest_size
        if self.violation:
            return b"\xff" * size
        if bank == "sha1":
            return self.template_hash
        return HASHES[bank](self.hashed).digest()


def ima_entry(digest: bytes, name: str, **kw: Any) -> Entry:
    raw = name.encode()
    shown = digest + u32(len(raw)) + raw
    hashed = digest + raw + bytes(256 - len(raw))  # n = name NUL, zero-padded to 256
    return Entry("ima", shown, hashed, [digest.hex(), name], **kw)


def ng_entry(template: str, fields: list[bytes], ascii_fields: list[str], **kw: Any) -> Entry:
    data = b"".join(field(f) for f in fields)
    return Entry(template, u32(len(data)) + data, data, ascii_fields, **kw)


def ima_ng(alg: str, digest: bytes, name: str, **kw: Any) -> Entry:
    fields = [d_ng(alg, digest), name.encode() + b"\x00"]
    return ng_entry("ima-ng", fields, [f"{alg}:{digest.hex()}", name], **kw)


def ima_sig(alg: str, digest: bytes, name: str, sig: bytes, **kw: Any) -> Entry:
    fields = [d_ng(alg, digest), name.encode() + b"\x00", sig]
    return ng_entry("ima-sig", fields, [f"{alg}:{digest.hex()}", name, sig.hex()], **kw)


def ima_buf(alg: str, digest: bytes, name: str, buf: bytes, **kw: Any) -> Entry:
    fields = [d_ng(alg, digest), name.encode() + b"\x00", buf]
    return ng_entry("ima-buf", fields, [f"{alg}:{digest.hex()}", name, buf.hex()], **kw)


def ima_modsig(
    alg: str,
    digest: bytes,
    name: str,
    sig: bytes,
    modsig: tuple[str, bytes, bytes] | None,
    **kw: Any,
) -> Entry:
    d_mod, raw_mod = b"", b""
    ascii_mod = ["", ""]
    if modsig is not None:
        d_mod, raw_mod = d_ng(modsig[0], modsig[1]), modsig[2]
        ascii_mod = [f"{modsig[0]}:{modsig[1].hex()}", modsig[2].hex()]
    fields = [d_ng(alg, digest), name.encode() + b"\x00", sig, d_mod, raw_mod]
    ascii_fields = [f"{alg}:{digest.hex()}", name, sig.hex(), *ascii_mod]
    return ng_entry("ima-modsig", fields, ascii_fields, **kw)


def sha256_of(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def every_template() -> list[Entry]:
    """One list exercising every template, a violation, a PCR below 10 and empty fields."""
    sig = bytes.fromhex("030204") + bytes(range(40))
    return [
        ima_entry(hashlib.sha1(b"boot").digest(), "boot_aggregate"),
        ima_ng("sha256", sha256_of("/init"), "/init"),
        ima_ng("sha1", hashlib.sha1(b"x").digest(), "/usr/bin/x", pcr=9),
        ima_sig("sha256", sha256_of("/bin/sh"), "/bin/sh", sig),
        ima_sig("sha256", sha256_of("/bin/ls"), "/bin/ls", b""),
        ima_buf("sha256", sha256_of("cmdline"), "kexec-cmdline", b"root=/dev/sda1 ro"),
        ima_modsig("sha256", sha256_of("/m.ko"), "/m.ko", b"", ("sha256", sha256_of("m"), sig)),
        ima_modsig("sha512", hashlib.sha512(b"k").digest(), "/k.ko", sig, None),
        ima_ng("sha256", bytes(20), "/tmp/tomtou", violation=True),
        ima_entry(bytes(20), "/tmp/open_writers", violation=True),
    ]


def binary_of(entries: list[Entry]) -> bytes:
    return b"".join(e.binary() for e in entries)


def ascii_of(entries: list[Entry]) -> str:
    return "".join(e.ascii() for e in entries)


def expected_pcrs(entries: list[Entry], bank: str) -> dict[str, str]:
    h = HASHES[bank]
    values: dict[int, bytes] = {}
    for e in entries:
        old = values.get(e.pcr, bytes(h(b"").digest_size))
        values[e.pcr] = h(old + e.extend_digest(bank)).digest()
    return {str(p): v.hex() for p, v in sorted(values.items())}


def offsets_of(entries: list[Entry]) -> list[int]:
    out, pos = [], 0
    for e in entries:
        out.append(pos)
        pos += len(e.binary())
    return out


def fail(
    call: Callable[[], object], code: ErrorCode, *, field: str | None = None
) -> MalformedInputError:
    with pytest.raises(MalformedInputError) as info:
        call()
    assert info.value.code is code, str(info.value)
    if field is not None:
        assert info.value.field == field, str(info.value)
    return info.value


# ------------------------------------------------------------------ each template


def test_ima_ng_entry_fields_and_json() -> None:
    digest = sha256_of("/init")
    entry = ima_ng("sha256", digest, "/init")
    log = parse_ima_binary(entry.binary())
    (e,) = log.entries
    template_data = field(b"sha256:\x00" + digest) + field(b"/init\x00")
    assert e.to_json() == {
        "index": 0,
        "pcr": 10,
        "templateHash": hashlib.sha1(template_data).hexdigest(),
        "templateName": "ima-ng",
        "templateData": template_data.hex(),
        "violation": False,
        "fields": {
            "digestAlg": "sha256",
            "digest": digest.hex(),
            "name": "/init",
            "signature": None,
            "buffer": None,
        },
    }
    assert e.offset == 0
    assert log.tail == 0
    assert check_template_hashes(log) == ()


def test_ima_legacy_template_layout_and_padding() -> None:
    digest = hashlib.sha1(b"file").digest()
    data = u32(10) + hashlib.sha1(digest + b"/etc/passwd" + bytes(245)).digest()
    data += u32(3) + b"ima" + digest + u32(11) + b"/etc/passwd"
    log = parse_ima_binary(data)
    (e,) = log.entries
    assert e.template_name == "ima"
    assert e.template_data == digest + u32(11) + b"/etc/passwd"
    assert e.fields == {
        "digestAlg": "sha1",
        "digest": digest.hex(),
        "name": "/etc/passwd",
        "signature": None,
        "buffer": None,
    }
    assert check_template_hashes(log) == ()
    replay = replay_ima(log, ("sha1", "sha256"))
    padded = digest + b"/etc/passwd" + bytes(245)
    assert (
        replay.pcrs["sha256"][10]
        == hashlib.sha256(bytes(32) + hashlib.sha256(padded).digest()).digest()
    )


def test_ima_legacy_name_of_255_bytes_fills_the_pad() -> None:
    name = "/" + "a" * 254
    entry = ima_entry(hashlib.sha1(b"f").digest(), name)
    log = parse_ima_binary(entry.binary())
    assert check_template_hashes(log) == ()


def test_every_template_fields() -> None:
    log = parse_ima_binary(binary_of(every_template()))
    fields = [e.fields for e in log.entries]
    assert [e.template_name for e in log.entries] == [
        "ima",
        "ima-ng",
        "ima-ng",
        "ima-sig",
        "ima-sig",
        "ima-buf",
        "ima-modsig",
        "ima-modsig",
        "ima-ng",
        "ima",
    ]
    assert fields[3] is not None and fields[3]["signature"].startswith("030204")
    assert fields[4] is not None and fields[4]["signature"] == ""  # empty sig: u32 0
    assert fields[5] is not None and fields[5]["buffer"] == b"root=/dev/sda1 ro".hex()
    assert fields[5]["name"] == "kexec-cmdline"
    assert fields[6] is not None and fields[6]["signature"] == ""
    assert fields[7] is not None and fields[7]["digestAlg"] == "sha512"
    assert [e.violation for e in log.entries] == [False] * 8 + [True, True]
    assert [e.offset for e in log.entries] == offsets_of(every_template())
    assert [e.pcr for e in log.entries][2] == 9


def test_ima_sig_empty_signature_is_a_zero_length_field() -> None:
    entry = ima_sig("sha256", sha256_of("/x"), "/x", b"")
    assert entry.shown.endswith(b"/x\x00" + u32(0))
    (e,) = parse_ima_binary(entry.binary()).entries
    assert e.template_data.endswith(u32(0))


@pytest.mark.parametrize("banks", [("sha1",), ("sha256",), ("sha1", "sha256"), ("sha384", "sha1")])
def test_replay_every_template(banks: tuple[str, ...]) -> None:
    entries = every_template()
    replay = replay_ima(parse_ima_binary(binary_of(entries)), banks).to_json()
    assert replay == {
        "pcrs": {bank: expected_pcrs(entries, bank) for bank in banks},
        "entries": len(entries),
        "violations": 2,
        "templateHashFailures": [],
        "warnings": [],
    }


# ------------------------------------------------------------------ violations


@pytest.mark.parametrize("bank", ["sha1", "sha256"])
def test_violation_extends_all_ff(bank: str) -> None:
    entry = ima_ng("sha256", bytes(20), "/tmp/x", violation=True)
    log = parse_ima_binary(entry.binary())
    assert log.entries[0].violation
    size = HASHES[bank](b"").digest_size
    expected = HASHES[bank](bytes(size) + b"\xff" * size).digest()
    assert replay_ima(log, (bank,)).pcrs[bank] == {10: expected}
    assert check_template_hashes(log) == ()  # a violation's data is not checked


def test_violation_sha1_value_is_published_constant() -> None:
    # SHA-1(0^20 || ff^20), the PCR 10 value after one violation (the conformance data's
    # `pcr10_sha1_aggregate` of its invalidated cases)
    entry = ima_entry(bytes(20), "boot_aggregate", violation=True)
    replay = replay_ima(parse_ima_binary(entry.binary()), ("sha1",))
    assert replay.pcrs["sha1"][10].hex() == "bac37b84f007d0238af95af707cac8d61254870e"


# ------------------------------------------------------------------ ASCII == binary


def test_ascii_and_binary_give_the_same_entries_and_replay() -> None:
    entries = every_template()
    text = ascii_of(entries)
    assert " 9 " in text  # "%2d " pads PCR 9 with a space
    from_ascii = parse_ima_ascii(text)
    from_binary = parse_ima_binary(binary_of(entries))
    assert [e.to_json() for e in from_ascii.entries] == [e.to_json() for e in from_binary.entries]
    assert [e.offset for e in from_ascii.entries] == list(range(len(entries)))
    assert replay_ima(from_ascii).to_json() == replay_ima(from_binary).to_json()
    assert check_template_hashes(from_ascii) == ()


def test_ascii_absent_trailing_fields_are_empty() -> None:
    full = ima_sig("sha256", sha256_of("/x"), "/x", b"")
    line = full.ascii()
    assert line.endswith("/x \n")  # the kernel writes the separator of the empty sig
    stripped = line.replace("/x \n", "/x\n")
    assert parse_ima_ascii(stripped).entries == parse_ima_ascii(line).entries
    mod = ima_modsig("sha256", sha256_of("/m"), "/m", b"", None)
    assert mod.ascii().endswith("/m   \n")
    (e,) = parse_ima_ascii(mod.ascii()).entries
    assert e.template_data == mod.hashed
    assert parse_ima_ascii(mod.ascii().rstrip(" \n")).entries == (e,)


def test_ascii_blank_lines_and_leading_spaces() -> None:
    # ADR 0003 amendment 1, item 5: empty lines are skipped, lines may start with spaces
    entries = every_template()[:3]
    text = "\n" + ascii_of(entries).replace("\n", "\n\n") + "\n"
    assert text.count("\n 9 ") == 1  # "%2d" of PCR 9
    log = parse_ima_ascii("   " + text.lstrip("\n"))
    assert [e.to_json() for e in log.entries] == [
        e.to_json() for e in parse_ima_binary(binary_of(entries)).entries
    ]
    (e,) = parse_ima_ascii("\n\n" + ascii_of(entries[1:2])).entries
    assert e.offset == 2  # the 0-based line number, blank lines counted


def test_ascii_carriage_return_is_not_a_line_end() -> None:
    # the kernel ends lines with "\n" only: a "\r" belongs to the last token
    ng = every_template()[1]
    (e,) = parse_ima_ascii(ng.ascii().replace("\n", "\r\n")).entries
    assert e.fields is not None and e.fields["name"] == "/init\r"
    assert check_template_hashes(parse_ima_ascii(ng.ascii().replace("\n", "\r\n"))) == (0,)
    sig = ima_sig("sha256", sha256_of("/x"), "/x", b"\x01")
    text = sig.ascii().replace("\n", "\r\n")
    fail(lambda: parse_ima_ascii(text), ErrorCode.IMA_INVALID_LINE, field="lines[0]")


def test_ascii_missing_trailing_buf_and_modsig_fields_are_empty() -> None:
    # ADR 0003 amendment 1, item 5: ima-buf's buf and ima-modsig's sig, d-modsig and
    # modsig may be missing at the end of a line, and then count as empty
    buf = ima_buf("sha256", sha256_of("b"), "kexec-cmdline", b"")
    mod = ima_modsig("sha256", sha256_of("/m"), "/m", b"", None)
    for entry in (buf, mod):
        short = entry.ascii().rstrip(" \n")
        (e,) = parse_ima_ascii(short).entries
        (b,) = parse_ima_binary(entry.binary()).entries
        assert e.to_json() == b.to_json()
        assert check_template_hashes(parse_ima_ascii(short)) == ()
    (m,) = parse_ima_ascii(mod.ascii().rstrip(" \n") + " 0102").entries  # sig only
    assert m.fields is not None and m.fields["signature"] == "0102"
    assert m.template_data.endswith(field(b"\x01\x02") + u32(0) + u32(0))


def test_signature_and_buffer_null_or_empty() -> None:
    # ADR 0003 amendment 1, item 4: null without the field, "" with it empty
    entries = [
        ima_ng("sha256", sha256_of("a"), "/a"),
        ima_sig("sha256", sha256_of("b"), "/b", b""),
        ima_buf("sha256", sha256_of("c"), "c", b""),
        ima_modsig("sha256", sha256_of("d"), "/d", b"", ("sha256", sha256_of("m"), b"\x05")),
        ima_entry(hashlib.sha1(b"e").digest(), "/e"),
    ]
    got = [
        (f["signature"], f["buffer"], f["digestAlg"])
        for e in parse_ima_binary(binary_of(entries)).entries
        if (f := e.fields) is not None
    ]
    assert got == [
        (None, None, "sha256"),
        ("", None, "sha256"),
        (None, "", "sha256"),
        ("", None, "sha256"),  # d-modsig and modsig only in templateData
        (None, None, "sha1"),
    ]


def test_ascii_name_bytes_round_trip() -> None:
    raw = b"/tmp/caf\xc3\xa9-\xff"  # UTF-8 then a byte that is not UTF-8
    fields = [d_ng("sha256", sha256_of("x")), raw + b"\x00"]
    data = b"".join(field(f) for f in fields)
    binary = u32(10) + hashlib.sha1(data).digest() + u32(6) + b"ima-ng" + u32(len(data)) + data
    (e,) = parse_ima_binary(binary).entries
    text = (
        f"10 {hashlib.sha1(data).hexdigest()} ima-ng sha256:{sha256_of('x').hex()} "
        + raw.decode("utf-8", "surrogateescape")
    )
    (a,) = parse_ima_ascii(text).entries
    assert a.template_data == e.template_data == data
    assert check_template_hashes(parse_ima_ascii(text)) == ()


# ------------------------------------------------------------------ template hashes


def test_template_hash_failure_is_reported_and_replayed_as_logged() -> None:
    entries = every_template()
    bad = entries[3]
    bad.template_hash = hashlib.sha1(b"not the data").digest()
    legacy = entries[0]
    legacy.template_hash = hashlib.sha1(legacy.shown).digest()  # hashed without the pad
    log = parse_ima_binary(binary_of(entries))
    assert check_template_hashes(log) == (0, 3)
    replay = replay_ima(log)
    assert replay.template_hash_failures == (0, 3)
    assert replay.to_json()["pcrs"]["sha1"] == expected_pcrs(entries, "sha1")
    assert replay.to_json()["pcrs"]["sha256"] == expected_pcrs(entries, "sha256")
    values = {b: {10: bytes.fromhex(expected_pcrs(entries, b)["10"])} for b in ("sha1", "sha256")}
    verdict = verify_ima(log, values).to_json()
    assert verdict["result"] == "mismatch"
    assert verdict["matchedEntries"] is None
    assert verdict["templateHashFailures"] == [0, 3]


def test_unknown_template_binary_kept_with_warning() -> None:
    data = field(b"sha256:\x00" + sha256_of("u")) + field(b"/u\x00") + field(b"\x01\x02")
    name = b"d-ng|n-ng|iuid"
    binary = u32(10) + hashlib.sha1(data).digest() + u32(len(name)) + name + field(data)
    log = parse_ima_binary(binary)
    (e,) = log.entries
    assert e.fields is None
    assert e.to_json()["fields"] is None
    assert e.template_name == "d-ng|n-ng|iuid"
    assert check_template_hashes(log) == ()
    replay = replay_ima(log)
    (warning,) = replay.to_json()["warnings"]
    assert set(warning) == {"code", "entry", "message"}  # ADR 0003 amendment 1, item 1
    assert (warning["code"], warning["entry"]) == ("IMA_UNKNOWN_TEMPLATE", 0)
    assert "IMA_UNKNOWN_TEMPLATE (entry 0)" in format_ima_replay(replay)
    assert (
        replay.pcrs["sha256"][10]
        == hashlib.sha256(bytes(32) + hashlib.sha256(data).digest()).digest()
    )


def test_unknown_template_ascii_is_rejected() -> None:
    line = f"10 {'ab' * 20} evm-sig sha256:00 /x\n"
    fail(lambda: parse_ima_ascii(line), ErrorCode.IMA_UNKNOWN_TEMPLATE, field="lines[0]")


# ------------------------------------------------------------------ verify


def prefix_values(entries: list[Entry], n: int, banks: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, dict[int, bytes]] = {}
    for bank in banks:
        values = expected_pcrs(entries[:n], bank)
        out[bank] = {10: bytes.fromhex(values.get("10", "00" * HASHES[bank](b"").digest_size))}
    return out


@pytest.mark.parametrize("n", [0, 1, 4, 7, 9])
def test_verify_names_the_shortest_matching_prefix(n: int) -> None:
    entries = [e for e in every_template() if e.pcr == 10]
    log = parse_ima_binary(binary_of(entries))
    values = prefix_values(entries, n, ("sha1", "sha256"))
    verdict = verify_ima(log, values)
    doc = verdict.to_json()
    assert set(doc) == {"result", "matchedEntries", "pcrs", "templateHashFailures", "claims"}
    assert doc["result"] == "match"
    assert doc["matchedEntries"] == n
    assert doc["pcrs"] == [
        {"bank": b, "pcr": 10, "expected": values[b][10].hex(), "replayed": values[b][10].hex()}
        for b in ("sha1", "sha256")
    ]
    assert doc["templateHashFailures"] == []
    assert doc["claims"]
    assert "result: match" in format_ima_verdict(verdict)


def test_verify_banks_must_agree_on_the_prefix() -> None:
    entries = [e for e in every_template() if e.pcr == 10]
    log = parse_ima_binary(binary_of(entries))
    values = {
        "sha1": prefix_values(entries, 3, ("sha1",))["sha1"],
        "sha256": prefix_values(entries, 4, ("sha256",))["sha256"],
    }
    doc = verify_ima(log, values).to_json()
    assert doc["result"] == "mismatch"
    assert doc["matchedEntries"] is None
    full = {b: expected_pcrs(entries, b)["10"] for b in ("sha1", "sha256")}
    assert [r["replayed"] for r in doc["pcrs"]] == [full["sha1"], full["sha256"]]


def test_verify_pcr_not_named_by_the_list() -> None:
    entries = every_template()
    log = parse_ima_binary(binary_of(entries))
    values = prefix_values(entries, len(entries), ("sha1",))
    values["sha1"][0] = b"\x11" * 20  # PCR 0 is not an IMA PCR
    doc = verify_ima(log, values).to_json()
    assert doc["result"] == "match"
    assert doc["pcrs"][0] == {"bank": "sha1", "pcr": 0, "expected": "11" * 20, "replayed": None}
    only_unnamed = verify_ima(log, {"sha1": {0: b"\x11" * 20}}).to_json()
    assert only_unnamed["result"] == "mismatch"


def test_verify_rows_sorted_by_alg_id_then_pcr() -> None:
    # ADR 0003 amendment 1, item 7: TPM_ALG_ID order (sha1 0x0004 < sha256 0x000B)
    entries = every_template()
    log = parse_ima_binary(binary_of(entries))
    full = {b: expected_pcrs(entries, b) for b in ("sha1", "sha256")}
    values = {
        "sha256": {p: bytes.fromhex(full["sha256"][str(p)]) for p in (10, 9)},
        "sha1": {10: bytes.fromhex(full["sha1"]["10"])},
    }
    doc = verify_ima(log, values).to_json()
    assert [(r["bank"], r["pcr"]) for r in doc["pcrs"]] == [
        ("sha1", 10),
        ("sha256", 9),
        ("sha256", 10),
    ]
    assert doc["result"] == "match"
    assert doc["matchedEntries"] == len(entries)


def test_verify_from_tpm2_pcrread_yaml() -> None:
    entries = every_template()[:4]
    log = parse_ima_binary(binary_of(entries))
    sha1 = expected_pcrs(entries, "sha1")
    text = f"sha1:\n  9 : 0x{sha1['9'].upper()}\n  10: 0x{sha1['10'].upper()}\n"
    doc = verify_ima(log, parse_pcr_values(text)).to_json()
    assert doc["result"] == "match"
    assert doc["matchedEntries"] == 4


@pytest.mark.parametrize(
    ("pcrs", "code"),
    [
        ({}, ErrorCode.INVALID_PCR_VALUES),
        ({"sha1": {}}, ErrorCode.INVALID_PCR_VALUES),
        ({"md5": {10: bytes(16)}}, ErrorCode.UNKNOWN_ALGORITHM),
        ({"sha1": {10: bytes(32)}}, ErrorCode.DIGEST_SIZE_MISMATCH),
        ({"sha1": {24: bytes(20)}}, ErrorCode.INVALID_PCR_VALUES),  # amendment 1, item 7
        ({"sha1": {-1: bytes(20)}}, ErrorCode.INVALID_PCR_VALUES),
        ({"sha1": {True: bytes(20)}}, ErrorCode.INVALID_PCR_VALUES),
        ({"sha1": {"10": bytes(20)}}, ErrorCode.INVALID_PCR_VALUES),
        ({"sha1": {10: "00" * 20}}, ErrorCode.INVALID_PCR_VALUES),
    ],
)
def test_invalid_verify_values(pcrs: Any, code: ErrorCode) -> None:
    log = parse_ima_binary(binary_of(every_template()[:2]))
    fail(lambda: verify_ima(log, pcrs), code)


@pytest.mark.parametrize(
    ("banks", "code"),
    [
        ((), ErrorCode.NO_BANKS),
        (("sha1", "sha1"), ErrorCode.DUPLICATE_BANK),
        (("sha2",), ErrorCode.UNKNOWN_ALGORITHM),
        ("sha1", ErrorCode.INVALID_DOCUMENT),
    ],
)
def test_invalid_replay_banks(banks: Any, code: ErrorCode) -> None:
    log = parse_ima_binary(binary_of(every_template()[:2]))
    fail(lambda: replay_ima(log, banks), code)


def test_format_replay() -> None:
    replay = replay_ima(parse_ima_binary(binary_of(every_template())))
    text = format_ima_replay(replay)
    assert "entries: 10" in text
    assert "violations: 2" in text
    assert expected_pcrs(every_template(), "sha256")["10"] in text


# ------------------------------------------------------------------ hostile input


def test_truncated_at_every_offset() -> None:
    entries = every_template()
    data = binary_of(entries)
    starts = offsets_of(entries)
    for cut in range(len(data)):
        if cut in starts:  # a cut between entries leaves complete entries
            assert len(parse_ima_binary(data[:cut]).entries) == starts.index(cut)
            continue
        start = max(s for s in starts if s <= cut)
        err = fail(lambda cut=cut: parse_ima_binary(data[:cut]), ErrorCode.TRUNCATED)
        assert err.offset == start, cut
        assert err.field is not None and err.field.startswith(f"entries[{starts.index(start)}].")
        partial = parse_ima_binary(data[:cut], allow_partial_tail=True)
        assert len(partial.entries) == starts.index(start)
        assert partial.tail == cut - start


def test_cut_between_entries_is_complete() -> None:
    entries = every_template()
    data = binary_of(entries)
    log = parse_ima_binary(data + b"\n", allow_partial_tail=True)
    assert len(log.entries) == len(entries)
    assert log.tail == 1
    err = fail(lambda: parse_ima_binary(data + b"\n"), ErrorCode.TRUNCATED)
    assert err.offset == len(data)


def measure_peak(call: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        try:
            call()
        except MalformedInputError:
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("length", [0xFFFFFFFF, 0x7FFFFFFF, 1 << 30])
def test_giant_template_data_length_allocates_nothing(length: int) -> None:
    data = u32(10) + bytes(20) + u32(6) + b"ima-ng" + u32(length) + b"\x00" * 64
    err = fail(lambda: parse_ima_binary(data), ErrorCode.TRUNCATED)
    assert err.offset == 0
    assert measure_peak(lambda: parse_ima_binary(data)) < 64 * 1024


def test_giant_ima_name_length() -> None:
    data = u32(10) + bytes(20) + u32(3) + b"ima" + bytes(20) + u32(0xFFFFFFFF) + b"x" * 16
    err = fail(
        lambda: parse_ima_binary(data),
        ErrorCode.IMA_INVALID_TEMPLATE_DATA,
        field="entries[0].templateData.n",
    )
    assert err.offset == 0  # the entry's start (ADR 0003 amendment 1 item 10)
    assert measure_peak(lambda: parse_ima_binary(data)) < 64 * 1024


@pytest.mark.parametrize("name_len", [256, 0xFFFFFFFF])
def test_template_name_longer_than_255(name_len: int) -> None:
    # ADR 0003 amendment 1, item 2: field entries[i].nameLen, offset = the entry's start
    data = u32(10) + bytes(20) + u32(name_len) + b"i" * 300
    err = fail(
        lambda: parse_ima_binary(data),
        ErrorCode.IMA_UNKNOWN_TEMPLATE,
        field="entries[0].nameLen",
    )
    assert err.offset == 0
    good = binary_of(every_template()[:2])
    err = fail(
        lambda: parse_ima_binary(good + data, allow_partial_tail=True),
        ErrorCode.IMA_UNKNOWN_TEMPLATE,
        field="entries[2].nameLen",
    )
    assert err.offset == len(good)


def test_template_name_of_255_bytes_is_kept() -> None:
    data = field(d_ng("sha256", sha256_of("x"))) + field(b"/x\x00")
    name = b"t" * 255
    binary = u32(10) + hashlib.sha1(data).digest() + u32(255) + name + field(data)
    (e,) = parse_ima_binary(binary).entries
    assert e.template_name == "t" * 255
    assert e.fields is None


def with_data(template: bytes, data: bytes) -> bytes:
    return u32(10) + b"\x01" * 20 + u32(len(template)) + template + field(data)


DNG = field(d_ng("sha256", bytes(32)))
MOD = DNG + field(b"/x\x00") + field(b"")  # ima-modsig's d-ng, n-ng and an empty sig


@pytest.mark.parametrize(
    ("template", "data", "where"),
    [
        (b"ima-ng", DNG, "n-ng"),  # one field short
        (b"ima-ng", DNG + field(b"/x\x00") + b"\x00", "n-ng"),  # a byte after the fields
        (b"ima-ng", DNG + u32(100) + b"/x\x00", "n-ng"),  # n-ng overruns
        (b"ima-ng", u32(0xFFFFFFFF) + b"sha256:\x00", "d-ng"),  # d-ng overruns
        (b"ima-ng", DNG[:3], "d-ng"),  # no room for a length
        (b"ima-ng", field(bytes(32)) + field(b"/x\x00"), "d-ng"),  # no "alg:" NUL
        (b"ima-ng", field(b"sha256:" + b"\x01" * 32) + field(b"/x\x00"), "d-ng"),
        (b"ima-ng", field(b":\x00" + bytes(32)) + field(b"/x\x00"), "d-ng"),  # empty alg
        (b"ima-ng", field(b"sha256:") + field(b"/x\x00"), "d-ng"),  # colon at the end
        (b"ima-ng", b"", "d-ng"),
        (b"ima-sig", DNG + field(b"/x\x00"), "sig"),
        (b"ima-buf", DNG + field(b"/x\x00") + u32(9), "buf"),
        (
            b"ima-modsig",
            DNG + field(b"/x\x00") + field(b"") + field(b"xx") + field(b""),
            "d-modsig",
        ),
        (b"ima-modsig", DNG + field(b"/x\x00") + field(b"") + field(b""), "modsig"),
    ],
)
def test_invalid_template_data(template: bytes, data: bytes, where: str) -> None:
    binary = with_data(template, data)
    fail(
        lambda: parse_ima_binary(binary),
        ErrorCode.IMA_INVALID_TEMPLATE_DATA,
        field=f"entries[0].templateData.{where}",
    )
    # a complete entry with bad data is not a partial tail
    fail(
        lambda: parse_ima_binary(binary, allow_partial_tail=True),
        ErrorCode.IMA_INVALID_TEMPLATE_DATA,
    )


def test_invalid_entry_reports_its_index_and_offset() -> None:
    good = every_template()[:3]
    bad = with_data(b"ima-ng", DNG)
    data = binary_of(good) + bad
    err = fail(lambda: parse_ima_binary(data), ErrorCode.IMA_INVALID_TEMPLATE_DATA)
    assert err.field == "entries[3].templateData.n-ng"
    assert err.offset == len(binary_of(good))  # the entry's start (ADR 0003 am. 1 item 10)


HASH40 = "ab" * 20
DIG = "sha256:" + "00" * 32


@pytest.mark.parametrize(
    "line",
    [
        "10",
        f"10 {HASH40}",
        f"10 {HASH40} ima-ng",  # no fields
        f"10 {HASH40} ima-ng {DIG}",  # no name
        f"10 {HASH40} ima-ng {DIG} /x extra",
        f"10  {HASH40} ima-ng {DIG} /x",  # two spaces
        f"x0 {HASH40} ima-ng {DIG} /x",
        f"-1 {HASH40} ima-ng {DIG} /x",
        f"4294967296 {HASH40} ima-ng {DIG} /x",
        f"10 {HASH40[:-2]} ima-ng {DIG} /x",
        f"10 {HASH40}zz ima-ng {DIG} /x",
        f"10 {'g' * 40} ima-ng {DIG} /x",
        f"10 {HASH40} ima-ng 00{'00' * 31} /x",  # no alg
        f"10 {HASH40} ima-ng :{'00' * 32} /x",
        f"10 {HASH40} ima-ng sha256:0 /x",  # odd hex
        f"10 {HASH40} ima-ng sha256:0g /x",
        f"10 {HASH40} ima-ng sha\u00e9:00 /x",
        f"10 {HASH40} ima-ng {DIG} /x\x00y",
        f"10 {HASH40} ima-ng {DIG} /\ud800",
        f"10 {HASH40} ima-sig {DIG} /x zz",
        f"10 {HASH40} ima-sig {DIG} /x 00 00",
        f"10 {HASH40} ima-buf {DIG} /x 0",
        f"10 {HASH40} ima-modsig {DIG} /x 00 00 00",  # d-modsig without alg
        f"10 {HASH40} ima {'00' * 19} /x",  # d is 20 bytes
        f"10 {HASH40} ima {'00' * 20} {'a' * 256}",
        f"10 {HASH40} ima {'00' * 20}",
        # hex is lowercase only (ADR 0003 amendment 1, item 5)
        f"10 {HASH40.upper()} ima-ng {DIG} /x",
        f"10 {'aB' * 20} ima-ng {DIG} /x",
        f"10 {HASH40} ima-ng sha256:{'AB' * 32} /x",
        f"10 {HASH40} ima-sig {DIG} /x 0A",
        f"10 {HASH40} ima-buf {DIG} /x FF",
        f"10 {HASH40} ima-modsig {DIG} /x 00 sha256:{'0F' * 32} 00",
        f"10 {HASH40} ima-modsig {DIG} /x 00 {DIG} 0F",
        f"10 {HASH40} ima {'AB' * 20} /x",
        # only sig / buf / d-modsig / modsig may be missing
        f"10 {HASH40} ima-sig {DIG}",
        f"10 {HASH40} ima-buf {DIG}",
        f"10 {HASH40} ima-modsig {DIG}",
        f"10 {HASH40} ima-modsig {DIG} /x 00 00 00 00",  # one too many
        # d-ng is alg:hex with a non-empty printable alg
        f"10 {HASH40} ima-ng sha\x01:00 /x",
        f"10 {HASH40} ima-ng sha\x7f:00 /x",
        f"10 {HASH40} ima-ng sha256 /x",
        f"10 {HASH40} ima-modsig {DIG} /x 00 :00 00",
        f"10\t{HASH40} ima-ng {DIG} /x",
        f"\u0661\u0660 {HASH40} ima-ng {DIG} /x",  # Arabic-Indic digits
    ],
)
def test_invalid_ascii_line(line: str) -> None:
    good = every_template()[1].ascii()
    text = good + line + "\n" + good
    err = fail(lambda: parse_ima_ascii(text), ErrorCode.IMA_INVALID_LINE, field="lines[1]")
    assert err.offset == 1


def test_invalid_input_types() -> None:
    fail(lambda: parse_ima_binary("text"), ErrorCode.INVALID_DOCUMENT)  # type: ignore[arg-type]
    fail(lambda: parse_ima_ascii(b"10"), ErrorCode.INVALID_DOCUMENT)  # type: ignore[arg-type]
    fail(lambda: replay_ima([]), ErrorCode.INVALID_DOCUMENT)  # type: ignore[arg-type]


def test_empty_lists() -> None:
    assert parse_ima_binary(b"") == ImaLog((), 0, "binary")
    assert parse_ima_ascii("") == ImaLog((), 0, "ascii")
    assert replay_ima(parse_ima_binary(b"")).to_json()["pcrs"] == {"sha1": {}, "sha256": {}}


def test_memory_is_bounded_by_the_input() -> None:
    entries = [ima_ng("sha256", sha256_of(str(i)), f"/usr/lib/f{i}.so") for i in range(2000)]
    data = binary_of(entries)
    peak = measure_peak(lambda: parse_ima_binary(data))
    assert peak < 6 * len(data), (peak, len(data))


# ------------------------------------------------------------------ properties

NAMES = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=" \n\r\x00"), min_size=0, max_size=40
)
DIGESTS = st.binary(min_size=0, max_size=64)


@st.composite
def entries_st(draw: st.DrawFn) -> Entry:
    kind = draw(st.sampled_from(["ima", "ima-ng", "ima-sig", "ima-buf", "ima-modsig"]))
    name = draw(NAMES)
    pcr = draw(st.integers(0, 23))
    violation = draw(st.booleans())
    alg = draw(st.sampled_from(["sha1", "sha256", "sha512", "sm3", "sha3-256"]))
    digest = draw(DIGESTS)
    if kind == "ima":
        raw = name.encode()[:255].decode("utf-8", "ignore")
        return ima_entry(draw(st.binary(min_size=20, max_size=20)), raw, pcr=pcr)
    if kind == "ima-ng":
        return ima_ng(alg, digest, name, pcr=pcr, violation=violation)
    if kind == "ima-sig":
        return ima_sig(alg, digest, name, draw(DIGESTS), pcr=pcr, violation=violation)
    if kind == "ima-buf":
        return ima_buf(alg, digest, name, draw(DIGESTS), pcr=pcr, violation=violation)
    mod = draw(st.none() | st.tuples(st.just("sha256"), DIGESTS, DIGESTS))
    return ima_modsig(alg, digest, name, draw(DIGESTS), mod, pcr=pcr, violation=violation)


@given(st.lists(entries_st(), max_size=8))
def test_property_binary_ascii_replay_agree(entries: list[Entry]) -> None:
    binary = parse_ima_binary(binary_of(entries))
    text = parse_ima_ascii(ascii_of(entries))
    assert [e.to_json() for e in binary.entries] == [e.to_json() for e in text.entries]
    replay = replay_ima(binary, ("sha1", "sha256")).to_json()
    assert replay["pcrs"] == {b: expected_pcrs(entries, b) for b in ("sha1", "sha256")}
    assert replay == replay_ima(text, ("sha1", "sha256")).to_json()
    assert check_template_hashes(binary) == ()


@given(st.binary(max_size=400))
def test_property_arbitrary_bytes_fail_closed(data: bytes) -> None:
    try:
        log = parse_ima_binary(data, allow_partial_tail=True)
    except MalformedInputError as exc:
        assert exc.code in {
            ErrorCode.IMA_INVALID_TEMPLATE_DATA,
            ErrorCode.IMA_UNKNOWN_TEMPLATE,
        }
        return
    assert log.tail <= len(data)
    replay_ima(log)


@given(st.text(max_size=300))
def test_property_arbitrary_text_fail_closed(text: str) -> None:
    try:
        parse_ima_ascii(text)
    except MalformedInputError as exc:
        assert exc.code in {ErrorCode.IMA_INVALID_LINE, ErrorCode.IMA_UNKNOWN_TEMPLATE}
