"""TCG PC Client event logs: parse (SHA-1 and crypto-agile), replay, check event data, verify.

Spec: PFP "Event Logging" (TCG_PCR_EVENT, TCG_PCR_EVENT2, TCG_EfiSpecIdEvent,
TCG_EfiStartupLocalityEvent, the Events table) with the replay rules of
docs/adr/0002-eventlog-contract.md (PROJECT adr.0002). The names, codes and JSON
shapes are that ADR's contract; `chainoftrust.impl.eventlog` is read independently.
The reading is in three parts: `_eventlog_parse` (types, records, the parser),
`_eventlog_replay` (data checks, replay) and `_eventlog_verify` (verification, PCR
values); this module is their public face.
"""

from __future__ import annotations

from chainoftrust.spec._eventlog_parse import (
    CHECKED_TYPES,
    DRTM_PCRS,
    HCRTM_LOCALITY,
    PCR_COUNT,
    PFP_PCRS,
    QUIRK_AUTHORITY_TRAILING_BYTE,
    QUIRK_VARIABLE_BOOT2_DATA_ONLY,
    QUIRK_VARIABLE_BOOT_WHOLE_DATA,
    SECURE_BOOT_POLICY_PCR,
    SEPARATOR_ERROR_VALUES,
    SHA1_EVENT_HEADER_SIZE,
    SPEC_ID_FIXED_SIZE,
    SPEC_ID_SIGNATURE,
    STARTUP_LOCALITIES,
    STRICT_CODES,
    UNRESTRICTED_TYPES,
    EventLog,
    EventLogEntry,
    EventType,
    SpecIdEvent,
    parse_event_log,
)
from chainoftrust.spec._eventlog_replay import (
    DataCheck,
    DataStatus,
    Finding,
    Replay,
    check_event_data,
    replay_event_log,
)
from chainoftrust.spec._eventlog_verify import (
    PcrCheck,
    PcrStatus,
    Verdict,
    VerdictResult,
    parse_pcr_values,
    verify_event_log,
)

__all__ = [
    "CHECKED_TYPES",
    "DRTM_PCRS",
    "HCRTM_LOCALITY",
    "PCR_COUNT",
    "PFP_PCRS",
    "QUIRK_AUTHORITY_TRAILING_BYTE",
    "QUIRK_VARIABLE_BOOT2_DATA_ONLY",
    "QUIRK_VARIABLE_BOOT_WHOLE_DATA",
    "SECURE_BOOT_POLICY_PCR",
    "SEPARATOR_ERROR_VALUES",
    "SHA1_EVENT_HEADER_SIZE",
    "SPEC_ID_FIXED_SIZE",
    "SPEC_ID_SIGNATURE",
    "STARTUP_LOCALITIES",
    "STRICT_CODES",
    "UNRESTRICTED_TYPES",
    "DataCheck",
    "DataStatus",
    "EventLog",
    "EventLogEntry",
    "EventType",
    "Finding",
    "PcrCheck",
    "PcrStatus",
    "Replay",
    "SpecIdEvent",
    "Verdict",
    "VerdictResult",
    "check_event_data",
    "parse_event_log",
    "parse_pcr_values",
    "replay_event_log",
    "verify_event_log",
]
