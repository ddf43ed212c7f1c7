"""The `chainoftrust` command: a thin front door that wires spec, impl and proofs.

It holds no logic of its own (DESIGN.md): each command imports, lazily, the module
that does the work, so `chainoftrust --help` and `pcr predict` start without z3.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
chainoftrust: an executable specification of the chain of trust (TPM 2.0 PCRs, event
logs and IMA lists, quotes, trusted boot), checked by Z3 proofs and Hypothesis
properties against a separate implementation, with public test vectors. Results are
claims with a scope, never "trusted".
"""


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=False) + "\n")


def _error_object(err: Any) -> dict[str, Any]:
    return {
        "error": {
            "code": str(err.code),
            "operation": err.operation,
            "message": err.message,
            "field": err.field,
            "offset": getattr(err, "offset", None),
        }
    }


class _DocumentError(Exception):
    """The file is not a JSON document we accept (before any schema check)."""


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _DocumentError(f"duplicate key {key!r} in a JSON object")
        obj[key] = value
    return obj


def _load_json_document(raw: bytes) -> Any:
    """Decode UTF-8 JSON, refusing duplicate keys; every failure is a _DocumentError."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _DocumentError(f"not UTF-8: byte {exc.start} cannot be decoded") from exc
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise _DocumentError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise _DocumentError("not accepted: JSON nested too deeply") from exc
    except ValueError as exc:  # e.g. integers beyond Python's digit limit
        raise _DocumentError(f"not accepted: {exc}") from exc


def _cmd_pcr_predict(args: argparse.Namespace) -> int:
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415 (lazy: fast start)
    from chainoftrust.impl.predict import predict  # noqa: PLC0415

    try:
        raw = Path(args.ops).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"chainoftrust: cannot read {args.ops}: {exc.strerror}\n")
        return EXIT_USAGE
    try:
        document = _load_json_document(raw)
    except _DocumentError as exc:
        obj = {
            "error": {
                "code": "INVALID_DOCUMENT",
                "operation": None,
                "message": str(exc),
                "field": None,
                "offset": None,
            }
        }
        return _report_error(args, obj)
    try:
        result = predict(document)
    except ImplError as err:
        return _report_error(args, _error_object(err))
    if args.json:
        _print_json(result)
        return EXIT_OK
    for bank, values in result["pcrs"].items():
        sys.stdout.write(f"{bank}:\n")
        for index, value in values.items():
            sys.stdout.write(f"  {int(index):2d}: 0x{value.upper()}\n")
    return EXIT_OK


def _report_error(args: argparse.Namespace, obj: dict[str, Any]) -> int:
    if getattr(args, "json", False):
        _print_json(obj)
    else:
        err = obj["error"]
        where = "" if err["operation"] is None else f" in operation {err['operation']}"
        field = "" if err.get("field") is None else f" (field {err['field']})"
        at = "" if err.get("offset") is None else f" at offset {err['offset']}"
        sys.stderr.write(f"chainoftrust: {err['code']}{where}{field}{at}: {err['message']}\n")
    return EXIT_FAILURE


def _cmd_vectors_generate(args: argparse.Namespace) -> int:
    from chainoftrust.spec.vectors import generate  # noqa: PLC0415

    written = generate(Path(args.out))
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    return EXIT_OK


def _cmd_vectors_check(args: argparse.Namespace) -> int:
    from chainoftrust.impl.vectors import check  # noqa: PLC0415

    report = check(Path(args.dir))
    if args.json:
        _print_json(report.to_json())
    else:
        sys.stdout.write(report.to_text())
    return EXIT_OK if report.ok else EXIT_FAILURE


def _cmd_prove(args: argparse.Namespace) -> int:
    from chainoftrust.proofs.runner import run_cli  # noqa: PLC0415 (z3 only when proving)

    return run_cli(args.names, json_out=args.json, timeout=args.timeout)


class _UnreadableFileError(Exception):
    """An input file could not be read (reported already): exit 2."""


def _read_bytes(path: str) -> bytes | None:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        sys.stderr.write(f"chainoftrust: cannot read {path}: {exc.strerror}\n")
        return None


def _load_log(args: argparse.Namespace) -> Any:
    """Parse the event log named by args.log; None (after reporting) when it cannot be."""
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.eventlog import parse_event_log  # noqa: PLC0415

    data = _read_bytes(args.log)
    if data is None:
        raise _UnreadableFileError(args.log)
    try:
        return parse_event_log(data)
    except ImplError as err:
        _report_error(args, _error_object(err))
        return None


def _cmd_eventlog_show(args: argparse.Namespace) -> int:
    from chainoftrust.impl.eventlog import check_event_data, format_event_table  # noqa: PLC0415

    log = _load_log(args)
    if log is None:
        return EXIT_FAILURE
    checks = check_event_data(log)
    if args.json:
        out = log.to_json()
        out["dataChecks"] = [c.to_json() for c in checks]
        _print_json(out)
    else:
        sys.stdout.write(format_event_table(log, checks))
    return EXIT_OK


def _cmd_eventlog_replay(args: argparse.Namespace) -> int:
    """Streams the log (impl/_eventlog_stream.py): memory stays flat in its length."""
    from chainoftrust.impl._eventlog_stream import replay_event_log_stream  # noqa: PLC0415
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415

    try:
        with open(args.log, "rb") as f:
            try:
                replay = replay_event_log_stream(f.read, strict=args.strict)
            except ImplError as err:
                return _report_error(args, _error_object(err))
    except OSError as exc:
        sys.stderr.write(f"chainoftrust: cannot read {args.log}: {exc.strerror}\n")
        raise _UnreadableFileError(args.log) from exc
    out = replay.to_json()
    if args.json:
        _print_json(out)
        return EXIT_OK
    for bank, values in out["pcrs"].items():
        sys.stdout.write(f"{bank}:\n")
        for index, value in values.items():
            sys.stdout.write(f"  {int(index):2d}: 0x{value.upper()}\n")
    for warning in out["warnings"]:
        where = "" if warning["event"] is None else f" (event {warning['event']})"
        sys.stderr.write(f"warning: {warning['code']}{where}: {warning['message']}\n")
    return EXIT_OK


def _verify_against_pcrs(
    args: argparse.Namespace, log: Any, verify: Any, render: Any, **options: Any
) -> int:
    """Read --pcrs, run `verify(log, pcrs, **options)`, print; exit 0 only on `match`."""
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.eventlog import parse_pcr_values  # noqa: PLC0415

    raw = _read_bytes(args.pcrs)
    if raw is None:
        return EXIT_USAGE
    try:
        pcrs = parse_pcr_values(raw.decode("utf-8", errors="replace"))
        verdict = verify(log, pcrs, **options)
    except ImplError as err:
        return _report_error(args, _error_object(err))
    out = verdict.to_json()
    if args.json:
        _print_json(out)
    else:
        sys.stdout.write(render(verdict))
    return EXIT_OK if out["result"] == "match" else EXIT_FAILURE


def _cmd_eventlog_verify(args: argparse.Namespace) -> int:
    from chainoftrust.impl.eventlog import format_verdict, verify_event_log  # noqa: PLC0415

    log = _load_log(args)
    if log is None:
        return EXIT_FAILURE
    return _verify_against_pcrs(args, log, verify_event_log, format_verdict, strict=args.strict)


def _add_eventlog_parser(sub: Any) -> None:
    evl = sub.add_parser(
        "eventlog",
        help="TCG PC Client event logs: show, replay, verify (runs on impl)",
        description=(
            "Read a TCG PC Client event log (SHA-1 or crypto-agile format, e.g. "
            "/sys/kernel/security/tpm0/binary_bios_measurements)."
        ),
    )
    evl_sub = evl.add_subparsers(dest="eventlog_command", metavar="SUBCOMMAND")
    evl_sub.required = True
    show = evl_sub.add_parser("show", help="list the events with parsed data and data checks")
    show.add_argument("log", metavar="LOG")
    show.add_argument("--json", action="store_true", help="print JSON for machines")
    show.set_defaults(func=_cmd_eventlog_show)
    replay = evl_sub.add_parser("replay", help="the PCR values the log implies, per bank")
    replay.add_argument("log", metavar="LOG")
    replay.add_argument("--json", action="store_true", help="print JSON for machines")
    replay.add_argument("--strict", action="store_true", help="findings are errors")
    replay.set_defaults(func=_cmd_eventlog_replay)
    verify = evl_sub.add_parser(
        "verify",
        help="compare the replay with PCR values (tpm2_pcrread output or JSON)",
        description=(
            "Exit 0 when every supplied PCR that the log names matches its replay, "
            "1 on a mismatch or a malformed log, 2 when a file cannot be read."
        ),
    )
    verify.add_argument("log", metavar="LOG")
    verify.add_argument("--pcrs", required=True, metavar="FILE", help="PCR values to verify")
    verify.add_argument("--strict", action="store_true", help="findings are errors")
    verify.add_argument("--json", action="store_true", help="print JSON for machines")
    verify.set_defaults(func=_cmd_eventlog_verify)


def _load_ima(args: argparse.Namespace) -> Any:
    """Parse the IMA list named by args.list (binary, or ASCII with --ascii)."""
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.ima import parse_ima_ascii, parse_ima_binary  # noqa: PLC0415

    data = _read_bytes(args.list)
    if data is None:
        raise _UnreadableFileError(args.list)
    try:
        if args.ascii:
            return parse_ima_ascii(data.decode("utf-8", errors="strict"))
        return parse_ima_binary(data, allow_partial_tail=args.allow_partial_tail)
    except UnicodeDecodeError as exc:
        obj = {
            "error": {
                "code": "IMA_INVALID_LINE",
                "operation": None,
                "message": f"not UTF-8 text: byte {exc.start} cannot be decoded",
                "field": None,
                "offset": exc.start,
            }
        }
        _report_error(args, obj)
        return None
    except ImplError as err:
        _report_error(args, _error_object(err))
        return None


def _cmd_ima_replay(args: argparse.Namespace) -> int:
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.ima import format_ima_replay, replay_ima  # noqa: PLC0415

    banks = tuple(args.banks.split(","))
    if not args.ascii:  # binary lists stream (impl/_ima_stream.py): memory stays flat
        from chainoftrust.impl._ima_stream import replay_ima_stream  # noqa: PLC0415

        try:
            with open(args.list, "rb") as f:
                try:
                    replay = replay_ima_stream(
                        f.read, banks, allow_partial_tail=args.allow_partial_tail
                    )
                except ImplError as err:
                    return _report_error(args, _error_object(err))
        except OSError as exc:
            sys.stderr.write(f"chainoftrust: cannot read {args.list}: {exc.strerror}\n")
            raise _UnreadableFileError(args.list) from exc
    else:
        log = _load_ima(args)
        if log is None:
            return EXIT_FAILURE
        try:
            replay = replay_ima(log, banks=banks)
        except ImplError as err:
            return _report_error(args, _error_object(err))
    if args.json:
        _print_json(replay.to_json())
    else:
        sys.stdout.write(format_ima_replay(replay))
    return EXIT_OK


def _cmd_ima_verify(args: argparse.Namespace) -> int:
    from chainoftrust.impl.ima import format_ima_verdict, verify_ima  # noqa: PLC0415

    log = _load_ima(args)
    if log is None:
        return EXIT_FAILURE
    return _verify_against_pcrs(args, log, verify_ima, format_ima_verdict)


def _add_ima_parser(sub: Any) -> None:
    ima = sub.add_parser(
        "ima",
        help="Linux IMA measurement lists: replay, verify (runs on impl)",
        description=(
            "Read a Linux IMA list: binary_runtime_measurements (default) or "
            "ascii_runtime_measurements (--ascii); templates ima, ima-ng, ima-sig, "
            "ima-buf, ima-modsig."
        ),
    )
    ima_sub = ima.add_subparsers(dest="ima_command", metavar="SUBCOMMAND")
    ima_sub.required = True
    for name, func, text in (
        ("replay", _cmd_ima_replay, "template-hash check and replay of the PCRs the entries name"),
        ("verify", _cmd_ima_verify, "compare the replay (any prefix) with PCR values"),
    ):
        cmd = ima_sub.add_parser(name, help=text)
        cmd.add_argument("list", metavar="LIST")
        cmd.add_argument("--ascii", action="store_true", help="LIST is the ASCII form")
        cmd.add_argument(
            "--allow-partial-tail",
            action="store_true",
            help="accept an incomplete last entry (a list read while the kernel appends)",
        )
        cmd.add_argument("--json", action="store_true", help="print JSON for machines")
        if name == "replay":
            cmd.add_argument(
                "--banks", default="sha1,sha256", help="banks to replay (default: sha1,sha256)"
            )
        else:
            cmd.add_argument("--pcrs", required=True, metavar="FILE", help="PCR values")
        cmd.set_defaults(func=func)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainoftrust",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    pcr = sub.add_parser("pcr", help="TPM 2.0 PCR banks: offline calculation")
    pcr_sub = pcr.add_subparsers(dest="pcr_command", metavar="SUBCOMMAND")
    pcr_sub.required = True
    predict = pcr_sub.add_parser(
        "predict",
        help="compute the PCR values an operations document leaves (see README)",
        description=(
            "Run an operations document (startup, shutdown, extend, event, reset, "
            "hcrtm, drtm) through a model TPM and print every allocated bank's PCRs. "
            "Exit 0 with the values, 1 with an error object naming the operation."
        ),
    )
    predict.add_argument("ops", metavar="OPS.json", help="the operations document")
    predict.add_argument("--json", action="store_true", help="print JSON for machines")
    predict.set_defaults(func=_cmd_pcr_predict)

    _add_eventlog_parser(sub)
    _add_ima_parser(sub)

    vectors = sub.add_parser("vectors", help="the public test-vector corpus")
    vec_sub = vectors.add_subparsers(dest="vectors_command", metavar="SUBCOMMAND")
    vec_sub.required = True
    gen = vec_sub.add_parser("generate", help="regenerate the corpus from the spec")
    gen.add_argument("--out", default="vectors", help="output folder (default: vectors/)")
    gen.set_defaults(func=_cmd_vectors_generate)
    chk = vec_sub.add_parser("check", help="check the implementation against the corpus")
    chk.add_argument("--dir", default="vectors", help="corpus folder (default: vectors/)")
    chk.add_argument("--json", action="store_true", help="print JSON for machines")
    chk.set_defaults(func=_cmd_vectors_check)

    prove = sub.add_parser(
        "prove",
        help="run the Z3 proof suite (the main job)",
        description=(
            "Prove every theorem (or the NAMEd ones), each with its vacuity check and "
            "negative control. Exit 0 only when every theorem is proved."
        ),
    )
    prove.add_argument("names", nargs="*", metavar="NAME", help="theorems to run (default: all)")
    prove.add_argument("--json", metavar="FILE", default=None, help="write results as JSON")
    prove.add_argument(
        "--timeout", type=float, default=60.0, metavar="S", help="per-query timeout in seconds"
    )
    prove.set_defaults(func=_cmd_prove)
    # the quote and boot commands live beside this module (they import impl lazily)
    from chainoftrust.cli_boot import add_boot_parser  # noqa: PLC0415
    from chainoftrust.cli_quote import add_quote_parser  # noqa: PLC0415

    add_quote_parser(sub)
    add_boot_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except _UnreadableFileError:
        return EXIT_USAGE
    return code


if __name__ == "__main__":
    sys.exit(main())
