"""spec and impl agree on every public operation of the PCR slice (ADR 0001).

Agreement means: equal results, or both raise their package's error of the same class
with the same `.code` (and `.operation` / `.tpm_rc` / `.offset` where the contract says
what they mean). Any other exception is a bug and fails the test as it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import hashes as impl_hashes
from chainoftrust.impl import pcr as impl_pcr
from chainoftrust.impl import predict as impl_predict
from chainoftrust.impl import selection as impl_selection
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import hashes as spec_hashes
from chainoftrust.spec import pcr as spec_pcr
from chainoftrust.spec import predict as spec_predict
from chainoftrust.spec import selection as spec_selection
from hypothesis import example, given
from hypothesis import strategies as st

from tests.strategies import (
    ALGORITHM_IDS,
    ALGORITHM_NAMES,
    ALGORITHMS,
    corrupted_operation_documents,
    digest_value_lists,
    marshalled_digest_values,
    marshalled_pcr_selections,
    operation_documents,
    pcr_selections,
)

Result = tuple[Any, ...]


def _error(err: spec_errors.SpecError | impl_errors.ImplError, *extra: str) -> Result:
    """What must match between the two packages' errors: class, code, and named attributes."""
    return ("error", type(err).__name__, str(err.code), *(getattr(err, name) for name in extra))


def _call(function: Callable[..., Any], *args: Any, extra: tuple[str, ...] = ()) -> Result:
    try:
        return ("ok", _plain(function(*copy.deepcopy(args))))
    except (spec_errors.SpecError, impl_errors.ImplError) as err:
        return _error(err, *extra)


def _plain(value: Any) -> Any:
    """Replace each package's HashAlg by its int value so results compare across packages."""
    if isinstance(value, spec_hashes.HashAlg | impl_hashes.HashAlg):
        return int(value)
    if isinstance(value, tuple | list):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _refusal_rc(err: spec_errors.SpecError | impl_errors.ImplError) -> int | None:
    return getattr(err, "tpm_rc", None)


# --- predict --------------------------------------------------------------------------------


def _predict(predict: Callable[[object], dict[str, Any]], document: Any) -> Result:
    try:
        return ("ok", predict(copy.deepcopy(document)))
    except (spec_errors.SpecError, impl_errors.ImplError) as err:
        return (*_error(err, "operation"), _refusal_rc(err))


@given(document=operation_documents())
@example(document={"banks": ["sha256"], "operations": []})
@example(document={"banks": ["sha256"], "operations": [{"op": "startup", "type": "clear"}]})
def test_predict_agrees(document: Any) -> None:
    spec = _predict(spec_predict.predict, document)
    impl = _predict(impl_predict.predict, document)
    assert spec == impl


@given(document=operation_documents())
def test_predict_leaves_the_document_unchanged(document: Any) -> None:
    before = copy.deepcopy(document)
    for predict in (spec_predict.predict, impl_predict.predict):
        try:
            predict(document)
        except (spec_errors.SpecError, impl_errors.ImplError):
            pass
        assert document == before


@given(document=corrupted_operation_documents())
def test_predict_errors_name_the_same_field(document: Any) -> None:
    """Malformed documents: both sides also agree on `.field` (ADR: a path such as
    `operations[3].pcr`)."""
    spec = _call(spec_predict.predict, document, extra=("operation", "field"))
    impl = _call(impl_predict.predict, document, extra=("operation", "field"))
    assert spec == impl


@given(document=operation_documents())
def test_predict_output_shape(document: Any) -> None:
    """Success: every allocated bank, ascending TPM_ALG_ID, keys "0".."23", lowercase hex
    of the bank's digest size (sizes from the TCG Algorithm Registry)."""
    try:
        output = spec_predict.predict(copy.deepcopy(document))
    except spec_errors.SpecError:
        return
    assert list(output) == ["pcrs"]
    banks = list(output["pcrs"])
    assert banks == sorted(set(document["banks"]), key=lambda name: ALGORITHMS[name][0])
    for name, values in output["pcrs"].items():
        assert list(values) == [str(i) for i in range(24)]
        for value in values.values():
            assert value == value.lower()
            assert len(bytes.fromhex(value)) == ALGORITHMS[name][1]


# --- hashes ---------------------------------------------------------------------------------


@given(name=st.one_of(st.sampled_from(ALGORITHM_NAMES), st.text(max_size=10)))
def test_hash_alg_from_name_agrees(name: str) -> None:
    assert _call(spec_hashes.hash_alg_from_name, name) == _call(
        impl_hashes.hash_alg_from_name, name
    )


@given(alg_id=st.sampled_from(ALGORITHM_IDS), data=st.binary(max_size=300))
def test_hash_functions_agree(alg_id: int, data: bytes) -> None:
    spec_alg, impl_alg = spec_hashes.HashAlg(alg_id), impl_hashes.HashAlg(alg_id)
    assert spec_hashes.hash_alg_name(spec_alg) == impl_hashes.hash_alg_name(impl_alg)
    assert spec_hashes.digest_size(spec_alg) == impl_hashes.digest_size(impl_alg)
    assert spec_hashes.compute_digest(spec_alg, data) == impl_hashes.compute_digest(impl_alg, data)


# --- pcr ------------------------------------------------------------------------------------


def test_locality_and_state_save_rules_agree_everywhere() -> None:
    """All 24 x 5 (pcr, locality) pairs: is_extend_allowed, is_reset_allowed, is_state_saved."""
    for pcr in range(24):
        assert spec_pcr.is_state_saved(pcr) == impl_pcr.is_state_saved(pcr), pcr
        for locality in range(5):
            assert spec_pcr.is_extend_allowed(pcr, locality) == impl_pcr.is_extend_allowed(
                pcr, locality
            ), (pcr, locality)
            assert spec_pcr.is_reset_allowed(pcr, locality) == impl_pcr.is_reset_allowed(
                pcr, locality
            ), (pcr, locality)


@pytest.mark.parametrize(("pcr", "locality"), [(-1, 0), (24, 0), (0, -1), (0, 5), (True, 0)])
def test_locality_rules_out_of_range_agree(pcr: int, locality: int) -> None:
    for name in ("is_extend_allowed", "is_reset_allowed"):
        spec = _call(getattr(spec_pcr, name), pcr, locality)
        impl = _call(getattr(impl_pcr, name), pcr, locality)
        assert spec == impl, name
    assert _call(spec_pcr.is_state_saved, pcr) == _call(impl_pcr.is_state_saved, pcr)


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("startup", ("clear", True)),
        ("extend", (True, 0, [])),
        ("extend", (0, False, [])),
        ("event", (0, True, b"")),
        ("reset", (True, 0)),
        ("reset", (16, True)),
    ],
)
def test_tpm_methods_treat_bools_alike(method: str, args: tuple[Any, ...]) -> None:
    """A bool is not an integer (ADR 0001); both Tpm classes refuse it the same way."""

    def run(module: Any, hashes: Any) -> Result:
        tpm = module.Tpm([hashes.HashAlg.SHA256])
        if method != "startup":
            tpm.startup("clear", 0)
        return _call(getattr(tpm, method), *args)

    assert run(spec_pcr, spec_hashes) == run(impl_pcr, impl_hashes)


@given(
    alg_id=st.sampled_from(ALGORITHM_IDS),
    old_delta=st.sampled_from((0, 0, 0, -1, 1)),
    digest_delta=st.sampled_from((0, 0, 0, -1, 1)),
    seed=st.binary(min_size=64, max_size=130),
)
def test_compute_extend_agrees(alg_id: int, old_delta: int, digest_delta: int, seed: bytes) -> None:
    size = spec_hashes.digest_size(spec_hashes.HashAlg(alg_id))
    old, digest = seed[: size + old_delta], seed[-(size + digest_delta) :]
    spec = _call(spec_pcr.compute_extend, spec_hashes.HashAlg(alg_id), old, digest)
    impl = _call(impl_pcr.compute_extend, impl_hashes.HashAlg(alg_id), old, digest)
    assert spec == impl


@given(banks=st.lists(st.sampled_from(ALGORITHM_IDS), max_size=4))
def test_tpm_construction_agrees(banks: list[int]) -> None:
    """Empty -> NO_BANKS, duplicate -> DUPLICATE_BANK; otherwise equal initial reads."""

    def build(module: Any, hashes: Any) -> Result:
        try:
            tpm = module.Tpm([hashes.HashAlg(b) for b in banks])
        except (spec_errors.SpecError, impl_errors.ImplError) as err:
            return _error(err)
        return ("ok", tpm.started, _call(tpm.read))

    assert build(spec_pcr, spec_hashes) == build(impl_pcr, impl_hashes)


# --- selection ------------------------------------------------------------------------------


@given(indices=st.lists(st.one_of(st.integers(0, 23), st.integers(-3, 30)), max_size=10))
def test_encode_pcr_select_agrees(indices: list[int]) -> None:
    spec = _call(spec_selection.encode_pcr_select, frozenset(indices), extra=("offset",))
    impl = _call(impl_selection.encode_pcr_select, frozenset(indices), extra=("offset",))
    assert spec == impl


@given(bitmap=st.binary(max_size=5))
def test_decode_pcr_select_agrees(bitmap: bytes) -> None:
    spec = _call(spec_selection.decode_pcr_select, bitmap, extra=("offset",))
    impl = _call(impl_selection.decode_pcr_select, bitmap, extra=("offset",))
    assert spec == impl


@given(indices=st.frozensets(st.integers(0, 23)))
def test_pcr_select_round_trips(indices: frozenset[int]) -> None:
    bitmap = spec_selection.encode_pcr_select(indices)
    assert len(bitmap) == 3
    assert impl_selection.decode_pcr_select(bitmap) == indices
    assert spec_selection.decode_pcr_select(impl_selection.encode_pcr_select(indices)) == indices


def _spec_selection(selection: tuple[tuple[int, frozenset[int]], ...]) -> Any:
    return tuple((spec_hashes.HashAlg(a), pcrs) for a, pcrs in selection)


def _impl_selection(selection: tuple[tuple[int, frozenset[int]], ...]) -> Any:
    return tuple((impl_hashes.HashAlg(a), pcrs) for a, pcrs in selection)


@given(selection=pcr_selections())
def test_marshal_pcr_selection_agrees(selection: tuple[tuple[int, frozenset[int]], ...]) -> None:
    spec = _call(
        spec_selection.marshal_pcr_selection, _spec_selection(selection), extra=("offset",)
    )
    impl = _call(
        impl_selection.marshal_pcr_selection, _impl_selection(selection), extra=("offset",)
    )
    assert spec == impl
    if spec[0] == "ok":  # and it reads back as the same selection on both sides
        data = spec[1]
        assert _call(spec_selection.unmarshal_pcr_selection, data) == ("ok", selection)
        assert _call(impl_selection.unmarshal_pcr_selection, data) == ("ok", selection)


@given(data=st.one_of(marshalled_pcr_selections(), st.binary(max_size=64)))
def test_unmarshal_pcr_selection_agrees(data: bytes) -> None:
    spec = _call(spec_selection.unmarshal_pcr_selection, data, extra=("offset",))
    impl = _call(impl_selection.unmarshal_pcr_selection, data, extra=("offset",))
    assert spec == impl


@given(pairs=digest_value_lists())
def test_marshal_digest_values_agrees(pairs: tuple[tuple[int, bytes], ...]) -> None:
    spec_pairs = tuple((spec_hashes.HashAlg(a), d) for a, d in pairs)
    impl_pairs = tuple((impl_hashes.HashAlg(a), d) for a, d in pairs)
    spec = _call(spec_selection.marshal_digest_values, spec_pairs, extra=("offset",))
    impl = _call(impl_selection.marshal_digest_values, impl_pairs, extra=("offset",))
    assert spec == impl
    if spec[0] == "ok":
        assert _call(spec_selection.unmarshal_digest_values, spec[1]) == ("ok", pairs)
        assert _call(impl_selection.unmarshal_digest_values, spec[1]) == ("ok", pairs)


@given(data=st.one_of(marshalled_digest_values(), st.binary(max_size=100)))
def test_unmarshal_digest_values_agrees(data: bytes) -> None:
    spec = _call(spec_selection.unmarshal_digest_values, data, extra=("offset",))
    impl = _call(impl_selection.unmarshal_digest_values, data, extra=("offset",))
    assert spec == impl


@st.composite
def _composite_inputs(
    draw: st.DrawFn,
) -> tuple[int, tuple[tuple[int, frozenset[int]], ...], dict[int, dict[int, bytes]]]:
    scheme = draw(st.sampled_from(ALGORITHM_IDS))
    selection = draw(pcr_selections(max_banks=3))
    values: dict[int, dict[int, bytes]] = {}
    complete = draw(st.integers(0, 4)) != 0  # mostly every selected PCR has a value
    for alg_id, pcrs in selection:
        size = next(size for a, size in ALGORITHMS.values() if a == alg_id)
        chosen = sorted(pcrs) if complete else draw(st.lists(st.integers(0, 23), unique=True))
        bank = values.setdefault(alg_id, {})
        for index in chosen:
            bank[index] = draw(st.binary(min_size=size, max_size=size))
    return scheme, selection, values


@given(inputs=_composite_inputs())
def test_compute_composite_digest_agrees(
    inputs: tuple[int, tuple[tuple[int, frozenset[int]], ...], dict[int, dict[int, bytes]]],
) -> None:
    scheme, selection, values = inputs
    spec = _call(
        spec_selection.compute_composite_digest,
        spec_hashes.HashAlg(scheme),
        _spec_selection(selection),
        {spec_hashes.HashAlg(a): bank for a, bank in values.items()},
    )
    impl = _call(
        impl_selection.compute_composite_digest,
        impl_hashes.HashAlg(scheme),
        _impl_selection(selection),
        {impl_hashes.HashAlg(a): bank for a, bank in values.items()},
    )
    assert spec == impl
