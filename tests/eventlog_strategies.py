"""Hypothesis strategies that build TCG PC Client event logs as BYTES.

The builder here is written from the PFP structures (TCG PC Client Platform Firmware
Profile 1.05r23) and is independent of both `chainoftrust.spec` and `chainoftrust.impl`;
digests come from hashlib. Layouts (all little-endian):

- TCG_PCR_EVENT: u32 PCRIndex, u32 EventType, Digest[20] (SHA-1), u32 EventSize, Event.
- TCG_PCR_EVENT2: u32 PCRIndex, u32 EventType, TPML_DIGEST_VALUES (u32 count,
  {u16 hashAlg, digest}[count]), u32 EventSize, Event.
- TCG_EfiSpecIdEvent: "Spec ID Event03\\0", u32 platformClass, u8 specVersionMinor,
  u8 specVersionMajor, u8 specErrata, u8 uintnSize, u32 numberOfAlgorithms,
  {u16 algorithmId, u16 digestSize}[n], u8 vendorInfoSize, vendorInfo.
- TCG_EfiStartupLocalityEvent: "StartupLocality\\0", u8 StartupLocality (EV_NO_ACTION, PCR 0).
- UEFI_VARIABLE_DATA: GUID VariableName, u64 UnicodeNameLength (CHAR16s),
  u64 VariableDataLength, CHAR16 UnicodeName[], u8 VariableData[].
- UEFI_GPT_DATA: UEFI_PARTITION_TABLE_HEADER (92 bytes), u64 NumberOfPartitions,
  GPT partition entries (UEFI: 16+16+8+8+8+72 = 128 bytes each).

Entry points: `event_log_models()` (a structured `EventLogModel`), `event_logs()`
(its bytes), `corrupted_event_logs()` (one corruption of a valid log), `tpm_boots()` (a
log a real TPM can reproduce: startup locality, H-CRTM, extends), `pcr_value_maps()`,
`pcrread_texts()`. Strategies raise InvalidArgument on impossible arguments.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

# TCG Algorithm Registry: TPM_ALG_ID and digest size (test data from the registry).
LOG_ALGORITHMS: dict[str, tuple[int, int]] = {
    "sha1": (0x0004, 20),
    "sha256": (0x000B, 32),
    "sha384": (0x000C, 48),
    "sha512": (0x000D, 64),
    "sm3_256": (0x0012, 32),
}
ALG_NAMES_BY_ID: dict[int, str] = {alg_id: name for name, (alg_id, _) in LOG_ALGORITHMS.items()}
# Every TPM_ALG_ID either package might know as a hash (incl. SHA3): never "unknown".
_KNOWN_HASH_IDS = frozenset({0x0004, 0x000B, 0x000C, 0x000D, 0x0012, 0x0027, 0x0028, 0x0029})
SHA1_ID = 0x0004

# PFP "Events" table (codes as RESEARCH.md A.4; EV_EFI_GPT_EVENT2 = 0x8000000D as
# tpm2-tools, go-attestation and tcglog-parser define it).
EVENT_TYPES: dict[str, int] = {
    "EV_PREBOOT_CERT": 0x0,
    "EV_POST_CODE": 0x1,
    "EV_UNUSED": 0x2,
    "EV_NO_ACTION": 0x3,
    "EV_SEPARATOR": 0x4,
    "EV_ACTION": 0x5,
    "EV_EVENT_TAG": 0x6,
    "EV_S_CRTM_CONTENTS": 0x7,
    "EV_S_CRTM_VERSION": 0x8,
    "EV_CPU_MICROCODE": 0x9,
    "EV_PLATFORM_CONFIG_FLAGS": 0xA,
    "EV_TABLE_OF_DEVICES": 0xB,
    "EV_COMPACT_HASH": 0xC,
    "EV_IPL": 0xD,
    "EV_IPL_PARTITION_DATA": 0xE,
    "EV_NONHOST_CODE": 0xF,
    "EV_NONHOST_CONFIG": 0x10,
    "EV_NONHOST_INFO": 0x11,
    "EV_OMIT_BOOT_DEVICE_EVENTS": 0x12,
    "EV_EFI_VARIABLE_DRIVER_CONFIG": 0x80000001,
    "EV_EFI_VARIABLE_BOOT": 0x80000002,
    "EV_EFI_BOOT_SERVICES_APPLICATION": 0x80000003,
    "EV_EFI_BOOT_SERVICES_DRIVER": 0x80000004,
    "EV_EFI_RUNTIME_SERVICES_DRIVER": 0x80000005,
    "EV_EFI_GPT_EVENT": 0x80000006,
    "EV_EFI_ACTION": 0x80000007,
    "EV_EFI_PLATFORM_FIRMWARE_BLOB": 0x80000008,
    "EV_EFI_HANDOFF_TABLES": 0x80000009,
    "EV_EFI_PLATFORM_FIRMWARE_BLOB2": 0x8000000A,
    "EV_EFI_HANDOFF_TABLES2": 0x8000000B,
    "EV_EFI_VARIABLE_BOOT2": 0x8000000C,
    "EV_EFI_GPT_EVENT2": 0x8000000D,
    "EV_EFI_HCRTM_EVENT": 0x80000010,
    "EV_EFI_VARIABLE_AUTHORITY": 0x800000E0,
    "EV_EFI_SPDM_FIRMWARE_BLOB": 0x800000E1,
    "EV_EFI_SPDM_FIRMWARE_CONFIG": 0x800000E2,
    "EV_EFI_SPDM_DEVICE_POLICY": 0x800000E3,
    "EV_EFI_SPDM_DEVICE_AUTHORITY": 0x800000E4,
}
_E = EVENT_TYPES
# Codes outside the table (0x8000000E/F sit between GPT_EVENT2 and HCRTM_EVENT).
UNKNOWN_EVENT_TYPES: tuple[int, ...] = (0x13, 0x400, 0x8000000E, 0x8000000F, 0x800000FF, 0xFFFF)

SPEC_ID_SIGNATURE = b"Spec ID Event03\x00"
STARTUP_LOCALITY_SIGNATURE = b"StartupLocality\x00"
HCRTM_DATA = b"HCRTM"  # PFP: EV_EFI_HCRTM_EVENT data is the string "HCRTM"
PCR_OUT_OF_RANGE = 0xFFFFFFFF  # Windows logs' virtual PCR
SEPARATOR_VALUES = (b"\x00\x00\x00\x00", b"\x01\x00\x00\x00", b"\xff\xff\xff\xff")
MAX_EVENTS = 30


def hash_bytes(name: str, data: bytes) -> bytes:
    """hashlib digest by tpm2-tools name (SM3 through `cryptography` when OpenSSL lacks it)."""
    if name == "sm3_256":
        if "sm3" in hashlib.algorithms_available:
            return hashlib.new("sm3", data).digest()
        from cryptography.hazmat.primitives import hashes

        h = hashes.Hash(hashes.SM3())
        h.update(data)
        return h.finalize()
    return hashlib.new(name, data).digest()


# --- the builder -------------------------------------------------------------------------


@dataclass(frozen=True)
class LogEvent:
    """One record. `digests` are (TPM_ALG_ID, digest) in log order; the overrides write a
    different TPML_DIGEST_VALUES.count or EventSize than the real ones (corruptions)."""

    pcr: int
    type: int
    digests: tuple[tuple[int, bytes], ...]
    data: bytes
    count_override: int | None = None
    size_override: int | None = None


@dataclass(frozen=True)
class SpecIdFields:
    """TCG_EfiSpecIdEvent fields; `vendor_info_size` None means len(vendor_info)."""

    algorithms: tuple[tuple[int, int], ...]
    platform_class: int = 0
    version: tuple[int, int, int] = (0, 2, 0)  # (minor, major, errata)
    uintn_size: int = 2
    vendor_info: bytes = b""
    vendor_info_size: int | None = None
    count_override: int | None = None

    def to_bytes(self) -> bytes:
        minor, major, errata = self.version
        count = len(self.algorithms) if self.count_override is None else self.count_override
        out = SPEC_ID_SIGNATURE + struct.pack(
            "<IBBBBI", self.platform_class, minor, major, errata, self.uintn_size, count
        )
        out += b"".join(struct.pack("<HH", alg, size) for alg, size in self.algorithms)
        size = len(self.vendor_info) if self.vendor_info_size is None else self.vendor_info_size
        return out + bytes((size,)) + self.vendor_info


@dataclass(frozen=True)
class EventLogModel:
    """A log before encoding: `spec_id` None makes a SHA-1 format log."""

    spec_id: SpecIdFields | None
    events: tuple[LogEvent, ...]
    trailing: bytes = field(default=b"")

    @property
    def banks(self) -> tuple[str, ...]:
        """The known banks the log carries (replayable ones)."""
        if self.spec_id is None:
            return ("sha1",)
        return tuple(ALG_NAMES_BY_ID[a] for a, _ in self.spec_id.algorithms if a in ALG_NAMES_BY_ID)

    def to_bytes(self) -> bytes:
        if self.spec_id is None:
            out = b"".join(sha1_record(e) for e in self.events)
        else:
            header = LogEvent(0, _E["EV_NO_ACTION"], ((SHA1_ID, bytes(20)),), b"")
            out = sha1_record(replace(header, data=self.spec_id.to_bytes()))
            out += b"".join(event2_record(e) for e in self.events)
        return out + self.trailing


def sha1_record(event: LogEvent) -> bytes:
    """PFP TCG_PCR_EVENT."""
    digest = event.digests[0][1] if event.digests else bytes(20)
    size = len(event.data) if event.size_override is None else event.size_override
    return struct.pack("<II", event.pcr, event.type) + digest + struct.pack("<I", size) + event.data


def event2_record(event: LogEvent) -> bytes:
    """PFP TCG_PCR_EVENT2."""
    count = len(event.digests) if event.count_override is None else event.count_override
    out = struct.pack("<III", event.pcr, event.type, count)
    out += b"".join(struct.pack("<H", alg) + digest for alg, digest in event.digests)
    size = len(event.data) if event.size_override is None else event.size_override
    return out + struct.pack("<I", size) + event.data


def startup_locality_data(locality: int) -> bytes:
    """PFP TCG_EfiStartupLocalityEvent."""
    return STARTUP_LOCALITY_SIGNATURE + bytes((locality,))


def uefi_variable_data(guid: bytes, name: str | bytes, value: bytes, extra: bytes = b"") -> bytes:
    """PFP UEFI_VARIABLE_DATA (`name` as str, or raw UTF-16LE bytes of even length)."""
    raw = name.encode("utf-16-le") if isinstance(name, str) else name
    return guid + struct.pack("<QQ", len(raw) // 2, len(value)) + raw + value + extra


def gpt_data(
    disk_guid: bytes, partitions: Sequence[tuple[bytes, bytes, int, int, int, bytes]]
) -> bytes:
    """PFP UEFI_GPT_DATA with 128-byte entries (type, unique, start, end, attributes, name)."""
    header = b"EFI PART" + struct.pack("<IIII", 0x00010000, 92, 0, 0)
    header += struct.pack("<QQQQ", 1, 0xFFFF, 34, 0xFFDE) + disk_guid
    header += struct.pack("<QIII", 2, 128, 128, 0)
    entries = b"".join(
        t + u + struct.pack("<QQQ", s, e, a) + n.ljust(72, b"\x00")[:72]
        for t, u, s, e, a, n in partitions
    )
    return header + struct.pack("<Q", len(partitions)) + entries


# --- strategies --------------------------------------------------------------------------

Bank = tuple[int, int]  # (TPM_ALG_ID, digestSize) as the Spec ID lists it


def _one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in `n` draws (a middle value: Hypothesis favours 0 and the bounds)."""
    return draw(st.integers(0, n - 1)) == n // 2


def _check_names(names: Sequence[str], argument: str) -> tuple[str, ...]:
    out = tuple(names)
    if not out:
        raise InvalidArgument(f"{argument} must not be empty")
    unknown = [n for n in out if n not in LOG_ALGORITHMS]
    if unknown or len(set(out)) != len(out):
        raise InvalidArgument(f"{argument}: unknown or repeated algorithm names {out}")
    return out


def _check_count(min_events: int, max_events: int) -> None:
    if not 0 <= min_events <= max_events <= MAX_EVENTS:
        raise InvalidArgument(
            f"need 0 <= min_events <= max_events <= {MAX_EVENTS}, got {min_events}, {max_events}"
        )


@st.composite
def spec_id_banks(draw: st.DrawFn, algorithms: Sequence[str] = tuple(LOG_ALGORITHMS)) -> list[Bank]:
    """1-3 known algorithms in random order, sometimes one unknown id with a declared size."""
    names = _check_names(algorithms, "algorithms")
    chosen = draw(st.permutations(names))[: draw(st.integers(1, min(3, len(names))))]
    banks = [LOG_ALGORITHMS[n] for n in chosen]
    if _one_in(draw, 6):
        unknown = draw(st.integers(1, 0xFFFF).filter(lambda a: a not in _KNOWN_HASH_IDS))
        banks.insert(draw(st.integers(0, len(banks))), (unknown, draw(st.integers(0, 40))))
    return banks


def _digest_of(bank: Bank, content: bytes | None, wrong: bytes) -> bytes:
    """H(content) for a known bank when content is given; otherwise `wrong` (sized)."""
    alg, size = bank
    name = ALG_NAMES_BY_ID.get(alg)
    if content is not None and name is not None:
        return hash_bytes(name, content)
    return (wrong * (size // max(len(wrong), 1) + 1))[:size] if wrong else bytes(size)


@st.composite
def _digest_list(
    draw: st.DrawFn, banks: Sequence[Bank], content: bytes | None, *, complete: bool = False
) -> tuple[tuple[int, bytes], ...]:
    """One digest per bank (H(content) or random bytes); sometimes a bank is missing or the
    order is shuffled (unless `complete`)."""
    wrong = draw(st.binary(min_size=1, max_size=8))
    out = [(b[0], _digest_of(b, content, wrong)) for b in banks]
    if not complete and len(out) > 1 and _one_in(draw, 10):
        del out[draw(st.integers(0, len(out) - 1))]
    if not complete and _one_in(draw, 5):
        out = list(draw(st.permutations(out)))
    return tuple(out)


def _content(draw: st.DrawFn, right: bytes) -> bytes | None:
    """The bytes digested: usually the right ones, sometimes none (a wrong digest)."""
    return None if _one_in(draw, 5) else right


_GUIDS = st.one_of(
    st.sampled_from(
        (
            bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c"),  # EFI_GLOBAL_VARIABLE
            bytes.fromhex("cbb219d73a3d9645a3bcdad00e67656f"),  # EFI_IMAGE_SECURITY_DATABASE
        )
    ),
    st.binary(min_size=16, max_size=16),
)
_ASCII = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=24)


@st.composite
def _variable_event(draw: st.DrawFn, banks: Sequence[Bank]) -> LogEvent:
    """UEFI variable events, digests under the PFP, whole-data or shim conventions."""
    kind = draw(
        st.sampled_from(
            (
                "EV_EFI_VARIABLE_DRIVER_CONFIG",
                "EV_EFI_VARIABLE_BOOT",
                "EV_EFI_VARIABLE_BOOT2",
                "EV_EFI_VARIABLE_AUTHORITY",
            )
        )
    )
    pcr = {"EV_EFI_VARIABLE_DRIVER_CONFIG": 7, "EV_EFI_VARIABLE_AUTHORITY": 7}.get(kind, 1)
    pcr = draw(st.sampled_from((pcr, pcr, pcr, 1, 3, 5, 7, 0, 12)))
    name = draw(
        st.one_of(
            st.sampled_from(("SecureBoot", "PK", "KEK", "db", "Boot0001")), st.text(max_size=6)
        )
    )
    raw_name = name.encode("utf-16-le", errors="surrogatepass")
    if _one_in(draw, 10):
        raw_name += b"\x00\xd8"  # a lone high surrogate: not valid UTF-16
    value = draw(st.binary(max_size=40))
    extra = b"\x00" if kind == "EV_EFI_VARIABLE_AUTHORITY" and draw(st.booleans()) else b""
    data = uefi_variable_data(draw(_GUIDS), raw_name, value, extra)
    if _one_in(draw, 15):  # malformed: lengths larger than the data
        data = data[:16] + struct.pack("<QQ", 2**63, 1) + data[32:]
    if _one_in(draw, 15):
        data = data[: draw(st.integers(0, len(data)))]
    convention = draw(st.sampled_from(("data", "whole", "whole", "minus_last", "wrong")))
    measured = {
        "data": value,
        "whole": data,
        "minus_last": data[:-1],
        "wrong": None,
    }[convention]
    return LogEvent(pcr, _E[kind], draw(_digest_list(banks, measured)), data)


@st.composite
def _gpt_event(draw: st.DrawFn, banks: Sequence[Bank]) -> LogEvent:
    partitions = [
        (
            draw(_GUIDS),
            draw(_GUIDS),
            draw(st.integers(0, 2**64 - 1)),
            draw(st.integers(0, 2**64 - 1)),
            draw(st.integers(0, 2**64 - 1)),
            draw(
                st.one_of(
                    st.text(max_size=36).map(
                        lambda t: t.encode("utf-16-le", errors="surrogatepass")
                    ),
                    st.binary(max_size=72),
                )
            ),
        )
        for _ in range(draw(st.integers(0, 2)))
    ]
    data = gpt_data(draw(_GUIDS), partitions)
    if _one_in(draw, 10):
        data = data[: draw(st.integers(0, len(data)))]
    etype = draw(st.sampled_from(("EV_EFI_GPT_EVENT", "EV_EFI_GPT_EVENT", "EV_EFI_GPT_EVENT2")))
    pcr = draw(st.sampled_from((5, 5, 5, 4)))
    return LogEvent(pcr, _E[etype], draw(_digest_list(banks, _content(draw, data))), data)


@st.composite
def _string_event(draw: st.DrawFn, banks: Sequence[Bank]) -> LogEvent:
    """EV_EFI_ACTION / EV_ACTION: ASCII, sometimes NUL-terminated, sometimes not ASCII."""
    text = draw(
        st.one_of(
            st.sampled_from(
                ("Calling EFI Application from Boot Option", "Exit Boot Services Invocation")
            ),
            _ASCII,
        )
    )
    data = text.encode("ascii") + b"\x00" * draw(st.sampled_from((0, 0, 1, 2)))
    if _one_in(draw, 10):
        data = draw(st.binary(max_size=16))
    etype = draw(st.sampled_from(("EV_EFI_ACTION", "EV_EFI_ACTION", "EV_ACTION")))
    pcr = draw(st.sampled_from((4, 5, 7, 1, 0, 8)))
    return LogEvent(pcr, _E[etype], draw(_digest_list(banks, _content(draw, data))), data)


@st.composite
def _separator_event(draw: st.DrawFn, banks: Sequence[Bank], pcr: int | None = None) -> LogEvent:
    data = draw(st.one_of(st.sampled_from(SEPARATOR_VALUES), st.binary(max_size=6)))
    if pcr is None:
        pcr = draw(st.one_of(st.integers(0, 7), st.sampled_from((8, 14))))
    return LogEvent(pcr, _E["EV_SEPARATOR"], draw(_digest_list(banks, _content(draw, data))), data)


@st.composite
def _whole_data_event(draw: st.DrawFn, banks: Sequence[Bank]) -> LogEvent:
    """Types that some documents check against H(data): right digest, often."""
    etype = draw(
        st.sampled_from(
            (
                "EV_S_CRTM_VERSION",
                "EV_EVENT_TAG",
                "EV_PLATFORM_CONFIG_FLAGS",
                "EV_TABLE_OF_DEVICES",
                "EV_NONHOST_INFO",
                "EV_OMIT_BOOT_DEVICE_EVENTS",
                "EV_POST_CODE",
                "EV_EFI_HANDOFF_TABLES",
            )
        )
    )
    data = draw(st.binary(max_size=24))
    pcr = draw(st.sampled_from((0, 1, 4, 6, 9)))
    return LogEvent(pcr, _E[etype], draw(_digest_list(banks, _content(draw, data))), data)


@st.composite
def _any_event(draw: st.DrawFn, banks: Sequence[Bank]) -> LogEvent:
    """Any type (incl. unknown codes) in any PCR 0-23 or 0xFFFFFFFF, random digests."""
    etype = draw(
        st.one_of(st.sampled_from(tuple(_E.values())), st.sampled_from(UNKNOWN_EVENT_TYPES))
    )
    pcr = draw(st.one_of(st.integers(0, 23), st.just(PCR_OUT_OF_RANGE), st.just(24)))
    data = draw(st.binary(max_size=24))
    digests = draw(_digest_list(banks, _content(draw, data)))
    if etype == _E["EV_NO_ACTION"] and draw(st.booleans()):
        digests = tuple((a, bytes(len(d))) for a, d in digests)
    return LogEvent(pcr, etype, digests, data)


def no_action_event(banks: Sequence[Bank], data: bytes, pcr: int = 0) -> LogEvent:
    """EV_NO_ACTION with all-zero digests (PFP)."""
    return LogEvent(pcr, _E["EV_NO_ACTION"], tuple((a, bytes(s)) for a, s in banks), data)


def _events(banks: Sequence[Bank], *, sha1_log: bool) -> st.SearchStrategy[LogEvent]:
    del sha1_log
    return st.one_of(
        _variable_event(banks),
        _gpt_event(banks),
        _string_event(banks),
        _separator_event(banks),
        _whole_data_event(banks),
        _any_event(banks),
        _any_event(banks),
    )


@st.composite
def _insert_startup(
    draw: st.DrawFn, events: list[LogEvent], banks: Sequence[Bank]
) -> list[LogEvent]:
    """StartupLocality (0/3/4, sometimes invalid), first or after a PCR 0 extend,
    sometimes twice; sometimes an EV_EFI_HCRTM_EVENT first in PCR 0."""
    out = list(events)
    if _one_in(draw, 4):
        hcrtm = LogEvent(
            0,
            _E["EV_EFI_HCRTM_EVENT"],
            draw(_digest_list(banks, draw(st.binary(max_size=8)))),
            HCRTM_DATA,
        )
        out.insert(draw(st.sampled_from((0, 0, len(out)))), hcrtm)
    for _ in range(draw(st.sampled_from((0, 1, 1, 1, 2)))):
        locality = draw(st.one_of(st.sampled_from((0, 3, 4)), st.integers(0, 255)))
        event = no_action_event(banks, startup_locality_data(locality))
        where = draw(st.sampled_from((0, 0, 0, len(out)))) if out else 0
        if _one_in(draw, 6):
            out.insert(
                0, LogEvent(0, _E["EV_S_CRTM_VERSION"], draw(_digest_list(banks, b"v1")), b"v1")
            )
            where = 1 + draw(st.integers(0, len(out) - 1))
        out.insert(where, event)
    if _one_in(draw, 10):  # not a StartupLocality: wrong size or not PCR 0
        out.insert(0, no_action_event(banks, startup_locality_data(3) + b"\x00"))
    if _one_in(draw, 10):
        out.insert(0, no_action_event(banks, startup_locality_data(3), pcr=6))
    return out


@st.composite
def _separators_block(draw: st.DrawFn, banks: Sequence[Bank]) -> list[LogEvent]:
    """EV_SEPARATOR in PCRs 0-7 (the OS transition), sometimes a PCR twice."""
    pcrs = list(range(8)) + draw(st.lists(st.integers(0, 7), max_size=2))
    return [draw(_separator_event(banks, pcr)) for pcr in pcrs[: draw(st.integers(0, len(pcrs)))]]


@st.composite
def spec_id_fields(draw: st.DrawFn, banks: Sequence[Bank]) -> SpecIdFields:
    """A well-formed TCG_EfiSpecIdEvent for `banks` (uintnSize 1 or 2)."""
    if not banks:
        raise InvalidArgument("banks must not be empty")
    return SpecIdFields(
        tuple(banks),
        platform_class=draw(st.sampled_from((0, 1))),
        version=(0, 2, draw(st.sampled_from((0, 2)))),
        uintn_size=draw(st.sampled_from((1, 2))),
        vendor_info=draw(st.binary(max_size=4)),
    )


@st.composite
def event_log_models(
    draw: st.DrawFn,
    *,
    min_events: int = 0,
    max_events: int = 20,
    formats: Sequence[str] = ("crypto-agile", "sha1"),
) -> EventLogModel:
    """A well-formed log (every length right): crypto-agile (Spec ID with 1-3 known banks,
    sometimes an unknown one) or SHA-1 format; events of many types, StartupLocality and
    H-CRTM events, separators. Findings (warnings) are likely; parse errors are not,
    except an event naming an algorithm the Spec ID does not list (rare)."""
    _check_count(min_events, max_events)
    if not formats or any(f not in ("crypto-agile", "sha1") for f in formats):
        raise InvalidArgument(f"formats must be from crypto-agile, sha1: {formats}")
    fmt = draw(st.sampled_from(tuple(formats)))
    banks: list[Bank] = [LOG_ALGORITHMS["sha1"]] if fmt == "sha1" else draw(spec_id_banks())
    body = draw(
        st.lists(_events(banks, sha1_log=fmt == "sha1"), min_size=min_events, max_size=max_events)
    )
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(body)))
        body = body[:cut] + draw(_separators_block(banks)) + body[cut:]
    body = draw(_insert_startup(body, banks))[: max(max_events, min_events) + 4]
    if fmt == "sha1":
        if not body:  # a SHA-1 log has at least one record (an empty log is no log)
            body = [draw(_any_event(banks))]
        if body and body[0].type == _E["EV_NO_ACTION"] and body[0].pcr == 0 and draw(st.booleans()):
            body[0] = replace(body[0], data=b"Spec ID Event00\x00" + body[0].data[16:])
        return EventLogModel(
            None, tuple(replace(e, digests=e.digests[:1] or ((SHA1_ID, bytes(20)),)) for e in body)
        )
    if _one_in(draw, 25) and body:  # an algorithm the Spec ID does not list
        i = draw(st.integers(0, len(body) - 1))
        stranger = draw(st.sampled_from(sorted(_KNOWN_HASH_IDS - {a for a, _ in banks})))
        body[i] = replace(body[i], digests=(*body[i].digests, (stranger, bytes(20))))
    if _one_in(draw, 30) and body and body[0].digests:  # a bank given twice
        body[0] = replace(body[0], digests=(*body[0].digests, body[0].digests[0]))
    return EventLogModel(draw(spec_id_fields(banks)), tuple(body))


def event_logs(
    *, min_events: int = 0, max_events: int = 20, formats: Sequence[str] = ("crypto-agile", "sha1")
) -> st.SearchStrategy[bytes]:
    """The bytes of `event_log_models(...)`."""
    models = event_log_models(min_events=min_events, max_events=max_events, formats=formats)
    return models.map(EventLogModel.to_bytes)


# --- corruptions -------------------------------------------------------------------------

CORRUPTIONS = (
    "truncate",
    "flip",
    "giant_size",
    "giant_count",
    "zero_size",
    "trailing",
    "spec_id",
    "empty",
)


@st.composite
def corrupted_event_logs(draw: st.DrawFn, corruptions: Sequence[str] = CORRUPTIONS) -> bytes:
    """One corruption of a valid log: truncated at a random offset, one byte flipped, a
    giant EventSize or digest count, an event declaring size 0, trailing garbage, a bad
    Spec ID event (version, count, sizes, vendorInfoSize, uintnSize), or nothing at all."""
    chosen = tuple(corruptions)
    if not chosen or any(c not in CORRUPTIONS for c in chosen):
        raise InvalidArgument(f"corruptions must be a non-empty subset of {CORRUPTIONS}")
    how = draw(st.sampled_from(chosen))
    if how == "empty":
        return b""
    model = draw(
        event_log_models(min_events=1 if how in ("giant_size", "giant_count", "zero_size") else 0)
    )
    data = model.to_bytes()
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes((data[at] ^ draw(st.integers(1, 255)),)) + data[at + 1 :]
    if how == "trailing":
        return data + draw(st.binary(min_size=1, max_size=40))
    if how == "spec_id":
        return _bad_spec_id(draw, model)
    events = list(model.events)
    i = draw(st.integers(0, len(events) - 1))
    if how == "giant_size":
        big = draw(st.sampled_from((0xFFFFFFFF, 0x7FFFFFFF, 0x10000000, len(events[i].data) + 1)))
        events[i] = replace(events[i], size_override=big)
    elif how == "giant_count":
        if model.spec_id is None:  # SHA-1 records have no count: giant size instead
            events[i] = replace(events[i], size_override=0xFFFFFFFF)
        else:
            big = draw(st.sampled_from((0xFFFFFFFF, 0x80000000, 65536, len(events[i].digests) + 1)))
            events[i] = replace(events[i], count_override=big)
    else:  # zero_size: the size says 0, the data stays (it reads as the next record)
        events[i] = replace(events[i], size_override=0)
    return replace(model, events=tuple(events)).to_bytes()


def _bad_spec_id(draw: st.DrawFn, model: EventLogModel) -> bytes:
    spec_id = model.spec_id or SpecIdFields((LOG_ALGORITHMS["sha256"],))
    how = draw(
        st.sampled_from(
            ("version", "count0", "count_big", "size", "dup", "vendor", "uintn", "short")
        )
    )
    if how == "version":
        spec_id = replace(spec_id, version=draw(st.sampled_from(((1, 2, 0), (0, 1, 0), (0, 3, 0)))))
    elif how == "count0":
        spec_id = replace(spec_id, count_override=0)
    elif how == "count_big":
        spec_id = replace(
            spec_id, count_override=draw(st.sampled_from((0xFFFFFFFF, len(spec_id.algorithms) + 1)))
        )
    elif how == "size":
        alg, size = spec_id.algorithms[0]
        spec_id = replace(
            spec_id,
            algorithms=((alg, size + draw(st.sampled_from((1, -1)))), *spec_id.algorithms[1:]),
        )
    elif how == "dup":
        spec_id = replace(spec_id, algorithms=(*spec_id.algorithms, spec_id.algorithms[0]))
    elif how == "vendor":
        spec_id = replace(
            spec_id,
            vendor_info_size=(len(spec_id.vendor_info) + draw(st.sampled_from((1, 2, 255)))) % 256,
        )
    elif how == "uintn":
        spec_id = replace(spec_id, uintn_size=draw(st.sampled_from((0, 3, 8))))
    else:
        header = LogEvent(
            0,
            _E["EV_NO_ACTION"],
            ((SHA1_ID, bytes(20)),),
            spec_id.to_bytes()[: draw(st.integers(16, 27))],
        )
        return sha1_record(header)
    return replace(model, spec_id=spec_id).to_bytes()


# --- real-TPM boots ----------------------------------------------------------------------


@dataclass(frozen=True)
class TpmBoot:
    """A log a TPM can reproduce: TPM2_Startup at `locality` after an optional H-CRTM
    sequence over `hcrtm_data`, then `extends` (pcr, {bank: digest}) at locality 0."""

    model: EventLogModel
    locality: int
    hcrtm_data: bytes | None
    extends: tuple[tuple[int, tuple[tuple[str, bytes], ...]], ...]


TPM_PCRS = (*range(17), 23)  # extendable at locality 0 (PTP): 0-16 and 23


@st.composite
def tpm_boots(
    draw: st.DrawFn, banks: Sequence[str] = ("sha1", "sha256"), max_events: int = 12
) -> TpmBoot:
    """A crypto-agile log with a StartupLocality event (0 or 3; sometimes 4 with an H-CRTM),
    an optional H-CRTM (EV_EFI_HCRTM_EVENT whose digest is H(measured data), first in
    PCR 0), events in PCRs 0-16 and 23 (sometimes missing a bank), and non-extending
    EV_NO_ACTION events."""
    names = _check_names(banks, "banks")
    if not 1 <= max_events <= MAX_EVENTS:
        raise InvalidArgument(f"max_events must be 1..{MAX_EVENTS}, got {max_events}")
    spec_banks = [LOG_ALGORITHMS[n] for n in names]
    locality = draw(st.sampled_from((0, 3)))
    hcrtm_data = draw(st.one_of(st.none(), st.binary(min_size=1, max_size=32)))
    # with an H-CRTM, edk2 logs StartupLocality 4 whatever the Startup locality (ADR rule 4)
    logged = locality if hcrtm_data is None else draw(st.sampled_from((locality, 4)))
    events = [no_action_event(spec_banks, startup_locality_data(logged))]
    if hcrtm_data is not None:
        digests = tuple((LOG_ALGORITHMS[n][0], hash_bytes(n, hcrtm_data)) for n in names)
        events.append(LogEvent(0, _E["EV_EFI_HCRTM_EVENT"], digests, HCRTM_DATA))
    extends: list[tuple[int, tuple[tuple[str, bytes], ...]]] = []
    types = st.sampled_from(
        tuple(v for k, v in _E.items() if k not in ("EV_NO_ACTION", "EV_EFI_HCRTM_EVENT"))
    )
    for _ in range(draw(st.integers(1, max_events))):
        if _one_in(draw, 8):
            events.append(
                no_action_event(
                    spec_banks, draw(st.binary(max_size=8)), draw(st.sampled_from(TPM_PCRS))
                )
            )
            continue
        pcr = draw(st.sampled_from(TPM_PCRS))
        data = draw(st.binary(max_size=16))
        present = list(names)
        if len(present) > 1 and _one_in(draw, 40):
            present.remove(draw(st.sampled_from(present)))
        by_name = tuple((n, hash_bytes(n, data + b"m")) for n in present)
        extends.append((pcr, by_name))
        events.append(
            LogEvent(pcr, draw(types), tuple((LOG_ALGORITHMS[n][0], d) for n, d in by_name), data)
        )
    model = EventLogModel(SpecIdFields(tuple(spec_banks)), tuple(events))
    return TpmBoot(model, locality, hcrtm_data, tuple(extends))


# --- PCR values --------------------------------------------------------------------------


@st.composite
def pcr_value_maps(
    draw: st.DrawFn, banks: Sequence[str] = tuple(LOG_ALGORITHMS)
) -> dict[str, dict[int, bytes]]:
    """{bank: {pcr: value}} with 1-3 banks of `banks`, 1-6 PCRs each, right sizes."""
    names = _check_names(banks, "banks")
    chosen = draw(st.permutations(names))[: draw(st.integers(1, min(3, len(names))))]
    out: dict[str, dict[int, bytes]] = {}
    for name in chosen:
        size = LOG_ALGORITHMS[name][1]
        pcrs = draw(st.lists(st.integers(0, 23), min_size=1, max_size=6, unique=True))
        out[name] = {p: draw(st.binary(min_size=size, max_size=size)) for p in pcrs}
    return out


def format_pcrread(values: dict[str, dict[int, bytes]], *, wrapper: bool = False) -> str:
    """tpm2_pcrread's output layout: `  sha256:` then `    0 : 0xHEX` (upper case)."""
    lines = ["pcrs:"] if wrapper else []
    for bank, pcrs in values.items():
        lines.append(f"  {bank}:")
        lines += [f"    {p:<2}: 0x{v.hex().upper()}" for p, v in pcrs.items()]
    return "\n".join(lines) + "\n"


@st.composite
def pcrread_texts(draw: st.DrawFn) -> str:
    """tpm2_pcrread-style YAML or the JSON forms of ADR 0002, sometimes damaged (odd hex,
    wrong size, PCR 24, unknown bank, a PCR twice, a stray line, empty)."""

    values = draw(pcr_value_maps())
    form = draw(st.sampled_from(("yaml", "yaml", "wrapped", "json", "json_bare")))
    if form in ("yaml", "wrapped"):
        text = format_pcrread(values, wrapper=form == "wrapped")
    else:
        doc = {b: {str(p): v.hex() for p, v in pcrs.items()} for b, pcrs in values.items()}
        text = json.dumps({"pcrs": doc} if form == "json" else doc)
    damage = draw(
        st.sampled_from(
            ("none", "none", "none", "odd", "size", "pcr24", "bank", "twice", "stray", "empty")
        )
    )
    bank = next(iter(values))
    value = values[bank][next(iter(values[bank]))].hex().upper()
    shown = value if value in text else value.lower()
    if damage == "odd":
        text = text.replace(shown, shown[:-1], 1)
    elif damage == "size":
        text = text.replace(shown, shown[:-2], 1)
    elif damage == "pcr24":
        text = format_pcrread({**values, bank: {**values[bank]}}) + f"    24: 0x{value}\n"
    elif damage == "bank":
        text = text.replace(bank, "md5", 1)
    elif damage == "twice" and form in ("yaml", "wrapped"):
        first = next(iter(values[bank]))
        text += f"  {bank}:\n    {first} : 0x{value}\n"
    elif damage == "stray":
        text += "garbage line\n"
    elif damage == "empty":
        text = draw(st.sampled_from(("", "{}", "pcrs:\n", '{"pcrs": {}}')))
    return text
