"""Event-log replay speed and memory, as ratios against baselines measured side by side.

Logs: generated crypto-agile logs (Spec ID event, StartupLocality, a firmware prefix of
Secure Boot variables and separators, then a repeating body of typical events: boot
services drivers and applications with ~100-byte device-path data, EV_IPL lines in PCR
8/9, EV_EFI_VARIABLE_BOOT, EV_EFI_VARIABLE_AUTHORITY and EV_EFI_ACTION, 30% of the body
of a type whose data is checked) of 10k, 100k and 1M events, 2 banks (sha1, sha256) and
3 banks (+sha384), written to a temporary folder. Every digest a data check recomputes is
right, so the replay has no warnings and the work is the normal path.

Baselines, all on the same bytes in the same run:
- the floor: a bare hashlib loop doing exactly the same extends (constructors bound once,
  digests already in memory: no parsing, no checks);
- floor+checks: the floor plus one hash of the event data per bank for the events whose
  data the ADR 0002 checks cover (the least work those checks can cost);
- `tpm2_eventlog LOG > /dev/null` (tpm2-tools), wall time of the process.
Measured: impl parse_event_log, impl replay_event_log (which includes the ADR's data
checks, the DATA_DIGEST_MISMATCH warnings: that is what a user gets), their sum, and the
`chainoftrust eventlog replay LOG` process wall time; peak RSS of a process that reads,
parses and replays a log, above the same process after reading it (memory of the work).

Usage: python benchmarks/bench_eventlog.py [--quick] [--repeat R] [--json]
No timed assertions anywhere: the numbers are reported, never asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chainoftrust.impl._eventlog_stream import replay_event_log_stream
from chainoftrust.impl.eventlog import parse_event_log, replay_event_log

SHA1, SHA256, SHA384 = 0x0004, 0x000B, 0x000C
HASHES: dict[int, Callable[[bytes], Any]] = {
    SHA1: hashlib.sha1,
    SHA256: hashlib.sha256,
    SHA384: hashlib.sha384,
}
SIZES = {SHA1: 20, SHA256: 32, SHA384: 48}
EV_NO_ACTION, EV_SEPARATOR, EV_S_CRTM_VERSION, EV_IPL = 0x3, 0x4, 0x8, 0xD
EV_EFI_VARIABLE_DRIVER_CONFIG, EV_EFI_VARIABLE_BOOT = 0x80000001, 0x80000002
EV_EFI_BOOT_SERVICES_APPLICATION, EV_EFI_BOOT_SERVICES_DRIVER = 0x80000003, 0x80000004
EV_EFI_ACTION, EV_EFI_PLATFORM_FIRMWARE_BLOB = 0x80000007, 0x80000008
EV_EFI_VARIABLE_AUTHORITY = 0x800000E0
GLOBAL = bytes.fromhex("61dfe48bca93d211aa0d00e098032b8c")  # EFI_GLOBAL_VARIABLE
IMAGE_SECURITY = bytes.fromhex("cbb219d73a3d9645a3bcdad00e67656f")  # db/dbx GUID
# (what the data checks hash for each checked type: "whole" data or "value" only)
CHECKED = {
    EV_SEPARATOR: "whole",
    EV_EFI_VARIABLE_DRIVER_CONFIG: "whole",
    EV_EFI_VARIABLE_BOOT: "value",
    EV_EFI_VARIABLE_AUTHORITY: "whole",
    EV_EFI_ACTION: "whole",
}
SIZES_ALL = (10_000, 100_000, 1_000_000)


def _variable(guid: bytes, name: str, value: bytes) -> bytes:
    """PFP UEFI_VARIABLE_DATA."""
    uname = name.encode("utf-16-le")
    return guid + struct.pack("<QQ", len(uname) // 2, len(value)) + uname + value


def _record2(
    banks: tuple[int, ...], pcr: int, etype: int, data: bytes, digest_of: bytes | None
) -> bytes:
    """TCG_PCR_EVENT2; digests of `digest_of` (zero digests when None: EV_NO_ACTION)."""
    out = [struct.pack("<III", pcr, etype, len(banks))]
    for alg in banks:
        d = bytes(SIZES[alg]) if digest_of is None else HASHES[alg](digest_of).digest()
        out.append(struct.pack("<H", alg) + d)
    out.append(struct.pack("<I", len(data)) + data)
    return b"".join(out)


def _header(banks: tuple[int, ...]) -> bytes:
    """TCG_PCR_EVENT holding the PFP TCG_EfiSpecIdEvent."""
    spec = b"Spec ID Event03\x00" + struct.pack("<IBBBBI", 0, 0, 2, 2, 2, len(banks))
    spec += b"".join(struct.pack("<HH", a, SIZES[a]) for a in banks) + b"\x00"
    return struct.pack("<II", 0, EV_NO_ACTION) + bytes(20) + struct.pack("<I", len(spec)) + spec


def _prefix(banks: tuple[int, ...]) -> list[bytes]:
    def rec(pcr: int, etype: int, data: bytes, digest_of: bytes | None = None) -> bytes:
        return _record2(banks, pcr, etype, data, data if digest_of is None else digest_of)

    out = [_record2(banks, 0, EV_NO_ACTION, b"StartupLocality\x00\x00", None)]
    out.append(rec(0, EV_S_CRTM_VERSION, "1.00".encode("utf-16-le") + b"\x00\x00"))
    out.append(rec(0, EV_EFI_PLATFORM_FIRMWARE_BLOB, struct.pack("<QQ", 0xFFC00000, 0x400000)))
    for name, guid, size in (
        ("SecureBoot", GLOBAL, 1),
        ("PK", GLOBAL, 900),
        ("KEK", GLOBAL, 1500),
        ("db", IMAGE_SECURITY, 3000),
        ("dbx", IMAGE_SECURITY, 4000),
    ):
        out.append(rec(7, EV_EFI_VARIABLE_DRIVER_CONFIG, _variable(guid, name, bytes(size))))
    value = struct.pack("<4H", 1, 2, 3, 0)
    out.append(rec(1, EV_EFI_VARIABLE_BOOT, _variable(GLOBAL, "BootOrder", value), value))
    out += [rec(p, EV_SEPARATOR, bytes(4)) for p in range(8)]
    return out


def _body(banks: tuple[int, ...], i: int) -> bytes:
    """Event i of the repeating body (one cycle is 10 events, 3 of them checked)."""
    k = i % 10
    tag = i.to_bytes(8, "little")
    path = b"\x02\x01\x0c\x00\xd0\x41\x03\x0a\x00\x00\x00\x00" + tag * 10 + b"\x7f\xff\x04\x00"
    if k == 0:
        return _record2(banks, 2, EV_EFI_BOOT_SERVICES_DRIVER, path[:80], b"drv" + tag)
    if k <= 4:
        return _record2(banks, 4, EV_EFI_BOOT_SERVICES_APPLICATION, path, b"app" + tag)
    if k == 5:
        line = b"grub_cmd: linux /vmlinuz-6.1.0 root=UUID=" + tag.hex().encode() + b"\x00"
        return _record2(banks, 8, EV_IPL, line, line[:-1])
    if k == 6:
        line = b"(hd0,gpt2)/initrd.img-6.1.0-" + tag.hex().encode() + b"\x00"
        return _record2(banks, 9, EV_IPL, line, b"file" + tag)
    if k == 7:
        value = tag * 12
        data = _variable(GLOBAL, f"Boot{i % 0x10000:04X}", value)
        return _record2(banks, 1, EV_EFI_VARIABLE_BOOT, data, value)
    if k == 8:
        data = _variable(IMAGE_SECURITY, "db", tag * 6)
        return _record2(banks, 7, EV_EFI_VARIABLE_AUTHORITY, data, data)
    data = b"Exit Boot Services Invocation"
    return _record2(banks, 5, EV_EFI_ACTION, data, data)


def write_log(path: Path, banks: tuple[int, ...], events: int) -> None:
    """A crypto-agile log of `events` TCG_PCR_EVENT2 records (the header not counted)."""
    prefix = _prefix(banks)
    with path.open("wb") as f:
        f.write(_header(banks))
        f.writelines(prefix)
        chunk: list[bytes] = []
        for i in range(events - len(prefix)):
            chunk.append(_body(banks, i))
            if len(chunk) == 10_000:
                f.writelines(chunk)
                chunk.clear()
        f.writelines(chunk)


def _floor_input(data: bytes) -> list[tuple[int, int, tuple[bytes, ...], bytes | None]]:
    """(pcr, type, digests in log order, data a check hashes or None) per extending event;
    read with the benchmark's own reader, outside the timed part."""
    (size,) = struct.unpack_from("<I", data, 28)
    (count,) = struct.unpack_from("<I", data, 32 + 24)
    sizes = dict(struct.unpack_from("<HH", data, 32 + 28 + 4 * j) for j in range(count))
    pos = 32 + size
    out = []
    while pos < len(data):
        pcr, etype, n = struct.unpack_from("<III", data, pos)
        pos += 12
        digests = []
        for _ in range(n):
            (alg,) = struct.unpack_from("<H", data, pos)
            digests.append(data[pos + 2 : pos + 2 + sizes[alg]])
            pos += 2 + sizes[alg]
        (dsize,) = struct.unpack_from("<I", data, pos)
        ev = data[pos + 4 : pos + 4 + dsize]
        pos += 4 + dsize
        if etype == EV_NO_ACTION:
            continue
        how = CHECKED.get(etype)
        checked = None
        if how == "whole":
            checked = ev
        elif how == "value":
            name_len, value_len = struct.unpack_from("<QQ", ev, 16)
            checked = ev[32 + 2 * name_len : 32 + 2 * name_len + value_len]
        out.append((pcr, etype, tuple(digests), checked))
    return out


def _floor_fns(
    banks: tuple[int, ...], events: list[tuple[int, int, tuple[bytes, ...], bytes | None]]
) -> tuple[Callable[[], None], Callable[[], None]]:
    ctors = tuple(HASHES[a] for a in banks)
    starts = tuple(bytes(SIZES[a]) for a in banks)
    extends = [(pcr, digests) for pcr, _t, digests, _c in events]

    if len(banks) == 2:
        h1, h2 = ctors

        def floor() -> None:
            s1 = [starts[0]] * 24
            s2 = [starts[1]] * 24
            for pcr, (d1, d2) in extends:
                s1[pcr] = h1(s1[pcr] + d1).digest()
                s2[pcr] = h2(s2[pcr] + d2).digest()

    else:
        h1, h2, h3 = ctors

        def floor() -> None:
            s1 = [starts[0]] * 24
            s2 = [starts[1]] * 24
            s3 = [starts[2]] * 24
            for pcr, (d1, d2, d3) in extends:
                s1[pcr] = h1(s1[pcr] + d1).digest()
                s2[pcr] = h2(s2[pcr] + d2).digest()
                s3[pcr] = h3(s3[pcr] + d3).digest()

    checked = [(c, digests) for _p, _t, digests, c in events if c is not None]

    def checks() -> None:
        for c, digests in checked:
            for h, d in zip(ctors, digests, strict=True):
                if h(c).digest() != d:
                    raise AssertionError("generated digest is wrong")

    def floor_checks() -> None:
        floor()
        checks()

    return floor, floor_checks


def _best(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


_CHILD_ENV: dict[str, str] = {}


def _child_env(folder: Path) -> None:
    """Child Pythons write and reuse bytecode in `folder` (as an installed package does;
    PYTHONDONTWRITEBYTECODE would make every start compile the sources)."""
    _CHILD_ENV.clear()
    _CHILD_ENV.update(os.environ)
    _CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    _CHILD_ENV["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")


def _wall(cmd: list[str], repeat: int) -> float | None:
    """Best-of-`repeat` wall time of a process with its stdout to /dev/null (one warm-up
    run first, not counted)."""
    times = []
    env = _CHILD_ENV or None
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False
        )
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            return None
    return min(times)


def _cli() -> list[str]:
    """The installed `chainoftrust` entry point beside this interpreter (not a shim)."""
    script = Path(sys.executable).parent / "chainoftrust"
    return [str(script)] if script.exists() else [sys.executable, "-m", "chainoftrust"]


_RSS_CHILD = """
import sys
from chainoftrust.impl.eventlog import parse_event_log, replay_event_log
def hwm():  # peak RSS of this process image (ru_maxrss would include the parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
if sys.argv[2] == "stream":
    from chainoftrust.impl._eventlog_stream import replay_event_log_stream
    base = hwm()
    with open(sys.argv[1], "rb") as f:
        replay_event_log_stream(f.read)
else:
    data = open(sys.argv[1], "rb").read()
    base = hwm()
    replay_event_log(parse_event_log(data))
print(base, hwm())
"""


def _work_rss_kib(path: Path, how: str = "whole") -> int:
    """Peak RSS (KiB) of parse + replay above the same process after reading the log
    (`whole`), or of the streaming replay from the file (`stream`: the log is not read
    beforehand, so its bytes count only a chunk at a time)."""
    out = subprocess.run(
        [sys.executable, "-c", _RSS_CHILD, str(path), how],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[1]) - int(out[0])


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else round(a / b, 3)


def _replay_only(data: bytes, reps: int) -> float:
    log = parse_event_log(data)
    return _best(lambda: replay_event_log(log), reps)


def measure(path: Path, banks: tuple[int, ...], events: int, repeat: int) -> dict[str, Any]:
    data = path.read_bytes()
    floor, floor_checks = _floor_fns(banks, _floor_input(data))
    reps = repeat if events < 1_000_000 else max(1, repeat // 2)
    t_floor = _best(floor, reps)
    t_floor_checks = _best(floor_checks, reps)
    t_total = _best(lambda: replay_event_log(parse_event_log(data)), reps)
    t_parse = _best(lambda: parse_event_log(data), reps)
    t_replay = _replay_only(data, reps)

    def streamed() -> None:
        with path.open("rb") as f:
            replay_event_log_stream(f.read)

    t_stream = _best(streamed, reps)
    tool = shutil.which("tpm2_eventlog")
    t_tool = None if tool is None else _wall([tool, str(path)], reps)
    t_cli = _wall([*_cli(), "eventlog", "replay", str(path)], reps)
    return {
        "events": events,
        "banks": len(banks),
        "bytes": len(data),
        "floor_us_per_event": round(t_floor / events * 1e6, 3),
        "floor_checks_us_per_event": round(t_floor_checks / events * 1e6, 3),
        "impl_parse_us_per_event": round(t_parse / events * 1e6, 3),
        "impl_replay_us_per_event": round(t_replay / events * 1e6, 3),
        "impl_total_us_per_event": round(t_total / events * 1e6, 3),
        "impl_total_vs_floor": _ratio(t_total, t_floor),
        "impl_replay_only_vs_floor": _ratio(t_replay, t_floor),
        "impl_total_vs_floor_checks": _ratio(t_total, t_floor_checks),
        "stream_us_per_event": round(t_stream / events * 1e6, 3),
        "stream_vs_floor": _ratio(t_stream, t_floor),
        "stream_vs_floor_checks": _ratio(t_stream, t_floor_checks),
        "stream_vs_tpm2_eventlog": _ratio(t_stream, t_tool),
        "tpm2_eventlog_s": None if t_tool is None else round(t_tool, 4),
        "impl_total_vs_tpm2_eventlog": _ratio(t_total, t_tool),
        "cli_s": None if t_cli is None else round(t_cli, 4),
        "cli_vs_tpm2_eventlog": _ratio(t_cli, t_tool),
        "work_peak_rss_kib": _work_rss_kib(path),
        "stream_peak_rss_kib": _work_rss_kib(path, "stream"),
    }


_IMPORTS_CHILD = """
import contextlib, io, sys
from chainoftrust.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["eventlog", "replay", sys.argv[1]])
print(sorted({m.split(".")[0] for m in sys.modules} & {"z3", "hypothesis"}))
"""


def measure_startup(folder: Path, repeat: int) -> dict[str, Any]:
    path = folder / "startup-1k.bin"
    write_log(path, (SHA1, SHA256), 1000)
    tool = shutil.which("tpm2_eventlog")
    t_tool = None if tool is None else _wall([tool, str(path)], repeat)
    t_cli = _wall([*_cli(), "eventlog", "replay", str(path)], repeat)
    t_python = _wall([sys.executable, "-c", "pass"], repeat)
    t_bare = _wall([sys.executable, "-S", "-c", "pass"], repeat)
    modules = subprocess.run(
        [sys.executable, "-c", _IMPORTS_CHILD, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    heavy = modules.stdout.strip().splitlines()[-1] if modules.stdout.strip() else "?"
    return {
        "events": 1000,
        "tpm2_eventlog_s": None if t_tool is None else round(t_tool, 4),
        "cli_s": None if t_cli is None else round(t_cli, 4),
        "cli_vs_tpm2_eventlog": _ratio(t_cli, t_tool),
        "python_startup_s": None if t_python is None else round(t_python, 4),
        "python_no_site_startup_s": None if t_bare is None else round(t_bare, 4),
        "heavy_modules_imported": heavy,
    }


def write_ima(path: Path, entries: int) -> None:
    """A binary_runtime_measurements list of `entries` ima-ng entries in PCR 10."""
    with path.open("wb") as f:
        chunk = []
        for i in range(entries):
            d_ng = b"sha256:\x00" + hashlib.sha256(i.to_bytes(8, "little")).digest()
            name = f"/usr/lib/x86_64-linux-gnu/lib{i:07d}.so.6".encode() + b"\x00"
            tdata = struct.pack("<I", len(d_ng)) + d_ng + struct.pack("<I", len(name)) + name
            thash = hashlib.sha1(tdata).digest()
            chunk.append(
                struct.pack("<I", 10)
                + thash
                + struct.pack("<I", 6)
                + b"ima-ng"
                + struct.pack("<I", len(tdata))
                + tdata
            )
            if len(chunk) == 10_000:
                f.writelines(chunk)
                chunk.clear()
        f.writelines(chunk)


_IMA_RSS_CHILD = """
import sys
from chainoftrust.impl._ima_stream import replay_ima_stream
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
base = hwm()
with open(sys.argv[1], "rb") as f:
    replay_ima_stream(f.read)
print(base, hwm())
"""


def _ima_rss_kib(path: Path) -> int:
    """Peak RSS (KiB) of the streaming IMA replay above the same process before it."""
    out = subprocess.run(
        [sys.executable, "-c", _IMA_RSS_CHILD, str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[1]) - int(out[0])


def measure_ima(folder: Path, entries: int, repeat: int) -> dict[str, Any]:
    """impl's parse_ima_binary + replay_ima (sha1, sha256) against the floor: the same
    extends (sha1 with the template hash; sha256 with SHA-256 of the template data) and
    the SHA-1 template-hash check replay_ima does."""
    if importlib.util.find_spec("chainoftrust.impl.ima") is None:
        return {"entries": entries, "status": "not measured (impl.ima missing)"}
    from chainoftrust.impl import ima  # noqa: PLC0415 (optional: another module's work)

    path = folder / "ima.bin"
    write_ima(path, entries)
    data = path.read_bytes()
    pairs = [(e.template_hash, e.template_data) for e in ima.parse_ima_binary(data).entries]
    sha1, sha256 = hashlib.sha1, hashlib.sha256

    def floor() -> None:
        s1, s2 = bytes(20), bytes(32)
        for thash, tdata in pairs:
            if sha1(tdata).digest() != thash:
                raise AssertionError("generated template hash is wrong")
            s1 = sha1(s1 + thash).digest()
            s2 = sha256(s2 + sha256(tdata).digest()).digest()

    reps = max(1, repeat // 2)
    t_floor = _best(floor, reps)
    t_impl = _best(lambda: ima.replay_ima(ima.parse_ima_binary(data)), reps)
    t_parse = _best(lambda: ima.parse_ima_binary(data), reps)
    from chainoftrust.impl._ima_stream import replay_ima_stream  # noqa: PLC0415

    def streamed() -> None:
        with path.open("rb") as f:
            replay_ima_stream(f.read)

    t_stream = _best(streamed, reps)
    return {
        "entries": entries,
        "status": "measured",
        "floor_us_per_entry": round(t_floor / entries * 1e6, 3),
        "impl_parse_us_per_entry": round(t_parse / entries * 1e6, 3),
        "impl_total_us_per_entry": round(t_impl / entries * 1e6, 3),
        "impl_total_vs_floor": _ratio(t_impl, t_floor),
        "stream_us_per_entry": round(t_stream / entries * 1e6, 3),
        "stream_vs_floor": _ratio(t_stream, t_floor),
        "stream_peak_rss_kib": _ima_rss_kib(path),
    }


def _fmt(value: Any, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k-event logs only")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = SIZES_ALL[:1] if args.quick else SIZES_ALL
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-eventlog-") as tmp:
        folder = Path(tmp)
        _child_env(folder)
        startup = measure_startup(folder, max(5, args.repeat * 3))
        for banks in ((SHA1, SHA256), (SHA1, SHA256, SHA384)):
            for n in sizes:
                path = folder / f"log-{len(banks)}banks-{n}.bin"
                write_log(path, banks, n)
                rows.append(measure(path, banks, n, args.repeat))
                path.unlink()
        ima_row = measure_ima(folder, 10_000 if args.quick else 1_000_000, args.repeat)
    result = {
        "cpus": os.cpu_count(),
        "data_checks_included": True,
        "rows": rows,
        "cli_startup_1k": startup,
        "ima": ima_row,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        "event-log replay, best of "
        f"{args.repeat} (1M: best of {max(1, args.repeat // 2)}); ratio = time / baseline's; "
        "impl = parse_event_log + replay_event_log (data checks included)"
    )
    head = (
        f"{'events':>8} {'banks':>5} {'floor us/ev':>11} {'parse us':>8} {'replay us':>9} "
        f"{'impl/floor':>10} {'impl/fl+chk':>11} {'impl/tpm2':>9} {'cli/tpm2':>8} "
        f"{'tpm2 s':>7} {'work MiB':>8} {'stream/floor':>12} {'stream/tpm2':>11} {'stream MiB':>10}"
    )
    print(head)
    for r in rows:
        print(
            f"{r['events']:>8} {r['banks']:>5} {r['floor_us_per_event']:>11.3f} "
            f"{r['impl_parse_us_per_event']:>8.3f} {r['impl_replay_us_per_event']:>9.3f} "
            f"{_fmt(r['impl_total_vs_floor']):>10} {_fmt(r['impl_total_vs_floor_checks']):>11} "
            f"{_fmt(r['impl_total_vs_tpm2_eventlog']):>9} {_fmt(r['cli_vs_tpm2_eventlog']):>8} "
            f"{_fmt(r['tpm2_eventlog_s'], '.3f'):>7} {r['work_peak_rss_kib'] / 1024:>8.1f} "
            f"{_fmt(r['stream_vs_floor']):>12} {_fmt(r['stream_vs_tpm2_eventlog']):>11} "
            f"{r['stream_peak_rss_kib'] / 1024:>10.1f}"
        )
    s = startup
    print(
        f"CLI `eventlog replay` on a 1k-event log: {_fmt(s['cli_s'], '.4f')} s, tpm2_eventlog "
        f"{_fmt(s['tpm2_eventlog_s'], '.4f')} s: {_fmt(s['cli_vs_tpm2_eventlog'])}x; "
        f"z3/hypothesis imported: {s['heavy_modules_imported']}"
    )
    print(
        f"  (python -c pass: {_fmt(s['python_startup_s'], '.4f')} s; python -S -c pass: "
        f"{_fmt(s['python_no_site_startup_s'], '.4f')} s)"
    )
    m = ima_row
    if m["status"] != "measured":
        print(f"{m['entries']}-entry IMA list: {m['status']}")
    else:
        print(
            f"{m['entries']}-entry IMA list (ima-ng, sha1+sha256): floor "
            f"{m['floor_us_per_entry']:.3f} us/entry, impl parse {m['impl_parse_us_per_entry']:.3f}"
            f" us, parse+replay {m['impl_total_us_per_entry']:.3f} us: "
            f"{m['impl_total_vs_floor']:.2f}x the floor; streamed "
            f"{m['stream_us_per_entry']:.3f} us ({m['stream_vs_floor']:.2f}x), peak "
            f"{m['stream_peak_rss_kib'] / 1024:.1f} MiB"
        )


if __name__ == "__main__":
    main()
