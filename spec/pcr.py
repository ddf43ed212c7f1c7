"""PCRs of a PC Client TPM 2.0: attributes, extend, reset, startup, H-CRTM and D-RTM.

Spec: PTP "PCR Attributes" / "PCR Initial and Reset Values", as encoded in MSREF
`PCR.c s_initAttributes`, and TPM2-P3 clauses 9 (Start-up) and 22 (Integrity
Collection). The shared names and error codes are those of docs/adr/0001-pcr-contract.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeGuard

from chainoftrust.spec.errors import (
    ErrorCode,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.spec.hashes import HashAlg, compute_digest, digest_size

#: MSREF TpmProfile.h IMPLEMENTATION_PCR: a PC Client TPM implements PCR 0..23.
PCR_COUNT: Final = 24
#: TPM2-P1 "Locality": a PC Client TPM has localities 0..4.
LOCALITY_COUNT: Final = 5
#: MSREF TpmProfile.h HCRTM_PCR: the PCR an H-CRTM before Startup measures into.
HCRTM_PCR: Final = 0
#: MSREF TpmProfile.h DRTM_PCR / TPM2-P3 22.11: the PCR a D-RTM event extends.
DRTM_PCR: Final = 17
#: TPM2-P3 22.3 TPM2_PCR_Event: eventData (TPM2B_EVENT) holds 0..1024 octets.
EVENT_DATA_MAX: Final = 1024

#: TPM2-P2 TPM_RC: TPM_RC_INITIALIZE = RC_VER1 + 0x000.
TPM_RC_INITIALIZE: Final = 0x100
#: TPM2-P2 TPM_RC: TPM_RC_LOCALITY = RC_WARN + 0x007.
TPM_RC_LOCALITY: Final = 0x907
#: TPM2-P2 TPM_RC: TPM_RCS_VALUE (0x084) + TPM_RC_P (0x040) + TPM_RC_1 (0x100),
#: the code MSREF Startup.c returns for a bad startupType (parameter 1).
TPM_RC_VALUE_STARTUP_TYPE: Final = 0x1C4

STARTUP_TYPES: Final = ("clear", "state")


@dataclass(frozen=True, slots=True)
class PcrAttributes:
    """One row of the PC Client PCR attribute table; bit n of a mask is locality n."""

    state_save: bool
    reset_localities: int
    extend_localities: int


# PTP "PCR Attributes", as MSREF PCR.c s_initAttributes encodes it: {stateSave,
# resetLocality, extendLocality}. Bit n of a mask = locality n (0x1F = localities 0-4).
PCR_ATTRIBUTES: Final[tuple[PcrAttributes, ...]] = (
    PcrAttributes(True, 0x00, 0x1F),  # PCR 0: S-RTM, H-CRTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 1: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 2: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 3: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 4: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 5: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 6: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 7: S-RTM
    PcrAttributes(True, 0x00, 0x1F),  # PCR 8: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 9: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 10: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 11: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 12: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 13: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 14: S-RTM (OS)
    PcrAttributes(True, 0x00, 0x1F),  # PCR 15: S-RTM (OS)
    PcrAttributes(False, 0x0F, 0x1F),  # PCR 16: Debug
    PcrAttributes(False, 0x10, 0x1C),  # PCR 17: D-RTM, locality 4
    PcrAttributes(False, 0x10, 0x1C),  # PCR 18: D-RTM, locality 3
    PcrAttributes(False, 0x10, 0x0C),  # PCR 19: D-RTM, locality 2
    PcrAttributes(False, 0x14, 0x0E),  # PCR 20: D-RTM, locality 1
    PcrAttributes(False, 0x14, 0x04),  # PCR 21: Dynamic OS
    PcrAttributes(False, 0x14, 0x04),  # PCR 22: Dynamic OS
    PcrAttributes(False, 0x0F, 0x1F),  # PCR 23: Application specific
)


def _is_int(value: object) -> TypeGuard[int]:
    """True for a Python int that is not a bool (JSON true is not an integer)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _wrong_type(field: str, wanted: str) -> MalformedInputError:
    """PROJECT adr.0001: a wrong type (a bool is not an integer) is INVALID_DOCUMENT."""
    return MalformedInputError(ErrorCode.INVALID_DOCUMENT, f"{field} must be {wanted}", field=field)


def _check_pcr(pcr: object) -> int:
    """The PCR index: an int (INVALID_DOCUMENT), in 0..23 (PCR_INDEX_OUT_OF_RANGE).

    TPM2-P2 TPMI_DH_PCR; PROJECT adr.0001 checks the type first, then the range.
    """
    if not _is_int(pcr):
        raise _wrong_type("pcr", "an integer")
    if not 0 <= pcr < PCR_COUNT:
        raise MalformedInputError(
            ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR index {pcr!r} is not in 0..23", field="pcr"
        )
    return pcr


def _check_locality(locality: object) -> int:
    """The locality: an int (INVALID_DOCUMENT), in 0..4 (INVALID_LOCALITY; TPM2-P1 Locality)."""
    if not _is_int(locality):
        raise _wrong_type("locality", "an integer")
    if not 0 <= locality < LOCALITY_COUNT:
        raise MalformedInputError(
            ErrorCode.INVALID_LOCALITY, f"locality {locality!r} is not in 0..4", field="locality"
        )
    return locality


def _check_alg(alg: object, field: str) -> HashAlg:
    """The hash: an int (INVALID_DOCUMENT), a hash TPM_ALG_ID (UNKNOWN_ALGORITHM; TCG-ALG)."""
    if not _is_int(alg):
        raise _wrong_type(field, "a TPM_ALG_ID")
    try:
        return HashAlg(alg)
    except ValueError as err:
        raise MalformedInputError(
            ErrorCode.UNKNOWN_ALGORITHM, f"TPM_ALG_ID {alg!r} is not a known hash", field=field
        ) from err


def _check_bytes(value: object, field: str) -> bytes:
    """The value as bytes, or INVALID_DOCUMENT (PROJECT adr.0001: wrong types)."""
    if not isinstance(value, bytes):
        raise _wrong_type(field, "bytes")
    return value


def is_extend_allowed(pcr: int, locality: int) -> bool:
    """Spec: MSREF PCR.c PCRIsExtendAllowed - may this locality extend this PCR.

    True when bit `locality` of the PCR's extend-locality mask is set (PTP PCR Attributes).
    """
    mask = PCR_ATTRIBUTES[_check_pcr(pcr)].extend_localities
    return mask & (1 << _check_locality(locality)) != 0


def is_reset_allowed(pcr: int, locality: int) -> bool:
    """Spec: MSREF PCR.c PCRIsResetAllowed - may TPM2_PCR_Reset at this locality reset this PCR.

    A PC Client TPM does D-RTM (DRTM_PCR is defined), so TPM2_PCR_Reset from locality 4
    is always refused; otherwise bit `locality` of the reset-locality mask decides.
    """
    index = _check_pcr(pcr)
    if _check_locality(locality) == 4:  # DRTM TPM: locality 4 never resets by command
        return False
    return PCR_ATTRIBUTES[index].reset_localities & (1 << locality) != 0


def is_state_saved(pcr: int) -> bool:
    """Spec: MSREF PCR.c PCRIsStateSaved - is this PCR preserved by Shutdown(STATE)/Resume."""
    return PCR_ATTRIBUTES[_check_pcr(pcr)].state_save


def compute_extend(alg: HashAlg, old: bytes, digest: bytes) -> bytes:
    """Spec: TPM2-P3 22.2 TPM2_PCR_Extend - PCR_new := H_alg(PCR_old || digest).

    Steps:
      (1) the algorithm is a known hash;
      (2) the old value and the digest are both digest_size(alg) octets long;
      (3) hash their concatenation.
    """
    # (1)
    hash_alg = _check_alg(alg, "alg")
    size = digest_size(hash_alg)
    # (2)
    for name, value in (("old", old), ("digest", digest)):
        if len(_check_bytes(value, name)) != size:
            raise MalformedInputError(
                ErrorCode.DIGEST_SIZE_MISMATCH,
                f"{name} is {len(value)} octets, {hash_alg.name} needs {size}",
                field=name,
            )
    # (3)
    return compute_digest(hash_alg, old + digest)


def compute_startup_value(alg: HashAlg, pcr: int, locality: int) -> bytes:
    """Spec: PTP PCR Initial and Reset Values - a PCR's value after TPM2_Startup(CLEAR).

    Steps (MSREF PCR.c PCRStartup):
      (1) a PCR resettable from locality 4 (the D-RTM PCRs) starts all 0xFF;
      (2) every other PCR starts all zero, except that
      (3) PCR 0 ends in the startup locality (0 or 3).
    """
    size = digest_size(_check_alg(alg, "alg"))
    # (1)
    if PCR_ATTRIBUTES[_check_pcr(pcr)].reset_localities & 0x10:
        return b"\xff" * size
    # (2)
    if pcr != HCRTM_PCR:
        return bytes(size)
    # (3)
    return bytes(size - 1) + bytes([_check_locality(locality)])


def _refuse(code: ErrorCode, message: str, tpm_rc: int) -> TpmRefusalError:
    """A TpmRefusalError carrying the TPM_RC a TPM returns (TPM2-P2 TPM_RC)."""
    return TpmRefusalError(code, message, tpm_rc=tpm_rc)


@dataclass(frozen=True, slots=True)
class _SavedState:
    """What Shutdown(STATE) keeps for the next Resume (MSREF Shutdown.c)."""

    pcrs: dict[HashAlg, dict[int, bytes]]  # bank -> state-saved PCR index -> value
    hcrtm: bool  # PRE_STARTUP_FLAG: an H-CRTM preceded the Startup being saved
    locality3: bool  # STARTUP_LOCALITY_3: that Startup came from locality 3


class Tpm:
    """Spec: PROJECT adr.0001 - a PC Client TPM's PCR banks, from _TPM_Init on.

    A new Tpm is powered on, after _TPM_Init, before TPM2_Startup. A failed command
    leaves the state unchanged (TPM2-P3 6.2 Response Codes).
    """

    def __init__(self, banks: Sequence[HashAlg]) -> None:
        """Spec: PROJECT adr.0001 - allocate the given PCR banks (each once, at least one)."""
        chosen: list[HashAlg] = []
        for index, bank in enumerate(banks):
            alg = _check_alg(bank, f"banks[{index}]")
            if alg in chosen:
                raise MalformedInputError(
                    ErrorCode.DUPLICATE_BANK,
                    f"bank {alg.name} listed twice",
                    field=f"banks[{index}]",
                )
            chosen.append(alg)
        if not chosen:
            raise MalformedInputError(ErrorCode.NO_BANKS, "no PCR bank allocated", field="banks")
        self._banks: tuple[HashAlg, ...] = tuple(sorted(chosen))
        # PCR contents are undefined until TPM2_Startup; zero is as good as any value.
        self._pcrs: dict[HashAlg, list[bytes]] = {
            alg: [bytes(digest_size(alg))] * PCR_COUNT for alg in self._banks
        }
        self._started = False
        self._hcrtm = False  # MSREF g_DrtmPreStartup: an H-CRTM since the last _TPM_Init
        self._locality3 = False  # MSREF g_StartupLocality3
        self._saved: _SavedState | None = None  # from the last Shutdown(STATE)

    @property
    def started(self) -> bool:
        """Spec: TPM2-P3 9.3 TPM2_Startup - has TPM2_Startup completed since _TPM_Init."""
        return self._started

    def startup(self, startup_type: str, locality: int) -> None:
        """Spec: TPM2-P3 9.3 TPM2_Startup - initialise or restore the PCRs.

        Steps (MSREF Startup.c, PCR.c PCRStartup):
          (1) validate the type ("clear"/"state") and the locality (0..4);
          (2) already started -> ALREADY_STARTED (TPM_RC_INITIALIZE);
          (3) locality not 0 or 3 -> LOCALITY_NOT_ALLOWED (TPM_RC_LOCALITY);
          (4) after an H-CRTM the locality counts as 0; note the locality-3 flag;
          (5) Startup(STATE) needs a saved state with the same H-CRTM and locality-3 flags;
          (6) set every PCR: restored (Resume, state-saved PCR), kept (PCR 0 after an
              H-CRTM, not Resume) or initialised (compute_startup_value);
          (7) the saved state is consumed; the TPM is started.
        """
        # (1)
        resume = _check_startup_type(startup_type, "startup_type") == "state"
        _check_locality(locality)
        # (2)
        if self._started:
            raise _refuse(ErrorCode.ALREADY_STARTED, "TPM2_Startup already done", TPM_RC_INITIALIZE)
        # (3)
        if locality not in (0, 3):
            raise _refuse(
                ErrorCode.LOCALITY_NOT_ALLOWED, f"Startup at locality {locality}", TPM_RC_LOCALITY
            )
        # (4)
        effective = 0 if self._hcrtm else locality
        locality3 = effective == 3
        # (5)
        saved = self._check_resume(locality3) if resume else None
        # (6)
        for alg in self._banks:
            for pcr in range(PCR_COUNT):
                if saved is not None and is_state_saved(pcr):
                    self._pcrs[alg][pcr] = saved.pcrs[alg][pcr]
                elif not (pcr == HCRTM_PCR and self._hcrtm and saved is None):
                    self._pcrs[alg][pcr] = compute_startup_value(alg, pcr, effective)
        # (7)
        self._saved = None
        self._locality3 = locality3
        self._started = True

    def _check_resume(self, locality3: bool) -> _SavedState:
        """MSREF Startup.c: the Resume checks, in the order the reference code makes them."""
        if self._saved is None:
            raise _refuse(
                ErrorCode.NO_SAVED_STATE,
                "Startup(STATE) without a preceding Shutdown(STATE)",
                TPM_RC_VALUE_STARTUP_TYPE,
            )
        if self._saved.hcrtm != self._hcrtm:
            raise _refuse(
                ErrorCode.HCRTM_STATE_MISMATCH,
                "H-CRTM state differs from the saved state",
                TPM_RC_VALUE_STARTUP_TYPE,
            )
        if self._saved.locality3 != locality3:
            raise _refuse(
                ErrorCode.STARTUP_LOCALITY_MISMATCH,
                "startup locality 3 differs from the saved state",
                TPM_RC_LOCALITY,
            )
        return self._saved

    def _require_started(self) -> None:
        """TPM2-P3 9.3: before TPM2_Startup every command gets TPM_RC_INITIALIZE."""
        if not self._started:
            raise _refuse(ErrorCode.NOT_STARTED, "TPM2_Startup has not run", TPM_RC_INITIALIZE)

    def shutdown(self, shutdown_type: str) -> None:
        """Spec: TPM2-P3 9.4 TPM2_Shutdown - save state, then power-cycle (_TPM_Init).

        Steps (MSREF Shutdown.c, PCR.c PCRStateSave, _TPM_Init.c):
          (1) validate the type ("clear"/"state");
          (2) not started -> NOT_STARTED (TPM_RC_INITIALIZE);
          (3) STATE saves the state-saved PCRs of every bank and the H-CRTM and
              locality-3 flags; CLEAR saves nothing;
          (4) _TPM_Init: not started, no H-CRTM, no locality-3 flag.
        """
        # (1)
        state = _check_startup_type(shutdown_type, "shutdown_type") == "state"
        # (2)
        self._require_started()
        # (3)
        self._saved = None
        if state:
            saved = {
                alg: {pcr: self._pcrs[alg][pcr] for pcr in range(PCR_COUNT) if is_state_saved(pcr)}
                for alg in self._banks
            }
            self._saved = _SavedState(saved, self._hcrtm, self._locality3)
        # (4)
        self._started = False
        self._hcrtm = False
        self._locality3 = False

    def extend(self, pcr: int, locality: int, digests: Sequence[tuple[HashAlg, bytes]]) -> None:
        """Spec: TPM2-P3 22.2 TPM2_PCR_Extend - extend each listed digest into its bank.

        Steps (MSREF PCR_Extend.c):
          (1) validate the PCR, the locality and each digest (known hash, right size);
          (2) not started -> NOT_STARTED;
          (3) the PCR's extend localities exclude this one -> LOCALITY_NOT_ALLOWED;
          (4) in list order, extend each digest whose bank is allocated; a digest for an
              unallocated bank is not used, and a bank listed twice is extended twice.
        """
        # (1)
        _check_pcr(pcr)
        _check_locality(locality)
        checked: list[tuple[HashAlg, bytes]] = []
        for index, (alg, digest) in enumerate(digests):
            hash_alg = _check_alg(alg, f"digests[{index}]")
            value = _check_bytes(digest, f"digests[{index}]")
            if len(value) != digest_size(hash_alg):
                raise MalformedInputError(
                    ErrorCode.DIGEST_SIZE_MISMATCH,
                    f"{hash_alg.name} digest is {len(value)} octets",
                    field=f"digests[{index}]",
                )
            checked.append((hash_alg, value))
        # (2)
        self._require_started()
        # (3)
        self._require_extend_allowed(pcr, locality)
        # (4)
        for hash_alg, value in checked:
            if hash_alg in self._pcrs:
                self._pcrs[hash_alg][pcr] = compute_extend(
                    hash_alg, self._pcrs[hash_alg][pcr], value
                )

    def _require_extend_allowed(self, pcr: int, locality: int) -> None:
        """TPM2-P3 22.2/22.3: an extend the PCR's attributes forbid is TPM_RC_LOCALITY."""
        if not is_extend_allowed(pcr, locality):
            raise _refuse(
                ErrorCode.LOCALITY_NOT_ALLOWED,
                f"PCR {pcr} cannot be extended from locality {locality}",
                TPM_RC_LOCALITY,
            )

    def event(self, pcr: int, locality: int, data: bytes) -> None:
        """Spec: TPM2-P3 22.3 TPM2_PCR_Event - hash the data per bank and extend it.

        Steps (MSREF PCR_Event.c):
          (1) validate the PCR, the locality and the data (at most 1024 octets);
          (2) not started -> NOT_STARTED;
          (3) the PCR's extend localities exclude this one -> LOCALITY_NOT_ALLOWED;
          (4) every allocated bank: PCR := H_bank(PCR || H_bank(data)).
        """
        # (1)
        _check_pcr(pcr)
        _check_locality(locality)
        if len(_check_bytes(data, "data")) > EVENT_DATA_MAX:
            raise MalformedInputError(
                ErrorCode.EVENT_DATA_TOO_LARGE,
                f"event data is {len(data)} octets, at most {EVENT_DATA_MAX}",
                field="data",
            )
        # (2)
        self._require_started()
        # (3)
        self._require_extend_allowed(pcr, locality)
        # (4)
        for alg in self._banks:
            self._pcrs[alg][pcr] = compute_extend(
                alg, self._pcrs[alg][pcr], compute_digest(alg, data)
            )

    def reset(self, pcr: int, locality: int) -> None:
        """Spec: TPM2-P3 22.8 TPM2_PCR_Reset - set the PCR to zero in every bank.

        Steps (MSREF PCR_Reset.c, PCR.c PCRSetValue):
          (1) validate the PCR and the locality;
          (2) not started -> NOT_STARTED;
          (3) is_reset_allowed is false -> LOCALITY_NOT_ALLOWED (TPM_RC_LOCALITY);
          (4) every allocated bank: PCR := 0...0.
        """
        # (1)
        _check_pcr(pcr)
        _check_locality(locality)
        # (2)
        self._require_started()
        # (3)
        if not is_reset_allowed(pcr, locality):
            raise _refuse(
                ErrorCode.LOCALITY_NOT_ALLOWED,
                f"PCR {pcr} cannot be reset from locality {locality}",
                TPM_RC_LOCALITY,
            )
        # (4)
        for alg in self._banks:
            self._pcrs[alg][pcr] = bytes(digest_size(alg))

    def hcrtm(self, data: bytes) -> None:
        """Spec: TPM2-P3 22.11 _TPM_Hash_End - an H-CRTM sequence before TPM2_Startup.

        Steps (MSREF _TPM_Hash_End.c, PCR.c PcrDrtm):
          (1) validate the data;
          (2) after TPM2_Startup -> HCRTM_AFTER_STARTUP (a UsageError);
          (3) every allocated bank: PCR0 := H_bank(0...04 || H_bank(data));
          (4) remember the H-CRTM (g_DrtmPreStartup) until the next _TPM_Init.
        """
        # (1)
        _check_bytes(data, "data")
        # (2)
        if self._started:
            raise UsageError(ErrorCode.HCRTM_AFTER_STARTUP, "an H-CRTM must precede TPM2_Startup")
        # (3)
        for alg in self._banks:
            start = bytes(digest_size(alg) - 1) + b"\x04"
            self._pcrs[alg][HCRTM_PCR] = compute_extend(alg, start, compute_digest(alg, data))
        # (4)
        self._hcrtm = True

    def drtm(self, data: bytes) -> None:
        """Spec: TPM2-P3 22.11 _TPM_Hash_End - a D-RTM sequence after TPM2_Startup.

        Steps (MSREF _TPM_Hash_End.c, PCR.c PCRResetDynamics and PcrDrtm):
          (1) validate the data;
          (2) before TPM2_Startup -> DRTM_BEFORE_STARTUP (a UsageError);
          (3) every PCR whose reset localities include 4 := 0...0 in every bank;
          (4) every allocated bank: PCR17 := H_bank(0...0 || H_bank(data)).
        """
        # (1)
        _check_bytes(data, "data")
        # (2)
        if not self._started:
            raise UsageError(ErrorCode.DRTM_BEFORE_STARTUP, "a D-RTM must follow TPM2_Startup")
        # (3)
        for alg in self._banks:
            for pcr in range(PCR_COUNT):
                if PCR_ATTRIBUTES[pcr].reset_localities & 0x10:
                    self._pcrs[alg][pcr] = bytes(digest_size(alg))
        # (4)
        for alg in self._banks:
            zero = bytes(digest_size(alg))
            self._pcrs[alg][DRTM_PCR] = compute_extend(alg, zero, compute_digest(alg, data))

    def read(self) -> dict[HashAlg, tuple[bytes, ...]]:
        """Spec: TPM2-P3 22.4 TPM2_PCR_Read - every PCR of every bank, ascending TPM_ALG_ID.

        Steps:
          (1) not started -> NOT_STARTED;
          (2) 24 values per allocated bank.
        """
        # (1)
        self._require_started()
        # (2)
        return {alg: tuple(self._pcrs[alg]) for alg in self._banks}


def _check_startup_type(value: object, field: str) -> str:
    """TPM2-P2 TPM_SU: TPM_SU_CLEAR or TPM_SU_STATE, here "clear" or "state"."""
    if value not in STARTUP_TYPES or not isinstance(value, str):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, f"{field} must be 'clear' or 'state'", field=field
        )
    return value
