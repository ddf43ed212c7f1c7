"""Quote verification speed, as ratios against a baseline measured side by side.

Baseline (the floor): `cryptography` verifying the same signature over the same
TPMS_ATTEST octets, key loaded once (what any verifier must at least do). Measured:
impl's verify_quote (parse, the ADR 0004 checks, the signature by cryptography, the
composite digest of 24 sha256 PCRs), and the spec's verify_quote with its pure-Python
RSA and ECDSA (for scale: speed is not the spec's job). Keys: RSA-2048 RSASSA-SHA256
and ECDSA P-256 SHA-256, made by cryptography; the quotes are built here.

Usage: python benchmarks/bench_quote.py [--repeat R] [--json]
No timed assertions anywhere: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import time
from collections.abc import Callable
from typing import Any

from chainoftrust.impl import quote as iq
from chainoftrust.spec import quote as sq
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SHA256 = 0x000B
NONCE = bytes(range(32))
PCRS = {SHA256: {i: hashlib.sha256(b"pcr %d" % i).digest() for i in range(24)}}


def _attest() -> bytes:
    """A TPMS_ATTEST (TPM 2.0 Part 2) quoting sha256 PCRs 0-23."""
    composite = hashlib.sha256(b"".join(PCRS[SHA256][i] for i in range(24))).digest()
    signer = b"\x00\x0b" + bytes(32)
    return (
        struct.pack(">IH", 0xFF544347, 0x8018)
        + struct.pack(">H", len(signer)) + signer
        + struct.pack(">H", len(NONCE)) + NONCE
        + struct.pack(">QIIB", 1000, 1, 0, 1) + struct.pack(">Q", 0)
        + struct.pack(">IHB", 1, SHA256, 3) + b"\xff\xff\xff"
        + struct.pack(">H", 32) + composite
    )  # fmt: skip


def _best(fn: Callable[[], object], repeat: int, inner: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - start) / inner)
    return min(times)


def _case(kind: str, repeat: int) -> dict[str, Any]:
    attest = _attest()
    if kind == "rsa":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        raw = private.sign(attest, padding.PKCS1v15(), hashes.SHA256())
        tpmt = struct.pack(">HHH", 0x0014, SHA256, len(raw)) + raw

        def floor() -> None:
            public.verify(raw, attest, padding.PKCS1v15(), hashes.SHA256())

    else:
        private = ec.generate_private_key(ec.SECP256R1())
        der = private.sign(attest, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        tpmt = struct.pack(">HHH", 0x0018, SHA256, 32) + r.to_bytes(32, "big")
        tpmt += struct.pack(">H", 32) + s.to_bytes(32, "big")

        def floor() -> None:
            public.verify(der, attest, ec.ECDSA(hashes.SHA256()))

    public = private.public_key()
    pem = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    sides = {}
    for name, module in (("impl", iq), ("spec", sq)):
        key = module.load_public_key(pem)
        sig = module.unmarshal_signature(tpmt)

        def run(m: Any = module, k: Any = key, g: Any = sig) -> None:
            verdict = m.verify_quote(attest, g, k, NONCE, pcrs=PCRS, pcrs_source="pcrs")
            if not verdict.accepted:
                raise AssertionError(f"{m.__name__}: {verdict.failures}")

        sides[name] = run
    t_floor = _best(floor, repeat, 200)
    t_impl = _best(sides["impl"], repeat, 200)
    t_spec = _best(sides["spec"], max(1, repeat // 2), 3)
    return {
        "key": "RSA-2048 RSASSA-SHA256" if kind == "rsa" else "ECDSA P-256 SHA-256",
        "floor_us": round(t_floor * 1e6, 1),
        "impl_us": round(t_impl * 1e6, 1),
        "impl_vs_floor": round(t_impl / t_floor, 2),
        "spec_ms": round(t_spec * 1e3, 2),
        "spec_vs_floor": round(t_spec / t_floor, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = [_case(kind, args.repeat) for kind in ("rsa", "ecc")]
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "rows": rows}, indent=2))
        return
    print("verify_quote over 24 sha256 PCRs; floor = cryptography verifying the signature")
    for r in rows:
        print(
            f"{r['key']:<24} floor {r['floor_us']:>7.1f} us  impl {r['impl_us']:>7.1f} us "
            f"({r['impl_vs_floor']:.2f}x)  spec {r['spec_ms']:>7.2f} ms ({r['spec_vs_floor']:.0f}x)"
        )


if __name__ == "__main__":
    main()
