"""Measured and trusted boot: measure each layer, extend, log, check against a signed policy.

Spec: PROJECT adr.0005 (docs/adr/0005-boot-contract.md) - the boot model, the policy
update rules (PolicyStore) and the result's JSON; PCR values as TPM2-P3 22.2
TPM2_PCR_Extend from the start values of TPM2_Startup(CLEAR) at locality 0 (ADR 0001);
the event log in the PFP crypto-agile format (ADR 0002). The boot is a fold of the pure
`boot_step` over the chain's layers, stopping at the first halt.

Rules cited below (PROJECT adr.0005 "Boot" and "Policy updates"):
  boot.measure (1), boot.extend (2), boot.check.a-d (3), boot.run (4), boot.halt (on a
  failed check layer i does not run and no later layer is measured, logged or run),
  update.1-4 (the policy update checks, in order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from chainoftrust.spec._boot_log import BootEvent, build_event_log
from chainoftrust.spec._boot_policy import (
    Chain,
    Layer,
    SignedPolicy,
    fields_are_signed,
    format_utc,
    is_signature_valid,
    is_small_order_key,
    is_trusted,
    key_id,
    load_chain,
    parse_signed_policy,
    parse_trusted_keys,
    parse_utc,
    policy_signing_bytes,
    verify_policy_signature,
)
from chainoftrust.spec.errors import ErrorCode, MalformedInputError, UsageError
from chainoftrust.spec.hashes import HashAlg, compute_digest, hash_alg_name
from chainoftrust.spec.pcr import PCR_COUNT, Tpm, compute_extend, is_extend_allowed

__all__ = [
    "MEASURED",
    "NOT_COVERED_SENTENCE",
    "TRUSTED",
    "BootEvent",
    "BootResult",
    "BootState",
    "Chain",
    "Halt",
    "Layer",
    "PolicyStore",
    "SignedPolicy",
    "UpdateResult",
    "boot_step",
    "build_event_log",
    "check_layer",
    "check_update",
    "fields_are_signed",
    "format_utc",
    "initial_state",
    "key_id",
    "load_chain",
    "measure_layer",
    "parse_signed_policy",
    "parse_trusted_keys",
    "parse_utc",
    "policy_signing_bytes",
    "run_boot",
    "verify_policy_signature",
]

#: PROJECT adr.0005 Boot: the two modes.
MEASURED: Final = "measured"
TRUSTED: Final = "trusted"
#: PROJECT adr.0005 Boot: `notCovered` always holds this sentence.
NOT_COVERED_SENTENCE: Final = (
    "a matching reference value says nothing about a layer's fitness, only that it is the "
    "layer the policy names"
)


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """PROJECT adr.0005 Policy updates: accepted, or refused with the first failed check's code."""

    accepted: bool
    code: ErrorCode | None


@dataclass(frozen=True, slots=True)
class Halt:
    """PROJECT adr.0005 boot.halt: where and why a trusted boot stopped (the JSON's shapes)."""

    index: int
    layer: str
    pcr: int
    code: ErrorCode
    actual: dict[str, str]  # bank name -> hex digest of the layer, chain-bank order
    expected: dict[str, list[str]]  # the policy's entry for the layer, {} when none
    policy: dict[str, object]  # {"name", "version", "signer"}

    def to_json(self) -> dict[str, object]:
        """Spec: PROJECT adr.0005 BootResult halt - the halt object of to_json()."""
        return {
            "index": self.index,
            "layer": self.layer,
            "pcr": self.pcr,
            "code": str(self.code),
            "actual": dict(self.actual),
            "expected": {bank: list(values) for bank, values in self.expected.items()},
            "policy": dict(self.policy),
        }


@dataclass(frozen=True, slots=True)
class BootState:
    """The boot so far: PCRs (bank -> 24 values, chain-bank order), the measured layers'
    records, the names of the layers that ran, and the halt (None while running)."""

    pcrs: Mapping[HashAlg, tuple[bytes, ...]]
    log: tuple[BootEvent, ...]
    ran: tuple[str, ...]
    halted: Halt | None


@dataclass(frozen=True, slots=True)
class BootResult:
    """PROJECT adr.0005 BootResult: the outcome of run_boot (claims and notCovered included)."""

    completed: bool
    mode: str
    measured: tuple[str, ...]
    ran: tuple[str, ...]
    halt: Halt | None
    pcrs: dict[str, dict[str, str]]  # bank name -> {"0".."23" -> hex}
    event_log: bytes
    claims: tuple[dict[str, object], ...]
    not_covered: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        """Spec: PROJECT adr.0005 BootResult to_json - the result as the contract's JSON."""
        return {
            "completed": self.completed,
            "mode": self.mode,
            "measured": list(self.measured),
            "ran": list(self.ran),
            "halt": None if self.halt is None else self.halt.to_json(),
            "pcrs": {bank: dict(values) for bank, values in self.pcrs.items()},
            "claims": [dict(claim) for claim in self.claims],
            "notCovered": list(self.not_covered),
        }


def _check_now(now: object) -> datetime:
    """`now` is a timezone-aware datetime (it is compared with UTC expiry times); else
    INVALID_DOCUMENT, a UsageError (PROJECT adr.0005 amendment 1 item 6)."""
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise UsageError(
            ErrorCode.INVALID_DOCUMENT, "now must be a timezone-aware datetime", field="now"
        )
    return now


def check_update(
    trusted_keys: Sequence[tuple[str, bytes]],
    installed: SignedPolicy | None,
    candidate: SignedPolicy,
    now: datetime,
) -> ErrorCode | None:
    """Spec: PROJECT adr.0005 Policy updates - the first failed check's code, or None.

    Steps (update.1-4, first failure wins):
      (1) UNKNOWN_SIGNER: (alg, key) of the signature is not in the trust store;
      (2) POLICY_SIGNATURE_INVALID: the signature does not verify over the signed bytes,
          or (amendment 2) a field the checks use (name, version, expires, layers, revoked)
          is not the one the signed body gives;
      (3) POLICY_EXPIRED: now >= expires;
      (4) POLICY_ROLLBACK: a policy is installed and candidate.version <= its version.
    """
    _check_now(now)
    # (1)
    if not is_trusted(trusted_keys, candidate.alg, candidate.key):
        return ErrorCode.UNKNOWN_SIGNER
    # (2)
    message = policy_signing_bytes(candidate.policy)
    if not is_signature_valid(candidate.alg, candidate.key, message, candidate.sig):
        return ErrorCode.POLICY_SIGNATURE_INVALID
    if not fields_are_signed(candidate):
        return ErrorCode.POLICY_SIGNATURE_INVALID
    # (3)
    if now >= candidate.expires:
        return ErrorCode.POLICY_EXPIRED
    # (4)
    if installed is not None and candidate.version <= installed.version:
        return ErrorCode.POLICY_ROLLBACK
    return None


class PolicyStore:
    """Spec: PROJECT adr.0005 Policy updates - the installed policy and its authorised signers."""

    def __init__(
        self, trusted_keys: Sequence[tuple[str, bytes]], installed: SignedPolicy | None = None
    ) -> None:
        """Spec: PROJECT adr.0005 PolicyStore - a trust store of (alg, public key) pairs.

        A small-order Ed25519 key is refused (amendment 2): INVALID_POLICY at `keys[i]`, a
        UsageError (the pairs are the caller's, not a document).
        """
        self._trusted: tuple[tuple[str, bytes], ...] = tuple(
            (str(alg), bytes(key)) for alg, key in trusted_keys
        )
        for index, (alg, key) in enumerate(self._trusted):
            if is_small_order_key(alg, key):
                raise UsageError(
                    ErrorCode.INVALID_POLICY,
                    "a small-order Ed25519 key cannot be trusted",
                    field=f"keys[{index}]",
                )
        self._installed = installed

    @property
    def installed(self) -> SignedPolicy | None:
        """Spec: PROJECT adr.0005 PolicyStore - the installed policy (read-only)."""
        return self._installed

    def update(self, candidate: SignedPolicy, now: datetime) -> UpdateResult:
        """Spec: PROJECT adr.0005 Policy updates - install the candidate if every check passes.

        Steps: (1) check_update (update.1-4); (2) a refusal leaves `installed` untouched;
        (3) otherwise the candidate becomes the installed policy.
        """
        # (1)
        code = check_update(self._trusted, self._installed, candidate, now)
        # (2)
        if code is not None:
            return UpdateResult(False, code)
        # (3)
        self._installed = candidate
        return UpdateResult(True, None)


def initial_state(banks: Sequence[HashAlg]) -> BootState:
    """Spec: PROJECT adr.0005 Boot - PCRs as after TPM2_Startup(CLEAR) at locality 0.

    The start values are those of chainoftrust.spec.pcr.Tpm (PTP PCR Initial and Reset
    Values: PCRs 17-22 all ones, the others zero), kept in chain-bank order.
    """
    tpm = Tpm(banks)
    tpm.startup("clear", 0)
    values = tpm.read()
    return BootState({bank: values[bank] for bank in banks}, (), (), None)


def measure_layer(banks: Sequence[HashAlg], layer: Layer) -> dict[HashAlg, bytes]:
    """Spec: PROJECT adr.0005 boot.measure - digest_b = H_b(layer bytes) for every chain bank."""
    return {bank: compute_digest(bank, layer.data) for bank in banks}


def check_layer(
    policy: SignedPolicy, name: str, digests: Mapping[HashAlg, bytes], now: datetime
) -> ErrorCode | None:
    """Spec: PROJECT adr.0005 boot.check - the first failing rule's code, or None.

    Steps (`digests` holds every chain bank's digest of the layer):
      (a) POLICY_EXPIRED when now >= expires;
      (b) DIGEST_REVOKED when digest_b is in revoked[b] for any chain bank b;
      (c) NO_REFERENCE when the policy has no entry for the layer name, or the entry
          names no chain bank;
      (d) DIGEST_NOT_ALLOWED when, for a bank b the entry names and the chain measures,
          digest_b is not in the entry's list (banks the chain does not measure are ignored).
    """
    # (a)
    if now >= policy.expires:
        return ErrorCode.POLICY_EXPIRED
    # (b)
    if any(digest in policy.revoked.get(bank, ()) for bank, digest in digests.items()):
        return ErrorCode.DIGEST_REVOKED
    # (c)
    entry = policy.layers.get(name)
    if entry is None or not any(bank in entry for bank in digests):
        return ErrorCode.NO_REFERENCE
    # (d)
    if any(bank in entry and digest not in entry[bank] for bank, digest in digests.items()):
        return ErrorCode.DIGEST_NOT_ALLOWED
    return None


def _halt(
    index: int,
    layer: Layer,
    code: ErrorCode,
    digests: Sequence[tuple[HashAlg, bytes]],
    policy: SignedPolicy,
) -> Halt:
    """PROJECT adr.0005 Halt: the layer, the code, its digests and the policy's entry."""
    entry = policy.layers.get(layer.name, {})
    return Halt(
        index=index,
        layer=layer.name,
        pcr=layer.pcr,
        code=code,
        actual={hash_alg_name(bank): digest.hex() for bank, digest in digests},
        expected={hash_alg_name(b): [d.hex() for d in values] for b, values in entry.items()},
        policy={
            "name": policy.name,
            "version": policy.version,
            "signer": key_id(policy.alg, policy.key),
        },
    )


def _check_mode(mode: object, policy: SignedPolicy | None) -> str:
    """PROJECT adr.0005 Boot: mode is measured or trusted, else INVALID_DOCUMENT (a UsageError,
    amendment 1 item 6); trusted needs a policy (NO_POLICY)."""
    if mode not in (MEASURED, TRUSTED) or not isinstance(mode, str):
        raise UsageError(
            ErrorCode.INVALID_DOCUMENT, "mode must be 'measured' or 'trusted'", field="mode"
        )
    if mode == TRUSTED and policy is None:
        raise UsageError(ErrorCode.NO_POLICY, "a trusted boot needs a policy", field="policy")
    return mode


def _layer_digests(
    state: BootState, layer_digests: Mapping[HashAlg, bytes], layer: Layer
) -> tuple[tuple[HashAlg, bytes], ...]:
    """The layer's digests in chain-bank order: exactly one per bank of the state (and the
    layer's PCR is one of the 24, and one locality 0 may extend: amendment 1 item 1)."""
    if not isinstance(layer.pcr, int) or not 0 <= layer.pcr < PCR_COUNT:
        raise MalformedInputError(
            ErrorCode.PCR_INDEX_OUT_OF_RANGE, "a layer's PCR is 0..23", field="layer.pcr"
        )
    if not is_extend_allowed(layer.pcr, 0):
        raise MalformedInputError(
            ErrorCode.INVALID_CHAIN,
            f"PCR {layer.pcr} cannot be extended at locality 0 (PTP)",
            field="layer.pcr",
        )
    if set(layer_digests) != set(state.pcrs):
        raise MalformedInputError(
            ErrorCode.MISSING_BANK_DIGEST,
            "layer_digests must hold one digest per chain bank",
            field="layer_digests",
        )
    return tuple((bank, layer_digests[bank]) for bank in state.pcrs)


def _extended(
    values: tuple[bytes, ...], pcr: int, bank: HashAlg, digest: bytes
) -> tuple[bytes, ...]:
    """boot.extend: the bank's 24 values with PCR `pcr` := H_bank(PCR || digest) (TPM2-P3 22.2)."""
    return tuple(
        compute_extend(bank, value, digest) if index == pcr else value
        for index, value in enumerate(values)
    )


def boot_step(  # noqa: PLR0917 - the step's six inputs, fixed for the proofs' mirror
    state: BootState,
    layer_digests: Mapping[HashAlg, bytes],
    layer: Layer,
    policy: SignedPolicy | None,
    mode: str,
    now: datetime,
) -> BootState:
    """Spec: PROJECT adr.0005 Boot - one layer: measure (given), extend, log, check, run.

    Steps:
      (0) boot.halt: a halted state is returned unchanged (nothing measured, logged, run);
      (1) boot.measure: layer_digests holds digest_b for every chain bank b;
      (2) boot.extend: PCR `pcr` of every bank := H_b(PCR || digest_b) (TPM2-P3 22.2), and
          the record (pcr, eventType, digests in chain-bank order, the name in UTF-8) is
          appended to the log;
      (3) boot.check (trusted mode only): the first failing rule halts the boot, the
          layer does not run (its measurement stays);
      (4) boot.run: the layer runs.
    """
    # (0)
    if state.halted is not None:
        return state
    _check_mode(mode, policy)
    _check_now(now)
    # (1)
    digests = _layer_digests(state, layer_digests, layer)
    # (2)
    pcrs = {bank: _extended(state.pcrs[bank], layer.pcr, bank, d) for bank, d in digests}
    event = BootEvent(layer.pcr, layer.event_type, digests, layer.name.encode("utf-8"))
    log = (*state.log, event)
    # (3)
    if mode == TRUSTED and policy is not None:
        code = check_layer(policy, layer.name, dict(digests), now)
        if code is not None:
            return BootState(
                pcrs, log, state.ran, _halt(len(state.ran), layer, code, digests, policy)
            )
    # (4)
    return BootState(pcrs, log, (*state.ran, layer.name), None)


def _claims(
    chain: Chain, policy: SignedPolicy | None, mode: str, now: datetime, state: BootState
) -> list[dict[str, object]]:
    """PROJECT adr.0005 Claims: what was matched or measured, and the PCR values (never
    "trusted")."""
    measured = chain.layers[: len(state.log)]
    claims: list[dict[str, object]] = []
    if mode == TRUSTED and policy is not None and state.ran:
        checked = [b for b in chain.banks if any(b in policy.layers[n] for n in state.ran)]
        claims.append(
            {
                "kind": "layers_matched",
                "layers": list(state.ran),
                "policy": policy.name,
                "version": policy.version,
                "signer": key_id(policy.alg, policy.key),
                "banks": [hash_alg_name(bank) for bank in checked],
                "at": format_utc(now),
            }
        )
    if mode == MEASURED:
        names = [layer.name for layer in measured]
        banks = [hash_alg_name(bank) for bank in chain.banks]
        claims.append({"kind": "layers_measured", "layers": names, "banks": banks})
    extended = sorted({layer.pcr for layer in measured})
    for bank in chain.banks:
        values = {str(pcr): state.pcrs[bank][pcr].hex() for pcr in extended}
        claims.append({"kind": "pcrs", "bank": hash_alg_name(bank), "values": values})
    return claims


def run_boot(chain: Chain, policy: SignedPolicy | None, mode: str, now: datetime) -> BootResult:
    """Spec: PROJECT adr.0005 Boot run_boot - measured or trusted boot of a chain.

    Steps:
      (1) the mode (trusted without a policy: NO_POLICY, a UsageError) and `now`;
      (2) the PCRs start as after TPM2_Startup(CLEAR) at locality 0;
      (3) boot_step over the layers in order, stopping at the first halt (measured mode
          never checks, so never halts; a policy given to it is ignored);
      (4) the result: measured and ran layers, the halt, all 24 PCRs per bank, the event
          log (ADR 0002 crypto-agile), the claims and what they do not cover.
    """
    # (1)
    _check_mode(mode, policy)
    _check_now(now)
    used = policy if mode == TRUSTED else None
    # (2)
    state = initial_state(chain.banks)
    # (3)
    for layer in chain.layers:
        if state.halted is not None:
            break
        state = boot_step(state, measure_layer(chain.banks, layer), layer, used, mode, now)
    # (4)
    measured = tuple(layer.name for layer in chain.layers[: len(state.log)])
    unmeasured = tuple(layer.name for layer in chain.layers[len(state.log) :])
    pcrs = {
        hash_alg_name(bank): {str(i): state.pcrs[bank][i].hex() for i in range(PCR_COUNT)}
        for bank in chain.banks
    }
    return BootResult(
        completed=state.halted is None,
        mode=mode,
        measured=measured,
        ran=state.ran,
        halt=state.halted,
        pcrs=pcrs,
        event_log=build_event_log(chain.banks, state.log),
        claims=tuple(_claims(chain, used, mode, now, state)),
        not_covered=(*unmeasured, NOT_COVERED_SENTENCE),
    )
