"""TCG PC Client event logs: parse (SHA-1 and crypto-agile), replay, data checks, verify.

Contract: docs/adr/0002-eventlog-contract.md. Sources: TCG PC Client Platform Firmware
Profile 1.05r23 (PFP). The work is split by concern: `_eventlog_parse` (records, Spec ID
event, EventType), `_uefi` (decoders of event data), `_replay` (replay rules, data
checks), `_eventlog_report` (verification, PCR value input, text listings). This module
is the public face; the names below are the contract's.
"""

from __future__ import annotations

from chainoftrust.impl._eventlog_parse import (
    EventLog,
    EventLogEntry,
    EventType,
    SpecId,
    parse_event_log,
)
from chainoftrust.impl._eventlog_report import (
    PcrRow,
    Verdict,
    format_event_table,
    format_verdict,
    parse_pcr_values,
    verify_event_log,
)
from chainoftrust.impl._replay import (
    DataCheck,
    Replay,
    ReplayWarning,
    check_event_data,
    replay_event_log,
)

__all__ = [
    "DataCheck",
    "EventLog",
    "EventLogEntry",
    "EventType",
    "PcrRow",
    "Replay",
    "ReplayWarning",
    "SpecId",
    "Verdict",
    "check_event_data",
    "format_event_table",
    "format_verdict",
    "parse_event_log",
    "parse_pcr_values",
    "replay_event_log",
    "verify_event_log",
]
