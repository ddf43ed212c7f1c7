"""IMA lists: template-hash checks, replay into PCR banks, verification against PCR values.

Contract: docs/adr/0003-ima-contract.md. Sources (torvalds/linux
security/integrity/ima/): ima_crypto.c `ima_calc_field_array_hash_tfm` (the template
digest of each bank is that bank's hash over the fields, each as u32 len || data, or for
`ima` over d || n zero-padded to 256); ima_api.c `ima_add_violation` and ima_queue.c
`ima_add_template_entry` / `ima_init_digests` (a violation is logged with an all-zero
template hash and extends every bank with all-0xff). The hash constructors are bound once;
the replay loop does the extends and nothing else it can avoid.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl._ima_parse import TEMPLATES, ImaEntry, ImaLog, ima_hashed_data
from chainoftrust.impl.errors import ErrorCode, MalformedInputError
from chainoftrust.impl.hashes import (
    DIGEST_SIZES,
    HashAlg,
    HasherFactory,
    hash_alg_from_name,
    hasher_factory,
)

PCR_COUNT = 24  # PC Client TPM: PCR 0-23 (values supplied to verify_ima)
_SHA1 = hasher_factory(HashAlg.SHA1)


@dataclass(frozen=True, slots=True)
class ImaWarning:
    """A finding of the replay: `entry` is the entry's index, or None for the list."""

    code: ErrorCode
    entry: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": str(self.code), "entry": self.entry, "message": self.message}


@dataclass(frozen=True, slots=True)
class ImaReplay:
    """PCR values the list implies, per bank (only the PCRs its entries name)."""

    pcrs: dict[str, dict[int, bytes]]
    entries: int
    violations: int
    template_hash_failures: tuple[int, ...]
    warnings: tuple[ImaWarning, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "pcrs": {
                bank: {str(p): v.hex() for p, v in sorted(values.items())}
                for bank, values in self.pcrs.items()
            },
            "entries": self.entries,
            "violations": self.violations,
            "templateHashFailures": list(self.template_hash_failures),
            "warnings": [w.to_json() for w in self.warnings],
        }


def _check_log(log: object) -> ImaLog:
    if not isinstance(log, ImaLog):
        raise MalformedInputError(ErrorCode.INVALID_DOCUMENT, "expected an ImaLog", field="log")
    return log


def _banks(banks: object) -> list[tuple[str, HashAlg, HasherFactory]]:
    """Validated bank names, in order: known, no duplicates, at least one."""
    if isinstance(banks, str | bytes) or not isinstance(banks, Sequence):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, "banks must be a sequence of names", field="banks"
        )
    out: list[tuple[str, HashAlg, HasherFactory]] = []
    for name in banks:
        alg = hash_alg_from_name(name)
        if any(alg is a for _, a, _ in out):
            raise MalformedInputError(
                ErrorCode.DUPLICATE_BANK, f"bank {name} given twice", field="banks"
            )
        out.append((str(name), alg, hasher_factory(alg)))
    if not out:
        raise MalformedInputError(ErrorCode.NO_BANKS, "no banks to replay", field="banks")
    return out


def check_template_hashes(log: ImaLog) -> tuple[int, ...]:
    """Indices of non-violation entries whose SHA-1 over the template data (for `ima`:
    d || n zero-padded to 256) differs from the logged template hash."""
    sha1 = _SHA1
    failures = []
    for e in _check_log(log).entries:
        if e.violation:
            continue
        data = e.template_data if e.template_name != "ima" else ima_hashed_data(e.template_data)
        if sha1(data).digest() != e.template_hash:
            failures.append(e.index)
    return tuple(failures)


def replay_ima(log: ImaLog, banks: Sequence[str] = ("sha1", "sha256")) -> ImaReplay:
    """Replay a list into `banks`.

    (1) Every PCR an entry names starts at zero. (2) A violation (all-zero template hash)
    extends every bank with all-0xff of the bank's size. (3) Otherwise each bank is
    extended with its hash over the template data; the SHA-1 bank with the logged
    template hash, which is checked against SHA-1 over the data: a failure is reported
    and still replayed. (4) An unknown template is replayed the same way and warned about.
    """
    return replay_entries(_check_log(log).entries, banks)


def replay_entries(entries: Iterable[ImaEntry], banks: Sequence[str]) -> ImaReplay:
    """replay_ima over entries as they come (the streaming replay feeds them one by one)."""
    chosen = _banks(banks)
    states: list[dict[int, bytes]] = [{} for _ in chosen]  # (1)
    zeros = [bytes(DIGEST_SIZES[alg]) for _, alg, _ in chosen]
    others = [  # the non-SHA-1 banks: (state, factory, zero, 0xff..)
        (st, f, z, b"\xff" * len(z))
        for (_, alg, f), st, z in zip(chosen, states, zeros, strict=True)
        if alg is not HashAlg.SHA1
    ]
    sha1_state = next(
        (st for (_, alg, _), st in zip(chosen, states, strict=True) if alg is HashAlg.SHA1),
        None,
    )
    sha1 = _SHA1
    ff20 = b"\xff" * 20
    zero20 = bytes(20)
    failures: list[int] = []
    warnings: list[ImaWarning] = []
    violations = 0
    count = 0
    for e in entries:
        count += 1
        pcr = e.pcr
        if e.violation:  # (2)
            violations += 1
            if sha1_state is not None:
                sha1_state[pcr] = sha1(sha1_state.get(pcr, zero20) + ff20).digest()
            for st, f, z, ff in others:
                st[pcr] = f(st.get(pcr, z) + ff).digest()
            if e.template_name not in TEMPLATES:  # (4), violations too (ADR 0003 am. 1 item 14)
                warnings.append(
                    ImaWarning(
                        ErrorCode.IMA_UNKNOWN_TEMPLATE,
                        e.index,
                        f"template {e.template_name!r} is unknown: its fields are not decoded",
                    )
                )
            continue
        name = e.template_name
        data = e.template_data if name != "ima" else ima_hashed_data(e.template_data)
        thash = e.template_hash
        if sha1(data).digest() != thash:  # (3)
            failures.append(e.index)
        if sha1_state is not None:
            sha1_state[pcr] = sha1(sha1_state.get(pcr, zero20) + thash).digest()
        for st, f, z, _ in others:
            st[pcr] = f(st.get(pcr, z) + f(data).digest()).digest()
        if name not in TEMPLATES:  # (4)
            warnings.append(
                ImaWarning(
                    ErrorCode.IMA_UNKNOWN_TEMPLATE,
                    e.index,
                    f"template {name!r} is unknown: its fields are not decoded",
                )
            )
    pcrs = {name: st for (name, _, _), st in zip(chosen, states, strict=True)}
    return ImaReplay(pcrs, count, violations, tuple(failures), tuple(warnings))
