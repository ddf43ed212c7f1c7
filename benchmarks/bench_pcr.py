"""PCR extend throughput, as ratios against baselines measured side by side in one run.

Baselines: the floor is a bare hashlib loop doing the same extends (new = H(old || d)),
bound once. Measured: impl's Tpm.extend (the model users run), impl's predict on an
operations document (JSON parsing and validation included), and the spec's pure-Python
Tpm.extend (for scale only: speed is not the spec's job).

Usage: python benchmarks/bench_pcr.py [--n N] [--repeat R] [--json]
No timed assertions anywhere: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
from collections.abc import Callable

from chainoftrust.impl import pcr as impl_pcr
from chainoftrust.impl import predict as impl_predict
from chainoftrust.impl.hashes import HashAlg
from chainoftrust.spec import pcr as spec_pcr
from chainoftrust.spec.hashes import HashAlg as SpecHashAlg


def _best(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="extends per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    n = args.n
    digests = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]

    def floor() -> None:
        h = hashlib.sha256
        value = bytes(32)
        for d in digests:
            value = h(value + d).digest()

    def impl_tpm() -> None:
        tpm = impl_pcr.Tpm([HashAlg.SHA256])
        tpm.startup("clear", 0)
        for d in digests:
            tpm.extend(7, 0, [(HashAlg.SHA256, d)])

    document = {
        "banks": ["sha256"],
        "operations": [{"op": "startup", "type": "clear"}]
        + [{"op": "extend", "pcr": 7, "digests": {"sha256": d.hex()}} for d in digests],
    }

    def impl_doc() -> None:
        impl_predict.predict(document)

    spec_n = max(1, n // 100)

    def spec_tpm() -> None:
        tpm = spec_pcr.Tpm([SpecHashAlg.SHA256])
        tpm.startup("clear", 0)
        for d in digests[:spec_n]:
            tpm.extend(7, 0, [(SpecHashAlg.SHA256, d)])

    t_floor = _best(floor, args.repeat)
    t_impl = _best(impl_tpm, args.repeat)
    t_doc = _best(impl_doc, args.repeat)
    t_spec = _best(spec_tpm, max(1, args.repeat // 2)) * (n / spec_n)
    result = {
        "extends": n,
        "cpus": os.cpu_count(),
        "floor_us_per_extend": round(t_floor / n * 1e6, 3),
        "impl_tpm_extend_ratio": round(t_impl / t_floor, 2),
        "impl_predict_document_ratio": round(t_doc / t_floor, 2),
        "spec_tpm_extend_ratio": round(t_spec / t_floor, 1),
        "spec_extends_measured": spec_n,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"sha256 PCR extend, {n} extends, best of {args.repeat} (ratio = time / floor's time)")
    print(f"  floor (bare hashlib loop)  {result['floor_us_per_extend']:8.3f} us/extend  1.00x")
    print(f"  impl Tpm.extend            {result['impl_tpm_extend_ratio']:8.2f}x")
    print(f"  impl predict (JSON doc)    {result['impl_predict_document_ratio']:8.2f}x")
    print(
        f"  spec Tpm.extend (pure Py)  {result['spec_tpm_extend_ratio']:8.1f}x  ({spec_n} measured)"
    )


if __name__ == "__main__":
    main()
