"""Linux IMA measurement lists: parse (binary and ASCII), template hashes, replay, verify.

Contract: docs/adr/0003-ima-contract.md. Sources: the Linux kernel's IMA
(security/integrity/ima/: ima_fs.c, ima_crypto.c, ima_template.c, ima_template_lib.c,
ima_api.c, ima_queue.c) and Documentation/security/IMA-templates.rst. The work is split
by concern: `_ima_parse` (entries, both list forms), `_ima_replay` (template hashes,
replay), `_ima_verify` (PCR values, claims, text). This module is the public face; the
names below are the contract's.
"""

from __future__ import annotations

from chainoftrust.impl._eventlog_report import parse_pcr_values
from chainoftrust.impl._ima_parse import (
    TEMPLATES,
    ImaEntry,
    ImaLog,
    parse_ima_ascii,
    parse_ima_binary,
)
from chainoftrust.impl._ima_replay import (
    ImaReplay,
    ImaWarning,
    check_template_hashes,
    replay_ima,
)
from chainoftrust.impl._ima_verify import (
    ImaPcrRow,
    ImaVerdict,
    format_ima_replay,
    format_ima_verdict,
    verify_ima,
)

__all__ = [
    "TEMPLATES",
    "ImaEntry",
    "ImaLog",
    "ImaPcrRow",
    "ImaReplay",
    "ImaVerdict",
    "ImaWarning",
    "check_template_hashes",
    "format_ima_replay",
    "format_ima_verdict",
    "parse_ima_ascii",
    "parse_ima_binary",
    "parse_pcr_values",
    "replay_ima",
    "verify_ima",
]
