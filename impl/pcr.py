"""PC Client PCR banks: attributes, extend, reset, startup/shutdown, H-CRTM and DRTM.

Sources (read for this module; see the report for the PTP caveat):
- PCR attributes: TCG PC Client Platform TPM Profile (PTP), as encoded by
  ms-tpm-20-ref `TPMCmd/tpm/src/subsystem/PCR.c` `s_initAttributes` (fields stateSave,
  resetLocality, extendLocality; bit n of a locality mask = locality n) and libtpms 0.9.
- Rules: `PCRIsExtendAllowed`, `PCRIsResetAllowed` (a DRTM TPM never resets at
  locality 4), `PCRStartup`, `PCRStateSave`, `PCRResetDynamics`, `PcrDrtm`, `PCRExtend`;
  commands `PCR_Extend.c`, `PCR_Event.c`, `PCR_Reset.c`, `Startup.c`, `Shutdown.c`;
  events `_TPM_Hash_Start/Data/End.c`, `_TPM_Init.c`.
- Contract (names, error codes, order of checks): docs/adr/0001-pcr-contract.md.

Speed: attribute lookups are bit tests on small int tuples; `Tpm.extend` does the
argument checks, two bit tests and one bound hashlib call per digest.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from chainoftrust.impl.errors import (
    ErrorCode,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.impl.hashes import (
    _CONSTRUCTORS,
    DIGEST_SIZES,
    HashAlg,
    HasherFactory,
    require_bytes,
    to_hash_alg,
)

PCR_COUNT = 24
LOCALITY_COUNT = 5
MAX_EVENT_DATA = 1024  # TPM2B_EVENT buffer size (TPM 2.0 Part 2, TPM2B_EVENT)
HCRTM_PCR = 0  # ms-tpm-20-ref TpmProfile.h HCRTM_PCR
DRTM_PCR = 17  # ms-tpm-20-ref TpmProfile.h DRTM_PCR
STATE_SAVED_PCRS = 16  # PCR 0..15 carry stateSave (s_initAttributes)

# TPM_RC values (TPM 2.0 Part 2, TPM_RC): TPM_RC_INITIALIZE = RC_VER1 + 0x000;
# TPM_RC_LOCALITY = RC_WARN + 0x007; TPM_RC_VALUE + RC_P + RC_1 (Startup's startupType).
TPM_RC_INITIALIZE = 0x100
TPM_RC_LOCALITY = 0x907
TPM_RC_VALUE_P1 = 0x1C4

# Locality masks per PCR, bit n = locality n (ms-tpm-20-ref PCR.c s_initAttributes).
# PCR:                 0-15 static RTM, 16 debug, 17..19 DRTM, 20..22 dynamic OS, 23 app.
_EXTEND_MASK: tuple[int, ...] = (0x1F,) * 16 + (0x1F, 0x1C, 0x1C, 0x0C, 0x0E, 0x04, 0x04, 0x1F)
_RESET_MASK: tuple[int, ...] = (0x00,) * 16 + (0x0F, 0x10, 0x10, 0x10, 0x14, 0x14, 0x14, 0x0F)
# PCRs whose reset localities include 4: all-ones after Startup, zeroed by a DRTM.
_DYNAMIC_PCRS: tuple[int, ...] = tuple(p for p in range(PCR_COUNT) if _RESET_MASK[p] & 0x10)
_LOCALITY_4 = 4
# Digest size by TPM_ALG_ID value (0: not a known hash), for the extend fast path.
_SIZE_BY_ID: tuple[int, ...] = tuple(
    DIGEST_SIZES.get(alg_id, 0)  # type: ignore[call-overload]
    for alg_id in range(max(HashAlg) + 1)
)


def _check_pcr(pcr: object, field: str = "pcr") -> int:
    if pcr.__class__ is not int:
        if isinstance(pcr, bool) or not isinstance(pcr, int):
            raise MalformedInputError(
                ErrorCode.INVALID_DOCUMENT,
                f"PCR index must be an integer, got {type(pcr).__name__}",
                field=field,
            )
        pcr = int(pcr)
    if not 0 <= pcr < PCR_COUNT:
        raise MalformedInputError(
            ErrorCode.PCR_INDEX_OUT_OF_RANGE, f"PCR index {pcr} is not in 0..23", field=field
        )
    return pcr


def _check_locality(locality: object, field: str = "locality") -> int:
    if locality.__class__ is not int:
        if isinstance(locality, bool) or not isinstance(locality, int):
            raise MalformedInputError(
                ErrorCode.INVALID_DOCUMENT,
                f"locality must be an integer, got {type(locality).__name__}",
                field=field,
            )
        locality = int(locality)
    if not 0 <= locality < LOCALITY_COUNT:
        raise MalformedInputError(
            ErrorCode.INVALID_LOCALITY, f"locality {locality} is not in 0..4", field=field
        )
    return locality


def is_extend_allowed(pcr: int, locality: int) -> bool:
    """May a command at `locality` extend `pcr` (PCRIsExtendAllowed)."""
    return (_EXTEND_MASK[_check_pcr(pcr)] >> _check_locality(locality)) & 1 == 1


def is_reset_allowed(pcr: int, locality: int) -> bool:
    """May TPM2_PCR_Reset at `locality` reset `pcr` (PCRIsResetAllowed; DRTM TPM: never
    at locality 4)."""
    pcr = _check_pcr(pcr)
    locality = _check_locality(locality)
    if locality == _LOCALITY_4:
        return False
    return (_RESET_MASK[pcr] >> locality) & 1 == 1


def is_state_saved(pcr: int) -> bool:
    """Is `pcr` saved by TPM2_Shutdown(STATE) and restored by TPM2_Startup(STATE)."""
    return _check_pcr(pcr) < STATE_SAVED_PCRS


def _digest_size_error(what: str, got: int, want: int, field: str) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.DIGEST_SIZE_MISMATCH, f"{what} has {got} bytes, expected {want}", field=field
    )


def compute_extend(alg: HashAlg, old: bytes, digest: bytes) -> bytes:
    """PCR_new = H_alg(PCR_old || digest), both of the algorithm's digest size (PCRExtend)."""
    alg = to_hash_alg(alg, "alg")
    size = DIGEST_SIZES[alg]
    old = require_bytes(old, "old")
    digest = require_bytes(digest, "digest")
    if len(old) != size:
        raise _digest_size_error("old PCR value", len(old), size, "old")
    if len(digest) != size:
        raise _digest_size_error("digest", len(digest), size, "digest")
    return _CONSTRUCTORS[alg](old + digest).digest()


def _refuse(code: ErrorCode, message: str, tpm_rc: int) -> TpmRefusalError:
    return TpmRefusalError(code, message, tpm_rc=tpm_rc)


def _not_started() -> TpmRefusalError:
    return _refuse(ErrorCode.NOT_STARTED, "the TPM has not been started", TPM_RC_INITIALIZE)


def _check_type(value: object, field: str) -> bool:
    """ "clear" -> False, "state" -> True (TPM_SU_CLEAR / TPM_SU_STATE)."""
    if value == "clear" and value.__class__ is str:
        return False
    if value == "state" and value.__class__ is str:
        return True
    raise MalformedInputError(
        ErrorCode.INVALID_DOCUMENT,
        f'{field} must be "clear" or "state", got {value!r}',
        field=field,
    )


class _Bank:
    """One allocated bank: its algorithm, bound constructor, size and 24 values."""

    __slots__ = ("alg", "factory", "ones", "size", "values", "zeros")

    def __init__(self, alg: HashAlg) -> None:
        self.alg = alg
        self.factory: HasherFactory = _CONSTRUCTORS[alg]
        self.size = DIGEST_SIZES[alg]
        self.zeros = bytes(self.size)
        self.ones = b"\xff" * self.size
        self.values: list[bytes] = [self.zeros] * PCR_COUNT


class _SavedState:
    """What TPM2_Shutdown(STATE) keeps: PCR 0..15 per bank and the two startup flags."""

    __slots__ = ("hcrtm", "locality3", "values")

    def __init__(self, values: dict[HashAlg, list[bytes]], hcrtm: bool, locality3: bool) -> None:
        self.values = values
        self.hcrtm = hcrtm
        self.locality3 = locality3


class Tpm:
    """A PC Client TPM's PCR banks, powered on (after _TPM_Init) and not yet started."""

    __slots__ = ("_banks", "_hcrtm", "_locality3", "_saved", "_slots", "_started")

    def __init__(self, banks: Sequence[HashAlg]) -> None:
        if isinstance(banks, str | bytes) or not isinstance(banks, Sequence):
            raise MalformedInputError(
                ErrorCode.INVALID_DOCUMENT, "banks must be a sequence of HashAlg", field="banks"
            )
        if len(banks) == 0:
            raise MalformedInputError(ErrorCode.NO_BANKS, "no PCR bank allocated", field="banks")
        by_alg: dict[HashAlg, _Bank] = {}
        for index, item in enumerate(banks):
            field = f"banks[{index}]"
            alg = to_hash_alg(item, field)
            if alg in by_alg:
                raise MalformedInputError(
                    ErrorCode.DUPLICATE_BANK, f"bank {alg.name} allocated twice", field=field
                )
            by_alg[alg] = _Bank(alg)
        # Allocated banks indexed by TPM_ALG_ID (None: not allocated), for Tpm.extend.
        self._slots: list[_Bank | None] = [by_alg.get(a) for a in range(len(_SIZE_BY_ID))]  # type: ignore[call-overload]
        self._banks: tuple[_Bank, ...] = tuple(by_alg[a] for a in sorted(by_alg))
        self._started = False
        self._hcrtm = False  # g_DrtmPreStartup: an H-CRTM ran in this power cycle
        self._locality3 = False  # g_StartupLocality3
        self._saved: _SavedState | None = None  # orderly state of the last Shutdown(STATE)

    @property
    def started(self) -> bool:
        """TPM2_Startup has succeeded since the last power cycle."""
        return self._started

    # -- TPM2_Startup / TPM2_Shutdown -------------------------------------------------

    def startup(self, startup_type: str, locality: int) -> None:
        """TPM2_Startup(CLEAR or STATE) at `locality` (Startup.c, PCRStartup)."""
        resume = _check_type(startup_type, "type")
        locality = _check_locality(locality)
        if self._started:
            raise _refuse(
                ErrorCode.ALREADY_STARTED, "the TPM is already started", TPM_RC_INITIALIZE
            )
        if locality not in (0, 3):
            raise _refuse(
                ErrorCode.LOCALITY_NOT_ALLOWED,
                f"TPM2_Startup is allowed at locality 0 or 3, not {locality}",
                TPM_RC_LOCALITY,
            )
        # After an H-CRTM the startup locality counts as 0 (PCR0 keeps the H-CRTM value).
        effective = 0 if self._hcrtm else locality
        locality3 = effective == 3
        saved = self._saved
        if resume:
            if saved is None:
                raise _refuse(
                    ErrorCode.NO_SAVED_STATE,
                    "TPM2_Startup(STATE) needs a preceding TPM2_Shutdown(STATE)",
                    TPM_RC_VALUE_P1,
                )
            if saved.hcrtm != self._hcrtm:
                raise _refuse(
                    ErrorCode.HCRTM_STATE_MISMATCH,
                    "the H-CRTM state differs from the one saved by TPM2_Shutdown(STATE)",
                    TPM_RC_VALUE_P1,
                )
            if saved.locality3 != locality3:
                raise _refuse(
                    ErrorCode.STARTUP_LOCALITY_MISMATCH,
                    "the startup locality differs from the one saved by TPM2_Shutdown(STATE)",
                    TPM_RC_LOCALITY,
                )
        for bank in self._banks:
            values = bank.values
            for pcr in range(PCR_COUNT):
                if resume and pcr < STATE_SAVED_PCRS:
                    values[pcr] = saved.values[bank.alg][pcr]  # type: ignore[union-attr]
                elif pcr == HCRTM_PCR and self._hcrtm:
                    continue  # keeps the H-CRTM measurement (not on resume)
                elif _RESET_MASK[pcr] & 0x10:
                    values[pcr] = bank.ones
                elif pcr == HCRTM_PCR:
                    values[pcr] = bank.zeros[:-1] + bytes((effective,))
                else:
                    values[pcr] = bank.zeros
        self._locality3 = locality3
        self._saved = None  # the orderly state is consumed by any successful startup
        self._started = True

    def shutdown(self, shutdown_type: str) -> None:
        """TPM2_Shutdown then a power cycle (_TPM_Init): the TPM is no longer started."""
        state = _check_type(shutdown_type, "type")
        if not self._started:
            raise _not_started()
        if state:
            self._saved = _SavedState(
                {b.alg: b.values[:STATE_SAVED_PCRS] for b in self._banks},
                self._hcrtm,
                self._locality3,
            )
        else:
            self._saved = None
        self._started = False
        self._hcrtm = False

    # -- TPM2_PCR_Extend / TPM2_PCR_Event / TPM2_PCR_Reset ----------------------------

    def extend(self, pcr: int, locality: int, digests: Sequence[tuple[HashAlg, bytes]]) -> None:
        """TPM2_PCR_Extend: extend each listed bank; digests for unallocated banks are
        ignored; an empty list is a no-op (PCR_Extend.c, PCRExtend).

        All arguments are checked before anything changes (unmarshalling comes first)."""
        if pcr.__class__ is not int or not 0 <= pcr < PCR_COUNT:
            pcr = _check_pcr(pcr)
        if locality.__class__ is not int or not 0 <= locality < LOCALITY_COUNT:
            locality = _check_locality(locality)
        if digests.__class__ is not list and digests.__class__ is not tuple:
            digests = self._as_tuple(digests)  # type: ignore[assignment]  # re-iterable
        # Fast path: HashAlg members and bytes of the right size, looked up by TPM_ALG_ID
        # in flat tables; anything else (plain int ids, bytearrays, malformed entries)
        # goes to _validate_digests, which names the offending field.
        work: list[tuple[_Bank, bytes]] = []
        slots = self._slots
        try:
            for alg, digest in digests:
                if (
                    alg.__class__ is not HashAlg
                    or digest.__class__ is not bytes
                    or len(digest) != _SIZE_BY_ID[alg]
                ):
                    work = self._validate_digests(digests)
                    break
                bank = slots[alg]
                if bank is not None:
                    work.append((bank, digest))
        except (TypeError, ValueError):
            work = self._validate_digests(digests)
        if not self._started:
            raise _not_started()
        if not (_EXTEND_MASK[pcr] >> locality) & 1:
            raise self._locality_refusal("extend", pcr, locality)
        for bank, digest in work:
            values = bank.values
            values[pcr] = bank.factory(values[pcr] + digest).digest()

    @staticmethod
    def _as_tuple(digests: object) -> tuple[object, ...]:
        if isinstance(digests, str | bytes | bytearray) or not isinstance(digests, Iterable):
            raise MalformedInputError(
                ErrorCode.INVALID_DOCUMENT,
                "digests must be a sequence of (HashAlg, bytes) pairs",
                field="digests",
            )
        return tuple(digests)

    def _validate_digests(self, digests: object) -> list[tuple[_Bank, bytes]]:
        """The digests as (allocated bank, digest) pairs, or the error naming the field."""
        digests = self._as_tuple(digests)
        work: list[tuple[_Bank, bytes]] = []
        for index, entry in enumerate(digests):
            field = f"digests[{index}]"
            if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 2:
                raise MalformedInputError(
                    ErrorCode.INVALID_DOCUMENT,
                    "a digest entry is a (HashAlg, bytes) pair",
                    field=field,
                )
            alg = to_hash_alg(entry[0], f"{field}.hashAlg")
            digest = require_bytes(entry[1], f"{field}.digest")
            if len(digest) != DIGEST_SIZES[alg]:
                raise _digest_size_error(
                    f"{alg.name} digest", len(digest), DIGEST_SIZES[alg], f"{field}.digest"
                )
            bank = self._slots[alg]
            if bank is not None:
                work.append((bank, digest))
        return work

    def event(self, pcr: int, locality: int, data: bytes) -> None:
        """TPM2_PCR_Event: extend every allocated bank with H_bank(data) (PCR_Event.c)."""
        pcr = _check_pcr(pcr)
        locality = _check_locality(locality)
        data = require_bytes(data, "data")
        if len(data) > MAX_EVENT_DATA:
            raise MalformedInputError(
                ErrorCode.EVENT_DATA_TOO_LARGE,
                f"event data has {len(data)} bytes, at most {MAX_EVENT_DATA} (TPM2B_EVENT)",
                field="data",
            )
        if not self._started:
            raise _not_started()
        if not (_EXTEND_MASK[pcr] >> locality) & 1:
            raise self._locality_refusal("extend", pcr, locality)
        for bank in self._banks:
            factory = bank.factory
            values = bank.values
            values[pcr] = factory(values[pcr] + factory(data).digest()).digest()

    def reset(self, pcr: int, locality: int) -> None:
        """TPM2_PCR_Reset: set `pcr` to zero in every bank (PCR_Reset.c, PCRSetValue)."""
        pcr = _check_pcr(pcr)
        locality = _check_locality(locality)
        if not self._started:
            raise _not_started()
        if locality == _LOCALITY_4 or not (_RESET_MASK[pcr] >> locality) & 1:
            raise self._locality_refusal("reset", pcr, locality)
        for bank in self._banks:
            bank.values[pcr] = bank.zeros

    @staticmethod
    def _locality_refusal(what: str, pcr: int, locality: int) -> TpmRefusalError:
        return _refuse(
            ErrorCode.LOCALITY_NOT_ALLOWED,
            f"PCR {pcr} may not be {what}ed at locality {locality}",
            TPM_RC_LOCALITY,
        )

    # -- _TPM_Hash_Start / _TPM_Hash_Data / _TPM_Hash_End ------------------------------

    def hcrtm(self, data: bytes) -> None:
        """H-CRTM (before TPM2_Startup): PCR0 = H(0...04 || H(data)) in every bank."""
        data = require_bytes(data, "data")
        if self._started:
            raise UsageError(
                ErrorCode.HCRTM_AFTER_STARTUP,
                "an H-CRTM sequence runs before TPM2_Startup; after it, use drtm",
            )
        for bank in self._banks:
            factory = bank.factory
            start = bank.zeros[:-1] + b"\x04"
            bank.values[HCRTM_PCR] = factory(start + factory(data).digest()).digest()
        self._hcrtm = True

    def drtm(self, data: bytes) -> None:
        """DRTM (after TPM2_Startup): PCRs resettable at locality 4 (17..22) become zero,
        then PCR17 = H(0...0 || H(data)) (PCRResetDynamics, PcrDrtm)."""
        data = require_bytes(data, "data")
        if not self._started:
            raise UsageError(
                ErrorCode.DRTM_BEFORE_STARTUP,
                "a DRTM sequence needs a started TPM; before TPM2_Startup, use hcrtm",
            )
        for bank in self._banks:
            factory = bank.factory
            values = bank.values
            for pcr in _DYNAMIC_PCRS:
                values[pcr] = bank.zeros
            values[DRTM_PCR] = factory(bank.zeros + factory(data).digest()).digest()

    # -- TPM2_PCR_Read ----------------------------------------------------------------

    def read(self) -> dict[HashAlg, tuple[bytes, ...]]:
        """The 24 values of every allocated bank, banks in ascending TPM_ALG_ID."""
        if not self._started:
            raise _not_started()
        return {bank.alg: tuple(bank.values) for bank in self._banks}
