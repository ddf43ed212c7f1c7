"""TPM quotes from a real TPM 2.0 (swtpm/libtpms) with tpm2-tools, and tpm2_checkquote.

`QuoteTpm` wraps a started `Swtpm` (tests/real/swtpm.py; the tools reach it through the
`cmd:` TCTI proxy of `Swtpm.env`) and makes an EK, AKs, PCR extends, quotes, PCR reads,
and asks third parties for their verdicts. What each tool does, found by experiment
(tpm2-tools 5.4, swtpm with libtpms):

- No resource manager sits between the tools and swtpm, so the transient objects a tool
  loads stay loaded when it exits; swtpm has 3 object slots and the fourth load fails
  with TPM_RC_OBJECT_MEMORY (0x902). Every TPM-using step is therefore followed by
  `tpm2_flushcontext -t`. Saved object contexts (`*.ctx`) stay loadable as long as the
  TPM is not reset, so one `prepare()` serves a whole test module.
- `tpm2_createek -c ek.ctx -G ecc` (the EK's option is `-c`, not `-C`): the EK of the
  endorsement hierarchy. `tpm2_createak -C ek.ctx -c ak.ctx -G ecc|rsa -g sha256 -s
  ecdsa|rsassa|rsapss -f pem -u ak.pem -n ak.name` writes the AK public as a PEM
  SubjectPublicKeyInfo and its Name (nameAlg || SHA-256(TPMT_PUBLIC)) as raw bytes, and
  prints the name and qualified name. The AK is restricted|sign|fixedtpm|fixedparent|
  sensitivedataorigin|userwithauth (objectAttributes 0x00050072), nameAlg sha256, its
  TPM scheme is the `-s` scheme with hash sha256; RSA keys: 2048 bits, exponent field 0
  (= 65537); ECC: NIST P-256, kdf NULL. Under the endorsement hierarchy, so clock-info
  fields of its quotes are not obfuscated.
- `tpm2_readpublic -c ak.ctx -o ak.pub` writes a TPM2B_PUBLIC (u16 size, TPMT_PUBLIC).
- `tpm2_quote -c ak.ctx -l SEL -q HEX -m quote.msg -s quote.sig -o pcrs.out -g sha256`:
  `quote.msg` is the marshalled TPMS_ATTEST (the `quoted:` hex on stdout), whose
  TPML_PCR_SELECTION keeps the order and the entries of SEL as written (even a bank
  named twice, `sha256:0+sha256:1`, gives two entries), qualifiedSigner is the AK's
  qualified name, extraData is the -q bytes (none without -q), and pcrDigest the
  SHA-256 of the selected values. `quote.sig` is a TPMT_SIGNATURE (default `-f tss`);
  with `-f plain`: RSA the bare signature (modulus length), ECDSA a DER Ecdsa-Sig-Value.
  An RSAPSS AK needs `--scheme rsapss` (without it, TPM_RC_SCHEME 0x2d2: the tool asks
  for RSASSA). `-g` other than the key's scheme hash is refused by the tool itself.
  An empty bank (`sha256:`) cannot be written in SEL. The signatures of libtpms' RSAPSS
  use a salt as long as the digest (32 octets for sha256).
- `pcrs.out` (`-o`, default `-F serialized`): tpm2-tools' in-memory structures,
  little-endian: TPML_PCR_SELECTION as a C struct (u32 count, then 16 entries of 8 octets:
  u16 hash, u8 sizeofSelect, pcrSelect[4], one padding octet), a u32 count of lists, then
  that many TPML_DIGEST structs (u32 count, 8 x (u16 size, 64-octet buffer)). The values
  are in selection order (banks as listed, PCRs ascending), at most 8 per list.
- `tpm2_pcrread SEL` prints YAML-like text: `  sha256:` then `    N : 0xHEX` lines, per bank
  in SEL order; parsed here into {TPM_ALG_ID: {pcr: value}}.
- `tpm2_checkquote -u ak.pem -m quote.msg -s quote.sig -f pcrs.out -g sha256 -q HEX`
  (the third party): reads the signature as TPMT_SIGNATURE or plain alike, verifies it
  (-g names the hash), then the nonce, then the magic, then pcrDigest against the values
  of pcrs.out; it does not look at the attestation type or the key attributes, and
  without -q a quote whose extraData is not empty fails the nonce check. Exit 0 on
  accept; on reject exit 1 and stderr names the failed step: "Error validating signed
  message" (signature), "Error validating nonce" (nonce), "Bad magic", "Error validating
  PCR composite" (pcrDigest). It rejects every RSAPSS quote, even valid ones, with the
  signature error, with the PEM key as with the TPM2B_PUBLIC (it verifies PKCS#1 v1.5
  only; tpm2-tools issue #3283), so for RSAPSS keys `verifysignature` stands in.
- qualifyingData longer than 64 octets cannot be given to tpm2_quote (-q hex or file:
  "size is larger than buffer ... 64"), so `raw_quote` sends TPM2_Quote (Part 3, 18.4;
  TPM_CC_Quote 0x158) as a raw frame for an AK made persistent with tpm2_evictcontrol:
  swtpm accepts 65 and 66 octets (Part 2: TPM2B_DATA's buffer is sizeof(TPMT_HA) = 66)
  and puts them in extraData; 67 is refused with TPM_RC_SIZE (0x1d5). The first frame on
  a fresh connection may get TPM_RC_RETRY (0x922); it is sent again.
- `tpm2_verifysignature -c ak.ctx -g sha256 -m quote.msg -s quote.sig` (TPMT_SIGNATURE),
  or `-f rsapss|rsassa|ecdsa` for a plain signature: TPM2_VerifySignature, the TPM's own
  verdict on a signature over the message (exit 0 valid; a refusal otherwise).
"""

from __future__ import annotations

import re
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.real.swtpm import TPM_ST_SESSIONS, HarnessError, Swtpm, _frame, _session_area

QUOTE_TOOLS = (
    "swtpm",
    "swtpm_ioctl",
    "tpm2_createek",
    "tpm2_createak",
    "tpm2_readpublic",
    "tpm2_pcrextend",
    "tpm2_pcrread",
    "tpm2_pcrallocate",
    "tpm2_quote",
    "tpm2_checkquote",
    "tpm2_verifysignature",
    "tpm2_flushcontext",
    "tpm2_evictcontrol",
)
TPM_CC_QUOTE = 0x00000158  # Part 2, Table 2:12 TPM_CC
TPM_RC_RETRY = 0x922
_PERSISTENT_BASE = 0x81010010  # Part 2, 7.5: persistent object handles 0x81xxxxxx
#: The key types of the tests: label -> (tpm2_createak -G, -s).
KEY_TYPES: Mapping[str, tuple[str, str]] = {
    "ecc-ecdsa": ("ecc", "ecdsa"),
    "rsa-rsassa": ("rsa", "rsassa"),
    "rsa-rsapss": ("rsa", "rsapss"),
}
#: TCG Algorithm Registry TPM_ALG_IDs of the banks the tools name.
BANK_IDS: Mapping[str, int] = {"sha1": 0x0004, "sha256": 0x000B, "sha384": 0x000C, "sha512": 0x000D}
DIGEST_SIZES: Mapping[str, int] = {"sha1": 20, "sha256": 32, "sha384": 48, "sha512": 64}
#: tpm2_checkquote's stderr lines, by the step that failed.
CHECKQUOTE_REASONS: Mapping[str, str] = {
    "Error validating signed message": "signature",
    "Error validating nonce": "nonce",
    "Bad magic": "magic",
    "Error validating PCR composite": "pcr_digest",
}
_PCR_LINE = re.compile(r"^\s+(\d+)\s*:\s*0x([0-9A-Fa-f]+)\s*$")
_BANK_LINE = re.compile(r"^\s+(\w+):\s*$")
# pcrs.out (-F serialized): sizes of tpm2-tools' structs (see the module docstring).
_SELECTION_STRUCT = 4 + 16 * 8
_DIGEST_LIST_STRUCT = 4 + 8 * (2 + 64)

PcrValues = dict[int, dict[int, bytes]]


@dataclass(frozen=True)
class Ak:
    """An attestation key made by tpm2_createak, with its public part in each form."""

    label: str
    algorithm: str  # "ecc" | "rsa"
    scheme: str  # "ecdsa" | "rsassa" | "rsapss"
    context: Path
    pem_path: Path
    public_path: Path
    pem: bytes
    tpm2b_public: bytes
    name: bytes


@dataclass(frozen=True)
class Quote:
    """One tpm2_quote run and what came with it."""

    ak: Ak
    nonce: bytes
    selection: str
    hash_name: str
    signature_format: str  # "tss" (TPMT_SIGNATURE) | "plain"
    message: bytes
    signature: bytes
    pcrs_out: bytes
    pcr_values: PcrValues  # tpm2_pcrread of the quoted PCRs, read right after the quote
    pcrread_text: str
    message_path: Path
    signature_path: Path
    pcrs_path: Path
    pcrread_path: Path
    stdout: str


@dataclass(frozen=True)
class ToolVerdict:
    """A third party's verdict: accepted, and on a reject the step it names."""

    accepted: bool
    reason: str | None  # a CHECKQUOTE_REASONS value, "other", or None on accept
    stderr: str


def parse_pcrread(text: str) -> PcrValues:
    """tpm2_pcrread's output as {TPM_ALG_ID: {pcr: value}}."""
    values: PcrValues = {}
    bank: int | None = None
    for line in text.splitlines():
        if match := _BANK_LINE.match(line):
            name = match.group(1)
            if name not in BANK_IDS:
                raise HarnessError(f"tpm2_pcrread printed an unknown bank {name!r}")
            bank = BANK_IDS[name]
            values.setdefault(bank, {})
        elif (match := _PCR_LINE.match(line)) and bank is not None:
            values[bank][int(match.group(1))] = bytes.fromhex(match.group(2))
    return values


def parse_selection(selection: str) -> list[tuple[int, list[int]]]:
    """A tpm2-tools selection string (`sha256:0,1+sha1:7`) as [(TPM_ALG_ID, [pcrs])]."""
    entries: list[tuple[int, list[int]]] = []
    for part in selection.split("+"):
        bank, _, pcrs = part.partition(":")
        entries.append((BANK_IDS[bank], sorted({int(p) for p in pcrs.split(",")})))
    return entries


def pcrs_out_selection(data: bytes) -> list[tuple[int, list[int]]]:
    """The TPML_PCR_SELECTION struct at the start of a serialized pcrs.out."""
    count = int.from_bytes(data[0:4], "little")
    entries = []
    for index in range(count):
        entry = data[4 + 8 * index : 12 + 8 * index]
        size = entry[2]
        bitmap = entry[3 : 3 + size]
        pcrs = [8 * j + i for j in range(size) for i in range(8) if bitmap[j] >> i & 1]
        entries.append((int.from_bytes(entry[0:2], "little"), pcrs))
    return entries


def _digest_offsets(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of each value's buffer in a serialized pcrs.out, in file order."""
    lists = int.from_bytes(data[_SELECTION_STRUCT : _SELECTION_STRUCT + 4], "little")
    found = []
    for index in range(lists):
        start = _SELECTION_STRUCT + 4 + index * _DIGEST_LIST_STRUCT
        for digest in range(int.from_bytes(data[start : start + 4], "little")):
            at = start + 4 + digest * 66
            found.append((at + 2, int.from_bytes(data[at : at + 2], "little")))
    return found


def pcrs_out_values(data: bytes) -> list[bytes]:
    """The PCR values of a serialized pcrs.out, in file (selection) order."""
    return [data[at : at + size] for at, size in _digest_offsets(data)]


def pcrs_out_with_flip(data: bytes, value_index: int, octet: int = 0) -> bytes:
    """pcrs.out with one octet of the value_index-th value inverted."""
    at, size = _digest_offsets(data)[value_index]
    if not 0 <= octet < size:
        raise HarnessError(f"value {value_index} has {size} octets, not {octet + 1}")
    out = bytearray(data)
    out[at + octet] ^= 0xFF
    return bytes(out)


class QuoteTpm:
    """An EK, AKs and quotes on one running swtpm."""

    def __init__(self, tpm: Swtpm, workdir: Path) -> None:
        self.tpm = tpm
        self.workdir = workdir
        self._serial = 0
        self.commands = 0
        self._persistent: dict[str, int] = {}

    # --- running tools --------------------------------------------------------------

    def _run(self, *args: str, tpm: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a tool in the work directory; nonzero exit is a harness error."""
        done = self._try(*args, tpm=tpm)
        if done.returncode != 0:
            raise HarnessError(f"{' '.join(args)} exited {done.returncode}:\n{done.stderr}")
        return done

    def _try(self, *args: str, tpm: bool = True) -> subprocess.CompletedProcess[str]:
        self.commands += 1
        done = subprocess.run(
            list(args),
            env=self.tpm.env,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if tpm:
            self._flush()
        return done

    def _flush(self) -> None:
        """Unload every transient object (there is no resource manager to do it)."""
        self.commands += 1
        done = subprocess.run(
            ["tpm2_flushcontext", "-t"],
            env=self.tpm.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise HarnessError(f"tpm2_flushcontext -t:\n{done.stderr}")

    def _path(self, stem: str, suffix: str) -> Path:
        self._serial += 1
        return self.workdir / f"{self._serial:03d}-{stem}{suffix}"

    # --- setup ------------------------------------------------------------------------

    def prepare(self, banks: Sequence[str] = ("sha1", "sha256", "sha384")) -> None:
        """A fresh, started TPM with the given banks, and an ECC EK."""
        self.tpm.fresh(banks)
        rc = self.tpm.startup("clear")
        if rc != 0:
            raise HarnessError(f"Startup(CLEAR): TPM_RC {rc:#x}")
        self._run("tpm2_createek", "-c", "ek.ctx", "-G", "ecc", "-u", "ek.pub")

    def create_ak(self, label: str) -> Ak:
        """An AK of KEY_TYPES[label] (sha256) under the EK; label may carry a suffix."""
        algorithm, scheme = KEY_TYPES[label.partition("#")[0]]
        stem = label.replace("#", "-")
        context, pem, public = (self._path(stem, s) for s in (".ctx", ".pem", ".pub"))
        name = self._path(stem, ".name")
        self._run(
            "tpm2_createak", "-C", "ek.ctx", "-c", str(context), "-G", algorithm,
            "-g", "sha256", "-s", scheme, "-f", "pem", "-u", str(pem), "-n", str(name),
        )  # fmt: skip
        self._run("tpm2_readpublic", "-c", str(context), "-o", str(public))
        return Ak(
            label=label,
            algorithm=algorithm,
            scheme=scheme,
            context=context,
            pem_path=pem,
            public_path=public,
            pem=pem.read_bytes(),
            tpm2b_public=public.read_bytes(),
            name=name.read_bytes(),
        )

    def extend(self, pcr: int, digests: Mapping[str, bytes]) -> None:
        """tpm2_pcrextend PCR:bank=hex,... (one TPM2_PCR_Extend)."""
        spec = ",".join(f"{bank}={value.hex()}" for bank, value in digests.items())
        self._run("tpm2_pcrextend", f"{pcr}:{spec}")

    def pcrread(self, selection: str) -> tuple[str, PcrValues]:
        """tpm2_pcrread of a selection: its text and the parsed values."""
        done = self._run("tpm2_pcrread", selection)
        return done.stdout, parse_pcrread(done.stdout)

    # --- quotes -----------------------------------------------------------------------

    def quote(
        self,
        ak: Ak,
        nonce: bytes,
        selection: str,
        *,
        plain: bool = False,
        hash_name: str = "sha256",
    ) -> Quote:
        """tpm2_quote, then tpm2_pcrread of the same selection."""
        msg, sig, pcrs, read = (self._path("quote", s) for s in (".msg", ".sig", ".pcrs", ".yaml"))
        args = [
            "tpm2_quote", "-c", str(ak.context), "-l", selection, "-m", str(msg),
            "-s", str(sig), "-o", str(pcrs), "-g", hash_name,
        ]  # fmt: skip
        if nonce:
            args += ["-q", nonce.hex()]
        if ak.scheme == "rsapss":
            args += ["--scheme", "rsapss"]
        if plain:
            args += ["-f", "plain"]
        done = self._run(*args)
        text, values = self.pcrread(selection)
        read.write_text(text)
        return Quote(
            ak=ak,
            nonce=nonce,
            selection=selection,
            hash_name=hash_name,
            signature_format="plain" if plain else "tss",
            message=msg.read_bytes(),
            signature=sig.read_bytes(),
            pcrs_out=pcrs.read_bytes(),
            pcr_values=values,
            pcrread_text=text,
            message_path=msg,
            signature_path=sig,
            pcrs_path=pcrs,
            pcrread_path=read,
            stdout=done.stdout,
        )

    # --- third parties ----------------------------------------------------------------

    def checkquote(
        self,
        key_path: Path,
        message: bytes,
        signature: bytes,
        pcrs_out: bytes | None,
        nonce: bytes,
        *,
        hash_name: str = "sha256",
    ) -> ToolVerdict:
        """tpm2_checkquote on these bytes (written to scratch files)."""
        with tempfile.TemporaryDirectory(dir=self.workdir) as scratch:
            msg, sig, pcrs = (Path(scratch) / n for n in ("q.msg", "q.sig", "q.pcrs"))
            msg.write_bytes(message)
            sig.write_bytes(signature)
            args = ["tpm2_checkquote", "-u", str(key_path), "-m", str(msg), "-s", str(sig)]
            args += ["-g", hash_name]
            if pcrs_out is not None:
                pcrs.write_bytes(pcrs_out)
                args += ["-f", str(pcrs)]
            if nonce:
                args += ["-q", nonce.hex()]
            done = self._try(*args, tpm=False)
        if done.returncode == 0:
            return ToolVerdict(accepted=True, reason=None, stderr=done.stderr)
        reason = next((r for text, r in CHECKQUOTE_REASONS.items() if text in done.stderr), "other")
        return ToolVerdict(accepted=False, reason=reason, stderr=done.stderr)

    def verifysignature(self, ak: Ak, message: bytes, signature: bytes, plain: bool) -> bool:
        """TPM2_VerifySignature with the AK: the TPM's own verdict on the signature."""
        with tempfile.TemporaryDirectory(dir=self.workdir) as scratch:
            msg, sig = Path(scratch) / "v.msg", Path(scratch) / "v.sig"
            msg.write_bytes(message)
            sig.write_bytes(signature)
            args = ["tpm2_verifysignature", "-c", str(ak.context), "-g", "sha256"]
            args += ["-m", str(msg), "-s", str(sig)]
            if plain:
                args += ["-f", ak.scheme]
            done = self._try(*args)
        return done.returncode == 0

    def raw_quote(self, ak: Ak, nonce: bytes, selection: str) -> tuple[bytes, bytes]:
        """TPM2_Quote as a raw frame (any qualifyingData length): (TPMS_ATTEST,
        TPMT_SIGNATURE), or HarnessError with the TPM_RC of a refusal."""
        handle = self._persistent.get(ak.label)
        if handle is None:
            handle = _PERSISTENT_BASE + len(self._persistent)
            self._run("tpm2_evictcontrol", "-C", "o", "-c", str(ak.context), f"{handle:#x}")
            self._persistent[ak.label] = handle
        pcr_select = len(parse_selection(selection)).to_bytes(4, "big") + b"".join(
            alg.to_bytes(2, "big") + b"\x03" + _bitmap(pcrs)
            for alg, pcrs in parse_selection(selection)
        )
        body = handle.to_bytes(4, "big") + _session_area()
        body += len(nonce).to_bytes(2, "big") + nonce + (0x0010).to_bytes(2, "big") + pcr_select
        for _attempt in range(5):
            response = self._exchange(_frame(TPM_ST_SESSIONS, TPM_CC_QUOTE, body))
            rc = int.from_bytes(response[6:10], "big")
            if rc != TPM_RC_RETRY:
                break
        if rc != 0:
            raise HarnessError(f"TPM2_Quote refused: TPM_RC {rc:#x}")
        params_end = 14 + int.from_bytes(response[10:14], "big")
        size = int.from_bytes(response[14:16], "big")
        return response[16 : 16 + size], response[16 + size : params_end]

    def _exchange(self, frame: bytes) -> bytes:
        self.commands += 1
        with socket.create_connection(("127.0.0.1", self.tpm.data_port), timeout=30) as conn:
            conn.sendall(frame)
            data = b""
            while len(data) < 10 or len(data) < int.from_bytes(data[2:6], "big"):
                chunk = conn.recv(4096)
                if not chunk:
                    raise HarnessError("swtpm closed the data connection")
                data += chunk
        return data


def _bitmap(pcrs: Sequence[int]) -> bytes:
    bitmap = bytearray(3)
    for pcr in pcrs:
        bitmap[pcr // 8] |= 1 << (pcr % 8)
    return bytes(bitmap)
