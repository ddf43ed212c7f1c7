"""A real TPM 2.0 for the tests: swtpm (libtpms) driven by tpm2-tools.

`Swtpm` starts `swtpm socket --tpm2` on 127.0.0.1 (ports found by binding port 0) with a
fresh temporary state directory and `--flags not-need-init`, and executes operations
documents (docs/adr/0001-pcr-contract.md) on it.

How each operation reaches the TPM:
- tpm2-tools talk through the `cmd:` TCTI to `tpm_proxy.py`, which forwards raw frames to
  swtpm's data port. (The `swtpm:` TCTI resets the locality to 0 on every command, so
  `swtpm_ioctl -l N` would have no effect through it.) The locality of the following
  commands is set with `swtpm_ioctl --tcp HOST:CTRL -l N`.
- startup: TPM2_Startup as a raw frame over the data port, NOT tpm2_startup. Reason,
  found by experiment: tpm2_startup exits 0 when the TPM answers TPM_RC_INITIALIZE
  (already started; the TSS treats it as success), so ALREADY_STARTED would be invisible.
  The raw frame (TPM 2.0 Part 3, 9.3 TPM2_Startup: tag, size, TPM_CC_Startup 0x144,
  TPM_SU) shows the real response code.
- shutdown: tpm2_shutdown [-c], then `swtpm_ioctl -i` (_TPM_Init: the power cycle of ADR
  0001 semantics 1).
- extend: tpm2_pcrextend N:alg=hex,...; an empty digest list (a valid TPM2_PCR_Extend
  with count 0, ADR semantics 4) cannot be written for tpm2_pcrextend, so it is sent as a
  raw TPM2_PCR_Extend frame with a password session (empty auth).
- event: tpm2_pcrevent N FILE (data <= 1024 bytes, so the tool sends TPM2_PCR_Event).
- reset: tpm2_pcrreset N.
- hcrtm / drtm: `swtpm_ioctl -h -` (_TPM_Hash_Start/Data/End; data on stdin). swtpm
  itself decides from its started state whether this is an H-CRTM or a DRTM sequence.
- result: tpm2_pcrread of all 24 PCRs of every bank of the document, or the TPM_RC of
  the first refused command, parsed from the TSS message "ErrorCode (0x...)".

Between documents the TPM is brought back to "powered on, after _TPM_Init, no saved
state, allocation = the document's banks": _TPM_Init, Startup(CLEAR) (which also
discards any saved state), PCR allocation when it differs (tpm2_pcrallocate; it takes
effect at the next TPM reset, so a second _TPM_Init + Startup(CLEAR)), _TPM_Init.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

PROXY = Path(__file__).with_name("tpm_proxy.py")
PCR_COUNT = 24
SWTPM_BANKS = ("sha1", "sha256", "sha384", "sha512")
# TPM 2.0 Part 2, Table 2:12 TPM_CC and Table 2:20 TPM_SU; Table 2:19 TPM_ST.
TPM_ST_NO_SESSIONS = 0x8001
TPM_ST_SESSIONS = 0x8002
TPM_CC_STARTUP = 0x00000144
TPM_CC_PCR_EXTEND = 0x00000182
TPM_SU = {"clear": 0x0000, "state": 0x0001}
TPM_RS_PW = 0x40000009  # Part 2, Table 2:28 TPM_RH: password authorization session
TPM_RC_SUCCESS = 0x000
TPM_RC_INITIALIZE = 0x100
TOOLS = (
    "swtpm",
    "swtpm_ioctl",
    "tpm2_pcrextend",
    "tpm2_pcrevent",
    "tpm2_pcrreset",
    "tpm2_pcrread",
    "tpm2_pcrallocate",
    "tpm2_shutdown",
)
_ERROR_CODE = re.compile(r"ErrorCode \(0x([0-9a-fA-F]{8})\)")
_PCR_LINE = re.compile(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$")
_BANK_LINE = re.compile(r"^\s+(\w+):\s*$")


class HarnessError(RuntimeError):
    """The harness could not run a step (tool failure that is not a TPM response code)."""


@dataclass(frozen=True)
class Outcome:
    """What swtpm did with a document: the PCR values in predict's output shape, or the
    first refusal (operation index, None when the final read was refused) and its TPM_RC."""

    pcrs: dict[str, dict[str, str]] | None
    operation: int | None = None
    tpm_rc: int | None = None

    @property
    def refused(self) -> bool:
        return self.pcrs is None


@dataclass(frozen=True)
class _Refusal:
    tpm_rc: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _session_area() -> bytes:
    """One password session with empty nonce and empty auth (Part 1, 19.6.4 / Part 2
    TPMS_AUTH_COMMAND), preceded by its u32 size."""
    session = TPM_RS_PW.to_bytes(4, "big") + b"\x00\x00" + b"\x00" + b"\x00\x00"
    return len(session).to_bytes(4, "big") + session


def _frame(tag: int, command_code: int, body: bytes) -> bytes:
    return (
        tag.to_bytes(2, "big")
        + (10 + len(body)).to_bytes(4, "big")
        + command_code.to_bytes(4, "big")
        + body
    )


class Swtpm:
    """One swtpm process; `run_document` executes an operations document on it."""

    def __init__(self, workdir: Path | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="swtpm-", dir=workdir)
        self.state_dir = Path(self._tmp.name) / "state"
        self.state_dir.mkdir()
        self._process: subprocess.Popen[bytes] | None = None
        self.data_port = 0
        self.ctrl_port = 0
        self._allocation: tuple[str, ...] | None = None
        self.commands_run = 0

    # --- process ---------------------------------------------------------------------

    def start(self) -> None:
        """Start swtpm; retry with new ports if one was taken meanwhile."""
        for _attempt in range(5):
            self.data_port, self.ctrl_port = _free_port(), _free_port()
            if self.data_port == self.ctrl_port:
                continue
            log = Path(self._tmp.name) / "swtpm.log"
            self._process = subprocess.Popen(
                [
                    "swtpm", "socket", "--tpm2",
                    "--tpmstate", f"dir={self.state_dir}",
                    "--server", f"type=tcp,port={self.data_port},bindaddr=127.0.0.1",
                    "--ctrl", f"type=tcp,port={self.ctrl_port},bindaddr=127.0.0.1",
                    "--flags", "not-need-init",
                    "--log", f"file={log}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            if self._wait_ready():
                self._allocation = None
                return
            self.stop()
        raise HarnessError("swtpm did not start")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1):
                    pass
                with socket.create_connection(("127.0.0.1", self.data_port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def close(self) -> None:
        self.stop()
        self._tmp.cleanup()

    def __enter__(self) -> Swtpm:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- primitive steps --------------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        proxy = f"{sys.executable} -I -S {PROXY} 127.0.0.1 {self.data_port}"
        return {**os.environ, "TPM2TOOLS_TCTI": f"cmd:{proxy}"}

    def ioctl(self, *args: str, stdin: bytes | None = None) -> None:
        """swtpm_ioctl on the control channel; any failure is a harness error."""
        self.commands_run += 1
        done = subprocess.run(
            ["swtpm_ioctl", "--tcp", f"127.0.0.1:{self.ctrl_port}", *args],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            timeout=30,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"swtpm_ioctl {args}: {done.stderr.decode(errors='replace')}")

    def tool(self, *args: str) -> subprocess.CompletedProcess[str] | _Refusal:
        """Run one tpm2-tools command; a TPM refusal is returned, other failures raise."""
        self.commands_run += 1
        done = subprocess.run(
            list(args), env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode == 0:
            return done
        codes = [int(c, 16) for c in _ERROR_CODE.findall(done.stderr)]
        # A TPM response code has no TSS layer bits (TSS2_RC layer 0 = the TPM itself).
        tpm_codes = [c for c in codes if c < 0x10000]
        if not tpm_codes:
            raise HarnessError(f"{args[0]} failed without a TPM response code:\n{done.stderr}")
        return _Refusal(tpm_codes[0])

    def raw(self, frame: bytes) -> int:
        """Send one command frame over the data port; return the response code."""
        self.commands_run += 1
        with socket.create_connection(("127.0.0.1", self.data_port), timeout=30) as conn:
            conn.sendall(frame)
            header = b""
            while len(header) < 10:
                chunk = conn.recv(10 - len(header))
                if not chunk:
                    raise HarnessError("swtpm closed the data connection")
                header += chunk
            size = int.from_bytes(header[2:6], "big")
            remaining = size - 10
            while remaining > 0:
                chunk = conn.recv(remaining)
                if not chunk:
                    raise HarnessError("swtpm closed the data connection mid-response")
                remaining -= len(chunk)
        return int.from_bytes(header[6:10], "big")

    def power_cycle(self) -> None:
        """_TPM_Init."""
        self.ioctl("-i")

    def set_locality(self, locality: int) -> None:
        self.ioctl("-l", str(locality))

    def startup(self, startup_type: str) -> int:
        return self.raw(
            _frame(TPM_ST_NO_SESSIONS, TPM_CC_STARTUP, TPM_SU[startup_type].to_bytes(2, "big"))
        )

    def empty_extend(self, pcr: int) -> int:
        """TPM2_PCR_Extend(pcr, TPML_DIGEST_VALUES with count 0)."""
        body = pcr.to_bytes(4, "big") + _session_area() + (0).to_bytes(4, "big")
        return self.raw(_frame(TPM_ST_SESSIONS, TPM_CC_PCR_EXTEND, body))

    def hash_sequence(self, data: bytes) -> None:
        """_TPM_Hash_Start, _TPM_Hash_Data(data), _TPM_Hash_End."""
        self.ioctl("-h", "-", stdin=data)

    # --- state between documents ------------------------------------------------------

    def fresh(self, banks: Sequence[str]) -> None:
        """Powered on, after _TPM_Init, not started, no saved state, allocation = banks."""
        allocation = tuple(b for b in SWTPM_BANKS if b in banks)
        if len(allocation) != len(banks):
            raise HarnessError(f"swtpm cannot allocate {sorted(set(banks) - set(SWTPM_BANKS))}")
        self.power_cycle()
        self.set_locality(0)
        self._check_rc(self.startup("clear"), "Startup(CLEAR) while preparing")
        if allocation != self._allocation:
            spec = "+".join(f"{b}:{'all' if b in allocation else 'none'}" for b in SWTPM_BANKS)
            result = self.tool("tpm2_pcrallocate", spec)
            if isinstance(result, _Refusal):
                raise HarnessError(f"tpm2_pcrallocate refused: {result.tpm_rc:#x}")
            self.power_cycle()
            self._check_rc(self.startup("clear"), "Startup(CLEAR) after allocation")
            self._allocation = allocation
        self.power_cycle()

    @staticmethod
    def _check_rc(rc: int, what: str) -> None:
        if rc != TPM_RC_SUCCESS:
            raise HarnessError(f"{what}: TPM_RC {rc:#x}")

    def read_pcrs(self, banks: Sequence[str]) -> dict[str, dict[str, str]] | _Refusal:
        """All 24 PCRs of each bank, parsed from tpm2_pcrread's output (lowercase hex)."""
        spec = "+".join(f"{b}:all" for b in banks)
        result = self.tool("tpm2_pcrread", spec)
        if isinstance(result, _Refusal):
            return result
        values: dict[str, dict[str, str]] = {}
        bank: str | None = None
        for line in result.stdout.splitlines():
            if match := _BANK_LINE.match(line):
                bank = match.group(1)
                values[bank] = {}
            elif (match := _PCR_LINE.match(line)) and bank is not None:
                values[bank][str(int(match.group(1)))] = match.group(2).lower()
        for name in banks:
            if len(values.get(name, {})) != PCR_COUNT:
                raise HarnessError(f"tpm2_pcrread gave no 24 values for {name}:\n{result.stdout}")
        return {name: values[name] for name in banks}

    # --- documents --------------------------------------------------------------------

    def run_document(self, document: Mapping[str, Any]) -> Outcome:
        """Execute a well-formed document (validity is the caller's business) from a fresh
        TPM; stop at the first refused command."""
        banks: list[str] = list(document["banks"])
        self.fresh(banks)
        with tempfile.TemporaryDirectory(dir=self._tmp.name) as scratch:
            for index, op in enumerate(document["operations"]):
                refusal = self._run_operation(op, Path(scratch))
                if refusal is not None:
                    return Outcome(None, index, refusal.tpm_rc)
        self.set_locality(0)
        read = self.read_pcrs(banks)
        if isinstance(read, _Refusal):
            return Outcome(None, None, read.tpm_rc)
        return Outcome(read)

    def _run_operation(self, op: Mapping[str, Any], scratch: Path) -> _Refusal | None:
        kind = op["op"]
        locality = int(op.get("locality", 0))
        if kind in ("hcrtm", "drtm"):
            self.hash_sequence(bytes.fromhex(op["data"]))
            return None
        self.set_locality(locality)
        if kind == "startup":
            rc = self.startup(op["type"])
            return _Refusal(rc) if rc != TPM_RC_SUCCESS else None
        if kind == "shutdown":
            args = ["tpm2_shutdown", "-c"] if op["type"] == "clear" else ["tpm2_shutdown"]
            result = self.tool(*args)
            if isinstance(result, _Refusal):
                return result
            self.power_cycle()
            return None
        pcr = int(op["pcr"])
        if kind == "extend":
            digests: Mapping[str, str] = op["digests"]
            if not digests:
                rc = self.empty_extend(pcr)
                return _Refusal(rc) if rc != TPM_RC_SUCCESS else None
            spec = ",".join(f"{alg}={value.lower()}" for alg, value in digests.items())
            result = self.tool("tpm2_pcrextend", f"{pcr}:{spec}")
        elif kind == "event":
            path = scratch / "event.bin"
            path.write_bytes(bytes.fromhex(op["data"]))
            result = self.tool("tpm2_pcrevent", str(pcr), str(path))
        elif kind == "reset":
            result = self.tool("tpm2_pcrreset", str(pcr))
        else:
            raise HarnessError(f"unknown operation {kind!r}")
        return result if isinstance(result, _Refusal) else None


def tools_present() -> bool:
    return all(shutil.which(t) for t in TOOLS)
