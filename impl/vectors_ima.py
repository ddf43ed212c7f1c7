"""Checking the IMA replay vectors against the implementation (never the spec).

Each vector's list, binary (`list`, hex) and/or ASCII (`ascii`), is parsed and replayed
into the group's `banks` by `chainoftrust.impl.ima`; every form given must reproduce
the vector's replay (PCR values, counts, template-hash failures, warning codes) or its
error code and offset.
"""

from __future__ import annotations

from chainoftrust.impl.errors import ImplError
from chainoftrust.impl.ima import ImaLog, parse_ima_ascii, parse_ima_binary, replay_ima

_KEYS = ("pcrs", "entries", "violations", "templateHashFailures")
_GROUP_TYPES = {"ImaReplayTest": "list", "ImaAsciiReplayTest": "ascii"}


def _forms(group: dict[str, object], test: dict[str, object]) -> list[tuple[str, object]]:
    """The list forms the test gives, each as (name, input), the group's required one first."""
    required = _GROUP_TYPES.get(str(group.get("type")))
    if required is None:
        raise ValueError(f"group type {group.get('type')!r} is not known")
    forms: list[tuple[str, object]] = [
        (name, test[name]) for name in ("list", "ascii") if name in test
    ]
    if required not in dict(forms) or not all(isinstance(v, str) for _, v in forms):
        raise ValueError(f"test: {required} is required, and list/ascii must be text")
    return forms


def _replay(name: str, value: object, banks: list[str]) -> dict[str, object]:
    text = str(value)
    log: ImaLog = parse_ima_binary(bytes.fromhex(text)) if name == "list" else parse_ima_ascii(text)
    out = replay_ima(log, banks).to_json()
    got = {key: out[key] for key in _KEYS}
    got["warnings"] = [{"code": w["code"], "entry": w["entry"]} for w in out["warnings"]]
    return got


def _one_form(name: str, value: object, banks: list[str], test: dict[str, object]) -> str | None:
    result = test["result"]
    try:
        got = _replay(name, value, banks)
    except ImplError as err:
        if result != "invalid":
            return f"{name}: expected valid, impl raised {err}"
        if (str(err.code), err.offset) != (test.get("errorCode"), test.get("errorOffset")):
            return (
                f"{name}: expected {test.get('errorCode')} at {test.get('errorOffset')}, "
                f"impl raised {err.code} at {err.offset}"
            )
        return None
    if result != "valid":
        return f"{name}: expected {test.get('errorCode')}, impl succeeded"
    if got != test.get("replay"):
        return f"{name}: replay: expected {test.get('replay')!r}, impl gave {got!r}"
    return None


def run_ima_replay(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector in every list form it gives, else why not."""
    banks = group.get("banks")
    if not isinstance(banks, list) or not all(isinstance(b, str) for b in banks):
        raise ValueError("group: banks must be a list of bank names")
    for name, value in _forms(group, test):
        reason = _one_form(name, value, banks, test)
        if reason is not None:
            return reason
    return None
