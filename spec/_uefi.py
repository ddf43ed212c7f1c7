"""Event data of a TCG PC Client event log: the structures the PFP defines inside events.

Spec: PFP - the event data structures (UEFI_VARIABLE_DATA, UEFI_GPT_DATA,
TCG_EfiStartupLocalityEvent, EV_SEPARATOR values, EV_ACTION strings). Helpers of
`chainoftrust.spec.eventlog`; event data is never authenticated by a quote, so a
malformed structure here yields `None` ("not parsed"), never an error; text that is
not valid UTF-16 / ASCII is decoded with U+FFFD replacement characters (ADR 0002
amendment 1.8).
"""

from __future__ import annotations

from typing import Final

#: PFP TCG_EfiStartupLocalityEvent.Signature: "StartupLocality" and a NUL (16 octets).
STARTUP_LOCALITY_SIGNATURE: Final = b"StartupLocality\x00"
#: PFP TCG_EfiStartupLocalityEvent: Signature[16] + UINT8 StartupLocality.
STARTUP_LOCALITY_SIZE: Final = 17
#: UEFI EFI_GUID: 16 octets (UINT32, UINT16, UINT16, UINT8[8]).
GUID_SIZE: Final = 16
#: PFP UEFI_VARIABLE_DATA: VariableName (EFI_GUID), UINT64 UnicodeNameLength,
#: UINT64 VariableDataLength.
VARIABLE_HEADER_SIZE: Final = GUID_SIZE + 8 + 8
#: UEFI EFI_PARTITION_TABLE_HEADER: 92 octets (EFI_TABLE_HEADER 24 + 68).
GPT_HEADER_SIZE: Final = 92
#: UEFI EFI_PARTITION_TABLE_HEADER.SizeOfPartitionEntry sits at offset 84.
GPT_ENTRY_SIZE_OFFSET: Final = 84
#: UEFI EFI_PARTITION_TABLE_HEADER.DiskGUID sits at offset 56.
GPT_DISK_GUID_OFFSET: Final = 56
#: UEFI EFI_PARTITION_ENTRY: 2 GUIDs, 3 UINT64, CHAR16 PartitionName[36] = 128 octets.
GPT_ENTRY_MIN_SIZE: Final = 128
#: UEFI EFI_PARTITION_ENTRY.PartitionName: CHAR16[36] at offset 56.
GPT_NAME_OFFSET: Final = 56
GPT_NAME_SIZE: Final = 72

JsonObject = dict[str, object]


def u16(data: bytes, pos: int) -> int:
    """Spec: PFP Event Logging - a UINT16 (the event log is little-endian)."""
    return int.from_bytes(data[pos : pos + 2], "little")


def u32(data: bytes, pos: int) -> int:
    """Spec: PFP Event Logging - a little-endian UINT32."""
    return int.from_bytes(data[pos : pos + 4], "little")


def u64(data: bytes, pos: int) -> int:
    """Spec: PFP Event Logging - a little-endian UINT64."""
    return int.from_bytes(data[pos : pos + 8], "little")


def format_guid(raw: bytes) -> str:
    """Spec: PFP EFI_GUID - 8-4-4-4-12 lowercase, first three fields little-endian."""
    first = raw[0:4][::-1].hex()
    second = raw[4:6][::-1].hex()
    third = raw[6:8][::-1].hex()
    return f"{first}-{second}-{third}-{raw[8:10].hex()}-{raw[10:16].hex()}"


def _utf16(raw: bytes) -> str:
    """UCS-2/UTF-16LE text; invalid code units (a lone surrogate, an odd last octet)
    become U+FFFD (ADR 0002 amendment 1.8)."""
    return raw.decode("utf-16-le", errors="replace")


def startup_locality(data: bytes) -> int | None:
    """Spec: PFP TCG_EfiStartupLocalityEvent - the locality, or None if data is not one.

    Steps:
      (1) exactly 17 octets;
      (2) the first 16 are the signature "StartupLocality\\0";
      (3) the last octet is the locality TPM2_Startup was issued from.
    """
    # (1)
    if len(data) != STARTUP_LOCALITY_SIZE:
        return None
    # (2)
    if data[:16] != STARTUP_LOCALITY_SIGNATURE:
        return None
    # (3)
    return data[16]


def parse_variable(data: bytes) -> tuple[JsonObject, bytes] | None:
    """Spec: PFP UEFI_VARIABLE_DATA - (parsed JSON, VariableData), or None if malformed.

    Steps:
      (1) the fixed header (GUID, UnicodeNameLength, VariableDataLength) fits;
      (2) UnicodeNameLength counts CHAR16 (2 octets each), VariableDataLength octets:
          both fit in what remains (octets after them are left unparsed);
      (3) the name is UTF-16LE (invalid code units replaced).
    """
    # (1)
    if len(data) < VARIABLE_HEADER_SIZE:
        return None
    name_chars = u64(data, GUID_SIZE)
    data_size = u64(data, GUID_SIZE + 8)
    # (2)
    remaining = len(data) - VARIABLE_HEADER_SIZE
    if name_chars > remaining // 2 or data_size > remaining - 2 * name_chars:
        return None
    name_end = VARIABLE_HEADER_SIZE + 2 * name_chars
    variable_data = data[name_end : name_end + data_size]
    # (3)
    name = _utf16(data[VARIABLE_HEADER_SIZE:name_end])
    parsed: JsonObject = {
        "kind": "uefi_variable",
        "variableName": format_guid(data[:GUID_SIZE]),
        "unicodeName": name,
        "variableData": variable_data.hex(),
    }
    return parsed, variable_data


def _partition(entry: bytes) -> JsonObject:
    """Spec: PFP EFI_PARTITION_ENTRY - one GPT partition entry (128 octets used)."""
    name = _utf16(entry[GPT_NAME_OFFSET : GPT_NAME_OFFSET + GPT_NAME_SIZE])
    return {
        "typeGuid": format_guid(entry[0:16]),
        "uniqueGuid": format_guid(entry[16:32]),
        "startingLba": u64(entry, 32),
        "endingLba": u64(entry, 40),
        "attributes": u64(entry, 48),
        "name": name.split("\x00", 1)[0],
    }


def parse_gpt(data: bytes) -> JsonObject | None:
    """Spec: PFP UEFI_GPT_DATA - the measured GPT header and partitions, or None.

    Steps:
      (1) EFI_PARTITION_TABLE_HEADER (92 octets) and UINT64 NumberOfPartitions fit;
      (2) SizeOfPartitionEntry is at least sizeof(EFI_PARTITION_ENTRY) = 128;
      (3) the entries fill exactly what remains: NumberOfPartitions * SizeOfPartitionEntry;
      (4) each entry is parsed.
    """
    # (1)
    if len(data) < GPT_HEADER_SIZE + 8:
        return None
    entry_size = u32(data, GPT_ENTRY_SIZE_OFFSET)
    count = u64(data, GPT_HEADER_SIZE)
    # (2)
    if entry_size < GPT_ENTRY_MIN_SIZE:
        return None
    # (3)
    start = GPT_HEADER_SIZE + 8
    if count * entry_size != len(data) - start:
        return None
    # (4)
    partitions: list[object] = []
    for number in range(count):
        entry = data[start + number * entry_size : start + (number + 1) * entry_size]
        partitions.append(_partition(entry))
    disk_guid = data[GPT_DISK_GUID_OFFSET : GPT_DISK_GUID_OFFSET + GUID_SIZE]
    return {"kind": "gpt", "diskGuid": format_guid(disk_guid), "partitions": partitions}


def parse_string(data: bytes) -> JsonObject:
    """Spec: PFP EV_ACTION / EV_EFI_ACTION - an ASCII string, trailing NULs removed;
    each octet above 0x7F becomes U+FFFD (ADR 0002 amendment 1.8)."""
    text = data.rstrip(b"\x00")
    return {"kind": "string", "text": text.decode("ascii", errors="replace")}


def parse_separator(data: bytes) -> JsonObject | None:
    """Spec: PFP EV_SEPARATOR - the UINT32 separator value, or None if not 4 octets."""
    if len(data) != 4:
        return None
    return {"kind": "separator", "value": u32(data, 0)}
