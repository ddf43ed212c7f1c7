"""spec and impl agree exactly on the event-log slice (docs/adr/0002-eventlog-contract.md).

For generated logs (tests/eventlog_strategies.py, a builder independent of both sides),
valid and corrupted: `parse_event_log(...).to_json()` is equal or both raise the same
error class with equal code and offset; the same for `replay_event_log` (strict
False and True), `check_event_data`, `verify_event_log` with PCR values from (a) the
replay, (b) a tampered copy, (c) PCRs the log does not name (and a bank it lacks); and
`parse_pcr_values` on tpm2_pcrread-style and JSON text. The ADR does not pin the words
of warning messages and verdict claims: those are compared as "present, text, never
'trusted'" only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import eventlog as impl
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import eventlog as spec
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from tests.eventlog_strategies import (
    LOG_ALGORITHMS,
    EventLogModel,
    SpecIdFields,
    corrupted_event_logs,
    event_log_models,
    event_logs,
    pcr_value_maps,
    pcrread_texts,
    spec_id_banks,
    tpm_boots,
)

PcrValues = dict[str, dict[int, bytes]]


def _jsonable(value: Any) -> Any:
    """to_json() of a result, of each item of a tuple, or hex of a PCR-value map."""
    if hasattr(value, "to_json"):
        return value.to_json()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return value


def _free_text_removed(value: Any) -> Any:
    """The JSON with the words ADR 0002 does not pin removed: each warning's `message` and
    the verdict's `claims` (checked apart: strings, never the word "trusted")."""
    if isinstance(value, list):
        return [_free_text_removed(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "claims":
            assert isinstance(item, list), item
            assert item, "a verdict states its claims"
            assert all(isinstance(c, str) and "trusted" not in c.lower() for c in item), item
            out[key] = "<claims>"
        elif key == "message" and "code" in value:
            assert isinstance(item, str), item
            out[key] = "<message>"
        else:
            out[key] = _free_text_removed(item)
    return out


def outcome(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    """("ok", JSON) or ("error", class name, code, offset). Any other exception is a bug
    (a traceback where a typed error belongs) and propagates. `.field` is informative
    for event-log errors (ADR 0002 amendment 2 item 2) and not compared."""
    try:
        result = function(*args, **kwargs)
    except (spec_errors.SpecError, impl_errors.ImplError) as err:
        return ("error", type(err).__name__, str(err.code), err.offset)
    return ("ok", _free_text_removed(_jsonable(result)))


def _agree(what: str, spec_out: tuple[Any, ...], impl_out: tuple[Any, ...]) -> None:
    assert spec_out == impl_out, f"{what}: spec {spec_out!r}\nimpl {impl_out!r}"


def _parse_both(data: bytes) -> tuple[Any, Any] | None:
    """Both parses, after checking they agree; None when both refused the log."""
    spec_out = outcome(spec.parse_event_log, data)
    impl_out = outcome(impl.parse_event_log, data)
    _agree(f"parse_event_log({data.hex()})", spec_out, impl_out)
    if spec_out[0] == "error":
        return None
    return spec.parse_event_log(data), impl.parse_event_log(data)


def _pcr_sets(replayed: Mapping[str, Mapping[str, str]], data: st.DataObject) -> list[PcrValues]:
    """(a) the replay's values, (b) one of them altered, (c) PCRs no event names plus a
    bank the log lacks, (d) (a) and (c) together."""
    own = {b: {int(p): bytes.fromhex(v) for p, v in pcrs.items()} for b, pcrs in replayed.items()}
    sets: list[PcrValues] = []
    rows = [(b, p) for b, pcrs in own.items() for p in pcrs]
    if rows:
        sets.append(own)
        bank, pcr = data.draw(st.sampled_from(rows), label="tampered PCR")
        tampered = {b: dict(pcrs) for b, pcrs in own.items()}
        value = bytearray(tampered[bank][pcr])
        value[data.draw(st.integers(0, len(value) - 1), label="byte")] ^= 0x01
        tampered[bank][pcr] = bytes(value)
        sets.append(tampered)
    outside: PcrValues = {}
    for name, (_alg, size) in LOG_ALGORITHMS.items():
        named = {int(p) for p in replayed.get(name, {})}
        free = [p for p in range(24) if p not in named][:3]
        if free and (name in replayed or not outside):
            outside[name] = {p: bytes([p]) * size for p in free}
    if outside:
        sets.append(outside)
        if rows:
            sets.append({b: {**own.get(b, {}), **outside.get(b, {})} for b in {*own, *outside}})
    return sets


def _compare_pipeline(data: bytes, draw: st.DataObject) -> None:
    parsed = _parse_both(data)
    if parsed is None:
        return
    spec_log, impl_log = parsed
    _agree(
        "check_event_data",
        outcome(spec.check_event_data, spec_log),
        outcome(impl.check_event_data, impl_log),
    )
    for strict in (False, True):
        _agree(
            f"replay_event_log(strict={strict})",
            outcome(spec.replay_event_log, spec_log, strict=strict),
            outcome(impl.replay_event_log, impl_log, strict=strict),
        )
    replay = outcome(spec.replay_event_log, spec_log)
    if replay[0] == "ok":  # ADR 0002: banks by ascending TPM_ALG_ID, PCR keys ascending
        impl_pcrs = impl.replay_event_log(impl_log).to_json()["pcrs"]
        spec_order = [(b, list(p)) for b, p in replay[1]["pcrs"].items()]
        assert spec_order == [(b, list(p)) for b, p in impl_pcrs.items()], "key order"
    replayed = replay[1]["pcrs"] if replay[0] == "ok" else {}
    for pcrs in _pcr_sets(replayed, draw):
        for strict in (False, True):
            _agree(
                f"verify_event_log({_jsonable(pcrs)}, strict={strict})",
                outcome(spec.verify_event_log, spec_log, pcrs, strict=strict),
                outcome(impl.verify_event_log, impl_log, pcrs, strict=strict),
            )


@given(data=st.one_of(event_logs(), event_logs(min_events=8)), draw=st.data())
def test_valid_logs_agree(data: bytes, draw: st.DataObject) -> None:
    _compare_pipeline(data, draw)


@given(data=corrupted_event_logs(), draw=st.data())
def test_corrupted_logs_agree(data: bytes, draw: st.DataObject) -> None:
    _compare_pipeline(data, draw)


@given(text=pcrread_texts())
def test_parse_pcr_values_agree(text: str) -> None:
    _agree(
        f"parse_pcr_values({text!r})",
        outcome(spec.parse_pcr_values, text),
        outcome(impl.parse_pcr_values, text),
    )


@given(values=pcr_value_maps())
def test_verify_of_supplied_values_agree_on_an_empty_log_body(values: PcrValues) -> None:
    """A log of only its Spec ID event names no PCR: every row not_in_log, result mismatch."""
    log = EventLogModel(SpecIdFields((LOG_ALGORITHMS["sha256"],)), ()).to_bytes()
    spec_out = outcome(spec.verify_event_log, spec.parse_event_log(log), values)
    impl_out = outcome(impl.verify_event_log, impl.parse_event_log(log), values)
    _agree("verify_event_log on a header-only log", spec_out, impl_out)
    assert spec_out[0] == "ok"
    assert spec_out[1]["result"] == "mismatch"  # ADR 0002 Amendment 1 item 6
    assert {row["status"] for row in spec_out[1]["pcrs"]} == {"not_in_log"}


@pytest.mark.parametrize(
    "strategy",
    [
        lambda: event_log_models(min_events=5, max_events=2),
        lambda: event_log_models(max_events=31),
        lambda: event_log_models(formats=("tpm12",)),
        lambda: corrupted_event_logs(corruptions=()),
        lambda: corrupted_event_logs(corruptions=("shred",)),
        lambda: spec_id_banks(algorithms=("md5",)),
        lambda: spec_id_banks(algorithms=()),
        lambda: tpm_boots(banks=("sha1", "sha1")),
        lambda: tpm_boots(max_events=0),
        lambda: pcr_value_maps(banks=()),
    ],
)
def test_strategies_refuse_impossible_arguments(strategy: Callable[[], Any]) -> None:
    @given(strategy())
    def draw_one(_value: object) -> None:
        pass

    with pytest.raises(InvalidArgument):
        draw_one()
