"""A minimal TPM 2.0 driver for `boot run --tpm`: raw commands over swtpm's data port.

Sources: TPM 2.0 Library Part 1, 18 (command/response header: tag, size, code; all
big-endian) and 19.6 (password authorization: TPM_RS_PW with an empty nonce and auth);
Part 2 tables TPM_ST (TPM_ST_NO_SESSIONS 0x8001, TPM_ST_SESSIONS 0x8002), TPM_CC
(TPM2_PCR_Extend 0x182, TPM2_PCR_Read 0x17E), TPM_RH (TPM_RS_PW 0x40000009),
TPML_PCR_SELECTION, TPML_DIGEST, TPML_DIGEST_VALUES; Part 3, 22.2 TPM2_PCR_Extend and
22.4 TPM2_PCR_Read (at most 8 digests per response, TPML_DIGEST's bound, so the reader
asks again for the PCRs the TPM did not return).

`swtpm socket --tpm2 --server type=tcp,...` takes the raw frames on its data port, one
command and one response at a time on a connection. Every response code is checked;
any response that is not exactly the expected structure is refused.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Protocol

from chainoftrust.impl.errors import (
    ErrorCode,
    ImplError,
    MalformedInputError,
    TpmRefusalError,
    UsageError,
)
from chainoftrust.impl.eventlog import parse_event_log
from chainoftrust.impl.hashes import DIGEST_SIZES, HashAlg, hash_alg_from_name, to_hash_alg
from chainoftrust.impl.pcr import PCR_COUNT
from chainoftrust.impl.selection import marshal_digest_values, marshal_pcr_selection

TPM_ST_NO_SESSIONS = 0x8001
TPM_ST_SESSIONS = 0x8002
TPM_CC_PCR_EXTEND = 0x00000182
TPM_CC_PCR_READ = 0x0000017E
TPM_RS_PW = 0x40000009
TPM_RC_SUCCESS = 0x000
HEADER = struct.Struct(">HII")  # tag, size, command or response code
MAX_RESPONSE = 4096  # far above a PCR_Read response (8 digests of at most 64 bytes)
MAX_DIGESTS = 8  # TPML_DIGEST: at most 8 entries
DEFAULT_TIMEOUT = 10.0


def parse_tpm_address(text: str) -> tuple[str, int]:
    """`HOST:PORT` (or `[IPv6]:PORT`) as (host, port); else a UsageError."""
    host, sep, port = text.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port.isascii() or not port.isdigit():
        raise UsageError(ErrorCode.INVALID_DOCUMENT, f"not HOST:PORT: {text!r}", field="tpm")
    number = int(port)
    if not 1 <= number <= 65535:
        raise UsageError(ErrorCode.INVALID_DOCUMENT, f"port {number} out of range", field="tpm")
    return host, number


def _password_session() -> bytes:
    """authorizationSize, then TPMS_AUTH_COMMAND: TPM_RS_PW, empty nonce, attributes 0,
    empty hmac (the password)."""
    session = struct.pack(">IHBH", TPM_RS_PW, 0, 0, 0)
    return struct.pack(">I", len(session)) + session


def _command(tag: int, code: int, body: bytes) -> bytes:
    return HEADER.pack(tag, HEADER.size + len(body), code) + body


def _malformed(message: str, offset: int) -> MalformedInputError:
    return MalformedInputError(
        ErrorCode.TRUNCATED, f"TPM response: {message}", field="response", offset=offset
    )


class SwtpmClient:
    """One TCP connection to a TPM's command port (swtpm `--server type=tcp`)."""

    def __init__(self, host: str, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Connect; an unreachable TPM raises OSError."""
        self._sock = socket.create_connection((host, port), timeout=timeout)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> SwtpmClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _receive(self, count: int) -> bytes:
        chunks: list[bytes] = []
        remaining = count
        while remaining:
            chunk = self._sock.recv(min(remaining, 65536))
            if not chunk:
                raise _malformed(f"connection closed with {remaining} bytes missing", count)
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)

    def transact(self, command: bytes, what: str) -> bytes:
        """Send one command, return the response's bytes after the header; a response
        code other than TPM_RC_SUCCESS is a TpmRefusalError carrying it."""
        self._sock.sendall(command)
        tag, size, rc = HEADER.unpack(self._receive(HEADER.size))
        if tag not in (TPM_ST_NO_SESSIONS, TPM_ST_SESSIONS):
            raise _malformed(f"unknown tag {tag:#06x}", 0)
        if not HEADER.size <= size <= MAX_RESPONSE:
            raise _malformed(f"size {size} out of range", 2)
        body = self._receive(size - HEADER.size)
        if rc != TPM_RC_SUCCESS:
            raise TpmRefusalError(
                ErrorCode.TPM_PCR_MISMATCH,
                f"{what} refused by the TPM: TPM_RC {rc:#x}",
                tpm_rc=rc,
                field="tpm",
            )
        return body

    def pcr_extend(self, pcr: int, digests: Sequence[tuple[int, bytes]]) -> None:
        """TPM2_PCR_Extend(pcr, TPML_DIGEST_VALUES) with an empty password session."""
        values = marshal_digest_values(digests)  # checks each digest's size for its bank
        body = struct.pack(">I", pcr) + _password_session() + values
        response = self.transact(
            _command(TPM_ST_SESSIONS, TPM_CC_PCR_EXTEND, body), f"TPM2_PCR_Extend(PCR {pcr})"
        )
        # parameterSize (no parameters), then one TPMS_AUTH_RESPONSE: nonce, attrs, hmac
        if len(response) < 4 or struct.unpack_from(">I", response)[0] != 0:
            raise _malformed("TPM2_PCR_Extend returned parameters", HEADER.size)

    def pcr_read(self, alg: HashAlg, pcrs: Sequence[int]) -> dict[int, bytes]:
        """TPM2_PCR_Read of `pcrs` in bank `alg`, asking again for what each response
        leaves out; a bank the TPM does not allocate reads as {}."""
        alg = to_hash_alg(alg, "alg")
        wanted = set(pcrs)
        out: dict[int, bytes] = {}
        while wanted:
            got = self._read_once(alg, wanted)
            if not got:
                break  # unallocated bank (or PCRs it will not return): nothing more
            out.update(got)
            wanted -= set(got)
        return out

    def _read_once(self, alg: HashAlg, wanted: set[int]) -> dict[int, bytes]:
        body = marshal_pcr_selection([(alg, wanted)])
        response = self.transact(
            _command(TPM_ST_NO_SESSIONS, TPM_CC_PCR_READ, body), "TPM2_PCR_Read"
        )
        return _parse_pcr_read(response, alg, wanted)


def _parse_pcr_read(response: bytes, alg: HashAlg, wanted: set[int]) -> dict[int, bytes]:
    """pcrUpdateCounter, TPML_PCR_SELECTION pcrSelectionOut, TPML_DIGEST pcrValues."""
    view = memoryview(response)
    pos = 4  # pcrUpdateCounter
    if len(view) < pos + 4:
        raise _malformed("truncated selection", HEADER.size + pos)
    (count,) = struct.unpack_from(">I", view, pos)
    pos += 4
    if count > 1:
        raise _malformed(f"{count} selections for a one-bank read", HEADER.size + pos)
    selected: list[int] = []
    for _ in range(count):
        if len(view) < pos + 3:
            raise _malformed("truncated selection", HEADER.size + pos)
        hash_id, size = struct.unpack_from(">HB", view, pos)
        pos += 3
        if hash_id != alg or len(view) < pos + size:
            raise _malformed("selection of another bank or truncated", HEADER.size + pos)
        bitmap = bytes(view[pos : pos + size])
        pos += size
        selected = [i for i in range(size * 8) if bitmap[i // 8] >> (i % 8) & 1]
    if not set(selected) <= wanted or len(view) < pos + 4:
        raise _malformed("PCRs that were not asked for, or truncated", HEADER.size + pos)
    (n_digests,) = struct.unpack_from(">I", view, pos)
    pos += 4
    if n_digests != len(selected) or n_digests > MAX_DIGESTS:
        raise _malformed("digest count differs from the selection", HEADER.size + pos)
    values: dict[int, bytes] = {}
    for pcr in selected:
        if len(view) < pos + 2:
            raise _malformed("truncated digest", HEADER.size + pos)
        (size,) = struct.unpack_from(">H", view, pos)
        pos += 2
        if size != DIGEST_SIZES[alg] or len(view) < pos + size:
            raise _malformed("digest of the wrong size or truncated", HEADER.size + pos)
        values[pcr] = bytes(view[pos : pos + size])
        pos += size
    if pos != len(view):
        raise MalformedInputError(
            ErrorCode.TRAILING_BYTES, "TPM response: trailing bytes", field="response",
            offset=HEADER.size + pos,
        )  # fmt: skip
    return values


class BootRecord(Protocol):
    """What the driver needs of a BootResult."""

    @property
    def pcrs(self) -> Mapping[str, Mapping[str, str]]: ...

    @property
    def event_log(self) -> bytes: ...


def verify_boot_on_tpm(
    address: str, result: BootRecord, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, dict[str, str]]:
    """Send TPM2_PCR_Extend for every measured layer of `result` (the records of its
    event log, in order) to the TPM at `address`, read all 24 PCRs of every bank back,
    and return them when they equal `result.pcrs`; else TPM_PCR_MISMATCH naming the
    first differing PCR (`pcrs.<bank>.<index>`). The TPM must have just run
    TPM2_Startup(CLEAR) at locality 0 with every bank of the chain allocated.
    A refused command is a TpmRefusalError; an unreachable TPM, an OSError."""
    host, port = parse_tpm_address(address)
    log = parse_event_log(result.event_log)
    with SwtpmClient(host, port, timeout) as client:
        for event in log.events[1:]:
            client.pcr_extend(event.pcr, event.digests)
        read: dict[str, dict[str, str]] = {}
        for bank in result.pcrs:
            values = client.pcr_read(hash_alg_from_name(bank), range(PCR_COUNT))
            read[bank] = {str(i): values[i].hex() for i in sorted(values)}
    for bank, expected in result.pcrs.items():
        for index in range(PCR_COUNT):
            key = str(index)
            if read[bank].get(key) != expected[key]:
                raise ImplError(
                    ErrorCode.TPM_PCR_MISMATCH,
                    f"the TPM's {bank} PCR {index} is {read[bank].get(key, 'not allocated')},"
                    f" the boot computed {expected[key]}",
                    field=f"pcrs.{bank}.{index}",
                )
    return read
