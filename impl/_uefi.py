"""Decoders of event data the PC Client PFP defines (the `parsed` part of an event's JSON).

Sources: TCG PC Client Platform Firmware Profile 1.05r23 (PFP): UEFI_VARIABLE_DATA,
UEFI_GPT_DATA, TCG_EfiStartupLocalityEvent, TCG_EfiSpecIdEvent; UEFI 2.x "GPT Header"
and "GPT Partition Entry" tables for the partition structures. Event data is not covered
by any digest the TPM checks: decoding it never fails the log; data that does not fit its
structure decodes to None.
"""

from __future__ import annotations

import struct
from typing import Any

_U64X2 = struct.Struct("<QQ")
_GPT_ENTRY = struct.Struct("<QQQ")
# UEFI_PARTITION_TABLE_HEADER is 92 bytes (UEFI "GPT Header" table); in it, DiskGUID is at
# offset 56, SizeOfPartitionEntry at 84; UEFI_GPT_DATA then has UINT64 NumberOfPartitions.
_GPT_HEADER_SIZE = 92
_GPT_ENTRY_MIN = 128  # a GPT Partition Entry is at least 128 bytes (UEFI)
_GPT_NAME_BYTES = 72  # PartitionName: 36 CHAR16

STARTUP_LOCALITY_SIGNATURE = b"StartupLocality\x00"
SPEC_ID_SIGNATURE = b"Spec ID Event03\x00"


def format_guid(raw: bytes | memoryview) -> str:
    """An EFI_GUID (16 bytes; Data1-3 little-endian) as 8-4-4-4-12 lowercase hex."""
    b = bytes(raw)
    return f"{b[3::-1].hex()}-{b[5:3:-1].hex()}-{b[7:5:-1].hex()}-{b[8:10].hex()}-{b[10:16].hex()}"


def _utf16(raw: bytes) -> str:
    return raw.decode("utf-16-le", errors="replace")


def decode_uefi_variable(data: bytes) -> dict[str, Any] | None:
    """PFP UEFI_VARIABLE_DATA: GUID, u64 UnicodeNameLength (CHAR16s), u64 VariableDataLength,
    UnicodeName, VariableData. Bytes after VariableData are tolerated (shim's extra byte)."""
    parts = split_uefi_variable(data)
    if parts is None:
        return None
    name, value = parts
    return {
        "kind": "uefi_variable",
        "variableName": format_guid(data[:16]),
        "unicodeName": _utf16(name),
        "variableData": value.hex(),
    }


def split_uefi_variable(data: bytes) -> tuple[bytes, bytes] | None:
    """(UnicodeName bytes, VariableData bytes) of a UEFI_VARIABLE_DATA, or None if short."""
    if len(data) < 32:
        return None
    name_len, data_len = _U64X2.unpack_from(data, 16)
    remaining = len(data) - 32
    # (each declared length is checked against the bytes that remain before slicing)
    if name_len > remaining // 2:
        return None
    name_end = 32 + 2 * name_len
    if data_len > len(data) - name_end:
        return None
    return data[32:name_end], data[name_end : name_end + data_len]


def decode_string(data: bytes) -> dict[str, Any]:
    """EV_EFI_ACTION / EV_ACTION: an ASCII string (PFP), trailing NULs removed."""
    return {"kind": "string", "text": data.rstrip(b"\x00").decode("ascii", errors="replace")}


def decode_separator(data: bytes) -> dict[str, Any] | None:
    """EV_SEPARATOR: a UINT32 (PFP)."""
    if len(data) != 4:
        return None
    return {"kind": "separator", "value": int.from_bytes(data, "little")}


def startup_locality(pcr: int, event_type: int, data: bytes) -> int | None:
    """The locality of a TCG_EfiStartupLocalityEvent (EV_NO_ACTION in PCR 0, 17 bytes:
    "StartupLocality\\0" then a UINT8), or None when the event is not one."""
    if (
        event_type == 3
        and pcr == 0
        and len(data) == 17
        and data.startswith(STARTUP_LOCALITY_SIGNATURE)
    ):
        return data[16]
    return None


def decode_gpt(data: bytes) -> dict[str, Any] | None:
    """PFP UEFI_GPT_DATA: UEFI_PARTITION_TABLE_HEADER, UINT64 NumberOfPartitions, then that
    many entries of the header's SizeOfPartitionEntry bytes."""
    if len(data) < _GPT_HEADER_SIZE + 8:
        return None
    entry_size = int.from_bytes(data[84:88], "little")
    count = int.from_bytes(data[_GPT_HEADER_SIZE : _GPT_HEADER_SIZE + 8], "little")
    remaining = len(data) - _GPT_HEADER_SIZE - 8
    if entry_size < _GPT_ENTRY_MIN or count > remaining // entry_size:
        return None
    partitions = []
    pos = _GPT_HEADER_SIZE + 8
    for _ in range(count):
        start, end, attributes = _GPT_ENTRY.unpack_from(data, pos + 32)
        name = data[pos + 56 : pos + 56 + _GPT_NAME_BYTES]
        text = _utf16(name)
        partitions.append(
            {
                "typeGuid": format_guid(data[pos : pos + 16]),
                "uniqueGuid": format_guid(data[pos + 16 : pos + 32]),
                "startingLba": start,
                "endingLba": end,
                "attributes": attributes,
                "name": text.split("\x00", 1)[0],
            }
        )
        pos += entry_size
    return {"kind": "gpt", "diskGuid": format_guid(data[56:72]), "partitions": partitions}
