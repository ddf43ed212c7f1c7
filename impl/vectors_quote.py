"""Checking the quote verification vectors against the implementation (never the spec).

Each vector (vectors/quote/quote_verify_test.json, docs/adr/0004-quote-contract.md,
section Vectors) gives a TPMS_ATTEST, a TPMT_SIGNATURE, the key as a TPM2B_PUBLIC
(`key`) and as PEM (`keyPem`), the nonce and optionally PCR values. impl must read both
key forms to the same key (equal fingerprints, equal to the group's `keyFingerprint`
when given), and `verify_quote` must give exactly the vector's `expected` object:
`to_json()` with the failures' messages left out.
Optional `allowedHashes` (hash names, on the group or the test) is passed through.
"""

from __future__ import annotations

from typing import Any

from chainoftrust.impl.errors import ImplError
from chainoftrust.impl.hashes import hash_alg_from_name
from chainoftrust.impl.quote import (
    fingerprint,
    load_public_key,
    unmarshal_signature,
    unmarshal_tpm2b_public,
    verify_quote,
)


def _hex(test: dict[str, object], key: str) -> bytes:
    text = test.get(key)
    if not isinstance(text, str) or text != text.lower():
        raise ValueError(f"test.{key}: expected lower-case hex text")
    return bytes.fromhex(text)


def _pcrs(value: object) -> dict[int, dict[int, bytes]] | None:
    """{bank name: {"i": hex}} (or null) as verify_quote's `pcrs`."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("test.pcrs: expected an object or null")
    out: dict[int, dict[int, bytes]] = {}
    for bank, values in value.items():
        if not isinstance(values, dict):
            raise ValueError(f"test.pcrs.{bank}: expected an object")
        out[int(hash_alg_from_name(bank))] = {int(i): _hex(values, i) for i in values}
    return out


def _allowed(group: dict[str, object], test: dict[str, object]) -> frozenset[int] | None:
    names = test.get("allowedHashes", group.get("allowedHashes"))
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("allowedHashes: expected a list of hash names")
    return frozenset(int(hash_alg_from_name(n)) for n in names)


def _without_messages(out: dict[str, Any]) -> dict[str, Any]:
    got = dict(out)
    got["failures"] = [{"check": f["check"], "code": f["code"]} for f in out["failures"]]
    return got


def run_quote_verify(group: dict[str, object], test: dict[str, object]) -> str | None:
    """None when impl reproduces the vector's verdict exactly, else why not."""
    attest, nonce = _hex(test, "attest"), _hex(test, "nonce")
    pem = test.get("keyPem")
    result, expected = test.get("result"), test.get("expected")
    if not isinstance(pem, str) or not isinstance(expected, dict):
        raise ValueError("test: keyPem (text) and expected (object) are required")
    if result not in ("valid", "invalid"):
        raise ValueError(f"test.result {result!r} is not valid or invalid")
    pcrs = _pcrs(test.get("pcrs"))
    try:
        key = unmarshal_tpm2b_public(_hex(test, "key"))
        pem_key = load_public_key(pem.encode("ascii"))
        signature = unmarshal_signature(_hex(test, "signature"))
    except ImplError as err:
        return f"impl cannot read the vector's key or signature: {err}"
    if fingerprint(pem_key) != fingerprint(key):
        return f"keyPem is {fingerprint(pem_key)}, key is {fingerprint(key)}"
    if group.get("keyFingerprint", fingerprint(key)) != fingerprint(key):
        return f"group keyFingerprint {group.get('keyFingerprint')}, key is {fingerprint(key)}"
    verdict = verify_quote(
        attest,
        signature,
        key,
        nonce,
        pcrs=pcrs,
        pcrs_source="none" if pcrs is None else "pcrs",
        allowed_hashes=_allowed(group, test),
    )
    got = _without_messages(verdict.to_json())
    if verdict.accepted != (result == "valid"):
        return f"expected {result}, impl gave {got['verdict']} with failures {got['failures']}"
    if got != expected:
        for name in ("verdict", "failures", "claims", "quote"):
            if got.get(name) != expected.get(name):
                return f"{name}: expected {expected.get(name)!r}, impl gave {got.get(name)!r}"
        return f"expected {expected!r}, impl gave {got!r}"
    return None
