"""Linux IMA measurement lists: entries, and the binary and ASCII parsers.

Contract: docs/adr/0003-ima-contract.md. Sources (torvalds/linux
security/integrity/ima/): ima_fs.c `ima_measurements_show` (binary entry: u32 pcr,
20-byte template hash, u32 name length, name, then u32 template data length and the
data, except for `ima`, whose `d` is shown raw and whose `n` as u32 strlen || chars),
`ima_ascii_measurements_show` ("%2d " pcr, hex template hash, name, then one space and
the field per field, nothing for an empty field); ima_template.c (the built-in
templates and their fields); ima_template_lib.c (d-ng = "<alg>:" NUL digest, strings
stored with their NUL, `ima_parse_buf` requires the exact field count and the exact end).
The binary parser is one pass with struct.unpack_from; every declared length is checked
against the bytes that remain before anything is sliced, so a declared 4 GiB allocates
nothing.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Any

from chainoftrust.impl.errors import ErrorCode, MalformedInputError

HASH_SIZE = 20  # TPM_DIGEST_SIZE: the template hash is SHA-1
NAME_LEN_MAX = 255  # TCG_EVENT_NAME_LEN_MAX (ima.h), per the ADR
EVENT_NAME_LEN_MAX = 255  # IMA_EVENT_NAME_LEN_MAX (ima.h): the `ima` template's `n`
IMA_NAME_PAD = EVENT_NAME_LEN_MAX + 1  # the `n` field is hashed zero-padded to this
ZERO_HASH = bytes(HASH_SIZE)

# ima_template.c builtin_templates: name -> fields (only the ADR's five are known)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "ima": ("d", "n"),
    "ima-ng": ("d-ng", "n-ng"),
    "ima-sig": ("d-ng", "n-ng", "sig"),
    "ima-buf": ("d-ng", "n-ng", "buf"),
    "ima-modsig": ("d-ng", "n-ng", "sig", "d-modsig", "modsig"),
}
_KNOWN_BYTES: dict[bytes, str] = {name.encode(): name for name in TEMPLATES}

_HEADER = struct.Struct("<I20sI")  # pcr, template hash, template name length
_U32 = struct.Struct("<I")
_unpack_header = _HEADER.unpack_from
_unpack_u32 = _U32.unpack_from
_pack_u32 = _U32.pack


def _text(raw: bytes) -> str:
    """Bytes of a name as text; undecodable bytes survive as surrogates (round trip)."""
    return raw.decode("utf-8", "surrogateescape")


def ima_hashed_data(template_data: bytes) -> bytes:
    """The bytes the kernel hashes for an `ima` entry: d (20 bytes) || n zero-padded to
    256 (ima_crypto.c ima_calc_field_array_hash_tfm), from the shown d || u32 len || n."""
    name = template_data[HASH_SIZE + 4 :]
    return template_data[:HASH_SIZE] + name + bytes(IMA_NAME_PAD - len(name))


def split_fields(data: bytes, count: int) -> list[bytes] | None:
    """`count` fields `u32 len || data` filling `data` exactly (ima_parse_buf with
    ENFORCE_FIELDS | ENFORCE_BUFEND); None when they do not."""
    fields = []
    pos = 0
    end = len(data)
    for _ in range(count):
        if end - pos < 4:
            return None
        (length,) = _unpack_u32(data, pos)
        pos += 4
        if length > end - pos:
            return None
        fields.append(data[pos : pos + length])
        pos += length
    return fields if pos == end else None


def _digest_ng(field: bytes) -> tuple[str, bytes] | None:
    """A d-ng / d-modsig field `<alg>:` NUL digest as (alg, digest); None if malformed."""
    colon = field.find(b":")
    if colon < 1 or field[colon + 1 : colon + 2] != b"\x00" or b"\x00" in field[:colon]:
        return None
    return _text(field[:colon]), field[colon + 2 :]


def _string(field: bytes) -> str:
    """A string field as the kernel shows it ("%s": up to the first NUL)."""
    nul = field.find(b"\x00")
    return _text(field if nul < 0 else field[:nul])


def _fields_json(name: str, data: bytes) -> dict[str, Any] | None:
    """The ADR's `fields` object of a known template's (already validated) data."""
    if name == "ima":
        return {
            "digestAlg": "sha1",
            "digest": data[:HASH_SIZE].hex(),
            "name": _string(data[HASH_SIZE + 4 :]),  # shown up to NUL (ADR 0003 am. 1 item 11)
            "signature": None,
            "buffer": None,
        }
    ids = TEMPLATES.get(name)
    parts = None if ids is None else split_fields(data, len(ids))
    if ids is None or parts is None:
        return None
    digest = _digest_ng(parts[0])
    if digest is None:
        return None
    out: dict[str, Any] = {
        "digestAlg": digest[0],
        "digest": digest[1].hex(),
        "name": _string(parts[1]),
        "signature": None,
        "buffer": None,
    }
    if "sig" in ids:
        out["signature"] = parts[2].hex()
    if "buf" in ids:
        out["buffer"] = parts[2].hex()
    return out


@dataclass(frozen=True, slots=True)
class ImaEntry:
    """One measurement: `offset` is the byte offset (binary) or line index (ASCII);
    `template_data` is what the kernel hashes for non-`ima` templates (each field as
    u32 len || data) and, for `ima`, d (20 bytes) || u32 len || n as the kernel shows it."""

    index: int
    offset: int
    pcr: int
    template_hash: bytes
    template_name: str
    template_data: bytes
    violation: bool

    @property
    def fields(self) -> dict[str, Any] | None:
        """The decoded fields of a known template; None for an unknown one."""
        return _fields_json(self.template_name, self.template_data)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "pcr": self.pcr,
            "templateHash": self.template_hash.hex(),
            "templateName": self.template_name,
            "templateData": self.template_data.hex(),
            "violation": self.violation,
            "fields": self.fields,
        }


@dataclass(frozen=True, slots=True)
class ImaLog:
    """A parsed list. `tail` counts the bytes after the last complete entry (binary with
    allow_partial_tail; otherwise 0); `format` is "binary" or "ascii"."""

    entries: tuple[ImaEntry, ...]
    tail: int
    format: str

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "entries": [e.to_json() for e in self.entries],
            "tail": self.tail,
        }


def _truncated(index: int, start: int, field: str) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.TRUNCATED,
        f"entry {index} ends before its {field}",
        field=f"entries[{index}].{field}",
        offset=start,
    )


def _bad_data(index: int, offset: int, field: str, message: str) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.IMA_INVALID_TEMPLATE_DATA,
        f"entry {index}: {message}",
        field=f"entries[{index}].templateData.{field}",
        offset=offset,
    )


def _check_fields(name: str, data: bytes, index: int, base: int) -> None:
    """Validate a known non-`ima` template's data; `base` is its entry's offset (ADR 0003
    amendment 1 item 10: template-data errors point at the entry)."""
    ids = TEMPLATES[name]
    pos = 0
    end = len(data)
    for fid in ids:
        if end - pos < 4:
            raise _bad_data(index, base, fid, f"no length for field {fid}")
        (length,) = _unpack_u32(data, pos)
        if length > end - pos - 4:
            raise _bad_data(index, base, fid, f"field {fid} length {length} overruns")
        field = data[pos + 4 : pos + 4 + length]
        if (fid == "d-ng" or (fid == "d-modsig" and length)) and _digest_ng(field) is None:
            raise _bad_data(index, base, fid, f"{fid} field without '<alg>:' NUL")
        pos += 4 + length
    if pos != end:
        raise _bad_data(index, base, ids[-1], f"{end - pos} bytes after the last field")


def _fast_ok(buf: bytes, pos: int, end: int, count: int) -> bool:
    """The common case of (3) without slicing: d-ng first, then `count - 1` fields of any
    content, ending exactly at `end` (False sends the entry to `_check_fields`)."""
    if end - pos < 4:
        return False
    start = pos + 4
    pos = start + _unpack_u32(buf, pos)[0]
    if pos > end:
        return False
    colon = buf.find(58, start, pos)  # ':'
    if colon <= start or colon + 1 >= pos or buf[colon + 1] or buf.find(0, start, colon) >= 0:
        return False
    for _ in range(count - 1):
        if end - pos < 4:
            return False
        pos += 4 + _unpack_u32(buf, pos)[0]
    return pos == end


_FAST_COUNTS: dict[str, int] = {"ima-ng": 2, "ima-sig": 3, "ima-buf": 3}  # no d-modsig


def entry_at(buf: bytes, off: int, index: int, names: dict[bytes, str]) -> tuple[ImaEntry, int]:
    """(1)-(3) of parse_ima_binary for the entry at `off` of `buf`: the entry (its offset
    relative to `buf`) and the next entry's offset. `names` caches decoded template names.
    Raises TRUNCATED (offset = the entry's start) when `buf` ends inside it."""
    size = len(buf)
    start = off
    if size - off < 28:  # (1)
        raise _truncated(index, start, "header")
    pcr, thash, name_len = _unpack_header(buf, off)
    if name_len > NAME_LEN_MAX:
        raise MalformedInputError(  # ADR 0003 amendment 1, item 2
            ErrorCode.IMA_UNKNOWN_TEMPLATE,
            f"entry {index}: template name length {name_len} > {NAME_LEN_MAX}",
            field=f"entries[{index}].nameLen",
            offset=start,
        )
    off += 28
    if size - off < name_len:
        raise _truncated(index, start, "templateName")
    raw_name = buf[off : off + name_len]
    off += name_len
    name = names.get(raw_name)
    if name is None:
        name = names[raw_name] = _text(raw_name)
    if name == "ima":  # (2)
        if size - off < HASH_SIZE + 4:
            raise _truncated(index, start, "templateData")
        (n_len,) = _unpack_u32(buf, off + HASH_SIZE)
        if n_len > EVENT_NAME_LEN_MAX:
            raise _bad_data(index, start, "n", f"name length {n_len} > 255")
        end = off + HASH_SIZE + 4 + n_len
        if end > size:
            raise _truncated(index, start, "templateData")
        tdata = buf[off:end]
    else:
        if size - off < 4:
            raise _truncated(index, start, "templateDataLen")
        (t_len,) = _unpack_u32(buf, off)
        off += 4
        if t_len > size - off:
            raise _truncated(index, start, "templateData")
        end = off + t_len
        tdata = buf[off:end]
        count = _FAST_COUNTS.get(name)
        if (count is None or not _fast_ok(buf, off, end, count)) and name in TEMPLATES:
            _check_fields(name, tdata, index, start)  # (3)
    return ImaEntry(index, start, pcr, thash, name, tdata, thash == ZERO_HASH), end


def parse_ima_binary(data: bytes, *, allow_partial_tail: bool = False) -> ImaLog:
    """Parse binary_runtime_measurements (little-endian, ima_canonical_fmt).

    (1) Each entry: u32 pcr, template hash, u32 name length (<= 255), name. (2) `ima`:
    20-byte d, u32 n length (<= 255), n; any other: u32 length, data (checked against
    the remaining bytes first). (3) A known template's data splits into exactly its
    fields, d-ng being `<alg>:` NUL digest. (4) An incomplete last entry is TRUNCATED
    (offset = its start), or with allow_partial_tail ends the list and counts as `tail`.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInputError(
            ErrorCode.INVALID_DOCUMENT, "expected bytes", field="data", offset=0
        )
    buf = bytes(data)
    size = len(buf)
    entries: list[ImaEntry] = []
    append = entries.append
    names: dict[bytes, str] = dict(_KNOWN_BYTES)
    off = 0
    index = 0
    tail = 0
    try:
        while off < size:
            entry, off = entry_at(buf, off, index, names)
            append(entry)
            index += 1
    except MalformedInputError as exc:
        if not (allow_partial_tail and exc.code is ErrorCode.TRUNCATED):  # (4)
            raise
        tail = size - exc.offset if exc.offset is not None else 0
    return ImaLog(tuple(entries), tail, "binary")


# ---------------------------------------------------------------------------- ASCII

_PCR_TOKEN = re.compile(r"[0-9]{1,10}")
_HASH_TOKEN = re.compile(r"[0-9a-f]{40}")  # lowercase only, as the kernel prints it
_HEX_TOKEN = re.compile(r"(?:[0-9a-f]{2})*")
_ALG_TOKEN = re.compile(r"[!-9;-~]+")  # printable ASCII, no space or colon


class _LineError(Exception):
    """Internal: why a line cannot be parsed."""


def _hex(token: str, what: str) -> bytes:
    if _HEX_TOKEN.fullmatch(token) is None:
        raise _LineError(f"{what} is not hex: {token[:80]!r}")
    return bytes.fromhex(token)


def _name_bytes(token: str) -> bytes:
    try:
        raw = token.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise _LineError("name is not encodable text") from exc
    if b"\x00" in raw:
        raise _LineError("name contains NUL")
    return raw


def _ascii_digest_ng(token: str, what: str) -> bytes:
    alg, colon, hex_text = token.partition(":")
    if not colon or _ALG_TOKEN.fullmatch(alg) is None:
        raise _LineError(f"{what} is not '<alg>:<hex>': {token[:80]!r}")
    return alg.encode("ascii") + b":\x00" + _hex(hex_text, what)


def _rebuild(name: str, tokens: list[str]) -> bytes:
    """Template data from the ASCII fields (ima_show_template_data_ascii, reversed)."""
    ids = TEMPLATES[name]
    if not 2 <= len(tokens) <= len(ids) or (name in ("ima", "ima-ng") and len(tokens) != 2):
        raise _LineError(f"{name} has {len(ids)} fields, got {len(tokens)}")
    tokens = tokens + [""] * (len(ids) - len(tokens))  # absent trailing fields: empty
    if name == "ima":
        digest = _hex(tokens[0], "d")
        if len(digest) != HASH_SIZE:
            raise _LineError("d is not a 20-byte SHA-1 digest")
        raw = _name_bytes(tokens[1])
        if len(raw) > EVENT_NAME_LEN_MAX:
            raise _LineError("n is longer than 255 bytes")
        return digest + _pack_u32(len(raw)) + raw
    out = []
    for fid, token in zip(ids, tokens, strict=True):
        if fid == "d-ng" or (fid == "d-modsig" and token):
            field = _ascii_digest_ng(token, fid)
        elif fid == "n-ng":
            field = _name_bytes(token) + b"\x00"
        else:
            field = _hex(token, fid)
        out.append(_pack_u32(len(field)) + field)
    return b"".join(out)


def _parse_line(line: str, index: int, number: int) -> ImaEntry:
    tokens = line.lstrip(" ").split(" ")
    if len(tokens) < 3:
        raise _LineError("expected 'PCR TEMPLATE_HASH TEMPLATE_NAME FIELDS...'")
    pcr_text, hash_text, name = tokens[0], tokens[1], tokens[2]
    if _PCR_TOKEN.fullmatch(pcr_text) is None or int(pcr_text) > 0xFFFFFFFF:
        raise _LineError(f"PCR is not a 32-bit decimal: {pcr_text[:20]!r}")
    if _HASH_TOKEN.fullmatch(hash_text) is None:
        raise _LineError("template hash is not 40 hex digits")
    if name not in TEMPLATES:
        raise MalformedInputError(
            ErrorCode.IMA_UNKNOWN_TEMPLATE,
            f"line {number}: template {name[:80]!r} unknown: its fields cannot be rebuilt",
            field=f"lines[{number}]",
            offset=number,
        )
    thash = bytes.fromhex(hash_text)
    tdata = _rebuild(name, tokens[3:])
    return ImaEntry(index, number, int(pcr_text), thash, name, tdata, thash == ZERO_HASH)


def parse_ima_ascii(text: str) -> ImaLog:
    """Parse ascii_runtime_measurements: one entry per "\\n"-separated line (empty lines
    are skipped; leading spaces allowed, "%2d"), `PCR TEMPLATE_HASH TEMPLATE_NAME
    FIELDS...`, fields separated by exactly one space, hex lowercase only; the template
    data is rebuilt so that both forms give the same entries. Only ima-sig's sig,
    ima-buf's buf and ima-modsig's d-modsig and modsig may be missing at the end (then
    empty). A "\\r" is not a line end (the kernel writes "\\n" only): it stays in the
    last token. `offset` and `lines[i]` count lines from 0 (ADR 0003 amendment 1)."""
    if not isinstance(text, str):
        raise MalformedInputError(ErrorCode.INVALID_DOCUMENT, "expected text", field="text")
    entries: list[ImaEntry] = []
    for number, line in enumerate(text.split("\n")):
        if not line:
            continue
        try:
            entries.append(_parse_line(line, len(entries), number))
        except _LineError as exc:
            raise MalformedInputError(
                ErrorCode.IMA_INVALID_LINE,
                f"line {number}: {exc}",
                field=f"lines[{number}]",
                offset=number,
            ) from None
    return ImaLog(tuple(entries), 0, "ascii")
