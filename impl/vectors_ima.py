"""Checking the IMA replay vectors against the implementation (never the spec)."""

from __future__ import annotations

from chainoftrust.impl.errors import ImplError
from chainoftrust.impl.ima import parse_ima_binary, replay_ima

_KEYS = ("pcrs", "entries", "violations", "templateHashFailures")


def run_ima_replay(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector, else the reason it does not."""
    del group  # the group carries no parameters
    list_hex, result = test["list"], test["result"]
    if not isinstance(list_hex, str):
        raise ValueError("test: list must be hex text")
    try:
        replay = replay_ima(parse_ima_binary(bytes.fromhex(list_hex)), ("sha1", "sha256"))
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
    out = replay.to_json()
    got = {key: out[key] for key in _KEYS}
    if got != test.get("replay"):
        return f"replay: expected {test.get('replay')!r}, impl gave {got!r}"
    return None
