"""Checking the verdict vectors (eventlog_verify, ima_verify) against the implementation.

Each vector's log or list (hex) is parsed by `chainoftrust.impl` and verified against the
vector's PCR values; the verdict (without the claims' prose), or the error code and byte offset,
must equal the vector's.
"""

from __future__ import annotations

from chainoftrust.impl.errors import ImplError
from chainoftrust.impl.eventlog import parse_event_log, verify_event_log
from chainoftrust.impl.ima import parse_ima_binary, verify_ima


def _values(test: dict[str, object]) -> dict[str, dict[int, bytes]]:
    pcrs = test["pcrs"]
    if not isinstance(pcrs, dict):
        raise ValueError("test: pcrs must be an object")
    return {
        str(bank): {int(p): bytes.fromhex(str(v)) for p, v in dict(values).items()}
        for bank, values in pcrs.items()
    }


def _compare(test: dict[str, object], got: dict[str, object] | ImplError) -> str | None:
    if isinstance(got, ImplError):
        if test["result"] != "invalid":
            return f"expected valid, impl raised {got}"
        if (str(got.code), got.offset) != (test.get("errorCode"), test.get("errorOffset")):
            return (
                f"expected {test.get('errorCode')} at {test.get('errorOffset')}, "
                f"impl raised {got.code} at {got.offset}"
            )
        return None
    if test["result"] != "valid":
        return f"expected {test.get('errorCode')}, impl gave a verdict"
    if got != test.get("verdict"):
        return f"verdict: expected {test.get('verdict')!r}, impl gave {got!r}"
    return None


def run_eventlog_verify(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector, else the reason it does not."""
    del group  # the group carries no parameters
    strict = test["strict"]
    if not isinstance(strict, bool):
        raise ValueError("test: strict must be a boolean")
    try:
        log = parse_event_log(bytes.fromhex(str(test["log"])))
        out = verify_event_log(log, _values(test), strict=strict).to_json()
    except ImplError as err:
        return _compare(test, err)
    warnings = [{"code": w["code"], "event": w["event"]} for w in out["warnings"]]
    kept = {k: out[k] for k in ("result", "pcrs", "firstMismatch")}
    return _compare(test, {**kept, "warnings": warnings})


def run_ima_verify(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector, else the reason it does not."""
    del group
    try:
        log = parse_ima_binary(bytes.fromhex(str(test["list"])))
        out = verify_ima(log, _values(test)).to_json()
    except ImplError as err:
        return _compare(test, err)
    keep = ("result", "matchedEntries", "pcrs", "templateHashFailures")
    return _compare(test, {k: out[k] for k in keep})
