"""Checking the event-log replay vectors against the implementation (never the spec).

Each vector's log (hex) is parsed and replayed by `chainoftrust.impl.eventlog`; the
replay's PCRs and warning codes, the data checks, or the error code and byte offset
must equal the vector's.
"""

from __future__ import annotations

from chainoftrust.impl.errors import ImplError
from chainoftrust.impl.eventlog import check_event_data, parse_event_log, replay_event_log


def run_eventlog_replay(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector, else the reason it does not."""
    del group  # the group carries no parameters
    log_hex, strict, result = test["log"], test["strict"], test["result"]
    if not isinstance(log_hex, str) or not isinstance(strict, bool):
        raise ValueError("test: log must be hex text and strict a boolean")
    try:
        log = parse_event_log(bytes.fromhex(log_hex))
        replay = replay_event_log(log, strict=strict).to_json()
        checks = [c.to_json() for c in check_event_data(log)]
    except ImplError as err:
        if result != "invalid":
            return f"expected valid, impl raised {err}"
        if (str(err.code), err.offset) != (test.get("errorCode"), test.get("errorOffset")):
            return (
                f"expected {test.get('errorCode')} at {test.get('errorOffset')}, "
                f"impl raised {err.code} at {err.offset}"
            )
        return None
    if result != "valid":
        return f"expected {test.get('errorCode')}, impl succeeded"
    warnings = [{"code": w["code"], "event": w["event"]} for w in replay["warnings"]]
    got = {"pcrs": replay["pcrs"], "warnings": warnings}
    if got != test.get("replay"):
        return f"replay: expected {test.get('replay')!r}, impl gave {got!r}"
    if checks != test.get("dataChecks"):
        return f"dataChecks: expected {test.get('dataChecks')!r}, impl gave {checks!r}"
    return None
