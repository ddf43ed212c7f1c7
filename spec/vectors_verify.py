"""Verdict vectors: event logs and IMA lists verified against supplied PCR values.

vectors/eventlog/eventlog_verify_test.json and vectors/ima/ima_verify_test.json: each
test gives a log (hex) and PCR values a TPM would report (tpm2_pcrread's banks and
indices), and the verdict the spec gives (docs/adr/0002 "Verification", docs/adr/0003
verify_ima), without the claims' wording. The supplied values are either the log's own
replay (a match) or what a replayer with a known bug computes (zero start values, no
StartupLocality, no H-CRTM, violations extended as zeros, a list read before it grew):
each such vector is a mismatch a correct verifier reports, and a buggy one accepts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec import _vectors_schema as vs
from chainoftrust.spec import vectors_ima as vi
from chainoftrust.spec import vectors_logs as vl
from chainoftrust.spec.errors import SpecError
from chainoftrust.spec.eventlog import parse_event_log, replay_event_log, verify_event_log
from chainoftrust.spec.hashes import compute_digest, hash_alg_from_name, hash_alg_name
from chainoftrust.spec.ima import parse_ima_binary, replay_ima, verify_ima
from chainoftrust.spec.pcr import compute_extend
from chainoftrust.spec.references import SPECIFICATION_VERSIONS

LOG_OPERATION: Final[str] = "eventlog_verify"
IMA_OPERATION: Final[str] = "ima_verify"
_SOURCE: Final = {"name": "chainoftrust.spec", "version": "1.0"}
_F, _E, _M = vs.CATEGORIES  # functionality, edge case, malformed input
Values = dict[str, dict[int, bytes]]

NOTES: Final[dict[str, tuple[str, str]]] = {
    "AllMatch": (_F, "Every supplied PCR the log names equals its replay."),
    "Mismatch": (_E, "A supplied PCR differs from the log's replay: the log does not explain it."),
    "NotInLog": (_E, "A supplied PCR no event names: not_in_log, never counted as verified."),
    "OnlyNotInLog": (_E, "No supplied PCR is named by the log: nothing verified, mismatch."),
    "ZeroStartDrtm": (_E, "Values of a replayer starting PCRs 17-22 at zero, not all-ff."),
    "IgnoresStartupLocality": (_E, "Values of a replayer ignoring StartupLocality 3."),
    "IgnoresHcrtm": (_E, "Values of a replayer ignoring the H-CRTM start of PCR 0."),
    "SecondBankDiffers": (_E, "Only the second bank mismatches: firstMismatch names it."),
    "TypeNotAuthenticated": (
        _E,
        "Event types are not covered by the PCR values: a relabelled event still matches; "
        "the finding is in the warnings.",
    ),
    "StrictFinding": (_E, "Under strict mode a replay finding is an error, not a warning."),
    "BadSuppliedValue": (_M, "A supplied value of the wrong size: INVALID input, no verdict."),
    "ListGrew": (_F, "The list grew after the PCRs were read: a prefix explains them."),
    "ViolationAsZeros": (_E, "Values of a replayer extending a violation as zeros, not ff."),
    "TemplateHashFailure": (_M, "An entry's template hash is wrong: mismatch even if PCRs match."),
    "MissingBank": (_E, "Values for a bank the log does not carry: not_in_log."),
}
_PFP = "https://trustedcomputinggroup.org/resource/pc-client-specific-platform-firmware-profile-specification/"
_LINKS_LOG = [_PFP, "docs/adr/0002-eventlog-contract.md"]
_LINKS_IMA = [
    "https://docs.kernel.org/security/IMA-templates.html",
    "docs/adr/0003-ima-contract.md",
]


def _naive(records: list[tuple[int, str, bytes]], start: bytes | None = None) -> Values:
    """A replayer's values with every PCR starting at zero (or `start`): (pcr, bank, digest)."""
    out: Values = {}
    for pcr, bank, digest in records:
        alg = hash_alg_from_name(bank)
        old = out.setdefault(bank, {}).get(pcr, start or bytes(len(digest)))
        out[bank][pcr] = compute_extend(alg, old, digest)
    return out


def _replayed(log: bytes) -> Values:
    """Spec: PROJECT adr.0002 vectors - the log's own replay as supplied values."""
    replay = replay_event_log(parse_event_log(log))
    return {hash_alg_name(bank): dict(values) for bank, values in replay.pcrs.items()}


@dataclass(frozen=True, slots=True)
class LogCase:
    comment: str
    flags: tuple[str, ...]
    log: bytes
    pcrs: Callable[[], Values]
    strict: bool = False


_BOOT: Final = vl._log(vl._ev(0, 0x1, b"post"), vl._ev(4, 0x80000003, b"app"), vl._separators())
_LOC3: Final = vl._log(vl._locality(3), vl._ev(0, 0x1, b"post"))
_HCRTM: Final = vl._log(vl._locality(4), vl._ev(0, 0x80000010, b"hcrtm"))
_DRTM: Final = vl._log(vl._ev(17, 0x1, b"acm"), vl._ev(18, 0x1, b"mle"))
_RELABEL: Final = vl._log(vl._ev(7, 0x1, bytes(4)))  # a separator relabelled EV_POST_CODE


def _with(values: Values, bank: str, pcr: int, value: bytes) -> Values:
    out = {b: dict(v) for b, v in values.items()}
    out.setdefault(bank, {})[pcr] = value
    return out


def _flip(values: Values, bank: str, pcr: int) -> Values:
    value = values[bank][pcr]
    return _with(values, bank, pcr, value[:-1] + bytes([value[-1] ^ 1]))


def _digests(data: bytes, pcr: int) -> list[tuple[int, str, bytes]]:
    return [(pcr, b, compute_digest(hash_alg_from_name(b), data)) for b in ("sha1", "sha256")]


_LOG_CASES: Final[tuple[LogCase, ...]] = (
    LogCase("every named PCR matches", ("AllMatch",), _BOOT, lambda: _replayed(_BOOT)),
    LogCase(
        "PCR 4 sha256 differs in its last bit",
        ("Mismatch",),
        _BOOT,
        lambda: _flip(_replayed(_BOOT), "sha256", 4),
    ),
    LogCase(
        "PCR 9 (no event) supplied beside matching PCRs",
        ("AllMatch", "NotInLog"),
        _BOOT,
        lambda: _with(_replayed(_BOOT), "sha256", 9, bytes(32)),
    ),
    LogCase(
        "only PCRs the log does not name",
        ("OnlyNotInLog",),
        _BOOT,
        lambda: {"sha256": {10: bytes(32), 23: bytes(32)}},
    ),
    LogCase(
        "sha1 matches, sha256 PCR 0 differs",
        ("SecondBankDiffers",),
        _BOOT,
        lambda: _flip(_replayed(_BOOT), "sha256", 0),
    ),
    LogCase(
        "DRTM PCRs 17-18 as a zero-start replayer computes them",
        ("ZeroStartDrtm",),
        _DRTM,
        lambda: _naive(_digests(b"acm", 17) + _digests(b"mle", 18)),
    ),
    LogCase("DRTM PCRs 17-18 from ff", ("AllMatch",), _DRTM, lambda: _replayed(_DRTM)),
    LogCase(
        "StartupLocality 3 ignored by the replayer that computed the values",
        ("IgnoresStartupLocality",),
        _LOC3,
        lambda: _naive(_digests(b"post", 0)),
    ),
    LogCase("StartupLocality 3 honoured", ("AllMatch",), _LOC3, lambda: _replayed(_LOC3)),
    LogCase(
        "H-CRTM ignored by the replayer that computed the values",
        ("IgnoresHcrtm",),
        _HCRTM,
        lambda: _naive(_digests(b"hcrtm", 0)),
    ),
    LogCase("H-CRTM honoured", ("AllMatch",), _HCRTM, lambda: _replayed(_HCRTM)),
    LogCase(
        "a separator relabelled EV_POST_CODE in PCR 7 still matches (warning)",
        ("TypeNotAuthenticated",),
        _RELABEL,
        lambda: _replayed(_RELABEL),
    ),
    LogCase(
        "the same under strict mode",
        ("TypeNotAuthenticated", "StrictFinding"),
        _RELABEL,
        lambda: _replayed(_RELABEL),
        True,
    ),
    LogCase(
        "sha384 values for a sha1+sha256 log",
        ("MissingBank", "OnlyNotInLog"),
        _BOOT,
        lambda: {"sha384": {0: bytes(48)}},
    ),
    LogCase(
        "a 31-byte sha256 value",
        ("BadSuppliedValue",),
        _BOOT,
        lambda: {"sha256": {0: bytes(31)}},
    ),
)


def _hex_values(values: Mapping[str, Mapping[int, bytes]]) -> dict[str, dict[str, str]]:
    return {b: {str(p): v.hex() for p, v in sorted(vs.items())} for b, vs in values.items()}


def _log_outcome(case: LogCase, values: Values) -> dict[str, object]:
    """Spec: PROJECT adr.0002 vectors - the spec's verdict for one case."""
    try:
        verdict = verify_event_log(parse_event_log(case.log), values, strict=case.strict)
    except SpecError as err:
        return {"result": "invalid", "errorCode": str(err.code), "errorOffset": err.offset}
    out = verdict.to_json()
    warnings = [{"code": w["code"], "event": w["event"]} for w in out["warnings"]]  # type: ignore[index, union-attr]
    keep = {k: out[k] for k in ("result", "pcrs", "firstMismatch")}
    return {"result": "valid", "verdict": {**keep, "warnings": warnings}}


def build_log_file() -> dict[str, object]:
    """Spec: PROJECT adr.0002 vectors - eventlog_verify_test.json."""
    tests = []
    for n, case in enumerate(_LOG_CASES):
        values = case.pcrs()
        test = {
            "tcId": n + 1,
            "comment": case.comment,
            "flags": list(case.flags),
            "log": case.log.hex(),
            "pcrs": _hex_values(values),
            "strict": case.strict,
        }
        tests.append({**test, **_log_outcome(case, values)})
    header = [
        "TCG PC Client event logs (hex) verified against supplied PCR values "
        "(docs/adr/0002-eventlog-contract.md, Verification).",
        "valid: `verdict` is verify_event_log's result, rows, firstMismatch and warning codes "
        "(claims, which are prose, are left out). invalid: errorCode and errorOffset (the "
        "byte offset of the refused record; null when a supplied value is refused).",
    ]
    return _file(LOG_OPERATION, "EventLogVerifyTest", tests, header, _LINKS_LOG, ("PFP",))


@dataclass(frozen=True, slots=True)
class ImaCase:
    comment: str
    flags: tuple[str, ...]
    entries: tuple[vi.Entry, ...]
    pcrs: Callable[[], Values]


def _ima_replayed(
    entries: tuple[vi.Entry, ...], banks: tuple[str, ...] = ("sha1", "sha256")
) -> Values:
    """Spec: PROJECT adr.0003 vectors - a list's own replay as supplied values."""
    replay = replay_ima(parse_ima_binary(vi._bin(*entries)), banks).to_json()["pcrs"]
    return {b: {int(p): bytes.fromhex(v) for p, v in vs.items()} for b, vs in replay.items()}  # type: ignore[union-attr]


_VIOLATION: Final = vi.Entry("ima-ng", (vi._dng("sha1", bytes(20)), b"/tmp/x\x00"), thash=bytes(20))
_BAD_HASH: Final = vi.Entry("ima-ng", (vi._dng("sha1", vi._F1), b"/init\x00"), thash=b"\x01" * 20)
_THREE: Final = (vi._NG1, vi._NG2, vi._SIG)


def _zeros_violation() -> Values:
    """A replayer extending the violation's template hash (zeros) instead of all-ff."""
    digest = vi._NG1.template_hash()
    return _naive([(10, "sha1", digest), (10, "sha1", bytes(20))])


_IMA_CASES: Final[tuple[ImaCase, ...]] = (
    ImaCase("the whole list explains PCR 10", ("AllMatch",), _THREE, lambda: _ima_replayed(_THREE)),
    ImaCase(
        "the PCRs were read after 2 of 3 entries",
        ("ListGrew",),
        _THREE,
        lambda: _ima_replayed(_THREE[:2]),
    ),
    ImaCase(
        "PCR 10 sha1 differs",
        ("Mismatch",),
        _THREE,
        lambda: _flip(_ima_replayed(_THREE, ("sha1",)), "sha1", 10),
    ),
    ImaCase(
        "a violation extended as zeros by the replayer that computed the values",
        ("ViolationAsZeros",),
        (vi._NG1, _VIOLATION),
        _zeros_violation,
    ),
    ImaCase(
        "a violation extended as ff",
        ("AllMatch",),
        (vi._NG1, _VIOLATION),
        lambda: _ima_replayed((vi._NG1, _VIOLATION), ("sha1",)),
    ),
    ImaCase(
        "a wrong template hash, PCR values from the list",
        ("TemplateHashFailure",),
        (vi._NG1, _BAD_HASH),
        lambda: _ima_replayed((vi._NG1, _BAD_HASH), ("sha1",)),
    ),
    ImaCase(
        "PCR 11 supplied, the list names only PCR 10",
        ("OnlyNotInLog",),
        _THREE,
        lambda: {"sha256": {11: bytes(32)}},
    ),
    ImaCase(
        "a 19-byte sha1 value", ("BadSuppliedValue",), _THREE, lambda: {"sha1": {10: bytes(19)}}
    ),
)


def _ima_outcome(case: ImaCase, values: Values) -> dict[str, object]:
    """Spec: PROJECT adr.0003 vectors - the spec's verdict for one case."""
    try:
        verdict = verify_ima(parse_ima_binary(vi._bin(*case.entries)), values)
    except SpecError as err:
        return {"result": "invalid", "errorCode": str(err.code), "errorOffset": err.offset}
    out = verdict.to_json()
    keep = ("result", "matchedEntries", "pcrs", "templateHashFailures")
    return {"result": "valid", "verdict": {k: out[k] for k in keep}}


def build_ima_file() -> dict[str, object]:
    """Spec: PROJECT adr.0003 vectors - ima_verify_test.json."""
    tests = []
    for n, case in enumerate(_IMA_CASES):
        values = case.pcrs()
        test = {
            "tcId": n + 1,
            "comment": case.comment,
            "flags": list(case.flags),
            "list": vi._bin(*case.entries).hex(),
            "pcrs": _hex_values(values),
        }
        tests.append({**test, **_ima_outcome(case, values)})
    header = [
        "Linux IMA binary measurement lists (hex) verified against supplied PCR values "
        "(docs/adr/0003-ima-contract.md, verify_ima).",
        "valid: `verdict` is verify_ima's result, matchedEntries (the shortest prefix that "
        "explains the values), rows and templateHashFailures (claims left out). invalid: "
        "errorCode and errorOffset (null for a supplied value).",
    ]
    return _file(IMA_OPERATION, "ImaVerifyTest", tests, header, _LINKS_IMA, ("LINUX-IMA",))


def _file(  # noqa: PLR0917 (the file's parts, in the order they appear)
    operation: str,
    group: str,
    tests: list[dict[str, object]],
    header: list[str],
    links: list[str],
    revisions: tuple[str, ...],
) -> dict[str, object]:
    used = sorted({f for t in tests for f in t["flags"]})  # type: ignore[attr-defined]
    return {
        "schema": f"{operation}_schema_v1.json",
        "operation": operation,
        "specRevision": {key: SPECIFICATION_VERSIONS[key] for key in revisions},
        "generator": {"name": "chainoftrust.spec.vectors_verify", "version": "1.0"},
        "numberOfTests": len(tests),
        "header": header,
        "notes": {
            f: {"category": NOTES[f][0], "description": NOTES[f][1], "links": links} for f in used
        },
        "testGroups": [{"type": group, "source": _SOURCE, "tests": tests}],
    }


_obj = vs.obj
_HEX: Final = vs.HEX
_VALUES: Final = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "propertyNames": {"pattern": "^[0-9]+$"},
        "additionalProperties": _HEX,
    },
}


def _row(extra: dict[str, object]) -> dict[str, object]:
    base: dict[str, object] = {
        "bank": {"type": "string"},
        "pcr": {"type": "integer", "minimum": 0, "maximum": 23},
        "expected": _HEX,
        "replayed": {"anyOf": [_HEX, {"type": "null"}]},
    }
    return _obj({**base, **extra})


def build_schema(operation: str, flags: list[str]) -> dict[str, object]:
    """Spec: PROJECT adr.0002 vectors - the JSON Schema of a verify vector file."""
    count = {"type": "integer", "minimum": 0}
    if operation == LOG_OPERATION:
        row = _row(
            {
                "status": {"enum": ["matched", "mismatched", "not_in_log"]},
                "events": {"type": "array", "items": count},
            }
        )
        first = {"anyOf": [{"type": "null"}, _obj({"bank": {"type": "string"}, "pcr": count})]}
        warning = _obj({"code": {"type": "string"}, "event": {"type": ["integer", "null"]}})
        verdict = _obj(
            {
                "result": {"enum": ["match", "mismatch"]},
                "pcrs": {"type": "array", "items": row},
                "firstMismatch": first,
                "warnings": {"type": "array", "items": warning},
            }
        )
        inputs: dict[str, object] = {"log": _HEX, "pcrs": _VALUES, "strict": {"type": "boolean"}}
    else:
        verdict = _obj(
            {
                "result": {"enum": ["match", "mismatch"]},
                "matchedEntries": {"type": ["integer", "null"], "minimum": 0},
                "pcrs": {"type": "array", "items": _row({})},
                "templateHashFailures": {"type": "array", "items": count},
            }
        )
        inputs = {"list": _HEX, "pcrs": _VALUES}
    props: dict[str, object] = {
        "tcId": {"type": "integer", "minimum": 1},
        "comment": {"type": "string"},
        "flags": {"type": "array", "items": {"enum": flags}},
        **inputs,
        "result": {"enum": ["valid", "invalid"]},
        "verdict": verdict,
        "errorCode": {"type": "string"},
        "errorOffset": {"type": ["integer", "null"]},
    }
    test = _obj(props, ["tcId", "comment", "flags", *inputs, "result"])
    test["if"] = {"properties": {"result": {"const": "invalid"}}}
    test["then"] = {"required": ["errorCode", "errorOffset"], "properties": {"verdict": False}}
    test["else"] = {
        "required": ["verdict"],
        "properties": {"errorCode": False, "errorOffset": False},
    }
    group_type = "EventLogVerifyTest" if operation == LOG_OPERATION else "ImaVerifyTest"
    group = _obj(
        {
            "type": {"const": group_type},
            "source": vs.NAMED,
            "tests": {"type": "array", "items": test},
        }
    )
    revisions = ("PFP",) if operation == LOG_OPERATION else ("LINUX-IMA",)
    return vs.envelope(operation, revisions, flags, {"type": "array", "items": group})
