"""Check the implementation against the public test-vector corpus (`vectors/`).

Every vector's expected result must be reproduced by `chainoftrust.impl`: the outputs
of a valid vector, or the error code (and the failing operation or byte offset) of an
invalid one. `MANIFEST.json` is checked first: every file it lists must have the
recorded size, SHA-256 and SHA-384 (recomputed with hashlib), and every vector file
in the corpus must be listed. The checker fails closed: an empty corpus, an unknown
operation, a malformed vector or a count that does not match is a failure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from chainoftrust.impl.errors import ImplError, TpmRefusalError
from chainoftrust.impl.hashes import HashAlg, hash_alg_from_name, hash_alg_name
from chainoftrust.impl.pcr import compute_extend
from chainoftrust.impl.predict import predict
from chainoftrust.impl.selection import (
    compute_composite_digest,
    marshal_pcr_selection,
    unmarshal_pcr_selection,
)
from chainoftrust.impl.vectors_boot import run_boot_run, run_policy_update
from chainoftrust.impl.vectors_ima import run_ima_replay
from chainoftrust.impl.vectors_logs import run_eventlog_replay
from chainoftrust.impl.vectors_quote import run_quote_verify
from chainoftrust.impl.vectors_verify import run_eventlog_verify, run_ima_verify

MANIFEST = "MANIFEST.json"
MANIFEST_DIGESTS = ("sha256", "sha384")
VECTOR_GLOB = "*/*_test.json"


class VectorFormatError(ValueError):
    """A vector file or test object that does not have the documented shape."""


@dataclass(frozen=True, slots=True)
class Failure:
    """One vector that impl did not reproduce (tcId None: the file as a whole)."""

    tc_id: int | None
    reason: str


@dataclass(slots=True)
class FileReport:
    """Pass/fail counts of one vector file."""

    path: str
    operation: str | None = None
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.failures)


@dataclass(slots=True)
class CheckReport:
    """The result of `check`: the manifest's problems and one report per vector file."""

    vectors_dir: str
    manifest_failures: list[str] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True only when the manifest holds and at least one vector ran, none failing."""
        ran = sum(f.passed + f.failed for f in self.files)
        return not self.manifest_failures and ran > 0 and all(f.failed == 0 for f in self.files)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "vectorsDir": self.vectors_dir,
            "manifest": {"ok": not self.manifest_failures, "failures": self.manifest_failures},
            "files": {
                f.path: {
                    "operation": f.operation,
                    "passed": f.passed,
                    "failed": f.failed,
                    "failures": [{"tcId": x.tc_id, "reason": x.reason} for x in f.failures],
                }
                for f in self.files
            },
        }

    def to_text(self) -> str:
        lines = [f"vectors: {self.vectors_dir}"]
        state = "ok" if not self.manifest_failures else "FAILED"
        lines.append(f"  {MANIFEST}: {state}")
        lines.extend(f"    {reason}" for reason in self.manifest_failures)
        for f in self.files:
            lines.append(f"  {f.path}: {f.passed} passed, {f.failed} failed")
            for x in f.failures[:20]:
                where = "file" if x.tc_id is None else f"tcId {x.tc_id}"
                lines.append(f"    {where}: {x.reason}")
            if f.failed > 20:
                lines.append(f"    ... and {f.failed - 20} more (use --json)")
        total = sum(f.passed for f in self.files)
        failed = sum(f.failed for f in self.files)
        verdict = "OK" if self.ok else "FAILED"
        lines.append(f"{verdict}: {total} passed, {failed} failed in {len(self.files)} files")
        return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------- reading JSON


def _get(obj: object, key: str, kind: type | tuple[type, ...], where: str) -> object:
    """obj[key] of the given JSON type (bool is not an int), else VectorFormatError."""
    if not isinstance(obj, dict) or key not in obj:
        raise VectorFormatError(f"{where}: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise VectorFormatError(f"{where}.{key}: a boolean where {kind} was expected")
    if not isinstance(value, kind):
        raise VectorFormatError(f"{where}.{key}: not a {kind}")
    return value


def _str(obj: object, key: str, where: str) -> str:
    value = _get(obj, key, str, where)
    return value if isinstance(value, str) else ""


def _list(obj: object, key: str, where: str) -> list[object]:
    value = _get(obj, key, list, where)
    return value if isinstance(value, list) else []


def _dict(obj: object, key: str, where: str) -> dict[str, object]:
    value = _get(obj, key, dict, where)
    return value if isinstance(value, dict) else {}


def _hex(obj: object, key: str, where: str) -> bytes:
    text = _str(obj, key, where)
    if text != text.lower():
        raise VectorFormatError(f"{where}.{key}: hex must be lower case")
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise VectorFormatError(f"{where}.{key}: not hex") from exc


def _selection_from_json(entries: object, where: str) -> tuple[tuple[HashAlg, frozenset[int]], ...]:
    if not isinstance(entries, list):
        raise VectorFormatError(f"{where}: selection is not a list")
    out = []
    for n, entry in enumerate(entries):
        name = _str(entry, "hash", f"{where}[{n}]")
        pcrs = _list(entry, "pcrs", f"{where}[{n}]")
        if not all(isinstance(i, int) and not isinstance(i, bool) for i in pcrs):
            raise VectorFormatError(f"{where}[{n}].pcrs: not a list of integers")
        out.append((hash_alg_from_name(name), frozenset(i for i in pcrs if isinstance(i, int))))
    return tuple(out)


def _selection_to_json(selection: object) -> list[dict[str, object]]:
    if not isinstance(selection, tuple | list):
        raise VectorFormatError("impl returned a selection that is not a sequence")
    return [{"hash": hash_alg_name(alg), "pcrs": sorted(pcrs)} for alg, pcrs in selection]


# --------------------------------------------------------------------- the operations


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What impl produced: outputs, or an error and where it happened."""

    outputs: dict[str, object] | None = None
    error: ImplError | None = None


def _run(action: Callable[[], dict[str, object]]) -> _Outcome:
    try:
        return _Outcome(outputs=action())
    except ImplError as err:
        return _Outcome(error=err)


def _compare(test: dict[str, object], outcome: _Outcome, where_key: str | None) -> str | None:
    """None when impl reproduced the vector, else the reason it did not."""
    result = test.get("result")
    if result not in ("valid", "invalid", "acceptable"):
        raise VectorFormatError(f"result {result!r} is not valid, invalid or acceptable")
    if result == "acceptable":
        return None  # either outcome is allowed; README says how a consumer treats it
    if result == "valid":
        if outcome.error is not None:
            return f"expected valid, impl raised {outcome.error}"
        for key, got in (outcome.outputs or {}).items():
            if test.get(key) != got:
                return f"{key}: expected {test.get(key)!r}, impl gave {got!r}"
        return None
    code = _str(test, "errorCode", "test")
    if outcome.error is None:
        return f"expected {code}, impl succeeded"
    err = outcome.error
    if str(err.code) != code:
        return f"expected {code}, impl raised {err.code} ({err})"
    return _compare_where(test, err, where_key)


def _compare_where(test: dict[str, object], err: ImplError, where_key: str | None) -> str | None:
    if where_key == "errorOperation" and test.get("errorOperation") != err.operation:
        return f"expected operation {test.get('errorOperation')}, impl gave {err.operation}"
    if where_key == "errorOffset" and test.get("errorOffset") != err.offset:
        return f"expected offset {test.get('errorOffset')}, impl gave {err.offset}"
    if "tpmRc" in test:
        rc = err.tpm_rc if isinstance(err, TpmRefusalError) else None
        if test["tpmRc"] != rc:
            return f"expected tpmRc {test['tpmRc']}, impl gave {rc}"
    return None


def _predict(group: dict[str, object], test: dict[str, object]) -> str | None:
    del group  # predict vectors share no parameters
    if "document" not in test:
        raise VectorFormatError("test: missing 'document'")
    document = test["document"]

    def action() -> dict[str, object]:
        out = predict(document)
        return {"pcrs": out.get("pcrs")}

    return _compare(test, _run(action), "errorOperation")


def _extend(group: dict[str, object], test: dict[str, object]) -> str | None:
    alg = hash_alg_from_name(_str(group, "hash", "group"))
    old, digest = _hex(test, "old", "test"), _hex(test, "digest", "test")
    return _compare(test, _run(lambda: {"new": compute_extend(alg, old, digest).hex()}), None)


def _values_from_json(group: dict[str, object]) -> dict[HashAlg, dict[int, bytes]]:
    values = _dict(group, "pcrValues", "group")
    table: dict[HashAlg, dict[int, bytes]] = {}
    for bank, pcrs in values.items():
        if not isinstance(pcrs, dict):
            raise VectorFormatError(f"group.pcrValues.{bank}: not an object")
        table[hash_alg_from_name(bank)] = {int(i): _hex(pcrs, i, bank) for i in pcrs}
    return table


def _composite(group: dict[str, object], test: dict[str, object]) -> str | None:
    kind = _str(group, "type", "group")
    if kind == "PcrSelectionUnmarshalTest":
        data = _hex(test, "pcrSelection", "test")
        outcome = _run(lambda: {"selection": _selection_to_json(unmarshal_pcr_selection(data))})
        return _compare(test, outcome, "errorOffset")
    if kind != "PcrCompositeTest":
        raise VectorFormatError(f"group type {kind!r} is not known")
    scheme = hash_alg_from_name(_str(group, "scheme", "group"))
    values = _values_from_json(group)
    selection = _selection_from_json(test.get("selection"), "test.selection")

    def action() -> dict[str, object]:
        digest = compute_composite_digest(scheme, selection, values)
        marshalled = marshal_pcr_selection(selection)
        out: dict[str, object] = {"compositeDigest": digest.hex(), "pcrSelection": marshalled.hex()}
        # Round trip: the marshalled bytes decode to the same selection.
        back = _selection_to_json(unmarshal_pcr_selection(marshalled))
        if back != test.get("selection"):
            out["selectionRoundTrip"] = back
        return out

    return _compare(test, _run(action), None)


_RUNNERS: dict[str, Callable[[dict[str, object], dict[str, object]], str | None]] = {
    "pcr_predict": _predict,
    "pcr_extend": _extend,
    "pcr_composite": _composite,
    "eventlog_replay": run_eventlog_replay,
    "ima_replay": run_ima_replay,
    "eventlog_verify": run_eventlog_verify,
    "ima_verify": run_ima_verify,
    "quote_verify": run_quote_verify,
    "boot_run": run_boot_run,
    "policy_update": run_policy_update,
}


# ------------------------------------------------------------------------ the corpus


def _check_file(root: Path, rel: str) -> FileReport:
    report = FileReport(path=rel)
    try:
        content = json.loads((root / rel).read_text(encoding="utf-8"))
        operation = _get(content, "operation", str, rel)
        report.operation = str(operation)
        runner = _RUNNERS.get(str(operation))
        if runner is None:
            raise VectorFormatError(f"operation {operation!r} is not known to this checker")
        groups = _get(content, "testGroups", list, rel)
        count = _run_groups(groups, runner, report)
        expected = _get(content, "numberOfTests", int, rel)
        if count != expected:
            report.failures.append(Failure(None, f"numberOfTests {expected}, found {count}"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, VectorFormatError) as exc:
        report.failures.append(Failure(None, f"unreadable vector file: {exc}"))
    return report


def _run_groups(
    groups: object,
    runner: Callable[[dict[str, object], dict[str, object]], str | None],
    report: FileReport,
) -> int:
    """Run every test; check tcIds are unique and sequential from 1. Returns the count."""
    count = 0
    for group in groups if isinstance(groups, list) else []:
        tests = _get(group, "tests", list, "group")
        for test in tests if isinstance(tests, list) else []:
            count += 1
            tc_id = test.get("tcId") if isinstance(test, dict) else None
            if tc_id != count:
                report.failures.append(Failure(count, f"tcId {tc_id!r} out of sequence"))
                continue
            reason = _run_one(runner, group, test)
            if reason is None:
                report.passed += 1
            else:
                report.failures.append(Failure(count, reason))
    return count


def _run_one(
    runner: Callable[[dict[str, object], dict[str, object]], str | None],
    group: dict[str, object],
    test: dict[str, object],
) -> str | None:
    try:
        return runner(group, test)
    except (VectorFormatError, ImplError, KeyError, TypeError, ValueError) as exc:
        # ImplError here comes from reading the vector (e.g. an unknown bank name in it).
        return f"malformed vector: {exc}"


def _check_manifest(root: Path, report: CheckReport) -> list[str]:
    """Verify MANIFEST.json with hashlib; return the vector files it lists."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        entries = _get(manifest, "files", list, MANIFEST)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, VectorFormatError) as exc:
        report.manifest_failures.append(f"cannot read {MANIFEST}: {exc}")
        return []
    listed: list[str] = []
    for n, entry in enumerate(entries if isinstance(entries, list) else []):
        try:
            listed.append(_check_manifest_entry(root, entry, f"files[{n}]"))
        except VectorFormatError as exc:
            report.manifest_failures.append(str(exc))
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.glob(VECTOR_GLOB))
    report.manifest_failures.extend(
        f"{rel}: a vector file not listed in {MANIFEST}" for rel in on_disk if rel not in listed
    )
    return [rel for rel in listed if rel.endswith("_test.json")]


def _check_manifest_entry(root: Path, entry: object, where: str) -> str:
    rel = str(_get(entry, "path", str, where))
    path = (root / rel).resolve()
    if rel.startswith("/") or ".." in Path(rel).parts or not path.is_relative_to(root.resolve()):
        raise VectorFormatError(f"{where}: path {rel!r} leaves the corpus folder")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VectorFormatError(f"{rel}: cannot read: {exc.strerror}") from exc
    if _get(entry, "size", int, where) != len(data):
        raise VectorFormatError(f"{rel}: size {len(data)} differs from the manifest")
    for name in MANIFEST_DIGESTS:
        recorded = _get(entry, name, dict, where)
        actual = hashlib.new(name, data).hexdigest()
        values = set(recorded.values()) if isinstance(recorded, dict) else set()
        if values != {actual}:
            raise VectorFormatError(f"{rel}: {name} {actual} differs from the manifest")
    return rel


def check(vectors_dir: Path) -> CheckReport:
    """Run every vector in vectors_dir through impl; verify MANIFEST.json.

    Steps: (1) verify the manifest (sizes and digests by hashlib; every vector file
    listed); (2) run each listed vector file's tests through impl and compare.
    """
    report = CheckReport(vectors_dir=str(vectors_dir))
    # (1) the manifest
    files = _check_manifest(vectors_dir, report)
    # (2) the vectors
    report.files.extend(_check_file(vectors_dir, rel) for rel in files)
    return report
