"""Forward TPM 2.0 command frames from stdin to swtpm's data port; responses to stdout.

Used as tpm2-tools' `cmd:` TCTI (``TPM2TOOLS_TCTI="cmd:python3 tpm_proxy.py HOST PORT"``).
Unlike the `swtpm:` TCTI, which speaks the MS simulator protocol and sets the locality on
every command, this proxy sends the raw frames over swtpm's data channel, so the locality
set with ``swtpm_ioctl -l N`` on the control channel stays in force.

A frame is a TPM command or response: a 10-byte header whose bytes 2..5 are the total size
as a big-endian u32 (TPM 2.0 Part 1, 18.2 "Command/Response Header Fields"), then the rest.
Standard library only; one TCP connection per run; exits at end of input.
"""

from __future__ import annotations

import socket
import sys
from typing import BinaryIO

HEADER_SIZE = 10
MAX_FRAME = 1 << 20  # far above any TPM frame; bounds memory on a garbled stream


def _read_exact(read: BinaryIO | socket.socket, count: int) -> bytes | None:
    """Read exactly count bytes; None at a clean end of input before the first byte."""
    chunks: list[bytes] = []
    remaining = count
    while remaining:
        chunk = read.recv(remaining) if isinstance(read, socket.socket) else read.read(remaining)
        if not chunk:
            if remaining == count:
                return None
            raise EOFError(f"stream ended after {count - remaining} of {count} bytes")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _read_frame(read: BinaryIO | socket.socket) -> bytes | None:
    """One TPM frame (header + body), or None at end of input."""
    header = _read_exact(read, HEADER_SIZE)
    if header is None:
        return None
    size = int.from_bytes(header[2:6], "big")
    if not HEADER_SIZE <= size <= MAX_FRAME:
        raise ValueError(f"frame size {size} out of range")
    body = _read_exact(read, size - HEADER_SIZE) if size > HEADER_SIZE else b""
    if body is None:
        raise EOFError("stream ended after a frame header")
    return header + body


def main(argv: list[str]) -> int:
    """Proxy frames until stdin ends."""
    if len(argv) != 3:
        sys.stderr.write("usage: tpm_proxy.py HOST PORT\n")
        return 2
    host, port = argv[1], int(argv[2])
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    with socket.create_connection((host, port), timeout=30) as conn:
        while True:
            command = _read_frame(stdin)
            if command is None:
                return 0
            conn.sendall(command)
            response = _read_frame(conn)
            if response is None:
                sys.stderr.write("swtpm closed the connection\n")
                return 1
            stdout.write(response)
            stdout.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
