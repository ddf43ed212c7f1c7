"""Typed errors of the executable specification.

Spec: PROJECT adr.0001 - error codes are shared strings (docs/adr/0001-pcr-contract.md).
The codes are the contract spec and impl share: differential tests compare them,
vectors record them. Add codes; never rename one.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.StrEnum):
    """Stable UPPER_SNAKE error codes (docs/adr/0001-pcr-contract.md)."""

    INVALID_DOCUMENT = "INVALID_DOCUMENT"
    UNKNOWN_ALGORITHM = "UNKNOWN_ALGORITHM"
    NO_BANKS = "NO_BANKS"
    DUPLICATE_BANK = "DUPLICATE_BANK"
    UNKNOWN_OPERATION = "UNKNOWN_OPERATION"
    INVALID_HEX = "INVALID_HEX"
    DIGEST_SIZE_MISMATCH = "DIGEST_SIZE_MISMATCH"
    PCR_INDEX_OUT_OF_RANGE = "PCR_INDEX_OUT_OF_RANGE"
    INVALID_LOCALITY = "INVALID_LOCALITY"
    EVENT_DATA_TOO_LARGE = "EVENT_DATA_TOO_LARGE"
    LOCALITY_NOT_ALLOWED = "LOCALITY_NOT_ALLOWED"
    NOT_STARTED = "NOT_STARTED"
    ALREADY_STARTED = "ALREADY_STARTED"
    NO_SAVED_STATE = "NO_SAVED_STATE"
    HCRTM_STATE_MISMATCH = "HCRTM_STATE_MISMATCH"
    STARTUP_LOCALITY_MISMATCH = "STARTUP_LOCALITY_MISMATCH"
    HCRTM_AFTER_STARTUP = "HCRTM_AFTER_STARTUP"
    DRTM_BEFORE_STARTUP = "DRTM_BEFORE_STARTUP"
    TRUNCATED = "TRUNCATED"
    TRAILING_BYTES = "TRAILING_BYTES"
    INVALID_SELECT_SIZE = "INVALID_SELECT_SIZE"
    TOO_MANY_BANKS = "TOO_MANY_BANKS"
    MISSING_PCR_VALUE = "MISSING_PCR_VALUE"
    # event logs (docs/adr/0002-eventlog-contract.md)
    INVALID_SPEC_ID_EVENT = "INVALID_SPEC_ID_EVENT"
    INVALID_STARTUP_LOCALITY = "INVALID_STARTUP_LOCALITY"
    UNKNOWN_ALGORITHM_SKIPPED = "UNKNOWN_ALGORITHM_SKIPPED"
    MISSING_BANK_DIGEST = "MISSING_BANK_DIGEST"
    STARTUP_LOCALITY_AFTER_EXTEND = "STARTUP_LOCALITY_AFTER_EXTEND"
    DUPLICATE_STARTUP_LOCALITY = "DUPLICATE_STARTUP_LOCALITY"
    PCR_OUT_OF_RANGE = "PCR_OUT_OF_RANGE"
    UNKNOWN_EVENT_TYPE = "UNKNOWN_EVENT_TYPE"
    UNEXPECTED_PCR = "UNEXPECTED_PCR"
    EVENT_AFTER_SEPARATOR = "EVENT_AFTER_SEPARATOR"
    DATA_DIGEST_MISMATCH = "DATA_DIGEST_MISMATCH"
    MISSING_SEPARATOR = "MISSING_SEPARATOR"
    INVALID_PCR_VALUES = "INVALID_PCR_VALUES"
    # Linux IMA lists (docs/adr/0003-ima-contract.md)
    IMA_INVALID_LINE = "IMA_INVALID_LINE"
    IMA_UNKNOWN_TEMPLATE = "IMA_UNKNOWN_TEMPLATE"
    IMA_INVALID_TEMPLATE_DATA = "IMA_INVALID_TEMPLATE_DATA"
    # TPM quotes (docs/adr/0004-quote-contract.md)
    INVALID_ATTEST = "INVALID_ATTEST"
    UNSUPPORTED_SIGNATURE_ALGORITHM = "UNSUPPORTED_SIGNATURE_ALGORITHM"
    INVALID_SIGNATURE_FORMAT = "INVALID_SIGNATURE_FORMAT"
    UNSUPPORTED_KEY = "UNSUPPORTED_KEY"
    INVALID_KEY = "INVALID_KEY"
    BAD_MAGIC = "BAD_MAGIC"
    NOT_A_QUOTE = "NOT_A_QUOTE"
    KEY_NOT_RESTRICTED_SIGNING = "KEY_NOT_RESTRICTED_SIGNING"
    SCHEME_KEY_MISMATCH = "SCHEME_KEY_MISMATCH"
    HASH_NOT_ALLOWED = "HASH_NOT_ALLOWED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    NONCE_MISMATCH = "NONCE_MISMATCH"
    PCR_VALUES_MISSING = "PCR_VALUES_MISSING"
    PCR_DIGEST_MISMATCH = "PCR_DIGEST_MISMATCH"
    RESET_COUNT_DECREASED = "RESET_COUNT_DECREASED"
    RESTART_COUNT_DECREASED = "RESTART_COUNT_DECREASED"
    CLOCK_NOT_INCREASING = "CLOCK_NOT_INCREASING"
    # trusted boot (docs/adr/0005-boot-contract.md)
    INVALID_CHAIN = "INVALID_CHAIN"
    LAYER_UNREADABLE = "LAYER_UNREADABLE"
    INVALID_POLICY = "INVALID_POLICY"
    NO_POLICY = "NO_POLICY"
    UNKNOWN_SIGNER = "UNKNOWN_SIGNER"
    POLICY_SIGNATURE_INVALID = "POLICY_SIGNATURE_INVALID"
    POLICY_EXPIRED = "POLICY_EXPIRED"
    POLICY_ROLLBACK = "POLICY_ROLLBACK"
    DIGEST_REVOKED = "DIGEST_REVOKED"
    NO_REFERENCE = "NO_REFERENCE"
    DIGEST_NOT_ALLOWED = "DIGEST_NOT_ALLOWED"
    TPM_PCR_MISMATCH = "TPM_PCR_MISMATCH"


class SpecError(Exception):
    """Root of every error this package raises on bad input or refused operations."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        field: str | None = None,
        offset: int | None = None,
        operation: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.offset = offset
        self.operation = operation

    def __str__(self) -> str:
        where = []
        if self.operation is not None:
            where.append(f"operation {self.operation}")
        if self.field is not None:
            where.append(f"field {self.field}")
        if self.offset is not None:
            where.append(f"offset {self.offset}")
        suffix = f" ({', '.join(where)})" if where else ""
        return f"{self.code}: {self.message}{suffix}"


class MalformedInputError(SpecError):
    """The input is not a well-formed document or structure."""


class TpmRefusalError(SpecError):
    """A TPM would refuse this command; `tpm_rc` is the TPM_RC it returns."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        tpm_rc: int,
        field: str | None = None,
        offset: int | None = None,
        operation: int | None = None,
    ) -> None:
        super().__init__(code, message, field=field, offset=offset, operation=operation)
        self.tpm_rc = tpm_rc


class UsageError(SpecError):
    """An operation was asked for in a state where it has no meaning (e.g. DRTM before Startup)."""
