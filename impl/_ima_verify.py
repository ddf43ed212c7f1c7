"""IMA lists against PCR values read from a TPM, and text for people.

Contract: docs/adr/0003-ima-contract.md ("verify_ima"). The list and the PCR are read at
different moments and the kernel appends to the list concurrently, so a match names the
shortest prefix of the list whose replay gives every supplied value (keylime #341).
A verdict states claims with their scope; a supplied PCR no entry names is listed with
`replayed` null and is not verified by the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl._ima_parse import ImaEntry, ImaLog, ima_hashed_data
from chainoftrust.impl._ima_replay import (
    PCR_COUNT,
    ImaReplay,
    _check_log,
    check_template_hashes,
)
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_from_name, hasher_factory


@dataclass(frozen=True, slots=True)
class ImaPcrRow:
    """One supplied PCR value and the replay at the matched prefix (else of the whole
    list); `replayed` is None when no entry of the list names the PCR."""

    bank: str
    pcr: int
    expected: bytes
    replayed: bytes | None

    def to_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "pcr": self.pcr,
            "expected": self.expected.hex(),
            "replayed": None if self.replayed is None else self.replayed.hex(),
        }


@dataclass(frozen=True, slots=True)
class ImaVerdict:
    """The comparison of a list's replay with supplied PCR values."""

    result: str  # "match" | "mismatch"
    matched_entries: int | None
    rows: tuple[ImaPcrRow, ...]
    template_hash_failures: tuple[int, ...]
    claims: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "matchedEntries": self.matched_entries,
            "pcrs": [r.to_json() for r in self.rows],
            "templateHashFailures": list(self.template_hash_failures),
            "claims": list(self.claims),
        }


def _bad_values(message: str, field: str | None = None) -> MalformedInputError:
    return MalformedInputError(ErrorCode.INVALID_PCR_VALUES, message, field=field)


def _supplied(pcrs: object) -> list[tuple[HashAlg, str, int, bytes]]:
    """The supplied values, validated, ordered by bank (TPM_ALG_ID) then PCR."""
    if not isinstance(pcrs, Mapping):
        raise _bad_values("PCR values must be a mapping of bank name to {index: value}")
    rows = []
    for name, values in pcrs.items():
        alg = hash_alg_from_name(name)
        if not isinstance(values, Mapping):
            raise _bad_values(f"{name}: expected a mapping of PCR index to value", str(name))
        for index, value in values.items():
            field = f"{name}.{index}"
            if not isinstance(index, int) or isinstance(index, bool):
                raise _bad_values(f"PCR index {index!r} is not an integer", field)
            if not 0 <= index < PCR_COUNT:  # ADR 0003 amendment 1, item 7
                raise _bad_values(f"PCR {index} is not 0-23", field)
            if not isinstance(value, bytes | bytearray):
                raise _bad_values(f"value of {field} is not bytes", field)
            if len(value) != DIGEST_SIZES[alg]:
                raise MalformedInputError(
                    ErrorCode.DIGEST_SIZE_MISMATCH,
                    f"{name} values are {DIGEST_SIZES[alg]} bytes, got {len(value)}",
                    field=field,
                )
            rows.append((alg, str(name), index, bytes(value)))
    if not rows:
        raise _bad_values("no PCR values supplied")
    rows.sort(key=lambda r: (int(r[0]), r[2]))
    return rows


def verify_ima(log: ImaLog, pcrs: Mapping[str, Mapping[int, bytes]]) -> ImaVerdict:
    """Find the shortest prefix of `log` whose replay equals every supplied value.

    (1) Validate the supplied values. (2) Compare only the supplied PCRs some entry names.
    (3) Replay entry by entry (from zero, violations as all-0xff) and stop at the first
    prefix (0..n entries) where every compared value matches. (4) Check every template
    hash. (5) match iff a prefix matched, at least one value was compared and no template
    hash failed; claims say what that covers.
    """
    entries = _check_log(log).entries
    supplied = _supplied(pcrs)  # (1)
    named = {e.pcr for e in entries}
    compared = [r for r in supplied if r[2] in named]  # (2)
    matched, state = _shortest_prefix(entries, compared)  # (3)
    failures = check_template_hashes(log)  # (4)
    rows = tuple(
        ImaPcrRow(bank, pcr, expected, state.get((bank, pcr)))
        for _alg, bank, pcr, expected in supplied
    )
    result = "match" if matched is not None and not failures else "mismatch"  # (5)
    claims = _claims(rows, matched, len(entries), failures, sum(e.violation for e in entries))
    return ImaVerdict(result, matched if result == "match" else None, rows, failures, tuple(claims))


def _shortest_prefix(
    entries: tuple[ImaEntry, ...], compared: list[tuple[HashAlg, str, int, bytes]]
) -> tuple[int | None, dict[tuple[str, int], bytes]]:
    """The shortest prefix length whose replay gives every compared value (None if no
    prefix does), and the compared values at that prefix (else after the whole list)."""
    values = [bytes(DIGEST_SIZES[alg]) for alg, _, _, _ in compared]
    ok = [v == r[3] for v, r in zip(values, compared, strict=True)]
    bad = ok.count(False)
    # per PCR: (slot, is SHA-1, constructor, all-0xff, expected)
    targets: dict[int, list[tuple[int, bool, Any, bytes, bytes]]] = {}
    for slot, (alg, _, pcr, expected) in enumerate(compared):
        ff = b"\xff" * DIGEST_SIZES[alg]
        entry = (slot, alg is HashAlg.SHA1, hasher_factory(alg), ff, expected)
        targets.setdefault(pcr, []).append(entry)
    matched = 0 if compared and not bad else None
    if matched is None and compared:
        for position, e in enumerate(entries, 1):
            mine = targets.get(e.pcr)
            if mine is None:
                continue
            data = None
            for slot, is_sha1, f, ff, expected in mine:
                if e.violation:
                    digest = ff
                elif is_sha1:
                    digest = e.template_hash
                else:
                    if data is None:
                        raw = e.template_data
                        data = raw if e.template_name != "ima" else ima_hashed_data(raw)
                    digest = f(data).digest()
                value = values[slot] = f(values[slot] + digest).digest()
                now = value == expected
                if now is not ok[slot]:
                    ok[slot] = now
                    bad += -1 if now else 1
            if not bad:
                matched = position
                break
    state = {(bank, pcr): v for (_, bank, pcr, _), v in zip(compared, values, strict=True)}
    return matched, state


def _claims(
    rows: tuple[ImaPcrRow, ...],
    matched: int | None,
    total: int,
    failures: tuple[int, ...],
    violations: int,
) -> list[str]:
    claims = []
    compared = [r for r in rows if r.replayed is not None]
    for r in rows:
        if r.replayed is None:
            claims.append(f"{r.bank} PCR {r.pcr}: no entry of the list names it: not verified")
    where = ", ".join(f"{r.bank} PCR {r.pcr}" for r in compared)
    if not compared:
        claims.append("No supplied PCR is named by the list: nothing was verified")
    elif matched is None:
        claims.append(f"{where}: no prefix of the list (0-{total} entries) replays to them")
    else:
        claims.append(f"{where}: the first {matched} of {total} entries replay to them")
        if matched < total:
            claims.append(
                f"entries {matched}-{total - 1} are not covered by the supplied values "
                "(appended after the PCRs were read, or not measured into them)"
            )
    if failures:
        shown = ", ".join(str(i) for i in failures[:20]) + (", ..." if len(failures) > 20 else "")
        claims.append(
            f"{len(failures)} entries' template data do NOT hash to their template hash "
            f"(entries {shown}): their fields are not covered"
        )
    else:
        claims.append("every non-violation entry's template data hashes to its template hash")
    if violations:
        claims.append(
            f"{violations} violation entries (all-zero template hash) extended all-0xff: "
            "their template data is not covered by any PCR"
        )
    claims.append(
        "A match covers the entries' template data (file digests, names, signatures) "
        "only; it makes no claim that the measured files are good"
    )
    return claims


def format_ima_replay(replay: ImaReplay) -> str:
    """The replay for people: counts, one line per bank and PCR, failures, warnings."""
    out = [f"entries: {replay.entries}", f"violations: {replay.violations}"]
    failures = replay.template_hash_failures
    out.append(f"template hash failures: {', '.join(map(str, failures)) or 'none'}")
    out.append("pcrs:")
    for bank, values in replay.pcrs.items():
        out += [f"  {bank:8} {pcr:2d}  {value.hex()}" for pcr, value in sorted(values.items())]
    if replay.warnings:
        out.append("warnings:")
        out += [
            f"  - {w.code}{'' if w.entry is None else f' (entry {w.entry})'}: {w.message}"
            for w in replay.warnings
        ]
    return "\n".join(out) + "\n"


def format_ima_verdict(verdict: ImaVerdict) -> str:
    """The verdict for people: result, matched prefix, one line per supplied PCR, claims."""
    out = [f"result: {verdict.result}"]
    if verdict.matched_entries is not None:
        out.append(f"matched entries: {verdict.matched_entries}")
    out.append("pcrs:")
    for r in verdict.rows:
        if r.replayed is None:
            status = "not in list"
        else:
            status = "matches" if r.replayed == r.expected else "differs"
        out.append(f"  {r.bank:8} {r.pcr:2d}  {status:11}  expected {r.expected.hex()}")
        if r.replayed is not None and r.replayed != r.expected:
            out.append(f"  {'':8} {'':2}  {'':11}  replayed {r.replayed.hex()}")
    failures = verdict.template_hash_failures
    out.append(f"template hash failures: {', '.join(map(str, failures)) or 'none'}")
    out.append("claims:")
    out += [f"  - {c}" for c in verdict.claims]
    return "\n".join(out) + "\n"
