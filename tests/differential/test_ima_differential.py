"""spec and impl agree exactly on the IMA slice (docs/adr/0003-ima-contract.md).

For generated lists (tests/ima_strategies.py, a builder written from the kernel's layout,
independent of both sides), valid and corrupted: `parse_ima_binary` (allow_partial_tail
False and True) and `parse_ima_ascii` give equal entry JSON and tail, or both raise the
same error class with equal code and offset; the binary and ASCII forms of one
list give equal entries on each side; `check_template_hashes`, `replay_ima` (good and bad
bank lists) and `verify_ima` (PCR values from a replayed prefix, a wrong value, a PCR no
entry names) agree. Where the builder knows the answer (valid lists), both sides are also
checked against it: its JSON and a hashlib replay. The ADR does not pin the words of
warning messages and verdict claims: those are compared as "present, strings" only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import ima as impl
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import ima as spec
from hypothesis import given
from hypothesis import strategies as st

from tests.ima_strategies import (
    BANK_SIZES,
    KNOWN_TEMPLATES,
    ImaListModel,
    bad_bank_lists,
    corrupted_ima_ascii_lists,
    corrupted_ima_lists,
    ima_list_models,
)

PCR_COUNT = 24  # PTP: PCR 0-23
BAD_PCR_VALUES: tuple[Any, ...] = (
    {"sha256": {24: bytes(32)}},
    {"sha256": {-1: bytes(32)}},
    {"md5": {10: bytes(16)}},
    {"sha256": {10: bytes(20)}},
    {},
    {"sha256": {}},
)
GOOD_BANKS: tuple[tuple[str, ...], ...] = (("sha1", "sha256"), ("sha256",))
PcrValues = dict[str, dict[int, bytes]]


def _free_text_removed(value: Any) -> Any:
    """JSON with the words ADR 0003 leaves open replaced: a warning's `message` and a
    verdict's `claims` (checked apart: a non-empty list of strings)."""
    if isinstance(value, list):
        return [_free_text_removed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "claims":
            assert isinstance(item, list), item
            assert item, "a verdict states its claims"
            assert all(isinstance(c, str) for c in item), item
            out[key] = "<claims>"
        elif key == "message" and "code" in value:
            assert isinstance(item, str), item
            out[key] = "<message>"
        else:
            out[key] = _free_text_removed(item)
    return out


def _log_json(log: Any) -> dict[str, Any]:
    return {"entries": [e.to_json() for e in log.entries], "tail": log.tail}


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """("ok", JSON) or ("error", class, code, offset). Any other exception is a bug (a
    traceback where a typed error belongs) and propagates. `.field` is informative and
    not compared (ADR 0003 amendment 1 item 12)."""
    try:
        result = function(*args, **kwargs)
    except (spec_errors.SpecError, impl_errors.ImplError) as err:
        return ("error", type(err).__name__, str(err.code), err.offset)
    if hasattr(result, "entries") and hasattr(result, "tail"):
        return ("ok", _log_json(result))
    if hasattr(result, "to_json"):
        return ("ok", _free_text_removed(result.to_json()))
    return ("ok", list(result))


def _agree(what: str, spec_out: tuple[Any, ...], impl_out: tuple[Any, ...]) -> None:
    assert spec_out == impl_out, f"{what}:\nspec {spec_out!r}\nimpl {impl_out!r}"


def _both_logs(data: bytes, *, partial: bool) -> tuple[Any, Any] | None:
    spec_out = outcome(spec.parse_ima_binary, data, allow_partial_tail=partial)
    impl_out = outcome(impl.parse_ima_binary, data, allow_partial_tail=partial)
    what = f"parse_ima_binary({data.hex()}, allow_partial_tail={partial})"
    _agree(what, spec_out, impl_out)
    if spec_out[0] == "error":
        return None
    return (
        spec.parse_ima_binary(data, allow_partial_tail=partial),
        impl.parse_ima_binary(data, allow_partial_tail=partial),
    )


def _agree_on_log(what: str, spec_log: Any, impl_log: Any, data: st.DataObject) -> None:
    """check_template_hashes, replay (good and bad banks) and verify agree on a parsed list."""
    _agree(
        f"check_template_hashes({what})",
        outcome(spec.check_template_hashes, spec_log),
        outcome(impl.check_template_hashes, impl_log),
    )
    for banks in GOOD_BANKS:
        _agree(
            f"replay_ima({what}, {banks})",
            outcome(spec.replay_ima, spec_log, banks),
            outcome(impl.replay_ima, impl_log, banks),
        )
    bad = data.draw(bad_bank_lists(), label="bad banks")
    _agree(
        f"replay_ima({what}, {bad})",
        outcome(spec.replay_ima, spec_log, bad),
        outcome(impl.replay_ima, impl_log, bad),
    )
    replayed = spec.replay_ima(spec_log, ("sha1", "sha256")).to_json()["pcrs"]
    for values in _pcr_sets(replayed, data):
        _agree(
            f"verify_ima({what}, {values})",
            outcome(spec.verify_ima, spec_log, values),
            outcome(impl.verify_ima, impl_log, values),
        )


def _pcr_sets(replayed: dict[str, dict[str, str]], data: st.DataObject) -> list[Any]:
    """PCR values (from a parsed list's replay, for corrupted lists): the final values, one
    of them altered, and a PCR no entry names."""
    own = {b: {int(p): bytes.fromhex(v) for p, v in pcrs.items()} for b, pcrs in replayed.items()}
    sets: list[Any] = []
    rows = [(b, p) for b, pcrs in own.items() for p in pcrs]
    if rows:
        sets.append(own)
        bank, pcr = data.draw(st.sampled_from(rows), label="altered PCR")
        altered = {b: dict(pcrs) for b, pcrs in own.items()}
        altered[bank][pcr] = bytes(x ^ 0x01 for x in altered[bank][pcr])
        sets.append(altered)
    named = {int(p) for p in replayed.get("sha1", {})}
    free = next(p for p in range(24) if p not in named)
    sets.append({"sha256": {free: bytes(32)}})
    return sets


# --- parse ---------------------------------------------------------------------------------


@given(ima_list_models(odd_names=True).map(ImaListModel.binary), st.data())
def test_binary_lists_agree(blob: bytes, data: st.DataObject) -> None:
    for partial in (False, True):
        logs = _both_logs(blob, partial=partial)
        assert logs is not None, "a list the kernel could write parses"
        if partial:
            _agree_on_log(blob.hex(), *logs, data)


@given(corrupted_ima_lists(odd_names=True), st.data())
def test_corrupted_binary_lists_agree(blob: bytes, data: st.DataObject) -> None:
    for partial in (False, True):
        logs = _both_logs(blob, partial=partial)
        if logs is not None and partial:
            _agree_on_log(blob.hex(), *logs, data)


def _both_ascii(text: str) -> tuple[Any, Any] | None:
    spec_out = outcome(spec.parse_ima_ascii, text)
    impl_out = outcome(impl.parse_ima_ascii, text)
    _agree(f"parse_ima_ascii({text!r})", spec_out, impl_out)
    if spec_out[0] == "error":
        return None
    return spec.parse_ima_ascii(text), impl.parse_ima_ascii(text)


@given(corrupted_ima_ascii_lists(), st.data())
def test_corrupted_ascii_lists_agree(text: str, data: st.DataObject) -> None:
    logs = _both_ascii(text)
    if logs is not None:
        _agree_on_log(repr(text), *logs, data)


# Minimal inputs found by the properties above, kept so that every run checks them.
_U32_8 = b"\x08\x00\x00\x00"
FOUND_BINARY: tuple[bytes, ...] = (
    b"\x00" * 24 + _U32_8 + b"ima-ngv2" + b"\x00" * 4,  # unknown template, violation
    b"\x0a",  # one octet: TRUNCATED, field named differently
    # ima-ng whose d-ng algorithm holds a ':' ("a:b:" NUL digest)
    bytes(24)
    + b"\x06\x00\x00\x00ima-ng"
    + (4 + 8 + 4 + 3).to_bytes(4, "little")
    + (8).to_bytes(4, "little")
    + b"a:b:\x00\x01\x02\x03"
    + (3).to_bytes(4, "little")
    + b"/x\x00",
)
FOUND_ASCII: tuple[str, ...] = (
    "10 " + "00" * 20 + " ima-ng sha:256:" + "00" * 20 + " /0\n",  # ':' in the algorithm
)


@pytest.mark.parametrize("blob", FOUND_BINARY, ids=lambda b: b.hex()[:24])
@pytest.mark.parametrize("partial", [False, True])
def test_found_binary_cases_agree(blob: bytes, partial: bool) -> None:
    spec_out = outcome(spec.parse_ima_binary, blob, allow_partial_tail=partial)
    impl_out = outcome(impl.parse_ima_binary, blob, allow_partial_tail=partial)
    _agree(f"parse_ima_binary({blob.hex()})", spec_out, impl_out)
    if spec_out[0] == "ok":
        logs = (
            spec.parse_ima_binary(blob, allow_partial_tail=partial),
            impl.parse_ima_binary(blob, allow_partial_tail=partial),
        )
        for banks in GOOD_BANKS:
            _agree(
                f"replay_ima({blob.hex()}, {banks})",
                outcome(spec.replay_ima, logs[0], banks),
                outcome(impl.replay_ima, logs[1], banks),
            )


@pytest.mark.parametrize("text", FOUND_ASCII)
def test_found_ascii_cases_agree(text: str) -> None:
    _agree(
        f"parse_ima_ascii({text!r})",
        outcome(spec.parse_ima_ascii, text),
        outcome(impl.parse_ima_ascii, text),
    )


# --- both forms, and the builder's own answer ----------------------------------------------


@given(ima_list_models(templates=KNOWN_TEMPLATES), st.data())
def test_binary_and_ascii_forms_agree(model: ImaListModel, data: st.DataObject) -> None:
    """The two forms of one list give the same entries on each side (and the builder's)."""
    blob, text = model.binary(), model.ascii()
    expected = [e.expected_json(i) for i, e in enumerate(model.entries)]
    for name, module in (("spec", spec), ("impl", impl)):
        binary = module.parse_ima_binary(blob)
        ascii_log = module.parse_ima_ascii(text)
        got_b = [e.to_json() for e in binary.entries]
        got_a = [e.to_json() for e in ascii_log.entries]
        assert got_b == got_a, f"{name}: binary vs ASCII of {text!r}:\n{got_b}\n{got_a}"
        assert got_b == expected, f"{name}: entries vs builder for {text!r}"
        assert binary.tail == 0
    logs = _both_ascii(text)
    assert logs is not None
    _agree_on_log(repr(text), *logs, data)


@given(ima_list_models(odd_names=True))
def test_template_hashes_and_replay_match_the_builder(model: ImaListModel) -> None:
    """check_template_hashes and replay_ima equal the builder's hashlib replay."""
    blob = model.binary()
    for name, module in (("spec", spec), ("impl", impl)):
        log = module.parse_ima_binary(blob)
        assert module.check_template_hashes(log) == model.wrong_hash_indices(), name
        for banks in GOOD_BANKS:
            got = module.replay_ima(log, banks).to_json()
            want = {
                b: {str(p): v.hex() for p, v in sorted(pcrs.items())}
                for b, pcrs in model.replay(banks).items()
            }
            assert got["pcrs"] == want, f"{name} replay {banks} of {blob.hex()}"
            assert got["entries"] == len(model.entries), name
            assert got["violations"] == sum(e.violation for e in model.entries), name
            assert got["templateHashFailures"] == list(model.wrong_hash_indices()), name


# --- verify ----------------------------------------------------------------------------------


@given(ima_list_models(min_entries=1), st.data())
def test_verify_agrees(model: ImaListModel, data: st.DataObject) -> None:
    """PCR values from (a) the builder's replay of a prefix, (b) a wrong value, (c) a PCR no
    entry names, (a)+(c), and out-of-contract values (PCR 24, unknown bank, bad size)."""
    blob = model.binary()
    logs = _both_logs(blob, partial=False)
    assert logs is not None
    spec_log, impl_log = logs
    count = data.draw(st.integers(0, len(model.entries)), label="prefix")
    banks = data.draw(st.sampled_from([("sha1",), ("sha256",), ("sha1", "sha256")]))
    prefix = model.replay(banks, count)
    named = sorted(p for p in model.named_pcrs() if p < PCR_COUNT)
    free = data.draw(st.sampled_from([p for p in range(PCR_COUNT) if p not in named]))
    unnamed: PcrValues = {banks[-1]: {free: bytes(BANK_SIZES[banks[-1]])}}
    sets: list[Any] = [unnamed, data.draw(st.sampled_from(BAD_PCR_VALUES), label="bad")]
    one: PcrValues = {}
    if named:
        pcr = data.draw(st.sampled_from(named), label="PCR")
        a = {b: {p: prefix[b].get(p, bytes(BANK_SIZES[b])) for p in named} for b in banks}
        one = {b: {pcr: a[b][pcr]} for b in banks}
        wrong = {b: dict(v) for b, v in a.items()}
        size = BANK_SIZES[banks[0]]
        wrong[banks[0]][pcr] = data.draw(st.binary(min_size=size, max_size=size), label="wrong")
        both = {b: dict(v) for b, v in one.items()}
        both[banks[-1]][free] = bytes(BANK_SIZES[banks[-1]])
        sets += [a, one, wrong, both]
    for values in sets:
        _agree(
            f"verify_ima({blob.hex()}, {values})",
            outcome(spec.verify_ima, spec_log, values),
            outcome(impl.verify_ima, impl_log, values),
        )
    # the builder's answer, on each side: (a) matches at a prefix <= count unless a
    # template hash fails (mismatch, null); (c) alone is never compared (mismatch, null row)
    for name, module, log in (("spec", spec, spec_log), ("impl", impl, impl_log)):
        if one:
            verdict = module.verify_ima(log, one).to_json()
            if model.wrong_hash_indices():
                assert (verdict["result"], verdict["matchedEntries"]) == ("mismatch", None), name
            else:
                assert verdict["result"] == "match", (name, verdict)
                assert verdict["matchedEntries"] <= count, (name, verdict)
        alone = module.verify_ima(log, unnamed).to_json()
        assert alone["result"] == "mismatch", (name, alone)
        assert [r["replayed"] for r in alone["pcrs"]] == [None], (name, alone)
