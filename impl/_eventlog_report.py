"""Verification of a log against PCR values, reading PCR values, and text listings.

Contract: docs/adr/0002-eventlog-contract.md ("Verification"). A verdict states claims
with their scope (which bank, which PCRs, what the match does not cover); a PCR no event
names is `not_in_log` and never counted as verified.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl._eventlog_parse import EventLog, alg_label
from chainoftrust.impl._replay import PCR_COUNT, DataCheck, replay_event_log
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_from_name


@dataclass(frozen=True, slots=True)
class PcrRow:
    """One supplied PCR value and what the replay says about it."""

    bank: str
    pcr: int
    status: str  # "matched" | "mismatched" | "not_in_log"
    expected: bytes
    replayed: bytes | None
    events: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "pcr": self.pcr,
            "status": self.status,
            "expected": self.expected.hex(),
            "replayed": None if self.replayed is None else self.replayed.hex(),
            "events": list(self.events),
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """The comparison of a log's replay with supplied PCR values."""

    result: str  # "match" | "mismatch"
    rows: tuple[PcrRow, ...]
    first_mismatch: tuple[str, int] | None
    claims: tuple[str, ...]
    warnings: tuple[dict[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        first = self.first_mismatch
        return {
            "result": self.result,
            "pcrs": [r.to_json() for r in self.rows],
            "firstMismatch": None if first is None else {"bank": first[0], "pcr": first[1]},
            "claims": list(self.claims),
            "warnings": [dict(w) for w in self.warnings],
        }


def _bad_values(message: str, field: str | None = None) -> MalformedInputError:
    return MalformedInputError(ErrorCode.INVALID_PCR_VALUES, message, field=field)


def _checked_pcrs(
    pcrs: Mapping[str, Mapping[int, bytes]],
) -> list[tuple[HashAlg, str, int, bytes]]:
    """The supplied values, validated, in row order (ascending bank id, then index)."""
    if not isinstance(pcrs, Mapping):
        raise _bad_values("PCR values must be a mapping of bank name to {index: value}")
    rows = []
    for name, values in pcrs.items():
        alg = hash_alg_from_name(name)
        if not isinstance(values, Mapping):
            raise _bad_values(f"{name}: expected a mapping of PCR index to value", name)
        for index, value in values.items():
            field = f"{name}.{index}"
            if not isinstance(index, int) or isinstance(index, bool):
                raise _bad_values(f"PCR index {index!r} is not an integer", field)
            if not 0 <= index < PCR_COUNT:
                raise MalformedInputError(
                    ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR {index} is not 0-23", field=field
                )
            if not isinstance(value, bytes | bytearray):
                raise _bad_values(f"value of {field} is not bytes", field)
            if len(value) != DIGEST_SIZES[alg]:
                raise MalformedInputError(
                    ErrorCode.DIGEST_SIZE_MISMATCH,
                    f"{name} values are {DIGEST_SIZES[alg]} bytes, got {len(value)}",
                    field=field,
                )
            rows.append((alg, name, index, bytes(value)))
    if not rows:
        raise _bad_values("no PCR values supplied")
    rows.sort(key=lambda r: (int(r[0]), r[2]))
    return rows


def _ranges(indices: Iterable[int]) -> str:
    return ", ".join(str(i) for i in indices)


def verify_event_log(
    log: EventLog, pcrs: Mapping[str, Mapping[int, bytes]], *, strict: bool = False
) -> Verdict:
    """Compare the replay of `log` with supplied PCR values.

    (1) Validate the supplied values. (2) Replay (strict findings raise). (3) One row per
    supplied PCR: not_in_log when no event names it (or the log has no such bank),
    else matched / mismatched. (4) result is match when no row mismatched and at least
    one matched. (5) Claims in words, with their scope.
    """
    from chainoftrust.impl._replay import check_event_data  # noqa: PLC0415 (cycle-free)

    supplied = _checked_pcrs(pcrs)  # (1)
    replay = replay_event_log(log, strict=strict)  # (2)
    rows = []
    for _alg, name, index, expected in supplied:  # (3)
        bank = replay.pcrs.get(name)
        if bank is None or index not in bank:
            rows.append(PcrRow(name, index, "not_in_log", expected, None, ()))
            continue
        value = bank[index]
        status = "matched" if value == expected else "mismatched"
        rows.append(PcrRow(name, index, status, expected, value, replay.extended_by[name][index]))
    mismatched = [r for r in rows if r.status == "mismatched"]
    matched = [r for r in rows if r.status == "matched"]
    result = "match" if matched and not mismatched else "mismatch"  # (4)
    first = None if not mismatched else (mismatched[0].bank, mismatched[0].pcr)
    claims = _claims(rows, check_event_data(log))  # (5)
    return Verdict(
        result, tuple(rows), first, tuple(claims), tuple(w.to_json() for w in replay.warnings)
    )


def _claims(rows: list[PcrRow], checks: tuple[DataCheck, ...]) -> list[str]:
    claims = []
    banks = list(dict.fromkeys(r.bank for r in rows))
    for bank in banks:
        mine = [r for r in rows if r.bank == bank]
        for status, text in (
            ("matched", "replaying the event log's digests gives the supplied values"),
            ("mismatched", "replaying the event log's digests does NOT give the supplied values"),
            ("not_in_log", "no event of the log names them: not verified by this log"),
        ):
            indices = [r.pcr for r in mine if r.status == status]
            if indices:
                claims.append(f"{bank} PCR {_ranges(indices)}: {text}")
    counts: dict[str, int] = {}
    for c in checks:
        counts[c.status] = counts.get(c.status, 0) + 1
    detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
    claims.append(
        "A PCR match covers the events' digests only; event types and event data are not "
        "covered by it, except the "
        f"{len(checks)} events whose digests were recomputed from their data ({detail})"
    )
    claims.append("No claim is made about the platform beyond these values")
    return claims


_BANK_LINE = re.compile(r"^([A-Za-z0-9_]+)\s*:\s*$")
_PCR_LINE = re.compile(r"^(\d+)\s*:\s*(?:0[xX])?([0-9A-Fa-f]*)\s*$")


def _decode_value(name: str, index: int, text: str, field: str) -> bytes:
    alg = hash_alg_from_name(name)
    # ADR 0002 amendment 2 item 7: the index is checked before the value
    if not 0 <= index < PCR_COUNT:
        raise MalformedInputError(
            ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR {index} is not 0-23", field=field
        )
    if len(text) % 2:
        raise MalformedInputError(ErrorCode.INVALID_HEX, f"odd-length hex {text!r}", field=field)
    try:
        value = bytes.fromhex(text)
    except ValueError as exc:
        raise MalformedInputError(ErrorCode.INVALID_HEX, f"not hex: {text!r}", field=field) from exc
    if len(value) != DIGEST_SIZES[alg]:
        raise MalformedInputError(
            ErrorCode.DIGEST_SIZE_MISMATCH,
            f"{name} PCR {index}: {len(value)} bytes, expected {DIGEST_SIZES[alg]}",
            field=field,
        )
    return value


def _put(out: dict[str, dict[int, bytes]], name: str, index: int, value: bytes, field: str) -> None:
    bank = out.setdefault(name, {})
    if index in bank:
        raise _bad_values(f"{name} PCR {index} given twice", field)
    bank[index] = value


def _from_json(doc: Any) -> dict[str, dict[int, bytes]]:
    if isinstance(doc, dict) and set(doc) == {"pcrs"}:
        doc = doc["pcrs"]
    if not isinstance(doc, dict):
        raise _bad_values('expected {"pcrs": {"<bank>": {"<pcr>": "<hex>"}}}')
    out: dict[str, dict[int, bytes]] = {}
    for name, values in doc.items():
        if not isinstance(values, dict):
            raise _bad_values(f"{name}: expected an object of PCR values", str(name))
        for key, text in values.items():
            field = f"pcrs.{name}.{key}"
            if not isinstance(key, str) or not key.isdigit() or not isinstance(text, str):
                raise _bad_values(f"{field}: expected a decimal key and a hex string", field)
            hex_text = text[2:] if text[:2] in ("0x", "0X") else text
            index = int(key)
            _put(out, name, index, _decode_value(name, index, hex_text, field), field)
    return out


def parse_pcr_values(text: str) -> dict[str, dict[int, bytes]]:
    """PCR values from `tpm2_pcrread` YAML (`sha256:` then `  0 : 0x...` lines; an
    enclosing `pcrs:` line, as tpm2_eventlog prints, is accepted) or from JSON
    (`{"pcrs": {"sha256": {"0": "hex"}}}`, or without the `pcrs` wrapper)."""
    if not isinstance(text, str):
        raise _bad_values("expected text")
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _bad_values(f"not JSON: {exc.msg} at line {exc.lineno}") from exc
        out = _from_json(doc)
    else:
        out = {}
        bank: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            field = f"line {number}"
            if not line or line in ("---", "pcrs:"):
                continue
            if m := _BANK_LINE.match(line):
                bank = m.group(1)
                hash_alg_from_name(bank)
                if bank in out:
                    raise MalformedInputError(
                        ErrorCode.DUPLICATE_BANK, f"bank {bank} appears twice", field=field
                    )
                out[bank] = {}
                continue
            m = _PCR_LINE.match(line)
            if m is None or bank is None:
                raise _bad_values(f"unexpected line {raw.strip()!r}", field)
            index = int(m.group(1))
            _put(out, bank, index, _decode_value(bank, index, m.group(2), field), field)
    if not any(out.values()):
        raise _bad_values("no PCR values found")
    return out


def _yaml_str(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)


def _parsed_lines(parsed: dict[str, Any] | None, data: bytes) -> list[str]:
    if parsed is None:
        return [f"  Event: {_yaml_str(data.hex())}"] if data else []
    kind = parsed["kind"]
    if kind == "spec_id":
        lines = [
            "  SpecID:",
            "  - Signature: Spec ID Event03",
            f"    platformClass: {parsed['platformClass']}",
            f"    specVersion: {parsed['specVersion']}",
            f"    uintnSize: {parsed['uintnSize']}",
            f"    numberOfAlgorithms: {len(parsed['algorithms'])}",
            "    Algorithms:",
        ]
        for i, a in enumerate(parsed["algorithms"]):
            lines += [
                f"    - Algorithm[{i}]:",
                f"      algorithmId: {a['alg']}",
                f"      digestSize: {a['digestSize']}",
            ]
        return lines
    lines = ["  Event:"]
    for key, value in parsed.items():
        if key == "kind":
            continue
        if key == "partitions":
            lines.append("    Partitions:")
            for p in value:
                lines.append(f"    - PartitionName: {_yaml_str(p['name'])}")
                lines += [f"      {k}: {v}" for k, v in p.items() if k != "name"]
            continue
        if key == "value" and kind == "separator":
            lines.append(f"    Value: 0x{value:08x}")
            continue
        shown = _yaml_str(value) if isinstance(value, str) else str(value)
        lines.append(f"    {key[0].upper()}{key[1:]}: {shown}")
    return lines


def format_event_table(log: EventLog, checks: Iterable[DataCheck]) -> str:
    """A YAML-like listing in the style of tpm2_eventlog (EventNum, PCRIndex, EventType,
    Digests with AlgorithmId, EventSize, Event), plus each event's data check."""
    by_event = {c.event: c for c in checks}
    out = ["---", "version: 1", f"format: {log.format}", "events:"]
    for e in log.events:
        out += [
            f"- EventNum: {e.index}",
            f"  PCRIndex: {e.pcr}",
            f"  EventType: {e.type_name if e.type_name != 'UNKNOWN' else f'0x{e.type:08x}'}",
        ]
        if e.index == 0 or log.spec_id is None:
            out.append(f'  Digest: "{e.digests[0][1].hex()}"')
        else:
            out.append(f"  DigestCount: {len(e.digests)}")
            out.append("  Digests:")
            for alg, digest in e.digests:
                out += [f"  - AlgorithmId: {alg_label(alg)}", f'    Digest: "{digest.hex()}"']
        out.append(f"  EventSize: {len(e.data)}")
        out += _parsed_lines(e.parsed(log.spec_id), e.data)
        check = by_event.get(e.index)
        if check is not None:
            quirk = f" ({check.quirk})" if check.quirk else ""
            out.append(f"  DataCheck: {check.status}{quirk}")
    return "\n".join(out) + "\n"


def format_verdict(verdict: Verdict) -> str:
    """The verdict for people: result, one line per supplied PCR, claims, warnings."""
    out = [f"result: {verdict.result}"]
    if verdict.first_mismatch is not None:
        bank, pcr = verdict.first_mismatch
        out.append(f"first mismatch: {bank} PCR {pcr}")
    out.append("pcrs:")
    for r in verdict.rows:
        replayed = "-" if r.replayed is None else r.replayed.hex()
        out.append(f"  {r.bank:8} {r.pcr:2d}  {r.status:10}  expected {r.expected.hex()}")
        if r.status != "matched":
            out.append(f"  {'':8} {'':2}  {'':10}  replayed {replayed}")
    out.append("claims:")
    out += [f"  - {c}" for c in verdict.claims]
    if verdict.warnings:
        out.append("warnings:")
        for w in verdict.warnings:
            where = "" if w["event"] is None else f" (event {w['event']})"
            out.append(f"  - {w['code']}{where}: {w['message']}")
    return "\n".join(out) + "\n"
