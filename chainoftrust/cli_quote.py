"""`chainoftrust quote verify`: the front door to impl.quote (docs/adr/0004, section CLI).

Wiring only: files are read here, the signature format is chosen as the ADR says, PCR
values come from impl.eventlog's parser (`--pcrs`) or its replay (`--eventlog`), and the
decision is impl.quote.verify_quote's. Exit 0 on accept, 1 on reject or unusable input,
2 when a file cannot be read. Helpers of chainoftrust.cli are imported when a command
runs (cli imports this module to build its parser).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Any

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2

_SCHEME_BY_ALG = {0x0014: "rsassa", 0x0016: "rsapss", 0x0018: "ecdsa"}


def _nonce(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not hex: {text!r}") from exc


def _hash(name: str) -> int:
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415 (lazy: fast start)
    from chainoftrust.impl.hashes import hash_alg_from_name  # noqa: PLC0415

    try:
        return int(hash_alg_from_name(name))
    except ImplError as exc:
        raise argparse.ArgumentTypeError(f"unknown hash algorithm {name!r}") from exc


def add_quote_parser(sub: Any) -> None:
    """Add `quote verify` to the subcommands `sub` of the chainoftrust parser."""
    quote = sub.add_parser(
        "quote",
        help="TPM 2.0 quotes: verify (runs on impl)",
        description="Verify a TPM2_Quote: TPMS_ATTEST, its signature and the AK's public key.",
    )
    quote_sub = quote.add_subparsers(dest="quote_command", metavar="SUBCOMMAND")
    quote_sub.required = True
    verify = quote_sub.add_parser(
        "verify",
        help="verify a quote's signature, nonce and (with --pcrs/--eventlog) PCR digest",
        description=(
            "Exit 0 when every check passes (accept), 1 on a reject or unusable input, "
            "2 when a file cannot be read. Without --pcrs or --eventlog the PCR values "
            "are not verified, and the claims say so."
        ),
    )
    verify.add_argument("--message", required=True, metavar="FILE", help="the TPMS_ATTEST")
    verify.add_argument("--signature", required=True, metavar="FILE", help="the signature")
    verify.add_argument(
        "--ak", required=True, metavar="FILE", help="the AK: PEM, JWK, DER, TPM2B/TPMT_PUBLIC"
    )
    verify.add_argument(
        "--nonce", required=True, type=_nonce, metavar="HEX", help="the expected extraData"
    )
    values = verify.add_mutually_exclusive_group()
    values.add_argument("--eventlog", metavar="LOG", help="PCR values from replaying this log")
    values.add_argument("--pcrs", metavar="FILE", help="PCR values (tpm2_pcrread or JSON)")
    verify.add_argument(
        "--strict", action="store_true", help="event log findings are errors (with --eventlog)"
    )
    verify.add_argument(
        "--signature-format",
        choices=("auto", "tpmt", "plain"),
        default="auto",
        help="TPMT_SIGNATURE or plain (raw RSA / DER ECDSA); auto: TPMT when it parses",
    )
    verify.add_argument(
        "--scheme", choices=("rsassa", "rsapss", "ecdsa"), help="scheme of a plain signature"
    )
    verify.add_argument("--hash", type=_hash, metavar="ALG", help="hash of a plain signature")
    verify.add_argument(
        "--allow-hash",
        type=_hash,
        action="append",
        metavar="ALG",
        help="accept only these signature hashes (repeatable)",
    )
    verify.add_argument("--json", action="store_true", help="print JSON for machines")

    def run(args: argparse.Namespace) -> int:
        # --strict only qualifies --eventlog's replay: alone it would be silently ignored
        if args.strict and args.eventlog is None:
            verify.error("--strict needs --eventlog (it makes the replay's findings errors)")
        return _cmd_quote_verify(args)

    verify.set_defaults(func=run)


class _Unreadable(Exception):
    """A file could not be read (reported already): exit 2."""


def _read(path: str) -> bytes:
    from chainoftrust.cli import _read_bytes  # noqa: PLC0415

    data = _read_bytes(path)
    if data is None:
        raise _Unreadable(path)
    return data


def _signature(args: argparse.Namespace, raw: bytes, key: Any) -> Any:
    """The signature in the format asked for (auto: TPMT_SIGNATURE when it parses exactly)."""
    from chainoftrust.impl.errors import MalformedInputError  # noqa: PLC0415
    from chainoftrust.impl.quote import plain_signature, unmarshal_signature  # noqa: PLC0415

    if args.signature_format != "plain":
        try:
            return unmarshal_signature(raw)
        except MalformedInputError:
            if args.signature_format == "tpmt":
                raise
    # --scheme, else the TPM key's own scheme (when not NULL), else by key kind (ADR 0004)
    own = _SCHEME_BY_ALG.get(key.scheme) if key.scheme is not None else None
    scheme = args.scheme or own or ("rsassa" if key.kind == "rsa" else "ecdsa")
    # --hash, else the key's scheme hash, else sha256
    default_hash = key.scheme_hash if key.scheme_hash is not None else 0x000B
    hash_alg = args.hash if args.hash is not None else default_hash
    return plain_signature(key, raw, scheme, hash_alg)


def _pcr_values(args: argparse.Namespace) -> tuple[Any, str, Any]:
    """(pcrs, source, eventlog failure or None) from --pcrs or --eventlog."""
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.eventlog import (  # noqa: PLC0415
        parse_event_log,
        parse_pcr_values,
        replay_event_log,
    )
    from chainoftrust.impl.hashes import hash_alg_from_name  # noqa: PLC0415
    from chainoftrust.impl.quote import Failure, pcr_values_from_replay  # noqa: PLC0415

    if args.pcrs is not None:
        parsed = parse_pcr_values(_read(args.pcrs).decode("utf-8", errors="replace"))
        return {hash_alg_from_name(b): v for b, v in parsed.items()}, "pcrs", None
    if args.eventlog is None:
        return None, "none", None
    raw = _read(args.eventlog)
    try:
        replay = replay_event_log(parse_event_log(raw), strict=args.strict)
    except ImplError as err:
        return None, "none", Failure("eventlog", str(err.code), str(err))
    return pcr_values_from_replay(replay.pcrs), "eventlog", None


def _cmd_quote_verify(args: argparse.Namespace) -> int:
    from chainoftrust.cli import _error_object, _print_json, _report_error  # noqa: PLC0415
    from chainoftrust.impl.errors import ImplError  # noqa: PLC0415
    from chainoftrust.impl.quote import load_public_key, verify_quote  # noqa: PLC0415

    try:
        message, raw_sig, raw_key = _read(args.message), _read(args.signature), _read(args.ak)
        key = load_public_key(raw_key)
        signature = _signature(args, raw_sig, key)
        pcrs, source, eventlog_failure = _pcr_values(args)
    except _Unreadable:
        return EXIT_USAGE
    except ImplError as err:
        return _report_error(args, _error_object(err))
    allowed = frozenset(args.allow_hash) if args.allow_hash else None
    verdict = verify_quote(
        message, signature, key, args.nonce, pcrs=pcrs, pcrs_source=source, allowed_hashes=allowed
    )
    if eventlog_failure is not None:  # ADR 0004: a failure with check `eventlog` before 9
        failures = (*verdict.failures, eventlog_failure)
        verdict = replace(verdict, accepted=False, failures=failures, claims=())
    if args.json:
        _print_json(verdict.to_json())
    else:
        replayed = None if args.eventlog is None else eventlog_failure is None
        sys.stdout.write(format_quote_verdict(verdict, eventlog_replayed=replayed))
    return EXIT_OK if verdict.accepted else EXIT_FAILURE


def _claim_line(claim: dict[str, Any]) -> str:
    kind = claim["kind"]
    if kind == "signature":
        return (
            f"signature: {claim['keyType']} key {claim['key']} signed with "
            f"{claim['scheme']}/{claim['hash']}; key attributes: {claim['keyAttributes']}"
        )
    if kind == "freshness":
        return f"freshness: nonce {claim['nonce'] or '(empty)'}"
    if kind == "pcrs":
        checked = (
            "values NOT verified"
            if claim["valuesFrom"] == "none"
            else f"values from {claim['valuesFrom']}"
        )
        pcrs = ",".join(str(p) for p in claim["pcrs"]) or "(none)"
        return f"pcrs: {claim['bank']} PCRs {pcrs}: {checked}; pcrDigest {claim['pcrDigest']}"
    return (
        f"clock: {claim['clock']} ms, resetCount {claim['resetCount']}, restartCount "
        f"{claim['restartCount']}, safe {claim['safe']}, firmwareVersion "
        f"{claim['firmwareVersion']:#x}\n    note: {claim['note']}"
    )


def format_quote_verdict(verdict: Any, *, eventlog_replayed: bool | None = None) -> str:
    """A short table: each check with PASS / FAIL / not made, then failures and claims.
    `eventlog_replayed`: None without --eventlog, else whether the replay succeeded."""
    from chainoftrust.impl.quote import CHECKS  # noqa: PLC0415

    failed = {f.check: f for f in verdict.failures}
    checks = list(CHECKS)
    if eventlog_replayed is not None:
        checks.insert(checks.index("pcr_values"), "eventlog")
    lines = [f"quote: {'ACCEPT' if verdict.accepted else 'REJECT'}", "  check           result"]
    for check in checks:
        if check in failed:
            state = f"FAIL  {failed[check].code}"
        elif check in verdict.checks_made or (check == "eventlog" and eventlog_replayed):
            state = "PASS"
        else:
            state = "not made"
        lines.append(f"  {check:<15} {state}")
    if verdict.failures:
        lines.append("failures:")
        lines.extend(f"  {f.check}: {f.code}: {f.message}" for f in verdict.failures)
    if verdict.claims:
        lines.append("claims:")
        lines.extend(f"  {_claim_line(c)}" for c in verdict.claims)
    else:
        lines.append("claims: none (a rejected quote asserts nothing)")
    return "\n".join(lines) + "\n"
