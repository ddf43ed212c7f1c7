"""Linux IMA measurement lists: parse (binary and ASCII), check template hashes, replay, verify.

Spec: LINUX-IMA security/integrity/ima - the lists the kernel shows in securityfs
(ima_fs.c), the template fields (ima_template.c, ima_template_lib.c), the template hash
(ima_crypto.c), violations (ima_api.c) and the PCR extend (ima_queue.c), with the names,
codes and JSON shapes of docs/adr/0003-ima-contract.md (PROJECT adr.0003).
`chainoftrust.impl.ima` is read independently.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from chainoftrust.spec.errors import ErrorCode, MalformedInputError
from chainoftrust.spec.hashes import (
    HashAlg,
    compute_digest,
    digest_size,
    hash_alg_from_name,
    hash_alg_name,
)

JsonObject = dict[str, object]

#: LINUX-IMA ima_fs.c ima_measurements_show: the template hash is TPM_DIGEST_SIZE (SHA-1) octets.
TPM_DIGEST_SIZE: Final = 20
#: LINUX-IMA ima.h IMA_EVENT_NAME_LEN_MAX: the legacy `n` field holds at most 255 octets.
IMA_EVENT_NAME_LEN_MAX: Final = 255
#: ADR 0003: a template name is at most TCG_EVENT_NAME_LEN_MAX (255) octets.
TCG_EVENT_NAME_LEN_MAX: Final = 255
#: LINUX-IMA ima.h IMA_TEMPLATE_IMA_NAME: the legacy template, shown without template_data_len.
IMA_TEMPLATE_IMA_NAME: Final = "ima"
#: LINUX-IMA ima_template.c builtin_templates: template name -> its fields, in order.
TEMPLATE_FIELDS: Final[Mapping[str, tuple[str, ...]]] = {
    "ima": ("d", "n"),
    "ima-ng": ("d-ng", "n-ng"),
    "ima-sig": ("d-ng", "n-ng", "sig"),
    "ima-buf": ("d-ng", "n-ng", "buf"),
    "ima-modsig": ("d-ng", "n-ng", "sig", "d-modsig", "modsig"),
}
#: LINUX-IMA ima_template_lib.c ima_eventsig_init / ima_eventbuf_init /
#: ima_eventdigest_modsig_init / ima_eventmodsig_init may leave these fields empty.
OPTIONAL_FIELDS: Final = frozenset({"sig", "buf", "d-modsig", "modsig"})
#: PTP: a PC Client TPM has PCR 0..23 (the range of supplied PCR values).
PCR_COUNT: Final = 24

_HEX: Final = re.compile(r"(?:[0-9a-f]{2})*")
_DECIMAL: Final = re.compile(r"[0-9]{1,10}")


def _u32(raw: bytes) -> int:
    """A little-endian u32 (LINUX-IMA ima_fs.c: ima_canonical_fmt, and x86)."""
    return int.from_bytes(raw, "little")


def _le32(value: int) -> bytes:
    return value.to_bytes(4, "little")


def _text(raw: bytes) -> str:
    """Names as str: UTF-8, undecodable octets kept as surrogates (lossless both ways)."""
    return raw.decode("utf-8", "surrogateescape")


def _c_string(raw: bytes) -> bytes:
    """What `%s` shows of a field (LINUX-IMA ima_template_lib.c DATA_FMT_STRING): up to NUL."""
    end = raw.find(b"\x00")
    return raw if end < 0 else raw[:end]


@dataclass(frozen=True, slots=True)
class ImaFields:
    """The parsed fields of a known template (ADR 0003 `fields`)."""

    digest_alg: str
    digest: bytes
    name: str
    signature: bytes | None
    buffer: bytes | None

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - the `fields` JSON of an entry."""
        return {
            "digestAlg": self.digest_alg,
            "digest": self.digest.hex(),
            "name": self.name,
            "signature": None if self.signature is None else self.signature.hex(),
            "buffer": None if self.buffer is None else self.buffer.hex(),
        }


@dataclass(frozen=True, slots=True)
class ImaEntry:
    """One measurement: `offset` is the octet offset (binary) or the 0-based line (ASCII)."""

    index: int
    offset: int
    pcr: int
    template_hash: bytes
    template_name: str
    template_data: bytes
    violation: bool
    fields: ImaFields | None

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - the JSON of one entry."""
        return {
            "index": self.index,
            "pcr": self.pcr,
            "templateHash": self.template_hash.hex(),
            "templateName": self.template_name,
            "templateData": self.template_data.hex(),
            "violation": self.violation,
            "fields": None if self.fields is None else self.fields.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ImaLog:
    """A parsed list; `tail` counts the octets after the last complete binary entry."""

    entries: tuple[ImaEntry, ...]
    tail: int = 0


# ---------------------------------------------------------------- template data


def _invalid_data(message: str, field: str, offset: int) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.IMA_INVALID_TEMPLATE_DATA, message, field=field, offset=offset
    )


def _split_fields(data: bytes, count: int, where: str, offset: int) -> list[bytes]:
    """Spec: LINUX-IMA ima_template_lib.c ima_parse_buf - `u32 len || data` per field.

    Steps (as the kernel restores template data, ENFORCE_FIELDS | ENFORCE_BUFEND):
      (1) each field's length is read, then checked against the octets left;
      (2) exactly `count` fields, and they end where the template data ends.
    """
    fields: list[bytes] = []
    pos = 0
    for k in range(count):
        field = f"{where}.templateData.fields[{k}]"
        # (1)
        if len(data) - pos < 4:
            raise _invalid_data(f"field {k} length missing", field, offset)
        size = _u32(data[pos : pos + 4])
        if size > len(data) - pos - 4:
            raise _invalid_data(f"field {k} length {size} overruns the data", field, offset)
        fields.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    # (2)
    if pos != len(data):
        raise _invalid_data(f"{len(data) - pos} octets after the last field", where, offset)
    return fields


def _split_digest_ng(value: bytes, field: str, offset: int) -> tuple[str, bytes]:
    """Spec: LINUX-IMA ima_template_lib.c ima_eventdigest_init_common - `<algo>:` NUL digest.

    Steps:
      (1) the first NUL ends the prefix, which ends with ':' (DATA_FMT_DIGEST_WITH_ALGO);
      (2) the algorithm is the non-empty text before that ':' (ADR 0003 amendment 1
          item 9), the digest every octet after the NUL.
    """
    # (1)
    nul = value.find(b"\x00")
    if nul < 2 or value[nul - 1 : nul] != b":":
        raise _invalid_data("d-ng field without '<alg>:' and NUL", field, offset)
    if b":" in value[: nul - 1]:  # no hash algorithm name holds ':' (ADR 0003 am. 1 item 13)
        raise _invalid_data("d-ng algorithm name holds ':'", field, offset)
    # (2)
    return _text(value[: nul - 1]), value[nul + 1 :]


def _known_fields(name: str, parts: list[bytes], where: str, offset: int) -> ImaFields:
    """Spec: LINUX-IMA ima_template.c supported_fields - the meaning of each known field.

    Steps:
      (1) `ima`: `d` is a SHA-1 digest, `n` the name;
      (2) others: `d-ng` gives algorithm and digest, `n-ng` the name (as `%s` shows it),
          `sig` the signature, `buf` the buffer (absent from the template: None);
      (3) a non-empty `d-modsig` has the `d-ng` form.
    """
    by_id = dict(zip(TEMPLATE_FIELDS[name], parts, strict=True))
    # (1)
    if name == IMA_TEMPLATE_IMA_NAME:
        return ImaFields("sha1", by_id["d"], _text(_c_string(by_id["n"])), None, None)
    # (2)
    alg, digest = _split_digest_ng(by_id["d-ng"], f"{where}.templateData.fields[0]", offset)
    # (3)
    if by_id.get("d-modsig"):
        _split_digest_ng(by_id["d-modsig"], f"{where}.templateData.fields[3]", offset)
    label = _text(_c_string(by_id["n-ng"]))
    return ImaFields(alg, digest, label, by_id.get("sig"), by_id.get("buf"))


def _ima_parts(data: bytes) -> list[bytes]:
    """The `d` and `n` of an `ima` entry's template data (d[20] || u32 len || name)."""
    return [data[:TPM_DIGEST_SIZE], data[TPM_DIGEST_SIZE + 4 :]]


def hashed_template_data(entry: ImaEntry) -> bytes:
    """Spec: LINUX-IMA ima_crypto.c ima_calc_field_array_hash_tfm - the octets hashed.

    Steps:
      (1) `ima`: the digest, then the name zero-padded to IMA_EVENT_NAME_LEN_MAX + 1 octets;
      (2) any other template: the template data as listed (`u32 len || data` per field).
    """
    # (1)
    if entry.template_name == IMA_TEMPLATE_IMA_NAME:
        digest, name = _ima_parts(entry.template_data)
        return digest + name.ljust(IMA_EVENT_NAME_LEN_MAX + 1, b"\x00")
    # (2)
    return entry.template_data


# ---------------------------------------------------------------- binary list


def _take(data: bytes, pos: int, size: int, field: str, start: int) -> bytes:
    """`size` octets at `pos`, checked against what is there before anything is taken."""
    if size > len(data) - pos:
        raise MalformedInputError(
            ErrorCode.TRUNCATED,
            f"{field}: {size} octets needed, {max(len(data) - pos, 0)} left",
            field=field,
            offset=start,
        )
    return data[pos : pos + size]


def _ima_template_data(data: bytes, pos: int, where: str, start: int) -> tuple[bytes, int]:
    """Spec: LINUX-IMA ima_fs.c ima_measurements_show - the `ima` template's data.

    Steps:
      (1) `d` with no length (IMA_SHOW_BINARY_NO_FIELD_LEN): TPM_DIGEST_SIZE octets;
      (2) `n` as u32 strlen then the name (IMA_SHOW_BINARY_OLD_STRING_FMT), at most
          IMA_EVENT_NAME_LEN_MAX octets; the result is d || u32 len || name.
    """
    # (1)
    digest = _take(data, pos, TPM_DIGEST_SIZE, f"{where}.templateData.d", start)
    # (2)
    raw_len = _take(data, pos + TPM_DIGEST_SIZE, 4, f"{where}.templateData.n", start)
    size = _u32(raw_len)
    if size > IMA_EVENT_NAME_LEN_MAX:
        raise _invalid_data(f"ima name length {size} > 255", f"{where}.templateData.n", start)
    name = _take(data, pos + TPM_DIGEST_SIZE + 4, size, f"{where}.templateData.n", start)
    return digest + raw_len + name, pos + TPM_DIGEST_SIZE + 4 + size


def _parse_binary_entry(data: bytes, start: int, index: int) -> tuple[ImaEntry, int]:
    """Spec: LINUX-IMA ima_fs.c ima_measurements_show - one entry of the binary list.

    Steps:
      (1) u32 pcr, the SHA-1 template hash, u32 template name length (<= 255), the name;
      (2) `ima`: its fixed fields; any other template: u32 template_data_len, checked
          against the octets left, then the template data;
      (3) a known template's fields are parsed; an unknown one keeps `fields` None;
      (4) a template hash of zeros marks a violation (ima_api.c ima_add_violation).
    """
    where = f"entries[{index}]"
    # (1)
    pcr = _u32(_take(data, start, 4, f"{where}.pcr", start))
    template_hash = _take(data, start + 4, TPM_DIGEST_SIZE, f"{where}.templateHash", start)
    name_len = _u32(_take(data, start + 24, 4, f"{where}.nameLen", start))
    if name_len > TCG_EVENT_NAME_LEN_MAX:
        raise MalformedInputError(
            ErrorCode.IMA_UNKNOWN_TEMPLATE,
            f"template name length {name_len} > 255 (ADR 0003 amendment 1 item 2)",
            field=f"{where}.nameLen",
            offset=start,
        )
    name = _text(_take(data, start + 28, name_len, f"{where}.templateName", start))
    pos = start + 28 + name_len
    # (2)
    if name == IMA_TEMPLATE_IMA_NAME:
        template_data, pos = _ima_template_data(data, pos, where, start)
        parts = _ima_parts(template_data)
    else:
        size = _u32(_take(data, pos, 4, f"{where}.templateDataLen", start))
        template_data = _take(data, pos + 4, size, f"{where}.templateData", start)
        pos += 4 + size
        count = len(TEMPLATE_FIELDS.get(name, ()))
        parts = _split_fields(template_data, count, where, start) if count else []
    # (3)
    fields = _known_fields(name, parts, where, start) if name in TEMPLATE_FIELDS else None
    # (4)
    violation = template_hash == bytes(TPM_DIGEST_SIZE)
    entry = ImaEntry(index, start, pcr, template_hash, name, template_data, violation, fields)
    return entry, pos


def parse_ima_binary(data: bytes, *, allow_partial_tail: bool = False) -> ImaLog:
    """Spec: LINUX-IMA ima_fs.c ima_measurements_show - binary_runtime_measurements.

    Steps:
      (1) entries follow one another to the end of the data;
      (2) an entry that runs past the end is TRUNCATED at its start; with
          `allow_partial_tail` the complete entries are kept and `tail` counts the rest.
    """
    data = bytes(data)
    entries: list[ImaEntry] = []
    pos = 0
    # (1)
    while pos < len(data):
        try:
            entry, after = _parse_binary_entry(data, pos, len(entries))
        except MalformedInputError as error:
            # (2)
            if allow_partial_tail and error.code == ErrorCode.TRUNCATED:
                return ImaLog(tuple(entries), len(data) - pos)
            raise
        entries.append(entry)
        pos = after
    return ImaLog(tuple(entries), 0)


# ---------------------------------------------------------------- ASCII list


def _invalid_line(index: int, message: str) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.IMA_INVALID_LINE, message, field=f"lines[{index}]", offset=index
    )


def _hex_token(token: str, index: int, what: str) -> bytes:
    """Octets printed by ima_fs.c ima_print_digest (`%02x`: lowercase pairs)."""
    if _HEX.fullmatch(token) is None:
        raise _invalid_line(index, f"{what} is not lowercase hex")
    return bytes.fromhex(token)


def _name_token(token: str, index: int) -> bytes:
    """A name as `%s` printed it: no NUL (a C string), encoded back losslessly."""
    try:
        raw = token.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as error:
        raise _invalid_line(index, "name is not encodable") from error
    if b"\x00" in raw:
        raise _invalid_line(index, "name holds a NUL")
    return raw


def _field_from_token(field_id: str, token: str, index: int) -> bytes:
    """Spec: LINUX-IMA ima_template_lib.c ima_show_template_data_ascii - a field back to octets.

    Steps:
      (1) `d`: 20 octets of hex; `n`: the name (at most 255 octets), as shown;
      (2) `d-ng` / `d-modsig`: `<alg>:hex`, the algorithm a non-empty printable name
          before the last ':' (ADR 0003 amendment 1 item 5), back to `<alg>:` NUL digest;
          an empty `d-modsig` is an empty field;
      (3) `n-ng`: the name and its NUL; `sig` / `buf` / `modsig`: hex, possibly empty.
    """
    # (1)
    if field_id == "d":
        digest = _hex_token(token, index, "d")
        if len(digest) != TPM_DIGEST_SIZE:
            raise _invalid_line(index, "d is not 20 octets")
        return digest
    if field_id == "n":
        name = _name_token(token, index)
        if len(name) > IMA_EVENT_NAME_LEN_MAX:
            raise _invalid_line(index, "ima name longer than 255 octets")
        return name
    # (2)
    if field_id in {"d-ng", "d-modsig"}:
        if not token:
            if field_id == "d-ng":
                raise _invalid_line(index, "empty d-ng")
            return b""
        alg, colon, hex_part = token.rpartition(":")
        bad_alg = ":" in alg or not (alg.isascii() and alg.isprintable())  # items 5, 13
        if not colon or not alg or bad_alg:
            raise _invalid_line(index, f"{field_id} is not <printable alg>:hex")
        return _name_token(alg, index) + b":\x00" + _hex_token(hex_part, index, field_id)
    # (3)
    if field_id == "n-ng":
        return _name_token(token, index) + b"\x00"
    return _hex_token(token, index, field_id)


def _listed_template_data(name: str, values: list[bytes]) -> bytes:
    """Template data as the binary list holds it: `ima` d || u32 len || name, else fields."""
    if name == IMA_TEMPLATE_IMA_NAME:
        return values[0] + _le32(len(values[1])) + values[1]
    return b"".join(_le32(len(v)) + v for v in values)


def _parse_ascii_line(line: str, index: int, entry_index: int) -> ImaEntry:
    """Spec: LINUX-IMA ima_fs.c ima_ascii_measurements_show - one line of the ASCII list.

    `index` is the 0-based line number (`lines[i]`, offset), `entry_index` the entry's.

    Steps:
      (1) leading spaces (`%2d`), PCR, 40 hex template hash, template name, then one
          ' '-led token per field;
      (2) the name is a known template, else IMA_UNKNOWN_TEMPLATE;
      (3) no more tokens than fields; missing trailing tokens only for fields the kernel
          may leave empty (OPTIONAL_FIELDS), which are then empty;
      (4) the template data is rebuilt as the binary list holds it.
    """
    # (1)
    parts = line.lstrip(" ").split(" ")
    if len(parts) < 3 or _DECIMAL.fullmatch(parts[0]) is None or int(parts[0]) > 0xFFFFFFFF:
        raise _invalid_line(index, "expected 'PCR TEMPLATE_HASH TEMPLATE_NAME FIELDS...'")
    template_hash = _hex_token(parts[1], index, "template hash")
    if len(template_hash) != TPM_DIGEST_SIZE:
        raise _invalid_line(index, "template hash is not 20 octets")
    name, tokens = parts[2], parts[3:]
    # (2)
    if name not in TEMPLATE_FIELDS:
        where = f"lines[{index}]"
        error = ErrorCode.IMA_UNKNOWN_TEMPLATE
        raise MalformedInputError(error, f"template {name!r}", field=where, offset=index)
    field_ids = TEMPLATE_FIELDS[name]
    # (3)
    if len(tokens) > len(field_ids) or not set(field_ids[len(tokens) :]) <= OPTIONAL_FIELDS:
        raise _invalid_line(index, f"{len(tokens)} fields for template {name}")
    tokens += [""] * (len(field_ids) - len(tokens))
    values = [_field_from_token(f, t, index) for f, t in zip(field_ids, tokens, strict=True)]
    # (4)
    template_data = _listed_template_data(name, values)
    fields = _known_fields(name, values, f"lines[{index}]", index)
    violation = template_hash == bytes(TPM_DIGEST_SIZE)
    pcr = int(parts[0])
    return ImaEntry(entry_index, index, pcr, template_hash, name, template_data, violation, fields)


def parse_ima_ascii(text: str) -> ImaLog:
    """Spec: LINUX-IMA ima_fs.c ima_ascii_measurements_show - ascii_runtime_measurements.

    Steps:
      (1) lines end with '\\n' (the last one's may be missing); empty lines are skipped
          (ADR 0003 amendment 1 item 5);
      (2) every other line is one entry, or IMA_INVALID_LINE names it by its 0-based line
          number (`lines[i]`, offset i).
    """
    entries: list[ImaEntry] = []
    for number, line in enumerate(text.split("\n")):
        # (1)
        if line == "":
            continue
        # (2)
        entries.append(_parse_ascii_line(line, number, len(entries)))
    return ImaLog(tuple(entries), 0)


# ---------------------------------------------------------------- hashes, replay


def check_template_hashes(log: ImaLog) -> tuple[int, ...]:
    """Spec: LINUX-IMA ima_crypto.c ima_calc_field_array_hash_tfm - template hash checks.

    Steps:
      (1) violations are skipped (their hash is zeros by ima_api.c ima_add_violation);
      (2) any other entry whose SHA-1 over the hashed template data differs from its
          template hash is reported, by index.
    """
    failures = []
    for entry in log.entries:
        # (1)
        if entry.violation:
            continue
        # (2)
        if compute_digest(HashAlg.SHA1, hashed_template_data(entry)) != entry.template_hash:
            failures.append(entry.index)
    return tuple(failures)


@dataclass(frozen=True, slots=True)
class ImaWarning:
    """A replay warning (ADR 0003 amendment 1 item 1: code, entry index, message)."""

    code: ErrorCode
    entry: int | None
    message: str

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - a replay warning."""
        return {"code": str(self.code), "entry": self.entry, "message": self.message}


@dataclass(frozen=True, slots=True)
class ImaReplay:
    """PCR values per bank for the PCRs the entries name."""

    pcrs: Mapping[HashAlg, Mapping[int, bytes]]
    entries: int
    violations: int
    template_hash_failures: tuple[int, ...]
    warnings: tuple[ImaWarning, ...]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - the ImaReplay JSON (banks by TPM_ALG_ID, PCRs ascending)."""
        return {
            "pcrs": {
                hash_alg_name(bank): {str(p): v.hex() for p, v in sorted(values.items())}
                for bank, values in sorted(self.pcrs.items())
            },
            "entries": self.entries,
            "violations": self.violations,
            "templateHashFailures": list(self.template_hash_failures),
            "warnings": [w.to_json() for w in self.warnings],
        }


def _banks(names: Sequence[str]) -> tuple[HashAlg, ...]:
    """Spec: PROJECT adr.0003 - replay banks: at least one, each known, each once."""
    if not names:
        raise MalformedInputError(ErrorCode.NO_BANKS, "no banks to replay", field="banks")
    banks: list[HashAlg] = []
    for name in names:
        bank = hash_alg_from_name(name)
        if bank in banks:
            raise MalformedInputError(ErrorCode.DUPLICATE_BANK, f"bank {name} twice", field="banks")
        banks.append(bank)
    return tuple(banks)


def extend_digest(entry: ImaEntry, bank: HashAlg) -> bytes:
    """Spec: LINUX-IMA ima_queue.c ima_add_template_entry - what an entry extends a bank with.

    Steps:
      (1) a violation: all 0xff of the bank's size (ima_init_digests), the PCR invalidated;
      (2) SHA-1: the template hash as logged;
      (3) any other bank: that bank's hash over the hashed template data
          (ima_crypto.c ima_calc_field_array_hash).
    """
    # (1)
    if entry.violation:
        return b"\xff" * digest_size(bank)
    # (2)
    if bank == HashAlg.SHA1:
        return entry.template_hash
    # (3)
    return compute_digest(bank, hashed_template_data(entry))


def _replay_prefixes(
    entries: Sequence[ImaEntry], banks: tuple[HashAlg, ...]
) -> Iterator[dict[HashAlg, dict[int, bytes]]]:
    """The PCR values after 0, 1, ..., n entries (one mutable dict, updated in place).

    TPM2-P3 TPM2_PCR_Extend: new = H(old || digest); a PCR starts at zero when first named.
    """
    values: dict[HashAlg, dict[int, bytes]] = {bank: {} for bank in banks}
    yield values
    for entry in entries:
        for bank in banks:
            old = values[bank].get(entry.pcr, bytes(digest_size(bank)))
            values[bank][entry.pcr] = compute_digest(bank, old + extend_digest(entry, bank))
        yield values


def replay_ima(log: ImaLog, banks: Sequence[str] = ("sha1", "sha256")) -> ImaReplay:
    """Spec: LINUX-IMA ima_queue.c ima_pcr_extend - replay the list into PCR banks.

    Steps:
      (1) the banks are known names, each once;
      (2) template hashes are checked (a failure is reported and still replayed);
      (3) every entry extends its PCR in every bank, in list order (extend_digest);
      (4) an unknown template is replayed from its template data, with a warning.
    """
    # (1)
    chosen = _banks(banks)
    # (2)
    failures = check_template_hashes(log)
    # (3)
    final: dict[HashAlg, dict[int, bytes]] = {}
    for values in _replay_prefixes(log.entries, chosen):
        final = values
    # (4)
    warnings = tuple(
        ImaWarning(
            ErrorCode.IMA_UNKNOWN_TEMPLATE,
            e.index,
            f"template {e.template_name!r} unknown: fields not parsed, template data hashed as is",
        )
        for e in log.entries
        if e.fields is None
    )
    violations = sum(1 for e in log.entries if e.violation)
    return ImaReplay(final, len(log.entries), violations, failures, warnings)


# ---------------------------------------------------------------- verify


class ImaResult(enum.StrEnum):
    """ADR 0003 verdict result."""

    MATCH = "match"
    MISMATCH = "mismatch"


@dataclass(frozen=True, slots=True)
class ImaPcrCheck:
    """One supplied PCR value and the value the list replays to (at the matched prefix)."""

    bank: HashAlg
    pcr: int
    expected: bytes
    replayed: bytes | None

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - a verdict row (replayed null: no entry names the PCR)."""
        return {
            "bank": hash_alg_name(self.bank),
            "pcr": self.pcr,
            "expected": self.expected.hex(),
            "replayed": None if self.replayed is None else self.replayed.hex(),
        }


@dataclass(frozen=True, slots=True)
class ImaVerdict:
    """What the list asserts about supplied PCR values, and nothing more."""

    result: ImaResult
    matched_entries: int | None
    pcrs: tuple[ImaPcrCheck, ...]
    template_hash_failures: tuple[int, ...]
    claims: tuple[str, ...]

    def to_json(self) -> JsonObject:
        """Spec: PROJECT adr.0003 - the ImaVerdict JSON."""
        return {
            "result": str(self.result),
            "matchedEntries": self.matched_entries,
            "pcrs": [row.to_json() for row in self.pcrs],
            "templateHashFailures": list(self.template_hash_failures),
            "claims": list(self.claims),
        }


def _supplied(pcrs: Mapping[str, Mapping[int, bytes]]) -> dict[HashAlg, dict[int, bytes]]:
    """Spec: PROJECT adr.0003 - supplied PCR values: known banks, PCR 0-23, right sizes.

    Steps:
      (1) each bank is a known hash algorithm name;
      (2) each index is 0-23 and each value has the bank's digest size;
      (3) at least one value is supplied.
    """
    checked: dict[HashAlg, dict[int, bytes]] = {}
    for name, values in pcrs.items():
        # (1)
        bank = hash_alg_from_name(name)
        checked[bank] = {}
        for pcr, value in values.items():
            # (2)
            field = f"pcrs.{name}.{pcr}"
            if isinstance(pcr, bool) or not isinstance(pcr, int) or not 0 <= pcr < PCR_COUNT:
                raise MalformedInputError(
                    ErrorCode.INVALID_PCR_VALUES, f"PCR {pcr!r} is not 0-23", field=field
                )
            if not isinstance(value, bytes) or len(value) != digest_size(bank):
                raise MalformedInputError(
                    ErrorCode.DIGEST_SIZE_MISMATCH, f"{name} value size", field=field
                )
            checked[bank][pcr] = value
    # (3)
    if not any(checked.values()):
        raise MalformedInputError(ErrorCode.INVALID_PCR_VALUES, "no PCR values", field="pcrs")
    return checked


def _rows(
    supplied: dict[HashAlg, dict[int, bytes]],
    values: dict[HashAlg, dict[int, bytes]],
    named: frozenset[int],
) -> tuple[ImaPcrCheck, ...]:
    """One row per supplied value (banks by TPM_ALG_ID, PCRs ascending). A PCR no entry
    of the list names is not compared (replayed None); one the prefix has not extended
    yet is zero (ADR 0003 amendment 1 item 7)."""
    return tuple(
        ImaPcrCheck(
            bank,
            pcr,
            expected,
            values[bank].get(pcr, bytes(digest_size(bank))) if pcr in named else None,
        )
        for bank in sorted(supplied)
        for pcr, expected in sorted(supplied[bank].items())
    )


def _verdict_claims(
    log: ImaLog, rows: tuple[ImaPcrCheck, ...], matched: int | None, failures: tuple[int, ...]
) -> tuple[str, ...]:
    """Spec: PROJECT adr.0003 - the verdict's scope, in words (never "trusted")."""
    total = len(log.entries)
    compared = [r for r in rows if r.replayed is not None]
    values = ", ".join(f"{hash_alg_name(r.bank)} PCR {r.pcr}" for r in compared)
    if not compared:
        claims = ["no supplied PCR is named by any entry: nothing was compared"]
    elif matched is not None:
        claims = [f"the first {matched} of {total} entries replay to the supplied {values}"]
    else:
        claims = [f"no prefix of the {total} entries replays to the supplied {values}"]
    if matched is not None and matched < total:
        claims.append(f"entries {matched}..{total - 1} are not covered by the PCR values")
    claims.extend(
        f"{hash_alg_name(r.bank)} PCR {r.pcr} is named by no entry: not verified"
        for r in rows
        if r.replayed is None
    )
    if failures:
        claims.append(f"template hashes do not match their data at entries {list(failures)}")
    violations = sum(1 for e in log.entries if e.violation)
    claims.append(
        f"{violations} violation entries; the PCR binds template hashes and template data "
        "only, never the measured files themselves"
    )
    return tuple(claims)


def verify_ima(log: ImaLog, pcrs: Mapping[str, Mapping[int, bytes]]) -> ImaVerdict:
    """Spec: PROJECT adr.0003 - the shortest prefix of the list that explains PCR values.

    Steps:
      (1) check the supplied values;
      (2) check the template hashes;
      (3) replay prefixes of 0, 1, ..., n entries in the supplied banks; the first whose
          values equal every supplied value is the match (the list may have grown after
          the PCRs were read: RESEARCH.md A.8);
      (4) `match` only with such a prefix and no template-hash failure; the rows show the
          matched prefix, or the whole list when none matched.
    """
    # (1)
    supplied = _supplied(pcrs)
    # (2)
    failures = check_template_hashes(log)
    # (3)
    named = frozenset(e.pcr for e in log.entries)
    matched: int | None = None
    rows: tuple[ImaPcrCheck, ...] = ()
    for count, values in enumerate(_replay_prefixes(log.entries, tuple(sorted(supplied)))):
        rows = _rows(supplied, values, named)
        compared = [row for row in rows if row.replayed is not None]
        if compared and all(row.replayed == row.expected for row in compared):
            matched = count
            break
    # (4)
    result = ImaResult.MATCH if matched is not None and not failures else ImaResult.MISMATCH
    claims = _verdict_claims(log, rows, matched, failures)
    shown = matched if result == ImaResult.MATCH else None
    return ImaVerdict(result, shown, rows, failures, claims)
