"""The boot's event log: a crypto-agile TCG PC Client log, built byte by byte.

Spec: PFP 10.2 Event Log structures - TCG_PCR_EVENT (the header record), TCG_EfiSpecIDEvent
("Spec ID Event03") and TCG_PCR_EVENT2, all little-endian; the header's field values are
PROJECT adr.0005 "Event log". Helpers of chainoftrust.spec.boot.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec.eventlog import SPEC_ID_SIGNATURE, EventType
from chainoftrust.spec.hashes import HashAlg, digest_size

#: PFP TCG_PCR_EVENT: the header record's SHA-1 digest field is 20 zero octets.
HEADER_DIGEST: Final = bytes(20)
#: PROJECT adr.0005: platformClass 0, specVersion 2.0 errata 0, uintnSize 2 (UINT64),
#: vendorInfoSize 0.
PLATFORM_CLASS: Final = 0
SPEC_VERSION_MINOR: Final = 0
SPEC_VERSION_MAJOR: Final = 2
SPEC_ERRATA: Final = 0
UINTN_SIZE: Final = 2


@dataclass(frozen=True, slots=True)
class BootEvent:
    """One measured layer's record: PCR, event type, digests (chain-bank order), event data."""

    pcr: int
    event_type: int
    digests: tuple[tuple[HashAlg, bytes], ...]
    data: bytes


def encode_spec_id_event(banks: Sequence[HashAlg]) -> bytes:
    """Spec: PFP 10.2 TCG_EfiSpecIDEvent - the Spec ID Event03 structure.

    Layout: signature[16] "Spec ID Event03\\0", UINT32 platformClass, UINT8
    specVersionMinor, UINT8 specVersionMajor, UINT8 specErrata, UINT8 uintnSize, UINT32
    numberOfAlgorithms, then per algorithm TCG_EfiSpecIdEventAlgorithmSize {UINT16
    algorithmId, UINT16 digestSize}, then UINT8 vendorInfoSize (0) and no vendorInfo.
    """
    head = SPEC_ID_SIGNATURE + struct.pack(
        "<IBBBBI",
        PLATFORM_CLASS,
        SPEC_VERSION_MINOR,
        SPEC_VERSION_MAJOR,
        SPEC_ERRATA,
        UINTN_SIZE,
        len(banks),
    )
    sizes = b"".join(struct.pack("<HH", int(bank), digest_size(bank)) for bank in banks)
    return head + sizes + b"\x00"


def encode_pcr_event(pcr: int, event_type: int, digest: bytes, data: bytes) -> bytes:
    """Spec: PFP 10.2 TCG_PCR_EVENT - UINT32 PCRIndex, UINT32 EventType, BYTE Digest[20],
    UINT32 EventSize, BYTE Event[EventSize]."""
    return struct.pack("<II", pcr, event_type) + digest + struct.pack("<I", len(data)) + data


def encode_pcr_event2(event: BootEvent) -> bytes:
    """Spec: PFP 10.2 TCG_PCR_EVENT2 - UINT32 PCRIndex, UINT32 EventType, TPML_DIGEST_VALUES
    Digests (UINT32 count, then TPMT_HA {UINT16 hashAlg, digest}), UINT32 EventSize, Event."""
    head = struct.pack("<III", event.pcr, event.event_type, len(event.digests))
    digests = b"".join(struct.pack("<H", int(alg)) + digest for alg, digest in event.digests)
    return head + digests + struct.pack("<I", len(event.data)) + event.data


def build_event_log(banks: Sequence[HashAlg], events: Sequence[BootEvent]) -> bytes:
    """Spec: PROJECT adr.0005 Event log - the header, then one TCG_PCR_EVENT2 per event.

    Steps:
      (1) a TCG_PCR_EVENT in PCR 0, EV_NO_ACTION, 20 zero digest octets, holding the Spec
          ID Event03 that lists the chain's banks in chain order;
      (2) each measured layer's TCG_PCR_EVENT2, in measurement order.
    """
    # (1)
    spec_id = encode_spec_id_event(banks)
    header = encode_pcr_event(0, EventType.EV_NO_ACTION, HEADER_DIGEST, spec_id)
    # (2)
    return header + b"".join(encode_pcr_event2(event) for event in events)
