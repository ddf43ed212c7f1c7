"""chainoftrust.spec.predict against ADR 0001 (document shape, order of checks, output)
and against values from hashlib and the swtpm experiments listed in the task."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from chainoftrust.spec.errors import (
    ErrorCode,
    MalformedInputError,
    SpecError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.spec.predict import predict

START = {"op": "startup", "type": "clear"}
Z256 = "00" * 32


def doc(*ops: dict[str, Any], banks: list[Any] | None = None) -> dict[str, Any]:
    return {"banks": ["sha256"] if banks is None else banks, "operations": list(ops)}


def failure(document: object) -> SpecError:
    with pytest.raises(SpecError) as info:
        predict(document)
    return info.value


def assert_error(
    document: object, code: ErrorCode, *, operation: int | None = None, field: str | None = None
) -> SpecError:
    err = failure(document)
    assert err.code is code, str(err)
    assert err.operation == operation, str(err)
    if field is not None:
        assert err.field == field, str(err)
    return err


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- output --------------------------------------------------------------------------


def test_output_shape_and_bank_order() -> None:
    out = predict(doc(START, banks=["sha384", "sha1", "sha256"]))
    assert list(out) == ["pcrs"]
    assert list(out["pcrs"]) == ["sha1", "sha256", "sha384"]  # ascending TPM_ALG_ID
    for name, width in (("sha1", 40), ("sha256", 64), ("sha384", 96)):
        bank = out["pcrs"][name]
        assert list(bank) == [str(i) for i in range(24)]
        assert bank["0"] == "0" * width
        assert bank["17"] == "f" * width
    json.dumps(out)  # plain JSON


def test_extend_event_reset_values() -> None:
    d = sha256(b"kernel")
    out = predict(
        doc(
            START,
            {"op": "extend", "pcr": 7, "digests": {"sha256": d.hex().upper()}},
            {"op": "event", "pcr": 8, "locality": 0, "data": "6162"},
            {"op": "event", "pcr": 16, "data": "00"},
            {"op": "reset", "pcr": 16},
        )
    )["pcrs"]["sha256"]
    assert out["7"] == sha256(bytes(32) + d).hex()
    assert out["8"] == sha256(bytes(32) + sha256(b"ab")).hex()
    assert out["16"] == Z256


def test_unallocated_bank_digest_is_ignored() -> None:
    out = predict(doc(START, {"op": "extend", "pcr": 7, "digests": {"sha1": "00" * 20}}))
    assert out["pcrs"]["sha256"]["7"] == Z256


def test_empty_digests_is_a_no_op() -> None:
    out = predict(doc(START, {"op": "extend", "pcr": 7, "digests": {}}))
    assert out["pcrs"]["sha256"]["7"] == Z256


def test_swtpm_facts() -> None:
    out = predict(
        doc({"op": "hcrtm", "data": "616263"}, {"op": "startup", "type": "clear", "locality": 3})
    )["pcrs"]["sha256"]
    assert out["0"] == sha256(bytes(31) + b"\x04" + sha256(b"abc")).hex()
    out = predict(doc({"op": "startup", "type": "clear", "locality": 3}))["pcrs"]["sha256"]
    assert out["0"] == "00" * 31 + "03"
    out = predict(doc(START, {"op": "drtm", "data": "616263"}))["pcrs"]["sha256"]
    assert out["17"] == sha256(bytes(32) + sha256(b"abc")).hex()
    assert out["18"] == Z256
    err = assert_error(
        doc(START, {"op": "shutdown", "type": "clear"}, {"op": "startup", "type": "state"}),
        ErrorCode.NO_SAVED_STATE,
        operation=2,
    )
    assert isinstance(err, TpmRefusalError) and err.tpm_rc == 0x1C4
    err = assert_error(
        doc(START, {"op": "reset", "pcr": 17, "locality": 4}),
        ErrorCode.LOCALITY_NOT_ALLOWED,
        operation=1,
    )
    assert isinstance(err, TpmRefusalError) and err.tpm_rc == 0x907


def test_resume_keeps_pcr0_to_15() -> None:
    d = sha256(b"x").hex()
    out = predict(
        doc(
            START,
            {"op": "extend", "pcr": 5, "digests": {"sha256": d}},
            {"op": "extend", "pcr": 23, "digests": {"sha256": d}},
            {"op": "shutdown", "type": "state"},
            {"op": "startup", "type": "state"},
        )
    )["pcrs"]["sha256"]
    assert out["5"] == sha256(bytes(32) + bytes.fromhex(d)).hex()
    assert out["23"] == Z256


# --- check order 1: the document -----------------------------------------------------


@pytest.mark.parametrize("document", [None, [], "x", 1, True])
def test_document_not_an_object(document: object) -> None:
    err = assert_error(document, ErrorCode.INVALID_DOCUMENT)
    assert err.field is None  # the root has no path


def test_document_keys() -> None:
    assert_error({"banks": [], "x": 1}, ErrorCode.INVALID_DOCUMENT, field="x")
    assert_error({"x": 1}, ErrorCode.INVALID_DOCUMENT, field="x")  # unknown key first
    assert_error({"operations": []}, ErrorCode.INVALID_DOCUMENT, field="banks")
    assert_error({"banks": ["sha256"]}, ErrorCode.INVALID_DOCUMENT, field="operations")
    assert_error({"banks": ["sha256"], "operations": {}}, ErrorCode.INVALID_DOCUMENT)
    # banks are checked before operations
    assert_error({"banks": ["md5"], "operations": 5}, ErrorCode.UNKNOWN_ALGORITHM)


@pytest.mark.parametrize(
    ("banks", "code", "field"),
    [
        ("sha256", ErrorCode.INVALID_DOCUMENT, "banks"),
        ({"sha256": 1}, ErrorCode.INVALID_DOCUMENT, "banks"),
        ([], ErrorCode.NO_BANKS, "banks"),
        ([1, "md5"], ErrorCode.INVALID_DOCUMENT, "banks[0]"),
        (["sha256", "md5", "sha256"], ErrorCode.UNKNOWN_ALGORITHM, "banks[1]"),
        (["sha256", "sha256", "md5"], ErrorCode.DUPLICATE_BANK, "banks[1]"),
        (["SHA256"], ErrorCode.UNKNOWN_ALGORITHM, "banks[0]"),
        ([None], ErrorCode.INVALID_DOCUMENT, "banks[0]"),
    ],
)
def test_banks(banks: object, code: ErrorCode, field: str) -> None:
    assert_error({"banks": banks, "operations": [START]}, code, field=field)


# --- check order 2: each operation, validated whole ----------------------------------


@pytest.mark.parametrize(
    ("op", "code", "field"),
    [
        ("startup", ErrorCode.INVALID_DOCUMENT, None),
        ([], ErrorCode.INVALID_DOCUMENT, "operations[1]"),
        ({}, ErrorCode.INVALID_DOCUMENT, "operations[1].op"),
        ({"op": 1}, ErrorCode.INVALID_DOCUMENT, "operations[1].op"),
        ({"op": "Extend"}, ErrorCode.UNKNOWN_OPERATION, "operations[1].op"),
        ({"op": "pcr_read", "pcr": 1}, ErrorCode.UNKNOWN_OPERATION, "operations[1].op"),
        (
            {"op": "shutdown", "type": "clear", "locality": 0},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].locality",
        ),
        (
            {"op": "hcrtm", "data": "", "locality": 4},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].locality",
        ),
        ({"op": "reset", "pcr": 16, "data": ""}, ErrorCode.INVALID_DOCUMENT, "operations[1].data"),
        ({"op": "startup"}, ErrorCode.INVALID_DOCUMENT, "operations[1].type"),
        ({"op": "startup", "type": "CLEAR"}, ErrorCode.INVALID_DOCUMENT, "operations[1].type"),
        ({"op": "shutdown", "type": 0}, ErrorCode.INVALID_DOCUMENT, "operations[1].type"),
        ({"op": "reset"}, ErrorCode.INVALID_DOCUMENT, "operations[1].pcr"),
        ({"op": "reset", "pcr": True}, ErrorCode.INVALID_DOCUMENT, "operations[1].pcr"),
        ({"op": "reset", "pcr": 16.0}, ErrorCode.INVALID_DOCUMENT, "operations[1].pcr"),
        ({"op": "reset", "pcr": "16"}, ErrorCode.INVALID_DOCUMENT, "operations[1].pcr"),
        ({"op": "reset", "pcr": -1}, ErrorCode.PCR_INDEX_OUT_OF_RANGE, "operations[1].pcr"),
        ({"op": "reset", "pcr": 24}, ErrorCode.PCR_INDEX_OUT_OF_RANGE, "operations[1].pcr"),
        ({"op": "reset", "pcr": 10**30}, ErrorCode.PCR_INDEX_OUT_OF_RANGE, "operations[1].pcr"),
        (
            {"op": "reset", "pcr": 16, "locality": False},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].locality",
        ),
        (
            {"op": "reset", "pcr": 16, "locality": None},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].locality",
        ),
        (
            {"op": "reset", "pcr": 16, "locality": 5},
            ErrorCode.INVALID_LOCALITY,
            "operations[1].locality",
        ),
        (
            {"op": "reset", "pcr": 16, "locality": -1},
            ErrorCode.INVALID_LOCALITY,
            "operations[1].locality",
        ),
        ({"op": "extend", "pcr": 7}, ErrorCode.INVALID_DOCUMENT, "operations[1].digests"),
        (
            {"op": "extend", "pcr": 7, "digests": []},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].digests",
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"md5": "00"}},
            ErrorCode.UNKNOWN_ALGORITHM,
            "operations[1].digests.md5",
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha256": 0}},
            ErrorCode.INVALID_DOCUMENT,
            "operations[1].digests.sha256",
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha256": "0" * 63}},
            ErrorCode.INVALID_HEX,
            "operations[1].digests.sha256",
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha256": "0x" + "0" * 62}},
            ErrorCode.INVALID_HEX,
            None,
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha256": " " + "0" * 63}},
            ErrorCode.INVALID_HEX,
            None,
        ),
        ({"op": "extend", "pcr": 7, "digests": {"sha256": "g" * 64}}, ErrorCode.INVALID_HEX, None),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha256": "00" * 20}},
            ErrorCode.DIGEST_SIZE_MISMATCH,
            "operations[1].digests.sha256",
        ),
        (
            {"op": "extend", "pcr": 7, "digests": {"sha1": "00" * 32}},
            ErrorCode.DIGEST_SIZE_MISMATCH,
            "operations[1].digests.sha1",
        ),
        ({"op": "event", "pcr": 7}, ErrorCode.INVALID_DOCUMENT, "operations[1].data"),
        ({"op": "event", "pcr": 7, "data": None}, ErrorCode.INVALID_DOCUMENT, "operations[1].data"),
        ({"op": "event", "pcr": 7, "data": "abc"}, ErrorCode.INVALID_HEX, "operations[1].data"),
        (
            {"op": "event", "pcr": 7, "data": "00" * 1025},
            ErrorCode.EVENT_DATA_TOO_LARGE,
            "operations[1].data",
        ),
        ({"op": "drtm", "data": "zz"}, ErrorCode.INVALID_HEX, "operations[1].data"),
    ],
)
def test_invalid_operation(op: object, code: ErrorCode, field: str | None) -> None:
    err = assert_error(doc(START, op), code, operation=1, field=field)  # type: ignore[arg-type]
    assert isinstance(err, MalformedInputError)


def test_field_order_within_an_operation() -> None:
    # unknown key before everything else
    assert_error(
        doc({"op": "extend", "x": 1, "pcr": 99}),
        ErrorCode.INVALID_DOCUMENT,
        operation=0,
        field="operations[0].x",
    )
    # type before locality
    assert_error(
        doc({"op": "startup", "type": "bogus", "locality": 9}),
        ErrorCode.INVALID_DOCUMENT,
        operation=0,
        field="operations[0].type",
    )
    # pcr before locality before digests
    bad = {"op": "extend", "digests": {"md5": "zz"}, "locality": 9, "pcr": 99}
    assert_error(doc(bad), ErrorCode.PCR_INDEX_OUT_OF_RANGE, operation=0)
    bad["pcr"] = 7
    assert_error(doc(bad), ErrorCode.INVALID_LOCALITY, operation=0)
    bad["locality"] = 0
    assert_error(doc(bad), ErrorCode.UNKNOWN_ALGORITHM, operation=0)
    # digests: per key in document order; within a key: name, hex, size
    assert_error(
        doc({"op": "extend", "pcr": 7, "digests": {"sha256": "zz", "md5": "00"}}),
        ErrorCode.INVALID_HEX,
        operation=0,
    )
    assert_error(
        doc({"op": "extend", "pcr": 7, "digests": {"md5": "00", "sha256": "zz"}}),
        ErrorCode.UNKNOWN_ALGORITHM,
        operation=0,
    )
    # event data: hex before size
    assert_error(
        doc({"op": "event", "pcr": 7, "data": "0" * 4001}), ErrorCode.INVALID_HEX, operation=0
    )


def test_hcrtm_and_drtm_data_have_no_size_limit() -> None:
    out = predict(
        doc({"op": "hcrtm", "data": "ab" * 3000}, START, {"op": "drtm", "data": "cd" * 3000})
    )
    assert out["pcrs"]["sha256"]["17"] == sha256(bytes(32) + sha256(b"\xcd" * 3000)).hex()


# --- check order 3: execution ---------------------------------------------------------


def test_each_operation_is_validated_then_executed_in_turn() -> None:
    # op 0 is valid and executed (NOT_STARTED) before op 1 is validated
    assert_error(
        doc({"op": "reset", "pcr": 16}, {"op": "bogus"}), ErrorCode.NOT_STARTED, operation=0
    )
    assert_error(doc(START, {"op": "bogus"}), ErrorCode.UNKNOWN_OPERATION, operation=1)


@pytest.mark.parametrize(
    ("ops", "code", "operation", "rc"),
    [
        ([{"op": "extend", "pcr": 7, "digests": {}}], ErrorCode.NOT_STARTED, 0, 0x100),
        ([{"op": "event", "pcr": 17, "data": ""}], ErrorCode.NOT_STARTED, 0, 0x100),
        ([{"op": "shutdown", "type": "state"}], ErrorCode.NOT_STARTED, 0, 0x100),
        ([START, START], ErrorCode.ALREADY_STARTED, 1, 0x100),
        (
            [{"op": "startup", "type": "clear", "locality": 2}],
            ErrorCode.LOCALITY_NOT_ALLOWED,
            0,
            0x907,
        ),
        ([{"op": "startup", "type": "state"}], ErrorCode.NO_SAVED_STATE, 0, 0x1C4),
        ([START, {"op": "event", "pcr": 17, "data": ""}], ErrorCode.LOCALITY_NOT_ALLOWED, 1, 0x907),
        ([START, {"op": "reset", "pcr": 0}], ErrorCode.LOCALITY_NOT_ALLOWED, 1, 0x907),
        (
            [START, {"op": "extend", "pcr": 22, "locality": 3, "digests": {}}],
            ErrorCode.LOCALITY_NOT_ALLOWED,
            1,
            0x907,
        ),
        (
            [
                {"op": "hcrtm", "data": ""},
                START,
                {"op": "shutdown", "type": "state"},
                {"op": "startup", "type": "state"},
            ],
            ErrorCode.HCRTM_STATE_MISMATCH,
            3,
            0x1C4,
        ),
        (
            [
                {"op": "startup", "type": "clear", "locality": 3},
                {"op": "shutdown", "type": "state"},
                {"op": "startup", "type": "state"},
            ],
            ErrorCode.STARTUP_LOCALITY_MISMATCH,
            2,
            0x907,
        ),
    ],
)
def test_refusals(ops: list[dict[str, Any]], code: ErrorCode, operation: int, rc: int) -> None:
    err = assert_error(doc(*ops), code, operation=operation)
    assert isinstance(err, TpmRefusalError)
    assert err.tpm_rc == rc


def test_usage_errors() -> None:
    err = assert_error(
        doc(START, {"op": "hcrtm", "data": ""}), ErrorCode.HCRTM_AFTER_STARTUP, operation=1
    )
    assert isinstance(err, UsageError)
    err = assert_error(doc({"op": "drtm", "data": ""}), ErrorCode.DRTM_BEFORE_STARTUP, operation=0)
    assert isinstance(err, UsageError)


@pytest.mark.parametrize(
    "ops",
    [
        [],
        [{"op": "hcrtm", "data": "00"}],
        [START, {"op": "shutdown", "type": "state"}],
    ],
)
def test_ending_not_started(ops: list[dict[str, Any]]) -> None:
    err = assert_error(doc(*ops), ErrorCode.NOT_STARTED, operation=None)
    assert isinstance(err, TpmRefusalError) and err.tpm_rc == 0x100


def test_document_from_json_text() -> None:
    text = """{"banks": ["sha1", "sha256"], "operations": [
        {"op": "startup", "type": "clear", "locality": 0},
        {"op": "extend", "pcr": 7, "locality": 0, "digests": {"sha256": "%s"}},
        {"op": "event", "pcr": 8, "data": "00ff"},
        {"op": "reset", "pcr": 16, "locality": 0},
        {"op": "drtm", "data": ""}]}""" % ("AB" * 32)
    out = predict(json.loads(text))
    assert out["pcrs"]["sha256"]["7"] == sha256(bytes(32) + b"\xab" * 32).hex()
    assert out["pcrs"]["sha1"]["7"] == "00" * 20
    assert (
        out["pcrs"]["sha1"]["8"]
        == hashlib.sha1(bytes(20) + hashlib.sha1(b"\x00\xff").digest()).hexdigest()
    )
    assert (
        out["pcrs"]["sha1"]["17"]
        == hashlib.sha1(bytes(20) + hashlib.sha1(b"").digest()).hexdigest()
    )
