"""impl.predict: operations documents (ADR 0001), every error path and the order of checks.

Expected PCR values are hashlib computations written out here and swtpm facts
(libtpms 0.9.2) the lead recorded; error codes, fields and operation indices are the
ADR's contract.
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pytest
from chainoftrust.impl.errors import (
    ErrorCode,
    ImplError,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.impl.predict import predict
from hypothesis import given

from tests import strategies

START = {"op": "startup", "type": "clear"}
SIZES = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64, "sm3_256": 32}


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def doc(*ops: Any, banks: Any = None) -> dict[str, Any]:
    return {"banks": ["sha256"] if banks is None else banks, "operations": list(ops)}


def test_adr_example() -> None:
    d7 = sha256(b"seven")
    document = {
        "banks": ["sha256", "sha1"],
        "operations": [
            {"op": "startup", "type": "clear", "locality": 0},
            {"op": "extend", "pcr": 7, "locality": 0, "digests": {"sha256": d7.hex().upper()}},
            {"op": "event", "pcr": 8, "data": "00ff"},
            {"op": "event", "pcr": 16, "data": "00ff"},
            {"op": "reset", "pcr": 16, "locality": 0},
            {"op": "drtm", "data": b"abc".hex()},
            {"op": "shutdown", "type": "state"},
            {"op": "startup", "type": "state"},
        ],
    }
    result = predict(document)
    assert list(result) == ["pcrs"]
    assert list(result["pcrs"]) == ["sha1", "sha256"], "ascending TPM_ALG_ID"
    for bank, values in result["pcrs"].items():
        assert list(values) == [str(i) for i in range(24)]
        for text in values.values():
            assert text == text.lower() and len(text) == 2 * SIZES[bank]
    pcrs = result["pcrs"]["sha256"]
    assert pcrs["7"] == sha256(bytes(32) + d7).hex()
    assert pcrs["8"] == sha256(bytes(32) + sha256(b"\x00\xff")).hex()
    s1 = result["pcrs"]["sha1"]
    assert s1["8"] == hashlib.sha1(bytes(20) + hashlib.sha1(b"\x00\xff").digest()).hexdigest()
    assert s1["7"] == "00" * 20, "the sha1 bank got no digest"
    # After the resume: 0..15 restored, 16..23 back to their startup values.
    assert pcrs["0"] == "00" * 32
    assert pcrs["16"] == "00" * 32
    assert pcrs["17"] == "ff" * 32


def test_hcrtm_and_drtm_match_swtpm() -> None:
    result = predict(
        doc({"op": "hcrtm", "data": b"crtm".hex()}, START, {"op": "drtm", "data": b"abc".hex()})
    )
    pcrs = result["pcrs"]["sha256"]
    assert pcrs["0"] == sha256(bytes(31) + b"\x04" + sha256(b"crtm")).hex()
    assert pcrs["17"] == sha256(bytes(32) + sha256(b"abc")).hex()
    assert pcrs["18"] == "00" * 32


def test_locality_defaults_to_zero() -> None:
    with_key = predict(doc({**START, "locality": 0}, {"op": "reset", "pcr": 16, "locality": 0}))
    without = predict(doc(START, {"op": "reset", "pcr": 16}))
    assert with_key == without
    three = predict(doc({**START, "locality": 3}))
    assert three["pcrs"]["sha256"]["0"] == "00" * 31 + "03"


def test_extend_document_edge_cases() -> None:
    d = sha256(b"x").hex()
    ops = (
        START,
        {"op": "extend", "pcr": 1, "digests": {}},
        {"op": "extend", "pcr": 2, "digests": {"sha1": "00" * 20, "sha512": "11" * 64}},
        {"op": "extend", "pcr": 3, "digests": {"sha256": d.upper()}},
    )
    pcrs = predict(doc(*ops))["pcrs"]["sha256"]
    assert pcrs["1"] == pcrs["2"] == "00" * 32
    assert pcrs["3"] == sha256(bytes(32) + bytes.fromhex(d)).hex()


# (document, code, operation, field, error class)
M, R, U, E = MalformedInputError, TpmRefusalError, UsageError, ErrorCode
CASES: list[tuple[Any, ErrorCode, int | None, str | None, type[ImplError]]] = [
    ([], E.INVALID_DOCUMENT, None, None, M),
    (None, E.INVALID_DOCUMENT, None, None, M),
    ({"banks": ["sha256"]}, E.INVALID_DOCUMENT, None, "operations", M),
    ({"operations": []}, E.INVALID_DOCUMENT, None, "banks", M),
    ({**doc(START), "extra": 1}, E.INVALID_DOCUMENT, None, "extra", M),
    (doc(START, banks="sha256"), E.INVALID_DOCUMENT, None, "banks", M),
    (doc(START, banks=[]), E.NO_BANKS, None, "banks", M),
    (doc(START, banks=["sha1", 1]), E.INVALID_DOCUMENT, None, "banks[1]", M),
    (doc(START, banks=["SHA256"]), E.UNKNOWN_ALGORITHM, None, "banks[0]", M),
    (doc(START, banks=["sha1", "sha1"]), E.DUPLICATE_BANK, None, "banks[1]", M),
    ({"banks": ["sha1"], "operations": {}}, E.INVALID_DOCUMENT, None, "operations", M),
    (doc(START, "startup"), E.INVALID_DOCUMENT, 1, "operations[1]", M),
    (doc({"type": "clear"}), E.INVALID_DOCUMENT, 0, "operations[0].op", M),
    (doc({"op": 1}), E.INVALID_DOCUMENT, 0, "operations[0].op", M),
    (doc({"op": "Startup"}), E.UNKNOWN_OPERATION, 0, "operations[0].op", M),
    (doc({**START, "pcr": 0}), E.INVALID_DOCUMENT, 0, "operations[0].pcr", M),
    (doc({"op": "startup"}), E.INVALID_DOCUMENT, 0, "operations[0].type", M),
    (doc({"op": "startup", "type": "CLEAR"}), E.INVALID_DOCUMENT, 0, "operations[0].type", M),
    (doc({"op": "shutdown", "type": True}), E.INVALID_DOCUMENT, 0, "operations[0].type", M),
    (doc({**START, "locality": True}), E.INVALID_DOCUMENT, 0, "operations[0].locality", M),
    (doc({**START, "locality": 5}), E.INVALID_LOCALITY, 0, "operations[0].locality", M),
    (doc({**START, "locality": -1}), E.INVALID_LOCALITY, 0, "operations[0].locality", M),
    (doc(START, {"op": "reset"}), E.INVALID_DOCUMENT, 1, "operations[1].pcr", M),
    (doc(START, {"op": "reset", "pcr": 7.0}), E.INVALID_DOCUMENT, 1, "operations[1].pcr", M),
    (doc(START, {"op": "reset", "pcr": "7"}), E.INVALID_DOCUMENT, 1, "operations[1].pcr", M),
    (doc(START, {"op": "reset", "pcr": 24}), E.PCR_INDEX_OUT_OF_RANGE, 1, "operations[1].pcr", M),
    (
        doc(START, {"op": "reset", "pcr": 2**32}),
        E.PCR_INDEX_OUT_OF_RANGE,
        1,
        "operations[1].pcr",
        M,
    ),
    (doc(START, {"op": "extend", "pcr": 0}), E.INVALID_DOCUMENT, 1, "operations[1].digests", M),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": []}),
        E.INVALID_DOCUMENT,
        1,
        "operations[1].digests",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"md5": "00"}}),
        E.UNKNOWN_ALGORITHM,
        1,
        "operations[1].digests.md5",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": None}}),
        E.INVALID_DOCUMENT,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": "0" * 63}}),
        E.INVALID_HEX,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": "0x" + "0" * 62}}),
        E.INVALID_HEX,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": "00 " * 32}}),
        E.INVALID_HEX,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": "g0" * 32}}),
        E.INVALID_HEX,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (
        doc(START, {"op": "extend", "pcr": 0, "digests": {"sha256": "00" * 20}}),
        E.DIGEST_SIZE_MISMATCH,
        1,
        "operations[1].digests.sha256",
        M,
    ),
    (doc(START, {"op": "event", "pcr": 0}), E.INVALID_DOCUMENT, 1, "operations[1].data", M),
    (
        doc(START, {"op": "event", "pcr": 0, "data": ["00"]}),
        E.INVALID_DOCUMENT,
        1,
        "operations[1].data",
        M,
    ),
    (doc(START, {"op": "event", "pcr": 0, "data": "0"}), E.INVALID_HEX, 1, "operations[1].data", M),
    (
        doc(START, {"op": "event", "pcr": 0, "data": "00" * 1025}),
        E.EVENT_DATA_TOO_LARGE,
        1,
        "operations[1].data",
        M,
    ),
    (
        doc({"op": "hcrtm", "data": "00", "locality": 4}),
        E.INVALID_DOCUMENT,
        0,
        "operations[0].locality",
        M,
    ),
    (doc({"op": "hcrtm"}), E.INVALID_DOCUMENT, 0, "operations[0].data", M),
    (doc(START, {"op": "drtm", "data": "zz"}), E.INVALID_HEX, 1, "operations[1].data", M),
    (doc({**START, "locality": 1}), E.LOCALITY_NOT_ALLOWED, 0, None, R),
    (doc(START, START), E.ALREADY_STARTED, 1, None, R),
    (doc({"op": "startup", "type": "state"}), E.NO_SAVED_STATE, 0, None, R),
    (
        doc(START, {"op": "shutdown", "type": "clear"}, {"op": "startup", "type": "state"}),
        E.NO_SAVED_STATE,
        2,
        None,
        R,
    ),
    (
        doc(
            START,
            {"op": "shutdown", "type": "state"},
            {"op": "hcrtm", "data": ""},
            {"op": "startup", "type": "state"},
        ),
        E.HCRTM_STATE_MISMATCH,
        3,
        None,
        R,
    ),
    (
        doc(
            {**START, "locality": 3},
            {"op": "shutdown", "type": "state"},
            {"op": "startup", "type": "state"},
        ),
        E.STARTUP_LOCALITY_MISMATCH,
        2,
        None,
        R,
    ),
    (doc({"op": "extend", "pcr": 0, "digests": {}}), E.NOT_STARTED, 0, None, R),
    (doc({"op": "shutdown", "type": "clear"}), E.NOT_STARTED, 0, None, R),
    (doc(START, {"op": "extend", "pcr": 17, "digests": {}}), E.LOCALITY_NOT_ALLOWED, 1, None, R),
    (
        doc(START, {"op": "event", "pcr": 22, "locality": 3, "data": ""}),
        E.LOCALITY_NOT_ALLOWED,
        1,
        None,
        R,
    ),
    (doc(START, {"op": "reset", "pcr": 17, "locality": 4}), E.LOCALITY_NOT_ALLOWED, 1, None, R),
    (doc(START, {"op": "hcrtm", "data": ""}), E.HCRTM_AFTER_STARTUP, 1, None, U),
    (doc({"op": "drtm", "data": ""}), E.DRTM_BEFORE_STARTUP, 0, None, U),
    (doc(), E.NOT_STARTED, None, None, R),
    (doc(START, {"op": "shutdown", "type": "state"}), E.NOT_STARTED, None, None, R),
]


@pytest.mark.parametrize(("document", "code", "operation", "field", "cls"), CASES)
def test_invalid_documents(
    document: Any, code: ErrorCode, operation: int | None, field: str | None, cls: type
) -> None:
    with pytest.raises(ImplError) as info:
        predict(document)
    err = info.value
    assert (err.code, err.operation, err.field) == (code, operation, field)
    assert type(err) is cls
    assert err.message


def test_refusals_carry_tpm_rc() -> None:
    expected = {
        ErrorCode.LOCALITY_NOT_ALLOWED: 0x907,
        ErrorCode.ALREADY_STARTED: 0x100,
        ErrorCode.NO_SAVED_STATE: 0x1C4,
        ErrorCode.HCRTM_STATE_MISMATCH: 0x1C4,
        ErrorCode.STARTUP_LOCALITY_MISMATCH: 0x907,
        ErrorCode.NOT_STARTED: 0x100,
    }
    for document, code, *_ in CASES:
        if code in expected:
            with pytest.raises(TpmRefusalError) as info:
                predict(document)
            assert info.value.tpm_rc == expected[code]


ORDER: list[tuple[dict[str, Any], ErrorCode, str | None]] = [
    # document: key set, then banks in list order, then operations
    ({"banks": ["md5"], "x": 1}, ErrorCode.INVALID_DOCUMENT, "x"),
    ({"banks": ["md5", "sha1", "sha1"], "operations": 1}, ErrorCode.UNKNOWN_ALGORITHM, "banks[0]"),
    ({"banks": ["sha1", "sha1", "md5"], "operations": 1}, ErrorCode.DUPLICATE_BANK, "banks[1]"),
    ({"banks": ["sha1"], "operations": 1}, ErrorCode.INVALID_DOCUMENT, "operations"),
    # operation: op, unknown keys, type, pcr, locality, digests/data
    (doc({"op": "nope", "bad": 1}), ErrorCode.UNKNOWN_OPERATION, "operations[0].op"),
    (
        doc({"op": "startup", "type": "x", "bad": 1}),
        ErrorCode.INVALID_DOCUMENT,
        "operations[0].bad",
    ),
    (
        doc({"op": "startup", "type": "x", "locality": 9}),
        ErrorCode.INVALID_DOCUMENT,
        "operations[0].type",
    ),
    (
        doc({"op": "event", "pcr": 99, "locality": 9, "data": "z"}),
        ErrorCode.PCR_INDEX_OUT_OF_RANGE,
        "operations[0].pcr",
    ),
    (
        doc({"op": "event", "pcr": 1, "locality": 9, "data": "z"}),
        ErrorCode.INVALID_LOCALITY,
        "operations[0].locality",
    ),
    (
        doc({"op": "extend", "pcr": 1, "digests": {"sha256": "z", "md5": "00"}}),
        ErrorCode.INVALID_HEX,
        "operations[0].digests.sha256",
    ),
    (
        doc({"op": "extend", "pcr": 1, "digests": {"md5": "z", "sha256": "z"}}),
        ErrorCode.UNKNOWN_ALGORITHM,
        "operations[0].digests.md5",
    ),
    (
        doc({"op": "extend", "pcr": 1, "digests": {"sha1": "00", "sha256": "z"}}),
        ErrorCode.DIGEST_SIZE_MISMATCH,
        "operations[0].digests.sha1",
    ),
    (
        doc({"op": "event", "pcr": 1, "data": "0" * 2051}),
        ErrorCode.INVALID_HEX,
        "operations[0].data",
    ),
    # validation before execution, execution checks: started first, then locality
    (
        doc({"op": "extend", "pcr": 17, "digests": {"sha1": "00"}}),
        ErrorCode.DIGEST_SIZE_MISMATCH,
        "operations[0].digests.sha1",
    ),
    (doc({"op": "extend", "pcr": 17, "digests": {}}), ErrorCode.NOT_STARTED, None),
    (doc({**START, "locality": 2}, {"op": "bogus"}), ErrorCode.LOCALITY_NOT_ALLOWED, None),
]


@pytest.mark.parametrize(("document", "code", "field"), ORDER)
def test_order_of_checks(document: dict[str, Any], code: ErrorCode, field: str | None) -> None:
    with pytest.raises(ImplError) as info:
        predict(document)
    assert (info.value.code, info.value.field) == (code, field)


def test_predict_does_not_modify_the_document() -> None:
    document = doc(START, {"op": "extend", "pcr": 3, "digests": {"sha256": "AB" * 32}})
    before = copy.deepcopy(document)
    predict(document)
    assert document == before


@given(strategies.operation_documents())
def test_any_document_gives_values_or_a_typed_error(document: Any) -> None:
    try:
        result = predict(document)
    except ImplError as err:
        assert isinstance(err.code, ErrorCode)
        assert err.operation is None or 0 <= err.operation < len(document["operations"])
        return
    assert list(result) == ["pcrs"]
    names = list(result["pcrs"])
    assert sorted(names) == sorted(document["banks"])
    for name, values in result["pcrs"].items():
        assert len(values) == 24
        size = strategies.digest_size_of(name)
        assert all(len(bytes.fromhex(v)) == size for v in values.values())
