"""Checking the boot vectors against the implementation (never the spec).

Contract: docs/adr/0005-boot-contract.md ("Vectors"). `boot_run_test.json`: each test's
chain (layers with hex `data`), signed policy (or null), mode and `now` go through
`chainoftrust.impl.boot.run_boot`; `to_json()` and the event log (hex) must equal the
vector's `expected` (`to_json()` plus `eventLog`). `policy_update_test.json`: a
PolicyStore with the test's `keys` and `installed` policy (or none) judges `candidate`
at `now`; accepted and code must equal `expected`. A test whose `result` is `invalid`
expects `errorCode` as the error impl raises (a chain or policy the parser refuses), or
as the halt's code (boot) or the refusal's code (update).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chainoftrust.impl.boot import (
    PolicyStore,
    load_chain,
    parse_rfc3339,
    parse_signed_policy,
    parse_trust_store,
    run_boot,
)
from chainoftrust.impl.errors import ErrorCode, ImplError

_NO_BASE = Path("/nonexistent-boot-vector-base")  # vectors carry data, never files


def _keys(value: object) -> tuple[tuple[str, bytes], ...]:
    """`keys` as KEYS.json (`{"keys": [...]}`) or as its list."""
    if isinstance(value, list):
        value = {"keys": value}
    return parse_trust_store(value)


def _expect_error(test: dict[str, object], err: ImplError) -> str | None:
    if test.get("result") != "invalid":
        return f"expected valid, impl raised {err}"
    if str(err.code) != test.get("errorCode"):
        return f"expected {test.get('errorCode')}, impl raised {err.code}"
    return None


def _boot_outcome(test: dict[str, object]) -> dict[str, Any]:
    chain = load_chain(test["chain"], _NO_BASE)
    document = test.get("policy")
    policy = None if document is None else parse_signed_policy(document)
    now = parse_rfc3339(test["now"], "now", ErrorCode.INVALID_DOCUMENT)
    mode = test["mode"]
    if not isinstance(mode, str):
        raise ValueError("test: mode must be a string")
    result = run_boot(chain, policy, mode, now)
    out = result.to_json()
    out["eventLog"] = result.event_log.hex()
    return out


def run_boot_run(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the boot vector (to_json and event log), else why not."""
    del group  # the group carries no parameters
    try:
        got = _boot_outcome(test)
    except ImplError as err:
        return _expect_error(test, err)
    if test.get("result") == "invalid":
        halt = got["halt"]
        if halt is None or halt["code"] != test.get("errorCode"):
            return f"expected a halt with {test.get('errorCode')}, impl gave {halt!r}"
    expected = test.get("expected")
    if not isinstance(expected, dict):
        raise ValueError("test: expected must be an object")
    for key in sorted(set(expected) | set(got)):
        if got.get(key) != expected.get(key):
            return f"{key}: expected {expected.get(key)!r}, impl gave {got.get(key)!r}"
    return None


def run_policy_update(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl's PolicyStore accepts or refuses the candidate as the vector says."""
    del group
    try:
        keys = _keys(test["keys"])
        installed_doc = test.get("installed")
        installed = None if installed_doc is None else parse_signed_policy(installed_doc)
        candidate = parse_signed_policy(test["candidate"])
        now = parse_rfc3339(test["now"], "now", ErrorCode.INVALID_DOCUMENT)
        store = PolicyStore(keys, installed=installed)
        got = store.update(candidate, now).to_json()
    except ImplError as err:
        return _expect_error(test, err)
    if test.get("result") == "invalid" and got["code"] != test.get("errorCode"):
        return f"expected a refusal with {test.get('errorCode')}, impl gave {got!r}"
    if store.installed is not (candidate if got["accepted"] else installed):
        return "the installed policy changed although the update was refused"
    if got != test.get("expected"):
        return f"expected {test.get('expected')!r}, impl gave {got!r}"
    return None
