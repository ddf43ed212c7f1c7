"""Hypothesis strategies that build Linux IMA measurement lists, binary and ASCII.

The builder here is written from the kernel's layout (security/integrity/ima: ima_fs.c
`ima_measurements_show` / `ima_ascii_measurements_show`, ima_template_lib.c field
init/show, ima_crypto.c `ima_calc_field_array_hash_tfm`, ima_api.c `ima_add_violation`,
ima_queue.c) and is independent of both `chainoftrust.spec` and `chainoftrust.impl`;
digests come from hashlib. Layout (little-endian, `ima_canonical_fmt`):

- binary entry: u32 pcr, u8 template_hash[20], u32 name_len, name, then for every
  template but `ima`: u32 template_data_len, template_data (each field `u32 len || data`);
  for `ima`: d (20 octets, no length), u32 strlen(n), n (no NUL).
- template hash: SHA-1 over the template data (`ima`: d || n zero-padded to 256 octets);
  all zero for a violation, which extends every bank with all-0xff.
- d-ng: `<alg>:` NUL digest; n-ng: the name and its NUL; sig, buf, modsig: raw octets;
  d-modsig: as d-ng, or empty.
- ASCII line: `%2d` pcr, ' ', lowercase hex template hash, ' ', name, then per field ' '
  and the field as shown (empty fields print nothing): d-ng `alg:hex`, names `%s`,
  the rest lowercase hex.

Entry points: `ima_list_models()` (an `ImaListModel`, which also replays itself with
hashlib as an oracle), `ima_lists()` (its bytes), `ima_ascii_lists()` (its text),
`corrupted_ima_lists()`, `corrupted_ima_ascii_lists()`, `bad_bank_lists()`.
Strategies raise InvalidArgument on impossible arguments.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

# ima_template.c builtin_templates: template name -> field ids.
TEMPLATE_FIELDS: dict[str, tuple[str, ...]] = {
    "ima": ("d", "n"),
    "ima-ng": ("d-ng", "n-ng"),
    "ima-sig": ("d-ng", "n-ng", "sig"),
    "ima-buf": ("d-ng", "n-ng", "buf"),
    "ima-modsig": ("d-ng", "n-ng", "sig", "d-modsig", "modsig"),
}
KNOWN_TEMPLATES: tuple[str, ...] = tuple(TEMPLATE_FIELDS)
# Names the kernel accepts in ima_template= / template_fmt= but the contract does not know.
UNKNOWN_TEMPLATES: tuple[str, ...] = ("ima-ngv2", "ima-sigv2", "evm-sig", "my-fmt", "IMA-NG")
ALL_TEMPLATES: tuple[str, ...] = KNOWN_TEMPLATES + UNKNOWN_TEMPLATES
# crypto/hash_info.c hash_algo_name -> digest size (hash_digest_size).
KERNEL_HASH_ALGOS: dict[str, int] = {
    "sha1": 20,
    "sha256": 32,
    "sha384": 48,
    "sha512": 64,
    "sm3": 32,
    "md5": 16,
    "sha224": 28,
    "sha3-256": 32,
    "streebog256": 32,
}
# hashlib names of the TPM banks the oracle replays (tpm2-tools names).
BANK_SIZES: dict[str, int] = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
IMA_PCR = 10  # CONFIG_IMA_MEASURE_PCR_IDX default
TPM_DIGEST_SIZE = 20
IMA_EVENT_NAME_LEN_MAX = 255
MAX_ENTRIES = 20
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789._-+"


def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


@dataclass(frozen=True)
class ImaEntryModel:
    """One measurement as the kernel holds it. `fields` are the field data as stored (n-ng
    with its NUL; `ima`'s n without it). `hash_ok` False means the logged template hash was
    replaced by another non-zero value; `violation` means it is all zero."""

    pcr: int
    template_name: bytes
    fields: tuple[bytes, ...]
    violation: bool = False
    hash_ok: bool = True
    wrong_hash: bytes = b""
    raw_template_data: bytes | None = None  # unknown templates: data not split in fields

    @property
    def is_legacy(self) -> bool:
        return self.template_name == b"ima"

    @property
    def known(self) -> bool:
        return self.template_name.decode("latin-1") in TEMPLATE_FIELDS

    def template_data(self) -> bytes:
        """The template data as the binary list holds it (ADR amendment 1 item 3)."""
        if self.raw_template_data is not None:
            return self.raw_template_data
        if self.is_legacy:
            digest, name = self.fields
            return digest + _u32(len(name)) + name
        return b"".join(_u32(len(f)) + f for f in self.fields)

    def hashed_data(self) -> bytes:
        """What ima_calc_field_array_hash_tfm hashes."""
        if self.is_legacy:
            digest, name = self.fields
            return digest + name.ljust(IMA_EVENT_NAME_LEN_MAX + 1, b"\x00")
        return self.template_data()

    def correct_hash(self) -> bytes:
        return hashlib.sha1(self.hashed_data()).digest()

    def template_hash(self) -> bytes:
        if self.violation:
            return bytes(TPM_DIGEST_SIZE)
        return self.correct_hash() if self.hash_ok else self.wrong_hash

    def binary(self) -> bytes:
        """ima_measurements_show: one entry."""
        out = _u32(self.pcr) + self.template_hash()
        out += _u32(len(self.template_name)) + self.template_name
        if not self.is_legacy:
            out += _u32(len(self.template_data()))
        return out + self.template_data()

    def ascii_tokens(self) -> list[str]:
        """ima_ascii_measurements_show: the field tokens (empty fields as '')."""
        ids = TEMPLATE_FIELDS[self.template_name.decode()]
        return [_show_ascii(fid, data) for fid, data in zip(ids, self.fields, strict=True)]

    def ascii(self, *, trim: bool = False) -> str:
        """The line without its newline; `trim` drops trailing empty tokens (ADR item 5)."""
        tokens = self.ascii_tokens()
        if trim:
            while tokens and tokens[-1] == "":
                tokens.pop()
        head = f"{self.pcr:2d} {self.template_hash().hex()} {self.template_name.decode()}"
        return head + "".join(" " + t for t in tokens)

    def expected_fields(self) -> dict[str, Any] | None:
        """The ADR's `fields` JSON, from the kernel's field meanings."""
        if not self.known:
            return None
        ids = TEMPLATE_FIELDS[self.template_name.decode()]
        by_id = dict(zip(ids, self.fields, strict=True))
        if self.is_legacy:
            alg, digest, name = "sha1", by_id["d"], by_id["n"]
        else:
            prefix, _, digest = by_id["d-ng"].partition(b"\x00")
            alg, name = prefix[:-1].decode(), by_id["n-ng"][:-1]
        sig, buf = by_id.get("sig"), by_id.get("buf")
        return {
            "digestAlg": alg,
            "digest": digest.hex(),
            "name": name.decode("utf-8", "surrogateescape"),
            "signature": None if sig is None else sig.hex(),
            "buffer": None if buf is None else buf.hex(),
        }

    def expected_json(self, index: int) -> dict[str, Any]:
        return {
            "index": index,
            "pcr": self.pcr,
            "templateHash": self.template_hash().hex(),
            "templateName": self.template_name.decode("utf-8", "surrogateescape"),
            "templateData": self.template_data().hex(),
            "violation": self.violation,
            "fields": self.expected_fields(),
        }

    def ascii_safe(self) -> bool:
        """A known template whose names print as one token of valid UTF-8."""
        if not self.known:
            return False
        names = [
            f
            for fid, f in zip(
                TEMPLATE_FIELDS[self.template_name.decode()], self.fields, strict=True
            )
            if fid in ("n", "n-ng")
        ]
        for raw in names:
            text = raw.rstrip(b"\x00")
            if any(c in text for c in b" \t\n\x00"):
                return False
            try:
                text.decode("utf-8")
            except UnicodeDecodeError:
                return False
        return True


def _show_ascii(field_id: str, data: bytes) -> str:
    if not data:
        return ""
    if field_id in ("d-ng", "d-modsig"):
        prefix, _, digest = data.partition(b"\x00")
        return prefix.decode() + digest.hex()
    if field_id in ("n", "n-ng"):
        return data.rstrip(b"\x00").decode("utf-8", "surrogateescape")
    return data.hex()


@dataclass(frozen=True)
class ImaListModel:
    """A list of entries; `binary()`, `ascii()` and an independent hashlib replay."""

    entries: tuple[ImaEntryModel, ...]
    trailing_newline: bool = True
    blank_lines: tuple[int, ...] = ()  # line positions before which an empty line goes
    trim: bool = False

    def binary(self) -> bytes:
        return b"".join(e.binary() for e in self.entries)

    def ascii(self) -> str:
        lines: list[str] = []
        for i, e in enumerate(self.entries):
            lines.extend([""] * self.blank_lines.count(i))
            lines.append(e.ascii(trim=self.trim))
        text = "\n".join(lines)
        return text + "\n" if self.trailing_newline and lines else text

    def ascii_safe(self) -> bool:
        return all(e.ascii_safe() for e in self.entries)

    def wrong_hash_indices(self) -> tuple[int, ...]:
        return tuple(i for i, e in enumerate(self.entries) if not e.violation and not e.hash_ok)

    def replay(self, banks: Sequence[str], count: int | None = None) -> dict[str, dict[int, bytes]]:
        """PCR values after the first `count` entries (all by default): each PCR an entry
        names starts at zero; new = H(old || extend digest) (ima_queue.c, TPM2_PCR_Extend)."""
        values: dict[str, dict[int, bytes]] = {b: {} for b in banks}
        for e in self.entries[:count]:
            for bank in banks:
                size = BANK_SIZES[bank]
                if e.violation:
                    digest = b"\xff" * size
                elif bank == "sha1":
                    digest = e.template_hash()
                else:
                    digest = hashlib.new(bank, e.hashed_data()).digest()
                old = values[bank].get(e.pcr, bytes(size))
                values[bank][e.pcr] = hashlib.new(bank, old + digest).digest()
        return values

    def named_pcrs(self) -> frozenset[int]:
        return frozenset(e.pcr for e in self.entries)


# --- strategies ---------------------------------------------------------------------------


def _check_sizes(min_entries: int, max_entries: int) -> None:
    if min_entries < 0 or max_entries < min_entries:
        raise InvalidArgument(
            f"need 0 <= min_entries <= max_entries, got {min_entries}, {max_entries}"
        )
    if max_entries > 200:
        raise InvalidArgument(f"max_entries={max_entries}: keep lists small (spec hashing)")


def _check_templates(templates: Sequence[str], *, known_only: bool) -> tuple[str, ...]:
    names = tuple(templates)
    if not names:
        raise InvalidArgument("templates must not be empty")
    allowed = KNOWN_TEMPLATES if known_only else ALL_TEMPLATES
    bad = [n for n in names if n not in allowed]
    if bad:
        raise InvalidArgument(f"templates {bad} not in {allowed}")
    return names


@st.composite
def ima_paths(draw: st.DrawFn, *, odd: bool = False, max_len: int = 40) -> bytes:
    """A file name as IMA records it: mostly a path; with `odd`, sometimes spaces, non-UTF-8
    or the 255-octet legacy maximum."""
    if max_len < 1:
        raise InvalidArgument("max_len must be >= 1")
    kind = draw(
        st.sampled_from(
            ["path", "path", "path", "special", "unicode"]
            + (["space", "nonutf8", "long"] if odd else [])
        )
    )
    if kind == "special":
        return draw(st.sampled_from([b"boot_aggregate", b"kexec-cmdline", b".ima", b"/init"]))
    if kind == "long":
        return b"/" + b"x" * (IMA_EVENT_NAME_LEN_MAX - 1)
    segments = draw(st.lists(st.text(_PATH_CHARS, min_size=1, max_size=8), min_size=1, max_size=4))
    path = ("/" + "/".join(segments)).encode()
    if kind == "unicode":
        path += draw(st.sampled_from(["é", "ü", "文件", "ß"])).encode()
    elif kind == "space":
        path += b" copy"
    elif kind == "nonutf8":
        path += b"\xff\xfe"
    return path[:max_len] if len(path) > max_len else path


def _digest_ng(alg: str, digest: bytes) -> bytes:
    return alg.encode() + b":\x00" + digest


@st.composite
def _digest_fields(draw: st.DrawFn, violation: bool) -> bytes:
    alg = draw(st.sampled_from(["sha256"] * 6 + ["sha1"] * 2 + list(KERNEL_HASH_ALGOS)))
    if violation:
        # ima_eventdigest_ng_init leaves the digest zero: 20 octets in older kernels,
        # the algorithm's size in newer ones (ADR amendment 1 item 6).
        size = draw(st.sampled_from([TPM_DIGEST_SIZE, KERNEL_HASH_ALGOS[alg]]))
        return _digest_ng(alg, bytes(size))
    return _digest_ng(
        alg, draw(st.binary(min_size=KERNEL_HASH_ALGOS[alg], max_size=KERNEL_HASH_ALGOS[alg]))
    )


@st.composite
def ima_entry_models(
    draw: st.DrawFn,
    templates: Sequence[str] = ALL_TEMPLATES,
    *,
    violations: bool = True,
    wrong_hashes: bool = True,
    odd_names: bool = False,
    other_pcrs: bool = True,
) -> ImaEntryModel:
    """One entry of a template drawn from `templates` (known ones far more often)."""
    names = _check_templates(templates, known_only=False)
    weights = [8 if n in KNOWN_TEMPLATES else 1 for n in names]
    pool = [n for n, w in zip(names, weights, strict=True) for _ in range(w)]
    name = draw(st.sampled_from(pool))
    pcr = IMA_PCR
    if other_pcrs and draw(st.integers(0, 5)) == 0:
        pcr = draw(st.one_of(st.integers(0, 23), st.integers(24, 1000)))
    violation = violations and draw(st.integers(0, 7)) == 0
    path = draw(ima_paths(odd=odd_names, max_len=IMA_EVENT_NAME_LEN_MAX))
    sig = b""
    if name in ("ima-sig", "ima-modsig") and draw(st.booleans()) and not violation:
        # evmctl signature v2 header: type 3, version 2, hash algo, keyid, sig size, sig
        sig = b"\x03\x02\x04" + draw(st.binary(min_size=4, max_size=40))
    fields: tuple[bytes, ...]
    raw: bytes | None = None
    if name == "ima":
        digest = bytes(20) if violation else draw(st.binary(min_size=20, max_size=20))
        fields = (digest, path)
    elif name == "ima-ng":
        fields = (draw(_digest_fields(violation)), path + b"\x00")
    elif name == "ima-sig":
        fields = (draw(_digest_fields(violation)), path + b"\x00", sig)
    elif name == "ima-buf":
        buf = draw(st.binary(max_size=40))
        fields = (draw(_digest_fields(violation)), path + b"\x00", buf)
    elif name == "ima-modsig":
        modsig = b""
        dmodsig = b""
        if not violation and draw(st.booleans()):
            modsig = b"\x30\x82" + draw(st.binary(min_size=2, max_size=30))
            dmodsig = draw(_digest_fields(False))
        fields = (draw(_digest_fields(violation)), path + b"\x00", sig, dmodsig, modsig)
    else:
        parts = draw(st.lists(st.binary(max_size=24), max_size=4))
        fields = tuple(parts)
        if draw(st.integers(0, 3)) == 0:
            raw = draw(st.binary(max_size=30))  # not split in fields at all
    wrong = b""
    hash_ok = True
    if wrong_hashes and not violation and draw(st.integers(0, 9)) == 0:
        hash_ok = False
        wrong = draw(st.binary(min_size=20, max_size=20).filter(any))
    entry = ImaEntryModel(pcr, name.encode(), fields, violation, hash_ok, wrong, raw)
    if not hash_ok and entry.wrong_hash == entry.correct_hash():
        entry = replace(entry, hash_ok=True)
    return entry


@st.composite
def ima_list_models(
    draw: st.DrawFn,
    *,
    min_entries: int = 0,
    max_entries: int = MAX_ENTRIES,
    templates: Sequence[str] = ALL_TEMPLATES,
    violations: bool = True,
    wrong_hashes: bool = True,
    odd_names: bool = False,
    other_pcrs: bool = True,
) -> ImaListModel:
    """A list of entries; ASCII options (trailing newline, blank lines, trimmed trailing
    empty tokens) drawn too. The first entry is often boot_aggregate, as on a real system."""
    _check_sizes(min_entries, max_entries)
    names = _check_templates(templates, known_only=False)
    entry = ima_entry_models(
        names,
        violations=violations,
        wrong_hashes=wrong_hashes,
        odd_names=odd_names,
        other_pcrs=other_pcrs,
    )
    entries = draw(st.lists(entry, min_size=min_entries, max_size=max_entries))
    if entries and "ima-ng" in names and draw(st.booleans()):
        boot = ImaEntryModel(
            IMA_PCR,
            b"ima-ng",
            (
                _digest_ng("sha256", draw(st.binary(min_size=32, max_size=32))),
                b"boot_aggregate\x00",
            ),
        )
        entries[0] = boot
    blank = tuple(draw(st.lists(st.integers(0, max(len(entries) - 1, 0)), max_size=2)))
    return ImaListModel(tuple(entries), draw(st.booleans()), blank, draw(st.booleans()))


def ima_lists(**kwargs: Any) -> st.SearchStrategy[bytes]:
    """binary_runtime_measurements of a drawn list (arguments as `ima_list_models`)."""
    return ima_list_models(**kwargs).map(ImaListModel.binary)


def ima_ascii_lists(
    *, templates: Sequence[str] = KNOWN_TEMPLATES, **kwargs: Any
) -> st.SearchStrategy[str]:
    """ascii_runtime_measurements of a drawn list: known templates only (an unknown
    template's fields have no ASCII form the builder could print)."""
    names = _check_templates(templates, known_only=True)
    if kwargs.get("odd_names"):
        raise InvalidArgument("odd names do not print as one ASCII token")
    return ima_list_models(templates=names, **kwargs).map(ImaListModel.ascii)


# --- corruptions ---------------------------------------------------------------------------


def _raw_entry(
    pcr: int,
    thash: bytes,
    name: bytes,
    data: bytes,
    *,
    name_len: int | None = None,
    data_len: int | None = None,
    legacy: bool = False,
) -> bytes:
    out = _u32(pcr) + thash + _u32(len(name) if name_len is None else name_len) + name
    if not legacy:
        out += _u32(len(data) if data_len is None else data_len)
    return out + data


@st.composite
def _bad_entries(draw: st.DrawFn, model: ImaEntryModel) -> bytes:
    """One structurally bad entry built from `model`."""
    kind = draw(
        st.sampled_from(
            [
                "giant_name_len",
                "name_len_256",
                "giant_data_len",
                "data_len_plus",
                "data_len_minus",
                "giant_field_len",
                "junk_after_fields",
                "dng_no_colon",
                "dng_empty_alg",
                "few_fields",
                "legacy_name_256",
                "legacy_giant_name",
                "empty_name",
                "nng_no_nul",
                "nng_inner_nul",
                "nng_empty",
                "dng_odd_alg",
            ]
        )
    )
    thash = model.template_hash()
    data = model.template_data()
    name = model.template_name
    legacy = model.is_legacy
    if kind == "giant_name_len":
        big = draw(st.sampled_from([256, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]))
        return _raw_entry(model.pcr, thash, name, data, name_len=big, legacy=legacy)
    if kind == "name_len_256":  # a real 256..300-octet name (ADR amendment 1 item 2)
        long_name = b"ima-" + b"n" * draw(st.integers(252, 296))
        return _raw_entry(model.pcr, thash, long_name, data)
    if kind == "legacy_name_256":
        digest = data[:20]
        n = b"/" + b"y" * draw(st.integers(255, 300))
        return _raw_entry(model.pcr, thash, b"ima", digest + _u32(len(n)) + n, legacy=True)
    if kind == "legacy_giant_name":
        return _raw_entry(
            model.pcr, thash, b"ima", bytes(20) + _u32(0xFFFFFFF0) + b"/x", legacy=True
        )
    if kind == "empty_name":
        return _raw_entry(model.pcr, thash, b"", data)
    if legacy:  # the remaining kinds concern template_data_len and fields
        name, legacy = b"ima-ng", False
        data = b"".join(
            _u32(len(f)) + f
            for f in (_digest_ng("sha1", model.fields[0]), model.fields[1] + b"\x00")
        )
    if kind == "giant_data_len":
        big = draw(st.sampled_from([0x7FFFFFFF, 0xFFFFFFFF, len(data) + 0x100000]))
        return _raw_entry(model.pcr, thash, name, data, data_len=big)
    if kind == "data_len_plus":
        return _raw_entry(
            model.pcr, thash, name, data, data_len=len(data) + draw(st.integers(1, 8))
        )
    if kind == "data_len_minus" and data:
        return _raw_entry(model.pcr, thash, name, data, data_len=len(data) - 1)
    if kind == "giant_field_len" and len(data) >= 4:
        big = draw(st.sampled_from([len(data), 0x10000, 0xFFFFFFFF]))
        return _raw_entry(model.pcr, thash, name, _u32(big) + data[4:])
    if kind == "junk_after_fields":
        return _raw_entry(model.pcr, thash, name, data + draw(st.binary(min_size=1, max_size=6)))
    digest = draw(st.binary(min_size=32, max_size=32))
    n = b"/bin/sh\x00"
    if kind == "nng_no_nul":
        n = b"/bin/sh"
    elif kind == "nng_inner_nul":
        n = b"/bin\x00/sh\x00"
    elif kind == "nng_empty":
        n = b""
    if kind.startswith("nng"):
        d = _digest_ng("sha256", digest)
        return _raw_entry(model.pcr, thash, b"ima-ng", _u32(len(d)) + d + _u32(len(n)) + n)
    if kind == "dng_odd_alg":
        bad = draw(st.sampled_from([b"\xff\xfe", b"sh a256", b"\x01", b"a:b"])) + b":\x00" + digest
    elif kind == "dng_no_colon":
        bad = b"sha256\x00" + digest
    elif kind == "dng_empty_alg":
        bad = b":\x00" + digest
    else:  # few_fields: only the d-ng field
        bad = _digest_ng("sha256", digest)
        return _raw_entry(model.pcr, thash, b"ima-ng", _u32(len(bad)) + bad)
    return _raw_entry(model.pcr, thash, b"ima-ng", _u32(len(bad)) + bad + _u32(len(n)) + n)


@st.composite
def corrupted_ima_lists(draw: st.DrawFn, **kwargs: Any) -> bytes:
    """One corruption of a drawn binary list: truncated at a random offset, one byte
    flipped, a bad entry (giant or >255 lengths, bad fields) at a random position, or
    trailing bytes (a partial tail, e.g. a newline)."""
    model = draw(ima_list_models(min_entries=1, **kwargs))
    data = model.binary()
    kind = draw(st.sampled_from(["truncate", "flip", "bad_entry", "bad_entry", "tail"]))
    if kind == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if kind == "flip":
        pos = draw(st.integers(0, len(data) - 1))
        mask = draw(st.integers(1, 255))
        return data[:pos] + bytes([data[pos] ^ mask]) + data[pos + 1 :]
    if kind == "tail":
        return data + draw(st.sampled_from([b"\n", b"\x0a\x00", b"\x00" * 27, b"\x0a" * 30]))
    at = draw(st.integers(0, len(model.entries)))
    bad = draw(_bad_entries(draw(st.sampled_from(model.entries))))
    before = b"".join(e.binary() for e in model.entries[:at])
    after = b"".join(e.binary() for e in model.entries[at:])
    return before + bad + after


_LINE_MUTATIONS = (
    "bad_hex",
    "upper_hex",
    "drop_token",
    "extra_token",
    "odd_hex",
    "bad_pcr",
    "short_hash",
    "empty_alg",
    "no_colon",
    "unknown_template",
    "tab",
    "space_in_name",
    "nul_in_name",
    "only_pcr",
    "colon_in_alg",
    "odd_alg",
    "long_name",
    "big_pcr",
    "carriage_return",
)


def _is_hex(token: str) -> bool:
    return bool(token) and all(c in "0123456789abcdef" for c in token)


def _mutate_line(line: str, kind: str, pick: int) -> str:
    """Apply one malformation to an ASCII line; `pick` chooses among candidates."""
    lead = len(line) - len(line.lstrip(" "))
    tokens = line[lead:].split(" ")
    hexy = [i for i, t in enumerate(tokens) if i not in (0, 2) and _is_hex(t.rpartition(":")[2])]
    if kind in ("bad_hex", "upper_hex", "odd_hex") and hexy:
        i = hexy[pick % len(hexy)]
        alg, colon, hx = tokens[i].rpartition(":")
        if kind == "bad_hex":
            hx = hx[:-1] + "g"
        elif kind == "upper_hex":
            hx = hx.upper() if any(c in "abcdef" for c in hx) else hx[:-1] + "A"
        else:
            hx = hx[:-1]
        tokens[i] = alg + colon + hx
    elif kind == "drop_token" and len(tokens) > 1:
        del tokens[pick % len(tokens)]
    elif kind == "extra_token":
        tokens.append(["deadbeef", "x", "", "sha256:00"][pick % 4])
    elif kind == "bad_pcr":
        tokens[0] = ["-1", "x", "+10", "1e1", "4294967296", "", "0x0a"][pick % 7]
    elif kind == "short_hash" and len(tokens) > 1:
        tokens[1] = tokens[1][:38]
    elif kind in ("empty_alg", "no_colon") and len(tokens) > 3 and ":" in tokens[3]:
        hx = tokens[3].rpartition(":")[2]
        tokens[3] = ":" + hx if kind == "empty_alg" else "sha256" + hx
    elif kind == "unknown_template" and len(tokens) > 2:
        tokens[2] = ["ima-ngv2", "IMA-NG", "", "ima\x00"][pick % 4]
    elif kind == "tab":
        return line.replace(" ", "\t", 1 + pick % 2)
    elif kind == "space_in_name" and len(tokens) > 4:
        tokens[4] = tokens[4] + " two"
    elif kind == "nul_in_name" and len(tokens) > 4:
        tokens[4] = tokens[4] + "\x00"
    elif kind in ("colon_in_alg", "odd_alg") and len(tokens) > 3 and ":" in tokens[3]:
        hx = tokens[3].rpartition(":")[2]
        algs = ["sha:256", "a:", "x::"] if kind == "colon_in_alg" else ["shä256", "sh a", "\x7f"]
        tokens[3] = algs[pick % 3] + ":" + hx
    elif kind == "long_name" and len(tokens) > 4:
        tokens[4] = "/" + "z" * (254 + pick % 3)
    elif kind == "big_pcr":
        tokens[0] = ["4294967295", "2147483648", "00010", "24"][pick % 4]
    elif kind == "carriage_return":
        tokens[-1] += "\r"
    elif kind == "only_pcr":
        tokens = tokens[:1]
    else:
        tokens.append("zz")  # fallback: an extra non-hex token
    return " " * lead + " ".join(tokens)


@st.composite
def corrupted_ima_ascii_lists(draw: st.DrawFn, **kwargs: Any) -> str:
    """One malformed line (bad or uppercase hex, missing or extra tokens, bad PCR, short
    hash, bad d-ng, unknown template, tabs, names with spaces or NUL) in a drawn list."""
    model = draw(ima_list_models(min_entries=1, templates=KNOWN_TEMPLATES, **kwargs))
    lines = model.ascii().split("\n")
    candidates = [i for i, line in enumerate(lines) if line]
    at = draw(st.sampled_from(candidates))
    kind = draw(st.sampled_from(_LINE_MUTATIONS))
    lines[at] = _mutate_line(lines[at], kind, draw(st.integers(0, 100)))
    return "\n".join(lines)


def bad_bank_lists() -> st.SearchStrategy[tuple[str, ...]]:
    """Replay bank lists ADR amendment 1 item 8 refuses: empty, repeated, unknown names."""
    return st.sampled_from(
        [
            (),
            ("sha1", "sha1"),
            ("sha256", "sha1", "sha256"),
            ("md5",),
            ("SHA256",),
            ("sha256", "nope"),
            ("sha-256",),
            ("",),
        ]
    )
