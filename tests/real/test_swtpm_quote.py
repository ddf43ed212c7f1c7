"""Quotes of a real TPM (swtpm/libtpms via tpm2-tools): spec, impl and tpm2_checkquote agree.

One swtpm per module (tests/real/swtpm_quote.py): an ECC EK, AKs of three kinds (ECC P-256
ECDSA, RSA-2048 RSASSA, RSA-2048 RSAPSS; all sha256) and a second AK of each kind (the
"wrong key"), PCRs of the sha1/sha256/sha384 banks extended with random digests, then
three quotes per AK with random nonces and different selections (TPMT_SIGNATURE and
`-f plain` signatures), each followed by tpm2_pcrread of the quoted PCRs.

For every quote: spec.quote.verify_quote and impl.quote.verify_quote accept it with the
tpm2_pcrread values and give the same JSON; tpm2_checkquote (the third party) accepts it
too, except that it cannot verify RSAPSS at all (tpm2-tools 5.4, tpm2-tools issue #3283:
it rejects valid RSAPSS quotes), where the TPM's own TPM2_VerifySignature stands in for
the signature. Then every derived tampering is rejected by both sides with the same
failures (checks and codes, in order) and by tpm2_checkquote for the step it names.
Expected values come from the tools (the AK Name from tpm2_createak, PCR values from
tpm2_pcrread, the verdicts of tpm2_checkquote / TPM2_VerifySignature) and from hashlib /
cryptography (pcrDigest, key fingerprints), never from spec or impl.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from chainoftrust.impl import errors as impl_errors
from chainoftrust.impl import quote as impl
from chainoftrust.spec import errors as spec_errors
from chainoftrust.spec import quote as spec
from cryptography.hazmat.primitives import serialization

from tests.conftest import require_tools
from tests.real.swtpm import HarnessError, Swtpm
from tests.real.swtpm_quote import (
    BANK_IDS,
    DIGEST_SIZES,
    KEY_TYPES,
    QUOTE_TOOLS,
    Ak,
    PcrValues,
    Quote,
    QuoteTpm,
    ToolVerdict,
    parse_selection,
    pcrs_out_values,
    pcrs_out_with_flip,
)

pytestmark = pytest.mark.swtpm
SIDES = (spec, impl)

SEED = 20261127  # the random digests and nonces; the TPM's own randomness varies anyway
TPM_ALG_SHA256 = 0x000B
AK_ATTRIBUTES = 0x00050072  # fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign
SCHEME_IDS = {"rsassa": 0x0014, "rsapss": 0x0016, "ecdsa": 0x0018}
KEY_TYPE_CLAIMS = {"ecc-ecdsa": "ecc-P-256", "rsa-rsassa": "rsa-2048", "rsa-rsapss": "rsa-2048"}
# (selection, -f plain?, nonce length) of the three quotes of each AK.
QUOTE_PLAN = (
    ("sha256:0,1,2,3,10+sha1:0,7", False, 20),
    ("sha1:0,7+sha256:16,23+sha384:0", True, 32),
    ("sha384:0,1,10,23+sha256:0,1,10,16,23", False, 8),  # 9 values: two lists in pcrs.out
)
EXTENDED = {
    0: ("sha1", "sha256", "sha384"),
    1: ("sha256",),
    7: ("sha1", "sha384"),
    10: ("sha1", "sha256", "sha384"),
    16: ("sha256",),
    23: ("sha256", "sha384"),
}


@dataclasses.dataclass
class Lab:
    """What the module's fixture made: the TPM, the AKs and the quotes, in time order."""

    tpm: QuoteTpm
    aks: dict[str, Ak]
    others: dict[str, Ak]
    quotes: dict[str, list[Quote]]
    all_values: PcrValues
    all_text: str


@pytest.fixture(scope="module")
def lab(swtpm: Swtpm, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    require_tools(*QUOTE_TOOLS)
    rng = random.Random(SEED)
    tpm = QuoteTpm(swtpm, tmp_path_factory.mktemp("quote"))
    tpm.prepare(("sha1", "sha256", "sha384"))
    for pcr, banks in EXTENDED.items():
        tpm.extend(pcr, {b: rng.randbytes(DIGEST_SIZES[b]) for b in banks})
    aks = {label: tpm.create_ak(label) for label in KEY_TYPES}
    others = {label: tpm.create_ak(label + "#2") for label in KEY_TYPES}
    quotes: dict[str, list[Quote]] = {label: [] for label in KEY_TYPES}
    for selection, plain, size in QUOTE_PLAN:
        for label, ak in aks.items():
            quotes[label].append(tpm.quote(ak, rng.randbytes(size), selection, plain=plain))
    text, values = tpm.pcrread("sha1:all+sha256:all+sha384:all")
    yield Lab(tpm, aks, others, quotes, values, text)


QUOTE_IDS = [f"{label}-{i}" for label in KEY_TYPES for i in range(len(QUOTE_PLAN))]


@pytest.fixture(params=QUOTE_IDS)
def quote(request: pytest.FixtureRequest, lab: Lab) -> Quote:
    label, _, index = request.param.rpartition("-")
    return lab.quotes[label][int(index)]


# --- helpers ------------------------------------------------------------------------------


def _signature(side: ModuleType, key: Any, quote: Quote, data: bytes) -> Any:
    if quote.signature_format == "plain":
        return side.plain_signature(key, data, quote.ak.scheme, TPM_ALG_SHA256)
    return side.unmarshal_signature(data)


def _verify(
    side: ModuleType,
    quote: Quote,
    *,
    message: bytes | None = None,
    signature: bytes | None = None,
    key: bytes | None = None,
    nonce: bytes | None = None,
    pcrs: Mapping[int, Mapping[int, bytes]] | None = None,
    no_pcrs: bool = False,
) -> Any:
    """verify_quote of one side on the quote, with any part replaced."""
    public = side.load_public_key(quote.ak.tpm2b_public if key is None else key)
    sig = _signature(side, public, quote, quote.signature if signature is None else signature)
    values = None if no_pcrs else (quote.pcr_values if pcrs is None else pcrs)
    return side.verify_quote(
        quote.message if message is None else message,
        sig,
        public,
        quote.nonce if nonce is None else nonce,
        pcrs=values,
        pcrs_source="none" if values is None else "pcrs",
    )


def _outcome(side: ModuleType, quote: Quote, **changes: Any) -> dict[str, Any]:
    """The verdict JSON (messages removed), or {"error": code, "offset": n} when the key or
    the signature does not load (a plain signature whose DER was changed)."""
    try:
        verdict = _verify(side, quote, **changes)
    except (spec_errors.MalformedInputError, impl_errors.MalformedInputError) as err:
        return {"error": str(err.code), "offset": err.offset}
    out = _json(verdict)
    assert verdict.accepted is (out["verdict"] == "accept")
    return out


def _both(quote: Quote, **changes: Any) -> dict[str, Any]:
    """Both sides' outcomes, asserted identical (failure messages aside)."""
    got_spec, got_impl = (_outcome(side, quote, **changes) for side in SIDES)
    assert got_spec == got_impl, (
        f"spec and impl differ on {quote.ak.label} {sorted(changes)}:\n"
        f" spec {got_spec}\n impl {got_impl}"
    )
    return got_spec


def _json(verdict: Any) -> dict[str, Any]:
    out = verdict.to_json()
    for failure in out["failures"]:
        assert isinstance(failure.pop("message"), str)
    return out


def _codes(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(f["check"], f["code"]) for f in result["failures"]]


def _third_party(
    lab: Lab,
    quote: Quote,
    *,
    message: bytes | None = None,
    signature: bytes | None = None,
    ak: Ak | None = None,
    nonce: bytes | None = None,
    pcrs_out: bytes | None = None,
) -> ToolVerdict:
    """tpm2_checkquote's verdict; for RSAPSS (which it cannot verify) the TPM's
    TPM2_VerifySignature decides the signature and checkquote's later steps are not had."""
    ak = quote.ak if ak is None else ak
    message = quote.message if message is None else message
    signature = quote.signature if signature is None else signature
    if ak.scheme == "rsapss":
        valid = lab.tpm.verifysignature(ak, message, signature, quote.signature_format == "plain")
        return ToolVerdict(valid, None if valid else "signature", "")
    return lab.tpm.checkquote(
        ak.pem_path,
        message,
        signature,
        quote.pcrs_out if pcrs_out is None else pcrs_out,
        quote.nonce if nonce is None else nonce,
    )


def _flip(data: bytes, at: int, mask: int = 0x01) -> bytes:
    return data[:at] + bytes([data[at] ^ mask]) + data[at + 1 :]


def _selected(quote: Quote) -> list[tuple[int, int]]:
    return [(alg, pcr) for alg, pcrs in parse_selection(quote.selection) for pcr in pcrs]


def _offsets(message: bytes) -> dict[str, int]:
    """Field offsets of a TPMS_ATTEST (Part 2), found by walking its TPM2B sizes."""
    at = {"magic": 0, "type": 4, "qualifiedSigner": 6}
    at["extraData"] = 8 + int.from_bytes(message[6:8], "big")
    extra = at["extraData"]
    at["clock"] = extra + 2 + int.from_bytes(message[extra : extra + 2], "big")
    at["safe"] = at["clock"] + 16
    at["firmwareVersion"] = at["clock"] + 17
    at["pcrSelect"] = at["clock"] + 25
    count = int.from_bytes(message[at["pcrSelect"] : at["pcrSelect"] + 4], "big")
    at["pcrDigest"] = at["pcrSelect"] + 4 + 6 * count
    return at


# --- the AKs ------------------------------------------------------------------------------


@pytest.mark.parametrize("label", list(KEY_TYPES))
def test_ak_public_forms(lab: Lab, label: str) -> None:
    """PEM and TPM2B_PUBLIC of one AK give one key; its Name is tpm2_createak's; the
    fingerprint is SHA-256 of cryptography's DER; the TPM fields are tpm2_createak's."""
    ak = lab.aks[label]
    algorithm, scheme = KEY_TYPES[label]
    der = serialization.load_pem_public_key(ak.pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for side in SIDES:
        from_tpm = side.load_public_key(ak.tpm2b_public)
        from_pem = side.load_public_key(ak.pem)
        assert side.load_public_key(der) == from_pem
        assert side.unmarshal_tpm2b_public(ak.tpm2b_public) == from_tpm
        assert side.unmarshal_public(ak.tpm2b_public[2:]) == from_tpm
        fields = ("kind", "bits", "n", "e", "curve", "x", "y")
        assert {f: getattr(from_tpm, f) for f in fields} == {
            f: getattr(from_pem, f) for f in fields
        }
        assert from_tpm.kind == algorithm and from_tpm.bits == (256 if algorithm == "ecc" else 2048)
        assert from_tpm.tpm_public == ak.tpm2b_public[2:] and from_pem.tpm_public is None
        assert from_tpm.object_attributes == AK_ATTRIBUTES
        assert (from_tpm.name_alg, from_tpm.scheme, from_tpm.scheme_hash) == (
            TPM_ALG_SHA256,
            SCHEME_IDS[scheme],
            TPM_ALG_SHA256,
        )
        assert side.compute_name(from_tpm) == ak.name
        fingerprint = "sha256:" + hashlib.sha256(der).hexdigest()
        assert side.fingerprint(from_tpm) == side.fingerprint(from_pem) == fingerprint


# --- genuine quotes -----------------------------------------------------------------------


def test_quote_accepted(lab: Lab, quote: Quote) -> None:
    """spec, impl and the third party accept; the verdict shows the TPM's fields."""
    assert _third_party(lab, quote).accepted, _third_party(lab, quote)
    result = _both(quote)
    assert result["verdict"] == "accept", result["failures"]
    expected_selection = [
        {"hash": alg, "pcrs": pcrs} for alg, pcrs in parse_selection(quote.selection)
    ]
    values = [quote.pcr_values[alg][pcr] for alg, pcr in _selected(quote)]
    assert pcrs_out_values(quote.pcrs_out) == values  # tpm2_quote's -o and tpm2_pcrread agree
    pcr_digest = hashlib.sha256(b"".join(values)).hexdigest()
    parsed = result["quote"]
    assert parsed["magic"] == 0xFF544347 and parsed["type"] == 0x8018
    assert parsed["extraData"] == quote.nonce.hex()
    assert parsed["pcrSelect"] == expected_selection
    assert parsed["pcrDigest"] == pcr_digest
    assert parsed["qualifiedSigner"] in quote.stdout  # tpm2_quote prints the whole message
    assert quote.message.hex() in quote.stdout
    kinds = [c["kind"] for c in result["claims"]]
    assert kinds == ["signature", "freshness"] + ["pcrs"] * len(expected_selection) + ["clock"]
    signature_claim = result["claims"][0]
    der = serialization.load_pem_public_key(quote.ak.pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert signature_claim == {
        "kind": "signature",
        "key": "sha256:" + hashlib.sha256(der).hexdigest(),
        "keyType": KEY_TYPE_CLAIMS[quote.ak.label],
        "scheme": quote.ak.scheme,
        "hash": "sha256",
        "keyAttributes": "restricted-signing",
    }
    assert result["claims"][1] == {"kind": "freshness", "nonce": quote.nonce.hex()}
    for claim, entry in zip(result["claims"][2:], expected_selection, strict=False):
        bank = {v: k for k, v in BANK_IDS.items()}[entry["hash"]]
        assert claim == {"kind": "pcrs", "bank": bank, "pcrs": entry["pcrs"],
                         "valuesFrom": "pcrs", "pcrDigest": pcr_digest}  # fmt: skip


def test_quote_accepted_pem_and_no_pcrs(lab: Lab, quote: Quote) -> None:
    """With the PEM key: accept, key attributes unknown. Without PCR values: accept, the
    values marked as not checked."""
    with_pem = _both(quote, key=quote.ak.pem)
    assert with_pem["verdict"] == "accept", with_pem["failures"]
    assert with_pem["claims"][0]["keyAttributes"] == (
        "unknown (key given without its TPM public area)"
    )
    no_pcrs = _both(quote, no_pcrs=True)
    assert no_pcrs["verdict"] == "accept", no_pcrs["failures"]
    assert {c["valuesFrom"] for c in no_pcrs["claims"] if c["kind"] == "pcrs"} == {"none"}


@pytest.mark.parametrize("size", [65, 66])
def test_quote_with_long_qualifying_data(lab: Lab, size: int) -> None:
    """TPM2_Quote with 65 and 66 octets of qualifyingData (sent raw: tpm2_quote allows 64):
    swtpm quotes it (Part 2: TPM2B_DATA holds sizeof(TPMT_HA) = 66 octets), the TPM
    verifies its own signature, and both sides accept the genuine quote with extraData
    equal to the nonce (ADR 0004 amendment 1 item 1)."""
    ak = lab.aks["ecc-ecdsa"]
    nonce = random.Random(SEED + size).randbytes(size)
    message, signature = lab.tpm.raw_quote(ak, nonce, "sha256:0,1")
    assert len(message) > size and nonce in message
    assert lab.tpm.verifysignature(ak, message, signature, plain=False)
    results = []
    for side in SIDES:
        key = side.load_public_key(ak.tpm2b_public)
        verdict = side.verify_quote(message, side.unmarshal_signature(signature), key, nonce)
        assert verdict.accepted, (side.__name__, verdict.failures)
        assert verdict.attest is not None and verdict.attest.extra_data == nonce
        results.append(_json(verdict))
    assert results[0] == results[1], results
    assert results[0]["verdict"] == "accept", results[0]["failures"]
    assert results[0]["quote"]["extraData"] == nonce.hex()
    assert results[0]["claims"][1] == {"kind": "freshness", "nonce": nonce.hex()}


def test_quote_with_67_octets_of_qualifying_data_is_refused(lab: Lab) -> None:
    """67 octets exceed TPM2B_DATA: swtpm refuses TPM2_Quote with TPM_RC_SIZE for
    parameter 1 (0x1d5), as ADR 0004 amendment 1 item 1 records."""
    nonce = random.Random(SEED + 67).randbytes(67)
    with pytest.raises(HarnessError, match="TPM_RC 0x1d5"):
        lab.tpm.raw_quote(lab.aks["ecc-ecdsa"], nonce, "sha256:0,1")


# --- tamperings ---------------------------------------------------------------------------


def test_invalid_nonce(lab: Lab, quote: Quote) -> None:
    """Another nonce (one bit, or the next quote's): NONCE_MISMATCH only; checkquote: nonce."""
    for nonce in (_flip(quote.nonce, 0), quote.nonce[:-1], b""):
        result = _both(quote, nonce=nonce)
        assert _codes(result) == [("nonce", "NONCE_MISMATCH")]
        if quote.ak.scheme != "rsapss":
            assert _third_party(lab, quote, nonce=nonce).reason == "nonce"


def test_invalid_pcr_value(lab: Lab, quote: Quote) -> None:
    """One PCR value changed (first and last selected): PCR_DIGEST_MISMATCH only;
    checkquote with the same value changed in pcrs.out: pcrDigest."""
    selected = _selected(quote)
    for index in (0, len(selected) - 1):
        alg, pcr = selected[index]
        values = {a: dict(v) for a, v in quote.pcr_values.items()}
        values[alg][pcr] = _flip(values[alg][pcr], 0, 0xFF)  # as pcrs_out_with_flip does
        result = _both(quote, pcrs=values)
        assert _codes(result) == [("pcr_digest", "PCR_DIGEST_MISMATCH")]
        if quote.ak.scheme != "rsapss":
            tampered = pcrs_out_with_flip(quote.pcrs_out, index)
            assert pcrs_out_values(tampered)[index] == values[alg][pcr]
            assert _third_party(lab, quote, pcrs_out=tampered).reason == "pcr_digest"
    missing = {
        a: {p: v for p, v in bank.items() if (a, p) != selected[0]}
        for a, bank in quote.pcr_values.items()
    }
    assert _codes(_both(quote, pcrs=missing)) == [("pcr_values", "PCR_VALUES_MISSING")]


def test_invalid_message_bit_flips(lab: Lab, quote: Quote) -> None:
    """One octet of the message changed at each field: rejected by both sides alike and by
    the third party; every failure list names the signature or the parse."""
    at = _offsets(quote.message)
    positions = {
        "magic": at["magic"], "type": at["type"] + 1, "qualifiedSigner": at["qualifiedSigner"] + 5,
        "extraData": at["extraData"] + 2, "clock": at["clock"] + 7, "safe": at["safe"],
        "firmwareVersion": at["firmwareVersion"] + 7, "pcrSelect": at["pcrSelect"] + 9,
        "pcrDigest": len(quote.message) - 1, "size": at["extraData"],
    }  # fmt: skip
    for name, position in positions.items():
        for mask in (0x01, 0x80):
            message = _flip(quote.message, position, mask)
            result = _both(quote, message=message)
            codes = _codes(result)
            assert result["verdict"] == "reject", (name, mask)
            assert ("signature", "SIGNATURE_INVALID") in codes or codes[0][0] == "parse", codes
            assert not _third_party(lab, quote, message=message).accepted, (name, mask)


def test_invalid_signature_bit_flips(lab: Lab, quote: Quote) -> None:
    """One bit of the signature value changed (last octet; octet 6: inside the RSA value,
    r of TPMT ECDSA, r's content in DER): SIGNATURE_INVALID only; the third party rejects."""
    for position in (len(quote.signature) - 1, 6):
        signature = _flip(quote.signature, position)
        result = _both(quote, signature=signature)
        assert not _third_party(lab, quote, signature=signature).accepted
        if "error" not in result:  # (a DER octet of a plain ECDSA signature: both refuse)
            assert _codes(result) == [("signature", "SIGNATURE_INVALID")], position


def test_invalid_selection_in_message(lab: Lab, quote: Quote) -> None:
    """An attacker's edit: another PCR selected and pcrDigest recomputed (hashlib) over
    the real values: everything matches but the signature: SIGNATURE_INVALID only."""
    at = _offsets(quote.message)
    bitmap_at = at["pcrSelect"] + 4 + 3  # first entry's first pcrSelect octet
    message = bytearray(_flip(quote.message, bitmap_at, 0x20))  # PCR 5 in or out
    new_selection = [
        (alg, pcrs if i else sorted(set(pcrs) ^ {5}))
        for i, (alg, pcrs) in enumerate(parse_selection(quote.selection))
    ]
    digest = hashlib.sha256(
        b"".join(lab.all_values[alg][pcr] for alg, pcrs in new_selection for pcr in pcrs)
    ).digest()
    message[at["pcrDigest"] + 2 :] = digest
    result = _both(quote, message=bytes(message), pcrs=lab.all_values)
    assert _codes(result) == [("signature", "SIGNATURE_INVALID")]
    assert not _third_party(lab, quote, message=bytes(message)).accepted


def test_invalid_type(lab: Lab, quote: Quote) -> None:
    """TPM_ST_ATTEST_QUOTE changed to TPM_ST_ATTEST_CERTIFY: NOT_A_QUOTE, and the
    signature no longer covers the message."""
    message = quote.message[:4] + (0x8017).to_bytes(2, "big") + quote.message[6:]
    result = _both(quote, message=message)
    assert _codes(result) == [("type", "NOT_A_QUOTE"), ("signature", "SIGNATURE_INVALID")]
    assert result["quote"]["pcrSelect"] is None
    assert not _third_party(lab, quote, message=message).accepted


def test_invalid_wrong_key(lab: Lab, quote: Quote) -> None:
    """Another AK of the same kind (TPM2B_PUBLIC or PEM): SIGNATURE_INVALID only."""
    other = lab.others[quote.ak.label]
    for key in (other.tpm2b_public, other.pem):
        assert _codes(_both(quote, key=key)) == [("signature", "SIGNATURE_INVALID")]
    assert not _third_party(lab, quote, ak=other).accepted


@pytest.mark.parametrize("label", list(KEY_TYPES))
def test_invalid_replay(lab: Lab, label: str) -> None:
    """The AK's quotes in order: no sequence failure; an older quote received again:
    CLOCK_NOT_INCREASING (same clock, or an older one), and its nonce is not the fresh one."""
    quotes = lab.quotes[label]
    for side in SIDES:
        attests = [side.unmarshal_attest(q.message) for q in quotes]
        assert [a.clock for a in attests] == sorted({a.clock for a in attests})
        assert side.check_quote_sequence(attests) == ()
        for sequence, index in (([0, 0], 1), ([0, 1, 0], 2), ([0, 1, 2, 1], 3)):
            failures = side.check_quote_sequence([attests[i] for i in sequence])
            assert [(f.check, str(f.code)) for f in failures] == [
                (f"sequence[{index}]", "CLOCK_NOT_INCREASING")
            ]
    replayed = _both(quotes[0], nonce=quotes[2].nonce)
    assert _codes(replayed) == [("nonce", "NONCE_MISMATCH")]


# --- the CLI ------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chainoftrust", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize("index", [0, 1])
def test_cli_quote_verify(lab: Lab, index: int) -> None:
    """`chainoftrust quote verify --json` on tpm2_quote's files and tpm2_pcrread's output:
    exit 0 and impl's verdict; another nonce: exit 1, NONCE_MISMATCH."""
    helped = _cli("quote", "--help")
    assert helped.returncode == 0, helped.stderr  # build_parser adds `quote` (ADR 0004 CLI)
    quote = lab.quotes["ecc-ecdsa"][index]
    base = [
        "quote", "verify", "--message", str(quote.message_path),
        "--signature", str(quote.signature_path), "--pcrs", str(quote.pcrread_path), "--json",
    ]  # fmt: skip
    for ak in (quote.ak.pem_path, quote.ak.public_path):
        done = _cli(*base, "--ak", str(ak), "--nonce", quote.nonce.hex())
        assert done.returncode == 0, done.stderr
        got = json.loads(done.stdout)
        for failure in got["failures"]:
            failure.pop("message")
        assert got == _json(_verify(impl, quote, key=Path(ak).read_bytes()))
    done = _cli(*base, "--ak", str(quote.ak.pem_path), "--nonce", _flip(quote.nonce, 0).hex())
    assert done.returncode == 1, done.stderr
    assert [f["code"] for f in json.loads(done.stdout)["failures"]] == ["NONCE_MISMATCH"]
    done = _cli(*base[:-1], "--ak", str(quote.ak.pem_path), "--nonce", quote.nonce.hex())
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
