"""spec and impl agree on the quote slice (docs/adr/0004-quote-contract.md).

Inputs come from tests/quote_strategies.py, a builder written from TPM 2.0 Part 2 and
keys and signatures made by `cryptography`, independent of both sides. For every public
operation: both sides give equal dataclass field values, or both raise
MalformedInputError with the same code and offset. Where the builder knows the answer
(valid structures, untampered quotes) both sides are also checked against it:
the fields it encoded, the fingerprint from cryptography's DER, the Name from hashlib,
`accept` for an untampered quote and `reject` for a tampered one. Verdicts are compared
as `to_json()` without the failure messages (the ADR leaves their words open).

TPM2B caps: extraData (TPM2B_DATA) holds at most sizeof(TPMT_HA) = 66 octets (Part 2;
ADR 0004 amendment 1 item 1: swtpm (libtpms) quotes 65- and 66-octet qualifyingData and
refuses 67). Both sides must parse 65 and 66 octets and refuse 67 and more with
INVALID_ATTEST at the size field.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from types import ModuleType
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import quote as impl
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import quote as spec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.quote_strategies import (
    HASHES,
    TPM_ALG_ECDSA,
    TPM_ALG_RSASSA,
    AttestModel,
    QuoteCase,
    SignatureModel,
    all_keys,
    area_model,
    attest_json,
    attest_models,
    ec_keys,
    encoded_public_keys,
    fingerprint_of,
    malformed_attests,
    malformed_public_areas,
    malformed_public_keys,
    malformed_signatures,
    marshal_signature,
    public_areas,
    quote_cases,
    rsa_keys,
    sign,
    signature_models,
    tpm2b,
)

Result = tuple[Any, ...]
ERRORS = (spec_errors.SpecError, impl_errors.ImplError)


def _plain(value: Any) -> Any:
    """Dataclasses as {field: value}, enums as their int/str values, recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, frozenset):
        return frozenset(_plain(v) for v in value)
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _call(side: ModuleType, name: str, *args: Any) -> Result:
    """("ok", fields) or ("error", class name, code, offset); other exceptions propagate."""
    try:
        return ("ok", _plain(getattr(side, name)(*args)))
    except ERRORS as err:
        return ("error", type(err).__name__, str(err.code), err.offset)


def _agree(name: str, *args: Any) -> Result:
    """Both sides' results of `name` on args, asserted equal; returns the common one."""
    got_spec, got_impl = _call(spec, name, *args), _call(impl, name, *args)
    assert got_spec == got_impl, f"{name}{_short(args)}:\n spec {got_spec}\n impl {got_impl}"
    return got_spec


def _short(args: tuple[Any, ...]) -> str:
    return "(" + ", ".join(a.hex() if isinstance(a, bytes) else repr(a) for a in args) + ")"


def _without_messages(verdict: Any) -> dict[str, Any]:
    """to_json() with each failure's message removed (the ADR leaves the words open)."""
    out = verdict.to_json()
    assert isinstance(out, dict), out
    for failure in out["failures"]:
        assert isinstance(failure.pop("message"), str)
    return out


def _attest_fields(model: AttestModel, data: bytes) -> dict[str, Any]:
    """The Attest fields the ADR fixes for a valid attest (`attested` only for non-quotes)."""
    fields: dict[str, Any] = {
        "magic": model.magic,
        "type": model.type,
        "qualified_signer": model.qualified_signer,
        "extra_data": model.extra_data,
        "clock": model.clock,
        "reset_count": model.reset_count,
        "restart_count": model.restart_count,
        "safe": model.safe,
        "firmware_version": model.firmware_version,
        "selection": model.selection,
        "pcr_digest": model.pcr_digest,
        "raw": data,
    }
    if model.selection is None:
        fields["attested"] = model.attested
    return fields


# --- TPMS_ATTEST ---------------------------------------------------------------------------


@given(model=attest_models())
def test_unmarshal_attest_valid(model: AttestModel) -> None:
    data = model.marshal()
    result = _agree("unmarshal_attest", data)
    assert result[0] == "ok", result
    parsed = result[1]
    expected = _attest_fields(model, data)
    assert {k: parsed[k] for k in expected} == expected


@given(data=malformed_attests())
def test_unmarshal_attest_malformed(data: bytes) -> None:
    _agree("unmarshal_attest", data)


_FIXED_ATTESTS = (
    AttestModel(
        qualified_signer=b"\x00\x0b" + bytes(range(32)),
        extra_data=bytes(range(20)),
        clock=0x0102030405060708,
        reset_count=3,
        restart_count=1,
        safe=1,
        firmware_version=0x2019102300163636,
        selection=((0x000B, frozenset({0, 1, 2, 3, 10})), (0x0004, frozenset({0, 7}))),
        pcr_digest=bytes(range(32)),
    ),
    AttestModel(selection=(), pcr_digest=b""),
    AttestModel(type=0x8017, selection=None, pcr_digest=None, attested=bytes(10)),
)


@pytest.mark.parametrize("model", _FIXED_ATTESTS, ids=("quote", "empty-quote", "certify"))
def test_attest_every_truncation(model: AttestModel) -> None:
    """Every proper prefix: both sides raise TRUNCATED at the same offset, at or before the
    cut (a certify's free-form tail may be cut inside: then both parse it)."""
    data = model.marshal()
    for cut in range(len(data)):
        result = _agree("unmarshal_attest", data[:cut])
        if model.selection is None and cut >= model.offsets()["attested"]:
            assert result[0] == "ok"
            continue
        assert result[1:3] == ("MalformedInputError", "TRUNCATED"), (cut, result)
        assert result[3] is not None and result[3] <= cut, (cut, result)


@pytest.mark.parametrize("model", _FIXED_ATTESTS[:2], ids=("quote", "empty-quote"))
def test_attest_every_trailing_and_size(model: AttestModel) -> None:
    """Trailing bytes: TRAILING_BYTES at the old end; each TPM2B size set to 65..0xFFFF:
    INVALID_ATTEST at the size field (or TRUNCATED for a size that still fits the caps)."""
    data = model.marshal()
    assert _agree("unmarshal_attest", data + b"\x00")[1:] == (
        "MalformedInputError",
        "TRAILING_BYTES",
        len(data),
    )
    offsets = model.offsets()
    for name, cap in (("qualifiedSigner", 66), ("extraData", 66), ("pcrDigest", 64)):
        at = offsets[name]
        for size in (cap + 1, cap + 2, 67, 0x100, 0xFFFF):
            result = _agree(
                "unmarshal_attest", data[:at] + size.to_bytes(2, "big") + data[at + 2 :]
            )
            if size > 66:  # above every cap anyone reads in Part 2 (see the module docstring)
                assert result[1:] == ("MalformedInputError", "INVALID_ATTEST", at), (name, size)


@pytest.mark.parametrize("size", [64, 65, 66, 67])
def test_attest_extra_data_sizes(size: int) -> None:
    """ADR 0004 amendment 1 item 1: extraData of 64, 65 and 66 octets parses on both sides
    (swtpm quotes 65 and 66, tests/real/test_swtpm_quote.py); 67 octets is INVALID_ATTEST
    at the size field, before the buffer is read."""
    model = AttestModel(extra_data=bytes(range(size)), selection=(), pcr_digest=b"")
    data = model.marshal()
    result = _agree("unmarshal_attest", data)
    if size <= 66:
        assert result[0] == "ok", result
        assert {k: result[1][k] for k in ("extra_data", "raw")} == {
            "extra_data": bytes(range(size)),
            "raw": data,
        }
    else:
        at = model.offsets()["extraData"]
        assert result[1:] == ("MalformedInputError", "INVALID_ATTEST", at), result


# --- TPMT_SIGNATURE and plain signatures ------------------------------------------------------


@given(case=signature_models())
def test_unmarshal_signature_valid(case: tuple[SignatureModel, bytes]) -> None:
    model, data = case
    result = _agree("unmarshal_signature", data)
    assert result == ("ok", model.fields()), result


@given(data=malformed_signatures())
@example(data=bytes.fromhex("0010000b0000"))  # TPM_ALG_NULL
@example(data=bytes.fromhex("0018000b00"))
def test_unmarshal_signature_malformed(data: bytes) -> None:
    result = _agree("unmarshal_signature", data)
    if len(data) >= 2 and int.from_bytes(data[:2], "big") not in (0x14, 0x16, 0x18):
        assert result[1:] == ("MalformedInputError", "UNSUPPORTED_SIGNATURE_ALGORITHM", 0)


def _der_variants(r: int, s: int) -> list[bytes]:
    """The strict DER Ecdsa-Sig-Value and non-DER variants of it."""

    def integer(v: int, pad: bytes = b"") -> bytes:
        body = pad + v.to_bytes(v.bit_length() // 8 + 1, "big")
        return b"\x02" + bytes([len(body)]) + body

    def seq(body: bytes, long_form: bool = False) -> bytes:
        length = bytes([0x81, len(body)]) if long_form or len(body) > 127 else bytes([len(body)])
        return b"\x30" + length + body

    good = seq(integer(r) + integer(s))
    return [
        good,
        seq(integer(r, b"\x00") + integer(s)),  # non-minimal integer
        seq(integer(r) + integer(s), long_form=len(integer(r) + integer(s)) < 128),
        good + b"\x00",  # trailing
        good[:-1],  # truncated
        seq(integer(r)),  # one integer
        seq(integer(r) + integer(s) + integer(1)),  # three
        b"\x31" + good[1:],  # SET, not SEQUENCE
        seq(b"\x02\x01\xff" + integer(s)),  # negative r
        seq(b"\x02\x00" + integer(s)),  # empty integer
    ]


@settings(max_examples=30)
@given(key=st.sampled_from(ec_keys()), message=st.binary(max_size=64), variant=st.integers(0, 9))
def test_plain_signature_ecdsa(
    key: ec.EllipticCurvePrivateKey, message: bytes, variant: int
) -> None:
    """The DER of a cryptography signature gives its r and s; each non-DER variant
    INVALID_SIGNATURE_FORMAT (a negative r, which is DER, only needs agreement)."""
    signature = sign(key, "ecdsa", "sha256", message)
    assert signature.ecdsa_r is not None and signature.ecdsa_s is not None
    der = _der_variants(signature.ecdsa_r, signature.ecdsa_s)[variant]
    got = [
        _call(side, "plain_signature", side.load_public_key(_spki_pem(key)), der, "ecdsa", 0x000B)
        for side in (spec, impl)
    ]
    assert got[0] == got[1], (der.hex(), got)
    if variant == 0:
        assert got[0] == ("ok", signature.fields())
    elif variant != 8:
        assert got[0][1:3] == ("MalformedInputError", "INVALID_SIGNATURE_FORMAT"), got


@settings(max_examples=30)
@given(
    key=st.sampled_from(rsa_keys()),
    scheme=st.sampled_from(("rsassa", "rsapss")),
    delta=st.sampled_from((0, 0, -1, 1, -256)),
    hash_name=st.sampled_from(tuple(HASHES)),
)
def test_plain_signature_rsa(
    key: rsa.RSAPrivateKey, scheme: str, delta: int, hash_name: str
) -> None:
    """Bytes of the modulus length are the signature; any other length is refused."""
    signature = sign(key, scheme, hash_name, b"message")
    assert signature.rsa_signature is not None
    raw = signature.rsa_signature
    data = raw[:delta] if delta < 0 else raw + bytes(delta)
    got = [
        _call(side, "plain_signature", side.load_public_key(_spki_pem(key)), data, scheme,
              HASHES[hash_name])
        for side in (spec, impl)
    ]  # fmt: skip
    assert got[0] == got[1], got
    if delta == 0:
        assert got[0] == ("ok", signature.fields())
    else:
        assert got[0][1:3] == ("MalformedInputError", "INVALID_SIGNATURE_FORMAT"), got


@pytest.mark.parametrize(
    "der",
    [
        # r with a superfluous leading 0x00 (r's first octet < 0x80): not minimal
        "3046022100" + "01" * 32 + "0220" + "02" * 32,
        # s declares 0x21 octets where 0x20 are left in the SEQUENCE
        "3044022000" + "11" * 31 + "0221" + "22" * 32,
        # long-form SEQUENCE length for a short content
        "308144022001" + "01" * 31 + "0220" + "02" * 32,
    ],
    ids=["non-minimal-integer", "integer-past-sequence", "long-form-length"],
)
def test_plain_signature_ecdsa_offsets(der: str) -> None:
    """Non-DER Ecdsa-Sig-Values: INVALID_SIGNATURE_FORMAT at the same offset on both sides."""
    data = bytes.fromhex(der)
    pem = _spki_pem(ec_keys()[0])
    got = [
        _call(side, "plain_signature", side.load_public_key(pem), data, "ecdsa", 0x000B)
        for side in (spec, impl)
    ]
    assert got[0][:3] == ("error", "MalformedInputError", "INVALID_SIGNATURE_FORMAT"), got
    assert got[0] == got[1], got


def _spki_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --- public keys ------------------------------------------------------------------------------


@given(case=public_areas())
def test_unmarshal_public_valid(case: Any) -> None:
    area, key = case
    tpmt = area.marshal()
    expected = ("ok", area_model(area, key).fields())
    assert _agree("unmarshal_public", tpmt) == expected
    assert _agree("unmarshal_tpm2b_public", tpm2b(tpmt)) == expected
    assert _agree("load_public_key", tpm2b(tpmt)) == expected


# An RSA area with symmetric AES-128-CFB, keyBits 0 and a 256-octet modulus.
_RSA_KEYBITS_0 = bytes.fromhex("0001000b0005007200000006008000430010000000000000") + tpm2b(
    bytes(range(256))
)


@given(data=malformed_public_areas())
@example(data=_RSA_KEYBITS_0)
def test_unmarshal_public_malformed(data: bytes) -> None:
    _agree("unmarshal_public", data)
    _agree("unmarshal_tpm2b_public", tpm2b(data))


@given(case=public_areas(), delta=st.sampled_from((-1, 1, 2, 0x100, -0x100)))
def test_tpm2b_public_wrong_size(case: Any, delta: int) -> None:
    area, _ = case
    tpmt = area.marshal()
    size = (len(tpmt) + delta) % 0x10000
    _agree("unmarshal_tpm2b_public", size.to_bytes(2, "big") + tpmt)


@given(case=encoded_public_keys())
def test_load_public_key_valid(case: tuple[str, bytes, Any]) -> None:
    fmt, data, model = case
    result = _agree("load_public_key", data)
    assert result == ("ok", model.fields()), (fmt, result)


_PEM_WITH_CONTROL_OCTET = (
    b"-----BEGIN PUBLIC KEY-----\n"
    b"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqyf8lt4GoYe1NId3nbX+xameUdqB\n"
    b"dVs52UwtjFhC6A3NLtcKqcSwoPjJq8zE/ayBg7UCA/oex+OTUeYAycmOCQ==\x1f\n"
    b"-----END PUBLIC KEY-----\n"
)

# The same PEM without the control octet: a valid P-256 key.
_PEM_P256 = _PEM_WITH_CONTROL_OCTET.replace(b"==\x1f\n", b"==\n")
# Malformed keys that must be INVALID_KEY on both sides (not only alike).
_PEM_THEN_FS = _PEM_P256 + b"\x1c"  # str's \s matches 0x1c-0x1f; RFC 7468 whitespace does not
_JWK_N_NEWLINE = b'{"kty":"RSA","n":"AQABAQ\\n","e":"AQAB"}'  # `$` matches before a "\n"

# The same key's DER SubjectPublicKeyInfo with the last octet of Y changed: off the curve.
_DER_OFF_CURVE = bytes.fromhex(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004ab27fc96de06a187b534877"
    "79db5fec5a99e51da81755b39d94c2d8c5842e80dcd2ed70aa9c4b0a0f8c9abccc4fdac8183b502"
    "03fa1ec7e39351e600c9c98e08"
)


@given(data=malformed_public_keys())
@example(data=_DER_OFF_CURVE)
@example(data=b"-----BEGIN PUBLIC KEY-----\nM\n-----END PUBLIC KEY-----\n")  # bad base64
@example(data=b"-----BEGIN ")  # no label end
@example(data=_PEM_WITH_CONTROL_OCTET)  # 0x1f inside the base64 text (RFC 7468: not allowed)
@example(data=_PEM_THEN_FS)  # 0x1c after the END line
@example(data=b'{"kty":"RSA","n":"AQABAQ\\n","e":"AQAB"}')  # base64url member ending in "\n"
@example(data=b'{"kty":"RSA","kty":"EC","n":"AQAB","e":"AQAB"}')  # a duplicate member
@example(data=bytes.fromhex("3059301306072aff16ce3d020106082a8648ce3d030107034200"))  # OID
def test_load_public_key_malformed(data: bytes) -> None:
    result = _agree("load_public_key", data)
    if data in (_PEM_THEN_FS, _JWK_N_NEWLINE):
        assert result[:3] == ("error", "MalformedInputError", "INVALID_KEY"), result


def test_load_public_key_regex_edges() -> None:
    """The PEM is a valid key on both sides; one 0x1c after it (not RFC 7468 whitespace):
    INVALID_KEY on both. A JWK member "AQABAQ\\n" (a newline that `$` would let through to
    the base64 decoder): INVALID_KEY, offset null, on both."""
    assert _agree("load_public_key", _PEM_P256)[0] == "ok"
    assert _agree("load_public_key", _PEM_THEN_FS)[1:3] == ("MalformedInputError", "INVALID_KEY")
    jwk = _agree("load_public_key", _JWK_N_NEWLINE)
    assert jwk[1:] == ("MalformedInputError", "INVALID_KEY", None), jwk


@settings(max_examples=20)
@given(case=public_areas())
def test_fingerprint_and_name(case: Any) -> None:
    """fingerprint = SHA-256 of cryptography's DER SPKI; Name = nameAlg || H(TPMT_PUBLIC)."""
    area, key = case
    tpmt = area.marshal()
    name_hash = {v: k for k, v in HASHES.items()}[area.name_alg]
    expected_name = area.name_alg.to_bytes(2, "big") + hashlib.new(name_hash, tpmt).digest()
    for side in (spec, impl):
        public = side.unmarshal_public(tpmt)
        assert side.fingerprint(public) == fingerprint_of(key)
        assert side.compute_name(public) == expected_name
        plain = side.load_public_key(_spki_pem(key))
        assert side.fingerprint(plain) == fingerprint_of(key)
        with pytest.raises(ERRORS) as caught:
            side.compute_name(plain)
        assert str(caught.value.code) == "UNSUPPORTED_KEY"


# --- signatures and the verdict -----------------------------------------------------------------


@settings(max_examples=60)
@given(
    key=st.sampled_from(all_keys()),
    hash_name=st.sampled_from(tuple(HASHES)),
    message=st.binary(max_size=200),
    data=st.data(),
)
def test_verify_signature(key: Any, hash_name: str, message: bytes, data: st.DataObject) -> None:
    """A cryptography signature verifies on both sides; the same one over another message
    or with one bit changed verifies on neither; a scheme for the other key kind: False."""
    scheme = data.draw(
        st.sampled_from(("rsassa", "rsapss") if isinstance(key, rsa.RSAPrivateKey) else ("ecdsa",))
    )
    signature = sign(key, scheme, hash_name, message)
    sig_bytes = marshal_signature(signature)
    other = message + b"\x00"
    other_kind = TPM_ALG_ECDSA if signature.sig_alg != TPM_ALG_ECDSA else TPM_ALG_RSASSA
    for side in (spec, impl):
        public = side.load_public_key(_spki_pem(key))
        sig = side.unmarshal_signature(sig_bytes)
        assert side.verify_signature(public, message, sig) is True, side.__name__
        assert side.verify_signature(public, other, sig) is False, side.__name__
        forged = dataclasses.replace(sig, sig_alg=other_kind)
        assert side.verify_signature(public, message, forged) is False, side.__name__


def _verdicts(case: QuoteCase) -> tuple[Any, Any]:
    out = []
    for side in (spec, impl):
        key = side.load_public_key(case.key)
        signature = side.unmarshal_signature(case.signature)
        out.append(
            side.verify_quote(
                case.attest,
                signature,
                key,
                case.nonce,
                pcrs=case.pcrs,
                pcrs_source=case.pcrs_source,
                allowed_hashes=case.allowed_hashes,
            )
        )
    return out[0], out[1]


@settings(max_examples=120)
@given(case=quote_cases())
def test_verify_quote(case: QuoteCase) -> None:
    """Identical verdict JSON (messages aside); accept iff the case is untampered."""
    spec_verdict, impl_verdict = _verdicts(case)
    got = _without_messages(spec_verdict)
    assert got == _without_messages(impl_verdict), case.note
    assert (got["verdict"] == "accept") is case.expect_accept, (case.note, got["failures"])
    assert spec_verdict.accepted is impl_verdict.accepted is case.expect_accept
    codes = [f["code"] for f in got["failures"]]
    expected_code = {
        "nonce": "NONCE_MISMATCH",
        "pcr_value": "PCR_DIGEST_MISMATCH",
        "pcr_missing": "PCR_VALUES_MISSING",
        "pcr_size": "DIGEST_SIZE_MISMATCH",
        "wrong_key": "SIGNATURE_INVALID",
        "signature_bit": "SIGNATURE_INVALID",
        "ecdsa_range": "SIGNATURE_INVALID",
        "rsa_length": "SIGNATURE_INVALID",
        "other_kind_sig": "SCHEME_KEY_MISMATCH",
        "not_restricted": "KEY_NOT_RESTRICTED_SIGNING",
        "key_scheme": "SCHEME_KEY_MISMATCH",
        "hash_not_allowed": "HASH_NOT_ALLOWED",
        "unknown_hash": "HASH_NOT_ALLOWED",
        "bad_magic": "BAD_MAGIC",
        "not_a_quote": "NOT_A_QUOTE",
    }.get(case.note)
    if case.note == "unknown_hash":  # the key's scheme (if not NULL) differs too
        assert expected_code in codes, codes
    elif expected_code is not None and not case.expect_accept:
        assert codes == [expected_code], (case.note, codes)
    if got["verdict"] == "accept":
        assert got["quote"] == attest_json_of(case.attest)
        assert [c["kind"] for c in got["claims"]][:2] == ["signature", "freshness"]
        assert got["claims"][-1]["kind"] == "clock"


@pytest.mark.parametrize("nonce", [0, 32])
def test_verify_quote_int_nonce_rejected(nonce: int) -> None:
    """An int nonce is no nonce: bytes(n) would be n zero octets, exactly this quote's
    extraData, so a side that converted it would accept. Both sides: NONCE_MISMATCH only,
    while the same quote with bytes(n) accepts on both."""
    key = ec_keys()[0]
    attest = AttestModel(extra_data=bytes(nonce), selection=(), pcr_digest=b"").marshal()
    signature = marshal_signature(sign(key, "ecdsa", "sha256", attest))
    for given_nonce, accept in ((bytes(nonce), True), (nonce, False)):
        got = []
        for side in (spec, impl):
            public = side.load_public_key(_spki_pem(key))
            sig = side.unmarshal_signature(signature)
            verdict = side.verify_quote(attest, sig, public, given_nonce)
            assert verdict.accepted is accept, (side.__name__, given_nonce)
            got.append(_without_messages(verdict))
        assert got[0] == got[1], got
        if not accept:
            assert [(f["check"], f["code"]) for f in got[0]["failures"]] == [
                ("nonce", "NONCE_MISMATCH")
            ]


def attest_json_of(data: bytes) -> dict[str, Any]:
    """The `quote` object built from impl's parse (its fields were checked against the
    builder in test_unmarshal_attest_valid)."""
    parsed = impl.unmarshal_attest(data)
    model = AttestModel(
        magic=parsed.magic,
        type=parsed.type,
        qualified_signer=parsed.qualified_signer,
        extra_data=parsed.extra_data,
        clock=parsed.clock,
        reset_count=parsed.reset_count,
        restart_count=parsed.restart_count,
        safe=parsed.safe,
        firmware_version=parsed.firmware_version,
        selection=None
        if parsed.selection is None
        else tuple((int(a), p) for a, p in parsed.selection),
        pcr_digest=parsed.pcr_digest,
    )
    return attest_json(model)


@settings(max_examples=40)
@given(data=st.one_of(malformed_attests(), st.binary(max_size=120)), key=st.sampled_from(ec_keys()))
def test_verify_quote_unparsable(data: bytes, key: ec.EllipticCurvePrivateKey) -> None:
    """An attest that does not unmarshal: one failure, check `parse`, no quote, both alike."""
    case = QuoteCase(
        attest=data,
        signature=marshal_signature(sign(key, "ecdsa", "sha256", data)),
        key=_spki_pem(key),
        nonce=b"",
        pcrs=None,
        pcrs_source="none",
        allowed_hashes=None,
    )
    spec_verdict, impl_verdict = _verdicts(case)
    got = _without_messages(spec_verdict)
    assert got == _without_messages(impl_verdict)
    if _call(impl, "unmarshal_attest", data)[0] == "error":
        assert got["verdict"] == "reject" and got["quote"] is None
        assert [f["check"] for f in got["failures"]] == ["parse"]


# --- sequences ------------------------------------------------------------------------------------


@settings(max_examples=80)
@given(
    clocks=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 5)), max_size=6)
)
def test_check_quote_sequence(clocks: list[tuple[int, int, int]]) -> None:
    """Both sides list the same failures; each pair's code follows the ADR's rule."""
    models = [
        AttestModel(reset_count=r, restart_count=s, clock=c, selection=(), pcr_digest=b"")
        for r, s, c in clocks
    ]
    got = []
    for side in (spec, impl):
        attests = [side.unmarshal_attest(m.marshal()) for m in models]
        got.append([(f.check, str(f.code)) for f in side.check_quote_sequence(attests)])
    assert got[0] == got[1]
    expected = []
    for i in range(1, len(clocks)):
        (ra, sa, ca), (rb, sb, cb) = clocks[i - 1], clocks[i]
        if rb < ra:
            expected.append((f"sequence[{i}]", "RESET_COUNT_DECREASED"))
        elif rb == ra and sb < sa:
            expected.append((f"sequence[{i}]", "RESTART_COUNT_DECREASED"))
        elif rb == ra and sb == sa and cb <= ca:
            expected.append((f"sequence[{i}]", "CLOCK_NOT_INCREASING"))
    assert got[0] == expected
